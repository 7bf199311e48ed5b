from __future__ import annotations

import functools
from typing import Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from cases.choices import (
    AdverseEventChoice,
    CaseStatus,
    ConsultationKind,
    CorrectionOptionChoice,
    IssueKind,
    Outcome,
    RegretReasonChoice,
    Zone,
)
from smpclinic.concurrency import SubmittedOnce, Versioned
from smpclinic.constraints import ChecksInOneQuery
from smpclinic.dates import BOOKABLE, PAST
from smpclinic.history import HistoricalRecords
from smpclinic.models import Archivable, ArchivableQuerySet, ChoiceLookup, PublicIdMixin, Timestamped

from .clients import Client


class ZoneLookup(ChoiceLookup):
    choices = Zone

    class Meta(ChoiceLookup.Meta):
        verbose_name = "scalp zone"


class RegretReason(ChoiceLookup):
    choices = RegretReasonChoice

    class Meta(ChoiceLookup.Meta):
        pass


class CorrectionOption(ChoiceLookup):
    choices = CorrectionOptionChoice

    class Meta(ChoiceLookup.Meta):
        pass


class AdverseEventKind(ChoiceLookup):
    choices = AdverseEventChoice

    class Meta(ChoiceLookup.Meta):
        verbose_name = "adverse event"


class ReferenceCounter(models.Model):
    """Last case number used per year; incremented under a row lock (see next_reference)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


SATISFACTION_VALIDATORS = [MinValueValidator(1), MaxValueValidator(5)]


def live_case(prefix: str = "") -> Q:
    """The one "live case" rule: the case is not archived and neither is its client (a
    case of an archived client is archived with it). `prefix` reaches the case from
    another model, e.g. "case__"."""
    return Q(**{f"{prefix}archived_at__isnull": True, f"{prefix}client__archived_at__isnull": True})


class CaseQuerySet(ArchivableQuerySet):
    def open(self) -> Self:
        return self.filter(status__in=CaseStatus.open())

    def live(self) -> Self:
        return self.filter(live_case())

    def visible_to(self, user) -> Self:
        """Clinic users see every live case; a client only their own."""
        from smpclinic import roles

        if roles.is_clinic_user(user):
            return self.live()
        if roles.is_client(user):
            return self.live().filter(client__user=user)
        return self.none()

    def for_list(self) -> Self:
        return self.select_related("client", "lead_artist")

    def for_workspace(self) -> Self:
        """Everything the staff case workspace shows, in a fixed number of queries.

        Active related rows land in `workspace_*` lists (issues by zone, consultations
        newest first, current plans newest version first with steps and options,
        laser and correction sessions with zones, adverse events and overrides,
        follow-ups by due date); `has_laser_consent` says whether the client holds a
        signed laser-treatment consent that was not withdrawn.
        """
        from django.db.models import Exists, OuterRef, Prefetch

        from cases.choices import ConsentKind
        from smpclinic.lookups import with_choice_rows

        from .consents import Consent
        from .plans import _shown_steps

        rows = _workspace_rows()
        return (
            with_choice_rows(self, "regret_reasons")
            .select_related("client", "lead_artist", "original_studio", "original_artist", "expectations_discussed_by")
            .annotate(
                has_laser_consent=Exists(
                    Consent.objects.in_force(ConsentKind.LASER_TREATMENT).filter(client=OuterRef("client_id"))
                )
            )
            .prefetch_related(
                # Each a copy of the querysets built once (`_workspace_rows`): the
                # prefetch writes its hints into the queryset it is given.
                Prefetch("issues", queryset=rows["issues"].all(), to_attr="workspace_issues"),
                Prefetch("consultations", queryset=rows["consultations"].all(), to_attr="workspace_consultations"),
                Prefetch(
                    "plans",
                    queryset=rows["plans"].prefetch_related(Prefetch("steps", queryset=_shown_steps().all())),
                    to_attr="workspace_plans",
                ),
                Prefetch("lasersessions", queryset=rows["laser"].all(), to_attr="workspace_laser_sessions"),
                Prefetch(
                    "correctionsessions", queryset=rows["correction"].all(), to_attr="workspace_correction_sessions"
                ),
                # Every override of the case in one query; the workspace view hands
                # them to their sessions (`spread_overrides`).
                Prefetch("overrides", queryset=rows["overrides"].all(), to_attr="workspace_overrides"),
                Prefetch("follow_ups", queryset=rows["follow_ups"].all(), to_attr="workspace_follow_ups"),
            )
        )


@functools.cache
def _workspace_rows() -> dict[str, models.QuerySet]:
    """The querysets of the case workspace's related rows, the same for every case, built
    once per process: their lookup subqueries (`with_choice_rows`) and orderings took
    about 3 ms of every visit to build. Never evaluated themselves: each use takes a
    copy. The plans' steps are the plan pages' own (`plans._shown_steps`)."""
    from smpclinic.lookups import with_choice_rows

    from .followups import FollowUp
    from .plans import TreatmentPlan
    from .sessions import CorrectionSession, LaserSession, RuleOverride

    return {
        "issues": Issue.objects.active().order_by("zone", "-severity", "identified_on", "id"),
        "consultations": Consultation.objects.active().select_related("staff").order_by("-held_at", "-id"),
        "plans": with_choice_rows(TreatmentPlan.objects.standing(), "options")
        .select_related("submitted_by", "approved_by", "accepted_by")
        .order_by("-version"),
        "laser": with_choice_rows(LaserSession.objects.active(), "zones", "adverse_events").select_related(
            "technician", "device"
        ),
        "correction": with_choice_rows(CorrectionSession.objects.active(), "zones").select_related("artist"),
        "overrides": RuleOverride.objects.select_related("overridden_by"),
        "follow_ups": FollowUp.objects.active()
        .select_related("assignee", "reviewed_by", "rescheduled_as")
        .order_by("due_on", "id"),
    }


class CaseRecordQuerySet(ArchivableQuerySet):
    """Rows that belong to a case (issues, plans, sessions, follow-ups, photos): seen only
    while they and their case are live, and by a client only on their own cases."""

    def on_live_cases(self, *, counting: bool = False) -> Self:
        """Rows of live cases (`live_case`). `counting`: the same rule written for counting
        many rows, as two anti-joins on the few archived cases and clients (read from
        their `archived_at` indexes, hashed once) instead of a join to every row's case
        and client (two index probes per row counted)."""
        if not counting:
            return self.filter(live_case("case__"))
        archived_clients = Client.objects.filter(archived_at__isnull=False).values("pk")
        return self.exclude(case_id__in=Case.objects.filter(archived_at__isnull=False).values("pk")).exclude(
            case_id__in=Case.objects.filter(client_id__in=archived_clients).values("pk")
        )

    def visible_to(self, user, *, counting: bool = False) -> Self:
        from smpclinic import roles

        if roles.is_clinic_user(user):
            return self.active().on_live_cases(counting=counting)
        if roles.is_client(user):
            return self.active().on_live_cases(counting=counting).filter(case__client__user=user)
        return self.none()


class Case(ChecksInOneQuery, Versioned, Archivable, PublicIdMixin, Timestamped):
    reference = models.CharField(max_length=20, unique=True, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="cases")
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.CONSULTATION)
    opened_on = models.DateField(default=timezone.localdate, validators=PAST)
    closed_on = models.DateField(null=True, blank=True, validators=PAST)
    lead_artist = models.ForeignKey(
        "artists.Artist",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="led_cases",
        limit_choices_to={"kind": "internal"},
    )
    goal = models.TextField("client's goal", blank=True)
    regret_reasons = models.ManyToManyField(RegretReason, blank=True, related_name="cases")
    regret_notes = models.TextField(blank=True)

    # Where the original SMP came from.
    original_studio = models.ForeignKey(
        "artists.Studio", on_delete=models.PROTECT, null=True, blank=True, related_name="original_cases"
    )
    original_artist = models.ForeignKey(
        "artists.Artist",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="original_cases",
        limit_choices_to={"kind": "external"},
    )
    original_date = models.DateField("date of the original SMP", null=True, blank=True, validators=PAST)
    original_sessions = models.PositiveSmallIntegerField(
        "sessions of the original SMP", null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    original_pigment = models.CharField("pigment used, if known", max_length=200, blank=True)

    # Realistic expectations (discussed and agreed before treatment: docs/domain.md#vocabulary).
    expectations_discussed_on = models.DateField(null=True, blank=True, validators=PAST)
    expectations_discussed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    expectations_agreed = models.TextField("what was agreed about expectations", blank=True)

    # Closing.
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    outcome_notes = models.TextField(blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        "client satisfaction at closing (1–5)", null=True, blank=True, validators=SATISFACTION_VALIDATORS
    )
    withdrawn_reason = models.TextField(blank=True)
    internal_notes = models.TextField(blank=True, help_text="Never shown to the client.")

    objects = CaseQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=["regret_reasons"])

    class Meta:
        ordering = ["-opened_on", "-id"]
        permissions = [
            ("archive_record", "Can archive clinical records"),
            ("view_reports", "Can view outcome and safety reports"),
        ]
        indexes = [
            models.Index(fields=["status", "opened_on"]),
            models.Index(fields=["opened_on"]),
            # "Recently changed" on the staff home: the newest live cases first, read
            # from the index's start instead of sorting every case.
            models.Index(
                F("updated_at").desc(),
                F("id").desc(),
                name="case_live_recently_changed",
                condition=Q(archived_at__isnull=True),
            ),
            # Reports (docs/performance.md): the live cases opened or closed in a period,
            # read from the index alone (the columns the reports group by are included).
            models.Index(
                fields=["opened_on"],
                include=["id", "status", "client", "original_studio", "original_artist"],
                name="case_live_opened_report",
                condition=Q(archived_at__isnull=True),
            ),
            models.Index(
                fields=["closed_on"],
                include=["id", "satisfaction", "client"],
                name="case_live_closed_report",
                condition=Q(archived_at__isnull=True, status=CaseStatus.CLOSED),
            ),
            # "My cases" on the staff home: a lead artist's live cases counted per status
            # from the index alone (an artist can lead tens of thousands of cases).
            models.Index(
                fields=["lead_artist", "status"],
                include=["id", "client"],
                name="case_live_lead_status",
                condition=Q(archived_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=F("opened_on")),
                name="case_closes_after_opening",
                violation_error_message="A case cannot close before it opened.",
            ),
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True) | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="case_satisfaction_range",
                violation_error_message="Satisfaction is from 1 to 5.",
            ),
            models.CheckConstraint(
                condition=Q(original_sessions__isnull=True) | Q(original_sessions__gte=1, original_sessions__lte=20),
                name="case_original_sessions_range",
                violation_error_message="The original SMP took from 1 to 20 sessions.",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | (Q(closed_on__isnull=False) & ~Q(outcome="")),
                name="case_closed_has_outcome",
                violation_error_message="A closed case needs a closing date and an outcome.",
            ),
            models.CheckConstraint(
                condition=~Q(status="withdrawn") | ~Q(withdrawn_reason=""),
                name="case_withdrawn_has_reason",
                violation_error_message="A withdrawn case needs a reason.",
            ),
        ]

    def __str__(self) -> str:
        return self.reference or "new case"

    def clean(self) -> None:
        super().clean()
        if self.original_date and self.original_date > timezone.localdate():
            raise ValidationError({"original_date": "The original SMP cannot be in the future."})

    @property
    def is_open(self) -> bool:
        return self.status in CaseStatus.open()


class Consultation(Versioned, SubmittedOnce, Archivable, PublicIdMixin, Timestamped):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="consultations")
    held_at = models.DateTimeField(default=timezone.now, validators=BOOKABLE)
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consultations")
    kind = models.CharField(max_length=20, choices=ConsultationKind.choices, default=ConsultationKind.INITIAL)
    concerns = models.TextField("client's concerns", blank=True)
    findings = models.TextField(blank=True)
    recommendations = models.TextField(blank=True)
    internal_notes = models.TextField(blank=True, help_text="Never shown to the client.")

    objects = CaseRecordQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-held_at"]
        indexes = [models.Index(fields=["case", "held_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} consultation {self.held_at:%-d %b %Y}"


class Issue(ChecksInOneQuery, Versioned, Archivable, PublicIdMixin, Timestamped):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="issues")
    kind = models.CharField(max_length=30, choices=IssueKind.choices)
    zone = models.CharField(max_length=20, choices=Zone.choices)
    severity = models.PositiveSmallIntegerField(
        "severity (1 mild – 5 severe)", validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    description = models.TextField(blank=True)
    identified_on = models.DateField(default=timezone.localdate, validators=PAST)
    resolved_on = models.DateField(null=True, blank=True, validators=PAST)

    objects = CaseRecordQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["zone", "-severity"]
        indexes = [
            models.Index(fields=["kind"]),
            models.Index(fields=["zone"]),
            # The issues report: live issues identified in a period, from the index alone.
            models.Index(
                fields=["identified_on"],
                include=["id", "kind", "zone", "severity", "case"],
                name="issue_live_identified_report",
                condition=Q(archived_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(severity__gte=1, severity__lte=5),
                name="issue_severity_range",
                violation_error_message="Severity is from 1 to 5.",
            ),
            models.CheckConstraint(
                condition=Q(resolved_on__isnull=True) | Q(resolved_on__gte=F("identified_on")),
                name="issue_resolved_after_identified",
                violation_error_message="An issue cannot be resolved before it was identified.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} – {self.get_zone_display()}"
