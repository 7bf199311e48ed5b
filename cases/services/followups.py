"""Scheduling follow-ups, recording how they went, and managers' review of them.

Every date rule of a follow-up lives here; the forms only show these messages
(docs/domain.md#aftercare for the clinical background).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from cases.choices import FollowUpStatus
from cases.models import AdverseEventKind, Case, CorrectionSession, FollowUp, LaserSession
from cases.reminders import clinic_today as _clinic_today
from cases.services import diary
from smpclinic import roles
from smpclinic.concurrency import StaleEdit, lock_for_edit
from smpclinic.dates import EARLIEST, booking_date_error
from smpclinic.models import ClinicSettings


def day(value: datetime.date) -> str:
    """A date as messages write it: "9 Dec 2026"."""
    return f"{value.day} {value:%b %Y}"


def clinic_today() -> datetime.date:
    """Today in the clinic's time zone (Clinic settings), whether a page or a task asks."""
    return _clinic_today(ClinicSettings.cached())


def _session_day(session: LaserSession | CorrectionSession) -> datetime.date:
    return session.local_day()


def _linked_session(followup: FollowUp) -> LaserSession | CorrectionSession | None:
    return followup.laser_session or followup.correction_session


def due_date_errors(
    *, case: Case, due_on: datetime.date, session: LaserSession | CorrectionSession | None = None
) -> list[str]:
    """Why a follow-up cannot be due on `due_on` (empty when it can).

    Not before the case opened, and not before the day of the session it follows up.
    A due date already past is allowed: a check that should have happened is overdue
    (a session recorded late schedules its check that way, and staff can book and then
    record a check that was done but never booked).
    """
    errors = []
    bound = booking_date_error(due_on, today=clinic_today(), what="A follow-up")
    if bound:
        return [bound]
    if due_on < case.opened_on:
        errors.append(f"A follow-up cannot be due before the case opened ({day(case.opened_on)}).")
    if session is not None and due_on < _session_day(session):
        errors.append(f"A follow-up cannot be due before the session it follows up ({day(_session_day(session))}).")
    return errors


def completion_date_errors(*, followup: FollowUp, completed_on: datetime.date) -> list[str]:
    """Why a follow-up cannot be recorded as done on `completed_on` (empty when it can):
    not in the future in the clinic's time zone, not before the case opened, and not
    before the session it follows up."""
    errors = []
    if completed_on < EARLIEST:
        return ["A follow-up cannot be completed before 1 Jan 1900."]
    if completed_on > clinic_today():
        errors.append("A follow-up cannot be completed in the future.")
    case = followup.case
    if completed_on < case.opened_on:
        errors.append(f"A follow-up cannot be completed before the case opened ({day(case.opened_on)}).")
    session = _linked_session(followup)
    if session is not None and completed_on < _session_day(session):
        errors.append(
            f"A follow-up cannot be completed before the session it follows up ({day(_session_day(session))})."
        )
    return errors


@transaction.atomic
def followup_create(
    *,
    case: Case,
    kind: str,
    due_on: datetime.date,
    assignee=None,
    laser_session: LaserSession | None = None,
    correction_session: CorrectionSession | None = None,
    by,
    submission_token: uuid.UUID | str | None = None,
) -> FollowUp:
    """Schedule a follow-up on a case, optionally about one of that case's sessions.

    The linked session must belong to the case (one session at most), the assignee
    must be a clinic user (follow-ups are clinic work) and the due date must pass
    `due_date_errors`. `submission_token` is the create form's token
    (smpclinic.concurrency.create_once), stored so a resubmit finds this follow-up.
    """
    for session in (laser_session, correction_session):
        if session is not None and (session.case_id != case.pk or session.is_archived):
            raise ValidationError("A follow-up can only be linked to a session of its own case.")
    if laser_session is not None and correction_session is not None:
        raise ValidationError("Link the follow-up to one session at most.")
    if assignee is not None and not (assignee.is_active and roles.is_clinic_user(assignee)):
        raise ValidationError({"assignee": "Assign the follow-up to a member of the clinic staff."})
    errors = due_date_errors(case=case, due_on=due_on, session=laser_session or correction_session)
    if errors:
        raise ValidationError({"due_on": errors})
    followup = FollowUp(
        case=case,
        kind=kind,
        due_on=due_on,
        assignee=assignee,
        laser_session=laser_session,
        correction_session=correction_session,
        submission_token=submission_token or None,
    )
    # The token's uniqueness is the database's to decide (create_once answers a repeat).
    followup.full_clean(exclude=["submission_token"])
    followup.save()
    return followup


def _locked_scheduled(followup: FollowUp, action: str) -> FollowUp:
    """The stored row, locked; refused if it moved on from the version the user's form
    was opened on (StaleEdit), or if it is no longer scheduled."""
    locked = lock_for_edit(followup)
    if locked.status != FollowUpStatus.SCHEDULED:
        raise ValidationError(
            f"Only a scheduled follow-up can be {action}; this one is {locked.get_status_display().lower()}."
        )
    return locked


@transaction.atomic
def followup_complete(
    *,
    followup: FollowUp,
    completed_on: datetime.date,
    healing: str,
    side_effects: Iterable[AdverseEventKind] = (),
    satisfaction: int | None = None,
    notes: str = "",
    by,
) -> FollowUp:
    """Record a scheduled follow-up as done: scheduled → completed, with what was found.

    Only a scheduled follow-up can be completed, from a form opened on its current
    version (two people cannot complete it twice, nor one undo the other), and only on
    a day `completion_date_errors` allows.
    """
    locked = _locked_scheduled(followup, "completed")
    errors = completion_date_errors(followup=followup, completed_on=completed_on)
    if errors:
        raise ValidationError({"completed_on": errors})
    locked.status = FollowUpStatus.COMPLETED
    locked.completed_on = completed_on
    locked.completed_by = by
    locked.healing = healing
    locked.satisfaction = satisfaction
    locked.notes = notes
    locked.full_clean()
    locked.save()
    locked.side_effects.set(side_effects)
    diary.follow_up_status_followed(locked)
    return locked


@transaction.atomic
def followup_mark_missed(*, followup: FollowUp, by) -> FollowUp:
    """The client did not come: scheduled → missed (then reviewed by a manager).
    Refused from a page opened on an older version of the follow-up."""
    locked = _locked_scheduled(followup, "marked missed")
    locked.status = FollowUpStatus.MISSED
    locked.full_clean()
    locked.save(update_fields=["status", "updated_at"])
    diary.follow_up_status_followed(locked)
    return locked


# --- Manager review and rescheduling -------------------------------------------------------------

REVIEWABLE = (FollowUpStatus.COMPLETED, FollowUpStatus.MISSED)
REVIEW_NOTE_MAX = 2000


def _describe(followup: FollowUp) -> str:
    return (
        f"{followup.get_kind_display()} due {day(followup.due_on)} "
        f"(case {followup.case.reference}, {followup.case.client.full_name})"
    )


def changed_since(stale: StaleEdit) -> str:
    """For a page of buttons rather than a form: "was changed by Nina Nurse after you
    opened this page (Status: Scheduled → Completed)"."""
    who = stale.changed_by.get_full_name() or str(stale.changed_by) if stale.changed_by else "someone else"
    if stale.base_known:
        changes = "; ".join(f"{c.label}: {c.before_text} → {c.after_text}" for c in stale.changes)
    else:
        changes = "; ".join(f"{c.label} now: {c.after_text}" for c in stale.changes)
    return f"was changed by {who} after you opened this page{f' ({changes})' if changes else ''}"


def _changed_since(followup: FollowUp, expected: int) -> str:
    return f"{_describe(followup)} {changed_since(StaleEdit(followup, expected))}."


@transaction.atomic
def followups_review(*, followups: Iterable[FollowUp], by, note: str = "") -> list[FollowUp]:
    """A manager signs off completed or missed follow-ups, several at once with one note,
    or one with an adverse finding on its own.

    A follow-up with an adverse finding (`cases.models.followups.adverse_findings`) is
    reviewed alone and with a note saying what was done about it; it is never part of a
    bulk review. All or nothing: the rows are locked and, if any of them is refused
    (still scheduled, cancelled, archived, already reviewed, changed since the page was
    opened, or an adverse finding in a bulk review or without a note), none is reviewed
    and the message names each refused follow-up.
    """
    roles.check(by, roles.REVIEW_FOLLOW_UPS)
    note = (note or "").strip()
    if len(note) > REVIEW_NOTE_MAX:
        raise ValidationError({"note": f"Keep the note under {REVIEW_NOTE_MAX} characters."})
    given = {followup.pk: followup for followup in followups}
    if not given:
        raise ValidationError("Choose at least one follow-up to review.")
    locked = list(
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("case__client")
        .with_adverse_findings()
        .filter(pk__in=given)
        .order_by("pk")
    )
    bulk = len(locked) > 1
    problems = []
    for followup in locked:
        if followup.is_archived:
            problems.append(f"{_describe(followup)} is archived.")
        elif followup.reviewed_at is not None:
            problems.append(f"{_describe(followup)} was already reviewed.")
        elif followup.status not in REVIEWABLE:
            problems.append(
                f"{_describe(followup)} is {followup.get_status_display().lower()}; "
                "only completed or missed follow-ups can be reviewed."
            )
        elif given[followup.pk].lock_version != followup.lock_version:
            problems.append(_changed_since(followup, given[followup.pk].lock_version))
        elif followup.has_adverse_findings and bulk:
            problems.append(
                f"{_describe(followup)} has adverse findings: review it on its own, with a note, "
                "not with other follow-ups."
            )
        elif followup.has_adverse_findings and not note:
            problems.append(
                f"{_describe(followup)} has adverse findings: write a review note saying what was done about them."
            )
    if problems:
        raise ValidationError(problems)
    now = timezone.now()
    for followup in locked:
        followup.reviewed_at = now
        followup.reviewed_by = by
        followup.review_note = note
        # save() (not a bulk update) so each review is in the follow-up's history.
        followup.save(update_fields=["reviewed_at", "reviewed_by", "review_note", "updated_at"])
    return locked


def reschedule_refusal(followup: FollowUp) -> str | None:
    """Why this follow-up cannot be rescheduled (None when it can): the view asks before
    showing its form, the service again under the row lock."""
    if followup.status != FollowUpStatus.MISSED:
        return f"Only a missed follow-up can be rescheduled; this one is {followup.get_status_display().lower()}."
    already = FollowUp.objects.filter(rescheduled_from=followup).first()
    if already is not None:
        return f"This follow-up was already rescheduled to {day(already.due_on)}."
    return None


@transaction.atomic
def followup_reschedule(*, followup: FollowUp, due_on: datetime.date, by) -> FollowUp:
    """Book a missed follow-up again in one step: a new scheduled follow-up of the same kind,
    case, assignee and session, linked to the missed one by `rescheduled_from`.

    The missed follow-up stays as it is (missed, awaiting a manager's review): the record
    of what happened is kept. A follow-up is rescheduled once; after that, the new one is
    the one to reschedule. The new date is today or later (it books a visit still to
    come) and passes `due_date_errors`. A form opened on an older version of the missed
    follow-up is refused. An assignee who has since left the clinic is not kept.
    """
    if not roles.is_clinic_user(by):
        raise PermissionDenied("Only clinic staff can reschedule a follow-up.")
    locked = lock_for_edit(followup)
    if locked.is_archived or locked.case.is_archived:
        raise ValidationError("This follow-up is archived and cannot be rescheduled.")
    refusal = reschedule_refusal(locked)
    if refusal:
        raise ValidationError(refusal)
    if due_on < clinic_today():
        raise ValidationError({"due_on": "The new due date cannot be in the past."})
    errors = due_date_errors(case=locked.case, due_on=due_on)
    if errors:
        raise ValidationError({"due_on": errors})
    assignee = locked.assignee
    if assignee is not None and not (assignee.is_active and roles.is_clinic_user(assignee)):
        assignee = None

    def _live(session):
        return session if session is not None and not session.is_archived else None

    new = FollowUp(
        case=locked.case,
        kind=locked.kind,
        due_on=due_on,
        assignee=assignee,
        laser_session=_live(locked.laser_session),
        correction_session=_live(locked.correction_session),
        rescheduled_from=locked,
    )
    new.full_clean()
    new.save()
    return new
