from __future__ import annotations

import uuid
from pathlib import PurePosixPath
from typing import Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from cases.choices import PhotoAngle, PhotoKind, Zone
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


class Photo(Archivable, PublicIdMixin, Timestamped):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="photos")
    kind = models.CharField(max_length=10, choices=PhotoKind.choices)
    angle = models.CharField(max_length=10, choices=PhotoAngle.choices)
    zone = models.CharField(max_length=20, choices=Zone.choices, blank=True)
    taken_on = models.DateField(default=timezone.localdate)
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
        return f"{self.get_kind_display()} {self.get_angle_display()} {self.taken_on:%d %b %Y}"

    def clean(self) -> None:
        """A photo links only to records of its own case, and cannot be taken in the future."""
        super().clean()
        errors = {}
        for field in ("issue", "laser_session", "correction_session", "follow_up"):
            linked = getattr(self, field)
            if linked is not None and self.case_id is not None and linked.case_id != self.case_id:
                errors[field] = f"This {self._meta.get_field(field).verbose_name} belongs to another case."
        if self.taken_on and self.taken_on > timezone.localdate():
            errors["taken_on"] = f"The date taken ({self.taken_on:%d %b %Y}) is in the future."
        if errors:
            raise ValidationError(errors)

    @property
    def description(self) -> str:
        """Alt text: what the photo shows, for people who cannot see it."""
        zone = f", {self.get_zone_display().lower()}" if self.zone else ""
        return (
            f"{self.get_kind_display()} photo, {self.get_angle_display().lower()} view{zone}, "
            f"taken {self.taken_on:%d %b %Y}"
        )
