"""Plans waiting for a manager's approval: listed on the managers' Today page and on the
review page, the longest waiting first, with a link to the plan's review page."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.choices import PlanStatus
from tests import factories
from tests.helpers import assert_queries_hold, frozen_at, sql_of_get

NOW = datetime.datetime(2026, 11, 25, 9, 0, tzinfo=datetime.UTC)
HOUR = datetime.timedelta(hours=1)
HOME = reverse("cases:home")
QUEUE = reverse("cases:review_queue")


frozen_clock = frozen_at(NOW)


def proposed(hours_ago: float = 1, **kwargs):
    """A plan submitted `hours_ago`, not yet approved."""
    kwargs.setdefault("submitted_by", factories.StaffUserFactory())
    return factories.TreatmentPlanFactory(
        status=PlanStatus.PROPOSED, submitted_at=timezone.now() - hours_ago * HOUR, **kwargs
    )


def plans_section(response) -> str:
    html = response.content.decode()
    match = re.search(r'<section id="plans-to-approve".*?</section>', html, re.S)
    assert match, "no plans-to-approve section"
    return match.group(0)


def review_url(plan) -> str:
    return reverse("cases:plan_review", kwargs={"plan_id": plan.public_id})


@pytest.mark.parametrize("url", [HOME, QUEUE])
def test_a_row_names_the_case_client_version_submitter_and_links_to_the_review(as_manager, url):
    nurse = factories.StaffUserFactory(first_name="Nina", last_name="Nurse")
    client = factories.ClientFactory(first_name="Paula", last_name="Proposed")
    plan = proposed(hours_ago=26, case=factories.CaseFactory(client=client), submitted_by=nurse, version=2)

    html = plans_section(as_manager.get(url))

    assert plan.case.reference in html
    assert "Paula Proposed" in html
    assert "Version 2" in html
    assert "by Nina Nurse" in html
    assert "24 Nov 2026, 07:00" in html  # submitted 26 hours before 09:00 on the 25th (GMT)
    assert f'href="{review_url(plan)}"' in html


@pytest.mark.parametrize("url", [HOME, QUEUE])
def test_only_proposed_unapproved_plans_of_live_cases_oldest_first(as_manager, manager_user, url):
    newest = proposed(hours_ago=1)
    oldest = proposed(hours_ago=72)
    middle = proposed(hours_ago=5)
    draft = factories.TreatmentPlanFactory(status=PlanStatus.DRAFT)
    approved = factories.ApprovedPlanFactory()
    accepted = factories.AcceptedPlanFactory()
    archived_plan = proposed()
    archived_plan.archive(by=manager_user, reason="Entered twice")
    archived_case = proposed()
    archived_case.case.archive(by=manager_user, reason="Opened by mistake")
    archived_client = proposed()
    archived_client.case.client.archive(by=manager_user, reason="Duplicate record")

    html = plans_section(as_manager.get(url))

    shown = [plan for plan in (newest, oldest, middle) if plan.case.reference in html]
    assert sorted(shown, key=lambda plan: html.index(plan.case.reference)) == [oldest, middle, newest]
    for hidden in (draft, approved, accepted, archived_plan, archived_case, archived_client):
        assert hidden.case.reference not in html


@pytest.mark.parametrize("url", [HOME, QUEUE])
def test_nothing_waiting_says_so(as_manager, url):
    factories.ApprovedPlanFactory()
    assert "No plan is waiting for approval." in plans_section(as_manager.get(url))


def test_staff_do_not_get_the_section_on_their_today_page(as_staff):
    proposed()
    response = as_staff.get(HOME)
    assert 'id="plans-to-approve"' not in response.content.decode()
    assert response.context["plans_to_approve"] is None


def test_superusers_get_it_too(as_admin):
    plan = proposed()
    assert plan.case.reference in plans_section(as_admin.get(HOME))


def test_the_review_page_lists_plans_before_follow_ups(as_manager):
    proposed()
    html = as_manager.get(QUEUE).content.decode()
    assert html.index('id="plans-to-approve"') < html.index('id="overdue"')
    assert 'href="#plans-to-approve"' in html


def test_the_home_list_shows_the_longest_waiting_and_links_to_the_rest(as_manager):
    from cases.views.home import HOME_PLANS

    plans = [proposed(hours_ago=HOME_PLANS + 1 - i) for i in range(HOME_PLANS + 1)]
    response = as_manager.get(HOME)
    assert response.context["plans_to_approve"] == plans[:HOME_PLANS]
    assert f'<span class="badge text-bg-warning">{HOME_PLANS}+</span>' in plans_section(response)
    # The rest are a click away, on the review page.
    assert f'href="{QUEUE}#plans-to-approve"' in plans_section(response)


def test_the_home_list_links_on_only_for_those_who_may_open_the_review_page(staff_user):
    """A senior technician given the one right to approve plans sees the plans on their
    home page, but no link to the managers' review page, which they cannot open."""
    from django.contrib.auth.models import Permission

    from cases.views.home import HOME_PLANS
    from tests.signin import signed_in

    staff_user.user_permissions.add(Permission.objects.get(codename="approve_treatmentplan"))
    for hours in range(HOME_PLANS + 1):
        proposed(hours_ago=hours + 1)
    http = signed_in(staff_user)
    response = http.get(HOME)

    assert len(response.context["plans_to_approve"]) == HOME_PLANS
    assert f'href="{QUEUE}#plans-to-approve"' not in plans_section(response)
    assert f"Only the {HOME_PLANS} longest waiting are shown." in plans_section(response)
    assert http.get(QUEUE).status_code == 403


def test_the_review_page_pages_the_plans_with_their_total(as_manager):
    from cases.views.review import PAGE_ROWS

    rows = PAGE_ROWS["plans-to-approve"]
    plans = [proposed(hours_ago=rows + 1 - i) for i in range(rows + 1)]  # the longest waiting first
    first = as_manager.get(QUEUE, {"kind": "healing_check"})
    assert first.context["plans"]["rows"] == plans[:rows]
    html = plans_section(first)
    assert f'<span class="badge text-bg-warning">{rows + 1}</span>' in html
    assert "Page 1 of 2" in html
    # The follow-ups' filters are kept.
    assert 'href="?kind=healing_check&amp;plans-to-approve-page=2#plans-to-approve" rel="next"' in html

    second = as_manager.get(QUEUE, {"kind": "healing_check", "plans-to-approve-page": 2})
    assert second.context["plans"]["rows"] == plans[rows:]
    assert "Page 2 of 2" in plans_section(second)


# --- query counts: the same with 5 or 50 plans waiting ------------------------------------------------------


def _fill(n: int) -> None:
    for i in range(n):
        proposed(hours_ago=i + 1)
        factories.CompletedFollowUpFactory()
        factories.FollowUpFactory(due_on=NOW.date() - datetime.timedelta(days=i + 1))


# Managers' Today page: session, user with groups, the two-factor device, laser and
# correction sessions (each with its zones), my follow-ups, the artist lookup, recent
# cases, plans, the access log's one insert.
HOME_CAP = 10
# Review page: see test_review_queue.QUERY_CAP.
QUEUE_CAP = 11


def test_query_count_does_not_grow_with_plans(as_manager):
    """The managers' Today page and the review page, each at 5 and 50 plans waiting, on
    one world grown once."""
    caps = {HOME: HOME_CAP, QUEUE: QUEUE_CAP}
    _fill(5)
    for url in caps:
        as_manager.get(url)  # warm up
    small = {url: sql_of_get(as_manager, url) for url in caps}
    _fill(45)
    large = {url: sql_of_get(as_manager, url) for url in caps}
    for url, cap in caps.items():
        assert len(small[url]) == len(large[url]), url
        assert_queries_hold(small[url], large[url], at_most=cap)
