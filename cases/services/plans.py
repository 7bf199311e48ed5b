"""Treatment plans: drafting, steps, manager approval, revision and client acceptance.

The life of a plan (DESIGN.md, "TreatmentPlan"):

    draft ──submit──▶ proposed ──approve──▶ proposed + approved ──accept──▶ accepted ─▶ in progress ─▶ completed
      ▲                  │
      └────send back─────┘        approved, accepted or in progress ──revise──▶ new draft version (old: superseded)

One plan per case is in force at a time (not cancelled, not superseded); a change to a
plan that a manager already approved is a new version that keeps the earlier one intact.
Each `*_refusal(plan)` function says, in words a person understands, why an action is not
possible now (or None): the views use them to show only valid actions, the services to
refuse with the same message.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict, Unpack

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from cases.choices import PlanStatus, PlanStepKind, StepStatus
from cases.models import Case, CorrectionOption, Issue, PlanStep, TreatmentPlan, ZoneLookup
from cases.models.plans import KD_FIELDS
from cases.services.clients import signature_matches
from smpclinic import roles
from smpclinic.models import ClinicSettings

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class PlanFields(TypedDict, total=False):
    """The plan fields staff write; status, versions, approval and acceptance have their own services."""

    summary: str
    aftercare: str
    price_estimate: Decimal | None
    internal_notes: str
    kd_skin_type: int | None
    kd_location: int | None
    kd_colour: int | None
    kd_ink_amount: int | None
    kd_scarring: int | None
    kd_layering: int | None


PLAN_FIELDS = tuple(PlanFields.__annotations__)
# Copied into a revision; approval, acceptance and submission belong to the old version only.
REVISION_COPIED_FIELDS = PLAN_FIELDS
REVISABLE_STATUSES = (PlanStatus.PROPOSED, PlanStatus.ACCEPTED, PlanStatus.IN_PROGRESS)


# ---------------------------------------------------------------------------
# Why an action is refused (None when allowed)
# ---------------------------------------------------------------------------


def standing_plan(case: Case) -> TreatmentPlan | None:
    """The case's plan in force (not cancelled or superseded), if any."""
    return TreatmentPlan.objects.standing().filter(case=case).order_by("-version").first()


def plan_create_refusal(case: Case) -> str | None:
    if not case.is_open:
        return f"Case {case.reference} is {case.get_status_display().lower()}: no new plan can be started."
    existing = standing_plan(case)
    if existing is not None:
        return (
            f"Case {case.reference} already has a plan in force (version {existing.version}, "
            f"{existing.get_status_display().lower()}). A case has one plan at a time: "
            "edit the draft, or revise the plan to make a new version."
        )
    return None


def edit_refusal(plan: TreatmentPlan) -> str | None:
    if plan.status == PlanStatus.DRAFT:
        return None
    if plan.status == PlanStatus.PROPOSED and not plan.is_approved:
        return "This plan is waiting for a manager's review and cannot be changed now."
    if plan.status in REVISABLE_STATUSES:
        return "Only a draft can be changed. This plan was approved: revise it to make a new version."
    return f"This plan is {plan.get_status_display().lower()} and can no longer be changed."


def submit_refusal(plan: TreatmentPlan) -> str | None:
    if plan.status != PlanStatus.DRAFT:
        return "Only a draft plan can be submitted for approval."
    return None


def review_refusal(plan: TreatmentPlan) -> str | None:
    if plan.status == PlanStatus.PROPOSED and plan.is_approved:
        return "This plan has already been approved."
    if plan.status != PlanStatus.PROPOSED:
        return "Only a plan submitted for approval can be reviewed."
    return None


def revise_refusal(plan: TreatmentPlan) -> str | None:
    if plan.status == PlanStatus.DRAFT:
        return "This plan is still a draft: edit it instead of revising it."
    if plan.status == PlanStatus.PROPOSED and not plan.is_approved:
        return "This plan is waiting for a manager's review; it can be revised once approved (or sent back)."
    if plan.status not in REVISABLE_STATUSES:
        return f"A {plan.get_status_display().lower()} plan cannot be revised."
    return None


def accept_refusal(plan: TreatmentPlan) -> str | None:
    if plan.accepted_at is not None:
        return "The client has already accepted this plan."
    if plan.status != PlanStatus.PROPOSED:
        return "Only a proposed plan can be accepted."
    if not plan.is_approved:
        return "A manager must approve the plan before the client can accept it."
    return None


def _refuse_if(reason: str | None) -> None:
    if reason is not None:
        raise ValidationError(reason)


# ---------------------------------------------------------------------------
# Plan content
# ---------------------------------------------------------------------------


def _locked(plan: TreatmentPlan) -> TreatmentPlan:
    """The plan's row, locked until the transaction ends, so two requests cannot both act on it."""
    return TreatmentPlan.objects.select_for_update().get(pk=plan.pk)


def _check_kirby_desai(plan: TreatmentPlan) -> None:
    """Kirby–Desai (2009): the estimate is the sum of six sub-scores, so all six or none."""
    missing = [plan._meta.get_field(f).verbose_name for f in KD_FIELDS if getattr(plan, f) is None]
    if missing and len(missing) < len(KD_FIELDS):
        raise ValidationError(
            "Give all six Kirby–Desai sub-scores, or none. Missing: " + ", ".join(str(m) for m in missing) + "."
        )
    estimate = plan.kirby_desai()
    plan.kd_total = estimate.total if estimate else None


def _assign(plan: TreatmentPlan, fields: PlanFields) -> None:
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise TypeError(f"Not plan fields: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(plan, name, value)
    _check_kirby_desai(plan)
    plan.full_clean()


def _next_version(case_id: int) -> int:
    # Archived plans count too: (case, version) is unique.
    return (TreatmentPlan.objects.filter(case_id=case_id).aggregate(m=Max("version"))["m"] or 0) + 1


@transaction.atomic
def plan_create(*, case: Case, options: Iterable[CorrectionOption] = (), **fields: Unpack[PlanFields]) -> TreatmentPlan:
    """Start a draft plan for a case (version 1, or the next free number after cancelled plans).

    A case has one plan in force at a time; changes to an approved plan are revisions
    (plan_revise), never a second plan. The case row is locked so two requests cannot
    both start one.
    """
    case = Case.objects.select_for_update().get(pk=case.pk)
    _refuse_if(plan_create_refusal(case))
    plan = TreatmentPlan(case=case, version=_next_version(case.pk), status=PlanStatus.DRAFT)
    _assign(plan, fields)
    plan.save()
    plan.options.set(options)
    return plan


@transaction.atomic
def plan_update(
    *, plan: TreatmentPlan, options: Iterable[CorrectionOption] | None = None, **fields: Unpack[PlanFields]
) -> TreatmentPlan:
    """Change a draft plan; anything submitted or approved is changed only by revision."""
    plan = _locked(plan)
    _refuse_if(edit_refusal(plan))
    _assign(plan, fields)
    plan.save()
    if options is not None:
        plan.options.set(options)
    return plan


# ---------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------


def default_step_zones(case: Case) -> list[ZoneLookup]:
    """Zones of the case's unresolved issues: where a new step most likely works."""
    codes = Issue.objects.active().filter(case=case, resolved_on__isnull=True).values_list("zone", flat=True)
    return list(ZoneLookup.objects.filter(code__in=codes))


def next_step_order(plan: TreatmentPlan) -> int:
    return (plan.steps.aggregate(m=Max("order"))["m"] or 0) + 1


@transaction.atomic
def plan_step_save(
    *,
    plan: TreatmentPlan,
    step: PlanStep | None = None,
    kind: str,
    description: str = "",
    zones: Iterable[ZoneLookup] = (),
    order: int | None = None,
    interval_weeks: int | None = None,
    target_date: datetime.date | None = None,
    status: str = StepStatus.PLANNED,
) -> PlanStep:
    """Add a step to a draft plan, or change one (`step`).

    With no order the step goes last. With no target date but an interval, the target
    date is the previous step's target date plus the interval ("weeks after the
    previous step"); without a dated previous step it stays empty.
    """
    plan = _locked(plan)
    _refuse_if(edit_refusal(plan))
    if step is None:
        step = PlanStep(plan=plan)
    elif step.plan_id != plan.pk:
        raise ValidationError("This step belongs to another plan.")
    step.kind = kind
    step.description = description
    if order is not None:
        step.order = order
    elif step.pk is None:
        step.order = next_step_order(plan)
    step.interval_weeks = interval_weeks
    step.status = status
    step.target_date = target_date
    if target_date is None and interval_weeks is not None:
        previous = _previous_step(plan, step)
        if previous is not None and previous.target_date is not None:
            step.target_date = previous.target_date + datetime.timedelta(weeks=interval_weeks)
    step.full_clean()
    step.save()
    step.zones.set(zones)
    return step


def _previous_step(plan: TreatmentPlan, step: PlanStep) -> PlanStep | None:
    earlier = plan.steps.filter(order__lt=step.order)
    if step.pk:
        earlier = earlier.exclude(pk=step.pk)
    return earlier.order_by("-order", "-pk").first()


def _interval_rules(clinic: ClinicSettings) -> dict[str, tuple[int, str]]:
    """Minimum weeks between sessions of a kind on the same zone (DOMAIN.md, clinic settings)."""
    return {
        PlanStepKind.LASER_SESSION: (clinic.min_laser_interval_weeks, "Laser sessions"),
        PlanStepKind.SALINE_SESSION: (clinic.min_saline_interval_weeks, "Saline removal sessions"),
    }


def _weeks_between(earlier: PlanStep, later: PlanStep, steps: list[PlanStep]) -> float | None:
    """Planned gap: from the target dates if both have one, else the sum of the intervals in between."""
    if earlier.target_date and later.target_date:
        return (later.target_date - earlier.target_date).days / 7
    between = [s for s in steps if earlier.order < s.order <= later.order and s.pk != earlier.pk]
    if not between or any(s.interval_weeks is None for s in between):
        return None
    return sum(s.interval_weeks for s in between)


def _weeks(value: float) -> str:
    shown = f"{value:.1f}".removesuffix(".0")
    return f"{shown} week" if shown == "1" else f"{shown} weeks"


def plan_step_interval_warnings(*, step: PlanStep, clinic: ClinicSettings | None = None) -> list[str]:
    """Warnings (never errors) for a session step planned too soon after one of its kind on a shared zone.

    DOMAIN.md: laser sessions on the same zone at least the clinic's minimum interval apart
    (default 6 weeks); saline sessions likewise (default 4). A step without zones is
    compared with every earlier step of its kind, since its zone is not known.
    """
    clinic = clinic or ClinicSettings.load()
    rule = _interval_rules(clinic).get(step.kind)
    if rule is None:
        return []
    minimum, what = rule
    steps = list(step.plan.steps.order_by("order", "pk").prefetch_related("zones"))
    this = next((s for s in steps if s.pk == step.pk), None)
    if this is None:
        return []
    zones = {z.pk for z in this.zones.all()}
    warnings = []
    for other in steps:
        if other.pk == this.pk or other.kind != this.kind or other.order >= this.order:
            continue
        other_zones = {z.pk for z in other.zones.all()}
        if zones and other_zones and not zones & other_zones:
            continue
        gap = _weeks_between(other, this, steps)
        if gap is not None and gap < minimum:
            warnings.append(
                f"{what} on the same zone should be at least {minimum} weeks apart (clinic setting): "
                f"step {this.order} is planned {_weeks(gap)} after step {other.order}."
            )
    return warnings


# ---------------------------------------------------------------------------
# Submission and manager review
# ---------------------------------------------------------------------------


@transaction.atomic
def plan_submit(*, plan: TreatmentPlan, by: User) -> TreatmentPlan:
    """Send a draft to a manager for approval; it needs a correction option and a step."""
    plan = _locked(plan)
    _refuse_if(submit_refusal(plan))
    problems = []
    if not plan.options.exists():
        problems.append("choose at least one correction option")
    if not plan.steps.exists():
        problems.append("add at least one step")
    if problems:
        raise ValidationError("Before submitting: " + " and ".join(problems) + ".")
    plan.status = PlanStatus.PROPOSED
    plan.submitted_at = timezone.now()
    plan.submitted_by = by
    plan.full_clean()
    plan.save()
    return plan


def _require_manager(by: User) -> None:
    if not roles.is_manager(by):
        raise PermissionDenied("Only a manager can review a treatment plan.")


@transaction.atomic
def plan_approve(*, plan: TreatmentPlan, by: User, note: str = "") -> TreatmentPlan:
    """A manager approves a proposed plan (DESIGN.md: a plan is shown to the client only once approved)."""
    _require_manager(by)
    plan = _locked(plan)
    _refuse_if(review_refusal(plan))
    plan.approved_at = timezone.now()
    plan.approved_by = by
    plan.review_note = note.strip()
    plan.full_clean()
    plan.save()
    return plan


@transaction.atomic
def plan_send_back(*, plan: TreatmentPlan, by: User, note: str) -> TreatmentPlan:
    """A manager returns a proposed plan to draft, saying what must change (the note is required)."""
    _require_manager(by)
    plan = _locked(plan)
    _refuse_if(review_refusal(plan))
    if not note.strip():
        raise ValidationError({"note": "Say what needs to change before sending the plan back."})
    plan.status = PlanStatus.DRAFT
    plan.review_note = note.strip()
    plan.approved_at = None
    plan.approved_by = None
    plan.submitted_at = None
    plan.submitted_by = None
    plan.full_clean()
    plan.save()
    return plan


# ---------------------------------------------------------------------------
# Revision
# ---------------------------------------------------------------------------


@transaction.atomic
def plan_revise(*, plan: TreatmentPlan) -> TreatmentPlan:
    """Make a new draft version of an approved (or accepted, in-progress) plan.

    DESIGN.md: "revisions that keep the earlier version". The new version copies the
    content, options and steps (with zones); approval, acceptance and submission are not
    copied, since they were given for the earlier version. The earlier version changes
    only its status, to superseded.
    """
    old = _locked(plan)
    _refuse_if(revise_refusal(old))
    new = TreatmentPlan(
        case_id=old.case_id,
        version=_next_version(old.case_id),
        previous_version=old,
        status=PlanStatus.DRAFT,
        **{name: getattr(old, name) for name in REVISION_COPIED_FIELDS},
    )
    new.full_clean()
    new.save()
    new.options.set(old.options.all())
    for old_step in old.steps.order_by("order", "pk").prefetch_related("zones"):
        new_step = PlanStep(
            plan=new,
            order=old_step.order,
            kind=old_step.kind,
            description=old_step.description,
            interval_weeks=old_step.interval_weeks,
            target_date=old_step.target_date,
            status=old_step.status,
        )
        new_step.full_clean()
        new_step.save()
        new_step.zones.set(old_step.zones.all())
    old.status = PlanStatus.SUPERSEDED
    old.full_clean()
    old.save(update_fields=["status", "updated_at"])
    return new


# ---------------------------------------------------------------------------
# Client acceptance
# ---------------------------------------------------------------------------


@transaction.atomic
def plan_accept(
    *,
    plan: TreatmentPlan,
    name: str,
    by: User | None,
    in_clinic: bool,
    ip: str | None = None,
    user_agent: str = "",
) -> TreatmentPlan:
    """Record the client's acceptance of an approved plan: who, when, from where (DESIGN.md).

    The client types their full name: first (or preferred) and last name, ignoring case,
    spacing and Unicode form, by the same rule as consents (`signature_matches`). In
    clinic, a staff member records it (`by` is the staff user); in the portal, the client
    does (`by` is the client's own login) and the IP address and browser are kept.
    """
    plan = _locked(plan)
    client = plan.case.client
    if in_clinic:
        if by is None or not roles.is_clinic_user(by):
            raise PermissionDenied("Only clinic staff can record an acceptance in clinic.")
    elif by is None or client.user_id is None or by.pk != client.user_id:
        raise PermissionDenied("Only the client can accept the plan in the portal.")
    _refuse_if(accept_refusal(plan))
    if not name.strip():
        raise ValidationError({"name": "Type the client's full name."})
    if not signature_matches(client, name):
        raise ValidationError({"name": f"The name typed does not match the client's name ({client.full_name})."})
    plan.status = PlanStatus.ACCEPTED
    plan.accepted_at = timezone.now()
    plan.accepted_name = name.strip()
    plan.accepted_by = by
    plan.accepted_in_clinic = in_clinic
    plan.accepted_ip = ip or None
    plan.accepted_user_agent = (user_agent or "")[:500]
    plan.full_clean()
    plan.save()
    return plan
