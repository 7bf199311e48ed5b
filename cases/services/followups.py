"""Scheduling follow-ups and recording how they went (DOMAIN.md, "Aftercare and follow-ups")."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
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
