"""`manage.py backup [FOLDER]`: the database and every file it names, in one new folder
(see smpclinic/backup.py); cron runs it nightly, `make backup` by hand."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from smpclinic.backup import BackupError, make_backup


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump -Fc, or SQLite's online backup) and the photo files it names into a "
        "new folder under FOLDER (default: DJANGO_BACKUP_DIR, else backups/ in the checkout), with a manifest "
        "of row counts and SHA-256s."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", nargs="?", default=None, help="Where to create the backup's folder.")

    def handle(self, *args, folder: str | None, **options) -> None:
        parent = Path(folder or settings.SMP_BACKUP_DIR)
        try:
            made, manifest = make_backup(parent)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(manifest.tables.values())
        self.stdout.write(
            f"Backed up {rows} rows in {len(manifest.tables)} tables and {len(manifest.files)} files to {made}."
        )
        for name in manifest.missing:
            self.stderr.write(f"Not in storage (named by a row, not copied): {name}")
