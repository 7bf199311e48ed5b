"""The diary's rule: a person, a room or a laser device is never booked twice at once.

On both databases the booking service refuses an overlap under a lock, naming the
clash; on PostgreSQL the exclusion constraints refuse an overlapping row whatever wrote
it. Opening hours and closures refuse a time, unless a manager gives a reason. Moving
and cancelling keep the reason in the booking's history and free the old slot.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cases.choices import CorrectionKind, FollowUpKind, FollowUpStatus, SessionStatus, Zone
from cases.models import Booking, BookingKind, BookingStatus, CorrectionSession, FollowUp, LaserSession, ZoneLookup
from cases.services import bookings, diary
from smpclinic.models import Closure, OpeningHours, Room
from tests import factories
from tests.helpers import frozen_at
from tests.threads import race

NOW = datetime.datetime(2026, 11, 23, 8, 0, tzinfo=datetime.UTC)  # a Monday, 08:00 in London
LONDON = datetime.UTC  # London is on GMT in November

frozen_clock = frozen_at(NOW)


def at(days: int, hour: int, minute: int = 0) -> datetime.datetime:
    """A local time `days` after today (London is on GMT in November)."""
    day = NOW.date() + datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=LONDON)


def zones() -> list[ZoneLookup]:
    return list(ZoneLookup.objects.filter(code=Zone.FRONTAL_HAIRLINE))


@pytest.fixture
def case(db):
    case = factories.CaseFactory()
    factories.ConsentFactory(client=case.client)
    return case


@pytest.fixture
def other_case(db):
    case = factories.CaseFactory()
    factories.ConsentFactory(client=case.client)
    return case


@pytest.fixture
def priya(db):
    return factories.TechnicianFactory(first_name="Priya", last_name="Natarajan")


@pytest.fixture
def room(db):
    return Room.objects.create(name="Room 2")


@pytest.fixture
def device(db):
    return factories.LaserDeviceFactory(name="Pico 1")


def book_laser(case, person, by, *, starts_at, room=None, device=None, minutes=None, **extra) -> Booking:
    return bookings.book(
        case=case,
        kind=BookingKind.LASER,
        starts_at=starts_at,
        person=person,
        room=room,
        device=device,
        minutes=minutes,
        zones=zones(),
        by=by,
        **extra,
    )


def refusal(call) -> str:
    with pytest.raises(ValidationError) as caught:
        call()
    return " ".join(caught.value.messages)


# --- no double booking ---------------------------------------------------------------------------


def test_a_laser_booking_takes_the_clinic_default_length_and_makes_a_scheduled_session(case, priya, staff_user):
    booking = book_laser(case, priya, staff_user, starts_at=at(1, 10))
    assert booking.kind == BookingKind.LASER and booking.status == BookingStatus.BOOKED
    assert booking.minutes == 45
    assert booking.laser_session.status == SessionStatus.SCHEDULED
    assert booking.laser_session.scheduled_at == booking.starts_at


def test_the_same_person_at_an_overlapping_time_is_refused_with_the_clash_named(case, other_case, priya, staff_user):
    book_laser(case, priya, staff_user, starts_at=at(1, 10))
    message = refusal(lambda: book_laser(other_case, priya, staff_user, starts_at=at(1, 10, 30)))
    assert message == "Priya Natarajan is booked 10:00–10:45 with another client."
    assert LaserSession.objects.filter(case=other_case).count() == 0
    assert Booking.objects.count() == 1


def test_the_same_room_or_device_is_refused_too(case, other_case, priya, room, device, staff_user):
    book_laser(case, priya, staff_user, starts_at=at(1, 10), room=room, device=device)
    colleague = factories.TechnicianFactory(first_name="Sam", last_name="Okafor")
    message = refusal(
        lambda: book_laser(other_case, colleague, staff_user, starts_at=at(1, 10, 15), room=room, device=device)
    )
    assert "Room 2 is booked 10:00–10:45 with another client." in message
    assert "The laser Pico 1 is booked 10:00–10:45 with another client." in message
    assert "Priya" not in message


def test_back_to_back_bookings_do_not_overlap(case, other_case, priya, room, staff_user):
    book_laser(case, priya, staff_user, starts_at=at(1, 10), room=room)
    second = book_laser(other_case, priya, staff_user, starts_at=at(1, 10, 45), room=room)
    assert second.starts_at == at(1, 10, 45)


def test_a_cancelled_booking_frees_its_slot_and_keeps_the_reason(case, other_case, priya, staff_user):
    first = book_laser(case, priya, staff_user, starts_at=at(1, 10))
    assert "Say why" in refusal(lambda: bookings.cancel(booking=first, reason="  ", by=staff_user))
    bookings.cancel(booking=first, reason="Client has a cold", by=staff_user)
    first.refresh_from_db()
    assert first.status == BookingStatus.CANCELLED and first.change_reason == "Client has a cold"
    assert first.laser_session.status == SessionStatus.CANCELLED
    assert book_laser(other_case, priya, staff_user, starts_at=at(1, 10)).status == BookingStatus.BOOKED


def test_a_session_saved_through_its_own_form_is_checked_too(case, other_case, priya, staff_user):
    """The session pages book through the same service: the double booking a new user made
    through the laser session form is refused there too."""
    from cases.services.sessions import laser_session_save

    book_laser(case, priya, staff_user, starts_at=at(1, 10))
    session = LaserSession(case=other_case, technician=priya, scheduled_at=at(1, 10), status=SessionStatus.SCHEDULED)
    message = refusal(lambda: laser_session_save(session=session, zones=zones(), by=staff_user))
    assert "Priya Natarajan is booked 10:00–10:45 with another client." in message


def test_a_session_cancelled_on_its_form_frees_the_slot(case, other_case, priya, staff_user):
    from cases.services.sessions import laser_session_save

    booking = book_laser(case, priya, staff_user, starts_at=at(1, 10))
    session = LaserSession.objects.get(pk=booking.laser_session_id)
    session.status = SessionStatus.CANCELLED
    laser_session_save(session=session, zones=zones(), by=staff_user)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    book_laser(other_case, priya, staff_user, starts_at=at(1, 10, 15))


def test_overlapping_rows_on_the_database(case, other_case, priya, staff_user):
    """PostgreSQL refuses the second row itself (exclusion constraint); SQLite has no such
    constraint, so there the service's check is what refuses it, and it names the clash."""
    first = book_laser(case, priya, staff_user, starts_at=at(1, 10))
    session = factories.LaserSessionFactory(case=other_case, technician=priya, status=SessionStatus.SCHEDULED)
    row = Booking(
        case=other_case,
        kind=BookingKind.LASER,
        laser_session=session,
        person=priya,
        starts_at=at(1, 10, 30),
        ends_at=at(1, 11, 30),
    )
    if connection.vendor == "postgresql":
        with pytest.raises(IntegrityError, match="booking_person_no_overlap"), transaction.atomic():
            row.save()
        # A cancelled row may overlap: it holds no slot.
        row.status = BookingStatus.CANCELLED
        row.save()
        assert Booking.objects.holding().get() == first
    else:
        row.save()  # nothing in SQLite itself refuses it
        assert diary.clashes(row) == ["Priya Natarajan is booked 10:00–10:45 with another client."]


@pytest.mark.django_db(transaction=True)
def test_two_bookings_of_the_same_slot_at_once_exactly_one_wins():
    """Two people book the same technician at the same minute, in parallel: one booking is
    made, the other is refused with the clash named (on PostgreSQL a real race)."""
    from django.contrib.auth.models import Group

    from smpclinic import roles

    roles.sync_groups()
    assert Group.objects.filter(name=roles.STAFF).exists()
    staff = factories.StaffUserFactory()
    priya = factories.TechnicianFactory(first_name="Priya", last_name="Natarajan")
    cases = [factories.CaseFactory() for _ in range(2)]
    for each in cases:
        factories.ConsentFactory(client=each.client)
    starts_at = timezone.now() + datetime.timedelta(days=2)

    results, errors = race(*(lambda c=c: book_laser(c, priya, staff, starts_at=starts_at) for c in cases))

    assert len(results) == 1, errors
    assert len(errors) == 1 and isinstance(errors[0], ValidationError)
    assert "Priya Natarajan is booked" in " ".join(errors[0].messages)
    assert Booking.objects.holding().count() == 1
    assert LaserSession.objects.count() == 1


# --- opening hours and closures -------------------------------------------------------------------


@pytest.fixture
def hours(db):
    for weekday in range(5):
        OpeningHours.objects.create(weekday=weekday, opens=datetime.time(9), closes=datetime.time(18))


def test_outside_opening_hours_is_refused_and_a_manager_may_override_with_a_reason(
    hours, case, priya, staff_user, manager_user
):
    message = refusal(lambda: book_laser(case, priya, staff_user, starts_at=at(1, 17, 30)))
    assert "The clinic is open 09:00–18:00 on Tuesdays: 17:30–18:15 is outside those hours." in message
    assert "A manager may book it anyway" in message
    assert "Only a manager" in refusal(
        lambda: book_laser(case, priya, staff_user, starts_at=at(1, 17, 30), hours_override="Client's only slot")
    )
    booking = book_laser(case, priya, manager_user, starts_at=at(1, 17, 30), hours_override="Client's only slot")
    assert booking.hours_override_reason == "Client's only slot" and booking.hours_overridden_by == manager_user


def test_a_closed_weekday_and_a_closure_day_are_refused(hours, case, priya, staff_user):
    saturday = at(5, 10)
    message = refusal(lambda: book_laser(case, priya, staff_user, starts_at=saturday))
    assert "The clinic is closed on Saturdays." in message
    Closure.objects.create(day=at(2, 10).date(), reason="Staff training")
    message = refusal(lambda: book_laser(case, priya, staff_user, starts_at=at(2, 10)))
    assert "The clinic is closed on Wednesday 25 Nov 2026 (Staff training)." in message
    assert book_laser(case, priya, staff_user, starts_at=at(1, 10)).status == BookingStatus.BOOKED


# --- moving, and other kinds ----------------------------------------------------------------------


def test_a_move_keeps_the_reason_in_history_and_the_session_follows(case, other_case, priya, staff_user):
    booking = book_laser(case, priya, staff_user, starts_at=at(1, 10))
    bookings.reschedule(booking=booking, starts_at=at(2, 14), reason="Client asked for the afternoon", by=staff_user)
    booking.refresh_from_db()
    assert booking.starts_at == at(2, 14) and booking.minutes == 45
    assert booking.laser_session.scheduled_at == at(2, 14)
    assert [h.change_reason for h in booking.history.order_by("history_id")] == [
        "",
        "Client asked for the afternoon",
    ]
    # The old slot is free again.
    book_laser(other_case, priya, staff_user, starts_at=at(1, 10))


def test_a_move_onto_a_taken_slot_is_refused_and_nothing_changes(case, other_case, priya, staff_user):
    first = book_laser(case, priya, staff_user, starts_at=at(1, 10))
    second = book_laser(other_case, priya, staff_user, starts_at=at(1, 11))
    message = refusal(lambda: bookings.reschedule(booking=second, starts_at=at(1, 10, 30), reason="x", by=staff_user))
    assert "Priya Natarajan is booked 10:00–10:45 with another client." in message
    second.refresh_from_db()
    assert second.starts_at == at(1, 11) and second.laser_session.scheduled_at == at(1, 11)
    assert first.starts_at == at(1, 10)


def test_a_correction_session_and_a_follow_up_hold_the_person_too(case, other_case, staff_user):
    artist = factories.ArtistFactory(first_name="Jo", last_name="Reyes")
    correction = bookings.book(
        case=case,
        kind=BookingKind.CORRECTION,
        correction_kind=CorrectionKind.SMP_CORRECTION,
        starts_at=at(1, 9),
        person=artist,
        zones=zones(),
        by=staff_user,
    )
    assert correction.minutes == 120
    assert CorrectionSession.objects.get().duration_minutes is None
    message = refusal(
        lambda: bookings.book(
            case=other_case,
            kind=BookingKind.FOLLOW_UP,
            follow_up_kind=FollowUpKind.HEALING_CHECK,
            starts_at=at(1, 10, 45),
            person=artist,
            by=staff_user,
        )
    )
    assert message == "Jo Reyes is booked 09:00–11:00 with another client."
    check = bookings.book(
        case=other_case,
        kind=BookingKind.FOLLOW_UP,
        follow_up_kind=FollowUpKind.HEALING_CHECK,
        starts_at=at(1, 11),
        person=artist,
        by=staff_user,
    )
    assert check.minutes == 15 and check.follow_up.due_on == at(1, 11).date()
    bookings.cancel(booking=check, reason="Healed well, phone call instead", by=staff_user)
    assert FollowUp.objects.get().status == FollowUpStatus.CANCELLED


# --- free slots -----------------------------------------------------------------------------------


def test_free_slots_skip_taken_times_and_closed_days(hours, case, other_case, priya, room, staff_user):
    book_laser(other_case, priya, staff_user, starts_at=at(1, 9))
    Closure.objects.create(day=at(2, 0).date(), reason="Bank holiday")
    found = diary.free_slots(
        case=case, kind=BookingKind.LASER, person=priya, minutes=45, after=at(1, 0), room=room, zones=zones(), count=3
    )
    assert [slot.starts_at for slot in found] == [at(1, 9, 45), at(1, 10), at(1, 10, 15)]
    late = diary.free_slots(
        case=case, kind=BookingKind.LASER, person=priya, minutes=45, after=at(1, 17, 20), zones=zones(), count=1
    )
    assert [slot.starts_at for slot in late] == [at(3, 9)]  # not after 17:15 on day 1; day 2 closed


def test_free_slots_respect_the_laser_interval_on_the_zone(case, priya, staff_user):
    """A zone treated by laser 2 weeks ago: the first slot proposed is 6 weeks after it."""
    factories.LaserSessionFactory(case=case, technician=priya, scheduled_at=at(-14, 10), status=SessionStatus.COMPLETED)
    found = diary.free_slots(
        case=case, kind=BookingKind.LASER, person=priya, minutes=45, after=at(0, 9), zones=zones(), count=1
    )
    assert [slot.starts_at for slot in found] == [at(28, 9)]


def test_a_past_session_from_before_the_diary_is_edited_without_joining_it(case, priya, staff_user):
    """Records made before the diary existed may overlap (nobody checked): editing one's
    notes must not be refused, so a past session without a booking stays out of the diary."""
    from cases.services.sessions import laser_session_save

    first, second = (
        factories.LaserSessionFactory(case=case, technician=priya, scheduled_at=at(-30, 10)) for _ in range(2)
    )
    for session in (first, second):
        session.internal_notes = "Reviewed"
        saved = laser_session_save(session=session, zones=zones(), adverse_events=[], by=staff_user)
        assert saved.booking is None
    assert not Booking.objects.exists()
