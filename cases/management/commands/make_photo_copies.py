"""`manage.py make_photo_copies`: make the screen copies and thumbnails that are missing
(after the worker was down or a task failed, or for photos stored before copies were made
in the background), in this process. Safe to run while workers run: a photo's copies are
kept once (`photo_make_copies`)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from cases.models import Photo
from cases.services.photos import photo_make_copies


class Command(BaseCommand):
    help = "Make the missing screen copies and thumbnails of active photos."

    def handle(self, *args, **options) -> None:
        missing = Photo.objects.active().filter(Q(screen="") | Q(thumbnail="")).order_by("pk")
        made, failed = 0, []
        for photo in missing.iterator(chunk_size=100):
            # One unreadable original must not stop the others: it is reported at the end.
            try:
                made += photo_make_copies(photo)
            except OSError as exc:
                failed.append(f"photo {photo.public_id}: {exc}")
        self.stdout.write(f"Made the copies of {made} photo{'' if made == 1 else 's'}.")
        if failed:
            raise CommandError("Could not make the copies of:\n" + "\n".join(failed))
