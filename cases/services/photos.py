"""Storing before/after photos and archiving them (DESIGN.md "Photos").

Files go through Django's storage API only (`default_storage`: MEDIA_ROOT on disk, or
S3-compatible object storage when settings say so), always under a random name.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from cases.models import Case, CorrectionSession, FollowUp, Issue, LaserSession, Photo
from cases.photos import ProcessedPhoto, process_photo

# Fields the uploaded file decides; everything else is checked before any file is read.
_FILE_FIELDS = ["image", "thumbnail", "screen", "width", "height", "byte_size", "sha256", "source_format"]


@dataclass
class UploadResult:
    photos: list[Photo]
    # (uploaded file name, the new photo, the earlier photo of the case from the same file)
    duplicates: list[tuple[str, Photo, Photo]] = field(default_factory=list)


def photo_upload(
    *,
    case: Case,
    files: Sequence[IO[bytes]],
    kind: str,
    angle: str,
    uploaded_by,
    zone: str = "",
    taken_on: datetime.date | None = None,
    caption: str = "",
    shared_with_client: bool = False,
    issue: Issue | None = None,
    laser_session: LaserSession | None = None,
    correction_session: CorrectionSession | None = None,
    follow_up: FollowUp | None = None,
) -> UploadResult:
    """Store a batch of photos of one case: all of them, or (on any refusal) none.

    Each file is verified and cleaned by `cases.photos.process_photo` (format by content,
    size and pixel limits, EXIF orientation applied, every piece of metadata dropped).
    `taken_on` applies to the whole batch; left empty, each photo gets its camera's date
    (EXIF) or, without one, today. A file identical to one the case already has (same
    sha256 of the uploaded bytes) is still stored, linked by `duplicate_of`, and reported
    so the view can warn: refusing it would throw away the rest of a batch for what may be
    a deliberate re-upload, and a manager can archive the extra copy.

    One database transaction for the rows. The image processing runs before it, so a
    batch of large photos does not hold SQLite's write lock (IMMEDIATE transactions); the
    files written to storage meanwhile are deleted again if anything fails, so a refusal
    leaves neither a row nor a file. (If a caller wraps this in its own transaction and rolls that back later, the
    files stay: nothing here can see that rollback.)
    """
    fields = {
        "case": case,
        "kind": kind,
        "angle": angle,
        "zone": zone,
        "taken_on": taken_on or timezone.localdate(),
        "caption": caption,
        "shared_with_client": shared_with_client,
        "issue": issue,
        "laser_session": laser_session,
        "correction_session": correction_session,
        "follow_up": follow_up,
        "uploaded_by": uploaded_by,
    }
    Photo(**fields).full_clean(exclude=_FILE_FIELDS)
    if case.is_archived:
        raise ValidationError("This case is archived: photos cannot be added to it.")
    if not files:
        raise ValidationError("Choose at least one photo to upload.")

    storage = Photo._meta.get_field("image").storage
    stored: list[str] = []
    photos: list[Photo] = []
    names: list[str] = []
    problems: list[ValidationError] = []
    try:
        # One file at a time, each stored as soon as it is clean, so a batch never holds
        # more than one decoded photo in memory; every file is checked so that all the
        # problems are reported at once.
        for upload in files:
            name = getattr(upload, "name", "") or "photo"
            try:
                result = process_photo(upload, name=name)
                photos.append(_stored_photo(fields, name, result, batch_date=taken_on, stored=stored))
                names.append(name)
            except ValidationError as exc:
                problems.append(exc)
        if problems:
            raise ValidationError(problems)
        with transaction.atomic():
            duplicates = _link_duplicates(case, photos, names)
            for photo in photos:
                photo.save()
    except BaseException:
        for stored_name in stored:
            storage.delete(stored_name)
        raise
    return UploadResult(photos=photos, duplicates=duplicates)


def _stored_photo(
    fields: dict, name: str, result: ProcessedPhoto, *, batch_date: datetime.date | None, stored: list[str]
) -> Photo:
    """An unsaved Photo whose three files are already in storage (their names in `stored`)."""
    photo = Photo(
        **fields,
        width=result.width,
        height=result.height,
        byte_size=len(result.image),
        sha256=result.sha256,
        source_format=result.source_format,
    )
    if batch_date is None:
        photo.taken_on = result.taken_on or timezone.localdate()
    # The name given here only supplies the ".jpg" suffix: upload_to makes a random name.
    for field_name in ("image", "screen", "thumbnail"):
        getattr(photo, field_name).save("photo.jpg", ContentFile(getattr(result, field_name)), save=False)
        stored.append(getattr(photo, field_name).name)
    try:
        photo.full_clean()
    except ValidationError as exc:
        if batch_date is None and "taken_on" in getattr(exc, "error_dict", {}):
            raise ValidationError(
                f"The camera recorded {photo.taken_on:%d %b %Y} as the day “{name}” was taken, which is in "
                "the future: enter the date taken."
            ) from exc
        raise
    return photo


def _link_duplicates(case: Case, photos: list[Photo], names: list[str]) -> list[tuple[str, Photo, Photo]]:
    """Point each photo at the earliest photo of the case made from the same file."""
    earlier: dict[str, Photo] = {}
    hashes = {photo.sha256 for photo in photos}
    for existing in Photo.objects.filter(case=case, sha256__in=hashes).order_by("-created_at", "-id"):
        earlier[existing.sha256] = existing
    duplicates = []
    for name, photo in zip(names, photos, strict=True):
        if original := earlier.get(photo.sha256):
            photo.duplicate_of = original
            duplicates.append((name, photo, original))
        else:
            earlier[photo.sha256] = photo
    return duplicates


@transaction.atomic
def photo_archive(*, photo: Photo, by, reason: str) -> Photo:
    """Archive a photo: it leaves the gallery and the portal; the file and row are kept.

    Clinical records are archived, never deleted (DESIGN.md): who, when and why are
    recorded by `Archivable.archive`.
    """
    photo.archive(by=by, reason=reason)
    return photo
