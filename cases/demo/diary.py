"""The demo clinic's diary: rooms, opening hours, a closure day, and three weeks of bookings.

Runs after the clients' rows are written. The timelines put each scheduled session and
follow-up at a random clinic-hours time, which knows nothing of who else is booked then;
here each appointment of the coming two weeks is given the first quarter hour, at or after
that time, when its person, its laser and a room that suits it are all free, within
opening hours (an appointment on a Sunday, when the demo clinic is closed, moves to the
Monday). The session's or follow-up's date follows its booking. An appointment that
finds no room in its day stays without a booking (a clinic of 100,000 clients has more
appointments than one week of its diary holds). So the bookings never overlap, which a
test checks, and the work is bounded by the size of three weeks' diary, not by the clinic.
Sessions of the past week keep their time (what took place is not moved) and are booked
where their slot is free.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q

from artists.models import Artist
from cases.choices import FollowUpKind, FollowUpStatus, SessionStatus
from cases.demo.clinic import Clinic
from cases.demo.writer import BATCH
from cases.models import (
    Booking,
    BookingKind,
    BookingStatus,
    CalendarFeed,
    Client,
    CorrectionSession,
    FollowUp,
    LaserSession,
)
from smpclinic.models import ClinicSettings, Closure, OpeningHours, Room

# The diary's demo window: the past week (what took place) and the coming two weeks.
DAYS_BACK, DAYS_AHEAD = 7, 14
STEP = datetime.timedelta(minutes=15)
LASER_ROOMS = {"Pico room 1": "Laser room 1", "Pico room 2": "Laser room 2", "Q-switch room": "Laser room 3"}
TREATMENT_ROOMS = ("Treatment room A", "Treatment room B")
CHECK_ROOMS = ("Consultation room", "Treatment room B", "Treatment room A")
ROOMS = (*LASER_ROOMS.values(), *TREATMENT_ROOMS, "Consultation room")
# Monday–Friday 09:00–18:00, Saturday 09:00–17:00, closed on Sundays.
HOURS = {day: (datetime.time(9), datetime.time(18)) for day in range(5)} | {5: (datetime.time(9), datetime.time(17))}
PAST_STATUS = {SessionStatus.COMPLETED: BookingStatus.COMPLETED, SessionStatus.NOT_ATTENDED: BookingStatus.NOT_ATTENDED}
IN_CLINIC_CHECKS = (FollowUpKind.HEALING_CHECK, FollowUpKind.POST_LASER_CHECK, FollowUpKind.TEST_SPOT_RECHECK)


@dataclass
class _Appointment:
    kind: str
    record: LaserSession | CorrectionSession | FollowUp
    at: datetime.datetime
    person_id: int | None
    device_id: int | None
    rooms: tuple[str, ...]


def seed_diary(clinic: Clinic) -> int:
    """Write the diary's rooms, hours and closure and book the coming week; returns the
    number of bookings."""
    rooms = dict(zip(ROOMS, _rooms(), strict=True))
    OpeningHours.objects.bulk_create(
        [OpeningHours(weekday=day, opens=opens, closes=closes) for day, (opens, closes) in HOURS.items()]
    )
    # A staff training day a month ahead, after the booked week.
    Closure.objects.create(day=clinic.today + datetime.timedelta(days=30), reason="Staff training day")
    settings_row = ClinicSettings.load()
    minutes = {
        BookingKind.LASER: settings_row.laser_minutes,
        BookingKind.CORRECTION: settings_row.correction_minutes,
        BookingKind.FOLLOW_UP: settings_row.follow_up_minutes,
    }
    bookings = _book_week(clinic, rooms, minutes)
    _feeds(clinic)
    return bookings


def _rooms() -> list[Room]:
    return Room.objects.bulk_create([Room(name=name, position=index) for index, name in enumerate(ROOMS)])


def _window(clinic: Clinic) -> tuple[datetime.datetime, datetime.datetime]:
    today = datetime.datetime.combine(clinic.today, datetime.time.min, tzinfo=clinic.tz)
    return today - datetime.timedelta(days=DAYS_BACK), today + datetime.timedelta(days=DAYS_AHEAD)


def _appointments(clinic: Clinic) -> list[_Appointment]:
    start, end = _window(clinic)
    device_names = {device.pk: name for name, device in clinic.devices.items()}
    artist_of_user = dict(Artist.objects.filter(user__isnull=False).values_list("user_id", "pk"))
    staff_artists = [artist.pk for artist in clinic.artists.values()]
    found = [
        _Appointment(
            BookingKind.LASER,
            session,
            session.scheduled_at,
            session.technician_id,
            session.device_id,
            (LASER_ROOMS.get(device_names.get(session.device_id, ""), "Laser room 1"),),
        )
        for session in LaserSession.objects.filter(scheduled_at__gte=start, scheduled_at__lt=end).exclude(
            status=SessionStatus.CANCELLED
        )
    ]
    found += [
        _Appointment(BookingKind.CORRECTION, session, session.scheduled_at, session.artist_id, None, TREATMENT_ROOMS)
        for session in CorrectionSession.objects.filter(scheduled_at__gte=start, scheduled_at__lt=end).exclude(
            status=SessionStatus.CANCELLED
        )
    ]
    for index, followup in enumerate(
        FollowUp.objects.filter(
            Q(status=FollowUpStatus.SCHEDULED, kind__in=IN_CLINIC_CHECKS),
            due_on__gte=clinic.today,
            due_on__lt=clinic.today + datetime.timedelta(days=DAYS_AHEAD),
        ).order_by("due_on", "pk")
    ):
        person = artist_of_user.get(followup.assignee_id) or staff_artists[index % len(staff_artists)]
        at = datetime.datetime.combine(
            followup.due_on, datetime.time(9 + index % 8, 15 * (index % 4)), tzinfo=clinic.tz
        )
        found.append(_Appointment(BookingKind.FOLLOW_UP, followup, at, person, None, CHECK_ROOMS))
    found.sort(key=lambda a: (a.at, a.kind, a.record.pk))
    return found


def _open_day(day: datetime.date) -> datetime.date | None:
    if day.weekday() in HOURS:
        return day
    following = day + datetime.timedelta(days=1)
    return following if following.weekday() in HOURS else None


def _book_week(clinic: Clinic, rooms: dict[str, Room], minutes: dict[str, int]) -> int:
    busy: dict[tuple[str, int], list[tuple[datetime.datetime, datetime.datetime]]] = defaultdict(list)

    def free(key, start, end) -> bool:
        return not any(s < end and e > start for s, e in busy[key])

    rows: list[Booking] = []
    moved_laser, moved_correction, moved_checks = [], [], []
    for appointment in _appointments(clinic):
        local = appointment.at.astimezone(clinic.tz)
        # What took place stays at its time (a completed session cannot move into the
        # future); it is booked only where its slot is free.
        fixed = getattr(appointment.record, "status", "") in SessionStatus.happened()
        day = local.date() if fixed else _open_day(local.date())
        if day is None or day.weekday() not in HOURS or appointment.person_id is None:
            continue
        opens, closes = HOURS[day.weekday()]
        start = datetime.datetime.combine(
            day, max(local.time(), opens) if day == local.date() else opens, tzinfo=clinic.tz
        )
        start = start.replace(minute=start.minute - start.minute % 15, second=0, microsecond=0)
        length = datetime.timedelta(minutes=minutes[appointment.kind])
        last = datetime.datetime.combine(day, closes, tzinfo=clinic.tz)
        if fixed:
            start = local
            last = min(start + length, last)
        while start + length <= last:
            end = start + length
            room = next((name for name in appointment.rooms if free(("room", rooms[name].pk), start, end)), None)
            if (
                room is not None
                and free(("person", appointment.person_id), start, end)
                and (appointment.device_id is None or free(("device", appointment.device_id), start, end))
            ):
                break
            start += STEP
        else:
            continue
        busy[("person", appointment.person_id)].append((start, end))
        busy[("room", rooms[room].pk)].append((start, end))
        if appointment.device_id:
            busy[("device", appointment.device_id)].append((start, end))
        record = appointment.record
        link = {BookingKind.LASER: "laser_session", BookingKind.CORRECTION: "correction_session"}.get(
            appointment.kind, "follow_up"
        )
        status = PAST_STATUS.get(getattr(record, "status", ""), BookingStatus.BOOKED)
        rows.append(
            Booking(
                case_id=record.case_id,
                kind=appointment.kind,
                status=status,
                starts_at=start,
                ends_at=end,
                person_id=appointment.person_id,
                room=rooms[room],
                device_id=appointment.device_id,
                **{f"{link}_id": record.pk},
            )
        )
        if isinstance(record, LaserSession):
            record.scheduled_at = start
            moved_laser.append(record)
        elif isinstance(record, CorrectionSession):
            record.scheduled_at = start
            moved_correction.append(record)
        else:
            record.due_on = start.date()
            moved_checks.append(record)
    LaserSession.objects.bulk_update(moved_laser, ["scheduled_at"], batch_size=BATCH)
    CorrectionSession.objects.bulk_update(moved_correction, ["scheduled_at"], batch_size=BATCH)
    FollowUp.objects.bulk_update(moved_checks, ["due_on"], batch_size=BATCH)
    Booking.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


def _feeds(clinic: Clinic) -> None:
    """A calendar feed for the demo client and for each member of staff who is booked."""
    client = Client.objects.filter(user=clinic.client_user).first()
    if client is not None:
        CalendarFeed.objects.create(client=client)
    CalendarFeed.objects.bulk_create([CalendarFeed(person=artist) for artist in clinic.artists.values()])
