"""Password length: clinic team members (staff, managers, administrators) need 12 characters;
clients keep Django's minimum of 8. Common, numeric and look-alike passwords stay refused."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests import factories

ELEVEN = "Hx7-qmZ2-pa"  # 11 characters, otherwise strong
TWELVE = "Hx7-qmZ2-paL"


def errors_for(password: str, user) -> list[str]:
    try:
        validate_password(password, user)
    except ValidationError as error:
        return error.messages
    return []


@pytest.mark.parametrize("make", ["staff", "manager", "superuser", "is_staff"])
def test_team_members_need_twelve_characters(make, db):
    user = {
        "staff": lambda: factories.StaffUserFactory(username="sam"),
        "manager": lambda: factories.ManagerUserFactory(username="mia"),
        "superuser": lambda: User.objects.create_superuser("ada", "ada@example.com", TWELVE),
        "is_staff": lambda: User.objects.create_user("ivy", "ivy@example.com", TWELVE, is_staff=True),
    }[make]()
    assert errors_for(ELEVEN, user) == ["Clinic team members need a password of at least 12 characters."]
    assert errors_for(TWELVE, user) == []


def test_clients_keep_the_eight_character_minimum(client_a):
    assert errors_for("Hx7-qmZ2", client_a.user) == []
    assert errors_for("Hx7-qmZ", client_a.user) == [
        "This password is too short. It must contain at least 8 characters."
    ]


def test_the_demo_password_is_long_enough_for_the_team(db):
    assert errors_for("smpclinic-demo", factories.ManagerUserFactory(username="demo-manager")) == []


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password1234", "This password is too common."),
        ("839201746583", "This password is entirely numeric."),
        ("staffmember-x", "The password is too similar to the username."),
    ],
)
def test_the_other_validators_still_hold_for_the_team(password, message, db):
    user = factories.StaffUserFactory(username="staffmember-x")
    assert message in errors_for(password, user)


def test_password_change_form_refuses_a_short_team_password(as_staff, staff_user):
    response = as_staff.post(
        reverse("password_change"),
        {"old_password": "pw-for-tests", "new_password1": ELEVEN, "new_password2": ELEVEN},
    )
    assert response.status_code == 200
    assert "Clinic team members need a password of at least 12 characters." in response.content.decode()
    staff_user.refresh_from_db()
    assert staff_user.check_password("pw-for-tests")
