"""The case workspace and its history run a fixed number of queries, whatever the size of
the case (tests/cases/test_case_views.py holds the rest of the workspace).

The two cases measured are made once for the module: building 50 of everything is the
costly part, and the tests only read them."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.choices import OverrideRule, Zone
from cases.models import AdverseEventKind, CorrectionOption, RuleOverride
from tests import factories
from tests.helpers import assert_queries_hold, kept_for_the_module, sql_of_get

DAY = datetime.timedelta(days=1)


def _detail(case) -> str:
    return reverse("cases:case_detail", kwargs={"case_id": case.public_id})


def _history(case) -> str:
    return reverse("cases:case_history", kwargs={"case_id": case.public_id})


# session, user with groups, the workspace case row (regret reasons in it) and its
# prefetches: issues, consultations, plans with options, steps with zones, laser sessions
# with zones and adverse events, correction sessions with zones, the case's overrides,
# follow-ups; the access log's one insert. (The history has a page of its own.)
WORKSPACE_QUERY_CAP = 12


def _populate(case, n: int, *, technician, artist, staff, manager) -> None:
    zones = list(Zone.values)
    for i in range(n):
        factories.IssueFactory(case=case, zone=zones[i % len(zones)])
    factories.ConsultationFactory.create_batch(n, case=case, staff=staff)
    plan = factories.AcceptedPlanFactory(case=case, approved_by=manager)
    for i in range(n):
        factories.PlanStepFactory(plan=plan, order=i + 1, target_date=timezone.localdate() + (i + 1) * DAY)
    plan.options.set(CorrectionOption.objects.all()[:2])
    sessions = factories.LaserSessionFactory.create_batch(n, case=case, technician=technician)
    for session in sessions:
        session.adverse_events.set(AdverseEventKind.objects.filter(code="erythema"))
        RuleOverride.objects.create(
            case=case,
            laser_session=session,
            rule=OverrideRule.ZONE_INTERVAL,
            message="Too soon.",
            reason="Agreed.",
            overridden_by=manager,
        )
    for session in factories.CorrectionSessionFactory.create_batch(n, case=case, artist=artist):
        RuleOverride.objects.create(
            case=case,
            correction_session=session,
            rule=OverrideRule.CONTRAINDICATION,
            message="Keloid history.",
            reason="Small area.",
            overridden_by=manager,
        )
    factories.FollowUpFactory.create_batch(n, case=case, assignee=staff)
    # A few edits, so the history diffs changed rows against their earlier version.
    for issue in case.issues.all()[:3]:
        issue.severity = 5
        issue.save()
    case.goal = "Changed goal"
    case.save()


@pytest.fixture(scope="module")
def small_and_large(django_db_setup, django_db_blocker):
    """Two cases with 5 and 50 of everything the workspace and the history show: made once
    for the module (the tests only read them) and rolled back at its end."""
    with kept_for_the_module(django_db_blocker):
        kwargs = {
            "technician": factories.TechnicianFactory(),
            "artist": factories.ArtistFactory(),
            "staff": factories.StaffUserFactory(),
            "manager": factories.ManagerUserFactory(),
        }
        small = factories.CaseFactory(client=factories.ClientFactory(keloid_history=True))
        large = factories.CaseFactory(client=factories.ClientFactory(keloid_history=True))
        _populate(small, 5, **kwargs)
        _populate(large, 50, **kwargs)
        yield small, large


def test_workspace_runs_in_a_fixed_number_of_queries(as_staff, small_and_large):
    small, large = small_and_large
    sql_of_get(as_staff, _detail(small))  # warm up

    with_5 = sql_of_get(as_staff, _detail(small))
    with_50 = sql_of_get(as_staff, _detail(large))

    assert_queries_hold(with_5, with_50, at_most=WORKSPACE_QUERY_CAP)
    response = as_staff.get(_detail(large))
    assert len(response.context["timeline"]) == 100
    assert len(response.context["case"].workspace_follow_ups) == 50


# session, user, groups, the two-factor device, the case, 7 history tables, their 7 earlier
# versions, the 6 tracked many-to-many history tables, the access log's one insert.
HISTORY_QUERY_CAP = 26


def test_history_runs_in_a_fixed_number_of_queries(as_staff, small_and_large):
    small, large = small_and_large
    sql_of_get(as_staff, _history(small))  # warm up

    with_5 = sql_of_get(as_staff, _history(small))
    with_50 = sql_of_get(as_staff, _history(large))

    assert_queries_hold(with_5, with_50, at_most=HISTORY_QUERY_CAP)


def test_empty_workspace_stays_under_the_cap(as_staff):
    assert len(sql_of_get(as_staff, _detail(factories.CaseFactory()))) <= WORKSPACE_QUERY_CAP
