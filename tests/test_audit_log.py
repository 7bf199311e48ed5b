"""Who saw what, who signed in: both logs are written as things happen, cost one insert
per request, and can never be changed or deleted, through the app, the admin or SQL."""

from __future__ import annotations

import pytest
from axes.utils import reset as axes_reset
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from cases.models import AccessEvent
from smpclinic.models import AppendOnlyError, LoginEvent
from tests import factories
from tests.signin import signed_in

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests"


def inserts_into(table: str, captured) -> int:
    return sum(1 for q in captured if q["sql"].startswith(f'INSERT INTO "{table}"'))


def last_event() -> AccessEvent:
    return AccessEvent.objects.order_by("-pk").first()


@pytest.fixture
def case(client_a):
    return factories.CaseFactory(client=client_a)


# --- Reads are written, one insert per request ---------------------------------------------


@pytest.mark.parametrize(
    ("url_of", "what", "action"),
    [
        (lambda c, p: reverse("cases:client_detail", args=[c.client.public_id]), "client", "viewed"),
        (lambda c, p: reverse("cases:case_detail", args=[c.public_id]), "case", "viewed"),
        (lambda c, p: reverse("cases:photo_gallery", args=[c.public_id]), "photo gallery", "viewed"),
        (lambda c, p: reverse("cases:photo_file", args=[p.public_id]), "photo", "downloaded"),
        (lambda c, p: reverse("cases:photo_thumb", args=[p.public_id]), "photo thumb", "downloaded"),
    ],
)
def test_a_staff_read_writes_one_event_naming_the_client(as_staff, staff_user, case, url_of, what, action):
    photo = factories.PhotoFactory(case=case)
    with CaptureQueriesContext(connection) as captured:
        response = as_staff.get(url_of(case, photo), REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 200
    assert inserts_into("cases_accessevent", captured) == 1
    event = last_event()
    assert (event.user, event.what, event.action, event.client_id) == (staff_user, what, action, case.client_id)
    assert (event.status, event.ip) == (200, "198.51.100.7")


def test_a_plan_page_and_the_clients_own_portal_reads_are_written(as_staff, as_client_a, client_a, case):
    plan = factories.AcceptedPlanFactory(case=case)
    as_staff.get(reverse("cases:plan_detail", args=[plan.public_id]))
    assert (last_event().what, last_event().object_id, last_event().client_id) == (
        "plan",
        str(plan.public_id),
        client_a.pk,
    )
    for name, what in [
        ("cases:portal_plan", "portal plan"),
        ("cases:portal_aftercare", "portal aftercare"),
        ("cases:portal_plan_pdf", "plan PDF"),
    ]:
        assert as_client_a.get(reverse(name)).status_code == 200
        assert (last_event().what, last_event().user, last_event().client_id) == (what, client_a.user, client_a.pk)
    assert last_event().action == AccessEvent.Action.DOWNLOADED


def test_a_list_page_writes_one_event_with_its_search_however_many_rows(as_staff):
    for _ in range(12):
        factories.ClientFactory(last_name="Smith")
    with CaptureQueriesContext(connection) as captured:
        as_staff.get(reverse("cases:client_list"), {"q": "Smith"})
    assert inserts_into("cases_accessevent", captured) == 1
    event = last_event()
    assert event.what == "client list" and event.client is None and "q=Smith" in event.path


def test_a_report_csv_download_is_written(as_manager):
    as_manager.get(reverse("cases:report_cases_csv"), {"from": "2026-01-01", "to": "2026-06-30"})
    assert (last_event().what, last_event().action) == ("report CSV: cases", AccessEvent.Action.DOWNLOADED)


def test_a_refused_try_at_someone_elses_record_is_written_without_a_client(as_client_b, client_a, case, client_b):
    plan = factories.ApprovedPlanFactory(case=case)
    response = as_client_b.get(reverse("cases:portal_plan_accept", args=[plan.public_id]))
    assert response.status_code == 404
    event = last_event()
    assert (event.action, event.what, event.object_id) == (AccessEvent.Action.DENIED, "plan", str(plan.public_id))
    assert (event.user, event.client, event.status) == (client_b.user, None, 404)


def test_a_page_reading_nothing_clinical_writes_nothing(as_staff):
    before = AccessEvent.objects.count()
    as_staff.get(reverse("password_change"))
    assert AccessEvent.objects.count() == before


@pytest.mark.parametrize(("sent", "kept"), [(" 2001:DB8::0:1 ", "2001:db8::1"), ("tablet-7", None)])
def test_an_odd_address_is_kept_normalised_or_left_out_never_failing_the_request(
    clean_axes, staff_user, client_a, sent, kept
):
    """PostgreSQL's inet column refuses what is not an address: both logs keep it
    normalised, or keep none, rather than answering the person with a server error."""
    page = signed_in(staff_user).get(reverse("cases:client_detail", args=[client_a.public_id]), REMOTE_ADDR=sent)
    assert page.status_code == 200
    assert last_event().ip == kept
    asked = HttpClient(REMOTE_ADDR=sent).post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert asked.status_code == 302
    assert LoginEvent.objects.get(kind=LoginEvent.Kind.PASSWORD_RESET_REQUESTED).ip == kept


# --- Append-only ----------------------------------------------------------------------------


def test_events_cannot_be_changed_or_deleted_through_the_orm(staff_user, client_a):
    event = AccessEvent.objects.create(user=staff_user, action="viewed", what="client", client=client_a)
    login = LoginEvent.objects.create(kind=LoginEvent.Kind.FAILED, username="x")
    for record in (event, login):
        record.ip = "203.0.113.9"
        with pytest.raises(AppendOnlyError):
            record.save()
        with pytest.raises(AppendOnlyError):
            record.delete()
        with pytest.raises(AppendOnlyError):
            type(record).objects.filter(pk=record.pk).update(ip="203.0.113.9")
        with pytest.raises(AppendOnlyError):
            type(record).objects.filter(pk=record.pk).delete()
    assert AccessEvent.objects.get(pk=event.pk).ip is None
    assert LoginEvent.objects.filter(pk=login.pk).exists()


def test_the_admin_cannot_change_or_delete_an_event_even_for_a_superuser(as_admin, staff_user, client_a):
    event = AccessEvent.objects.create(user=staff_user, action="viewed", what="client", client=client_a)
    login = LoginEvent.objects.create(kind=LoginEvent.Kind.FAILED, username="x")
    for record, name in ((event, "cases_accessevent"), (login, "smpclinic_loginevent")):
        change = reverse(f"admin:{name}_change", args=[record.pk])
        delete = reverse(f"admin:{name}_delete", args=[record.pk])
        assert as_admin.get(change).status_code == 200  # shown, read-only
        assert as_admin.post(change, {"ip": "203.0.113.9", "what": "nothing"}).status_code == 403
        assert as_admin.post(delete, {"post": "yes"}).status_code == 403
        assert as_admin.get(reverse(f"admin:{name}_add")).status_code == 403
        assert not as_admin.get(reverse(f"admin:{name}_changelist")).context["action_form"]
        changelist = reverse(f"admin:{name}_changelist")
        as_admin.post(changelist, {"action": "delete_selected", "_selected_action": [record.pk], "post": "yes"})
        assert type(record).objects.filter(pk=record.pk, ip=None).exists()


@pytest.mark.parametrize("table", ["cases_accessevent", "smpclinic_loginevent"])
def test_on_postgresql_sql_cannot_change_or_delete_an_event_either(table, staff_user, client_a):
    """The trigger refuses UPDATE and DELETE even outside the app. (SQLite has no such
    trigger: there the model's refusal above is the guard, and this test checks that no
    trigger is assumed.)"""
    from django.db import DatabaseError, transaction

    AccessEvent.objects.create(user=staff_user, action="viewed", what="client", client=client_a)
    LoginEvent.objects.create(kind=LoginEvent.Kind.FAILED, username="x")
    statements = [f"UPDATE {table} SET ip = '203.0.113.9'", f"DELETE FROM {table}"]
    if connection.vendor == "postgresql":
        for sql in statements:
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
                cur.execute(sql)
        with connection.cursor() as cur:
            cur.execute(
                "SELECT tgenabled FROM pg_trigger WHERE tgname = %s AND tgrelid = %s::regclass",
                [f"{table}_append_only", table],
            )
            assert cur.fetchall() == [("O",)]  # installed by the migration, enabled
    else:
        with connection.cursor() as cur:
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table])
            assert cur.fetchall() == []  # SQLite: no trigger; the model's refusal is the guard
    with connection.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {table} WHERE ip IS NULL")
        assert cur.fetchone()[0] >= 1


# --- Sign-ins -------------------------------------------------------------------------------


@pytest.fixture
def clean_axes(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    axes_reset()
    yield
    axes_reset()


def test_sign_ins_failures_lockouts_and_unlocks_are_recorded_without_passwords(
    clean_axes, staff_user, as_manager, manager_user
):
    http = HttpClient(REMOTE_ADDR="192.0.2.10")
    http.post(reverse("login"), {"username": "staff", "password": "wrong-guess-123"})
    failed = LoginEvent.objects.get(kind=LoginEvent.Kind.FAILED)
    assert (failed.username, failed.user, failed.ip) == ("staff", None, "192.0.2.10")

    for _ in range(4):
        http.post(reverse("login"), {"username": "staff", "password": "wrong-guess-123"})
    assert LoginEvent.objects.filter(kind=LoginEvent.Kind.LOCKED_OUT, user=staff_user).exists()

    as_manager.post(reverse("lockouts"), {"username": "staff"})
    unlocked = LoginEvent.objects.get(kind=LoginEvent.Kind.UNLOCKED)
    assert (unlocked.user, unlocked.by) == (staff_user, manager_user)

    http.post(reverse("login"), {"username": "staff", "password": PASSWORD})
    signed_in = LoginEvent.objects.filter(kind=LoginEvent.Kind.LOGGED_IN, user=staff_user).latest("pk")
    assert signed_in.ip == "192.0.2.10"
    http.post(reverse("logout"))
    assert LoginEvent.objects.filter(kind=LoginEvent.Kind.LOGGED_OUT, user=staff_user).exists()

    stored = " ".join(str(v) for row in LoginEvent.objects.values_list("username", "user_agent", "ip") for v in row)
    assert "wrong-guess-123" not in stored and PASSWORD not in stored


def test_password_changes_and_reset_requests_are_recorded(clean_axes, staff_user):
    staff_user.email = "staff@example.com"
    staff_user.save()
    http = HttpClient()
    signed_in(staff_user, http)
    response = http.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "a-long-new-secret-42", "new_password2": "a-long-new-secret-42"},
    )
    assert response.status_code == 302
    changed = LoginEvent.objects.get(kind=LoginEvent.Kind.PASSWORD_CHANGED)
    assert (changed.user, changed.by) == (staff_user, None)

    HttpClient().post(reverse("password_reset"), {"email": "staff@example.com"})
    assert LoginEvent.objects.filter(kind=LoginEvent.Kind.PASSWORD_RESET_REQUESTED, username="staff@example.com")


def test_a_login_does_not_look_up_the_password_again(staff_user):
    """Saving `last_login` at sign-in is not a password change: no event, no extra query."""
    user = User.objects.get(pk=staff_user.pk)
    user.save(update_fields=["last_login"])
    assert not LoginEvent.objects.filter(kind=LoginEvent.Kind.PASSWORD_CHANGED).exists()


def test_a_password_set_from_a_reset_link_is_recorded(clean_axes, staff_user):
    uid = urlsafe_base64_encode(force_bytes(staff_user.pk))
    token = default_token_generator.make_token(staff_user)
    http = HttpClient(REMOTE_ADDR="192.0.2.44")
    link = http.get(reverse("password_reset_confirm", args=[uid, token]))
    new = "a-long-new-secret-43"
    assert http.post(link["Location"], {"new_password1": new, "new_password2": new}).status_code == 302
    done = LoginEvent.objects.get(kind=LoginEvent.Kind.PASSWORD_RESET)
    assert (done.user, done.by, done.ip) == (staff_user, None, "192.0.2.44")
    assert not LoginEvent.objects.filter(kind=LoginEvent.Kind.PASSWORD_CHANGED).exists()


def test_a_reset_asked_for_an_unknown_address_is_recorded_as_typed(clean_axes):
    HttpClient().post(reverse("password_reset"), {"email": "nobody@example.com"})
    asked = LoginEvent.objects.get(kind=LoginEvent.Kind.PASSWORD_RESET_REQUESTED)
    assert (asked.user, asked.username) == (None, "nobody@example.com")


def test_a_password_set_by_an_administrator_names_who_set_it(as_admin, admin_user, staff_user):
    new = "a-long-new-secret-44"
    url = reverse("admin:auth_user_password_change", args=[staff_user.pk])
    response = as_admin.post(url, {"password1": new, "password2": new, "usable_password": "true"})
    assert response.status_code == 302, response.content.decode()[:500]
    changed = LoginEvent.objects.get(kind=LoginEvent.Kind.PASSWORD_CHANGED)
    assert (changed.user, changed.by) == (staff_user, admin_user)
