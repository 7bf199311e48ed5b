"""A backup of everything the clinic holds: the database and the files it names.

One folder per backup, readable by its owner only (it holds health records and photos):

    smpclinic-20261204-0300/
      database.dump       PostgreSQL: `pg_dump -Fc` (restore with pg_restore)
      database.sqlite3    SQLite: a copy made through SQLite's online backup API
      files/<name>        every file a row names (photo originals, screen copies,
                          thumbnails), under its storage name, from the local folder or S3
      manifest.json       when, which database, the row count of every table, and the
                          SHA-256 of every file: what a restore is checked against

On PostgreSQL the dump, the row counts and the list of files come from one snapshot
(`pg_export_snapshot`, passed to `pg_dump --snapshot`), so they agree with each other
while the app keeps running. On SQLite they are read from the copy itself. Files are
copied after the snapshot; files are only ever added (an anonymisation that removes photos
is the exception), so every file the dump names is still there, and one removed meanwhile
is listed as missing in the manifest. How to restore is in docs/operations.md.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess  # nosec B404  # runs pg_dump with an argument list, never a shell
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.apps import apps
from django.core.files.storage import storages
from django.db import connection, models, transaction
from django.utils import timezone

DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
FILES = "files"
MANIFEST = "manifest.json"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """The backup could not be made; the partial folder has been removed."""


@dataclass
class Manifest:
    created: str
    database: str
    tables: dict[str, int]
    files: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def write(self, folder: Path) -> None:
        (folder / MANIFEST).write_text(json.dumps(self.__dict__, indent=1, sort_keys=True) + "\n")

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        return cls(**json.loads((folder / MANIFEST).read_text()))


def _file_fields() -> list[tuple[type[models.Model], str]]:
    """Every (model, file field) pair, historical models included: a file an older
    version of a row named belongs in the backup as much as the current one."""
    return [
        (model, f.name) for model in apps.get_models() for f in model._meta.fields if isinstance(f, models.FileField)
    ]


def _table_counts(cursor) -> dict[str, int]:
    counts = {}
    for table in sorted(connection.introspection.table_names(cursor)):
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # nosec B608  # table names from the catalogue
        counts[table] = cursor.fetchone()[0]
    return counts


def _named_files_in(cursor) -> set[str]:
    names: set[str] = set()
    for model, name in _file_fields():
        table, column = model._meta.db_table, model._meta.get_field(name).column
        quoted = connection.ops.quote_name
        cursor.execute(f"SELECT DISTINCT {quoted(column)} FROM {quoted(table)} WHERE {quoted(column)} <> ''")  # nosec B608  # names from the models
        names.update(row[0] for row in cursor.fetchall())
    return names


def _postgresql_dump(folder: Path) -> tuple[dict[str, int], set[str]]:
    settings = connection.settings_dict
    env = {**os.environ}
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = settings["PASSWORD"]
    command = ["pg_dump", "--format=custom", f"--file={folder / DUMP}", "--dbname", settings["NAME"]]
    for option, value in (
        ("--host", settings.get("HOST")),
        ("--port", settings.get("PORT")),
        ("--username", settings.get("USER")),
    ):
        if value:
            command += [option, str(value)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        # The snapshot lives while this transaction is open: pg_dump reads exactly what
        # the counts and the file list below read.
        result = subprocess.run([*command, f"--snapshot={snapshot}"], env=env, capture_output=True, text=True)  # nosec B603
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
        return _table_counts(cursor), _named_files_in(cursor)


def _sqlite_copy(folder: Path) -> tuple[dict[str, int], set[str]]:
    target_path = folder / SQLITE_COPY
    connection.ensure_connection()
    target = sqlite3.connect(target_path)
    try:
        with target:
            connection.connection.backup(target)
        cursor = target.cursor()
        counts = {}
        tables = [row[0] for row in cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        for table in tables:
            if table.startswith("sqlite_"):
                continue
            counts[table] = cursor.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]  # nosec B608  # from the catalogue
        names: set[str] = set()
        for model, name in _file_fields():
            table, column = model._meta.db_table, model._meta.get_field(name).column
            rows = cursor.execute(f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" <> \'\'')  # nosec B608
            names.update(row[0] for row in rows)
    finally:
        target.close()
    return counts, names


def _safe_relative(name: str) -> Path:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise BackupError(f"Refusing a stored file name outside the storage: {name!r}")
    return Path(*path.parts)


def copy_files(names: set[str], target: Path, manifest: Manifest) -> None:
    """Copy each named file from the photo storage into `target`, hashing it on the way."""
    storage = storages["default"]
    for name in sorted(names):
        destination = target / _safe_relative(name)
        destination.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        try:
            with storage.open(name, "rb") as source, open(destination, "wb") as out:
                for chunk in iter(lambda source=source: source.read(CHUNK), b""):
                    digest.update(chunk)
                    out.write(chunk)
        except FileNotFoundError:
            destination.unlink(missing_ok=True)
            manifest.missing.append(name)
            continue
        manifest.files[name] = digest.hexdigest()


def make_backup(parent: Path, *, now: datetime.datetime | None = None) -> tuple[Path, Manifest]:
    """Write a new backup folder under `parent` and return it with its manifest."""
    now = now or timezone.now()
    parent.mkdir(parents=True, exist_ok=True)
    folder = parent / f"smpclinic-{now:%Y%m%d-%H%M%S}"
    folder.mkdir(mode=0o700)
    try:
        if connection.vendor == "postgresql":
            counts, names = _postgresql_dump(folder)
        elif connection.vendor == "sqlite":
            counts, names = _sqlite_copy(folder)
        else:
            raise BackupError(f"No backup method for a {connection.vendor} database.")
        manifest = Manifest(created=now.isoformat(), database=connection.vendor, tables=counts)
        copy_files(names, folder / FILES, manifest)
        manifest.write(folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder, manifest
