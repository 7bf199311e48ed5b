"""A follow-up's dates: the rules live in the service (whoever calls it) and the forms show
the service's message. Also: one definition of the satisfaction scale."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from cases.choices import FollowUpKind, FollowUpStatus, Healing, Satisfaction
from cases.forms.followups import FollowUpCompleteForm, session_key
from cases.models import FollowUp
from cases.services.followups import followup_complete, followup_create, followup_reschedule
from smpclinic.models import ClinicSettings
from tests import factories
from tests.helpers import frozen_at, messages_of

NOW = datetime.datetime(2026, 11, 25, 9, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()
DAY = datetime.timedelta(days=1)
OPENED = datetime.date(2026, 9, 1)


frozen_clock = frozen_at(NOW)


@pytest.fixture
def case(db):
    return factories.CaseFactory(opened_on=OPENED)


def set_zone(name: str) -> None:
    clinic = ClinicSettings.load()
    clinic.time_zone = name
    clinic.save()


def create_url(case) -> str:
    return reverse("cases:followup_create", kwargs={"case_id": case.public_id})


def complete_url(followup) -> str:
    return reverse("cases:followup_complete", kwargs={"followup_id": followup.public_id})


# --- due date ---------------------------------------------------------------------------------------------


def test_the_service_refuses_a_due_date_before_the_case_opened(case, staff_user):
    with pytest.raises(ValidationError) as refused:
        followup_create(case=case, kind=FollowUpKind.HEALING_CHECK, due_on=OPENED - DAY, by=staff_user)
    assert refused.value.message_dict == {"due_on": ["A follow-up cannot be due before the case opened (1 Sep 2026)."]}
    assert not FollowUp.objects.exists()


def test_the_service_refuses_a_due_date_before_the_session_it_follows_up(case, staff_user):
    session = factories.LaserSessionFactory(case=case, scheduled_at=NOW - 10 * DAY)
    with pytest.raises(ValidationError, match=r"cannot be due before the session it follows up \(15 Nov 2026\)"):
        followup_create(
            case=case, kind=FollowUpKind.POST_LASER_CHECK, due_on=TODAY - 11 * DAY, laser_session=session, by=staff_user
        )
    assert not FollowUp.objects.exists()


def test_a_due_date_already_past_is_allowed_and_overdue(case, staff_user):
    """A check that should have happened already (a session recorded late, or a check done
    but never booked) is booked as overdue, not refused."""
    session = factories.LaserSessionFactory(case=case, scheduled_at=NOW - 30 * DAY)
    followup = followup_create(
        case=case, kind=FollowUpKind.POST_LASER_CHECK, due_on=TODAY - 16 * DAY, laser_session=session, by=staff_user
    )
    assert followup.is_overdue()


def test_the_form_shows_the_services_due_date_message(as_staff, case):
    response = as_staff.post(create_url(case), {"kind": FollowUpKind.HEALING_CHECK, "due_on": "2026-08-31"})
    assert response.status_code == 200
    assert response.context["form"].errors["due_on"] == [
        "A follow-up cannot be due before the case opened (1 Sep 2026)."
    ]
    assert not FollowUp.objects.exists()


def test_the_form_says_when_a_new_follow_up_is_already_overdue(as_staff, case):
    response = as_staff.post(create_url(case), {"kind": FollowUpKind.HEALING_CHECK, "due_on": "2026-11-20"})
    assert response.status_code == 302
    assert messages_of(response) == ["Healing check scheduled for 20 Nov 2026. It is already overdue."]


def test_the_form_refuses_a_session_day_rule_with_the_services_message(as_staff, case):
    session = factories.CorrectionSessionFactory(case=case, scheduled_at=NOW - 2 * DAY)
    data = {"kind": FollowUpKind.HEALING_CHECK, "due_on": "2026-11-20", "session": session_key(session)}
    response = as_staff.post(create_url(case), data)
    assert response.context["form"].errors["due_on"] == [
        "A follow-up cannot be due before the session it follows up (23 Nov 2026)."
    ]


def test_a_reschedule_cannot_be_in_the_past_in_the_service(staff_user):
    missed = factories.MissedFollowUpFactory()
    with pytest.raises(ValidationError, match="The new due date cannot be in the past."):
        followup_reschedule(followup=missed, due_on=TODAY - DAY, by=staff_user)
    assert not FollowUp.objects.filter(rescheduled_from=missed).exists()


def test_the_reschedule_form_shows_the_services_message(as_staff):
    missed = factories.MissedFollowUpFactory()
    url = reverse("cases:followup_reschedule", kwargs={"followup_id": missed.public_id})
    response = as_staff.post(url, {"due_on": "2026-11-24"})
    assert response.status_code == 200
    assert response.context["form"].errors["due_on"] == ["The new due date cannot be in the past."]


# --- completion date ---------------------------------------------------------------------------------------


def test_the_service_refuses_completion_before_the_case_opened(case, staff_user):
    followup = factories.FollowUpFactory(case=case, due_on=OPENED)
    with pytest.raises(ValidationError) as refused:
        followup_complete(followup=followup, completed_on=OPENED - DAY, healing=Healing.AS_EXPECTED, by=staff_user)
    assert refused.value.message_dict == {
        "completed_on": ["A follow-up cannot be completed before the case opened (1 Sep 2026)."]
    }
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.SCHEDULED


def test_the_service_refuses_completion_before_the_session_it_follows_up(case, staff_user):
    session = factories.LaserSessionFactory(case=case, scheduled_at=NOW - 3 * DAY)
    followup = factories.FollowUpFactory(case=case, laser_session=session, due_on=TODAY)
    with pytest.raises(ValidationError, match=r"before the session it follows up \(22 Nov 2026\)"):
        followup_complete(followup=followup, completed_on=TODAY - 4 * DAY, healing=Healing.AS_EXPECTED, by=staff_user)


@time_machine.travel(datetime.datetime(2026, 11, 25, 11, 30, tzinfo=datetime.UTC), tick=False)
def test_completion_today_follows_the_clinics_time_zone_not_the_servers(case, staff_user):
    """At 11:30 UTC it is already 26 November in Auckland (UTC+13), the clinic's zone."""
    set_zone("Pacific/Auckland")
    followup = factories.FollowUpFactory(case=case, due_on=TODAY)
    followup_complete(followup=followup, completed_on=TODAY + DAY, healing=Healing.AS_EXPECTED, by=staff_user)
    followup.refresh_from_db()
    assert followup.completed_on == datetime.date(2026, 11, 26)


@time_machine.travel(datetime.datetime(2026, 11, 25, 5, 0, tzinfo=datetime.UTC), tick=False)
def test_completion_in_the_future_of_the_clinics_time_zone_is_refused(case, staff_user):
    """At 05:00 UTC on the 25th it is still the 24th in Los Angeles, the clinic's zone."""
    set_zone("America/Los_Angeles")
    followup = factories.FollowUpFactory(case=case, due_on=TODAY - DAY)
    with pytest.raises(ValidationError, match="cannot be completed in the future"):
        followup_complete(followup=followup, completed_on=TODAY, healing=Healing.AS_EXPECTED, by=staff_user)


def test_the_complete_form_shows_the_services_messages(as_staff, case):
    followup = factories.FollowUpFactory(case=case, due_on=TODAY)
    for day, message in [
        ("2026-11-26", "A follow-up cannot be completed in the future."),
        ("2026-08-31", "A follow-up cannot be completed before the case opened (1 Sep 2026)."),
    ]:
        response = as_staff.post(complete_url(followup), {"completed_on": day, "healing": Healing.AS_EXPECTED})
        assert response.status_code == 200
        assert response.context["form"].errors["completed_on"] == [message]
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.SCHEDULED


# --- one satisfaction scale ---------------------------------------------------------------------------------


def test_the_complete_form_offers_the_one_satisfaction_scale(db):
    form = FollowUpCompleteForm(followup=factories.FollowUpFactory())
    assert form.fields["satisfaction"].choices == [("", "—"), *Satisfaction.choices]
    assert Satisfaction.choices == [
        (1, "1 – very dissatisfied"),
        (2, "2 – dissatisfied"),
        (3, "3 – neutral"),
        (4, "4 – satisfied"),
        (5, "5 – very satisfied"),
    ]
