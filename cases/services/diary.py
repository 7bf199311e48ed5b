"""The diary's one rule: a person, a room or a laser device is never booked twice at once.

Every write of a booking goes through `place()`, inside the caller's transaction: it
locks the rows of the person, room and device it holds (in that order, so two writers
never wait on each other in a circle), reads the bookings that overlap, and refuses with
the clash named ("Priya Natarajan is booked 10:00–10:45 with another client"). The lock
makes a second writer wait until the first commits, so its read sees the first booking;
on PostgreSQL the exclusion constraints of migration cases 0010 refuse an overlapping
row whatever wrote it, and their IntegrityError is answered with the same message.

A new or moved booking must also fall within the clinic's opening hours and not on a
closure day; a manager may book outside them with a reason, which is kept on the booking.
The diary's free slots (`free_slots`) are found here too, judged by `cases.rules` for the
clinical side, never restated.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from artists.models import Artist
from cases import rules
from cases.choices import FollowUpStatus, SessionStatus
from cases.models import Booking, BookingKind, BookingStatus, CorrectionSession, FollowUp, LaserDevice, LaserSession
from cases.models.sessions import clinic_zone
from smpclinic import roles
from smpclinic.models import ClinicSettings, Closure, OpeningHours, Room

# How far apart the proposed start times are, and how far ahead the search looks.
SLOT_STEP = datetime.timedelta(minutes=15)
SEARCH_DAYS = 120
# The day a clinic that has not set its opening hours is searched over for free slots.
DEFAULT_DAY = (datetime.time(9, 0), datetime.time(17, 0))

SESSION_STATUS_TO_BOOKING = {
    SessionStatus.SCHEDULED: BookingStatus.BOOKED,
    SessionStatus.COMPLETED: BookingStatus.COMPLETED,
    SessionStatus.NOT_ATTENDED: BookingStatus.NOT_ATTENDED,
    SessionStatus.CANCELLED: BookingStatus.CANCELLED,
}
FOLLOW_UP_STATUS_TO_BOOKING = {
    FollowUpStatus.SCHEDULED: BookingStatus.BOOKED,
    FollowUpStatus.COMPLETED: BookingStatus.COMPLETED,
    FollowUpStatus.MISSED: BookingStatus.NOT_ATTENDED,
    FollowUpStatus.CANCELLED: BookingStatus.CANCELLED,
}


@dataclass(frozen=True)
class Slot:
    """What a booking needs beyond the appointment's own fields: the room, how long it takes
    (None: the booking's present length, else the clinic's default for its kind), and a
    manager's reason to book outside opening hours."""

    room: Room | None = None
    minutes: int | None = None
    hours_override: str = ""
    change_reason: str = ""  # why it moved or was cancelled (kept in the booking's history)


def default_minutes(kind: str, clinic: ClinicSettings | None = None) -> int:
    """How long a booking of this kind takes unless said otherwise (Clinic settings)."""
    clinic = clinic or ClinicSettings.cached()
    return {
        BookingKind.LASER: clinic.laser_minutes,
        BookingKind.CORRECTION: clinic.correction_minutes,
        BookingKind.FOLLOW_UP: clinic.follow_up_minutes,
    }[kind]


def _local(moment: datetime.datetime) -> datetime.datetime:
    return timezone.localtime(moment, clinic_zone())


def _span(starts_at: datetime.datetime, ends_at: datetime.datetime) -> str:
    return f"{_local(starts_at):%H:%M}–{_local(ends_at):%H:%M}"


# --- opening hours and closures ----------------------------------------------------------


def opening_hours() -> dict[int, tuple[datetime.time, datetime.time]]:
    """{weekday: (opens, closes)}; empty when the clinic has not set its hours."""
    return {row.weekday: (row.opens, row.closes) for row in OpeningHours.objects.all()}


def hours_problem(starts_at: datetime.datetime, ends_at: datetime.datetime) -> str | None:
    """Why the clinic cannot take a booking at this time (closed that day, or outside its
    hours), or None. A clinic that has set no hours at all refuses no time of day."""
    start, end = _local(starts_at), _local(ends_at)
    closure = Closure.objects.filter(day=start.date()).first()
    if closure is not None:
        return f"The clinic is closed on {start:%A %-d %b %Y} ({closure.reason})."
    hours = opening_hours()
    if not hours:
        return None
    day = hours.get(start.weekday())
    if day is None:
        return f"The clinic is closed on {start:%A}s."
    opens, closes = day
    if start.time() < opens or end.date() != start.date() or end.time() > closes:
        return (
            f"The clinic is open {opens:%H:%M}–{closes:%H:%M} on {start:%A}s: "
            f"{_span(starts_at, ends_at)} is outside those hours."
        )
    return None


# --- clashes -----------------------------------------------------------------------------


def _lock_resources(booking: Booking) -> None:
    """Lock the rows of what the booking holds, always person → room → device, so two
    bookings of the same resource are written one after the other."""
    Artist.objects.select_for_update().filter(pk=booking.person_id).values_list("pk", flat=True).first()
    if booking.room_id:
        Room.objects.select_for_update().filter(pk=booking.room_id).values_list("pk", flat=True).first()
    if booking.device_id:
        LaserDevice.objects.select_for_update().filter(pk=booking.device_id).values_list("pk", flat=True).first()


def clashes(booking: Booking) -> list[str]:
    """The bookings in the way of this one, each in a sentence naming the person, room or
    device and its time ("Room 2 is booked 10:00–10:45 with another client")."""
    held = Q(person_id=booking.person_id)
    if booking.room_id:
        held |= Q(room_id=booking.room_id)
    if booking.device_id:
        held |= Q(device_id=booking.device_id)
    others = (
        Booking.objects.holding()
        .overlapping(booking.starts_at, booking.ends_at)
        .filter(held)
        .exclude(pk=booking.pk)
        .select_related("person", "room", "device", "case")
        .order_by("starts_at", "pk")
    )
    messages = []
    for other in others:
        whom = "this client" if other.case.client_id == booking.case.client_id else "another client"
        day = _local(other.starts_at).date()
        on = "" if day == _local(booking.starts_at).date() else f" on {day:%-d %b}"
        span = f"{_span(other.starts_at, other.ends_at)}{on}"
        if other.person_id == booking.person_id:
            messages.append(f"{other.person} is booked {span} with {whom}.")
        if booking.room_id and other.room_id == booking.room_id:
            messages.append(f"{other.room} is booked {span} with {whom}.")
        if booking.device_id and other.device_id == booking.device_id:
            messages.append(f"The laser {other.device} is booked {span} with {whom}.")
    return messages


def _moved(booking: Booking) -> bool:
    """Whether this save makes a new slot: a new booking, or a change of time, person,
    room or device, or a freed booking taken up again."""
    if booking.pk is None:
        return True
    stored = Booking.objects.filter(pk=booking.pk).values(
        "starts_at", "ends_at", "person_id", "room_id", "device_id", "status"
    )[0]
    return (
        any(stored[f] != getattr(booking, f) for f in ("starts_at", "ends_at", "person_id", "room_id", "device_id"))
        or stored["status"] not in BookingStatus.holding()
    )


def place(booking: Booking, *, by, hours_override: str = "") -> Booking:
    """Save a booking that holds its slot only if nothing overlaps it; called inside the
    service transaction that writes its appointment.

    A new or moved booking in the future must fall within opening hours and not on a
    closure day, unless a manager gives `hours_override` (a reason, kept on the booking).
    Freed bookings (cancelled, not attended) are saved as they are.
    """
    if booking.ends_at <= booking.starts_at:
        raise ValidationError("A booking ends after it starts: give it a length of at least a minute.")
    if not booking.holds_slot:
        booking.save()
        return booking
    _lock_resources(booking)
    moved = _moved(booking)
    if moved and booking.status == BookingStatus.BOOKED and booking.starts_at > timezone.now():
        problem = hours_problem(booking.starts_at, booking.ends_at)
        reason = (hours_override or "").strip()
        if problem and not reason:
            if roles.may(by, roles.OVERRIDE_RULES):
                raise ValidationError(f"{problem} Give a reason to book it outside opening hours.", code="hours")
            raise ValidationError(f"{problem} A manager may book it anyway, with a reason.", code="hours")
        if problem:
            if not roles.may(by, roles.OVERRIDE_RULES):
                raise ValidationError(f"{problem} Only a manager may book outside opening hours.", code="hours")
            booking.hours_override_reason = reason[:500]
            booking.hours_overridden_by = by
    if moved:
        found = clashes(booking)
        if found:
            raise ValidationError(found, code="clash")
    try:
        with transaction.atomic():
            booking.save()
    except IntegrityError as error:
        # PostgreSQL's exclusion constraint: a booking written past the lock (by SQL, or
        # a writer that did not lock) is in the way. Say which one, as above.
        if "no_overlap" not in str(error):
            raise
        raise ValidationError(
            clashes(booking) or ["This time overlaps another booking of the same person, room or laser."],
            code="clash",
        ) from error
    return booking


# --- bookings of sessions and follow-ups ---------------------------------------------------


def _link(appointment) -> tuple[str, str]:
    if isinstance(appointment, LaserSession):
        return "laser_session", BookingKind.LASER
    if isinstance(appointment, CorrectionSession):
        return "correction_session", BookingKind.CORRECTION
    return "follow_up", BookingKind.FOLLOW_UP


def booking_of(appointment) -> Booking | None:
    """The appointment's booking, locked, or None (sessions recorded before the diary)."""
    link, _kind = _link(appointment)
    if appointment.pk is None:
        return None
    return Booking.objects.select_for_update().filter(**{link: appointment}).first()


def session_booked(
    session: LaserSession | CorrectionSession, *, slot: Slot | None, by, new: bool = True
) -> Booking | None:
    """Keep the session's booking in step with the session just saved (same transaction):
    its time, person (technician or artist), laser device and status; `slot` sets the room,
    length and an opening-hours override. A session without a booking gets one, with the
    clinic's default length for its kind (or a correction session's recorded duration) —
    except a past session recorded before the diary existed (`new` false), whose notes
    may still be edited: it stays out of the diary (None), whatever room and length its
    form shows."""
    link, kind = _link(session)
    booking = booking_of(session)
    if booking is None and not new and session.scheduled_at < timezone.now():
        return None
    slot = slot or Slot()
    booking = booking or Booking(case=session.case, kind=kind, **{link: session})
    if slot.minutes:
        minutes = slot.minutes
    elif booking.pk is not None:
        minutes = booking.minutes
    else:
        minutes = getattr(session, "duration_minutes", None) or default_minutes(kind)
    booking.starts_at = session.scheduled_at
    booking.ends_at = session.scheduled_at + datetime.timedelta(minutes=minutes)
    booking.person = session.technician if isinstance(session, LaserSession) else session.artist
    booking.device = session.device if isinstance(session, LaserSession) else None
    if slot.room is not None:
        booking.room = slot.room
    booking.status = SESSION_STATUS_TO_BOOKING[session.status]
    if slot.change_reason:
        booking.change_reason = slot.change_reason[:500]
    return place(booking, by=by, hours_override=slot.hours_override)


def follow_up_booked(
    followup: FollowUp, *, starts_at: datetime.datetime, person: Artist, slot: Slot | None, by
) -> Booking:
    """Book an in-clinic follow-up at a time (its due date is that day)."""
    slot = slot or Slot()
    booking = booking_of(followup) or Booking(case=followup.case, kind=BookingKind.FOLLOW_UP, follow_up=followup)
    minutes = slot.minutes or (booking.minutes if booking.pk else default_minutes(BookingKind.FOLLOW_UP))
    booking.starts_at = starts_at
    booking.ends_at = starts_at + datetime.timedelta(minutes=minutes)
    booking.person = person
    if slot.room is not None:
        booking.room = slot.room
    booking.status = FOLLOW_UP_STATUS_TO_BOOKING[followup.status]
    if slot.change_reason:
        booking.change_reason = slot.change_reason[:500]
    return place(booking, by=by, hours_override=slot.hours_override)


def follow_up_status_followed(followup: FollowUp) -> None:
    """A follow-up completed, missed or cancelled frees or keeps its booking accordingly."""
    Booking.objects.filter(follow_up=followup).update(status=FOLLOW_UP_STATUS_TO_BOOKING[followup.status])


# --- finding free slots -------------------------------------------------------------------


@dataclass(frozen=True)
class FreeSlot:
    starts_at: datetime.datetime
    ends_at: datetime.datetime

    @property
    def local(self) -> datetime.datetime:
        return _local(self.starts_at)


def _day_bounds(day: datetime.date, hours: dict, zone) -> tuple[datetime.datetime, datetime.datetime] | None:
    if hours:
        if day.weekday() not in hours:
            return None
        opens, closes = hours[day.weekday()]
    else:
        opens, closes = DEFAULT_DAY
    return (
        datetime.datetime.combine(day, opens, tzinfo=zone),
        datetime.datetime.combine(day, closes, tzinfo=zone),
    )


def free_slots(
    *,
    case,
    kind: str,
    person: Artist,
    minutes: int,
    after: datetime.datetime,
    room: Room | None = None,
    device: LaserDevice | None = None,
    zones: Iterable = (),
    correction_kind: str = "",
    count: int = 5,
    days: int = SEARCH_DAYS,
) -> list[FreeSlot]:
    """The first `count` start times from `after` when the person, room and device are all
    free for `minutes`, within opening hours and not on a closure day, and on a day the
    clinical rules (`cases.rules`: the minimum interval since a zone's last laser or saline
    session, the client's contraindications, the technician's certification) do not refuse.

    The bookings of the search window are read once; the rules are judged once per day that
    has a free time (they hold for a whole day), so a day they refuse is skipped at once.
    """
    zone = clinic_zone()
    step_minutes = int(SLOT_STEP.total_seconds() // 60)
    after = max(after, timezone.now())
    # Start on the next quarter hour.
    local_after = _local(after)
    rounded = local_after.replace(second=0, microsecond=0)
    rounded += datetime.timedelta(minutes=(-rounded.minute) % step_minutes)
    first_day = rounded.date()
    last_day = first_day + datetime.timedelta(days=days)
    window_end = datetime.datetime.combine(last_day + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    held = Q(person=person)
    if room is not None:
        held |= Q(room=room)
    if device is not None:
        held |= Q(device=device)
    busy = list(
        Booking.objects.holding()
        .overlapping(rounded, window_end)
        .filter(held)
        .order_by("starts_at")
        .values_list("starts_at", "ends_at")
    )
    hours = opening_hours()
    closed = set(Closure.objects.filter(day__gte=first_day, day__lte=last_day).values_list("day", flat=True))
    length = datetime.timedelta(minutes=minutes)
    clinic = ClinicSettings.load()
    found: list[FreeSlot] = []
    day = first_day
    while day <= last_day and len(found) < count:
        bounds = None if day in closed else _day_bounds(day, hours, zone)
        if bounds is not None:
            start, closes = bounds
            start = max(start, rounded)
            day_ok: bool | None = None
            while start + length <= closes and len(found) < count:
                end = start + length
                if not any(b_start < end and b_end > start for b_start, b_end in busy):
                    if day_ok is None:
                        day_ok = _rules_allow(case, kind, start, person, zones, correction_kind, clinic)
                    if not day_ok:
                        break
                    found.append(FreeSlot(start, end))
                start += SLOT_STEP
        day += datetime.timedelta(days=1)
    return found


def _rules_allow(case, kind, starts_at, person, zones, correction_kind, clinic) -> bool:
    """Whether the clinical rules let this appointment be booked at all on its day: no
    finding that would refuse the save. A finding an override could lift counts as refusing,
    so a proposed slot needs none; warnings do not."""
    if kind == BookingKind.LASER:
        found = rules.laser_session_findings(
            case=case,
            scheduled_at=starts_at,
            status=SessionStatus.SCHEDULED,
            technician=person,
            wavelength_nm=None,
            zones=zones,
            clinic=clinic,
        )
    elif kind == BookingKind.CORRECTION:
        found = rules.correction_session_findings(
            case=case,
            kind=correction_kind,
            scheduled_at=starts_at,
            status=SessionStatus.SCHEDULED,
            zones=zones,
            clinic=clinic,
        )
    else:
        found = []
    return not any(f.blocks for f in found)


def free_upcoming(bookings, *, reason: str) -> int:
    """Cancel the still-booked, upcoming bookings among `bookings` (a queryset): their
    appointment, case or client was archived, so nobody is coming and the slot is free.
    One save each, so the booking's history says why. Returns how many were freed."""
    freed = 0
    for booking in bookings.select_for_update().filter(status=BookingStatus.BOOKED, starts_at__gte=timezone.now()):
        booking.status = BookingStatus.CANCELLED
        booking.change_reason = reason[:500]
        booking.save(update_fields=["status", "change_reason", "updated_at"])
        freed += 1
    return freed
