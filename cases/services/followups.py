"""Scheduling follow-ups and recording how they went (DOMAIN.md, "Aftercare and follow-ups")."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from cases.choices import FollowUpStatus
from cases.models import AdverseEventKind, Case, CorrectionSession, FollowUp, LaserSession
from smpclinic import roles


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
) -> FollowUp:
    """Schedule a follow-up on a case, optionally about one of that case's sessions.

    The linked session must belong to the case (one session at most), and the assignee
    must be a clinic user: follow-ups are clinic work.
    """
    for session in (laser_session, correction_session):
        if session is not None and (session.case_id != case.pk or session.is_archived):
            raise ValidationError("A follow-up can only be linked to a session of its own case.")
    if laser_session is not None and correction_session is not None:
        raise ValidationError("Link the follow-up to one session at most.")
    if assignee is not None and not (assignee.is_active and roles.is_clinic_user(assignee)):
        raise ValidationError("Assign the follow-up to a member of the clinic staff.")
    followup = FollowUp(
        case=case,
        kind=kind,
        due_on=due_on,
        assignee=assignee,
        laser_session=laser_session,
        correction_session=correction_session,
    )
    followup.full_clean()
    followup.save()
    return followup


def _locked_scheduled(followup: FollowUp, action: str) -> FollowUp:
    locked = FollowUp.objects.select_for_update().get(pk=followup.pk)
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

    Only a scheduled follow-up can be completed (the row is locked, so two people cannot
    complete it twice), and not with a date in the future.
    """
    locked = _locked_scheduled(followup, "completed")
    if completed_on > timezone.localdate():
        raise ValidationError({"completed_on": "A follow-up cannot be completed in the future."})
    locked.status = FollowUpStatus.COMPLETED
    locked.completed_on = completed_on
    locked.completed_by = by
    locked.healing = healing
    locked.satisfaction = satisfaction
    locked.notes = notes
    locked.full_clean()
    locked.save()
    locked.side_effects.set(side_effects)
    return locked


@transaction.atomic
def followup_mark_missed(*, followup: FollowUp, by) -> FollowUp:
    """The client did not come: scheduled → missed (then reviewed by a manager)."""
    locked = _locked_scheduled(followup, "marked missed")
    locked.status = FollowUpStatus.MISSED
    locked.full_clean()
    locked.save(update_fields=["status", "updated_at"])
    return locked


# --- Manager review and rescheduling (issue 5) -------------------------------------------------

REVIEWABLE = (FollowUpStatus.COMPLETED, FollowUpStatus.MISSED)
REVIEW_NOTE_MAX = 2000


def _describe(followup: FollowUp) -> str:
    return f"{followup.get_kind_display()} due {followup.due_on:%d %b %Y} (case {followup.case.reference})"


@transaction.atomic
def followups_review(*, followups: Iterable[FollowUp], by, note: str = "") -> list[FollowUp]:
    """A manager signs off completed or missed follow-ups, one or many at once, with one note.

    All or nothing: the rows are locked and, if any of them is still scheduled, cancelled,
    archived or already reviewed (perhaps by another manager a moment ago), none is
    reviewed and the message names each refused follow-up.
    """
    if not roles.is_manager(by):
        raise PermissionDenied("Only a manager can review follow-ups.")
    note = (note or "").strip()
    if len(note) > REVIEW_NOTE_MAX:
        raise ValidationError({"note": f"Keep the note under {REVIEW_NOTE_MAX} characters."})
    pks = sorted({followup.pk for followup in followups})
    if not pks:
        raise ValidationError("Choose at least one follow-up to review.")
    locked = list(
        FollowUp.objects.select_for_update(of=("self",)).select_related("case").filter(pk__in=pks).order_by("pk")
    )
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
        return f"This follow-up was already rescheduled to {already.due_on:%d %b %Y}."
    return None


@transaction.atomic
def followup_reschedule(*, followup: FollowUp, due_on: datetime.date, by) -> FollowUp:
    """Book a missed follow-up again in one step: a new scheduled follow-up of the same kind,
    case, assignee and session, linked to the missed one by `rescheduled_from`.

    The missed follow-up stays as it is (missed, awaiting a manager's review): the record
    of what happened is kept. A follow-up is rescheduled once; after that, the new one is
    the one to reschedule. An assignee who has since left the clinic is not kept.
    """
    if not roles.is_clinic_user(by):
        raise PermissionDenied("Only clinic staff can reschedule a follow-up.")
    locked = FollowUp.objects.select_for_update(of=("self",)).select_related("case").get(pk=followup.pk)
    if locked.is_archived or locked.case.is_archived:
        raise ValidationError("This follow-up is archived and cannot be rescheduled.")
    refusal = reschedule_refusal(locked)
    if refusal:
        raise ValidationError(refusal)
    if due_on < timezone.localdate():
        raise ValidationError({"due_on": "The new due date cannot be in the past."})
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
