"""Django admin: every page opens, clinical records are read-only and archived not deleted, big lists stay cheap.

What the admin refuses to write past the clinical rules is tested in test_admin_clinical_rules.py.
"""

from __future__ import annotations

import datetime

import pytest
from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth.models import User
from django.core import checks
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from simple_history.admin import SimpleHistoryAdmin

from cases import choices
from cases.models import (
    AccessEvent,
    Case,
    Client,
    LaserSession,
    PortalInvitation,
    RuleOverride,
    SentReminder,
    TreatmentPlan,
)
from smpclinic.models import ClinicSettings, LoginEvent
from smpclinic.paginators import ACTIVE_ROWS, WHOLE_TABLE, EstimatedCountPaginator
from tests import factories
from tests.helpers import assert_queries_hold, sql_of_get

DAY = datetime.timedelta(days=1)
OUR_APPS = ("cases", "artists", "smpclinic")
REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label_lower)
OURS = [model for model in REGISTERED if model._meta.app_label in OUR_APPS]

# Clinical records: read-only in the admin, for a superuser too (the rules live in the staff
# pages' services, see cases/admin.py); archivable ones keep the archive action.
CLINICAL_READ_ONLY = {
    "cases.client",
    "cases.case",
    "cases.consultation",
    "cases.issue",
    "cases.treatmentplan",
    "cases.planstep",
    "cases.lasersession",
    "cases.correctionsession",
    "cases.followup",
    "cases.photo",
    "cases.consent",
    "cases.ruleoverride",  # an audit record written when a warning is overridden
    "cases.portalinvitation",  # sent from the client page, which revokes the older link
    "cases.sentreminder",  # written by the reminder job
    "cases.booking",  # booked, moved and cancelled on the diary pages, which check overlaps
    "cases.calendarfeed",  # made and revoked from the portal and the diary; the token stays hidden
    "cases.referencecounter",  # written only by next_reference()
    "cases.accessevent",  # the append-only access log
    "smpclinic.loginevent",  # the append-only sign-in log
}
# Models whose add page is refused on purpose, with the reason in their ModelAdmin.
NO_ADD = CLINICAL_READ_ONLY | {
    "artists.certification",  # added and renewed on the team page, which checks the dates
    "cases.zonelookup",  # lookup rows mirror TextChoices
    "cases.regretreason",
    "cases.correctionoption",
    "cases.adverseeventkind",
    "artists.specialisation",
    "smpclinic.clinicsettings",  # a singleton, and the demo clinic has its row
    "django_tasks_database.dbtaskresult",  # tasks are enqueued by code, never typed in
}
# Read-only in admin: the change form cannot be posted.
VIEW_ONLY = CLINICAL_READ_ONLY


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def request_for(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


@pytest.fixture
def demo(db):
    """The demo clinic (seed_demo), plus the one kind of row it does not make: an override."""
    call_command("seed_demo", clients=8, seed=1, verbosity=0)
    session = LaserSession.objects.select_related("case").order_by("pk").first()
    RuleOverride.objects.create(
        case=session.case,
        laser_session=session,
        rule=choices.OverrideRule.ZONE_INTERVAL,
        message="Frontal hairline was treated 4 weeks ago.",
        reason="Test spot only, agreed with the client.",
        overridden_by=factories.ManagerUserFactory(),
    )
    client = session.case.client
    PortalInvitation.objects.create(
        client=client, token_hash="0" * 64, sent_to="client@example.com", expires_at=timezone.now() + DAY
    )
    SentReminder.objects.create(
        kind=choices.ReminderKind.CLIENT_SESSION, key=f"demo:{client.pk}", recipient="client@example.com", client=client
    )
    # One row of each audit log, written as the app writes them.
    AccessEvent.objects.create(action="viewed", what="client", object_id=str(client.public_id), client=client)
    LoginEvent.objects.create(kind=LoginEvent.Kind.FAILED, username="someone")
    # A task the worker finished, so the task-results admin has a row to open.
    DBTaskResult.objects.create(
        task_path="cases.tests.demo",
        args_kwargs={"args": [], "kwargs": {}},
        status="SUCCESSFUL",
        backend_name="default",
        run_after=timezone.now(),
    )


def test_every_model_is_registered():
    for app_label in OUR_APPS:
        for model in apps.get_app_config(app_label).get_models():
            if model.__name__.startswith("Historical"):
                continue
            assert model in admin.site._registry, f"{model._meta.label} has no admin"


def test_history_is_shown_for_every_model_that_keeps_it():
    for model in OURS:
        keeps_history = hasattr(model, "history")
        assert isinstance(admin.site._registry[model], SimpleHistoryAdmin) == keeps_history, model._meta.label


def test_admin_system_checks_pass():
    """Autocomplete targets need search_fields, list columns must exist…: Django checks it all."""
    assert checks.run_checks(tags=[checks.Tags.admin]) == []


def test_fieldsets_leave_no_editable_field_out():
    request = request_for(User(is_superuser=True))
    for model in OURS:
        model_admin = admin.site._registry[model]
        if not model_admin.fieldsets:
            continue
        shown = set(flatten_fieldsets(model_admin.get_fieldsets(request)))
        for field in model._meta.get_fields():
            if getattr(field, "editable", False) and not field.auto_created and field.concrete:
                assert field.name in shown, f"{model._meta.label}.{field.name} is in no fieldset"


def status_of(http, method: str, path: str, data=None) -> int | str:
    """The response's status, or the error a view raised, so one walk reports every page.
    A changelist's row count is kept on the client as `last_changelist_rows`."""
    try:
        response = getattr(http, method)(path, data)
    except Exception as error:
        return repr(error)
    changelist = response.context and response.context.get("cl")
    http.last_changelist_rows = changelist.result_count if changelist else None
    return response.status_code


def first_row(model):
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"the demo data has no {model._meta.label} to open"
    return obj


def test_every_admin_page_opens(as_admin, demo):
    """Changelist (with and without a search), add, change and history of every registered model."""
    wrong = {}
    for model in REGISTERED:
        obj = first_row(model)
        expected = {
            url(model, "changelist"): 200,
            url(model, "add"): 403 if model._meta.label_lower in NO_ADD else 200,
            url(model, "change", obj.pk): 200,
            url(model, "history", obj.pk): 200,
        }
        if admin.site._registry[model].search_fields:
            expected[url(model, "changelist") + "?q=a"] = 200
        for path, status in expected.items():
            if (actual := status_of(as_admin, "get", path)) != status:
                wrong[path] = actual
            elif path == url(model, "changelist") and as_admin.last_changelist_rows < 1:
                wrong[path] = "lists no rows"

    assert wrong == {}


def post_data_of(response) -> dict:
    """The change form as the browser would post it back unchanged, inlines included."""
    data = {}
    formsets = [admin_formset.formset for admin_formset in response.context["inline_admin_formsets"]]
    all_forms = [response.context["adminform"].form]
    for formset in formsets:
        all_forms += [formset.management_form, *formset.forms]
    for form in all_forms:
        for field in form:
            widget = getattr(field.field.widget, "widget", field.field.widget)  # unwrap the "+" link wrapper
            value = field.value()
            if isinstance(widget, forms.MultiWidget):  # date and time halves
                parts = value if isinstance(value, list) else widget.decompress(value)
                for index, (part_widget, part) in enumerate(zip(widget.widgets, parts, strict=True)):
                    data[f"{field.html_name}_{index}"] = part_widget.format_value(part) or ""
            elif isinstance(widget, forms.CheckboxInput):
                if value:
                    data[field.html_name] = "on"
            elif isinstance(widget, forms.SelectMultiple | forms.CheckboxSelectMultiple):
                data[field.html_name] = [str(item) for item in value or []]
            else:
                data[field.html_name] = "" if value is None else str(value)
    return data


def test_every_change_form_saves_unchanged(as_admin, demo):
    """Posting a change form back as it came must save: no constraint the form cannot see."""
    wrong = {}
    for model in OURS:
        change_url = url(model, "change", first_row(model).pk)
        data = post_data_of(as_admin.get(change_url))
        expected = 403 if model._meta.label_lower in VIEW_ONLY else 302
        try:
            response = as_admin.post(change_url, {**data, "_save": "Save"})
        except Exception as error:
            wrong[change_url] = repr(error)
            continue
        if response.status_code != expected:
            wrong[change_url] = (response.status_code, response.context and response.context["errors"])

    assert wrong == {}


# Archived, never deleted


def test_nothing_clinical_can_be_deleted(as_admin, admin_user, demo):
    request = request_for(admin_user)
    clinical = [model for model in OURS if model._meta.app_label in ("cases", "artists")]
    for model in [*clinical, ClinicSettings, LoginEvent]:
        model_admin = admin.site._registry[model]
        obj = first_row(model)
        label = model._meta.label

        assert model_admin.has_delete_permission(request, obj) is False, label
        assert "delete_selected" not in model_admin.get_actions(request), label
        assert as_admin.get(url(model, "delete", obj.pk)).status_code == 403, label
        assert as_admin.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403, label
        assert model._default_manager.filter(pk=obj.pk).exists(), label


def test_archived_filter_shows_active_records_by_default(as_admin, db):
    active = factories.ClientFactory(last_name="Present")
    archived = factories.ClientFactory(last_name="Gone")
    archived.archive(by=None, reason="Duplicate record")
    changelist = url(Client, "changelist")

    def listed(**params) -> set[Client]:
        response = as_admin.get(changelist, params)
        assert response.status_code == 200
        return set(response.context["cl"].result_list)

    assert listed() == {active}
    assert listed(archived="yes") == {archived}
    assert listed(archived="all") == {active, archived}

    cl = as_admin.get(changelist).context["cl"]
    choices_shown = [(choice["display"], choice["selected"]) for choice in cl.filter_specs[0].choices(cl)]
    assert choices_shown == [("Active", True), ("Archived", False), ("All", False)]


def test_archive_action_archives_with_who_and_why(as_admin, admin_user, db):
    first, second = factories.CaseFactory.create_batch(2)
    keep = factories.CaseFactory()

    response = as_admin.post(
        url(Case, "changelist"),
        {
            "action": "archive_selected",
            "_selected_action": [first.pk, second.pk],
            "index": "0",
            "reason": "  Opened twice by mistake  ",
        },
    )

    assert response.status_code == 302
    for case in (first, second):
        case.refresh_from_db()
        assert case.is_archived
        assert case.archived_by == admin_user
        assert case.archive_reason == "Opened twice by mistake"
        assert case.history.first().history_user == admin_user  # the archiving is in its history
    keep.refresh_from_db()
    assert not keep.is_archived


def test_archive_action_needs_a_reason(as_admin, db):
    case = factories.CaseFactory()

    response = as_admin.post(
        url(Case, "changelist"),
        {"action": "archive_selected", "_selected_action": [case.pk], "index": "0", "reason": "  "},
        follow=True,
    )

    case.refresh_from_db()
    assert not case.is_archived
    assert [str(m) for m in response.context["messages"]] == [
        "Nothing was archived: type the reason in the box next to the action."
    ]


def test_archive_action_needs_the_archive_permission(db):
    staff = factories.StaffUserFactory(is_staff=True)
    manager = factories.ManagerUserFactory(is_staff=True)
    case_admin = admin.site._registry[Case]

    assert "archive_selected" not in case_admin.get_actions(request_for(staff))
    assert "archive_selected" in case_admin.get_actions(request_for(manager))


# Singletons, read-only records, workflow rules


def test_clinic_settings_can_be_added_only_while_missing(as_admin, db):
    ClinicSettings.objects.all().delete()
    assert as_admin.get(url(ClinicSettings, "add")).status_code == 200

    ClinicSettings.load()

    assert as_admin.get(url(ClinicSettings, "add")).status_code == 403
    assert as_admin.get(url(ClinicSettings, "delete", 1)).status_code == 403


def test_case_cannot_be_added_in_admin(as_admin, db):
    """Cases are opened in the clinic's pages (case_open takes the next reference, locked)."""
    client = factories.ClientFactory()
    add_url = url(Case, "add")
    data = {"client": client.pk, "status": choices.CaseStatus.CONSULTATION, "opened_on_0": "02/03/2026"}

    assert as_admin.get(add_url).status_code == 403
    assert as_admin.post(add_url, {**data, "_save": "Save"}).status_code == 403
    assert not Case.objects.filter(client=client).exists()


def test_plan_cannot_be_marked_accepted_in_admin_without_approval(as_admin, db):
    plan = factories.TreatmentPlanFactory()
    change_url = url(TreatmentPlan, "change", plan.pk)
    data = post_data_of(as_admin.get(change_url))

    response = as_admin.post(change_url, {**data, "status": choices.PlanStatus.ACCEPTED, "_save": "Save"})

    assert response.status_code == 403  # plans are read-only here: the plan pages approve and accept
    plan.refresh_from_db()
    assert plan.status == choices.PlanStatus.DRAFT


def test_plan_kirby_desai_scores_cannot_be_changed_in_admin(as_admin, db):
    plan = factories.TreatmentPlanFactory()
    change_url = url(TreatmentPlan, "change", plan.pk)
    data = post_data_of(as_admin.get(change_url))

    response = as_admin.post(change_url, {**data, "kd_colour": "", "kd_total": "", "_save": "Save"})

    assert response.status_code == 403
    plan.refresh_from_db()
    assert plan.kd_colour == 1


def test_client_search_uses_names_emails_and_case_references(as_admin, db):
    case = factories.CaseFactory(client__last_name="Okafor", client__email="chidi@example.com")
    other = factories.ClientFactory(last_name="Nakamura")
    changelist = url(Client, "changelist")

    def found(term: str) -> set[Client]:
        return set(as_admin.get(changelist, {"q": term}).context["cl"].result_list)

    assert found("oka") == {case.client}
    assert found("chidi@") == {case.client}
    assert found(case.reference.lower()) == {case.client}
    assert found("kamura") == set()  # from the start of a name only
    assert found("naka") == {other}


# Big changelists: constant queries, no whole-table count


@pytest.mark.parametrize("model", [Client, Case], ids=["client", "case"])
def test_changelist_queries_do_not_grow_with_rows(as_admin, db, model):
    path = url(model, "changelist")
    for _ in range(5):
        factories.CaseFactory()
    as_admin.get(path)  # first request warms per-process caches (content types…)
    with_5 = sql_of_get(as_admin, path)

    for _ in range(25):
        factories.CaseFactory()
    with_30 = sql_of_get(as_admin, path)

    assert as_admin.get(path).context["cl"].result_count == 30
    assert_queries_hold(with_5, with_30)
    # Facet counts (one COUNT per filter choice) are switched off, even when asked for.
    assert len(sql_of_get(as_admin, path + "?_facets=True")) == len(with_30)


class AlwaysEstimate(EstimatedCountPaginator):
    exact_below = 0  # the threshold that keeps small tables exact, lowered to test the estimate


def test_paginator_estimates_from_statistics_on_postgresql(db):
    factories.ClientFactory.create_batch(12)
    factories.ClientFactory().archive(by=None, reason="Duplicate record")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE cases_client")  # statistics now say 13 rows
    factories.ClientFactory.create_batch(3)  # 16 rows, 15 active; the statistics do not know yet

    with CaptureQueriesContext(connection) as whole_table_queries:
        whole_table = AlwaysEstimate(Client.objects.all(), 10, rows=WHOLE_TABLE).count
    active = AlwaysEstimate(Client.objects.active(), 10, rows=ACTIVE_ROWS).count
    filtered = AlwaysEstimate(Client.objects.filter(last_name__startswith="Z"), 10).count
    small_table = EstimatedCountPaginator(Client.objects.all(), 10, rows=WHOLE_TABLE).count
    sql = " ".join(query["sql"] for query in whole_table_queries.captured_queries)

    assert filtered == Client.objects.filter(last_name__startswith="Z").count()
    assert small_table == 16  # below the threshold the count is exact on every database
    if connection.vendor == "postgresql":
        assert whole_table == 13  # pg_class.reltuples from the ANALYZE…
        assert "pg_class" in sql and "COUNT(" not in sql  # …and no COUNT(*) at all
        assert active == 12  # the estimate less the archived rows, which are counted
    else:
        assert (whole_table, active) == (16, 15)  # SQLite: always the exact count
        assert "pg_class" not in sql and "COUNT(" in sql


@pytest.mark.parametrize(
    ("query", "rows"),
    [
        ({}, ACTIVE_ROWS),
        ({"o": "2", "p": "3", "_facets": "True"}, ACTIVE_ROWS),
        ({"archived": "all"}, WHOLE_TABLE),
        ({"archived": "yes"}, None),
        ({"q": "able"}, None),
        ({"archived": "all", "fitzpatrick_type__exact": "III"}, None),
    ],
)
def test_the_admin_asks_for_an_estimate_only_for_the_whole_list(rf, query, rows):
    from django.contrib import admin as django_admin

    client_admin = django_admin.site._registry[Client]
    assert client_admin.listed_rows(rf.get("/", query)) == rows


def test_an_audit_log_without_archiving_is_estimated_only_unfiltered(rf):
    from django.contrib import admin as django_admin

    log_admin = django_admin.site._registry[AccessEvent]
    assert log_admin.listed_rows(rf.get("/")) == WHOLE_TABLE
    assert log_admin.listed_rows(rf.get("/", {"at__year": "2026"})) is None


def test_client_changelist_uses_the_estimate_on_postgresql(as_admin, db, monkeypatch):
    factories.ClientFactory.create_batch(4)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE cases_client")
    factories.ClientFactory.create_batch(2)
    monkeypatch.setattr(EstimatedCountPaginator, "exact_below", 0)

    response = as_admin.get(url(Client, "changelist"))
    searched = as_admin.get(url(Client, "changelist"), {"q": Client.objects.first().email})

    cl = response.context["cl"]
    assert cl.show_full_result_count is False and cl.full_result_count is None
    assert searched.context["cl"].result_count == 1  # a search always counts exactly
    # The default (active) list of the whole table: the estimate on PostgreSQL, exact elsewhere.
    assert cl.result_count == (4 if connection.vendor == "postgresql" else 6)


# Records that are not clinical facts: lookups mirroring choices, counters, audit logs (themselves
# append-only), invitations and sent reminders (their own timestamps are their record).
WITHOUT_HISTORY = {
    "cases.accessevent",
    "cases.zonelookup",
    "cases.regretreason",
    "cases.correctionoption",
    "cases.adverseeventkind",
    "cases.referencecounter",
    "cases.portalinvitation",
    "cases.sentreminder",
    "cases.calendarfeed",  # a key, made and revoked: when is in its own columns
    "artists.specialisation",
    "smpclinic.loginevent",
}


def test_every_clinical_model_keeps_its_history():
    """Photos, consents, overrides, plan steps and every other clinical record keep each
    change in their history; a new model must join the history or this list."""
    from django.apps import apps as django_apps

    missing = [
        model._meta.label_lower
        for app in ("cases", "artists", "smpclinic")
        for model in django_apps.get_app_config(app).get_models()
        if not model.__name__.startswith("Historical")
        and not hasattr(model, "history")
        and model._meta.label_lower not in WITHOUT_HISTORY
    ]
    assert missing == []
    for label in ("cases.photo", "cases.consent", "cases.ruleoverride", "cases.planstep"):
        assert hasattr(django_apps.get_model(label), "history"), label
