"""The managers' follow-up review queue: sections, urgency, filters, pages, reviewing many
at once, permissions and a query cap at two data sizes."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from cases.choices import CaseStatus, FollowUpKind, FollowUpStatus
from cases.models import FollowUp
from cases.services.followups import followups_review
from cases.views.review import PAGE_ROWS
from tests import factories
from tests.helpers import assert_queries_hold, frozen_at, messages_of, sql_of_get

NOW = datetime.datetime(2026, 11, 25, 9, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()
DAY = datetime.timedelta(days=1)
QUEUE_URL = reverse("cases:review_queue")
# A page of each section: overdue follow-ups ten at a time, those with adverse findings
# ten, the others awaiting review 25.
OVERDUE_ROWS, ADVERSE_ROWS, AWAITING_ROWS = (PAGE_ROWS[s] for s in ("overdue", "adverse-findings", "awaiting-review"))
# 1 session, 2 user (with their permissions), 3 the two-factor device of the verified
# session, 4 the assignee filter's choices, 5 how many rows each list holds (plans and
# the four walks of follow-ups, counted up to MAX_ROWS each, one query), 6 the page of
# plans to approve (case, client, submitter joined in), 7-10 the page of each section:
# overdue, due soon, done with adverse findings and the others awaiting review, with
# case, client, any reschedule and the side effects in the same query, 11 the names of
# every row's assignee and of who saw the client, 12 the access log's one insert. The
# same whatever the data.
QUERY_CAP = 12


frozen_clock = frozen_at(NOW)


def section(response, slug: str) -> str:
    """The HTML of one section of the queue."""
    html = response.content.decode()
    match = re.search(rf'<section id="{slug}".*?</section>', html, re.S)
    assert match, f"no section {slug}"
    return match.group(0)


def ids_in_order(html: str, followups) -> list:
    """Which of `followups` appear in `html`, in the order they appear."""
    found = [(html.find(f.case.reference), f) for f in followups if f.case.reference in html]
    return [f for _, f in sorted(found, key=lambda pair: pair[0])]


# --- permissions ---------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(anonymous):
    for method in ("get", "post"):
        response = getattr(anonymous, method)(QUEUE_URL)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_staff_and_clients_are_refused(as_staff, as_client_a):
    followup = factories.CompletedFollowUpFactory()
    for http in (as_staff, as_client_a):
        assert http.get(QUEUE_URL).status_code == 403
        assert http.post(QUEUE_URL, {"followups": [followup.public_id]}).status_code == 403
    followup.refresh_from_db()
    assert followup.reviewed_at is None


def test_managers_and_superusers_see_the_queue(as_manager, as_admin):
    assert as_manager.get(QUEUE_URL).status_code == 200
    assert as_admin.get(QUEUE_URL).status_code == 200


def test_the_service_refuses_anyone_but_a_manager(staff_user):
    followup = factories.CompletedFollowUpFactory()
    with pytest.raises(PermissionDenied):
        followups_review(followups=[followup], by=staff_user, note="")
    followup.refresh_from_db()
    assert followup.reviewed_at is None


# --- sections and rows -----------------------------------------------------------------------------------


def test_each_follow_up_lands_in_its_section(as_manager):
    overdue = factories.FollowUpFactory(due_on=TODAY - 3 * DAY)
    due_today = factories.FollowUpFactory(due_on=TODAY)
    due_in_week = factories.FollowUpFactory(due_on=TODAY + 7 * DAY)
    later = factories.FollowUpFactory(due_on=TODAY + 8 * DAY)
    completed = factories.CompletedFollowUpFactory()
    missed = factories.MissedFollowUpFactory()
    reviewed = factories.CompletedFollowUpFactory(
        reviewed_at=timezone.now(), reviewed_by=factories.ManagerUserFactory()
    )
    cancelled = factories.FollowUpFactory(due_on=TODAY - DAY, status=FollowUpStatus.CANCELLED)

    response = as_manager.get(QUEUE_URL)

    assert response.status_code == 200
    sections = {slug: section(response, slug) for slug in ("overdue", "due-soon", "awaiting-review")}
    assert ids_in_order(sections["overdue"], [overdue]) == [overdue]
    assert ids_in_order(sections["due-soon"], [due_today, due_in_week]) == [due_today, due_in_week]
    assert ids_in_order(sections["awaiting-review"], [completed, missed]) == [completed, missed]
    page = response.content.decode()
    for hidden in (later, reviewed, cancelled):
        assert hidden.case.reference not in page
    # Rows that are not overdue never say so.
    assert due_today.case.reference in sections["due-soon"]
    assert "overdue</span>" not in sections["due-soon"]


def test_an_overdue_row_shows_everything_a_manager_needs(as_manager):
    case = factories.CaseFactory(
        client=factories.ClientFactory(first_name="Olga", last_name="Overdue"), status=CaseStatus.IN_TREATMENT
    )
    nurse = factories.StaffUserFactory(first_name="Nina", last_name="Nurse")
    followup = factories.FollowUpFactory(
        case=case, kind=FollowUpKind.POST_LASER_CHECK, due_on=TODAY - 4 * DAY, assignee=nurse
    )

    html = section(as_manager.get(QUEUE_URL), "overdue")

    assert "Olga Overdue" in html
    assert f'href="{reverse("cases:case_detail", kwargs={"case_id": case.public_id})}#follow-ups"' in html
    assert case.reference in html
    assert "In treatment" in html
    assert "Post-laser check" in html
    assert "21 Nov 2026" in html
    assert "Nina Nurse" in html
    assert '<span class="badge text-bg-danger">overdue</span>' in html
    assert re.search(r'<td class="num" data-label="Days overdue">\s*4\s*</td>', html), "days overdue"
    assert followup.is_overdue()


def test_sorted_by_urgency(as_manager):
    a_little = factories.FollowUpFactory(due_on=TODAY - 2 * DAY)
    most = factories.FollowUpFactory(due_on=TODAY - 30 * DAY)
    some = factories.FollowUpFactory(due_on=TODAY - 10 * DAY)
    in_five = factories.FollowUpFactory(due_on=TODAY + 5 * DAY)
    tomorrow = factories.FollowUpFactory(due_on=TODAY + DAY)
    waited_longer = factories.CompletedFollowUpFactory(due_on=TODAY - 20 * DAY)
    waited_less = factories.MissedFollowUpFactory(due_on=TODAY - 2 * DAY)

    response = as_manager.get(QUEUE_URL)

    assert ids_in_order(section(response, "overdue"), [a_little, most, some]) == [most, some, a_little]
    assert ids_in_order(section(response, "due-soon"), [in_five, tomorrow]) == [tomorrow, in_five]
    assert ids_in_order(section(response, "awaiting-review"), [waited_less, waited_longer]) == [
        waited_longer,
        waited_less,
    ]
    html = response.content.decode()
    assert html.index('id="overdue"') < html.index('id="due-soon"') < html.index('id="awaiting-review"')


def test_archived_follow_ups_cases_and_clients_are_left_out(as_manager, manager_user):
    archived = factories.FollowUpFactory(due_on=TODAY - DAY)
    archived.archive(by=manager_user, reason="Entered twice")
    archived_case = factories.CaseFactory()
    archived_case.archive(by=manager_user, reason="Opened by mistake")
    in_archived_case = factories.FollowUpFactory(case=archived_case, due_on=TODAY - DAY)
    archived_client = factories.ClientFactory()
    archived_client.archive(by=manager_user, reason="Duplicate record")
    of_archived_client = factories.CompletedFollowUpFactory(case=factories.CaseFactory(client=archived_client))
    shown = factories.FollowUpFactory(due_on=TODAY - DAY)

    html = as_manager.get(QUEUE_URL).content.decode()

    assert shown.case.reference in html
    for hidden in (archived, in_archived_case, of_archived_client):
        assert hidden.case.reference not in html


def test_empty_queue_says_so(as_manager):
    html = as_manager.get(QUEUE_URL).content.decode()
    assert "Nothing is overdue." in html
    assert "Nothing is due in the next 7 days." in html
    assert "No follow-up with adverse findings waits for review." in html
    assert "Every completed or missed follow-up without adverse findings has been reviewed." in html


# --- filters ---------------------------------------------------------------------------------------------


def test_filter_by_assignee(as_manager):
    nina = factories.StaffUserFactory(username="nina")
    mine = factories.FollowUpFactory(due_on=TODAY - DAY, assignee=nina)
    other = factories.FollowUpFactory(due_on=TODAY - DAY, assignee=factories.StaffUserFactory())
    nobody = factories.FollowUpFactory(due_on=TODAY - DAY, assignee=None)

    html = as_manager.get(QUEUE_URL, {"assignee": "nina"}).content.decode()
    assert mine.case.reference in html
    assert other.case.reference not in html and nobody.case.reference not in html
    assert "Clear filters" in html

    html = as_manager.get(QUEUE_URL, {"assignee": "-"}).content.decode()
    assert nobody.case.reference in html
    assert mine.case.reference not in html and other.case.reference not in html


def test_filter_by_kind_and_case_status_together(as_manager):
    wanted = factories.FollowUpFactory(
        kind=FollowUpKind.MAINTENANCE, case=factories.CaseFactory(status=CaseStatus.FOLLOW_UP)
    )
    wrong_kind = factories.FollowUpFactory(case=factories.CaseFactory(status=CaseStatus.FOLLOW_UP))
    wrong_status = factories.CompletedFollowUpFactory(
        kind=FollowUpKind.MAINTENANCE, case=factories.CaseFactory(status=CaseStatus.IN_TREATMENT)
    )

    html = as_manager.get(QUEUE_URL, {"kind": "maintenance", "case_status": "follow_up"}).content.decode()

    assert wanted.case.reference in html
    assert wrong_kind.case.reference not in html
    assert wrong_status.case.reference not in html


def test_an_unknown_filter_value_is_shown_as_an_error_and_ignored(as_manager):
    followup = factories.FollowUpFactory(due_on=TODAY - DAY)

    response = as_manager.get(QUEUE_URL, {"assignee": "nobody-by-that-name", "kind": "tattoo"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Select a valid choice" in html
    assert followup.case.reference in html


def test_the_filter_form_works_without_javascript(as_manager):
    html = as_manager.get(QUEUE_URL).content.decode()
    form = re.search(r'<form method="get" action="/review/".*?</form>', html, re.S).group(0)
    for name in ("assignee", "kind", "case_status"):
        assert f'name="{name}"' in form
    assert 'type="submit"' in form


# --- reviewing ---------------------------------------------------------------------------------------------


def test_review_many_at_once_with_a_note(as_manager, manager_user):
    completed = factories.CompletedFollowUpFactory()
    missed = factories.MissedFollowUpFactory()
    untouched = factories.CompletedFollowUpFactory()

    url = f"{QUEUE_URL}?kind=healing_check"
    response = as_manager.post(url, {"followups": [completed.public_id, missed.public_id], "note": "Both fine."})

    assert response.status_code == 302
    assert response["Location"] == f"{url}#awaiting-review", "back to the rows, with the same filters"
    for followup in (completed, missed):
        followup.refresh_from_db()
        assert followup.reviewed_by == manager_user
        assert followup.reviewed_at == NOW
        assert followup.review_note == "Both fine."
        assert followup.status in (FollowUpStatus.COMPLETED, FollowUpStatus.MISSED), "status unchanged"
    untouched.refresh_from_db()
    assert untouched.reviewed_at is None
    assert messages_of(response) == ["2 follow-ups marked as reviewed."]
    after = as_manager.get(QUEUE_URL)
    assert ids_in_order(section(after, "awaiting-review"), [completed, missed, untouched]) == [untouched]
    assert completed.history.first().reviewed_by_id == manager_user.pk, "the review is in the history"


def test_review_one_without_a_note(as_manager):
    followup = factories.CompletedFollowUpFactory()

    response = as_manager.post(QUEUE_URL, {"followups": [followup.public_id]})

    assert response.status_code == 302
    assert messages_of(response) == [
        f"Healing check due {followup.due_on.day} {followup.due_on:%b %Y} for {followup.case.client.full_name} "
        "marked as reviewed."
    ]
    followup.refresh_from_db()
    assert followup.reviewed_at is not None and followup.review_note == ""


def test_the_review_form_posts_ticked_rows_without_javascript(as_manager):
    followup = factories.CompletedFollowUpFactory()

    html = as_manager.get(QUEUE_URL).content.decode()

    assert re.search(r'<form method="post" action="/review/" id="review-form"', html)
    assert f'type="checkbox" name="followups" value="{followup.public_id}" form="review-form"' in html, (
        "each row's checkbox belongs to the review form"
    )
    assert 'name="note"' in section(as_manager.get(QUEUE_URL), "awaiting-review")


def test_nothing_ticked_is_an_error(as_manager):
    factories.CompletedFollowUpFactory()

    response = as_manager.post(QUEUE_URL, {"note": "All good"})

    assert response.status_code == 200
    assert "Tick at least one follow-up to review." in section(response, "awaiting-review")
    assert FollowUp.objects.filter(reviewed_at__isnull=False).count() == 0


def test_a_scheduled_follow_up_refuses_the_whole_review(as_manager):
    completed = factories.CompletedFollowUpFactory()
    scheduled = factories.FollowUpFactory(due_on=TODAY - DAY)

    response = as_manager.post(QUEUE_URL, {"followups": [completed.public_id, scheduled.public_id], "note": "ok"})

    assert response.status_code == 200
    html = section(response, "awaiting-review")
    assert "Nothing was reviewed" in html
    assert (
        escape(
            f"Healing check due 24 Nov 2026 (case {scheduled.case.reference}, {scheduled.case.client.full_name}) "
            "is scheduled; only completed or missed follow-ups can be reviewed."
        )
        in html
    )
    assert f'value="{completed.public_id}" form="review-form" id="review-{completed.public_id}" checked' in html
    assert re.search(r">\s*ok</textarea>", html), "the note is kept"
    completed.refresh_from_db()
    assert completed.reviewed_at is None, "all or nothing"


def test_an_already_reviewed_follow_up_is_refused_clearly(as_manager, manager_user):
    other_manager = factories.ManagerUserFactory()
    followup = factories.CompletedFollowUpFactory()
    followups_review(followups=[followup], by=other_manager, note="Seen")

    response = as_manager.post(QUEUE_URL, {"followups": [followup.public_id], "note": "Me too"})

    assert response.status_code == 200
    assert "was already reviewed." in response.content.decode()
    followup.refresh_from_db()
    assert followup.reviewed_by == other_manager and followup.review_note == "Seen"


def test_a_too_long_note_is_refused(as_manager):
    followup = factories.CompletedFollowUpFactory()

    response = as_manager.post(QUEUE_URL, {"followups": [followup.public_id], "note": "x" * 2001})

    assert response.status_code == 200
    assert "Ensure this value has at most 2000 characters" in response.content.decode()
    followup.refresh_from_db()
    assert followup.reviewed_at is None


def test_a_follow_up_of_an_archived_case_cannot_be_reviewed(as_manager, manager_user):
    case = factories.CaseFactory()
    followup = factories.CompletedFollowUpFactory(case=case)
    case.archive(by=manager_user, reason="Opened by mistake")

    response = as_manager.post(QUEUE_URL, {"followups": [followup.public_id]})

    assert response.status_code == 200
    assert "is not one of the available choices" in response.content.decode()
    followup.refresh_from_db()
    assert followup.reviewed_at is None


def test_service_refuses_archived_and_empty(manager_user):
    followup = factories.CompletedFollowUpFactory()
    followup.archive(by=manager_user, reason="Duplicate")
    with pytest.raises(ValidationError, match="is archived"):
        followups_review(followups=[followup], by=manager_user, note="")
    with pytest.raises(ValidationError, match="Choose at least one"):
        followups_review(followups=[], by=manager_user, note="")


# --- the case workspace shows overdue follow-ups ----------------------------------------------------------


def test_case_workspace_badges_an_overdue_follow_up(as_staff):
    case = factories.CaseFactory()
    factories.FollowUpFactory(case=case, due_on=TODAY - DAY, kind=FollowUpKind.HEALING_CHECK)
    factories.FollowUpFactory(case=case, due_on=TODAY, kind=FollowUpKind.MAINTENANCE)

    html = as_staff.get(reverse("cases:case_detail", kwargs={"case_id": case.public_id})).content.decode()

    rows = re.findall(r"<tr>\s*<td>(Healing check|Maintenance)</td>\s*<td>(.*?)</td>", html, re.S)
    badges = {kind: "overdue" in due for kind, due in rows}
    assert badges == {"Healing check": True, "Maintenance": False}


def test_case_workspace_marks_reviewed_follow_ups(as_staff, manager_user):
    case = factories.CaseFactory()
    followup = factories.CompletedFollowUpFactory(case=case)
    followups_review(followups=[followup], by=manager_user, note="")

    html = as_staff.get(reverse("cases:case_detail", kwargs={"case_id": case.public_id})).content.decode()

    assert '<span class="badge text-bg-secondary">reviewed</span>' in html


# --- query cap ---------------------------------------------------------------------------------------------


def _fill(n: int) -> None:
    for i in range(n):
        assignee = factories.StaffUserFactory()
        factories.FollowUpFactory(due_on=TODAY - (i + 1) * DAY, assignee=assignee)
        factories.FollowUpFactory(due_on=TODAY + (i % 7) * DAY, assignee=None)
        factories.CompletedFollowUpFactory(assignee=assignee)
        missed = factories.MissedFollowUpFactory(assignee=assignee)
        if i % 2:
            factories.FollowUpFactory(case=missed.case, due_on=TODAY + 3 * DAY, rescheduled_from=missed)
        factories.TreatmentPlanFactory(status="proposed", submitted_at=NOW - i * DAY)


# The filters and pages the cap is checked with, each at both sizes.
QUERY_CAP_PARAMS = [
    {},
    {"kind": "healing_check", "case_status": "assessment", "assignee": "-"},
    {"overdue-page": "2", "awaiting-review-page": "2", "plans-to-approve-page": "2"},
]


def test_queue_query_count_is_capped_and_does_not_grow(as_manager):
    """Each of QUERY_CAP_PARAMS at both sizes, on one world grown once (the GETs write
    nothing but the access log, which no count reads)."""
    # One row with an adverse finding at both sizes: the first page reads both walks of
    # the rows awaiting review, the most it ever does; the small size has a second page.
    factories.CompletedFollowUpFactory(healing="complication")
    _fill(15)
    small = [sql_of_get(as_manager, QUEUE_URL, params) for params in QUERY_CAP_PARAMS]
    _fill(35)
    large = [sql_of_get(as_manager, QUEUE_URL, params) for params in QUERY_CAP_PARAMS]

    for params, small_sql, large_sql in zip(QUERY_CAP_PARAMS, small, large, strict=True):
        assert len(small_sql) == len(large_sql), (params, "\n".join(large_sql))
        assert_queries_hold(small_sql, large_sql, at_most=QUERY_CAP)
    assert FollowUp.objects.count() >= 50 * 4


def _section_rows(response, slug: str) -> list:
    if slug == "plans-to-approve":
        return list(response.context["plans"]["rows"])
    return list(next(s for s in response.context["sections"] if s["slug"] == slug)["rows"])


def test_a_section_longer_than_its_cap_says_its_pages_are_the_first_rows(as_manager, monkeypatch):
    from cases.views import review

    monkeypatch.setattr(review, "MAX_ROWS", OVERDUE_ROWS + 1)
    for i in range(OVERDUE_ROWS + 3):
        factories.FollowUpFactory(due_on=TODAY - (i + 1) * DAY)

    html = section(as_manager.get(QUEUE_URL, {"overdue-page": "2"}), "overdue")

    assert f"{OVERDUE_ROWS + 1}+</span></h3>" in html
    assert f"Page 2 of 2 (the first {OVERDUE_ROWS + 1})" in html
    assert f"only the first {OVERDUE_ROWS + 1} are listed; filter to narrow the list." in html


def test_a_long_section_is_paged_with_its_total_and_the_filters_kept(as_manager):
    overdue = [factories.FollowUpFactory(due_on=TODAY - (OVERDUE_ROWS + 1 - i) * DAY) for i in range(OVERDUE_ROWS + 1)]
    first = as_manager.get(QUEUE_URL, {"kind": "healing_check", "due-soon-page": "1"})
    assert _section_rows(first, "overdue") == overdue[:OVERDUE_ROWS]  # the most overdue first
    html = section(first, "overdue")
    assert f'<span class="badge text-bg-danger">{OVERDUE_ROWS + 1}</span></h3>' in html  # the total, not the page
    assert "Page 1 of 2" in html
    # The next page keeps the filters and the other sections' pages.
    next_url = escape("?kind=healing_check&due-soon-page=1&overdue-page=2#overdue")
    assert f'href="{next_url}" rel="next"' in html

    second = as_manager.get(QUEUE_URL, {"kind": "healing_check", "due-soon-page": "1", "overdue-page": "2"})
    assert _section_rows(second, "overdue") == overdue[OVERDUE_ROWS:]
    html = section(second, "overdue")
    assert "Page 2 of 2" in html
    assert f'href="{escape("?kind=healing_check&due-soon-page=1&overdue-page=1#overdue")}" rel="prev"' in html
    assert 'rel="next"' not in html

    # A filter that matches none of them: no rows, no pages.
    other = as_manager.get(QUEUE_URL, {"kind": "maintenance", "overdue-page": "2"})
    assert _section_rows(other, "overdue") == []
    assert "Page" not in section(other, "overdue")


@pytest.mark.parametrize("asked", ["lots", "-3", "0", "100000"])
def test_a_strange_page_number_in_the_address_shows_a_page_within_bounds(as_manager, asked):
    overdue = [factories.FollowUpFactory(due_on=TODAY - (i + 1) * DAY) for i in range(OVERDUE_ROWS + 1)]
    response = as_manager.get(QUEUE_URL, {"overdue-page": asked})
    assert response.status_code == 200
    rows = _section_rows(response, "overdue")
    # Not a number: the first page; a number past either end: the last.
    assert rows == ([overdue[0]] if asked in ("-3", "0", "100000") else overdue[::-1][:OVERDUE_ROWS])


def test_more_adverse_findings_than_a_page_holds_leave_the_others_to_be_reviewed_together(as_manager):
    adverse = [
        factories.CompletedFollowUpFactory(
            due_on=TODAY - (60 - i) * DAY, completed_on=TODAY - (60 - i) * DAY, healing="complication"
        )
        for i in range(ADVERSE_ROWS + 1)
    ]
    others = [
        factories.CompletedFollowUpFactory(due_on=TODAY - (40 - i) * DAY, completed_on=TODAY - (40 - i) * DAY)
        for i in range(AWAITING_ROWS + 1)
    ]
    first = as_manager.get(QUEUE_URL)
    assert _section_rows(first, "adverse-findings") == adverse[:ADVERSE_ROWS]  # the oldest first
    assert _section_rows(first, "awaiting-review") == others[:AWAITING_ROWS]
    assert 'id="review-form"' in section(first, "awaiting-review")  # the others can be ticked at once
    second = {"adverse-findings-page": "2", "awaiting-review-page": "2"}
    assert _section_rows(as_manager.get(QUEUE_URL, second), "adverse-findings") == adverse[ADVERSE_ROWS:]
    assert _section_rows(as_manager.get(QUEUE_URL, second), "awaiting-review") == others[AWAITING_ROWS:]


def test_ticked_rows_of_a_later_page_are_reviewed_and_the_page_is_kept(as_manager, manager_user):
    done = [
        factories.CompletedFollowUpFactory(due_on=TODAY - (40 - i) * DAY, completed_on=TODAY - (40 - i) * DAY)
        for i in range(AWAITING_ROWS + 2)
    ]
    address = f"{QUEUE_URL}?kind=healing_check&awaiting-review-page=2"
    page = as_manager.get(address)
    assert _section_rows(page, "awaiting-review") == done[AWAITING_ROWS:]
    form = re.search(r'<form method="post" action="([^"]*)" id="review-form"', page.content.decode())
    assert form and form.group(1) == escape(address)
    ticked = {"followups": [f.public_id for f in done[AWAITING_ROWS:]], "note": "Seen on page 2"}
    ticked.update({f"version-{f.public_id}": f.lock_version for f in done[AWAITING_ROWS:]})

    response = as_manager.post(address, ticked)

    assert response.status_code == 302
    assert response["Location"] == f"{address}#awaiting-review"
    reviewed = FollowUp.objects.filter(reviewed_at__isnull=False)
    assert set(reviewed) == set(done[AWAITING_ROWS:])
    assert {f.reviewed_by for f in reviewed} == {manager_user}
    # The page asked for is gone (one page is left): the last page is shown.
    after = as_manager.get(address)
    assert _section_rows(after, "awaiting-review") == done[:AWAITING_ROWS]


# --- overdue rows: mark missed in one step --------------------------------------------------------------


def _missed_url(followup) -> str:
    return reverse("cases:followup_missed", kwargs={"followup_id": followup.public_id})


def test_an_overdue_row_can_be_marked_missed_in_one_step(as_manager):
    overdue = factories.FollowUpFactory(due_on=TODAY - 3 * DAY)
    soon = factories.FollowUpFactory(due_on=TODAY + DAY)
    response = as_manager.get(QUEUE_URL, {"kind": "healing_check"})
    html = response.content.decode()

    # The button sits in the overdue row and points at a form outside the table.
    overdue_html = section(response, "overdue")
    assert f'form="missed-{overdue.public_id}"' in overdue_html
    assert "Mark missed" in overdue_html
    assert "Mark missed" not in section(response, "due-soon")
    assert f'form="missed-{soon.public_id}"' not in html
    form = re.search(
        rf'<form method="post" action="{_missed_url(overdue)}" id="missed-{overdue.public_id}">(.*?)</form>', html, re.S
    )
    assert form, "a form per overdue row"
    assert "csrfmiddlewaretoken" in form.group(1)
    assert 'name="next" value="/review/?kind=healing_check#awaiting-review"' in form.group(1)
    for table in re.findall(r"<table.*?</table>", html, re.S):
        assert "<form" not in table

    response = as_manager.post(_missed_url(overdue), {"next": "/review/?kind=healing_check#awaiting-review"})

    assert response.status_code == 302
    assert response["Location"] == "/review/?kind=healing_check#awaiting-review"
    overdue.refresh_from_db()
    assert overdue.status == FollowUpStatus.MISSED
    page = as_manager.get(QUEUE_URL, {"kind": "healing_check"})
    assert overdue.case.reference not in section(page, "overdue")
    awaiting = section(page, "awaiting-review")
    assert overdue.case.reference in awaiting
    assert '<span class="badge text-bg-warning">missed</span>' in awaiting
    assert f'form="reschedule-{overdue.public_id}"' in awaiting
    assert f'id="reschedule-{overdue.public_id}"' in page.content.decode()
    assert f'id="missed-{overdue.public_id}"' not in page.content.decode()


def test_mark_missed_from_the_queue_ignores_an_outside_next(as_manager):
    overdue = factories.FollowUpFactory(due_on=TODAY - 3 * DAY)
    case_url = reverse("cases:case_detail", kwargs={"case_id": overdue.case.public_id})
    for bad in ("https://evil.example/review/", "//evil.example/", "javascript:alert(1)"):
        followup = factories.FollowUpFactory(case=overdue.case, due_on=TODAY - DAY)
        response = as_manager.post(_missed_url(followup), {"next": bad})
        assert response["Location"] == case_url, bad
    response = as_manager.post(_missed_url(overdue), {"next": ""})
    assert response["Location"] == case_url
