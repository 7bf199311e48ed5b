"""Walk every named URL with every persona and check the answer matches the role it needs.

A new URL fails `test_every_url_is_listed` until it is added to ROLE_BY_URL, so no page
can ship without a stated role. What each persona may open is read from the role table
(`smpclinic.roles.MATRIX`), not restated here; a "technician" (staff given the one right
to approve plans) shows that a single permission, not a group, opens a page.

The same walk checks that no browser or proxy keeps a copy of what a signed-in person
saw: every answer to a signed-in user says `Cache-Control: private, no-store`
(tests/smpclinic/test_cache_control.py holds the rest of that rule).

The records and personas are made once per module (and rolled back after it); each
request runs in a savepoint of its own.
"""

from __future__ import annotations

import datetime
import io

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.core.files.storage import default_storage
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from PIL import Image

from cases import imaging
from cases.choices import PlanStatus
from cases.models import Booking, BookingKind
from smpclinic import roles, services
from tests import factories
from tests.helpers import kept_for_the_module
from tests.signin import signed_in
from tests.url_roles import LOGGED_IN, PHOTO, PORTAL, PUBLIC, SECOND_STEP, STAFF
from tests.url_roles import diary as diary_urls
from tests.url_roles import managers as manager_urls
from tests.url_roles import portal as portal_urls
from tests.url_roles import portal_care as portal_care_urls
from tests.url_roles import reports as report_urls


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 20), (10, 79, 106)).save(out, format="PNG")
    return out.getvalue()


_LOGO_PNG = _png()

# URL name → (role it needs, HTTP method to try)
ROLE_BY_URL: dict[str, tuple[str, str]] = {
    "login": (PUBLIC, "get"),
    "favicon": (PUBLIC, "get"),
    "healthz": (PUBLIC, "get"),  # tests/smpclinic/test_health.py
    "readyz": (PUBLIC, "get"),
    "lockouts": (roles.MANAGE_SIGN_INS, "get"),
    "clinic_settings": (roles.CHANGE_SETTINGS, "get"),
    "diary_settings": (roles.CHANGE_SETTINGS, "get"),
    # Two-factor sign-in (tests/test_two_factor.py): the personas here have passed it.
    "two_factor_verify": (SECOND_STEP, "get"),
    "two_factor_codes": (LOGGED_IN, "get"),
    "two_factor_setup": (LOGGED_IN, "get"),
    "two_factor_reset": (roles.MANAGE_SIGN_INS, "post"),
    "logout": (LOGGED_IN, "post"),  # checked separately below
    "password_change": (LOGGED_IN, "get"),
    "password_change_done": (LOGGED_IN, "get"),
    "cases:home": (STAFF, "get"),
    "cases:client_list": (STAFF, "get"),
    "cases:client_create": (STAFF, "get"),
    "cases:client_detail": (STAFF, "get"),
    "cases:client_edit": (STAFF, "get"),
    "cases:consent_record": (STAFF, "get"),
    "cases:case_create": (STAFF, "get"),
    "cases:case_detail": (STAFF, "get"),
    "cases:case_history": (STAFF, "get"),
    "cases:case_edit": (STAFF, "get"),
    "cases:case_status": (STAFF, "get"),
    "cases:consultation_create": (STAFF, "get"),
    "cases:consultation_edit": (STAFF, "get"),
    "cases:issue_create": (STAFF, "get"),
    "cases:issue_edit": (STAFF, "get"),
    "cases:plan_create": (STAFF, "get"),
    "cases:plan_detail": (STAFF, "get"),
    "cases:plan_edit": (STAFF, "get"),
    "cases:step_create": (STAFF, "get"),
    "cases:step_edit": (STAFF, "get"),
    "cases:plan_submit": (STAFF, "post"),
    "cases:plan_review": (roles.APPROVE_PLANS, "get"),
    "cases:plan_revise": (STAFF, "post"),
    "cases:plan_discard": (STAFF, "get"),
    "cases:plan_accept": (STAFF, "get"),
    "cases:laser_session_create": (STAFF, "get"),
    "cases:laser_session_edit": (STAFF, "get"),
    "cases:correction_session_create": (STAFF, "get"),
    "cases:correction_session_edit": (STAFF, "get"),
    "cases:followup_create": (STAFF, "get"),
    "cases:followup_complete": (STAFF, "get"),
    "cases:followup_missed": (STAFF, "post"),
    "cases:photo_gallery": (STAFF, "get"),
    "cases:photo_upload": (STAFF, "get"),
    "cases:photo_compare": (STAFF, "get"),
    "cases:photo_file": (PHOTO, "get"),  # clients: only their own shared photos (tests/cases/test_photo_*)
    "cases:photo_screen": (PHOTO, "get"),
    "cases:photo_thumb": (PHOTO, "get"),
    "cases:photo_archive": (roles.ARCHIVE, "get"),
    **manager_urls.ROLES,
    **report_urls.ROLES,
    **portal_urls.ROLES,
    **portal_care_urls.ROLES,
    **diary_urls.ROLES,
}

PERSONAS = ("anonymous", "client", "staff", "technician", "manager", "admin")
# The group each persona is in; the technician is staff given one right of their own.
GROUP_OF = {"client": roles.CLIENTS, "staff": roles.STAFF, "technician": roles.STAFF, "manager": roles.MANAGERS}
OWN_RIGHTS = {"technician": {roles.APPROVE_PLANS}}


def holds(persona: str, action: roles.Action) -> bool:
    """What the role table (and a person's own rights) says; superusers hold everything."""
    if persona == "admin":
        return True
    return GROUP_OF.get(persona) in action.roles or action in OWN_RIGHTS.get(persona, ())


def _named_urls(resolver=None, namespace="") -> set[str]:
    resolver = resolver or get_resolver()
    names = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= _named_urls(pattern, ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}{pattern.name}")
    return names


def test_every_url_is_listed():
    assert _named_urls() == set(ROLE_BY_URL)


def make_world(client_a) -> dict:
    """One of every record, belonging to client A, so each URL has real arguments."""
    case = factories.CaseFactory(client=client_a)
    draft = factories.TreatmentPlanFactory(case=case)
    # Each plan page is tried on a plan in the state where the page is offered.
    submitted = factories.TreatmentPlanFactory(
        case=factories.CaseFactory(client=client_a), status=PlanStatus.PROPOSED, submitted_at=timezone.now()
    )
    approved = factories.ApprovedPlanFactory(case=factories.CaseFactory(client=client_a))
    certification = factories.CertificationFactory()
    upcoming = factories.LaserSessionFactory(
        case=case, status="scheduled", scheduled_at=timezone.now() + datetime.timedelta(days=3)
    )
    booking = Booking.objects.create(
        case=case,
        kind=BookingKind.LASER,
        laser_session=upcoming,
        starts_at=upcoming.scheduled_at,
        ends_at=upcoming.scheduled_at + datetime.timedelta(minutes=45),
        person=upcoming.technician,
    )
    return {
        "client_id": client_a.public_id,
        "case_id": case.public_id,
        "case_without_plan_id": factories.CaseFactory(client=client_a).public_id,
        "plan_id": draft.public_id,
        "submitted_plan_id": submitted.public_id,
        "approved_plan_id": approved.public_id,
        "step_id": factories.PlanStepFactory(plan=draft).public_id,
        "consultation_id": factories.ConsultationFactory(case=case).public_id,
        "issue_id": factories.IssueFactory(case=case).public_id,
        "session_id": factories.LaserSessionFactory(case=case).public_id,
        "correction_session_id": factories.CorrectionSessionFactory(case=case).public_id,
        "followup_id": factories.FollowUpFactory(case=case).public_id,
        "photo_id": factories.PhotoFactory(case=case).public_id,
        "shared_photo_id": factories.PhotoFactory(case=case, shared_with_client=True).public_id,
        "consent_id": factories.ConsentFactory(client=client_a).public_id,
        "artist_id": certification.artist.public_id,
        "certification_id": certification.public_id,
        "booking_id": booking.public_id,
    }


@pytest.fixture(scope="module")
def walk(django_db_setup, django_db_blocker, tmp_path_factory):
    """The personas and records of this module's walk, made once and rolled back at its end."""
    with kept_for_the_module(django_db_blocker):
        client_a = factories.ClientFactory(
            user=factories.ClientUserFactory(username="walk-client"), first_name="Alice", last_name="Able"
        )
        technician = factories.StaffUserFactory(username="walk-technician")
        technician.user_permissions.add(Permission.objects.get(codename="approve_treatmentplan"))
        users = {
            "client": client_a.user,
            "staff": factories.StaffUserFactory(username="walk-staff"),
            "technician": technician,
            "manager": factories.ManagerUserFactory(username="walk-manager"),
            "admin": User.objects.create_superuser("walk-admin", "walk-admin@example.com", "pw-for-tests"),
        }
        # The clinic has a logo, so its image answers (cases:clinic_logo).
        logo = services.clinic_logo_set(png=imaging.process_logo(_LOGO_PNG), by=users["admin"]).logo.name
        # Each persona signs in once; every test opens a new client in that session.
        sessions = {
            persona: signed_in(user).cookies[settings.SESSION_COOKIE_NAME].value for persona, user in users.items()
        }
        yield {"users": users, "sessions": sessions, "world": make_world(client_a)}
    default_storage.delete(logo)


def client_as(walk, persona: str) -> HttpClient:
    """A new test client in the session `persona` signed in with for the module (`walk`),
    or signed out for "anonymous". What a request does to the session (a logout, the idle
    clock) is rolled back with the rest of the test, so each test starts from the sign-in."""
    http = HttpClient()
    if persona != "anonymous":
        http.cookies[settings.SESSION_COOKIE_NAME] = walk["sessions"][persona]
    return http


@pytest.fixture
def _private_media():
    """The walk's photos stay where the module made them (the suite's default folder)."""


# URLs whose argument comes from a differently named entry of the world.
WORLD_KEY_BY_URL = {
    "cases:correction_session_edit": {"session_id": "correction_session_id"},
    "cases:plan_create": {"case_id": "case_without_plan_id"},
    "cases:plan_review": {"plan_id": "submitted_plan_id"},
    "cases:plan_accept": {"plan_id": "approved_plan_id"},
    **manager_urls.WORLD_KEYS,
    **report_urls.WORLD_KEYS,
    **portal_urls.WORLD_KEYS,
    **portal_care_urls.WORLD_KEYS,
    **diary_urls.WORLD_KEYS,
}


def _kwargs_for(name: str, world: dict) -> dict:
    keys = WORLD_KEY_BY_URL.get(name, {})
    return {param: world[keys.get(param, param)] for param in _params_of(name)}


def _params_of(name: str) -> list[str]:
    resolver = get_resolver()
    *namespaces, url_name = name.split(":")
    for ns in namespaces:
        resolver = resolver.namespace_dict[ns][1]
    (possibility, _pattern, _defaults, _converters), *_ = resolver.reverse_dict.getlist(url_name)
    (_template, params), *_ = possibility
    return list(params)


def _expected(role, persona: str, method: str) -> int:
    if role == PUBLIC:
        return 200
    if role == portal_urls.PUBLIC_TOKEN:
        return 404  # a made-up token gets the helpful "link not valid" page, whoever asks
    if persona == "anonymous" or role == SECOND_STEP:
        return 302
    if role == portal_urls.STAFF_HOME:
        return 302 if persona == "client" else 200  # a client is sent on to the portal
    if role == LOGGED_IN:
        return 200
    if role == PORTAL:
        return 200 if persona == "client" else 403
    if persona == "client":
        # Photos answer 404 to a client: an unshared photo is not theirs to know about.
        return 404 if role == PHOTO else 403
    if isinstance(role, roles.Action) and not holds(persona, role):
        return 403
    return 200 if method == "get" else 302


def cache_directives(response) -> set[str]:
    return {part.strip().split("=")[0] for part in response.get("Cache-Control", "").split(",") if part.strip()}


def assert_not_stored(response, where) -> None:
    directives = cache_directives(response)
    assert {"private", "no-store"} <= directives, (where, response.status_code, response.get("Cache-Control"))
    assert "public" not in directives, where


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(ROLE_BY_URL))
def test_url_answers_by_role(name, persona, walk, db):
    http = client_as(walk, persona)
    role, method = ROLE_BY_URL[name]
    url = reverse(name, kwargs=_kwargs_for(name, walk["world"]))

    response = getattr(http, method)(url)
    if persona != "anonymous" and name != "logout":  # logging out answers someone signed out
        assert_not_stored(response, (name, persona))
    if name in ("logout", "login") and persona != "anonymous":
        # Logging in again redirects a signed-in user home; logging out works for anyone.
        assert response.status_code == 302
        return

    expected = _expected(role, persona, method)
    if expected == 302 and persona == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    elif method == "post" and persona in ("staff", "technician", "manager", "admin") and expected != 403:
        # An empty POST to an action either redirects with a message or re-shows a form
        # (or, for an export, answers the file); it must never be refused for a role that
        # holds the permission, and a manager-only action is refused to staff (403).
        assert response.status_code in (200, 302), response.status_code
    else:
        assert response.status_code == expected, (name, persona, response.status_code)
