"""Rescheduling a missed follow-up in one step, from the review queue or the case workspace."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from cases.choices import FollowUpKind, FollowUpStatus
from cases.models import FollowUp
from cases.services.followups import followup_reschedule
from tests import factories
from tests.helpers import frozen_at, messages_of

NOW = datetime.datetime(2026, 11, 25, 9, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()
DAY = datetime.timedelta(days=1)
QUEUE_URL = reverse("cases:review_queue")


frozen_clock = frozen_at(NOW)


@pytest.fixture
def nurse(db):
    return factories.StaffUserFactory(first_name="Nina", last_name="Nurse")


@pytest.fixture
def missed(nurse):
    session = factories.LaserSessionFactory()
    return factories.MissedFollowUpFactory(
        case=session.case, laser_session=session, kind=FollowUpKind.POST_LASER_CHECK, assignee=nurse
    )


def url(followup) -> str:
    return reverse("cases:followup_reschedule", kwargs={"followup_id": followup.public_id})


def detail_url(case) -> str:
    return reverse("cases:case_detail", kwargs={"case_id": case.public_id})


# --- permissions ---------------------------------------------------------------------------------------
# Who may open the page is tests/test_url_permissions.py's walk; here, what it does not check:
# a refused post books nothing, staff do book, the service's own check, an unknown id.


def test_a_client_posting_is_refused_and_books_nothing(as_client_a, client_a):
    own = factories.MissedFollowUpFactory(case=factories.CaseFactory(client=client_a))
    assert as_client_a.post(url(own), {"due_on": "2026-12-02"}).status_code == 403
    assert not FollowUp.objects.filter(rescheduled_from=own).exists()


def test_staff_can_reschedule(as_staff, missed):
    """Booking a follow-up again is front-desk work, like scheduling one."""
    response = as_staff.post(url(missed), {"due_on": "2026-12-02"})
    assert response.status_code == 302
    assert FollowUp.objects.filter(rescheduled_from=missed).exists()


def test_the_service_refuses_a_client(client_a, missed):
    with pytest.raises(PermissionDenied):
        followup_reschedule(followup=missed, due_on=TODAY + DAY, by=client_a.user)


def test_unknown_follow_up_is_404(as_manager):
    response = as_manager.get(
        reverse("cases:followup_reschedule", kwargs={"followup_id": "0" * 8 + "-0000-4000-8000-" + "0" * 12})
    )
    assert response.status_code == 404


# --- happy path ------------------------------------------------------------------------------------------


def test_the_form_is_prefilled_a_week_ahead(as_manager, missed):
    response = as_manager.get(url(missed))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="2026-12-02"' in html
    assert "Post-laser check" in html.replace("post-laser check", "Post-laser check")
    assert "Nina Nurse" in html


def test_reschedule_creates_a_linked_follow_up_and_keeps_the_missed_one(as_manager, missed, nurse):
    response = as_manager.post(url(missed), {"due_on": "2026-12-09"})

    assert response.status_code == 302
    assert response["Location"] == detail_url(missed.case) + "#follow-ups"
    new = FollowUp.objects.get(rescheduled_from=missed)
    assert new.case == missed.case
    assert new.kind == FollowUpKind.POST_LASER_CHECK
    assert new.assignee == nurse
    assert new.laser_session == missed.laser_session
    assert new.due_on == datetime.date(2026, 12, 9)
    assert new.status == FollowUpStatus.SCHEDULED
    missed.refresh_from_db()
    assert missed.status == FollowUpStatus.MISSED, "the miss stays on record"
    assert missed.reviewed_at is None, "and still waits for a manager's review"
    assert messages_of(response) == [f"Post-laser check for {missed.case.client.full_name} rescheduled to 9 Dec 2026."]


def test_reschedule_returns_to_the_queue_it_came_from(as_manager, missed):
    back = f"{QUEUE_URL}?kind=post_laser_check"
    response = as_manager.post(url(missed), {"due_on": "2026-12-02", "next": back})
    assert response["Location"] == back


def test_an_outside_next_is_ignored(as_manager, missed):
    response = as_manager.post(url(missed), {"due_on": "2026-12-02", "next": "https://evil.example/phish"})
    assert response["Location"] == detail_url(missed.case) + "#follow-ups"


def test_an_assignee_who_left_is_not_kept(as_manager, missed, nurse):
    nurse.is_active = False
    nurse.save()

    as_manager.post(url(missed), {"due_on": "2026-12-02"})

    assert FollowUp.objects.get(rescheduled_from=missed).assignee is None


# --- refusals and validation -----------------------------------------------------------------------------


def test_a_past_date_is_refused_and_shown(as_manager, missed):
    response = as_manager.post(url(missed), {"due_on": "2026-11-24"})

    assert response.status_code == 200
    assert "The new due date cannot be in the past." in response.content.decode()
    assert not FollowUp.objects.filter(rescheduled_from=missed).exists()


def test_a_missing_date_is_refused(as_manager, missed):
    response = as_manager.post(url(missed), {"due_on": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not FollowUp.objects.filter(rescheduled_from=missed).exists()


def test_a_scheduled_follow_up_cannot_be_rescheduled(as_manager):
    scheduled = factories.FollowUpFactory(due_on=TODAY - DAY)
    for method in ("get", "post"):
        response = getattr(as_manager, method)(url(scheduled), {"due_on": "2026-12-02"})
        assert response.status_code == 302
        assert messages_of(response)[-1] == "Only a missed follow-up can be rescheduled; this one is scheduled."
    assert FollowUp.objects.count() == 1


def test_a_follow_up_is_rescheduled_once(as_manager, missed):
    as_manager.post(url(missed), {"due_on": "2026-12-02"})

    response = as_manager.post(url(missed), {"due_on": "2026-12-09"})

    assert response.status_code == 302
    assert messages_of(response)[-1] == "This follow-up was already rescheduled to 2 Dec 2026."
    assert FollowUp.objects.filter(rescheduled_from=missed).count() == 1
    with pytest.raises(ValidationError, match="already rescheduled"):
        followup_reschedule(followup=missed, due_on=TODAY + DAY, by=factories.ManagerUserFactory())


def test_service_refuses_past_dates_and_completed(staff_user, missed):
    with pytest.raises(ValidationError, match="cannot be in the past"):
        followup_reschedule(followup=missed, due_on=TODAY - DAY, by=staff_user)
    completed = factories.CompletedFollowUpFactory()
    with pytest.raises(ValidationError, match="Only a missed follow-up"):
        followup_reschedule(followup=completed, due_on=TODAY + DAY, by=staff_user)


# --- offered where the miss is seen --------------------------------------------------------------------------


def test_the_queue_offers_a_one_step_reschedule(as_manager, missed):
    html = as_manager.get(QUEUE_URL).content.decode()

    form = re.search(
        rf'<form method="post" action="{url(missed)}" id="reschedule-{missed.public_id}">.*?</form>', html, re.S
    )
    assert form, "a form per missed row"
    assert 'name="next" value="/review/"' in form.group(0)
    date_input = re.search(rf'<input[^>]*form="reschedule-{missed.public_id}"[^>]*>', html).group(0)
    assert 'type="date"' in date_input and 'name="due_on"' in date_input and 'value="2026-12-02"' in date_input

    response = as_manager.post(url(missed), {"due_on": "2026-12-02", "next": "/review/"})
    assert response["Location"] == "/review/"
    html = as_manager.get(QUEUE_URL).content.decode()
    assert "Rescheduled to 2 Dec 2026" in html
    assert f'id="reschedule-{missed.public_id}"' not in html


def test_the_case_workspace_offers_reschedule_for_missed_only(as_staff, missed):
    factories.FollowUpFactory(case=missed.case, due_on=TODAY + DAY)

    html = as_staff.get(detail_url(missed.case)).content.decode()

    assert html.count(reverse("cases:followup_reschedule", kwargs={"followup_id": missed.public_id})) == 1
    assert html.count("/reschedule/") == 1

    as_staff.post(url(missed), {"due_on": "2026-12-02"})
    html = as_staff.get(detail_url(missed.case)).content.decode()
    assert '<span class="badge text-bg-info">rescheduled</span>' in html
    # Once rescheduled, the missed one says where it went instead of offering it again.
    assert "/reschedule/" not in html
    assert "Rescheduled to 2 Dec 2026" in html
