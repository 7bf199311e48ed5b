"""`manage.py verify_photos`: every photo's original is in storage and is the file that was
stored (its SHA-256), after a restore, a storage migration, or from cron to catch silent
damage. Each problem names the photo and its case, so staff can find it and re-upload it
from the clinic's own copy. Exits non-zero when anything is wrong, for cron and monitoring."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.models import Photo
from cases.services.photos import photo_file_problem, photo_record_file_hash


class Command(BaseCommand):
    help = (
        "Check that every photo's original exists in storage and matches its recorded SHA-256 "
        "(archived photos included); report each problem with the photo and its case."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--record-missing",
            action="store_true",
            help="First record the hash of photos stored before hashes were kept, taking each file as it is now.",
        )

    def handle(self, *args, record_missing: bool, **options) -> None:
        photos = Photo.objects.select_related("case", "case__client").order_by("pk")
        if record_missing:
            recorded = sum(photo_record_file_hash(photo) for photo in photos.filter(file_sha256="").iterator(100))
            self.stdout.write(f"Recorded the hash of {recorded} photo{'' if recorded == 1 else 's'}.")
        checked, problems = 0, []
        for photo in photos.iterator(chunk_size=100):
            checked += 1
            if problem := photo_file_problem(photo):
                problems.append(f"photo {photo.public_id} of case {photo.case.reference}: {problem}")
        self.stdout.write(f"Checked {checked} photo{'' if checked == 1 else 's'}: {len(problems)} with a problem.")
        if problems:
            raise CommandError("\n".join(problems))
