"""The managers' audit pages answer "who looked at this client's record last month?" and
"what did this user see last week?", on the page and as CSV."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import AccessEvent
from smpclinic.models import LoginEvent
from tests import factories

pytestmark = pytest.mark.django_db
ACCESS = reverse("cases:access_log")
ACCESS_CSV = reverse("cases:access_log_csv")
SIGN_INS = reverse("cases:sign_in_log")


def _event(user, client, days_ago: int, what="client"):
    """An event as the middleware writes it, dated `days_ago` (written once: `at` is set
    before the insert, never after)."""
    return AccessEvent.objects.create(
        user=user,
        action="viewed",
        what=what,
        object_id=str(client.public_id),
        client=client,
        at=timezone.now() - datetime.timedelta(days=days_ago),
    )


@pytest.fixture
def world(client_a, client_b):
    nina = factories.StaffUserFactory(username="nina")
    omar = factories.StaffUserFactory(username="omar")
    _event(nina, client_a, 20)
    _event(omar, client_a, 50)  # two months ago: outside "last month"
    _event(omar, client_b, 3, what="case")
    _event(nina, client_b, 40)
    return {"nina": nina, "omar": omar}


def _rows(response) -> list[AccessEvent]:
    return response.context["page"]["rows"]


def test_who_looked_at_a_clients_record_last_month(as_manager, client_a, world):
    today = timezone.localdate()
    response = as_manager.get(
        ACCESS,
        {"client": client_a.public_id, "since": (today - datetime.timedelta(days=30)).isoformat()},
    )
    rows = [e for e in _rows(response) if e.user and e.user.username in ("nina", "omar")]
    assert [(e.user.username, e.client_id) for e in rows] == [("nina", client_a.pk)]
    assert response.context["client"] == client_a
    assert "Access log: Alice Able" in response.content.decode()


def test_what_a_user_saw_last_week(as_manager, client_b, world):
    today = timezone.localdate()
    response = as_manager.get(ACCESS, {"user": "omar", "since": (today - datetime.timedelta(days=7)).isoformat()})
    assert [(e.what, e.client_id) for e in _rows(response)] == [("case", client_b.pk)]


def test_a_client_is_found_by_name_or_case_reference(as_manager, client_a, world):
    case = factories.CaseFactory(client=client_a)
    by_name = {e.client_id for e in _rows(as_manager.get(ACCESS, {"who": "alice"}))}
    by_reference = {e.client_id for e in _rows(as_manager.get(ACCESS, {"who": case.reference}))}
    assert by_name == by_reference == {client_a.pk}


def test_the_csv_holds_the_filtered_events_and_is_itself_audited(as_manager, manager_user, client_a, world):
    response = as_manager.get(ACCESS_CSV, {"client": client_a.public_id})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Time (clinic)", "User", "Action"]
    assert sorted(r[1] for r in rows[1:] if r[1] in ("nina", "omar")) == ["nina", "omar"]
    assert all(r[5] == "Alice Able" for r in rows[1:] if r[1] in ("nina", "omar"))
    download = AccessEvent.objects.order_by("-pk").first()
    assert (download.user, download.what, download.action) == (manager_user, "access log CSV", "downloaded")


def test_a_bad_date_is_a_field_error_not_a_page_of_everything(as_manager, world):
    response = as_manager.get(ACCESS, {"since": "9999-12-31"})
    assert response.status_code == 200
    assert response.context["page"] is None
    assert "Choose a date between" in response.content.decode()


def test_the_access_log_page_takes_as_many_queries_for_many_events(as_manager, client_a, world):
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert as_manager.get(ACCESS).status_code == 200
        return len(captured)

    few = count()
    for n in range(150):
        _event(world["nina"], client_a, n % 30)
    many = count()
    assert few == many <= 8
    assert as_manager.get(ACCESS).context["page"]["has_next"] is True


def test_the_sign_in_log_filters_by_user_and_kind(as_manager, staff_user):
    LoginEvent.objects.create(kind=LoginEvent.Kind.FAILED, username="staff", ip="192.0.2.1")
    LoginEvent.objects.create(kind=LoginEvent.Kind.LOGGED_IN, user=staff_user, ip="192.0.2.1")
    LoginEvent.objects.create(kind=LoginEvent.Kind.FAILED, username="nobody")
    response = as_manager.get(SIGN_INS, {"user": "staff"})
    assert {e.kind for e in _rows(response)} == {"failed", "logged_in"}
    response = as_manager.get(SIGN_INS, {"kind": "failed"})
    assert {e.username for e in _rows(response)} >= {"staff", "nobody"}
    assert all(e.kind == "failed" for e in _rows(response))
    sheet = as_manager.get(reverse("cases:sign_in_log_csv"), {"user": "staff"}).content.decode("utf-8-sig")
    assert "Wrong password" in sheet and "nobody" not in sheet


def test_staff_cannot_read_the_logs(as_staff):
    for url in (ACCESS, ACCESS_CSV, SIGN_INS, reverse("cases:sign_in_log_csv")):
        assert as_staff.get(url).status_code == 403
