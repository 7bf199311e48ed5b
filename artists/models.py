"""Artists (clinic staff and the external artists originals came from), studios, certifications."""

from __future__ import annotations

import datetime
from typing import Self

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Prefetch, Q

from smpclinic.constraints import ChecksInOneQuery
from smpclinic.dates import PAST, not_before_1900
from smpclinic.history import HistoricalRecords
from smpclinic.models import Archivable, ArchivableQuerySet, ChoiceLookup, HttpsURLField, PublicIdMixin, Timestamped


class Specialty(models.TextChoices):
    SMP = "smp", "Scalp micropigmentation"
    SMP_CORRECTION = "smp_correction", "SMP correction"
    LASER_REMOVAL = "laser_removal", "Laser removal"
    SALINE_REMOVAL = "saline_removal", "Saline removal"
    COLOUR_CORRECTION = "colour_correction", "Colour correction"
    HAIRLINE_DESIGN = "hairline_design", "Hairline design"
    SCAR_CAMOUFLAGE = "scar_camouflage", "Scar camouflage"


class Specialisation(ChoiceLookup):
    choices = Specialty

    class Meta(ChoiceLookup.Meta):
        pass


class Studio(Archivable, PublicIdMixin, Timestamped):
    """Where an original SMP was done (or the clinic itself)."""

    name = models.CharField(max_length=200)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=100, blank=True)
    website = HttpsURLField(blank=True)
    is_own_clinic = models.BooleanField(default=False)
    notes = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.city})" if self.city else self.name


class ArtistQuerySet(ArchivableQuerySet):
    def internal(self) -> Self:
        return self.filter(kind=Artist.Kind.INTERNAL)

    def external(self) -> Self:
        return self.filter(kind=Artist.Kind.EXTERNAL)

    def for_team(self) -> Self:
        """The managers' team page: current clinic artists, each with its specialisations and
        its active certifications (newest first within a kind) in `team_certifications`."""
        certifications = Certification.objects.active().order_by("kind", "-issued_on", "-pk")
        return (
            self.active()
            .internal()
            .select_related("user")
            .prefetch_related(
                "specialisations", Prefetch("certifications", certifications, to_attr="team_certifications")
            )
            .order_by("last_name", "first_name", "pk")
        )


class Artist(ChecksInOneQuery, Archivable, PublicIdMixin, Timestamped):
    class Kind(models.TextChoices):
        INTERNAL = "internal", "Clinic staff"
        EXTERNAL = "external", "External (original artist)"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.INTERNAL)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="artist",
        help_text="Login of a clinic artist or technician.",
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    studio = models.ForeignKey(Studio, on_delete=models.PROTECT, null=True, blank=True, related_name="artists")
    specialisations = models.ManyToManyField(Specialisation, blank=True, related_name="artists")
    years_experience = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(70)])
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    notes = models.TextField(blank=True)

    objects = ArtistQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [models.Index(fields=["last_name", "first_name"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(years_experience__isnull=True) | Q(years_experience__lte=70),
                name="artist_years_experience_range",
            ),
            models.CheckConstraint(
                condition=Q(kind="internal") | Q(user__isnull=True),
                name="artist_external_has_no_login",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def has_valid_laser_certification(self, day: datetime.date) -> bool:
        return self.certifications.laser_safety_valid_on(day).exists()


class CertificationQuerySet(ArchivableQuerySet):
    def valid_on(self, day: datetime.date) -> Self:
        return self.filter(archived_at__isnull=True, issued_on__lte=day).filter(
            Q(expires_on__isnull=True) | Q(expires_on__gte=day)
        )

    def laser_safety_valid_on(self, day: datetime.date) -> Self:
        """The laser-safety certifications valid on the day: what a laser technician needs."""
        return self.valid_on(day).filter(kind=Certification.Kind.LASER_SAFETY)

    def expiring_within(self, day: datetime.date, days: int) -> Self:
        return self.filter(
            archived_at__isnull=True,
            expires_on__gte=day,
            expires_on__lte=day + datetime.timedelta(days=days),
        )

    def expired_on(self, day: datetime.date) -> Self:
        return self.filter(archived_at__isnull=True, expires_on__lt=day)


class Certification(Archivable, PublicIdMixin, Timestamped):
    class Kind(models.TextChoices):
        SMP_TRAINING = "smp_training", "SMP training"
        BLOODBORNE_PATHOGENS = "bloodborne_pathogens", "Bloodborne pathogens"
        LASER_SAFETY = "laser_safety", "Laser safety"
        DEVICE_TRAINING = "device_training", "Device training"
        LICENCE = "licence", "Local licence"
        FIRST_AID = "first_aid", "First aid"
        OTHER = "other", "Other"

    artist = models.ForeignKey(Artist, on_delete=models.PROTECT, related_name="certifications")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    issuer = models.CharField(max_length=200)
    number = models.CharField("certificate number", max_length=100, blank=True)
    issued_on = models.DateField(validators=PAST)
    expires_on = models.DateField(
        null=True, blank=True, validators=[not_before_1900], help_text="Leave empty if it does not expire."
    )
    notes = models.TextField(blank=True)

    objects = CertificationQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["artist", "kind", "-issued_on"]
        indexes = [models.Index(fields=["kind", "expires_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gt=models.F("issued_on")),
                name="certification_expires_after_issued",
                violation_error_message="A certification must expire after it was issued.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} – {self.artist}"

    def is_valid_on(self, day: datetime.date) -> bool:
        return (
            self.archived_at is None and self.issued_on <= day and (self.expires_on is None or self.expires_on >= day)
        )
