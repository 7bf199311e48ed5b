"""The managers' diary settings page: opening hours, rooms, closure days."""

from __future__ import annotations

import datetime

from django.urls import reverse

from smpclinic.models import Closure, OpeningHours, Room
from tests.helpers import assert_queries_hold, messages_of, sql_of_get

URL = reverse("diary_settings")


def _week(days: dict) -> dict:
    """The hours form as posted: {weekday number: (opens, closes)}; the rest closed."""
    data = {"action": "hours"}
    for weekday in range(7):
        if weekday in days:
            opens, closes = days[weekday]
            data.update({f"day{weekday}-is_open": "on", f"day{weekday}-opens": opens, f"day{weekday}-closes": closes})
    return data


def test_a_manager_sets_the_weeks_hours_and_a_closed_day_has_no_row(as_manager, db):
    OpeningHours.objects.create(weekday=6, opens=datetime.time(10), closes=datetime.time(14))
    response = as_manager.post(URL, _week({0: ("09:00", "18:00"), 5: ("09:00", "13:00")}))
    assert response.status_code == 302 and "The opening hours are saved." in messages_of(response)
    assert [(h.weekday, h.opens, h.closes) for h in OpeningHours.objects.all()] == [
        (0, datetime.time(9), datetime.time(18)),
        (5, datetime.time(9), datetime.time(13)),
    ]
    assert OpeningHours.history.filter(weekday=6, history_type="-").exists()


def test_closing_before_opening_is_refused_and_nothing_changes(as_manager, db):
    response = as_manager.post(URL, _week({1: ("18:00", "09:00")}))
    assert response.status_code == 200
    assert "The clinic closes after it opens." in response.content.decode()
    assert not OpeningHours.objects.exists()


def test_rooms_are_added_and_archived_and_closures_added_and_removed(as_manager, db):
    assert as_manager.post(URL, {"action": "room", "name": "Laser room 1", "position": "1"}).status_code == 302
    room = Room.objects.get()
    duplicate = as_manager.post(URL, {"action": "room", "name": "Laser room 1", "position": "2"})
    assert "Room with this Name already exists." in duplicate.content.decode()
    as_manager.post(URL, {"action": "archive_room", "room": str(room.public_id)})
    room.refresh_from_db()
    assert room.is_archived
    assert (
        as_manager.post(URL, {"action": "closure", "day": "2026-12-25", "reason": "Christmas Day"}).status_code == 302
    )
    closure = Closure.objects.get()
    as_manager.post(URL, {"action": "remove_closure", "closure": str(closure.pk)})
    assert not Closure.objects.exists()


def test_staff_may_not_change_the_diary_settings(as_staff, db):
    assert as_staff.post(URL, {"action": "room", "name": "Mine", "position": "0"}).status_code == 403
    assert not Room.objects.exists()


def test_the_page_costs_the_same_queries_at_two_sizes(as_manager, db):
    Room.objects.create(name="Room 0")
    small = sql_of_get(as_manager, URL)
    for n in range(1, 10):
        Room.objects.create(name=f"Room {n}", position=n)
        Closure.objects.create(day=datetime.date(2030, 1, n), reason="Training")
    large = sql_of_get(as_manager, URL)
    assert_queries_hold(small, large, at_most=12)
