"""Booking, moving and cancelling appointments from the diary.

Each function writes the appointment (a laser or correction session through its own
service, so every clinical rule is judged as on the session forms; or an in-clinic
follow-up) and its diary slot (`cases.services.diary`) in one transaction: an appointment
is never saved without its slot, nor a slot without its appointment.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from artists.models import Artist
from cases.choices import FollowUpStatus, SessionStatus
from cases.models import (
    Booking,
    BookingKind,
    BookingStatus,
    Case,
    CorrectionSession,
    LaserDevice,
    LaserSession,
    PlanStep,
    ZoneLookup,
)
from cases.models.sessions import clinic_zone
from cases.services import diary
from cases.services.followups import due_date_errors, followup_create
from cases.services.sessions import correction_session_save, laser_session_save
from smpclinic import roles
from smpclinic.concurrency import lock_for_edit
from smpclinic.models import Room

REASON_MAX = 500


def _local_day(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment, clinic_zone()).date()


@transaction.atomic
def book(
    *,
    case: Case,
    kind: str,
    starts_at: datetime.datetime,
    person: Artist,
    minutes: int | None = None,
    room: Room | None = None,
    device: LaserDevice | None = None,
    zones: Iterable[ZoneLookup] = (),
    correction_kind: str = "",
    follow_up_kind: str = "",
    plan_step: PlanStep | None = None,
    by,
    overrides: Mapping[str, str] | None = None,
    hours_override: str = "",
    submission_token: uuid.UUID | str | None = None,
) -> Booking:
    """Book an appointment of `kind` (BookingKind) for the case: a scheduled laser or
    correction session (judged by the clinical rules like any session), or an in-clinic
    follow-up of `follow_up_kind`, due on the booking's day, assigned to the person's login.
    Refused when the person, room or device is taken, or the clinic is closed then."""
    if person.is_archived or person.kind != Artist.Kind.INTERNAL:
        raise ValidationError({"person": "Choose a current member of the clinic's team."})
    slot = diary.Slot(room=room, minutes=minutes, hours_override=hours_override)
    if kind == BookingKind.LASER:
        session = LaserSession(
            case=case,
            plan_step=plan_step,
            scheduled_at=starts_at,
            status=SessionStatus.SCHEDULED,
            technician=person,
            device=device,
        )
        saved = laser_session_save(
            session=session, zones=zones, by=by, overrides=overrides, submission_token=submission_token, slot=slot
        )
        return saved.booking
    if device is not None:
        raise ValidationError({"device": "Only a laser session books a laser."})
    if kind == BookingKind.CORRECTION:
        if not correction_kind:
            raise ValidationError({"correction_kind": "Choose the kind of correction session."})
        session = CorrectionSession(
            case=case,
            plan_step=plan_step,
            kind=correction_kind,
            scheduled_at=starts_at,
            status=SessionStatus.SCHEDULED,
            artist=person,
            duration_minutes=minutes,
        )
        saved = correction_session_save(
            session=session, zones=zones, by=by, overrides=overrides, submission_token=submission_token, slot=slot
        )
        return saved.booking
    if not follow_up_kind:
        raise ValidationError({"follow_up_kind": "Choose the kind of follow-up."})
    login = person.user
    assignee = login if login is not None and login.is_active and roles.is_clinic_user(login) else None
    followup = followup_create(
        case=case,
        kind=follow_up_kind,
        due_on=_local_day(starts_at),
        assignee=assignee,
        by=by,
        submission_token=submission_token,
    )
    return diary.follow_up_booked(followup, starts_at=starts_at, person=person, slot=slot, by=by)


def _reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": f"Say why the appointment is {what}."})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"Keep the reason under {REASON_MAX} characters."})
    return reason


def _locked_booked(booking: Booking, action: str) -> Booking:
    locked = Booking.objects.select_for_update().select_related("case").get(pk=booking.pk)
    if locked.status != BookingStatus.BOOKED:
        status = locked.get_status_display().lower()
        raise ValidationError(f"Only a booked appointment can be {action}; this one is {status}.")
    appointment = locked.appointment
    if appointment.is_archived or locked.case.is_archived:
        raise ValidationError(f"This appointment is archived and cannot be {action}.")
    return locked


@transaction.atomic
def reschedule(
    *,
    booking: Booking,
    starts_at: datetime.datetime,
    reason: str,
    by,
    minutes: int | None = None,
    person: Artist | None = None,
    room: Room | None = None,
    overrides: Mapping[str, str] | None = None,
    hours_override: str = "",
) -> Booking:
    """Move a booked appointment to another time (and person or room), with the reason.

    A session is saved again through its service, so the clinical rules judge the new day;
    its reminder follows the new time (the reminder's key names the time, so one claimed
    for the old time is not the new one, and the old one is never sent once the session
    moved). The booking's history keeps each move and its reason.
    """
    reason = _reason(reason, "moved")
    locked = _locked_booked(booking, "moved")
    slot = diary.Slot(room=room, minutes=minutes or locked.minutes, hours_override=hours_override, change_reason=reason)
    appointment = locked.appointment
    if isinstance(appointment, LaserSession | CorrectionSession):
        session = type(appointment).objects.get(pk=appointment.pk)
        session.scheduled_at = starts_at
        if isinstance(session, LaserSession):
            session.technician = person or session.technician
            saved = laser_session_save(
                session=session,
                zones=list(session.zones.all()),
                adverse_events=list(session.adverse_events.all()),
                by=by,
                overrides=overrides,
                slot=slot,
            )
        else:
            session.artist = person or session.artist
            saved = correction_session_save(
                session=session, zones=list(session.zones.all()), by=by, overrides=overrides, slot=slot
            )
        return saved.booking
    followup = lock_for_edit(appointment)
    if followup.status != FollowUpStatus.SCHEDULED:
        raise ValidationError("Only a scheduled follow-up can be moved.")
    due_on = _local_day(starts_at)
    errors = due_date_errors(
        case=followup.case, due_on=due_on, session=followup.laser_session or followup.correction_session
    )
    if errors:
        raise ValidationError({"starts_at": errors})
    followup.due_on = due_on
    followup.full_clean()
    followup.save()
    return diary.follow_up_booked(followup, starts_at=starts_at, person=person or locked.person, slot=slot, by=by)


@transaction.atomic
def cancel(*, booking: Booking, reason: str, by) -> Booking:
    """Cancel a booked appointment, with the reason: the session or follow-up is cancelled
    (a session's plan step is planned again), its slot is free at once and no reminder is
    sent for it."""
    reason = _reason(reason, "cancelled")
    locked = _locked_booked(booking, "cancelled")
    appointment = locked.appointment
    slot = diary.Slot(change_reason=reason)
    if isinstance(appointment, LaserSession | CorrectionSession):
        session = type(appointment).objects.get(pk=appointment.pk)
        session.status = SessionStatus.CANCELLED
        if isinstance(session, LaserSession):
            saved = laser_session_save(
                session=session,
                zones=list(session.zones.all()),
                adverse_events=list(session.adverse_events.all()),
                by=by,
                slot=slot,
            )
        else:
            saved = correction_session_save(session=session, zones=list(session.zones.all()), by=by, slot=slot)
        return saved.booking
    followup = lock_for_edit(appointment)
    followup.status = FollowUpStatus.CANCELLED
    followup.full_clean()
    followup.save()
    return diary.follow_up_booked(followup, starts_at=locked.starts_at, person=locked.person, slot=slot, by=by)
