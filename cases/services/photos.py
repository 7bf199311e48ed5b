"""Storing before/after photos and archiving them (docs/domain.md#photos).

Files go through Django's storage API only (`default_storage`: MEDIA_ROOT on disk, or
S3-compatible object storage when settings say so), always under a random name.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import dateformat, timezone

from cases.imaging import ProcessedPhoto, make_copies, pixel_count, process_photo
from cases.models import Case, CorrectionSession, FollowUp, Issue, LaserSession, Photo

# Fields the uploaded file decides; everything else is checked before any file is read.
_FILE_FIELDS = [
    "image",
    "thumbnail",
    "screen",
    "width",
    "height",
    "byte_size",
    "sha256",
    "file_sha256",
    "source_format",
]

# How long before the case opened a camera's date is still believed without asking. Before
# photos are often taken at the first consultation, or sent by the client with their
# enquiry, some days or weeks before the case is opened here; a date months or years
# earlier is an old photo or a camera whose clock was never set (many reset to their
# factory date), and would otherwise become the case's first "before" photo.
CAMERA_DATE_MARGIN = datetime.timedelta(days=30)


@dataclass
class UploadResult:
    photos: list[Photo]
    # (uploaded file name, the new photo, the earlier photo of the case from the same file)
    duplicates: list[tuple[str, Photo, Photo]] = field(default_factory=list)


def _day(value: datetime.date) -> str:
    return dateformat.format(value, "j M Y")


def photo_upload(
    *,
    case: Case,
    files: Sequence[IO[bytes]],
    kind: str,
    angle: str,
    uploaded_by,
    zone: str = "",
    taken_on: datetime.date | None = None,
    use_camera_date: bool = False,
    caption: str = "",
    shared_with_client: bool = False,
    issue: Issue | None = None,
    laser_session: LaserSession | None = None,
    correction_session: CorrectionSession | None = None,
    follow_up: FollowUp | None = None,
) -> UploadResult:
    """Store a batch of photos of one case: all of them, or (on any refusal) none.

    Each file is verified and cleaned by `cases.imaging.process_photo` (format by content,
    size and pixel limits, every piece of metadata dropped but the orientation, which a
    JPEG whose compressed data is kept as it came keeps as its only EXIF entry).
    Only the cleaned original is stored here; the screen copy and thumbnail are made by
    the `make_photo_copies` task, enqueued after the commit (`Photo.is_processing` until
    then). The batch's total pixels are capped (`SMP_PHOTO_MAX_BATCH_PIXELS`), so even
    storing the originals fits in a request.

    The date taken: `taken_on`, when given, for the whole batch. Left empty, each photo
    gets its camera's date (EXIF), or today without one. A camera date in the future, or
    more than `CAMERA_DATE_MARGIN` before the case opened, is not trusted blindly: the
    batch is refused with a message naming each such file, unless `use_camera_date` says a
    person confirmed the (past) camera dates. The alternative, storing such a photo under
    another date, would put a years-old photo into the case's comparisons as if it were
    new, with no trace of where its date came from.

    A file identical to one the case already has (same sha256 of the uploaded bytes) is
    still stored, linked by `duplicate_of`, and reported so the view can warn: refusing it
    would throw away the rest of a batch for what may be a deliberate re-upload, and a
    manager can archive the extra copy.

    One database transaction for the rows, and it must be the outermost one (durable):
    the files are written to storage before it, so that processing a batch of large
    photos does not hold SQLite's write lock, and they are deleted again if anything
    fails or the transaction rolls back, so a refusal leaves neither a row nor a file. An
    outer transaction could roll back after this one returned, leaving files no row
    points to; `durable=True` makes that mistake fail at once instead.
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

    _refuse_a_batch_too_large(files)
    storage = Photo._meta.get_field("image").storage
    stored: list[str] = []
    photos: list[Photo] = []
    names: list[str] = []
    file_problems: list[ValidationError] = []
    date_problems: list[ValidationError] = []
    try:
        # One file at a time, each stored as soon as it is clean, so a batch never holds
        # more than one decoded photo in memory; every file is checked so that all the
        # problems are reported at once.
        for upload in files:
            name = getattr(upload, "name", "") or "photo"
            try:
                result = process_photo(upload, name=name, copies=False)
            except ValidationError as exc:
                file_problems.append(exc)
                continue
            day = taken_on or _camera_day(
                case, name, result.taken_on, confirmed=use_camera_date, problems=date_problems
            )
            if day is None or file_problems or date_problems:
                continue  # the batch is refused: store nothing more
            photos.append(_stored_photo(fields, result, day=day, stored=stored))
            names.append(name)
        if file_problems or date_problems:
            raise ValidationError(
                {
                    key: problems
                    for key, problems in (("files", file_problems), ("use_camera_date", date_problems))
                    if problems
                }
            )
        with transaction.atomic(durable=True):
            duplicates = _link_duplicates(case, photos, names)
            for photo in photos:
                photo.save()
            # The screen copy and thumbnail are made in the background: the request
            # stores only the cleaned originals. Enqueued once the rows are committed, so
            # a worker never looks for a photo that is not there yet (or never will be),
            # and a backend that runs tasks at once (tests, `make run`) does not make the
            # copies while this transaction holds the write lock.
            transaction.on_commit(partial(_enqueue_copies, [p.pk for p in photos]), robust=True)
    except BaseException:
        for stored_name in stored:
            storage.delete(stored_name)
        raise
    return UploadResult(photos=photos, duplicates=duplicates)


def _camera_day(
    case: Case, name: str, camera_date: datetime.date | None, *, confirmed: bool, problems: list[ValidationError]
) -> datetime.date | None:
    """The date taken from the camera (today without one); None, with the reason added to
    `problems`, when the camera's date is not to be trusted without a person's word.

    A date in the future is never a date taken, confirmed or not. One more than
    `CAMERA_DATE_MARGIN` before the case opened is an old photo or a wrong clock, until
    staff confirm it (`confirmed`).
    """
    if camera_date is None:
        return timezone.localdate()
    recorded = f"The camera recorded {_day(camera_date)} as the day “{name}” was taken"
    if camera_date > timezone.localdate():
        problems.append(
            ValidationError(f"{recorded}, which is in the future: enter the date taken.", code="camera_date_future")
        )
        return None
    if camera_date < case.opened_on - CAMERA_DATE_MARGIN and not confirmed:
        problems.append(
            ValidationError(
                f"{recorded}, more than {CAMERA_DATE_MARGIN.days} days before this case opened "
                f"({_day(case.opened_on)}): an older photo, or a camera whose clock is wrong. "
                "Enter the date taken, or tick “Use the camera dates” if it is right.",
                code="camera_date_doubtful",
            )
        )
        return None
    return camera_date


def _stored_photo(fields: dict, result: ProcessedPhoto, *, day: datetime.date, stored: list[str]) -> Photo:
    """An unsaved Photo whose three files are already in storage (their names in `stored`)."""
    photo = Photo(
        **{**fields, "taken_on": day},
        width=result.width,
        height=result.height,
        byte_size=len(result.image),
        sha256=result.sha256,
        file_sha256=hashlib.sha256(result.image).hexdigest(),
        source_format=result.source_format,
    )
    # The name given here only supplies the ".jpg" suffix: upload_to makes a random name.
    for field_name in ("image", "screen", "thumbnail"):
        content = getattr(result, field_name)
        if not content:
            continue  # copies made later (photo_make_copies)
        getattr(photo, field_name).save("photo.jpg", ContentFile(content), save=False)
        stored.append(getattr(photo, field_name).name)
    photo.full_clean()
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

    Clinical records are archived, never deleted: who, when and why are recorded by
    `Archivable.archive`.
    """
    photo.archive(by=by, reason=reason)
    return photo


def _refuse_a_batch_too_large(files: Sequence[IO[bytes]]) -> None:
    """A batch is capped by its total pixels (each file is capped on its own too), read
    from the headers: the request stores each cleaned original, and decoding hundreds of
    megapixels would outlast a worker's timeout."""
    cap = settings.SMP_PHOTO_MAX_BATCH_PIXELS
    total = sum(pixel_count(upload, name=getattr(upload, "name", "")) for upload in files)
    if total > cap:
        these = f"These {len(files)} photos add up to" if len(files) > 1 else "This photo is"
        raise ValidationError(
            {
                "files": (
                    f"{these} {_megapixels(total)} megapixels; upload at most {_megapixels(cap)} megapixels "
                    "at once (send the rest in another batch)."
                )
            },
            code="batch_too_large",
        )


def _megapixels(pixels: int) -> str:
    """“1,000”, “400”, “12.5”: one decimal only where it says something."""
    return f"{pixels / 1e6:,.1f}".removesuffix(".0")


def _enqueue_copies(photo_ids: list[int]) -> None:
    """One task per photo, so one bad file does not hold up the others' copies. Run after
    the commit and robustly: if the queue cannot be reached the upload has still succeeded,
    the photos stay "processing", and `manage.py make_photo_copies` makes their copies."""
    from cases.tasks import make_photo_copies

    for photo_id in photo_ids:
        make_photo_copies.enqueue(photo_id)


def photo_make_copies(photo: Photo) -> bool:
    """Make the screen copy and thumbnail a stored photo lacks; False when there was
    nothing to do. Raises OSError when the original cannot be read.

    Only what is missing is made (demo photos have a thumbnail and no screen copy). Safe to
    run twice at once: only the first to store its copies keeps them, the other's files are
    removed. Not for an archived photo: it is shown nowhere, and an anonymisation that
    archived it deletes its files after the commit, which copies stored by a task running
    alongside would outlive; the claim below re-checks that in the same UPDATE.
    """
    missing = [name for name in ("screen", "thumbnail") if not getattr(photo, name)]
    if not missing or photo.archived_at is not None:
        return False
    storage = Photo._meta.get_field("image").storage
    with storage.open(photo.image.name, "rb") as handle:
        made = dict(zip(("screen", "thumbnail"), make_copies(handle.read()), strict=True))
    names = {}
    for field_name in missing:
        field = getattr(photo, field_name)
        field.save("photo.jpg", ContentFile(made[field_name]), save=False)
        names[field_name] = field.name
    unclaimed = dict.fromkeys(missing, "")
    claimed = Photo.objects.filter(pk=photo.pk, archived_at__isnull=True, **unclaimed).update(**names)
    if not claimed:
        for name in names.values():
            storage.delete(name)
        photo.refresh_from_db(fields=["screen", "thumbnail", "archived_at"])
        return False
    return True


def stored_file_sha256(photo: Photo) -> str:
    """The SHA-256 of the photo's original as it is in storage now, read in chunks (an
    original can be tens of megabytes). Raises OSError (FileNotFoundError when it is gone)."""
    digest = hashlib.sha256()
    storage = Photo._meta.get_field("image").storage
    with storage.open(photo.image.name, "rb") as handle:
        for chunk in iter(partial(handle.read, 1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def photo_file_problem(photo: Photo) -> str | None:
    """What is wrong with the photo's stored original, or None: missing, unreadable, or
    not the file that was stored (its hash differs from `file_sha256`). A photo stored
    before `file_sha256` existed is only checked for presence; "no recorded hash" says so.
    Files an anonymisation deleted on purpose are not a problem."""
    from cases.services.privacy import PHOTO_ARCHIVE_REASON, is_anonymised

    if not photo.image.name:
        return "no file recorded"
    try:
        actual = stored_file_sha256(photo)
    except FileNotFoundError:
        if photo.archive_reason == PHOTO_ARCHIVE_REASON or is_anonymised(photo.case.client):
            return None
        return f"file missing from storage ({photo.image.name})"
    except OSError as exc:
        return f"file unreadable ({photo.image.name}: {exc.__class__.__name__})"
    if not photo.file_sha256:
        return "no recorded hash (run with --record-missing to take the file as it is now)"
    if actual != photo.file_sha256:
        return (
            f"file changed in storage ({photo.image.name}: sha256 {actual[:12]}…, recorded {photo.file_sha256[:12]}…)"
        )
    return None


def photo_record_file_hash(photo: Photo) -> bool:
    """Record the hash of a photo's stored original when none is recorded yet (photos
    stored before hashes were kept); False when there was one already or no file. The
    file is trusted as it is now: run it after checking the photos look right."""
    if photo.file_sha256 or not photo.image.name:
        return False
    try:
        digest = stored_file_sha256(photo)
    except FileNotFoundError:
        return False
    # An UPDATE of this one column, only while it is still empty: no history row for a
    # fact about storage, and a second run at the same time records nothing twice.
    return bool(Photo.objects.filter(pk=photo.pk, file_sha256="").update(file_sha256=digest))
