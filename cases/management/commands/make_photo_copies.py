"""Make the screen copies and thumbnails that are missing (after a worker was down, or for
photos stored before copies were made in the background)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from cases.models import Photo
from cases.services.photos import photo_make_copies


class Command(BaseCommand):
    help = "Make the missing screen copies and thumbnails of stored photos."

    def handle(self, *args, **options) -> None:
        missing = Photo.objects.filter(screen="").order_by("pk")
        made = sum(1 for photo in missing.iterator(chunk_size=100) if photo_make_copies(photo))
        self.stdout.write(f"Made the copies of {made} photo{'' if made == 1 else 's'}.")
