"""Logging in and out, changing the password, and what every page shows the signed-in user."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest
from django.test import Client as HttpClient
from django.urls import reverse

from tests import factories
from tests.signin import signed_in

LOGIN = reverse("login")
LOGOUT = reverse("logout")
HOME = reverse("cases:home")
PASSWORD = "pw-for-tests"


def squash(html: str) -> str:
    return " ".join(html.split())


def nav(html: str) -> str:
    return re.search(r'<nav class="navbar.*?</nav>', html, re.S).group(0)


# Login ------------------------------------------------------------------------------------


def test_login_page_has_labelled_fields(anonymous):
    response = anonymous.get(LOGIN)
    html = squash(response.content.decode())
    assert response.status_code == 200
    assert '<label for="id_username"' in html
    assert '<label for="id_password"' in html
    assert re.search(r'<input type="password" name="password"[^>]*id="id_password"', html)
    assert "<h1" in html and html.count("<h1") == 1


def test_staff_logs_in_and_lands_on_the_staff_home(anonymous, staff_user):
    response = anonymous.post(LOGIN, {"username": "staff", "password": PASSWORD}, follow=True)
    assert response.redirect_chain == [(HOME, 302)]
    assert response.status_code == 200
    assert response.templates[0].name == "cases/home.html"
    assert int(anonymous.session[SESSION_KEY]) == staff_user.pk


def test_login_follows_next(anonymous, staff_user):
    clients = reverse("cases:client_list")
    response = anonymous.post(f"{LOGIN}?next={clients}", {"username": "staff", "password": PASSWORD, "next": clients})
    assert response.status_code == 302
    assert response["Location"] == clients


def test_login_ignores_an_outside_next(anonymous, staff_user):
    response = anonymous.post(LOGIN, {"username": "staff", "password": PASSWORD, "next": "https://evil.example/"})
    assert response["Location"] == HOME


def test_wrong_password_redisplays_the_form_with_an_error(anonymous, staff_user):
    response = anonymous.post(LOGIN, {"username": "staff", "password": "wrong"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Please enter a correct username and password" in html
    assert 'value="staff"' in html  # the username is kept
    assert SESSION_KEY not in anonymous.session


def test_signed_in_user_visiting_login_goes_home(as_staff):
    response = as_staff.get(LOGIN)
    assert response.status_code == 302
    assert response["Location"] == HOME


# Logout -----------------------------------------------------------------------------------


def test_logout_is_post_only(as_staff):
    assert as_staff.get(LOGOUT).status_code == 405
    assert as_staff.get(HOME).status_code == 200  # still signed in


def test_logout_signs_out(as_staff):
    response = as_staff.post(LOGOUT)
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert SESSION_KEY not in as_staff.session
    after = as_staff.get(HOME)
    assert after.status_code == 302
    assert after["Location"].startswith(LOGIN)


def test_every_page_has_a_logout_form_posting_with_csrf(as_staff):
    html = squash(as_staff.get(HOME).content.decode())
    # In the account menu (a <details>, which opens without JavaScript), with the password
    # and two-factor links.
    menu = re.search(r'<details class="smp-account">.*?</details>', html).group(0)
    assert re.search(rf'<form method="post" action="{LOGOUT}"><input type="hidden" name="csrfmiddlewaretoken"', menu)
    assert f'href="{reverse("password_change")}"' in menu and f'href="{reverse("two_factor_codes")}"' in menu


# Password change ----------------------------------------------------------------------------


def test_password_change_works(as_staff, staff_user):
    response = as_staff.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "Lighter-Hairline-2026", "new_password2": "Lighter-Hairline-2026"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    assert "Your password was changed." in as_staff.get(response["Location"]).content.decode()
    assert as_staff.get(HOME).status_code == 200  # the session survives the change
    fresh = HttpClient()
    assert fresh.login(request=HttpRequest(), username="staff", password="Lighter-Hairline-2026")
    assert not HttpClient().login(request=HttpRequest(), username="staff", password=PASSWORD)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"old_password": "wrong"}, "Your old password was entered incorrectly."),
        ({"new_password2": "Something-Else-2026"}, "The two password fields didn"),
        ({"new_password1": "short", "new_password2": "short"}, "This password is too short."),
    ],
)
def test_password_change_refuses_bad_input(data, message, as_staff, staff_user):
    post = {
        "old_password": PASSWORD,
        "new_password1": "Lighter-Hairline-2026",
        "new_password2": "Lighter-Hairline-2026",
    }
    post.update(data)
    response = as_staff.post(reverse("password_change"), post)
    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
    staff_user.refresh_from_db()
    assert staff_user.check_password(PASSWORD)


def test_password_change_needs_login(anonymous):
    response = anonymous.get(reverse("password_change"))
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={reverse('password_change')}"


# Anonymous ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cases:home", "cases:client_list", "cases:client_create"])
def test_anonymous_is_redirected_to_login_with_next(name, anonymous):
    url = reverse(name)
    response = anonymous.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"


# What every page shows ---------------------------------------------------------------------------


def _pages(client_record) -> list[str]:
    return [
        HOME,
        reverse("cases:client_list"),
        reverse("cases:client_create"),
        reverse("cases:client_detail", kwargs={"client_id": client_record.public_id}),
        reverse("password_change"),
        reverse("password_change_done"),
    ]


@pytest.mark.parametrize("persona", ["staff", "manager", "admin"])
def test_every_page_shows_the_user_and_role_navigation(persona, db, client_a):
    users = {
        "staff": lambda: factories.StaffUserFactory(username="sam", first_name="Sam", last_name="Staff"),
        "manager": lambda: factories.ManagerUserFactory(username="mia", first_name="Mia", last_name="Manager"),
        "admin": lambda: _superuser(),
    }
    user = users[persona]()
    http = HttpClient()
    signed_in(user, http)
    clients_link = f'href="{reverse("cases:client_list")}">Clients</a>'
    admin_link = f'href="{reverse("admin:index")}">Admin</a>'
    for url in _pages(client_a):
        response = http.get(url)
        assert response.status_code == 200, url
        bar = nav(response.content.decode())
        assert user.get_full_name() in bar, url
        assert clients_link in bar, url
        assert (admin_link in bar) is (persona == "admin"), url
        assert ("· manager" in bar) is (persona in ("manager", "admin")), url


def _superuser():
    from django.contrib.auth.models import User

    return User.objects.create_superuser("ada", "ada@example.com", PASSWORD, first_name="Ada", last_name="Admin")


def test_user_without_a_full_name_is_shown_by_username(db):
    user = factories.StaffUserFactory(username="frontdesk", first_name="", last_name="")
    http = HttpClient()
    signed_in(user, http)
    assert "frontdesk" in nav(http.get(HOME).content.decode())


def test_client_sees_their_name_but_no_staff_navigation(as_client_a, client_a):
    # The staff home sends a client to the portal (tests/cases/test_invitations.py); another staff page refuses.
    response = as_client_a.get(reverse("cases:client_list"))
    assert response.status_code == 403
    bar = nav(response.content.decode())
    assert client_a.user.get_full_name() in bar
    assert ">Clients</a>" not in bar
    assert ">Admin</a>" not in bar
    assert "Log out" in bar


def test_anonymous_sees_no_navigation(anonymous):
    bar = nav(anonymous.get(LOGIN).content.decode())
    assert ">Clients</a>" not in bar
    assert "Log out" not in bar
