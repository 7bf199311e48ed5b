from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cases.choices import PhotoAngle, PhotoKind, Zone
from smpclinic.dates import PAST
from smpclinic.history import HistoricalRecords
from smpclinic.models import Archivable, PublicIdMixin, Timestamped

from .cases import Case, CaseRecordQuerySet, Issue
from .followups import FollowUp
from .sessions import CorrectionSession, LaserSession


def photo_upload_path(instance: Photo, filename: str) -> str:
    """A random name under a per-case folder: the uploaded name is never kept."""
    suffix = PurePosixPath(filename).suffix.lower() or ".jpg"
    return f"photos/{instance.case.public_id}/{uuid.uuid4().hex}{suffix}"


class PhotoQuerySet(CaseRecordQuerySet):
    def visible_to(self, user) -> Self:
        """Clinic users: any active photo of a live case; a client: shared photos of their own."""
        from smpclinic import roles

        visible = super().visible_to(user)
        return visible.filter(shared_with_client=True) if roles.is_client(user) else visible

    def of_case(self, case: Case) -> Self:
        return self.active().filter(case=case)

    def for_gallery(self) -> Self:
        """What the gallery and comparison pages show beside each photo, in one query."""
        return self.select_related(
            "issue", "laser_session", "correction_session", "follow_up", "uploaded_by", "duplicate_of"
        )

    def for_comparison(self) -> Self:
        """Oldest first, with each photo's case (for `Photo.within_case`): what
        `PhotoPair.choose` expects, on the staff and the portal comparison pages."""
        return self.select_related("case").order_by("taken_on", "created_at", "id")


class Photo(Archivable, PublicIdMixin, Timestamped):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="photos")
    kind = models.CharField(max_length=10, choices=PhotoKind.choices)
    angle = models.CharField(max_length=10, choices=PhotoAngle.choices)
    zone = models.CharField(max_length=20, choices=Zone.choices, blank=True)
    taken_on = models.DateField(default=timezone.localdate, validators=PAST)
    issue = models.ForeignKey(Issue, on_delete=models.PROTECT, null=True, blank=True, related_name="photos")
    laser_session = models.ForeignKey(
        LaserSession, on_delete=models.PROTECT, null=True, blank=True, related_name="photos"
    )
    correction_session = models.ForeignKey(
        CorrectionSession, on_delete=models.PROTECT, null=True, blank=True, related_name="photos"
    )
    follow_up = models.ForeignKey(FollowUp, on_delete=models.PROTECT, null=True, blank=True, related_name="photos")
    image = models.FileField(upload_to=photo_upload_path, max_length=200, editable=False)
    thumbnail = models.FileField(upload_to=photo_upload_path, max_length=200, blank=True, editable=False)
    screen = models.FileField(
        "screen-size copy", upload_to=photo_upload_path, max_length=200, blank=True, editable=False
    )
    source_format = models.CharField(
        max_length=10, blank=True, editable=False, help_text="What the uploaded file was (JPEG, PNG, WEBP, HEIF)."
    )
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        help_text="An earlier photo of the same case uploaded from the very same file.",
    )
    width = models.PositiveIntegerField(editable=False)
    height = models.PositiveIntegerField(editable=False)
    byte_size = models.PositiveIntegerField(editable=False)
    sha256 = models.CharField(max_length=64, editable=False, db_index=True)
    # `sha256` is of the bytes uploaded (the same file twice is recognised); this one is of
    # the original as stored, the cleaned file, so `manage.py verify_photos` can tell a file
    # damaged or replaced in storage or a backup. Empty for photos stored before it existed
    # until `verify_photos --record-missing` takes the file as it is now.
    file_sha256 = models.CharField("stored file's SHA-256", max_length=64, blank=True, editable=False)
    caption = models.CharField(max_length=300, blank=True)
    shared_with_client = models.BooleanField(default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )

    objects = PhotoQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["angle", "taken_on", "id"]
        indexes = [models.Index(fields=["case", "angle", "taken_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(width__gt=0, height__gt=0), name="photo_has_dimensions"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.get_angle_display()} {self.taken_on:%-d %b %Y}"

    def clean(self) -> None:
        """A photo links only to records of its own case, and cannot be taken in the future."""
        super().clean()
        errors = {}
        for field in ("issue", "laser_session", "correction_session", "follow_up"):
            linked = getattr(self, field)
            if linked is not None and self.case_id is not None and linked.case_id != self.case_id:
                errors[field] = f"This {self._meta.get_field(field).verbose_name} belongs to another case."
        if self.taken_on and self.taken_on > timezone.localdate():
            errors["taken_on"] = f"The date taken ({self.taken_on:%-d %b %Y}) is in the future."
        if errors:
            raise ValidationError(errors)

    @property
    def is_processing(self) -> bool:
        """Its thumbnail is not made yet (a background task makes it, with the screen copy,
        after the upload): pages show a "processing" tile instead of loading the original
        as a thumbnail, and the copies' URLs serve the original meanwhile."""
        return not self.thumbnail

    @property
    def within_case(self) -> bool:
        """Taken on or after its case opened. Older photos (the original work years ago, or
        a camera with a wrong clock confirmed at upload) are compared only when chosen."""
        return self.taken_on >= self.case.opened_on

    @property
    def description(self) -> str:
        """Alt text: what the photo shows, for people who cannot see it."""
        zone = f", {self.get_zone_display().lower()}" if self.zone else ""
        return (
            f"{self.get_kind_display()} photo, {self.get_angle_display().lower()} view{zone}, "
            f"taken {self.taken_on:%-d %b %Y}"
        )


@dataclass(frozen=True)
class PhotoPair:
    """Two photos of one angle side by side: `a` on the left, `b` on the right (or None)."""

    angle: str
    a: Photo | None = None
    b: Photo | None = None

    @property
    def angle_label(self) -> str:
        return PhotoAngle(self.angle).label if self.angle in PhotoAngle.values else ""

    @property
    def days(self) -> int | None:
        """Days between the two photos, when there are two."""
        if self.a is None or self.b is None:
            return None
        return abs((self.b.taken_on - self.a.taken_on).days)

    @classmethod
    def choose(
        cls, photos: Sequence[Photo], *, angle: str = "", a: Photo | None = None, b: Photo | None = None
    ) -> PhotoPair:
        """The pair a comparison opens on, for the staff and the portal pages alike.

        `photos` are the ones that may be shown, oldest first (`for_comparison()`). Two
        chosen photos are shown as chosen. One chosen photo is shown beside the latest
        other photo of its angle (one taken within its case if there is one). With none
        chosen: the angle's earliest "before" photo taken within the case (else its
        earliest within the case) beside its latest within the case; photos from before
        the case opened are left out, so a years-old photo never becomes the "first".
        Without a usable `angle`: the first angle of the standard scalp set that has a
        photo within the case (else one with any photo).
        """
        if a and b:
            return cls(angle=a.angle, a=a, b=b)
        if a or b:
            single = a or b
            others = [photo for photo in photos if photo.angle == single.angle and photo != single]
            within = [photo for photo in others if photo.within_case]
            latest = (within or others or [None])[-1]
            return cls(angle=single.angle, a=single, b=latest)
        present = [value for value in PhotoAngle.values if any(photo.angle == value for photo in photos)]
        if angle not in present:
            in_case = [value for value in present if any(p.angle == value and p.within_case for p in photos)]
            angle = (in_case or present or [angle])[0]
        of_angle = [photo for photo in photos if photo.angle == angle and photo.within_case]
        if not of_angle:
            return cls(angle=angle)
        befores = [photo for photo in of_angle if photo.kind == PhotoKind.BEFORE]
        first = (befores or of_angle)[0]
        latest = of_angle[-1]
        return cls(angle=angle, a=first, b=latest if latest != first else None)
