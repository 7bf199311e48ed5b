"""A session left idle longer than the clinic's idle time is signed out."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from smpclinic.middleware import LAST_SEEN
from smpclinic.models import ClinicSettings

START = datetime.datetime(2026, 11, 25, 9, 0, tzinfo=datetime.UTC)
HOME = reverse("cases:home")


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def test_login_starts_the_idle_clock(clock, as_staff):
    assert as_staff.session[LAST_SEEN] == int(START.timestamp())


def test_activity_keeps_the_session_open(clock, as_staff):
    for _ in range(4):
        clock.shift(datetime.timedelta(minutes=25))
        assert as_staff.get(HOME).status_code == 200


def test_idle_past_the_limit_signs_out_and_comes_back_after_login(clock, as_staff):
    clock.shift(datetime.timedelta(minutes=31))
    response = as_staff.get(HOME + "?week=1")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/%3Fweek%3D1"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "You were signed out after 30 minutes without activity."
    ]
    assert as_staff.get(HOME).status_code == 302  # the session is gone, not just this request


def test_the_limit_is_the_clinics_setting(clock, as_staff):
    clinic = ClinicSettings.load()
    clinic.idle_logout_minutes = 120
    clinic.save()
    clock.shift(datetime.timedelta(minutes=90))
    assert as_staff.get(HOME).status_code == 200
    clock.shift(datetime.timedelta(minutes=121))
    assert as_staff.get(HOME).status_code == 302


def test_clients_are_signed_out_too(clock, as_client_a):
    clock.shift(datetime.timedelta(hours=1))
    assert as_client_a.get(reverse("cases:portal_plan")).status_code == 302


def test_the_session_is_written_at_most_once_a_minute(clock, as_staff):
    as_staff.get(HOME)
    clock.shift(datetime.timedelta(seconds=30))
    before = as_staff.session[LAST_SEEN]
    as_staff.get(HOME)
    assert as_staff.session[LAST_SEEN] == before
    clock.shift(datetime.timedelta(seconds=31))
    as_staff.get(HOME)
    assert as_staff.session[LAST_SEEN] == before + 61
