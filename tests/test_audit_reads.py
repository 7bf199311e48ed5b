"""Every page and file that shows a client's data writes its access event, naming the
record and the client, and costs one query for it: the insert, never a lookup."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.choices import PlanStatus
from cases.models import AccessEvent
from tests import factories
from tests.helpers import kept_for_the_module
from tests.signin import signed_in

pytestmark = pytest.mark.django_db
AUDIT_MIDDLEWARE = "cases.audit.AccessLogMiddleware"


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Client A's case with a plan, a photo shared with them, a plan waiting for review
    and a signed consent: something behind every audited page.

    Made once for the module (the tests only read it) and rolled back at its end; the
    access events a test's requests write are undone after it. The photo's files are kept
    in a folder of the module's."""
    with (
        override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("audit-reads-media")),
        kept_for_the_module(django_db_blocker),
    ):
        client_a = factories.ClientFactory(
            user=factories.ClientUserFactory(username="client-a"), first_name="Alice", last_name="Able"
        )
        yield {
            "client_a": client_a,
            "manager_user": factories.ManagerUserFactory(username="manager"),
            **_records(client_a),
        }


@pytest.fixture
def _private_media():
    """The world's photo stays in the module's folder (see `world`)."""


@pytest.fixture
def client_a(world):
    return world["client_a"]


@pytest.fixture
def manager_user(world):
    return world["manager_user"]


def _records(client_a) -> dict:
    case = factories.CaseFactory(client=client_a)
    agreed = factories.AcceptedPlanFactory(case=case)
    submitted = factories.TreatmentPlanFactory(
        case=factories.CaseFactory(client=client_a), status=PlanStatus.PROPOSED, submitted_at=agreed.accepted_at
    )
    photo = factories.PhotoFactory(case=case, shared_with_client=True)
    consent = factories.ConsentFactory(client=client_a)
    return {"case": case, "plan": agreed, "submitted": submitted, "photo": photo, "consent": consent}


def _last() -> AccessEvent:
    return AccessEvent.objects.order_by("-pk").first()


# (persona, URL name, the world's record in its URL, what, action, names client A)
READS = [
    ("as_staff", "cases:client_detail", "client", "client", "viewed", True),
    ("as_staff", "cases:case_detail", "case", "case", "viewed", True),
    ("as_staff", "cases:plan_detail", "plan", "plan", "viewed", True),
    ("as_manager", "cases:plan_review", "submitted", "plan review", "viewed", True),
    ("as_staff", "cases:photo_gallery", "case", "photo gallery", "viewed", True),
    ("as_staff", "cases:photo_compare", "case", "photo comparison", "viewed", True),
    ("as_staff", "cases:photo_file", "photo", "photo", "downloaded", True),
    ("as_staff", "cases:photo_screen", "photo", "photo screen", "downloaded", True),
    ("as_staff", "cases:photo_thumb", "photo", "photo thumb", "downloaded", True),
    ("as_client_a", "cases:photo_file", "photo", "photo", "downloaded", True),
    ("as_client_a", "cases:portal_plan", None, "portal plan", "viewed", True),
    ("as_client_a", "cases:portal_plan_pdf", None, "plan PDF", "downloaded", True),
    ("as_client_a", "cases:portal_appointments", None, "portal appointments", "viewed", True),
    ("as_client_a", "cases:portal_photos", None, "portal photos", "viewed", True),
    ("as_client_a", "cases:portal_photo_compare", None, "portal photo comparison", "viewed", True),
    ("as_client_a", "cases:portal_consents", None, "portal consents", "viewed", True),
    ("as_client_a", "cases:portal_consent_detail", "consent", "portal consent", "viewed", True),
    ("as_client_a", "cases:portal_aftercare", None, "portal aftercare", "viewed", True),
    ("as_staff", "cases:client_list", None, "client list", "viewed", False),
    ("as_manager", "cases:review_queue", None, "review queue", "viewed", False),
    ("as_manager", "cases:report_cases", None, "report: cases", "viewed", False),
    ("as_manager", "cases:report_cases_csv", None, "report CSV: cases", "downloaded", False),
]


def _url(name: str, key: str | None, world, client_a) -> tuple[str, str]:
    if key is None:
        return reverse(name), ""
    record = client_a if key == "client" else world[key]
    return reverse(name, args=[record.public_id]), str(record.public_id)


@pytest.mark.parametrize(("persona", "name", "key", "what", "action", "names_client"), READS)
def test_every_read_of_clinical_data_writes_one_event(
    request, world, client_a, persona, name, key, what, action, names_client
):
    http = request.getfixturevalue(persona)
    url, object_id = _url(name, key, world, client_a)
    with CaptureQueriesContext(connection) as captured:
        response = http.get(url, REMOTE_ADDR="198.51.100.23")
    assert response.status_code == 200, url
    inserts = [q for q in captured if q["sql"].startswith('INSERT INTO "cases_accessevent"')]
    assert len(inserts) == 1
    event = _last()
    assert (event.what, event.action, event.object_id) == (what, action, object_id)
    assert event.client_id == (client_a.pk if names_client else None)
    assert (event.status, event.ip, event.path) == (200, "198.51.100.23", url)
    assert event.user.username == {"as_staff": "staff", "as_manager": "manager", "as_client_a": "client-a"}[persona]


def test_a_refused_try_at_a_managers_page_is_written_as_denied(as_staff, staff_user, world):
    """403 (a role may not) is written like 404 (a record out of reach): the record asked
    for, no client, since nothing of theirs was shown."""
    plan = world["submitted"]
    response = as_staff.get(reverse("cases:plan_review", args=[plan.public_id]))
    assert response.status_code == 403
    event = _last()
    assert (event.action, event.what, event.object_id, event.status) == ("denied", "plan", str(plan.public_id), 403)
    assert (event.user, event.client) == (staff_user, None)


def test_a_client_asking_for_someone_elses_photo_file_is_written_as_denied(as_client_b, client_b, world):
    photo = world["photo"]
    assert as_client_b.get(reverse("cases:photo_file", args=[photo.public_id])).status_code == 404
    event = _last()
    assert (event.action, event.what, event.object_id) == ("denied", "photo", str(photo.public_id))
    assert (event.user, event.client) == (client_b.user, None)


def test_a_404_on_a_page_naming_no_record_writes_nothing(as_client_b, client_b):
    """A client with nothing yet (no plan) is answered 404 by the PDF: nothing was read,
    and the URL names no record, so nothing is written."""
    before = AccessEvent.objects.count()
    assert as_client_b.get(reverse("cases:portal_plan_pdf")).status_code == 404
    assert AccessEvent.objects.count() == before


# --- Cost: one query, the insert -------------------------------------------------------------


def _queries(http, url) -> list[str]:
    http.get(url)  # warm: the session's first-request writes are not the page's cost
    with CaptureQueriesContext(connection) as captured:
        assert http.get(url).status_code == 200, url
    return [q["sql"] for q in captured]


@pytest.mark.parametrize(
    ("persona", "name", "key"),
    [
        ("as_staff", "cases:client_detail", "client"),
        ("as_staff", "cases:case_detail", "case"),
        ("as_staff", "cases:plan_detail", "plan"),
        ("as_staff", "cases:photo_gallery", "case"),
        ("as_staff", "cases:photo_file", "photo"),
        ("as_staff", "cases:photo_thumb", "photo"),
        ("as_staff", "cases:client_edit", "client"),
        ("as_staff", "cases:photo_upload", "case"),
        ("as_staff", "cases:home", None),
        ("as_client_a", "cases:portal_plan", None),
        ("as_client_a", "cases:portal_plan_pdf", None),
        ("as_client_a", "cases:portal_photos", None),
    ],
)
def test_an_audited_page_costs_one_query_more_the_insert(request, world, client_a, persona, name, key):
    """The same page with and without the access log: the log adds its INSERT and no
    lookup (the client id comes from records the view loaded for its access check)."""
    user = client_a.user if persona == "as_client_a" else request.getfixturevalue("staff_user")
    url, _ = _url(name, key, world, client_a)
    audited = _queries(signed_in(user), url)
    with override_settings(MIDDLEWARE=[m for m in django_settings.MIDDLEWARE if m != AUDIT_MIDDLEWARE]):
        plain = _queries(signed_in(user), url)
    assert len(audited) == len(plain) + 1, (len(plain), len(audited))
    extra = [sql for sql in audited if "cases_accessevent" in sql]
    assert len(extra) == 1 and extra[0].startswith('INSERT INTO "cases_accessevent"')
