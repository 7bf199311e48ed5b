"""The manager's plan review page shows what the decision needs beside the plan: the
client's contraindications (the laser blocks first among them), the case's open issues
and the Kirby–Desai inputs, in a number of queries that does not grow with the data."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.choices import IssueKind, PlanStatus, Zone
from cases.models import CorrectionOption, ZoneLookup
from tests import factories
from tests.helpers import assert_queries_hold, sql_of_get

pytestmark = pytest.mark.django_db


def _review(plan) -> str:
    return reverse("cases:plan_review", args=[plan.public_id])


def _proposed(client=None, **plan_fields):
    case = factories.CaseFactory(client=client or factories.ClientFactory())
    return factories.TreatmentPlanFactory(
        case=case, status=PlanStatus.PROPOSED, submitted_at=timezone.now(), **plan_fields
    )


def test_review_shows_contraindications_with_the_laser_block_open_issues_and_kirby_desai(as_manager):
    client = factories.ClientFactory(
        isotretinoin_last_dose=timezone.localdate() - datetime.timedelta(days=60),
        active_infection=True,
        keloid_history=True,
    )
    plan = _proposed(client=client)
    factories.IssueFactory(
        case=plan.case, kind=IssueKind.COLOUR_SHIFT, zone=Zone.CROWN, severity=4, description="Blue cast at the crown"
    )
    factories.IssueFactory(
        case=plan.case, kind=IssueKind.FADED, zone=Zone.NAPE, resolved_on=timezone.localdate(), description="RESOLVED"
    )

    response = as_manager.get(_review(plan))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Isotretinoin within 6 months" in html
    assert "Active infection or herpes at or near the site" in html
    assert html.count("blocks laser: manager override only") == 2
    assert "Keloid history" in html
    assert "Colour shift (blue/green)" in html and "Blue cast at the crown" in html and "severity 4/5" in html
    assert "RESOLVED" not in html
    # The six Kirby–Desai inputs and the total (3+1+1+3+0+0).
    for label in ("Skin type", "Location", "Colour", "Amount of ink", "Scarring / tissue change", "Layering"):
        assert f"<td>{label}</td>" in html, label
    assert '<td class="num fw-bold">8</td>' in html


def test_review_of_a_client_without_contraindications_or_issues(as_manager):
    plan = _proposed()
    html = as_manager.get(_review(plan)).content.decode()
    assert "None recorded for" in html
    assert "No open issues recorded." in html


def _populated(n: int):
    plan = _proposed(client=factories.ClientFactory(active_infection=True))
    plan.options.set(CorrectionOption.objects.all()[:2])
    zones = list(ZoneLookup.objects.all()[:2])
    for order in range(1, n + 1):
        factories.PlanStepFactory(plan=plan, order=order).zones.set(zones)
        factories.IssueFactory(case=plan.case, description=f"Issue {order}")
        factories.LaserSessionFactory(case=plan.case)
    return plan


def test_review_page_queries_do_not_grow_with_steps_issues_or_sessions(as_manager):
    small, large = _populated(3), _populated(30)
    as_manager.get(_review(small))  # warm the session and caches
    few, many = sql_of_get(as_manager, _review(small)), sql_of_get(as_manager, _review(large))
    # session, user with groups, the two-factor device of the verified session, plan
    # lookup, plan for_detail with options, steps with zones, completed laser sessions,
    # open issues, clinic settings, the access log's one insert
    assert_queries_hold(few, many, at_most=11)
