"""The manager's review queue in a browser: tick all, add a note, review them at once."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import FollowUp
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def test_tick_all_and_review_with_one_note(page, live_server, log_in, transactional_db):
    manager = factories.ManagerUserFactory(username="e2e-manager")
    done = [factories.CompletedFollowUpFactory() for _ in range(3)]
    log_in(manager)
    page.goto(live_server.url + reverse("cases:review_queue"))

    tick_all = page.get_by_label("Tick all 3 rows")
    tick_all.check()
    rows = page.locator('tbody input[name="followups"]')
    assert [rows.nth(i).is_checked() for i in range(3)] == [True, True, True]
    rows.nth(0).uncheck()
    assert tick_all.evaluate("box => box.indeterminate")
    tick_all.check()

    page.get_by_label("Note", exact=False).fill("All healed well.")
    page.get_by_role("button", name="Mark ticked as reviewed").click()
    page.wait_for_load_state()

    reviewed = FollowUp.objects.filter(pk__in=[f.pk for f in done])
    assert sorted(reviewed.values_list("review_note", flat=True)) == ["All healed well."] * 3
    assert set(reviewed.values_list("reviewed_by", flat=True)) == {manager.pk}


def test_the_home_lists_plans_to_approve_without_scrolling_sideways(page, live_server, log_in, transactional_db):
    """On a laptop's width the home page's half-width list of plans shows every column,
    the Review button included, without its table box scrolling."""
    manager = factories.ManagerUserFactory(username="e2e-manager-home")
    for _ in range(3):
        factories.TreatmentPlanFactory(
            status="proposed",
            submitted_at=timezone.now(),
            submitted_by=factories.StaffUserFactory(first_name="Alexandrina", last_name="Montgomery-Smythe"),
            case__client__first_name="Maximiliana",
            case__client__last_name="Vandenberghe-Oyelaran",
        )
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(manager)
    page.goto(live_server.url + "/")

    box = page.locator("#plans-to-approve .table-scroll")
    assert box.get_by_role("link", name="Review", exact=False).count() == 3
    assert box.evaluate("box => box.scrollWidth <= box.clientWidth"), box.evaluate(
        "box => [box.scrollWidth, box.clientWidth]"
    )
