"""Malformed and nonsense input is refused with a message on the form, never a server
error, and nothing is saved half-way: report periods at the end of the calendar, sessions
and plan steps at year 1 or 9999, a broken `next=` return address, a choice id larger than
the database can hold."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cases.choices import FollowUpStatus, PlanStepKind, SessionStatus, Zone
from cases.models import FollowUp, LaserSession, PlanStep, ZoneLookup
from tests import factories
from tests.formdata import form_data

HUGE_ID = "99999999999999999999999"


# --- Report periods ---------------------------------------------------------------------

REPORTS = [
    "cases:report_cases",
    "cases:report_cases_csv",
    "cases:report_adverse_events",
    "cases:report_adverse_events_csv",
    "cases:report_satisfaction",
    "cases:report_satisfaction_csv",
    "cases:report_issues",
    "cases:report_issues_csv",
    "cases:report_origins",
    "cases:report_origins_csv",
    "cases:report_laser_sessions",
    "cases:report_laser_sessions_csv",
    "cases:report_follow_ups",
    "cases:report_follow_ups_csv",
]


@pytest.mark.parametrize("name", REPORTS)
@pytest.mark.parametrize(
    "period",
    [("9999-12-25", "9999-12-31"), ("0001-01-01", "0001-01-31"), ("1899-12-01", "1900-01-31")],
)
def test_report_period_at_the_ends_of_the_calendar_is_a_form_error(as_manager, name, period):
    response = as_manager.get(reverse(name), {"from": period[0], "to": period[1]})

    assert response.status_code in (200, 400)
    assert b"1900" in response.content


# --- Laser sessions ---------------------------------------------------------------------


@pytest.fixture
def case(db):
    case = factories.CaseFactory()
    factories.ConsentFactory(client=case.client)
    return case


def _laser_form(as_staff, case, when: str) -> dict:
    url = reverse("cases:laser_session_create", kwargs={"case_id": case.public_id})
    technician = factories.TechnicianFactory()
    zone = ZoneLookup.objects.get(code=Zone.FRONTAL_HAIRLINE).pk
    return url, form_data(
        as_staff.get(url).content,
        scheduled_at=when,
        status=SessionStatus.SCHEDULED,
        technician=str(technician.pk),
        zones=[str(zone)],
    )


@pytest.mark.parametrize("when", ["0001-01-01T00:00", "0001-01-01T12:00", "9999-12-31T23:59", "1899-12-31T12:00"])
def test_laser_session_at_the_ends_of_the_calendar_is_refused(as_staff, case, when):
    # A completed session on the same zone makes the interval rule look around the date.
    factories.LaserSessionFactory(case=case, status=SessionStatus.COMPLETED)
    url, data = _laser_form(as_staff, case, when)

    response = as_staff.post(url, data)

    assert response.status_code == 200
    assert b"1900" in response.content or b"5 years" in response.content
    assert LaserSession.objects.filter(case=case).count() == 1


def test_laser_session_more_than_five_years_ahead_is_refused(as_staff, case):
    when = datetime.date.today().replace(year=datetime.date.today().year + 6, day=1)
    url, data = _laser_form(as_staff, case, f"{when.isoformat()}T10:00")

    response = as_staff.post(url, data)

    assert response.status_code == 200
    assert b"at most 5 years ahead" in response.content
    assert not LaserSession.objects.filter(case=case).exists()


def test_session_model_refuses_dates_out_of_bounds(case):
    session = factories.LaserSessionFactory.build(
        case=case, scheduled_at=datetime.datetime(1850, 1, 1, 12, tzinfo=datetime.UTC)
    )
    with pytest.raises(ValidationError, match="1900"):
        session.clean()


# --- Plan steps ---------------------------------------------------------------------------


def test_plan_step_after_a_step_at_the_end_of_the_calendar_is_refused(as_staff):
    plan = factories.TreatmentPlanFactory()
    url = reverse("cases:step_create", kwargs={"plan_id": plan.public_id})
    page = as_staff.get(url).content

    first = as_staff.post(url, form_data(page, kind=PlanStepKind.LASER_SESSION, target_date="9999-12-31"))
    second = as_staff.post(url, form_data(page, kind=PlanStepKind.LASER_SESSION, target_date="", interval_weeks="6"))

    assert first.status_code == 200 and b"at most 5 years ahead" in first.content
    assert second.status_code in (200, 302)
    assert not PlanStep.objects.filter(plan=plan, target_date__year__gt=2100).exists()


@pytest.mark.parametrize("target", ["0001-01-01", "1899-12-31"])
def test_plan_step_before_1900_is_refused(as_staff, target):
    plan = factories.TreatmentPlanFactory()
    url = reverse("cases:step_create", kwargs={"plan_id": plan.public_id})
    page = as_staff.get(url).content

    response = as_staff.post(url, form_data(page, kind=PlanStepKind.LASER_SESSION, target_date=target))

    assert response.status_code == 200 and b"1900" in response.content
    assert not plan.steps.exists()


# --- Follow-ups: next= and due dates ------------------------------------------------------


@pytest.mark.parametrize(
    "next_url", ["x y", "cases:home", "https://evil.example/", "//evil.example/", "javascript:alert(1)", "/a\nb"]
)
def test_missed_with_a_broken_next_is_done_once_and_returns_to_the_case(as_staff, next_url):
    # A bad return address is ignored (read before the change), never a server error after it.
    followup = factories.FollowUpFactory()
    url = reverse("cases:followup_missed", kwargs={"followup_id": followup.public_id})

    response = as_staff.post(url, {"lock_version": followup.lock_version, "next": next_url})

    assert response.status_code == 302
    assert response["Location"] == reverse("cases:case_detail", kwargs={"case_id": followup.case.public_id})
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.MISSED


def test_missed_with_a_same_site_next_goes_there(as_staff):
    followup = factories.FollowUpFactory()
    url = reverse("cases:followup_missed", kwargs={"followup_id": followup.public_id})
    queue = reverse("cases:review_queue") + "?section=due"

    response = as_staff.post(url, {"lock_version": followup.lock_version, "next": queue})

    assert response.status_code == 302 and response["Location"] == queue
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.MISSED


@pytest.mark.parametrize("next_url", ["x y", "cases:home", "https://evil.example/"])
def test_reschedule_with_a_broken_next_books_once_and_returns_to_the_case(as_staff, next_url):
    followup = factories.MissedFollowUpFactory()
    url = reverse("cases:followup_reschedule", kwargs={"followup_id": followup.public_id})
    data = form_data(as_staff.get(url).content, next=next_url)

    response = as_staff.post(url, data)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("cases:case_detail", kwargs={"case_id": followup.case.public_id}))
    assert FollowUp.objects.filter(case=followup.case).count() == 2


def test_reschedule_get_with_a_broken_next_ignores_it(as_staff):
    followup = factories.MissedFollowUpFactory()
    url = reverse("cases:followup_reschedule", kwargs={"followup_id": followup.public_id})

    response = as_staff.get(url, {"next": "x y"})

    assert response.status_code == 200
    assert b'value="x y"' not in response.content


@pytest.mark.parametrize("due_on", ["0001-01-01", "9999-12-31"])
def test_follow_up_due_date_out_of_bounds_is_refused(as_staff, due_on):
    case = factories.CaseFactory()
    url = reverse("cases:followup_create", kwargs={"case_id": case.public_id})
    data = form_data(as_staff.get(url).content, due_on=due_on)

    response = as_staff.post(url, data)

    assert response.status_code == 200
    assert b"1900" in response.content or b"at most 5 years ahead" in response.content
    assert not FollowUp.objects.filter(case=case).exists()


def test_reschedule_more_than_five_years_ahead_is_refused(as_staff):
    followup = factories.MissedFollowUpFactory()
    url = reverse("cases:followup_reschedule", kwargs={"followup_id": followup.public_id})
    data = form_data(as_staff.get(url).content, due_on="9999-12-31")

    response = as_staff.post(url, data)

    assert response.status_code == 200
    assert b"at most 5 years ahead" in response.content
    assert FollowUp.objects.filter(case=followup.case).count() == 1


# --- Choice ids larger than the database holds -------------------------------------------


def test_huge_choice_id_in_a_multi_select_is_a_form_error(as_staff, case):
    url, data = _laser_form(as_staff, case, "2026-01-05T10:00")
    data["zones"] = [HUGE_ID]

    response = as_staff.post(url, data)

    assert response.status_code == 200
    assert b"is not one of the available choices" in response.content or b"valid value" in response.content
    assert not LaserSession.objects.filter(case=case).exists()


def test_huge_choice_id_in_a_plan_step_zone_is_a_form_error(as_staff):
    plan = factories.TreatmentPlanFactory()
    url = reverse("cases:step_create", kwargs={"plan_id": plan.public_id})
    data = form_data(as_staff.get(url).content, kind=PlanStepKind.LASER_SESSION, zones=[HUGE_ID])

    response = as_staff.post(url, data)

    assert response.status_code == 200
    assert not plan.steps.exists()


def test_huge_choice_id_in_the_review_queue_is_a_form_error(as_manager):
    factories.CompletedFollowUpFactory()
    response = as_manager.post(reverse("cases:review_queue"), {"followups": [HUGE_ID], "action": "review"})

    assert response.status_code in (200, 302, 400)


def test_step_six_weeks_after_a_stored_step_at_the_end_of_the_calendar_is_refused(as_staff):
    # A step saved before dates were bounded: the next one's date cannot be counted from it.
    plan = factories.TreatmentPlanFactory()
    factories.PlanStepFactory(plan=plan, order=1, target_date=datetime.date(9999, 12, 31))
    url = reverse("cases:step_create", kwargs={"plan_id": plan.public_id})
    data = form_data(as_staff.get(url).content, kind=PlanStepKind.LASER_SESSION, target_date="", interval_weeks="6")

    response = as_staff.post(url, data)

    assert response.status_code == 200
    assert b"at most 5 years ahead" in response.content
    assert plan.steps.count() == 1


def test_step_dates_within_bounds_still_follow_the_previous_step(as_staff):
    plan = factories.TreatmentPlanFactory()
    first = datetime.date.today() + datetime.timedelta(days=30)
    factories.PlanStepFactory(plan=plan, order=1, target_date=first)
    url = reverse("cases:step_create", kwargs={"plan_id": plan.public_id})
    data = form_data(as_staff.get(url).content, kind=PlanStepKind.LASER_SESSION, target_date="", interval_weeks="6")

    response = as_staff.post(url, data)

    assert response.status_code == 302
    assert plan.steps.get(order=2).target_date == first + datetime.timedelta(weeks=6)
