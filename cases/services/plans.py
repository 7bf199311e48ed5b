"""Treatment plans: drafting, steps, manager approval, revision and client acceptance.

The life of a plan:

    draft ──submit──▶ proposed ──approve──▶ proposed + approved ──accept──▶ accepted ─▶ in progress ─▶ completed
      ▲                  │                                                       (steps follow the sessions)
      └────send back─────┘

Revision (docs/domain.md#record): an approved plan (proposed and approved,
accepted, in progress or completed) is changed by a new version, a draft beside it,
made with a reason. The earlier version stays the client's plan (portal, PDF, next
planned step) until the new version is approved and accepted; accepting it supersedes
the earlier version and moves that version's sessions onto the matching steps. A
revision not accepted yet can be discarded (it becomes cancelled and the earlier
version stays in force), and revising such a revision replaces it (it was never the
client's plan). So a case has at most two standing plans: the one in force and one
revision of it; never two revisions at once.

Each `*_refusal(plan)` function says, in words a person understands, why an action is not
possible now (or None): the views use them to show only valid actions, the services to
refuse with the same message.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
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
from smpclinic.concurrency import StaleEdit, lock_for_edit
from smpclinic.dates import booking_date_error, shifted
from smpclinic.http import normalised_ip
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
    clinician_estimate_sessions: int | None


PLAN_FIELDS = tuple(PlanFields.__annotations__)
# Copied into a revision; approval, acceptance and submission belong to the old version only.
REVISION_COPIED_FIELDS = PLAN_FIELDS
REVISABLE_STATUSES = (PlanStatus.PROPOSED, PlanStatus.ACCEPTED, PlanStatus.IN_PROGRESS, PlanStatus.COMPLETED)
DISCARDABLE_STATUSES = (PlanStatus.DRAFT, PlanStatus.PROPOSED)


# ---------------------------------------------------------------------------
# Why an action is refused (None when allowed)
# ---------------------------------------------------------------------------


def agreed_plan(case: Case, *, fields: tuple[str, ...] = ()) -> TreatmentPlan | None:
    """The client's plan: the version a manager approved and the client accepted, still
    in force (`TreatmentPlanQuerySet.agreed`). None before the first acceptance. With
    `fields`, only those columns are read (the portal names the version it replaces)."""
    plans = TreatmentPlan.objects.agreed().filter(case=case).order_by("-version")
    return (plans.only(*fields) if fields else plans).first()


def standing_plan(case: Case) -> TreatmentPlan | None:
    """The plan staff work on first: the client's plan if there is one, else the plan
    being prepared (a draft or proposal). None when every plan is cancelled or superseded."""
    return agreed_plan(case) or TreatmentPlan.objects.pending().filter(case=case).order_by("-version").first()


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


FOUR_EYES_REFUSAL = (
    "Four-eyes rule: you submitted this plan, so another manager must approve it. "
    "You can still send it back to draft. (A clinic with a single manager can turn this rule off "
    "in Clinic settings.)"
)


def approve_refusal(plan: TreatmentPlan, *, by: User, clinic: ClinicSettings | None = None) -> str | None:
    """Why `by` cannot approve this plan now, or None.

    Four eyes (Clinic settings, on by default): the manager who approves a plan is not
    the one who submitted it, so every plan shown to a client was checked by a second
    person. Sending a plan back is not approval and stays open to its submitter. A plan
    with no recorded submitter (submitted before submitters were recorded) is not held
    back by the rule."""
    reason = review_refusal(plan)
    if reason is not None:
        return reason
    if plan.submitted_by_id is None or plan.submitted_by_id != by.pk:
        return None
    clinic = clinic or ClinicSettings.load()
    return FOUR_EYES_REFUSAL if clinic.plan_approval_four_eyes else None


def revise_refusal(plan: TreatmentPlan) -> str | None:
    if plan.status == PlanStatus.DRAFT:
        return "This plan is still a draft: edit it instead of revising it."
    if plan.status == PlanStatus.PROPOSED and not plan.is_approved:
        return "This plan is waiting for a manager's review; it can be revised once approved (or sent back)."
    if plan.status not in REVISABLE_STATUSES or plan.is_archived:
        return f"A {plan.get_status_display().lower()} plan cannot be revised."
    other = (
        TreatmentPlan.objects.pending()
        .filter(case_id=plan.case_id, previous_version__isnull=False)
        .exclude(pk=plan.pk)
        .first()
    )
    if other is not None:
        return (
            f"Version {other.version} is already a revision of this plan "
            f"({other.get_status_display().lower()}): continue with it, or discard it first."
        )
    return None


def discard_refusal(plan: TreatmentPlan) -> str | None:
    if plan.status not in DISCARDABLE_STATUSES or plan.accepted_at is not None:
        if plan.status in PlanStatus.agreed():
            return "The client has accepted this plan: change it by revising it, not by discarding it."
        return f"A {plan.get_status_display().lower()} plan cannot be discarded."
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


def _locked(plan: TreatmentPlan, refusal: Callable[[TreatmentPlan], str | None] | None = None) -> TreatmentPlan:
    """The plan's row, locked until the transaction ends, so two requests cannot both act
    on it. `refusal` (one of the `*_refusal` functions) is asked about the stored plan
    first, so a second click hears "already approved" rather than a list of changes; then
    the plan is refused (StaleEdit) if it changed since `plan` was read, i.e. since the
    form or page the user acted on was opened (`plan.lock_version`)."""
    stored = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
    if refusal is not None:
        _refuse_if(refusal(stored))
    if stored.lock_version != plan.lock_version:
        raise StaleEdit(plan, plan.lock_version)
    return stored


def _lock_case(case_id: int) -> None:
    """Plan changes that touch more than one plan (revise, accept) and session saves
    lock the case row first, so they happen one after the other."""
    Case.objects.select_for_update().filter(pk=case_id).values_list("pk", flat=True).first()


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
    """Change a draft plan; anything submitted or approved is changed only by revision.
    Refused if the plan was saved by someone else since `plan` was read (its lock_version)."""
    plan = _locked(plan, edit_refusal)
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
    """Add a step to a draft plan, or change one (`step`, refused if someone saved it
    since it was read).

    With no order the step goes last. A step with an interval ("weeks after the previous
    step") gets its target date from the previous step (see `_recompute_target_dates`);
    the date given is kept only when the previous step has no date to count from. The
    target dates of the later steps follow.
    """
    plan = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
    _refuse_if(edit_refusal(plan))
    if step is None:
        step = PlanStep(plan=plan)
    elif step.plan_id != plan.pk:
        raise ValidationError("This step belongs to another plan.")
    else:
        step = lock_for_edit(step)
    step.kind = kind
    step.description = description
    if order is not None:
        step.order = order
    elif step.pk is None:
        step.order = next_step_order(plan)
    step.interval_weeks = interval_weeks
    step.status = status
    step.target_date = target_date
    step.full_clean()
    step.save()
    step.zones.set(zones)
    _recompute_target_dates(plan.pk)
    step.refresh_from_db()
    return step


def _interval_rules(clinic: ClinicSettings) -> dict[str, tuple[int, str]]:
    """Minimum weeks between sessions of a kind on the same zone (clinic settings;
    docs/domain.md#laser-intervals)."""
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

    Laser sessions on the same zone should be at least the clinic's minimum interval
    apart (default 6 weeks); saline sessions likewise (default 4). A step without zones is
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
# Steps follow what happened: status from linked sessions, derived target dates
# ---------------------------------------------------------------------------


def _done_statuses() -> tuple[str, ...]:
    return (StepStatus.DONE, StepStatus.SKIPPED)


def _recompute_target_dates(plan_id: int) -> None:
    """Derive target dates along the plan: a step with an interval ("weeks after the
    previous step") is due that many weeks after the previous step's actual date (the day
    of its completed session) or, until it is done, its target date. A step without an
    interval keeps the target date staff gave it. Recomputed from the first step down, so
    a change early in the plan moves every later step."""
    previous: PlanStep | None = None
    for step in PlanStep.objects.filter(plan_id=plan_id).with_done_at().order_by("order", "pk"):
        if step.interval_weeks is not None and previous is not None:
            base = previous.done_on or previous.target_date
            if base is not None:
                target = shifted(base, step.interval_weeks * 7)
                error = booking_date_error(target, today=timezone.localdate(), what=f"Step {step.order}")
                if error and target != step.target_date:
                    raise ValidationError(
                        f"{error} It is due {step.interval_weeks} weeks after step {previous.order}: "
                        "bring the earlier step forward or shorten the interval."
                    )
                if target != step.target_date:
                    step.target_date = target
                    step.save(update_fields=["target_date", "updated_at"])
        previous = step


def _plan_follows_steps(plan: TreatmentPlan) -> None:
    """An agreed plan's status follows its steps: accepted until a step is done, then in
    progress; completed once every step is done or skipped (at least one done), and back
    to in progress if a session is later cancelled."""
    if plan.status not in PlanStatus.agreed():
        return
    statuses = list(plan.steps.values_list("status", flat=True))
    if StepStatus.DONE in statuses and all(s in _done_statuses() for s in statuses):
        status = PlanStatus.COMPLETED
    elif StepStatus.DONE in statuses:
        status = PlanStatus.IN_PROGRESS
    else:
        status = PlanStatus.ACCEPTED
    if status != plan.status:
        plan.status = status
        plan.save(update_fields=["status", "updated_at"])


def _step_status_from_sessions(step: PlanStep) -> str:
    """Done once a linked session is completed; a step marked done whose sessions were
    all cancelled, not attended or archived is planned again; skipped stays skipped."""
    if step.laser_done_at is not None or step.correction_done_at is not None:
        return StepStatus.DONE
    if step.status == StepStatus.DONE:
        return StepStatus.PLANNED
    return step.status


@transaction.atomic
def plan_steps_follow_sessions(*, step_ids: Iterable[int | None]) -> None:
    """Recompute these steps' status from their non-archived linked sessions, then the
    target dates of their plans and the status of agreed plans.

    Called by the session services, inside their transaction, after a session is saved,
    with the step it was linked to before and the one it is linked to now. A scheduled
    session leaves its step planned; a completed one makes it done; a cancelled or
    not-attended one (`SessionStatus.freeing()`) puts it back to planned unless another
    linked session was completed.
    """
    ids = {pk for pk in step_ids if pk}
    if ids:
        _steps_follow_sessions(ids)


def _steps_follow_sessions(step_ids: set[int]) -> None:
    ids = sorted(step_ids)
    plan_ids = sorted(set(PlanStep.objects.filter(pk__in=ids).values_list("plan_id", flat=True)))
    plans = list(TreatmentPlan.objects.select_for_update().filter(pk__in=plan_ids).order_by("pk"))
    for step in PlanStep.objects.filter(pk__in=ids).with_done_at().order_by("pk"):
        status = _step_status_from_sessions(step)
        if status != step.status:
            step.status = status
            step.save(update_fields=["status", "updated_at"])
    for plan in plans:
        _recompute_target_dates(plan.pk)
        _plan_follows_steps(plan)


# ---------------------------------------------------------------------------
# Submission and manager review
# ---------------------------------------------------------------------------


@transaction.atomic
def plan_submit(*, plan: TreatmentPlan, by: User) -> TreatmentPlan:
    """Send a draft to a manager for approval; it needs a correction option and a step."""
    plan = _locked(plan, submit_refusal)
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
    roles.check(by, roles.APPROVE_PLANS)


@transaction.atomic
def plan_approve(*, plan: TreatmentPlan, by: User, note: str = "") -> TreatmentPlan:
    """A manager approves a proposed plan: only then is it shown to the client, who may accept it.

    Refused to the manager who submitted it while the clinic's four-eyes rule is on
    (`approve_refusal`); the rule is read from the settings row itself, not a cache, so
    turning it on takes effect at once."""
    _require_manager(by)
    plan = _locked(plan, review_refusal)
    _refuse_if(approve_refusal(plan, by=by))
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
    plan = _locked(plan, review_refusal)
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
def plan_revise(*, plan: TreatmentPlan, reason: str, by: User | None = None) -> TreatmentPlan:
    """Make a new draft version of an approved plan (proposed and approved, accepted, in
    progress or completed), saying why (`reason`, shown on the plan page).

    The new version copies the content, options and steps (with zones and status);
    approval, acceptance and submission are not copied, since they were given for the
    earlier version. The earlier version stays unchanged and stays the client's plan
    until the new version is approved and accepted (`plan_accept` supersedes it then),
    except when it is itself a revision the client has not accepted: the new version
    replaces it, and it is superseded at once. Refused while another revision of the
    case is being prepared, and if the plan changed since `plan` was read.
    """
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the plan is being revised."})
    _lock_case(plan.case_id)
    old = _locked(plan, revise_refusal)
    new = TreatmentPlan(
        case_id=old.case_id,
        version=_next_version(old.case_id),
        previous_version=old,
        status=PlanStatus.DRAFT,
        revision_reason=reason.strip(),
        **{name: getattr(old, name) for name in REVISION_COPIED_FIELDS},
    )
    if by is not None:
        new._history_user = by
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
    if old.previous_version_id is not None and not old.is_agreed:
        old.status = PlanStatus.SUPERSEDED
        old.full_clean()
        old.save(update_fields=["status", "updated_at"])
    return new


@transaction.atomic
def plan_discard(*, plan: TreatmentPlan, by: User) -> TreatmentPlan:
    """Discard a plan the client has not accepted (a draft or a proposal): it becomes
    cancelled and is kept for the record. Discarding a revision leaves the version it
    revised in force, and that version can be revised again (the discarded one no longer
    counts as its revision)."""
    plan = _locked(plan, discard_refusal)
    plan._history_user = by  # the history names who discarded it, in a request or not
    plan.status = PlanStatus.CANCELLED
    plan.previous_version = None
    plan.full_clean()
    plan.save(update_fields=["status", "previous_version", "updated_at"])
    return plan


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
    """Record the client's acceptance of an approved plan: who, when, from where.

    The client types their full name: first (or preferred) and last name, ignoring case,
    spacing and Unicode form, by the same rule as consents (`signature_matches`). In
    clinic, a staff member records it (`by` is the staff user); in the portal, the client
    does (`by` is the client's own login) and the IP address and browser are kept.
    """
    client = plan.case.client
    if in_clinic:
        if by is None or not roles.is_clinic_user(by):
            raise PermissionDenied("Only clinic staff can record an acceptance in clinic.")
    elif by is None or client.user_id is None or by.pk != client.user_id:
        raise PermissionDenied("Only the client can accept the plan in the portal.")
    _lock_case(plan.case_id)
    plan = _locked(plan, accept_refusal)
    if not name.strip():
        raise ValidationError({"name": "Type the client's full name."})
    if not signature_matches(client, name):
        raise ValidationError({"name": f"The name typed does not match the client's name ({client.full_name})."})
    plan.status = PlanStatus.ACCEPTED
    plan.accepted_at = timezone.now()
    plan.accepted_name = name.strip()
    plan.accepted_by = by
    plan.accepted_in_clinic = in_clinic
    plan.accepted_ip = normalised_ip(ip)
    plan.accepted_user_agent = (user_agent or "")[:500]
    plan.full_clean()
    plan.save()
    _supersede_earlier_versions(plan)
    plan.refresh_from_db()  # its steps may have followed the sessions moved onto them
    _plan_follows_steps(plan)
    return plan


def _supersede_earlier_versions(plan: TreatmentPlan) -> None:
    """The accepted plan is now the client's plan: earlier standing versions of the case
    are superseded, and their sessions move to this version's step of the same order and
    kind (a revision copies the steps), so the steps keep following what happened."""
    earlier = list(
        TreatmentPlan.objects.standing()
        .select_for_update()
        .filter(case_id=plan.case_id, version__lt=plan.version)
        .order_by("pk")
    )
    if not earlier:
        return
    from cases.models import CorrectionSession, LaserSession

    new_steps = {(s.order, s.kind): s for s in plan.steps.all()}
    moved: set[int] = set()
    for old in earlier:
        old.status = PlanStatus.SUPERSEDED
        old.full_clean()
        old.save(update_fields=["status", "updated_at"])
        for model in (LaserSession, CorrectionSession):
            for session in model.objects.filter(plan_step__plan=old).select_related("plan_step"):
                target = new_steps.get((session.plan_step.order, session.plan_step.kind))
                if target is None:
                    continue  # the revision dropped this step: the session stays with the old version
                session.plan_step = target
                session.save(update_fields=["plan_step", "updated_at"])
                moved.add(target.pk)
    if moved:
        _steps_follow_sessions(moved)
