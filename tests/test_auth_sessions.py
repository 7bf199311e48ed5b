"""Sessions: a new id at login, logout and password changes end sessions, and no session
outlives 12 hours after login however active it is."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from axes.utils import reset as axes_reset
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.tokens import default_token_generator
from django.contrib.messages import get_messages
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from smpclinic.middleware import SIGNED_IN_AT
from smpclinic.models import ClinicSettings

LOGIN = reverse("login")
HOME = reverse("cases:home")
PASSWORD = "pw-for-tests"
NEW_PASSWORD = "Lighter-Hairline-2026"
START = datetime.datetime(2026, 11, 25, 7, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _no_axes_state():
    axes_reset()
    yield
    axes_reset()


def logged_in(username: str = "staff") -> HttpClient:
    http = HttpClient()
    assert http.post(LOGIN, {"username": username, "password": PASSWORD}).status_code == 302
    return http


def test_login_issues_a_new_session_id(staff_user):
    http = HttpClient()
    http.get(LOGIN)
    http.session["before"] = 1  # an anonymous session that exists before login
    http.session.save()
    before = http.session.session_key
    http.post(LOGIN, {"username": "staff", "password": PASSWORD})
    assert http.session.session_key != before
    assert SESSION_KEY in http.session


def test_logout_ends_the_session_on_the_server(staff_user):
    from django.contrib.sessions.models import Session

    http = logged_in()
    key = http.session.session_key
    http.post(reverse("logout"))
    assert not Session.objects.filter(session_key=key).exists()


def test_password_change_ends_the_users_other_sessions_and_keeps_this_one(staff_user):
    here, elsewhere = logged_in(), logged_in()
    assert elsewhere.get(HOME).status_code == 200
    response = here.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert here.get(HOME).status_code == 200
    signed_out = elsewhere.get(HOME)
    assert signed_out.status_code == 302
    assert signed_out["Location"].startswith(LOGIN)


def test_password_reset_ends_every_session(staff_user):
    elsewhere = logged_in()
    uid = urlsafe_base64_encode(force_bytes(staff_user.pk))
    staff_user.refresh_from_db()  # the token covers last_login, which the login just set
    token = default_token_generator.make_token(staff_user)
    http = HttpClient()
    link = http.get(reverse("password_reset_confirm", args=[uid, token]))
    assert link.status_code == 302, link.content.decode()[:300]
    response = http.post(link["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert elsewhere.get(HOME).status_code == 302


def test_no_session_lasts_past_twelve_hours_however_active(staff_user):
    clinic = ClinicSettings.load()
    clinic.idle_logout_minutes = 60
    clinic.save()
    with time_machine.travel(START, tick=False) as clock:
        http = logged_in()
        assert http.session[SIGNED_IN_AT] == int(START.timestamp())
        for _ in range(24):  # a request every 30 minutes for 12 hours
            clock.shift(datetime.timedelta(minutes=30))
            assert http.get(HOME).status_code == 200
        clock.shift(datetime.timedelta(minutes=1))
        response = http.get(HOME)
        assert response.status_code == 302
        assert response["Location"] == f"{LOGIN}?next=/"
        assert [str(m) for m in get_messages(response.wsgi_request)] == [
            "You were signed out 12 hours after logging in. Please log in again."
        ]
        assert http.get(HOME).status_code == 302  # the session is gone
        assert logged_in().get(HOME).status_code == 200  # logging in again starts a new clock


def test_the_session_cookie_expires_with_the_lifetime(staff_user):
    response = HttpClient().post(LOGIN, {"username": "staff", "password": PASSWORD})
    assert response.cookies["sessionid"]["max-age"] == 12 * 3600
