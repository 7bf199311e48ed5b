"""Brute force: repeated wrong passwords lock out the username from that address and the
address itself; reset requests are limited per e-mail and per address; a manager unlocks."""

from __future__ import annotations

import datetime
import logging
import re

import pytest
import time_machine
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client as HttpClient
from django.urls import reverse

from tests import factories

LOGIN = reverse("login")
ADMIN_LOGIN = reverse("admin:login")
RESET = reverse("password_reset")
LOCKOUTS = reverse("lockouts")
PASSWORD = "pw-for-tests"
SECRET_GUESS = "not-the-password-xyz"
START = datetime.datetime(2026, 11, 25, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _no_axes_state(settings):
    """Lockout records and cached counters never carry over from one test to the next."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    axes_reset()
    yield
    axes_reset()


def from_ip(ip: str) -> HttpClient:
    return HttpClient(REMOTE_ADDR=ip)


def fail(http: HttpClient, url: str, username: str, times: int = 5):
    for _ in range(times):
        response = http.post(url, {"username": username, "password": SECRET_GUESS})
    return response


def test_five_wrong_passwords_lock_out_even_the_right_one(staff_user):
    http = from_ip("10.0.0.1")
    for _ in range(4):
        assert http.post(LOGIN, {"username": "staff", "password": SECRET_GUESS}).status_code == 200
    locked = http.post(LOGIN, {"username": "staff", "password": SECRET_GUESS})
    assert locked.status_code == 429
    right = http.post(LOGIN, {"username": "staff", "password": PASSWORD})
    assert right.status_code == 429
    assert SESSION_KEY not in http.session
    html = right.content.decode()
    assert "Too many failed log-in attempts" in html
    assert "Please try again in 15 minutes" in html
    assert right["Retry-After"] == str(15 * 60)


def test_the_lockout_ends_after_the_cool_off(staff_user):
    with time_machine.travel(START, tick=False) as clock:
        http = from_ip("10.0.0.2")
        fail(http, LOGIN, "staff")
        assert http.post(LOGIN, {"username": "staff", "password": PASSWORD}).status_code == 429
        clock.shift(datetime.timedelta(minutes=16))
        response = http.post(LOGIN, {"username": "staff", "password": PASSWORD})
        assert response.status_code == 302
        assert int(http.session[SESSION_KEY]) == staff_user.pk


def test_an_address_guessing_many_usernames_is_locked_out(staff_user):
    http = from_ip("10.0.0.3")
    for name in ("anna", "bert", "carl", "dora", "emil"):
        http.post(LOGIN, {"username": name, "password": SECRET_GUESS})
    assert http.post(LOGIN, {"username": "staff", "password": PASSWORD}).status_code == 429


def test_a_guesser_elsewhere_does_not_lock_the_user_out_at_the_clinic(staff_user):
    fail(from_ip("203.0.113.9"), LOGIN, "staff")
    desk = from_ip("10.0.0.4")
    assert desk.post(LOGIN, {"username": "staff", "password": PASSWORD}).status_code == 302


def test_admin_login_locks_out_a_superuser(admin_user):
    http = from_ip("10.0.0.5")
    fail(http, ADMIN_LOGIN, "admin")
    response = http.post(ADMIN_LOGIN, {"username": "admin", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 429
    assert SESSION_KEY not in http.session
    assert http.get("/admin/").status_code == 302  # still not in


def test_failures_are_logged_without_the_password(staff_user, caplog):
    with caplog.at_level(logging.INFO):
        fail(from_ip("10.0.0.6"), LOGIN, "staff", times=2)
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "staff" in text and "failed" in text.lower()
    assert SECRET_GUESS not in text
    assert not AccessAttempt.objects.filter(post_data__contains=SECRET_GUESS).exists()


def test_a_manager_unlocks_a_user(staff_user, as_manager):
    http = from_ip("10.0.0.7")
    fail(http, LOGIN, "staff")
    page = as_manager.get(LOCKOUTS)
    assert page.status_code == 200
    assert "Unlock staff" in page.content.decode()
    response = as_manager.post(LOCKOUTS, {"username": "staff"})
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="staff").exists()
    assert http.post(LOGIN, {"username": "staff", "password": PASSWORD}).status_code == 302


@pytest.mark.parametrize("persona", ["anonymous", "as_staff", "as_client_a"])
def test_only_managers_can_unlock(persona, request, staff_user):
    fail(from_ip("10.0.0.8"), LOGIN, "staff")
    http = request.getfixturevalue(persona)
    response = http.post(LOCKOUTS, {"username": "staff"})
    assert response.status_code in (302, 403, 404)
    assert AccessAttempt.objects.filter(username="staff").exists()


# Password reset -------------------------------------------------------------------------------


def test_reset_is_limited_per_address(db):
    factories.StaffUserFactory(username="rita", email="rita@example.com")
    statuses = [from_ip(f"10.1.0.{n}").post(RESET, {"email": "rita@example.com"}).status_code for n in range(5)]
    assert statuses == [302, 302, 302, 429, 429]
    assert len(mail.outbox) == 3


def test_reset_is_limited_per_ip(db):
    http = from_ip("10.2.0.1")
    statuses = [http.post(RESET, {"email": f"nobody{n}@example.com"}).status_code for n in range(11)]
    assert statuses == [302] * 10 + [429]
    limited = http.post(RESET, {"email": "someone-else@example.com"})
    assert limited.status_code == 429
    assert "Please try again in 60 minutes" in limited.content.decode()
    assert from_ip("10.2.0.2").post(RESET, {"email": "someone-else@example.com"}).status_code == 302


def test_reset_limit_ignores_case_and_ends_with_the_window(db):
    with time_machine.travel(START, tick=False) as clock:
        for n in range(3):
            from_ip(f"10.3.0.{n}").post(RESET, {"email": "Rita@Example.com"})
        assert from_ip("10.3.0.9").post(RESET, {"email": "rita@example.com "}).status_code == 429
        clock.shift(datetime.timedelta(minutes=61))
        assert from_ip("10.3.0.9").post(RESET, {"email": "rita@example.com"}).status_code == 302


def test_behind_a_proxy_two_clients_are_locked_out_apart_and_spoofing_is_ignored(settings, staff_user):
    """With one trusted proxy, the client is the last X-Forwarded-For entry: two people
    behind the same proxy address are counted, and locked out, each on their own, and
    entries a client adds on the left change nothing."""
    settings.SMP_TRUSTED_PROXIES = 1
    proxy = from_ip("10.0.0.99")

    def attempt(forwarded_for: str, password: str = SECRET_GUESS) -> int:
        data = {"username": "staff", "password": password}
        return proxy.post(LOGIN, data, HTTP_X_FORWARDED_FOR=forwarded_for).status_code

    # The guesser puts a different made-up address on the left each time.
    assert [attempt(f"203.0.113.{n}, 198.51.100.1") for n in range(5)] == [200] * 4 + [429]
    assert attempt("203.0.113.77, 198.51.100.1", PASSWORD) == 429
    assert attempt("198.51.100.1", PASSWORD) == 429

    # A colleague behind the same proxy starts from nothing, and is locked out by their own five.
    assert [attempt("198.51.100.2") for _ in range(5)] == [200] * 4 + [429]
    assert attempt("198.51.100.2", PASSWORD) == 429
    # A third person there is not locked out at all.
    assert attempt("198.51.100.3", PASSWORD) == 302

    counted = set(AccessAttempt.objects.values_list("ip_address", flat=True))
    assert counted == {"198.51.100.1", "198.51.100.2"}  # not the proxy's, not the made-up ones


def test_a_known_and_an_unknown_address_get_the_same_answer_at_the_same_cost(db, settings):
    """The reset e-mail goes through the task queue: in the request, both addresses cost
    the same queries and get the same page; the worker then sends one e-mail, only to the
    account that exists."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_tasks_db.models import DBTaskResult

    from smpclinic.tasks import send_password_reset

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    factories.StaffUserFactory(username="rita", email="rita@example.com")
    answers, pages, costs = [], [], []
    for n, email in enumerate(("rita@example.com", "nobody@example.com")):
        browser = from_ip(f"10.3.0.{n}")
        with CaptureQueriesContext(connection) as captured:
            response = browser.post(RESET, {"email": email})
        answers.append((response.status_code, response["Location"], response.content))
        costs.append(len(captured))
        page = browser.get(response["Location"])
        pages.append(re.sub(r'nonce="[^"]*"', "", page.content.decode()))  # a fresh nonce per page
    assert answers[0] == answers[1] == (302, reverse("password_reset_done"), b"")
    assert pages[0] == pages[1]
    assert "e-mail" in pages[0].lower() or "email" in pages[0].lower()
    assert costs[0] == costs[1]
    assert mail.outbox == []  # nothing sent in the request

    queued = list(DBTaskResult.objects.order_by("enqueued_at"))
    assert [q.task_path for q in queued] == ["smpclinic.tasks.send_password_reset"] * 2
    sent = [send_password_reset.call(*q.args_kwargs["args"]) for q in queued]
    assert sent == [1, 0]
    assert [m.to for m in mail.outbox] == [["rita@example.com"]]
    assert "/password/reset/" in mail.outbox[0].body
