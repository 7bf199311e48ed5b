"""Cases: opening and numbering them, editing, status changes; consultations and issues."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cases.choices import CaseStatus, Outcome
from cases.models import Case, Client, Consultation, Issue, ReferenceCounter, RegretReason
from smpclinic import roles
from smpclinic.concurrency import lock_for_edit


def next_reference(*, year: int) -> str:
    """The next case reference for `year`, e.g. SMP-2026-0042; safe under concurrency.

    The counter row is created if missing (ignoring a concurrent insert), then
    incremented with one UPDATE: PostgreSQL's row lock (and SQLite's IMMEDIATE write
    transaction) make a second caller wait and read the number after ours. The unique
    constraint on Case.reference is the backstop.
    """
    with transaction.atomic():
        ReferenceCounter.objects.bulk_create([ReferenceCounter(year=year, last_number=0)], ignore_conflicts=True)
        ReferenceCounter.objects.filter(year=year).update(last_number=F("last_number") + 1)
        number = ReferenceCounter.objects.values_list("last_number", flat=True).get(year=year)
    return f"SMP-{year}-{number:04d}"


@transaction.atomic
def case_open(
    *,
    client: Client,
    opened_on: datetime.date | None = None,
    regret_reasons: Iterable[RegretReason] = (),
    **fields,
) -> Case:
    """Open a new correction case for a client, with a fresh reference code.

    `fields` are other Case fields (goal, lead_artist, origin of the original SMP…).
    """
    opened_on = opened_on or timezone.localdate()
    case = Case(client=client, opened_on=opened_on, **fields)
    case.reference = next_reference(year=opened_on.year)
    case.full_clean()
    case.save()
    case.regret_reasons.set(regret_reasons)
    return case


# --- Editing a case --------------------------------------------------------------------

CASE_EDITABLE_FIELDS = (
    "goal",
    "lead_artist",
    "regret_notes",
    "original_studio",
    "original_artist",
    "original_date",
    "original_sessions",
    "original_pigment",
    "expectations_discussed_on",
    "expectations_agreed",
)


def _set_fields(obj, fields: dict, allowed: tuple[str, ...]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"{type(obj).__name__} fields that cannot be set here: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(obj, name, value)


def _save_by(obj, by: User):
    """Validate and save `obj`, naming `by` in its history row."""
    obj._history_user = by
    obj.full_clean()
    obj.save()
    return obj


@transaction.atomic
def case_update(*, case: Case, by: User, regret_reasons: Iterable[RegretReason] | None = None, **fields) -> Case:
    """Change a case's details (never its status: see case_change_status).

    Realistic expectations (docs/domain.md#vocabulary): whoever records or changes the discussion is
    named as the person who held it; clearing the date clears the name.
    """
    current = lock_for_edit(case)
    before = (current.expectations_discussed_on, current.expectations_agreed)
    _set_fields(current, fields, CASE_EDITABLE_FIELDS)
    if current.expectations_discussed_on is None:
        current.expectations_discussed_by = None
    elif (
        current.expectations_discussed_on,
        current.expectations_agreed,
    ) != before or current.expectations_discussed_by_id is None:
        current.expectations_discussed_by = by
    _save_by(current, by)
    if regret_reasons is not None:
        current.regret_reasons.set(regret_reasons)
    return current


# --- Status changes ----------------------------------------------------------------------

_S = CaseStatus
TRANSITIONS: dict[str, tuple[str, ...]] = {
    _S.CONSULTATION: (_S.ASSESSMENT, _S.WITHDRAWN),
    _S.ASSESSMENT: (_S.PLANNING, _S.WITHDRAWN),
    _S.PLANNING: (_S.IN_TREATMENT, _S.ASSESSMENT, _S.WITHDRAWN),
    _S.IN_TREATMENT: (_S.FOLLOW_UP, _S.WITHDRAWN),
    _S.FOLLOW_UP: (_S.CLOSED, _S.IN_TREATMENT, _S.WITHDRAWN),
    _S.CLOSED: (),
    _S.WITHDRAWN: (),
}


def allowed_transitions(status: str) -> tuple[str, ...]:
    """Where a case in `status` may go next; closed and withdrawn are final."""
    return TRANSITIONS.get(status, ())


def check_transition(*, case: Case, to: str) -> None:
    """Refuse, with a reason a person understands, a status change the rules do not allow.

    The journey is consultation → assessment → planning → in treatment → follow-up →
    closed; any open case may be withdrawn; follow-up may go back to treatment and
    planning back to assessment. Treatment starts only on an approved, accepted plan.
    """
    if to not in _S.values:
        raise ValidationError(f"“{to}” is not a case status.")
    current = _S(case.status)
    target = _S(to)
    if current == target:
        raise ValidationError(f"The case is already {current.label.lower()}.")
    allowed = allowed_transitions(current)
    if not allowed:
        raise ValidationError(f"A {current.label.lower()} case is final: its status cannot change.")
    if target not in allowed:
        options = " or ".join(_S(s).label.lower() for s in allowed)
        raise ValidationError(
            f"A case in {current.label.lower()} can move to {options}, not to {target.label.lower()}."
        )
    if target == _S.IN_TREATMENT and not case.plans.agreed().exists():
        raise ValidationError(
            "Treatment can start only on a plan that a manager has approved and the client has accepted."
        )


@transaction.atomic
def case_change_status(
    *,
    case: Case,
    to: str,
    by: User,
    outcome: str = "",
    satisfaction: int | None = None,
    outcome_notes: str = "",
    withdrawn_reason: str = "",
    closed_on: datetime.date | None = None,
) -> Case:
    """Move a case along its journey (see check_transition for the rules).

    Closing records the outcome and the client's satisfaction (1–5) and the day it
    closed (today unless given); withdrawing records why. Nothing changes if refused.
    """
    roles.check(by, roles.WORK)
    current = Case.objects.select_for_update().get(pk=case.pk)
    check_transition(case=current, to=to)
    today = timezone.localdate()
    errors: dict[str, str] = {}
    if to == _S.CLOSED:
        closed_on = closed_on or today
        if outcome not in Outcome.values:
            errors["outcome"] = "Record the outcome to close the case."
        if satisfaction is None:
            errors["satisfaction"] = "Record the client's satisfaction (1–5) to close the case."
        elif not 1 <= satisfaction <= 5:
            errors["satisfaction"] = "Satisfaction is from 1 to 5."
        if closed_on > today:
            errors["closed_on"] = "A case cannot close in the future."
        elif closed_on < current.opened_on:
            errors["closed_on"] = "A case cannot close before it opened."
        current.outcome, current.satisfaction = outcome, satisfaction
        current.outcome_notes, current.closed_on = outcome_notes.strip(), closed_on
    elif to == _S.WITHDRAWN:
        if not withdrawn_reason.strip():
            errors["withdrawn_reason"] = "Give the reason the case was withdrawn."
        current.withdrawn_reason = withdrawn_reason.strip()
    if errors:
        raise ValidationError(errors)
    current.status = to
    return _save_by(current, by)


# --- Consultations and issues ---------------------------------------------------------

CONSULTATION_FIELDS = ("held_at", "kind", "concerns", "findings", "recommendations", "internal_notes")
ISSUE_FIELDS = ("kind", "zone", "severity", "description", "identified_on", "resolved_on")


@transaction.atomic
def consultation_create(*, case: Case, staff: User, submission_token=None, **fields) -> Consultation:
    """Log a consultation held by `staff` (the person recording it); `submission_token`
    is the create form's, so a second submit of the same form finds this record."""
    consultation = Consultation(case=case, staff=staff, submission_token=submission_token)
    _set_fields(consultation, fields, CONSULTATION_FIELDS)
    return _save_by(consultation, staff)


@transaction.atomic
def consultation_update(*, consultation: Consultation, by: User, **fields) -> Consultation:
    """Correct a consultation's record; who held it does not change. Refused if the
    record changed since `consultation` was read (its lock_version)."""
    _set_fields(consultation, fields, CONSULTATION_FIELDS)
    return _save_by(consultation, by)


def issue_date_errors(*, identified_on: datetime.date | None, resolved_on: datetime.date | None) -> dict[str, str]:
    """An issue is identified and resolved on days that have happened, in that order."""
    today = timezone.localdate()
    errors = {}
    if identified_on and identified_on > today:
        errors["identified_on"] = "An issue cannot be identified in the future."
    if resolved_on and resolved_on > today:
        errors["resolved_on"] = "An issue cannot be resolved in the future."
    elif resolved_on and identified_on and resolved_on < identified_on:
        errors["resolved_on"] = "An issue cannot be resolved before it was identified."
    return errors


def _check_issue_dates(issue: Issue) -> None:
    errors = issue_date_errors(identified_on=issue.identified_on, resolved_on=issue.resolved_on)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def issue_create(*, case: Case, by: User, **fields) -> Issue:
    """Record an assessed problem (kind, scalp zone, severity 1–5)."""
    issue = Issue(case=case)
    _set_fields(issue, fields, ISSUE_FIELDS)
    _check_issue_dates(issue)
    return _save_by(issue, by)


@transaction.atomic
def issue_update(*, issue: Issue, by: User, **fields) -> Issue:
    """Change an issue, e.g. its severity after a session or the day it was resolved."""
    _set_fields(issue, fields, ISSUE_FIELDS)
    _check_issue_dates(issue)
    return _save_by(issue, by)
