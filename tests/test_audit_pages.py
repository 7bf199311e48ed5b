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

    as_manager.get(ACCESS)  # warm: a session's first request writes it, whatever the page
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


def test_managers_reach_both_logs_from_the_navigation_and_a_clients_page(as_manager, as_staff, client_a):
    """ "Audit" in the managers' menu opens the access log, which links the sign-in log;
    a client's page asks the access log who has seen it. Staff see neither."""
    detail = reverse("cases:client_detail", args=[client_a.public_id])
    who_has_seen = f'href="{ACCESS}?client={client_a.public_id}"'
    page = as_manager.get(detail).content.decode()
    assert f'href="{ACCESS}">Audit</a>' in page and who_has_seen in page
    assert f'href="{SIGN_INS}"' in as_manager.get(ACCESS).content.decode()
    staff_page = as_staff.get(detail).content.decode()
    assert ACCESS not in staff_page and who_has_seen not in staff_page


def test_a_user_in_the_sign_in_log_links_to_what_they_saw(as_manager, client_b, world):
    """From a sign-in to the user's reads: the link is the access log filtered on them."""
    LoginEvent.objects.create(kind=LoginEvent.Kind.LOGGED_IN, user=world["omar"], ip="192.0.2.5")
    page = as_manager.get(SIGN_INS, {"user": "omar"}).content.decode()
    link = f"{ACCESS}?user=omar"
    assert f'href="{link}"' in page
    seen = _rows(as_manager.get(link))
    assert {(e.user.username, e.client_id) for e in seen} >= {("omar", client_b.pk)}
    assert all(e.user.username == "omar" for e in seen)


def test_the_sign_in_log_is_paged_newest_first_and_filtered_by_date(as_manager):
    old = LoginEvent.objects.create(
        kind=LoginEvent.Kind.FAILED, username="old-try", at=timezone.now() - datetime.timedelta(days=40)
    )
    for n in range(101):
        LoginEvent.objects.create(kind=LoginEvent.Kind.FAILED, username=f"try-{n}")
    first = as_manager.get(SIGN_INS)
    assert first.context["page"]["has_next"] is True
    assert first.context["page"]["rows"][0].username == "try-100"
    second = _rows(as_manager.get(SIGN_INS, {"page": 2}))
    assert old in second
    today = timezone.localdate()
    last_week = {"since": (today - datetime.timedelta(days=7)).isoformat(), "page": 2}
    assert old not in _rows(as_manager.get(SIGN_INS, last_week))
    a_month_ago = {"until": (today - datetime.timedelta(days=30)).isoformat()}
    assert _rows(as_manager.get(SIGN_INS, a_month_ago)) == [old]


@pytest.mark.parametrize(
    ("filters", "column", "index"),
    [
        ({"client": "client A"}, "client_id", "accessevent_client_at"),
        ({"user": "nina"}, "user_id", "accessevent_user_at"),
        ({}, None, "accessevent_at"),
    ],
)
def test_each_filter_of_the_access_log_reads_an_index(client_a, client_b, world, filters, column, index):
    """A log grows without end: a page reads it through an index, never the whole table
    (the client and user are looked up first, so the filter is on their ids). PostgreSQL
    may take the (user, at) index or the user column's own for a user with few events."""
    from cases.forms.audit import AccessLogFilterForm

    AccessEvent.objects.bulk_create(
        AccessEvent(
            user=world["nina"] if n % 40 == 0 else world["omar"],
            action="viewed",
            what="client",
            client=client_a if n % 50 == 0 else client_b,
        )
        for n in range(5000)
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE cases_accessevent")
    form = AccessLogFilterForm({k: (client_a.public_id if v == "client A" else v) for k, v in filters.items()})
    assert form.is_valid()
    plan = form.events()[:101].explain()
    if connection.vendor == "postgresql":
        assert "Seq Scan on cases_accessevent" not in plan, plan
        assert (f"Index Cond: ({column} = " if column else f"Index Scan using {index}") in plan, plan
    else:
        assert f"USING INDEX {index}" in plan, plan
