"""The portal as a whole: client A's records are invisible to client B under every URL,
and no internal field of A's records appears on any portal page or in the plan PDF.

Walks every PORTAL URL listed in tests/url_roles/portal*.py, so a new portal page is
covered the day it is added.
"""

from __future__ import annotations

import io
import uuid

import pytest
from django.test import override_settings
from django.urls import reverse
from pypdf import PdfReader

from cases.models import (
    Case,
    Client,
    Consultation,
    CorrectionSession,
    FollowUp,
    Issue,
    LaserSession,
    RuleOverride,
    TreatmentPlan,
)
from tests import factories
from tests import test_url_permissions as walk
from tests.helpers import kept_for_the_module
from tests.url_roles import PORTAL

ROLE_BY_URL, _kwargs_for, _params_of = walk.ROLE_BY_URL, walk._kwargs_for, walk._params_of

PORTAL_URLS = sorted(name for name, (role, _method) in ROLE_BY_URL.items() if role == PORTAL)
WITH_IDS = [name for name in PORTAL_URLS if _params_of(name)]


@pytest.fixture(scope="module")
def client_a_and_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Client A and the same records of theirs that the URL walk uses, made once for the
    module and rolled back at its end (what a test writes itself is undone after it);
    the photos' files are kept in a folder of the module's."""
    with (
        override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("portal-isolation-media")),
        kept_for_the_module(django_db_blocker),
    ):
        client_a = factories.ClientFactory(
            user=factories.ClientUserFactory(username="client-a"), first_name="Alice", last_name="Able"
        )
        yield client_a, walk.make_world(client_a)


@pytest.fixture
def _private_media():
    """The world's photos stay in the module's folder (see `client_a_and_world`)."""


@pytest.fixture
def client_a(client_a_and_world, db):
    return Client.objects.get(pk=client_a_and_world[0].pk)


@pytest.fixture
def world(client_a_and_world):
    return client_a_and_world[1]


# Every field staff write for themselves; none may reach a client.
INTERNAL_FIELDS = {
    Client: ["internal_notes"],
    Case: ["internal_notes", "regret_notes", "outcome_notes", "withdrawn_reason"],
    Consultation: ["internal_notes", "findings", "concerns", "recommendations"],
    Issue: ["description"],  # the portal shows no issues
    TreatmentPlan: ["internal_notes", "review_note"],
    LaserSession: ["internal_notes", "adverse_event_notes"],
    # The artist's technique, like laser parameters (never marked shareable for corrections).
    CorrectionSession: ["internal_notes", "pigment", "needle", "saline_solution"],
    FollowUp: ["notes", "review_note"],
    RuleOverride: ["reason", "message"],
}


def marker(model, field: str) -> str:
    return f"INTERNAL-{model.__name__}-{field}-MARKER"


def test_the_portal_has_pages_to_walk():
    assert len(PORTAL_URLS) >= 6, PORTAL_URLS


@pytest.mark.parametrize("name", WITH_IDS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_client_b_gets_404_for_each_of_client_a_ids(name, method, world, client_b, as_client_b):
    factories.CaseFactory(client=client_b)  # B has a case of their own
    ids = {key: value for key, value in world.items() if isinstance(value, uuid.UUID)}
    for param in _params_of(name):
        for key, value in ids.items():
            kwargs = {**_kwargs_for(name, world), param: value}
            response = getattr(as_client_b, method)(reverse(name, kwargs=kwargs))
            # A page that takes no POST says so (405) before it looks anything up.
            assert response.status_code in ({404} if method == "get" else {404, 405}), (
                name,
                param,
                key,
                response.status_code,
            )


@pytest.fixture
def marked(world, client_a):
    """Client A's records with a marker in every internal field, and one override."""
    session = LaserSession.objects.get(public_id=world["session_id"])
    session.status = "completed"
    session.save()
    RuleOverride.objects.create(
        case=session.case,
        laser_session=session,
        rule="zone_interval",
        message="x",
        reason="x",
        overridden_by=factories.StaffUserFactory(),
    )
    for model, fields in INTERNAL_FIELDS.items():
        rows = model.objects.filter(**_owner_filter(model, client_a))
        assert rows.exists(), model
        rows.update(**{field: marker(model, field) for field in fields})
    return world


def _owner_filter(model, client) -> dict:
    if model is Client:
        return {"pk": client.pk}
    if model is Case:
        return {"client": client}
    return {"case__client": client}


def test_no_internal_field_reaches_any_portal_page(marked, as_client_a):
    markers = [marker(model, field) for model, fields in INTERNAL_FIELDS.items() for field in fields]
    pages = 0
    for name in PORTAL_URLS:
        response = as_client_a.get(reverse(name, kwargs=_kwargs_for(name, marked)))
        assert response.status_code == 200, (name, response.status_code)
        if response["Content-Type"].startswith("application/pdf"):
            body = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
            assert "SMP-" in body  # the PDF's text was really read
        elif response["Content-Type"].startswith("image/"):
            continue
        else:
            body = response.content.decode()
        leaked = [m for m in markers if m in body]
        assert leaked == [], (name, leaked)
        pages += 1
    assert pages >= 6
