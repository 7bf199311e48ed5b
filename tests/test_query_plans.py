"""The hot pages' queries read an index, not the whole table, on the database in use.

Timings are not tests, but query plans are: with a few thousand rows and fresh
statistics, the queries behind the staff home's "recently changed cases", the client
list and search, and the review queue's sections, must read their indexes, on
PostgreSQL (`EXPLAIN (FORMAT JSON)`) and on SQLite (`EXPLAIN QUERY PLAN`), so a change
that loses an index fails here rather than at a clinic with 100,000 clients.
"""

from __future__ import annotations

import datetime
import json

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.choices import AdverseEventChoice, CaseStatus, Healing, Outcome, PlanStatus, SessionStatus
from cases.models import (
    AdverseEventKind,
    Case,
    Client,
    CorrectionSession,
    FollowUp,
    Issue,
    LaserSession,
    TreatmentPlan,
)
from cases.views.home import HOME_LIST_LIMIT, scheduled_session_values
from tests import factories
from tests.helpers import kept_for_the_module


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _explained(queryset) -> list:
    """The plan of the queryset's query, on fresh statistics: PostgreSQL's nodes
    (`EXPLAIN (FORMAT JSON)`), or SQLite's detail lines (`EXPLAIN QUERY PLAN`)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
            raw = cursor.fetchone()[0]
            return list(_nodes((json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]))
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return [row[-1] for row in cursor.fetchall()]


def plan_of(queryset) -> tuple[set[str], set[str]]:
    """(tables read sequentially, indexes used) by the queryset's query."""
    if connection.vendor == "postgresql":
        nodes = _explained(queryset)
        scanned = {n["Relation Name"] for n in nodes if n["Node Type"] == "Seq Scan"}
        return scanned, {n["Index Name"] for n in nodes if "Index Name" in n}
    details = _explained(queryset)
    scanned = {d.split()[1] for d in details if d.startswith("SCAN ") and " USING " not in d}
    # "SEARCH cases_case USING INDEX name (reference=?)": the name, and on SQLite the
    # columns searched too, since a UNIQUE column's index has a generated name there.
    indexes = {d.split(" INDEX ")[1] for d in details if " INDEX " in d}
    return scanned, indexes


@pytest.fixture(scope="module")
def clinic(django_db_setup, django_db_blocker):
    """Cases enough that reading the whole table would be the planner's second choice,
    made once for the module (3,000 of them take seconds to build). A test or fixture that
    changes them asks for `db` too, so that its changes are undone after it."""
    with kept_for_the_module(django_db_blocker):
        yield _make_clinic()


def _make_clinic() -> None:
    clients = Client.objects.bulk_create(factories.ClientFactory.build_batch(3000))
    new_case = factories.maker(factories.CaseFactory, lead_artist=factories.ArtistFactory())
    Case.objects.bulk_create(
        [new_case(client=client, reference=f"SMP-2026-{i:05d}") for i, client in enumerate(clients)]
    )


def test_recently_changed_cases_walk_their_index(clinic, staff_user):
    recent = Case.objects.visible_to(staff_user).for_list().order_by("-updated_at", "-pk")[:10]

    scanned, indexes = plan_of(recent)

    assert "case_live_recently_changed" in indexes, (scanned, indexes)
    assert "cases_case" not in scanned


def test_the_client_list_walks_its_name_order_index(clinic, staff_user):
    from cases.views.clients import LIST_ORDER

    first_page = Client.objects.visible_to(staff_user).for_list().order_by(*LIST_ORDER)[:25]
    scanned, indexes = plan_of(first_page)
    assert "cases_client" not in scanned
    assert "client_list_order" in indexes


def test_a_case_reference_finds_its_client_through_the_reference_index(clinic, staff_user):
    found = Client.objects.visible_to(staff_user).search("smp-2026-00042")

    scanned, indexes = plan_of(found)

    assert [client.cases.get().reference for client in found] == ["SMP-2026-00042"]
    assert "cases_case" not in scanned, (scanned, indexes)
    assert any("reference" in name for name in indexes), indexes
    assert "DISTINCT" not in str(found.query)


def test_a_whole_email_address_finds_its_owner_through_the_upper_email_index(clinic, staff_user):
    owner = Client.objects.order_by("pk")[1234]
    found = Client.objects.visible_to(staff_user).search(owner.email.upper())

    scanned, indexes = plan_of(found)

    assert list(found) == [owner]
    assert "cases_client" not in scanned, (scanned, indexes)
    assert any(name.startswith("client_email_upper") for name in indexes), indexes


COLUMNS = ("first_name", "last_name", "email", "phone")


def test_a_name_search_has_trigram_indexes_on_postgresql(clinic, staff_user):
    """On PostgreSQL the parts of names, e-mail and phone are looked up in trigram
    indexes (at 100,000 clients the planner reads them as a BitmapOr; at test size a scan
    is cheaper, so here their presence and shape are checked). SQLite has none, and there
    the search reads the table, which is fine at a small clinic's size."""
    Client.objects.filter(pk__in=Client.objects.values("pk")[:3]).update(last_name="Quixwortham")
    found = Client.objects.visible_to(staff_user).search("xworth")

    assert found.count() == 3
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'cases_client'")
            definitions = dict(cursor.fetchall())
            # The names without their accents, the expression the search compares (and
            # the names as written, for the admin's search by their start).
            expected = {f"client_search_{column}_trgm": f"upper(({column})::text)" for column in COLUMNS}
            for column in ("first_name", "last_name"):
                expected[f"client_search_{column}_unaccented_trgm"] = f"upper(smp_unaccent(({column})::text))"
            for name, compared in expected.items():
                definition = definitions[name]
                assert "USING gin" in definition and "gin_trgm_ops" in definition, definition
                assert compared in definition and "archived_at IS NULL" in definition, definition
            sql, params = Client.objects.search("lopez").query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "smp_unaccent" in plan, plan
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE '%trgm%'")
            assert cursor.fetchall() == []


def test_part_of_a_case_reference_has_a_trigram_index_on_postgresql(clinic, staff_user):
    """Part of a reference (its start, or its year and number) finds the clients of the
    cases whose reference holds it; on PostgreSQL from a trigram index on the reference
    (at test size the planner may still prefer a scan, so its presence and shape are
    checked, as for the names)."""
    found = Client.objects.visible_to(staff_user).search("2026-0004")

    assert sorted(c.cases.get().reference for c in found) == [f"SMP-2026-{i:05d}" for i in range(40, 50)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'case_reference_trgm'")
            (definition,) = cursor.fetchone()
            assert (
                "USING gin" in definition and "gin_trgm_ops" in definition and "upper((reference)::text)" in definition
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE '%trgm%'")
            assert cursor.fetchall() == []


@pytest.fixture
def follow_ups(clinic, manager_user):
    """Follow-ups of every status on those cases, most long done and reviewed, as at a
    clinic with years of history: the review queue's rows are a small part of them."""
    today = datetime.date(2026, 11, 25)
    cases = list(Case.objects.order_by("pk"))
    new_scheduled = factories.maker(factories.FollowUpFactory, case=cases[0])
    new_completed = factories.maker(factories.CompletedFollowUpFactory, case=cases[0], assignee=None)
    rows = []
    for i, case in enumerate(cases):
        due = today - datetime.timedelta(days=i % 700 - 30)
        if i % 10 == 0:
            rows.append(new_scheduled(case=case, due_on=due))
        elif i % 10 == 1:
            # Waiting for review, one in seven with an adverse finding.
            adverse = {"healing": Healing.DELAYED} if i % 70 == 1 else {"unexpected_side_effects": i % 70 == 11}
            rows.append(new_completed(case=case, due_on=due, completed_on=due, **adverse))
        else:
            rows.append(
                new_completed(
                    case=case, due_on=due, completed_on=due, reviewed_at=timezone.now(), reviewed_by=manager_user
                )
            )
    FollowUp.objects.bulk_create(rows)
    # A plan on every case, one in thirty still waiting for approval.
    new_plan = factories.maker(factories.TreatmentPlanFactory, case=cases[0])
    plans = [
        new_plan(
            case=case,
            status=PlanStatus.PROPOSED if i % 30 == 0 else PlanStatus.DRAFT,
            submitted_at=timezone.now() if i % 30 == 0 else None,
        )
        for i, case in enumerate(cases)
    ]
    for plan in plans:
        plan._set_kd_total()  # what save() does, which bulk_create skips
    TreatmentPlan.objects.bulk_create(plans)
    return today


# The indexes that hold scheduled follow-ups only, or lead with the status (SQLite names
# an index with the columns it searches: "followup_status_due (status=? AND due_on<?)").
SCHEDULED_ONLY = {"followup_scheduled_due", "followup_status_due"}


def test_the_review_queue_walks_and_counts_from_its_indexes(follow_ups, manager_user):
    from cases.views.review import MAX_ROWS, PAGE_ROWS

    rows = max(PAGE_ROWS.values())  # the longest page a section shows
    today = follow_ups
    live = FollowUp.objects.visible_to(manager_user).on_live_cases().for_review()
    awaiting = live.awaiting_review()
    walks = {
        "followup_status_due": [live.overdue(today), live.due_soon(today)],
        "followup_awaiting_review": [
            awaiting.for_review_with_findings(adverse=True),
            awaiting.for_review_with_findings(adverse=False),
        ],
    }
    for index, querysets in walks.items():
        for queryset in querysets:
            scanned, indexes = plan_of(queryset.order_by("due_on", "pk")[: rows + 1])
            assert not scanned & {"cases_followup", "cases_case", "cases_client"}, scanned
            # SQLite cannot prove that a query with bound parameters meets a partial
            # index's condition, so there the rows are walked by the due date's index.
            if connection.vendor == "postgresql":
                assert index in indexes, (index, scanned, indexes)

    plans = (
        TreatmentPlan.objects.visible_to(manager_user)
        .filter(status=PlanStatus.PROPOSED, approved_at__isnull=True)
        .order_by("submitted_at", "pk")[: rows + 1]
    )
    scanned, indexes = plan_of(plans)
    assert "cases_treatmentplan" not in scanned, (scanned, indexes)
    if connection.vendor == "postgresql":
        assert "plan_awaiting_approval" in indexes, (scanned, indexes)

    # The overdue and due-soon lists are counted (at most 101 rows each, `capped_counts`)
    # from an index of scheduled follow-ups (on PostgreSQL the partial index of the live
    # ones, `followup_scheduled_due`, at a large clinic), also under a filter that leaves
    # none of them: counted by walking every follow-up's case index, such a filter made
    # PostgreSQL read every follow-up and every case.
    counted = FollowUp.objects.visible_to(manager_user, counting=True)
    # (the lists, whether they must be read from a scheduled follow-ups' index): by case
    # status, going from the few closed cases here to their follow-ups is as good a plan.
    # The rows awaiting review, with and without adverse findings, are counted from
    # their own partial index alone, which holds what the counts filter on (SQLite,
    # which cannot prove the index's condition, reads the table).
    for adverse in (True, False):
        walk = counted.awaiting_review().for_review_with_findings(adverse=adverse)
        scanned, indexes = plan_of(walk.order_by().values("pk")[: MAX_ROWS + 1])
        if connection.vendor == "postgresql":
            assert "cases_followup" not in scanned and "followup_awaiting_review" in indexes, (scanned, indexes)

    lists = [(counted, True), (counted.filter(kind="maintenance"), True)]
    lists.append((counted.filter(case__status=CaseStatus.CLOSED), False))
    for filtered, from_scheduled in lists:
        for walk in (filtered.overdue(today), filtered.due_soon(today)):
            scanned, indexes = plan_of(walk.order_by().values("pk")[: MAX_ROWS + 1])
            assert "cases_followup" not in scanned, (scanned, indexes)
            of_follow_ups = {name.split(" (")[0] for name in indexes if "follo" in name}
            if from_scheduled:
                assert of_follow_ups and of_follow_ups <= SCHEDULED_ONLY, (scanned, indexes)


@pytest.fixture
def years_of_issues(clinic, db):
    """The cases opened over eight years, an issue each, and two archived clients: a
    month's report reads a small part of them."""
    start = datetime.date(2019, 1, 1)
    cases = list(Case.objects.order_by("pk"))
    for i, case in enumerate(cases):
        case.opened_on = start + datetime.timedelta(days=i)
    Case.objects.bulk_update(cases, ["opened_on"])
    new_issue = factories.maker(factories.IssueFactory, case=cases[0])
    Issue.objects.bulk_create([new_issue(case=case, identified_on=case.opened_on) for case in cases])
    # The first two clients made, whose cases opened in January 2019: far from the month
    # the tests count (ordered by name, they were any two, and now and then a client whose
    # session fell in that month).
    Client.objects.filter(pk__in=Client.objects.order_by("pk").values("pk")[:2]).update(archived_at=timezone.now())
    return datetime.date(2022, 3, 1), datetime.date(2022, 3, 31)


def check_reports_read_their_covering_indexes(years_of_issues):
    """The reports leave out archived cases and clients by anti-joins on the few archived
    rows (through the `archived_at` indexes) and read a period's rows from partial
    covering indexes (migration cases.0013), never whole tables."""
    from cases.reporting import reports

    first, last = years_of_issues
    walks = {
        "case_live_opened_report": reports._cases()
        .filter(opened_on__range=(first, last))
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by(),
        "issue_live_identified_report": reports._active_case_rows(Issue.objects.active())
        .filter(identified_on__range=(first, last))
        .values("kind")
        .annotate(n=Count("id"))
        .order_by(),
    }
    for index, queryset in walks.items():
        scanned, indexes = plan_of(queryset)
        assert not scanned & {"cases_case", "cases_client", "cases_issue"}, (index, scanned, indexes)
        if connection.vendor == "postgresql":
            # The covering index, or at this size the plain one on the same date.
            column = index.split("_")[2]
            assert any(column in name for name in indexes), (index, scanned, indexes)
    assert sum(n for _, n in walks["case_live_opened_report"]) == 31


def test_my_cases_are_counted_from_the_lead_artist_index(clinic, db):
    """The staff home's "my cases" counts of an artist who leads a tenth of the cases:
    read from the partial index `case_live_lead_status` (migration cases.0014) with the
    archived clients left out by an anti-join, not by joining every client."""
    from cases.views.home import led_case_counts

    artist = factories.ArtistFactory()
    led = Case.objects.order_by("pk").values("pk")[:300]
    Case.objects.filter(pk__in=led).update(lead_artist=artist)
    Client.objects.filter(cases__lead_artist=artist).filter(
        pk__in=Client.objects.filter(cases__lead_artist=artist).order_by("pk").values("pk")[:2]
    ).update(archived_at=timezone.now())

    counts = led_case_counts(artist)
    scanned, indexes = plan_of(counts)

    assert sum(n for _, n in counts) == Case.objects.live().filter(lead_artist=artist).count() == 298
    assert not scanned & {"cases_case", "cases_client"}, (scanned, indexes)
    if connection.vendor == "postgresql":
        # The covering index, or at this size the plain one on the lead artist.
        assert indexes & {"case_live_lead_status", "cases_case_lead_artist_id_0d70f86f"}, (scanned, indexes)


# The large tables, which no report query may read whole.
LARGE = {"cases_case", "cases_client", "cases_issue", "cases_lasersession", "cases_treatmentplan", "cases_followup"}


def plans_of_report(build, period) -> list[tuple[str, set[str], set[str]]]:
    """(SQL, tables read sequentially, indexes used) of every query a report runs."""
    with CaptureQueriesContext(connection) as queries:
        build(period)
    plans = []
    for query in queries.captured_queries:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("ANALYZE")
                cursor.execute("EXPLAIN (FORMAT JSON) " + query["sql"])
                raw = cursor.fetchone()[0]
                nodes = list(_nodes((json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]))
                scanned = {n["Relation Name"] for n in nodes if n["Node Type"] == "Seq Scan"}
                indexes = {n["Index Name"] for n in nodes if "Index Name" in n}
            else:
                cursor.execute("ANALYZE")
                cursor.execute("EXPLAIN QUERY PLAN " + query["sql"])
                details = [row[-1] for row in cursor.fetchall()]
                scanned = {d.split()[1] for d in details if d.startswith("SCAN ") and " USING " not in d}
                indexes = {d.split(" INDEX ")[1] for d in details if " INDEX " in d}
        plans.append((query["sql"], scanned, indexes))
    return plans


def add_laser_history(years_of_issues, manager_user):
    """On top of the years of issues: a third of the cases closed four months after they
    opened, each with an approved plan (a Kirby–Desai estimate), and a completed laser
    session a month after each case opened, one in three with an adverse event."""
    cases = list(Case.objects.select_related("client").order_by("pk"))
    closed = cases[::3]
    for case in closed:
        case.status, case.outcome, case.satisfaction = CaseStatus.CLOSED, Outcome.IMPROVED, 4
        case.closed_on = case.opened_on + datetime.timedelta(120)
    Case.objects.bulk_update(closed, ["status", "outcome", "closed_on", "satisfaction"])
    new_plan = factories.maker(
        factories.AcceptedPlanFactory, case=closed[0], status=PlanStatus.COMPLETED, approved_by=manager_user
    )
    plans = [new_plan(case=case) for case in closed]
    for plan in plans:
        plan._set_kd_total()  # what save() does, which bulk_create skips
    TreatmentPlan.objects.bulk_create(plans)
    new_session = factories.maker(
        factories.LaserSessionFactory,
        case=cases[0],
        technician=factories.TechnicianFactory(),
        device=factories.LaserDeviceFactory(),
    )
    sessions = LaserSession.objects.bulk_create(
        [
            new_session(
                case=case,
                scheduled_at=timezone.make_aware(
                    datetime.datetime.combine(case.opened_on + datetime.timedelta(30), datetime.time(10))
                ),
            )
            for case in cases
        ]
    )
    erythema = AdverseEventKind.objects.get(code=AdverseEventChoice.ERYTHEMA)
    LaserSession.adverse_events.through.objects.bulk_create(
        [
            LaserSession.adverse_events.through(lasersession_id=session.pk, adverseeventkind_id=erythema.pk)
            for session in sessions[::3]
        ]
    )
    return years_of_issues


def check_every_report_reads_indexes_not_the_large_tables(laser_history):
    """Each query of the cases, issues, origins, laser sessions and adverse events reports,
    for a month of eight years: no large table read whole, on SQLite and PostgreSQL. On
    PostgreSQL: the adverse events grouped from `laser_completed_report` (the skin type
    recorded with the session, so neither cases nor clients are joined), the laser
    sessions' estimates and counts probed in `plan_approved_estimate` and
    `laser_completed_by_case` (migrations cases.0013 and 0016)."""
    from cases.reporting import reports

    first, last = laser_history
    period = reports.Period(first, last)
    used: dict[str, set[str]] = {}
    for slug in ("cases", "issues", "origins", "laser-sessions", "adverse-events"):
        used[slug] = set()
        for sql, scanned, indexes in plans_of_report(reports.REPORTS[slug].build, period):
            assert not scanned & LARGE, (slug, sql, scanned, indexes)
            used[slug] |= indexes
            if slug == "adverse-events":  # the skin type comes with the session
                assert 'JOIN "cases_case"' not in sql and 'JOIN "cases_client"' not in sql, sql
    (laser,) = reports.laser_sessions_report(period)
    assert len(laser.rows) == 11 and "Across 11 closed cases" in laser.note
    *_, by_skin = reports.adverse_events_report(period)
    assert sum(row[1] for row in by_skin.rows) == 31
    if connection.vendor == "postgresql":
        assert {"plan_approved_estimate", "laser_completed_by_case"} <= used["laser-sessions"], used
        assert "laser_completed_report" in used["adverse-events"], used


def test_reports_read_indexes_not_the_large_tables(years_of_issues, manager_user):
    """The two checks above on one build of the years of issues (which takes seconds):
    first the covering indexes on those years alone, then, with the laser history added
    on top, every report's queries."""
    check_reports_read_their_covering_indexes(years_of_issues)
    check_every_report_reads_indexes_not_the_large_tables(add_laser_history(years_of_issues, manager_user))


def sorts(queryset) -> bool:
    """Whether the query's plan sorts rows (rather than reading them in an index's order)."""
    if connection.vendor == "postgresql":
        return any(n["Node Type"] in ("Sort", "Incremental Sort") for n in _explained(queryset))
    return any("TEMP B-TREE FOR ORDER BY" in detail for detail in _explained(queryset))


@pytest.mark.parametrize("model", [LaserSession, CorrectionSession], ids=["laser", "correction"])
def test_the_weeks_first_sessions_come_off_their_index_in_order(clinic, db, staff_user, model):
    """A clinic chain books thousands of sessions a week; the staff home shows the first
    few. Read in the index's order, the query stops there; sorted, it joined and sorted
    every one of the week's sessions first (22 ms at 100,000 clients)."""
    factory = factories.LaserSessionFactory if model is LaserSession else factories.CorrectionSessionFactory
    if model is LaserSession:
        worker = {"technician": factories.TechnicianFactory(), "device": factories.LaserDeviceFactory()}
    else:
        worker = {"artist": factories.ArtistFactory()}
    cases = list(Case.objects.select_related("client").order_by("pk"))
    now, today = timezone.now(), timezone.localdate()
    new_session = factories.maker(factory, case=cases[0], **worker)
    model.objects.bulk_create(
        [
            new_session(case=case, scheduled_at=now - datetime.timedelta(days=i % 900 + 1))
            for i, case in enumerate(cases)
        ]
        + [
            new_session(
                case=case, status=SessionStatus.SCHEDULED, scheduled_at=now + datetime.timedelta(minutes=5 + 7 * i)
            )
            for i, case in enumerate(cases[:1500])
        ]
    )
    first = scheduled_session_values(model, staff_user, today, today + datetime.timedelta(days=6))

    scanned, indexes = plan_of(first)

    assert len(first) == HOME_LIST_LIMIT + 1
    index = "laser_status_time" if model is LaserSession else "correction_status_time"
    assert any(name.split()[0] == index for name in indexes), (scanned, indexes)
    assert not scanned & {"cases_lasersession", "cases_correctionsession", "cases_case", "cases_client"}
    assert not sorts(first)
