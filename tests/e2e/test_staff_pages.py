"""Staff pages whose behaviour in a browser is the point: the photo comparison slider,
the override reason that appears when its box is ticked, and the same pages without JS."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from cases import choices
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_photos(transactional_db):
    case = factories.CaseFactory(opened_on=datetime.date(2026, 3, 1))  # both photos within the case
    before = factories.PhotoFactory(case=case, kind=choices.PhotoKind.BEFORE, taken_on=datetime.date(2026, 3, 1))
    after = factories.PhotoFactory(case=case, kind=choices.PhotoKind.AFTER, taken_on=datetime.date(2026, 9, 1))
    return case, before, after


def test_compare_overlay_slider_reveals_the_later_photo(page, live_server, log_in, staff, two_photos):
    case, _before, _after = two_photos
    log_in(staff)
    page.goto(live_server.url + reverse("cases:photo_compare", args=[case.public_id]))

    side_by_side = page.locator("[data-photo-compare]")
    assert side_by_side.is_visible()
    page.get_by_role("button", name="Overlay with slider").click()
    assert side_by_side.is_hidden()

    slider = page.get_by_label("Slide to reveal the right photo", exact=False)
    assert slider.is_visible()
    slider.fill("80")
    stage = page.locator(".photo-overlay-stage")
    assert stage.evaluate("el => el.style.getPropertyValue('--reveal')") == "20%"
    assert slider.get_attribute("aria-valuetext") == "80% of the right photo shown"

    page.get_by_role("button", name="Side by side").click()
    assert side_by_side.is_visible()
    assert page.locator(".photo-overlay").is_hidden()


def test_compare_without_javascript_is_side_by_side(browser, live_server, log_in, staff, two_photos):
    case, before, after = two_photos
    context = browser.new_context(java_script_enabled=False)
    page = log_in(staff, at=context.new_page())
    page.goto(live_server.url + reverse("cases:photo_compare", args=[case.public_id]))

    figures = page.locator("[data-photo-compare] figure img")
    assert figures.count() == 2
    assert all(figures.nth(i).is_visible() for i in range(2))
    # Both images really load through the permission-checked view.
    widths = [figures.nth(i).evaluate("img => img.naturalWidth") for i in range(2)]
    assert widths == [before.width, after.width]
    assert page.get_by_role("button", name="Overlay with slider").count() == 0
    context.close()


@pytest.mark.parametrize("width", [390, 768, 1280])
def test_issue_table_headings_fit_their_columns(page, live_server, log_in, staff, width):
    """The per-zone issue tables have fixed columns: at a tablet's width the bold "Severity"
    heading ran over "Identified". Every heading fits its own cell."""
    issue = factories.IssueFactory(severity=3)
    page.set_viewport_size({"width": width, "height": 1024})
    log_in(staff)
    page.goto(live_server.url + reverse("cases:case_detail", kwargs={"case_id": issue.case.public_id}))

    headings = page.locator("table.table-issues thead th")
    overflowing = headings.evaluate_all(
        "ths => ths.filter(th => th.scrollWidth > th.clientWidth + 1).map(th => th.textContent.trim())"
    )
    assert overflowing == []
