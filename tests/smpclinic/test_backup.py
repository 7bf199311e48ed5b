"""`manage.py backup` and the documented restore, on whichever database the suite runs
(SQLite or PostgreSQL, as CI runs both): seed records and photos, back up, restore into a
scratch database and photo folder the way docs/operations.md says, and compare every
table's row count and every file's SHA-256; the restored copy passes `verify_photos`.

These tests commit (transaction=True): pg_dump is another process and sees only
committed rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from io import StringIO
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection

from cases.models import Photo
from smpclinic.backup import DUMP, FILES, MANIFEST, SQLITE_COPY
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(settings.BASE_DIR)


def seed() -> list[Photo]:
    """Two clients' records with photos (originals, screen copies, thumbnails)."""
    photos = []
    for _ in range(2):
        case = factories.CaseFactory()
        factories.ConsultationFactory(case=case)
        factories.LaserSessionFactory(case=case)
        factories.FollowUpFactory(case=case)
        photos += [factories.PhotoFactory(case=case, copies_made=True) for _ in range(2)]
    photos.append(factories.PhotoFactory())  # still "processing": no copies yet
    return photos


def live_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "smpclinic.settings", "DJANGO_SECRET_KEY": "restore-check", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


class Restored:
    """A scratch database and photo folder restored from a backup folder, as the
    operations guide says: pg_restore (or the SQLite copy put in place) and the files
    copied into the photo storage."""

    def __init__(self, backup: Path, scratch: Path):
        self.media = scratch / "media"
        shutil.copytree(backup / FILES, self.media)
        db = connection.settings_dict
        if connection.vendor == "postgresql":
            self.name = f"{db['NAME']}_restore"
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
                cursor.execute(f'CREATE DATABASE "{self.name}"')
            auth = f"{db['USER']}:{db['PASSWORD']}@" if db.get("PASSWORD") else f"{db['USER']}@"
            self.url = f"postgres://{auth}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{self.name}"
            subprocess.run(
                ["pg_restore", "--no-owner", "--exit-on-error", "--dbname", self.url, str(backup / DUMP)],
                check=True,
                capture_output=True,
            )
        else:
            self.path = scratch / "restored.sqlite3"
            shutil.copyfile(backup / SQLITE_COPY, self.path)
            self.url = f"sqlite:///{self.path}"

    def counts(self) -> dict[str, int]:
        if connection.vendor == "postgresql":
            with psycopg.connect(self.url.replace("postgres://", "postgresql://")) as conn:
                tables = [
                    row[0]
                    for row in conn.execute(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
                    )
                ]
                return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
        with sqlite3.connect(self.path) as conn:
            tables = [
                row[0]
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                if not row[0].startswith("sqlite_")
            ]
            return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}

    def env(self) -> dict[str, str]:
        return {"DATABASE_URL": self.url, "DJANGO_MEDIA_ROOT": str(self.media), "DJANGO_PHOTO_STORAGE": "local"}

    def drop(self) -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@pytest.fixture
def restored(tmp_path):
    made = []

    def restore(backup: Path) -> Restored:
        made.append(Restored(backup, tmp_path / "scratch"))
        return made[-1]

    yield restore
    for item in made:
        item.drop()


def test_backup_and_restore_keep_every_row_and_file(tmp_path, restored):
    photos = seed()
    expected_counts = live_counts()
    names = sorted({f.name for p in photos for f in (p.image, p.screen, p.thumbnail) if f.name})

    call_command("backup", str(tmp_path / "backups"), stdout=StringIO())

    (backup,) = (tmp_path / "backups").iterdir()
    assert stat.S_IMODE(backup.stat().st_mode) == 0o700  # health records: its owner only
    manifest = json.loads((backup / MANIFEST).read_text())
    assert manifest["database"] == connection.vendor
    assert manifest["tables"] == expected_counts
    assert manifest["tables"]["cases_photo"] == 5
    assert sorted(manifest["files"]) == names
    assert manifest["missing"] == []

    copy = restored(backup)

    assert copy.counts() == expected_counts
    for name in names:
        restored_file = copy.media / name
        assert sha256_of(restored_file) == manifest["files"][name] == sha256_of(Path(default_storage.path(name)))
    for photo in photos:
        assert sha256_of(copy.media / photo.image.name) == photo.file_sha256
    checked = run_manage("verify_photos", env=copy.env())
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout == "Checked 5 photos: 0 with a problem.\n"
    migrated = run_manage("migrate", "--check", env=copy.env())
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr


def test_a_restored_copy_with_a_damaged_photo_is_reported(tmp_path, restored):
    photo = seed()[0]
    call_command("backup", str(tmp_path), stdout=StringIO())
    (backup,) = tmp_path.glob("smpclinic-*")
    copy = restored(backup)
    damaged = copy.media / photo.image.name
    data = bytearray(damaged.read_bytes())
    data[100] ^= 0x80
    damaged.write_bytes(bytes(data))

    checked = run_manage("verify_photos", env=copy.env())

    assert checked.returncode == 1
    assert f"photo {photo.public_id} of case {photo.case.reference}: file changed in storage" in checked.stderr


def test_a_file_gone_from_storage_is_listed_as_missing(tmp_path, capsys):
    photos = seed()
    gone = photos[0].thumbnail.name
    default_storage.delete(gone)

    call_command("backup", str(tmp_path))

    (backup,) = tmp_path.glob("smpclinic-*")
    manifest = json.loads((backup / MANIFEST).read_text())
    assert manifest["missing"] == [gone]
    assert gone not in manifest["files"]
    assert not (backup / FILES / gone).exists()
    assert f"Not in storage (named by a row, not copied): {gone}" in capsys.readouterr().err
