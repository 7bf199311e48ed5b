"""Staff home (cases:home): sessions today and this week, my follow-ups, cases I lead, recent changes."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.choices import CaseStatus, CorrectionKind, FollowUpStatus, SessionStatus
from cases.models import Case, ZoneLookup
from tests import factories
from tests.helpers import assert_queries_hold, frozen_at, sql_of_get

HOME = reverse("cases:home")
# A Wednesday morning in the clinic's time zone (Europe/London, GMT in November).
NOW = datetime.datetime(2026, 11, 25, 9, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()


frozen_clock = frozen_at(NOW)


def at(day_offset: int, hour: int, minute: int = 0) -> datetime.datetime:
    day = TODAY + datetime.timedelta(days=day_offset)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def section(html: str, heading_id: str) -> str:
    """The HTML of one <section> of the page, found by its heading id."""
    match = re.search(rf'<section[^>]*aria-labelledby="{heading_id}".*?</section>', html, re.S)
    assert match, f"no section {heading_id}"
    return match.group(0)


@pytest.fixture
def technician(db):
    return factories.TechnicianFactory()


def laser(case, when, technician, **kwargs):
    kwargs.setdefault("status", SessionStatus.SCHEDULED)
    return factories.LaserSessionFactory(case=case, scheduled_at=when, technician=technician, **kwargs)


def correction(case, when, artist, **kwargs):
    kwargs.setdefault("status", SessionStatus.SCHEDULED)
    return factories.CorrectionSessionFactory(case=case, scheduled_at=when, artist=artist, **kwargs)


# Permissions -------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(anonymous):
    response = anonymous.get(HOME)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={HOME}"


def test_client_is_sent_to_the_portal(as_client_a):
    response = as_client_a.get(HOME)
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:portal_plan")


@pytest.mark.parametrize("persona", ["as_staff", "as_manager", "as_admin"])
def test_clinic_users_see_the_home_page(persona, request):
    response = request.getfixturevalue(persona).get(HOME)
    assert response.status_code == 200
    assert "Today, Wednesday 25 November 2026" in response.content.decode()


def test_post_is_not_allowed(as_staff):
    assert as_staff.post(HOME).status_code == 405


# Sessions ----------------------------------------------------------------------------


def test_sessions_today_and_this_week_by_time(as_staff, technician):
    case = factories.CaseFactory(client__first_name="Carl", client__last_name="Today")
    other = factories.CaseFactory(client__first_name="Wendy", client__last_name="Week")
    later_today = laser(case, at(0, 15), technician)
    earlier_today = correction(other, at(0, 10), technician, kind=CorrectionKind.SALINE_REMOVAL)
    tomorrow = laser(other, at(1, 11), technician)
    in_seven_days = correction(case, at(7, 16), technician)

    html = as_staff.get(HOME).content.decode()

    today_html = section(html, "sessions-today")
    assert today_html.index("10:00") < today_html.index("15:00")
    assert "Saline removal" in today_html and "Laser" in today_html
    assert reverse("cases:client_detail", kwargs={"client_id": case.client.public_id}) in today_html
    assert reverse("cases:case_detail", kwargs={"case_id": case.public_id}) in today_html
    assert case.reference in today_html and "Carl Today" in today_html
    assert technician.full_name in today_html
    assert "Frontal hairline" in today_html
    week_html = section(html, "sessions-week")
    assert "Thu 26 Nov, 11:00" in week_html and "Wed 2 Dec, 16:00" in week_html
    assert week_html.index("26 Nov") < week_html.index("2 Dec")
    assert "15:00" not in week_html
    for session in (later_today, earlier_today, tomorrow, in_seven_days):
        assert session.case.reference in html


def test_a_sessions_zones_are_named_in_the_order_of_the_scalp(as_staff, technician):
    """Zones as the form lists them (front to back), whatever order they were added in."""
    session = laser(factories.CaseFactory(), at(0, 15), technician, zones=["nape"])
    for code in ("crown", "frontal_hairline"):  # linked after the nape, back to front
        session.zones.add(ZoneLookup.objects.get(code=code))

    today_html = section(as_staff.get(HOME).content.decode(), "sessions-today")

    assert "Frontal hairline, Crown (vertex), Nape / donor area" in today_html
    assert session.case.reference in today_html


def test_sessions_outside_the_week_or_not_scheduled_are_left_out(as_staff, technician):
    case = factories.CaseFactory()
    laser(case, at(-1, 15), technician)  # yesterday
    laser(case, at(8, 9), technician)  # after the week
    factories.LaserSessionFactory(case=case, scheduled_at=at(0, 11), technician=technician)  # completed
    laser(case, at(0, 12), technician, status=SessionStatus.CANCELLED)
    archived = laser(case, at(0, 13), technician)
    archived.archived_at = timezone.now()
    archived.save()
    archived_case = factories.CaseFactory(archived_at=timezone.now())
    laser(archived_case, at(0, 14), technician)

    html = as_staff.get(HOME).content.decode()

    assert "No sessions scheduled today." in section(html, "sessions-today")
    assert "No sessions scheduled in the next 7 days." in section(html, "sessions-week")


# Follow-ups ---------------------------------------------------------------------------


def test_my_follow_ups_due_or_overdue_with_overdue_marked(as_staff, staff_user):
    overdue = factories.FollowUpFactory(assignee=staff_user, due_on=TODAY - datetime.timedelta(days=2))
    due = factories.FollowUpFactory(assignee=staff_user, due_on=TODAY + datetime.timedelta(days=3))
    later = factories.FollowUpFactory(assignee=staff_user, due_on=TODAY + datetime.timedelta(days=20))
    someone_elses = factories.FollowUpFactory(due_on=TODAY)
    done = factories.FollowUpFactory(
        assignee=staff_user,
        due_on=TODAY - datetime.timedelta(days=5),
        status=FollowUpStatus.COMPLETED,
        completed_on=TODAY,
    )

    html = section(as_staff.get(HOME).content.decode(), "my-follow-ups")

    assert "1 overdue" in html
    items = re.findall(r"<li class=\"list-group-item[^\"]*\">.*?</li>", html, re.S)
    assert len(items) == 2
    assert "list-group-item-danger" in items[0] and "Overdue" in items[0]
    assert overdue.case.reference in items[0]
    assert due.case.reference in items[1] and "Overdue" not in items[1]
    assert reverse("cases:followup_complete", kwargs={"followup_id": overdue.public_id}) in items[0]
    for left_out in (later, someone_elses, done):
        assert left_out.case.reference not in html


def test_no_follow_ups_message(as_staff):
    html = as_staff.get(HOME).content.decode()
    assert "No follow-ups assigned to you are due or overdue." in section(html, "my-follow-ups")


# Cases I lead --------------------------------------------------------------------------


def test_cases_i_lead_counted_by_status(as_staff, staff_user):
    me = factories.ArtistFactory(user=staff_user)
    factories.CaseFactory.create_batch(2, lead_artist=me, status=CaseStatus.ASSESSMENT)
    planning = factories.CaseFactory(lead_artist=me, status=CaseStatus.PLANNING)
    closed = factories.CaseFactory(lead_artist=me, status=CaseStatus.CLOSED, closed_on=TODAY, outcome="improved")
    not_mine = factories.CaseFactory(status=CaseStatus.PLANNING)

    response = as_staff.get(HOME)
    html = section(response.content.decode(), "my-cases")

    counts = {value: count for value, _label, count in response.context["my_cases"]["counts"]}
    assert counts[CaseStatus.ASSESSMENT] == 2
    assert counts[CaseStatus.PLANNING] == 1
    assert counts[CaseStatus.CLOSED] == 1
    assert counts[CaseStatus.CONSULTATION] == 0
    assert f"?status=planning&amp;lead_artist={me.public_id}" in html
    assert planning.reference in html  # open cases are listed
    assert closed.reference not in html
    assert not_mine.reference not in html


def test_user_without_artist_is_told(as_manager):
    html = section(as_manager.get(HOME).content.decode(), "my-cases")
    assert "not linked to an artist" in html


# Recent cases ----------------------------------------------------------------------------


def test_recently_changed_cases_last_ten(as_staff):
    cases = factories.CaseFactory.create_batch(12)
    for minutes, case in enumerate(cases):
        Case.objects.filter(pk=case.pk).update(updated_at=NOW - datetime.timedelta(minutes=60 - minutes))
    archived = factories.CaseFactory(archived_at=timezone.now())

    response = as_staff.get(HOME)
    html = section(response.content.decode(), "recent-cases")

    shown = [case.reference for case in response.context["recent_cases"]]
    assert shown == [case.reference for case in reversed(cases[2:])]
    assert cases[0].reference not in html and cases[1].reference not in html
    assert archived.reference not in html
    assert reverse("cases:case_detail", kwargs={"case_id": cases[-1].public_id}) in html


# Query count ------------------------------------------------------------------------------


def _make_rows(n: int, staff_user, me, technician):
    for i in range(n):
        case = factories.CaseFactory(lead_artist=me, status=CaseStatus.IN_TREATMENT)
        laser(case, at(i % 8, 9 + i % 8), technician)
        correction(case, at(i % 8, 10), technician)
        factories.FollowUpFactory(case=case, assignee=staff_user, due_on=TODAY + datetime.timedelta(days=i % 9 - 2))


def test_query_count_does_not_grow_with_data(as_staff, staff_user, technician):
    me = factories.ArtistFactory(user=staff_user)
    _make_rows(5, staff_user, me, technician)
    as_staff.get(HOME)  # warm up: session, clinic settings
    with_5 = sql_of_get(as_staff, HOME)
    _make_rows(45, staff_user, me, technician)
    with_50 = sql_of_get(as_staff, HOME)
    # session, user with groups, laser and correction sessions (each with its zones),
    # follow-ups, artist, status counts, my open cases, recent cases, the access log's insert
    assert_queries_hold(with_5, with_50, at_most=10)


def test_lists_are_capped(as_staff, staff_user, technician):
    from cases.views.home import HOME_LIST_LIMIT

    case = factories.CaseFactory()
    device = factories.LaserDeviceFactory()
    for _ in range(HOME_LIST_LIMIT + 1):
        laser(case, at(0, 11), technician, device=device)
        factories.FollowUpFactory(case=case, assignee=staff_user, due_on=TODAY)

    response = as_staff.get(HOME)

    html = response.content.decode()
    assert len(response.context["session_groups"][0]["sessions"]) == HOME_LIST_LIMIT
    assert f"Only the first {HOME_LIST_LIMIT} sessions are shown;" in html
    assert f'<a href="{reverse("cases:diary")}">the diary</a> has them all.' in html
    assert len(response.context["follow_ups"]) == HOME_LIST_LIMIT
    assert f"Only the first {HOME_LIST_LIMIT} follow-ups are shown." in html


def test_capped_counts_say_there_are_more(as_staff, staff_user, technician):
    """A clinic with hundreds of overdue follow-ups must not read "25 overdue": when a list is
    cut, its badge says "25+", as the plans-to-approve badge does."""
    from cases.views.home import HOME_LIST_LIMIT

    case = factories.CaseFactory()
    device = factories.LaserDeviceFactory()
    for _ in range(HOME_LIST_LIMIT + 1):
        laser(case, at(2, 11), technician, device=device)
        factories.FollowUpFactory(case=case, assignee=staff_user, due_on=TODAY - datetime.timedelta(days=3))

    html = as_staff.get(HOME).content.decode()

    assert f"{HOME_LIST_LIMIT}+ overdue" in section(html, "my-follow-ups")
    week = section(html, "sessions-week")
    assert f'<span class="badge text-bg-secondary">{HOME_LIST_LIMIT}+</span>' in week
    assert '<span class="badge text-bg-secondary">0</span>' in section(html, "sessions-today")


def test_uncut_counts_have_no_plus(as_staff, staff_user, technician):
    factories.FollowUpFactory(assignee=staff_user, due_on=TODAY - datetime.timedelta(days=3))
    laser(factories.CaseFactory(), at(2, 11), technician)

    html = as_staff.get(HOME).content.decode()

    assert "1 overdue" in section(html, "my-follow-ups")
    assert '<span class="badge text-bg-secondary">1</span>' in section(html, "sessions-week")
