from __future__ import annotations

import datetime
import functools
from typing import Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import date_format

from cases import kirby_desai as kd
from cases.choices import PlanStatus, PlanStepKind, StepStatus
from smpclinic.concurrency import Versioned
from smpclinic.constraints import ChecksInOneQuery
from smpclinic.dates import booking_date_error
from smpclinic.history import HistoricalRecords
from smpclinic.models import Archivable, PublicIdMixin, Timestamped

from .cases import Case, CaseRecordQuerySet, CorrectionOption, ZoneLookup

KD_FIELDS = ("kd_skin_type", "kd_location", "kd_colour", "kd_ink_amount", "kd_scarring", "kd_layering")


def _in(field: str, choices: type[models.IntegerChoices]) -> Q:
    return Q(**{f"{field}__in": choices.values})


class TreatmentPlanQuerySet(CaseRecordQuerySet):
    def approved(self) -> Self:
        return self.filter(approved_at__isnull=False)

    def current(self) -> Self:
        return self.exclude(status=PlanStatus.SUPERSEDED)

    def standing(self) -> Self:
        """Plans not cancelled, superseded or archived. A case has at most two: its agreed
        plan (or a first version not yet accepted) and one revision of it in preparation."""
        return self.active().exclude(status__in=[PlanStatus.CANCELLED, PlanStatus.SUPERSEDED])

    def agreed(self) -> Self:
        """The client's plan: approved by a manager, accepted by the client and in force
        (accepted, in progress or completed; never superseded, cancelled or archived).
        At most one per case: accepting a revision supersedes the version before it.
        The one rule for "the case has an agreed plan"; `TreatmentPlan.is_agreed` says
        the same of a plan already loaded."""
        return self.active().filter(status__in=PlanStatus.agreed())

    def pending(self) -> Self:
        """Standing plans the client has not accepted yet: a draft or a proposal (a first
        version, or a revision beside the agreed plan)."""
        return self.standing().filter(status__in=[PlanStatus.DRAFT, PlanStatus.PROPOSED])

    def versions_of(self, case) -> Self:
        """Every plan of a case, oldest version first (for links between versions)."""
        return self.active().filter(case=case).order_by("version")

    def for_detail(self) -> Self:
        """Everything the plan pages show, in a fixed number of queries whatever the steps."""
        return self.for_portal().select_related("submitted_by", "approved_by", "accepted_by", "previous_version")

    def for_portal(self) -> Self:
        """What the client's plan pages show: the plan with its case, client, options and
        steps, without the staff who wrote, approved or accepted it (which the portal
        never names), so the query joins four tables fewer."""
        from smpclinic.lookups import with_choice_rows

        return with_choice_rows(self.select_related("case__client"), "options").prefetch_related(
            models.Prefetch("steps", queryset=_shown_steps().all()),
        )

    def visible_to(self, user, *, counting: bool = False) -> Self:
        """Clinic users see every plan; a client only approved plans of their own cases."""
        from smpclinic import roles

        visible = super().visible_to(user, counting=counting)
        if roles.is_client(user):
            return visible.approved().exclude(status=PlanStatus.CANCELLED)
        return visible


@functools.cache
def _shown_steps():
    """A plan's steps as its pages show them: with when each was done or booked and its
    zones, in order. The same query for every plan, built once per process (its six
    subqueries took a tenth of the portal plan page's time); never evaluated itself: each
    use takes a copy (`.all()`)."""
    from smpclinic.lookups import with_choice_rows

    return with_choice_rows(PlanStep.objects.with_done_at(), "zones").order_by("order", "pk")


class TreatmentPlan(ChecksInOneQuery, Versioned, Archivable, PublicIdMixin, Timestamped):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="plans")
    version = models.PositiveSmallIntegerField(default=1, editable=False)
    previous_version = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="next_version"
    )
    status = models.CharField(max_length=20, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    options = models.ManyToManyField(CorrectionOption, related_name="plans", verbose_name="correction options")
    summary = models.TextField("plan in plain language", blank=True, help_text="Shown to the client.")
    aftercare = models.TextField("aftercare instructions", blank=True, help_text="Shown to the client.")
    price_estimate = models.DecimalField(
        max_digits=9, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    internal_notes = models.TextField(blank=True, help_text="Never shown to the client.")

    # Kirby–Desai (2009): the six sub-scores and their total, kept together.
    kd_skin_type = models.PositiveSmallIntegerField(
        "skin type", choices=kd.SkinTypePoints.choices, null=True, blank=True
    )
    kd_location = models.PositiveSmallIntegerField("location", choices=kd.LocationPoints.choices, null=True, blank=True)
    kd_colour = models.PositiveSmallIntegerField("colour", choices=kd.ColourPoints.choices, null=True, blank=True)
    kd_ink_amount = models.PositiveSmallIntegerField(
        "amount of ink", choices=kd.InkAmountPoints.choices, null=True, blank=True
    )
    kd_scarring = models.PositiveSmallIntegerField(
        "scarring / tissue change", choices=kd.ScarringPoints.choices, null=True, blank=True
    )
    kd_layering = models.PositiveSmallIntegerField("layering", choices=kd.LayeringPoints.choices, null=True, blank=True)
    kd_total = models.PositiveSmallIntegerField(
        "Kirby–Desai total (estimated laser sessions)", null=True, blank=True, editable=False
    )
    # The scale over-estimates for shallow SMP pigment (docs/domain.md#kirby-desai): the
    # clinician's own estimate is kept beside it, both shown, each labelled.
    clinician_estimate_sessions = models.PositiveSmallIntegerField(
        "clinician's estimate of laser sessions",
        null=True,
        blank=True,
        validators=[MaxValueValidator(30)],
        help_text="Your own estimate; shown to the client beside the Kirby–Desai estimate.",
    )
    revision_reason = models.TextField(
        "why this version was made", blank=True, editable=False, help_text="Given when an approved plan is revised."
    )

    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )
    review_note = models.TextField("manager's note", blank=True, editable=False)

    # Client acceptance: who, when, from where (portal) or recorded in clinic by staff.
    accepted_at = models.DateTimeField(null=True, blank=True, editable=False)
    accepted_name = models.CharField("typed name", max_length=200, blank=True, editable=False)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )
    accepted_in_clinic = models.BooleanField(default=False, editable=False)
    accepted_ip = models.GenericIPAddressField(null=True, blank=True, editable=False)
    accepted_user_agent = models.CharField(max_length=500, blank=True, editable=False)

    objects = TreatmentPlanQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=["options"])

    class Meta:
        ordering = ["case", "-version"]
        permissions = [("approve_treatmentplan", "Can approve or send back a proposed plan")]
        indexes = [
            models.Index(fields=["status"]),
            # "Plans to approve", the longest waiting first: walked in order, not sorted.
            models.Index(
                fields=["submitted_at", "id"],
                name="plan_awaiting_approval",
                condition=Q(status=PlanStatus.PROPOSED, approved_at__isnull=True, archived_at__isnull=True),
            ),
            # The laser sessions report's estimate: a case's newest approved version with a
            # Kirby–Desai total, read from the index alone.
            models.Index(
                fields=["case", "-version"],
                include=["kd_total"],
                name="plan_approved_estimate",
                condition=Q(archived_at__isnull=True, approved_at__isnull=False, kd_total__isnull=False)
                & ~Q(status=PlanStatus.CANCELLED),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["case", "version"], name="plan_unique_version"),
            models.CheckConstraint(
                condition=Q(price_estimate__isnull=True) | Q(price_estimate__gte=0),
                name="plan_price_not_negative",
                violation_error_message="The price estimate cannot be negative.",
            ),
            models.CheckConstraint(
                condition=(
                    (Q(kd_skin_type__isnull=True) | _in("kd_skin_type", kd.SkinTypePoints))
                    & (Q(kd_location__isnull=True) | _in("kd_location", kd.LocationPoints))
                    & (Q(kd_colour__isnull=True) | _in("kd_colour", kd.ColourPoints))
                    & (Q(kd_ink_amount__isnull=True) | _in("kd_ink_amount", kd.InkAmountPoints))
                    & (Q(kd_scarring__isnull=True) | _in("kd_scarring", kd.ScarringPoints))
                    & (Q(kd_layering__isnull=True) | _in("kd_layering", kd.LayeringPoints))
                ),
                name="plan_kirby_desai_subscores",
                violation_error_message="A Kirby–Desai sub-score is off the scale.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(**{f"{f}__isnull": True for f in KD_FIELDS}, kd_total__isnull=True)
                    | Q(
                        **{f"{f}__isnull": False for f in KD_FIELDS},
                        kd_total__isnull=False,
                        kd_total=F("kd_skin_type")
                        + F("kd_location")
                        + F("kd_colour")
                        + F("kd_ink_amount")
                        + F("kd_scarring")
                        + F("kd_layering"),
                    )
                ),
                name="plan_kirby_desai_total",
                violation_error_message="Give all six Kirby–Desai sub-scores, or none; the total is their sum.",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=PlanStatus.agreed()) | Q(approved_at__isnull=False, accepted_at__isnull=False),
                name="plan_agreed_needs_approval_and_acceptance",
                violation_error_message="A plan is accepted only after manager approval and client acceptance.",
            ),
            models.CheckConstraint(
                condition=Q(clinician_estimate_sessions__isnull=True) | Q(clinician_estimate_sessions__lte=30),
                name="plan_clinician_estimate_range",
                violation_error_message="The clinician's estimate is at most 30 laser sessions.",
            ),
            models.CheckConstraint(
                condition=Q(approved_at__isnull=True) | Q(approved_by__isnull=False),
                name="plan_approval_names_manager",
                violation_error_message="An approval records the manager who gave it.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.reference} plan v{self.version}"

    def _set_kd_total(self) -> None:
        estimate = self.kirby_desai()
        self.kd_total = estimate.total if estimate else None

    def clean(self) -> None:
        super().clean()
        self._set_kd_total()

    def save(self, *args, **kwargs) -> None:
        self._set_kd_total()
        super().save(*args, **kwargs)

    def kirby_desai(self) -> kd.Estimate | None:
        values = [getattr(self, f) for f in KD_FIELDS]
        if any(v is None for v in values):
            return None
        try:
            return kd.kirby_desai_score(
                skin_type=self.kd_skin_type,
                location=self.kd_location,
                colour=self.kd_colour,
                ink_amount=self.kd_ink_amount,
                scarring=self.kd_scarring,
                layering=self.kd_layering,
            )
        except ValueError:
            return None  # the check constraint refuses the row with a message

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None

    @property
    def is_agreed(self) -> bool:
        """Whether this is the client's plan in force (see `TreatmentPlanQuerySet.agreed`)."""
        return self.archived_at is None and self.status in PlanStatus.agreed()

    def next_planned_step(self) -> PlanStep | None:
        """The first step, in the plan's order, still planned (not done or skipped).
        Reads `steps.all()`, so a prefetch serves it."""
        return next((s for s in self.steps.all() if s.status == StepStatus.PLANNED), None)


class PlanStepQuerySet(models.QuerySet):
    def offered_for(self, case, kinds, current_id: int | None = None) -> Self:
        """The case's steps of these kinds in its live plans (and the step a session already has)."""
        offered = Q(plan__archived_at__isnull=True, kind__in=list(kinds)) & ~Q(
            plan__status__in=[PlanStatus.SUPERSEDED, PlanStatus.CANCELLED]
        )
        return (
            self.filter(plan__case=case)
            .filter(offered | Q(pk=current_id))
            .select_related("plan")
            .order_by("-plan__version", "order")
        )

    def with_done_at(self) -> Self:
        """Annotate `laser_done_at` / `correction_done_at`: when the step's latest completed
        (non-archived) linked session of each kind took place (`PlanStep.done_on` reads
        them), and `laser_booked_at` / `correction_booked_at`: its earliest booked one
        (`PlanStep.booked_at`)."""
        from django.db.models import OuterRef, Subquery

        from cases.choices import SessionStatus

        from .sessions import CorrectionSession, LaserSession

        def latest(model):
            return Subquery(
                model.objects.filter(plan_step=OuterRef("pk"), status=SessionStatus.COMPLETED, archived_at__isnull=True)
                .order_by("-scheduled_at")
                .values("scheduled_at")[:1]
            )

        def first_booked(model):
            return Subquery(
                model.objects.filter(plan_step=OuterRef("pk"), status=SessionStatus.SCHEDULED, archived_at__isnull=True)
                .order_by("scheduled_at")
                .values("scheduled_at")[:1]
            )

        return self.annotate(
            laser_done_at=latest(LaserSession),
            correction_done_at=latest(CorrectionSession),
            laser_booked_at=first_booked(LaserSession),
            correction_booked_at=first_booked(CorrectionSession),
        )


class PlanStep(Versioned, PublicIdMixin, Timestamped):
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(default=1)
    kind = models.CharField(max_length=30, choices=PlanStepKind.choices)
    description = models.CharField(max_length=300, blank=True)
    zones = models.ManyToManyField(ZoneLookup, blank=True, related_name="plan_steps")
    interval_weeks = models.PositiveSmallIntegerField(
        "weeks after the previous step",
        null=True,
        blank=True,
        validators=[MaxValueValidator(104)],
    )
    target_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=StepStatus.choices, default=StepStatus.PLANNED)

    objects = PlanStepQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=["zones"])

    class Meta:
        ordering = ["plan", "order"]
        constraints = [
            models.CheckConstraint(
                condition=Q(interval_weeks__isnull=True) | Q(interval_weeks__lte=104),
                name="planstep_interval_range",
                violation_error_message="Interval is at most 104 weeks.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.get_kind_display()}"

    def clean(self) -> None:
        super().clean()
        if self.target_date is not None:
            error = booking_date_error(self.target_date, today=timezone.localdate(), what="A step's target date")
            if error:
                raise ValidationError({"target_date": error})

    @property
    def done_on(self) -> datetime.date | None:
        """The local date of the step's latest completed linked session, when it is done
        (from `PlanStepQuerySet.with_done_at()`; without the annotation, one query)."""
        if self.status != StepStatus.DONE or self.pk is None:
            return None
        if not hasattr(self, "laser_done_at"):
            annotated = (
                type(self).objects.filter(pk=self.pk).with_done_at().values("laser_done_at", "correction_done_at")[0]
            )
            self.laser_done_at, self.correction_done_at = annotated["laser_done_at"], annotated["correction_done_at"]
        times = [t for t in (self.laser_done_at, self.correction_done_at) if t is not None]
        return timezone.localdate(max(times)) if times else None

    @property
    def booked_at(self) -> datetime.datetime | None:
        """When the step's earliest booked (scheduled) linked session is, for a planned step
        read through `PlanStepQuerySet.with_done_at()`; None otherwise."""
        if self.status != StepStatus.PLANNED:
            return None
        times = [t for t in (getattr(self, "laser_booked_at", None), getattr(self, "correction_booked_at", None)) if t]
        return min(times) if times else None

    @property
    def when_label(self) -> str:
        """The step's date as staff and the client both read it: "done 12 Mar 2026" (the
        day of its completed session), "booked 3 Apr 2026" when a session is booked for a
        planned step, "target 20 Apr 2026" for one not booked yet, "skipped", or "" when a
        planned step has no date yet."""
        if self.status == StepStatus.DONE:
            done_on = self.done_on
            return f"done {date_format(done_on, 'j M Y')}" if done_on else "done"
        if self.status == StepStatus.SKIPPED:
            return "skipped"
        if self.booked_at:
            return f"booked {date_format(timezone.localdate(self.booked_at), 'j M Y')}"
        return f"target {date_format(self.target_date, 'j M Y')}" if self.target_date else ""
