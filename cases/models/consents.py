from __future__ import annotations

import datetime
from typing import Self

from django.conf import settings
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from cases.choices import ConsentKind
from smpclinic.concurrency import SubmittedOnce, Versioned
from smpclinic.constraints import ChecksInOneQuery
from smpclinic.dates import BOOKABLE, PAST
from smpclinic.history import HistoricalRecords
from smpclinic.models import PublicIdMixin, Timestamped

from .clients import Client


class ConsentTextQuerySet(models.QuerySet):
    def in_force_on(self, day: datetime.date) -> Self:
        """Versions already effective and not retired on `day`."""
        return self.filter(effective_from__lte=day).filter(Q(retired_on__isnull=True) | Q(retired_on__gt=day))

    def current(self, day: datetime.date | None = None) -> Self:
        """The version a client signs today: per kind, the latest version in force."""
        day = day or timezone.localdate()
        in_force = self.model.objects.in_force_on(day)
        newer = in_force.filter(kind=OuterRef("kind"), version__gt=OuterRef("version"))
        return self.in_force_on(day).filter(~Exists(newer))


class ConsentText(ChecksInOneQuery, Timestamped):
    """A versioned consent form; a client signs one exact version."""

    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    version = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    effective_from = models.DateField(default=timezone.localdate, validators=BOOKABLE)
    retired_on = models.DateField(null=True, blank=True, validators=BOOKABLE)

    objects = ConsentTextQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="consenttext_unique_version"),
            models.CheckConstraint(condition=Q(version__gte=1), name="consenttext_version_positive"),
            models.CheckConstraint(
                condition=Q(retired_on__isnull=True) | Q(retired_on__gte=F("effective_from")),
                name="consenttext_retired_after_effective",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version}"


class ConsentQuerySet(models.QuerySet):
    def in_force(self, kind: str | None = None) -> Self:
        qs = self.filter(withdrawn_at__isnull=True)
        return qs.filter(text__kind=kind) if kind else qs

    def visible_to(self, user) -> Self:
        from smpclinic import roles

        if roles.is_clinic_user(user):
            return self.all()
        if roles.is_client(user):
            return self.filter(client__user=user, client__archived_at__isnull=True)
        return self.none()


class Consent(ChecksInOneQuery, Versioned, SubmittedOnce, PublicIdMixin, Timestamped):
    """A client's signature on one version of a consent text; withdrawn, never deleted."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="consents")
    text = models.ForeignKey(ConsentText, on_delete=models.PROTECT, related_name="consents")
    signed_name = models.CharField("typed name", max_length=200)
    signed_at = models.DateTimeField(default=timezone.now, validators=PAST)
    signed_ip = models.GenericIPAddressField(null=True, blank=True)
    signed_user_agent = models.CharField(max_length=500, blank=True)
    signed_in_clinic = models.BooleanField(default=False)
    witnessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True, validators=PAST)
    withdrawn_reason = models.TextField(blank=True)

    objects = ConsentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-signed_at"]
        indexes = [models.Index(fields=["client", "withdrawn_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(signed_name=""),
                name="consent_has_typed_name",
                violation_error_message="A consent needs the client's typed name.",
            ),
            models.UniqueConstraint(
                fields=["client", "text"],
                condition=Q(withdrawn_at__isnull=True),
                name="consent_one_in_force_per_text",
                violation_error_message="The client has already signed this consent and it has not been withdrawn.",
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gte=F("signed_at")),
                name="consent_withdrawn_after_signed",
                violation_error_message="A consent cannot be withdrawn before it was signed.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.text} signed by {self.signed_name}"

    @property
    def is_in_force(self) -> bool:
        return self.withdrawn_at is None
