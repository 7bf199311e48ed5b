"""The diary's pages: the day in columns, a week, booking (with free slots and from a
plan step), moving and cancelling; the portal's calendar files and the private feeds,
read back with the icalendar library; the day's query count at two data sizes."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from cases.choices import CorrectionKind, FollowUpKind, PlanStepKind, SessionStatus, Zone
from cases.models import Booking, BookingKind, BookingStatus, CalendarFeed, LaserSession, ZoneLookup
from cases.services import bookings
from smpclinic.models import ClinicSettings, OpeningHours, Room
from tests import factories
from tests.helpers import assert_queries_hold, frozen_at, messages_of, sql_of_get

NOW = datetime.datetime(2026, 11, 23, 10, 5, tzinfo=datetime.UTC)  # Monday 10:05 in London (GMT)
DIARY = reverse("cases:diary")
WEEK = reverse("cases:diary_week")

frozen_clock = frozen_at(NOW)


def at(days: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(
        NOW.date() + datetime.timedelta(days=days), datetime.time(hour, minute), tzinfo=datetime.UTC
    )


def zones() -> list[ZoneLookup]:
    return list(ZoneLookup.objects.filter(code=Zone.FRONTAL_HAIRLINE))


@pytest.fixture
def case(db):
    case = factories.CaseFactory(client__first_name="Amara", client__last_name="Osei")
    factories.ConsentFactory(client=case.client)
    return case


@pytest.fixture
def priya(db):
    return factories.TechnicianFactory(first_name="Priya", last_name="Natarajan")


@pytest.fixture
def room(db):
    return Room.objects.create(name="Laser room 1")


def book(case, person, by, *, starts_at, room=None, **extra) -> Booking:
    return bookings.book(
        case=case, kind=BookingKind.LASER, starts_at=starts_at, person=person, room=room, zones=zones(), by=by, **extra
    )


# --- the day and the week -----------------------------------------------------------------------


def test_the_day_shows_each_booking_in_its_room_with_a_link_to_its_case(as_staff, staff_user, case, priya, room):
    book(case, priya, staff_user, starts_at=at(0, 10), room=room)
    response = as_staff.get(DIARY)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Laser room 1" in html and "No room" in html
    assert reverse("cases:case_detail", args=[case.public_id]) in html
    assert "Amara Osei" in html and "10:00</time>–10:45" in html
    assert 'rowspan="3"' in html  # 45 minutes, three quarter-hour rows
    assert 'class="diary-now" aria-current="time"' in html  # today's line, at 10:00
    assert "js/diary.js" in html


def test_the_day_box_names_the_day_shown(as_staff):
    """Opened without a day the diary shows today, and its date box says so; a day asked
    for in the address is the one in the box."""
    today = timezone.localdate()
    page = as_staff.get(DIARY).content.decode()
    assert f'name="day" value="{today.isoformat()}"' in page
    other = today + datetime.timedelta(days=3)
    page = as_staff.get(DIARY, {"day": other.isoformat(), "by": "person"}).content.decode()
    assert f'name="day" value="{other.isoformat()}"' in page


def test_the_day_by_person_and_filtered_by_kind(as_staff, staff_user, case, priya, room):
    book(case, priya, staff_user, starts_at=at(0, 11), room=room)
    by_person = as_staff.get(DIARY, {"by": "person"}).content.decode()
    assert "Priya Natarajan</a></th>" in by_person and "Laser room 1" in by_person
    only_follow_ups = as_staff.get(DIARY, {"kind": BookingKind.FOLLOW_UP}).content.decode()
    assert "Amara Osei" not in only_follow_ups


def test_the_day_links_keep_the_filters_and_add_nothing_without_them(as_staff):
    plain = as_staff.get(reverse("cases:diary")).content.decode()
    assert 'href="?day=2026-11-22" data-diary-previous' in plain
    assert 'href="?day=2026-11-24" data-diary-next' in plain
    filtered = as_staff.get(reverse("cases:diary"), {"day": "2026-11-25", "by": "person"}).content.decode()
    assert 'href="?day=2026-11-24&amp;by=person" data-diary-previous' in filtered
    assert 'href="?day=2026-11-23&amp;by=person" data-diary-today' in filtered


def test_a_cancelled_booking_leaves_the_diary(as_staff, staff_user, case, priya):
    booking = book(case, priya, staff_user, starts_at=at(0, 11))
    bookings.cancel(booking=booking, reason="Client unwell", by=staff_user)
    assert "Amara Osei" not in as_staff.get(DIARY).content.decode()


def test_the_week_of_one_person(as_staff, staff_user, case, priya):
    book(case, priya, staff_user, starts_at=at(2, 14))
    html = as_staff.get(WEEK, {"person": priya.public_id}).content.decode()
    assert "Week of 23 November 2026 · Priya Natarajan" in html
    assert "Amara Osei" in html and "14:00" in html


def _fill(count: int, people, rooms_) -> None:
    """`count` more bookings today and as many in past years (history the day must not read),
    after those already made: never two of a person or room at once."""
    first = Booking.objects.count() // 2
    for n in range(first, first + count):
        person, room = people[n % len(people)], rooms_[n % len(rooms_)]
        for when in (at(0, 9) + datetime.timedelta(minutes=50 * (n // len(people))), at(-400 - n, 9)):
            session = factories.LaserSessionFactory(
                technician=person, scheduled_at=when, status=SessionStatus.SCHEDULED
            )
            Booking.objects.create(
                case=session.case,
                kind=BookingKind.LASER,
                laser_session=session,
                starts_at=when,
                ends_at=when + datetime.timedelta(minutes=45),
                person=person,
                room=room,
                device=session.device,
            )


@pytest.mark.parametrize("by", ["room", "person"])
def test_the_day_costs_the_same_queries_at_two_sizes(as_staff, db, by):
    people = [factories.ArtistFactory() for _ in range(3)]
    rooms_ = [Room.objects.create(name=f"Room {n}") for n in range(3)]
    _fill(3, people, rooms_)
    small = sql_of_get(as_staff, DIARY, {"by": by})
    _fill(9, people, rooms_)
    large = sql_of_get(as_staff, DIARY, {"by": by})
    assert_queries_hold(small, large, at_most=14)


def test_the_week_costs_the_same_queries_at_two_sizes(as_staff, db):
    people = [factories.ArtistFactory()]
    rooms_ = [Room.objects.create(name="Room 1")]
    _fill(2, people, rooms_)
    small = sql_of_get(as_staff, WEEK, {"person": people[0].public_id})
    _fill(6, people, rooms_)
    large = sql_of_get(as_staff, WEEK, {"person": people[0].public_id})
    assert_queries_hold(small, large, at_most=14)


# --- booking, moving, cancelling through the pages ------------------------------------------------


def _booking_post(case, person, starts_at: str, **extra) -> dict:
    return {
        "what": "laser",
        "starts_at": starts_at,
        "person": str(person.public_id),
        "zones": [str(z.pk) for z in zones()],
        **extra,
    }


def test_booking_through_the_page_and_the_double_booking_refused_with_the_clash_named(
    as_staff, staff_user, case, priya, room
):
    url = reverse("cases:booking_create", args=[case.public_id])
    response = as_staff.post(url, _booking_post(case, priya, "2026-11-24T10:00", room=str(room.public_id)))
    assert response.status_code == 302
    assert "Laser session booked on Tue 24 Nov at 10:00–10:45 with Priya Natarajan in Laser room 1." in (
        messages_of(response)
    )
    other = factories.CaseFactory()
    factories.ConsentFactory(client=other.client)
    url = reverse("cases:booking_create", args=[other.public_id])
    other_room = Room.objects.create(name="Laser room 2")  # the person clashes, not the room
    refused = as_staff.post(url, _booking_post(other, priya, "2026-11-24T10:30", room=str(other_room.public_id)))
    assert refused.status_code == 200
    assert "Priya Natarajan is booked 10:00–10:45 with another client." in refused.content.decode()
    assert LaserSession.objects.count() == 1 and Booking.objects.count() == 1


def test_an_appointment_without_a_room_is_refused_when_the_clinic_has_rooms(as_staff, case, priya, room):
    url = reverse("cases:booking_create", args=[case.public_id])
    response = as_staff.post(url, _booking_post(case, priya, "2026-11-24T10:00"))
    assert response.status_code == 200
    assert "Choose the room: the appointment holds one in the diary." in response.content.decode()
    assert not Booking.objects.exists() and not LaserSession.objects.exists()


def test_a_form_error_keeps_what_was_typed(as_staff, case, priya):
    url = reverse("cases:booking_create", args=[case.public_id])
    response = as_staff.post(url, {**_booking_post(case, priya, "2026-11-24T10:00"), "zones": [], "minutes": "3"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Choose at least one scalp zone." in html
    assert "Ensure this value is greater than or equal to 5." in html
    assert 'value="2026-11-24T10:00"' in html


def test_book_this_step_prefills_the_form_and_proposes_free_slots(as_staff, staff_user, case, priya):
    case.lead_artist = priya
    case.save()
    plan = factories.AcceptedPlanFactory(case=case)
    step = factories.PlanStepFactory(
        plan=plan, order=1, kind=PlanStepKind.LASER_SESSION, target_date=NOW.date() + datetime.timedelta(days=2)
    )
    step.zones.set(zones())
    response = as_staff.get(reverse("cases:booking_create", args=[case.public_id]), {"step": step.public_id})
    html = response.content.decode()
    assert response.status_code == 200
    assert "plan step 1: Laser session" in html
    slots = response.context["slots"]
    assert slots and slots[0].starts_at == at(2, 9)  # the target date, the day's first quarter hour
    assert f'name="plan_step" value="{step.public_id}"' in html
    plan_page = as_staff.get(reverse("cases:plan_detail", args=[plan.public_id])).content.decode()
    assert f"?step={step.public_id}" in plan_page and "Book this step" in plan_page
    # Once booked, the plan says when, and offers no second booking of the same step.
    booked = as_staff.post(
        reverse("cases:booking_create", args=[case.public_id]),
        _booking_post(case, priya, "2026-11-27T10:00", plan_step=str(step.public_id)),
    )
    assert booked.status_code == 302
    plan_page = as_staff.get(reverse("cases:plan_detail", args=[plan.public_id])).content.decode()
    assert "Booked 27 Nov 2026" in plan_page or "booked 27 Nov 2026" in plan_page
    assert f"?step={step.public_id}" not in plan_page and "Book this step" not in plan_page


def test_moving_and_cancelling_through_the_pages(as_staff, staff_user, case, priya):
    booking = book(case, priya, staff_user, starts_at=at(1, 10))
    move = reverse("cases:booking_reschedule", args=[booking.public_id])
    refused = as_staff.post(move, {"starts_at": "2026-11-26T15:00", "person": str(priya.public_id), "reason": ""})
    assert refused.status_code == 200 and "This field is required." in refused.content.decode()
    moved = as_staff.post(
        move, {"starts_at": "2026-11-26T15:00", "person": str(priya.public_id), "reason": "Client's request"}
    )
    assert moved.status_code == 302
    booking.refresh_from_db()
    assert booking.starts_at == at(3, 15) and booking.change_reason == "Client's request"
    assert "Client&#x27;s request" in as_staff.get(move).content.decode()  # in the history table
    cancel = reverse("cases:booking_cancel", args=[booking.public_id])
    assert as_staff.post(cancel, {"reason": "Unwell"}).status_code == 302
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED


def test_outside_hours_is_refused_on_the_page_and_a_manager_books_with_a_reason(as_staff, as_manager, case, priya):
    OpeningHours.objects.create(weekday=1, opens=datetime.time(9), closes=datetime.time(17))
    url = reverse("cases:booking_create", args=[case.public_id])
    refused = as_staff.post(url, _booking_post(case, priya, "2026-11-24T17:00"))
    assert "The clinic is open 09:00–17:00 on Tuesdays" in refused.content.decode()
    booked = as_manager.post(url, _booking_post(case, priya, "2026-11-24T17:00", hours_override="Only evening free"))
    assert booked.status_code == 302
    assert Booking.objects.get().hours_override_reason == "Only evening free"


# --- the portal and calendar files ----------------------------------------------------------------


@pytest.fixture
def clinic(db):
    clinic = ClinicSettings.load()
    clinic.name = "Northbridge Clinic"
    clinic.address = "14 Northbridge Street\nLeeds LS1 6NB"
    clinic.phone = "0113 496 0123"
    clinic.save()
    return clinic


@pytest.fixture
def own_case(client_a):
    case = factories.CaseFactory(client=client_a)
    factories.ConsentFactory(client=client_a)
    return case


def _events(body: bytes) -> list:
    calendar = Calendar.from_ical(body)
    return list(calendar.walk("VEVENT"))


def test_the_portal_shows_the_booking_and_offers_a_calendar_file_without_clinical_detail(
    as_client_a, staff_user, own_case, priya, room, clinic
):
    booking = book(own_case, priya, staff_user, starts_at=at(1, 10), room=room)
    html = as_client_a.get(reverse("cases:portal_appointments")).content.decode()
    assert "10:00</time>–10:45" in html and "Laser room 1" in html
    ics = reverse("cases:portal_appointment_ics", args=[booking.public_id])
    assert ics in html
    response = as_client_a.get(ics)
    assert response["Content-Type"].startswith("text/calendar")
    (event,) = _events(response.content)
    assert str(event["summary"]) == "Appointment – Northbridge Clinic"
    assert str(event["location"]) == "14 Northbridge Street, Leeds LS1 6NB"
    assert event.decoded("dtstart") == at(1, 10) and event.decoded("dtend") == at(1, 10, 45)
    assert str(event["uid"]) == f"{booking.public_id}@smp-clinic"
    text = response.content.decode().lower()
    assert "laser" not in text and "zone" not in text and "priya" not in text


def test_a_moved_booking_shows_as_moved_in_the_portal(as_client_a, staff_user, own_case, priya, clinic):
    booking = book(own_case, priya, staff_user, starts_at=at(1, 10))
    bookings.reschedule(booking=booking, starts_at=at(2, 11), reason="Technician ill", by=staff_user)
    html = as_client_a.get(reverse("cases:portal_appointments")).content.decode()
    assert "Moved" in html and "11:00</time>–11:45" in html
    assert "Technician ill" not in html


def test_another_clients_booking_file_is_not_found(as_client_b, staff_user, own_case, priya):
    booking = book(own_case, priya, staff_user, starts_at=at(1, 10))
    assert as_client_b.get(reverse("cases:portal_appointment_ics", args=[booking.public_id])).status_code == 404


def test_the_client_feed_lists_only_their_upcoming_appointments_and_can_be_revoked(
    as_client_a, anonymous, staff_user, own_case, priya, clinic
):
    mine = book(own_case, priya, staff_user, starts_at=at(1, 10))
    cancelled = book(own_case, priya, staff_user, starts_at=at(1, 12))
    bookings.cancel(booking=cancelled, reason="Duplicate", by=staff_user)
    someone_else = factories.CaseFactory()
    factories.ConsentFactory(client=someone_else.client)
    book(someone_else, priya, staff_user, starts_at=at(1, 11))
    manage = reverse("cases:portal_calendar_feed_manage")
    assert as_client_a.post(manage, {"action": "new"}).status_code == 302
    feed = CalendarFeed.objects.live().get(client=own_case.client)
    assert len(feed.token) >= 40
    assert feed.token in as_client_a.get(manage).content.decode()
    url = reverse("cases:client_calendar_feed", args=[feed.token])
    response = anonymous.get(url)  # a calendar app does not sign in
    assert response.status_code == 200
    assert [str(e["uid"]) for e in _events(response.content)] == [f"{mine.public_id}@smp-clinic"]
    as_client_a.post(manage, {"action": "revoke"})
    assert anonymous.get(url).status_code == 404


def test_the_staff_feed_shows_initials_and_case_reference_only(anonymous, staff_user, own_case, clinic):
    person = factories.TechnicianFactory(first_name="Sam", last_name="Okafor", user=staff_user)
    book(own_case, person, staff_user, starts_at=at(1, 10))
    own_case.client.first_name, own_case.client.last_name = "Alice", "Able"
    own_case.client.save()
    feed = CalendarFeed.objects.create(person=person)
    response = anonymous.get(reverse("cases:staff_calendar_feed", args=[feed.token]))
    (event,) = _events(response.content)
    assert str(event["summary"]) == f"AA · {own_case.reference}"
    assert "alice" not in response.content.decode().lower()


def test_staff_turn_their_own_feed_on_from_the_week(as_staff, staff_user):
    person = factories.ArtistFactory(user=staff_user)
    as_staff.post(reverse("cases:staff_feed_manage"), {"action": "new"})
    feed = CalendarFeed.objects.live().get(person=person)
    html = as_staff.get(WEEK, {"person": person.public_id}).content.decode()
    assert feed.token in html


def test_a_correction_and_a_check_book_through_the_page(as_staff, case):
    artist = factories.ArtistFactory(first_name="Jo", last_name="Reyes")
    url = reverse("cases:booking_create", args=[case.public_id])
    data = {"what": f"correction:{CorrectionKind.SMP_CORRECTION}", "starts_at": "2026-11-24T09:00"}
    assert (
        as_staff.post(url, {**data, "person": str(artist.public_id), "zones": [z.pk for z in zones()]}).status_code
        == 302
    )
    check = {
        "what": f"follow_up:{FollowUpKind.HEALING_CHECK}",
        "starts_at": "2026-11-24T11:00",
        "person": str(artist.public_id),
    }
    assert as_staff.post(url, check).status_code == 302
    assert sorted(Booking.objects.values_list("kind", flat=True)) == [BookingKind.CORRECTION, BookingKind.FOLLOW_UP]


# --- reminders ----------------------------------------------------------------------------------


def test_a_reminder_carries_the_booked_time_room_address_and_portal_link(staff_user, priya, room, clinic, settings):
    from django.core import mail
    from django.core.management import call_command

    settings.SMP_SITE_URL = "https://clinic.example/"
    case = factories.CaseFactory(client__reminders_opt_in=True, client__email="amara@example.com")
    factories.ConsentFactory(client=case.client)
    booking = book(case, priya, staff_user, starts_at=at(2, 14), room=room)
    call_command("send_reminders", "--date", NOW.date().isoformat(), stdout=StringIO())
    [message] = mail.outbox
    [(html, _mimetype)] = message.alternatives
    for part in (message.body, html):
        assert "14:00" in part and "until 14:45" in part
        assert "Laser room 1" in part and "Northbridge Street" in part
        assert "https://clinic.example/portal/appointments/" in part
    # Moved: the reminder for the old time is not sent; the new time's is.
    mail.outbox.clear()
    bookings.reschedule(booking=booking, starts_at=at(2, 16), reason="Client asked", by=staff_user)
    call_command("send_reminders", "--date", NOW.date().isoformat(), stdout=StringIO())
    [moved] = mail.outbox
    assert "16:00" in moved.body and "14:00" not in moved.body
    # Cancelled: nothing more.
    mail.outbox.clear()
    booking.refresh_from_db()
    bookings.cancel(booking=booking, reason="Unwell", by=staff_user)
    call_command("send_reminders", "--date", NOW.date().isoformat(), stdout=StringIO())
    assert mail.outbox == []


def test_anonymising_a_client_turns_their_calendar_address_off_and_frees_their_slots(
    anonymous, manager_user, staff_user, own_case, priya
):
    from cases.services.privacy import client_anonymise, client_reference

    booking = book(own_case, priya, staff_user, starts_at=at(1, 10))
    feed = CalendarFeed.objects.create(client=own_case.client)
    client_anonymise(
        client=own_case.client,
        by=manager_user,
        reason="Asked to be forgotten",
        confirmation=client_reference(own_case.client),
        remove_photos=False,
    )
    assert anonymous.get(reverse("cases:client_calendar_feed", args=[feed.token])).status_code == 404
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and booking.change_reason == "The client was anonymised."


def test_a_session_archived_in_the_admin_frees_its_slot(as_admin, staff_user, case, priya):
    booking = book(case, priya, staff_user, starts_at=at(1, 10))
    response = as_admin.post(
        reverse("admin:cases_lasersession_changelist"),
        {"action": "archive_selected", "_selected_action": [booking.laser_session_id], "reason": "Booked in error"},
    )
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    other = factories.CaseFactory()
    factories.ConsentFactory(client=other.client)
    assert book(other, priya, staff_user, starts_at=at(1, 10)).status == BookingStatus.BOOKED


def test_the_diary_filters_keep_the_person_chosen(as_staff):
    artist = factories.ArtistFactory(kind="internal", first_name="Priya", last_name="Chosen")
    html = as_staff.get(reverse("cases:diary"), {"person": str(artist.public_id)}).content.decode()
    assert f'<option value="{artist.public_id}" selected>Priya Chosen</option>' in html
