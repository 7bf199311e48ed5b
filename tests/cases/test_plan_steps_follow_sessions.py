"""A plan step follows its linked sessions, and target dates are derived along the plan.

A completed session makes its step done (dated by the session); a cancelled or
not-attended one puts it back to planned unless another linked session was completed.
A step with an interval is due that many weeks after the previous step's actual date
(or its target date while it is planned); later steps move with it. The plan moves from
accepted to in progress with its first done step, and is completed once every step is
done or skipped.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from cases.choices import CorrectionKind, PlanStatus, PlanStepKind, SessionStatus, StepStatus, Zone
from cases.models import CorrectionSession, LaserSession, PlanStep, ZoneLookup
from cases.services import plans as services
from cases.services.sessions import correction_session_save, laser_session_save
from tests import factories

pytestmark = pytest.mark.django_db

WEEK = datetime.timedelta(weeks=1)
DAY = datetime.timedelta(days=1)


def _day(value: datetime.date) -> str:
    return date_format(value, "j M Y")


def _zones():
    return list(ZoneLookup.objects.filter(code=Zone.FRONTAL_HAIRLINE))


@pytest.fixture
def plan(client_a):
    """An accepted plan of client A: laser (target in a week), laser 6 weeks later, SMP 8 weeks later."""
    case = factories.CaseFactory(client=client_a)
    factories.ConsentFactory(client=client_a)
    plan = factories.AcceptedPlanFactory(case=case)
    first = timezone.localdate() + WEEK
    factories.PlanStepFactory(plan=plan, order=1, interval_weeks=None, target_date=first)
    factories.PlanStepFactory(plan=plan, order=2, interval_weeks=6, target_date=first + 6 * WEEK)
    factories.PlanStepFactory(
        plan=plan, order=3, kind=PlanStepKind.SMP_SESSION, interval_weeks=8, target_date=first + 14 * WEEK
    )
    return plan


def _step(plan, order) -> PlanStep:
    return plan.steps.get(order=order)


def _laser(plan, step, *, when, status=SessionStatus.COMPLETED, technician=None) -> LaserSession:
    return LaserSession(
        case=plan.case,
        plan_step=step,
        technician=technician or factories.TechnicianFactory(),
        scheduled_at=when,
        status=status,
        wavelength_nm=1064,
        fluence_j_cm2=Decimal("3.00"),
        spot_size_mm=Decimal("4.0"),
        passes=1,
    )


def _save(session, by):
    return laser_session_save(session=session, zones=_zones(), adverse_events=[], by=by).session


def test_completing_a_session_marks_its_step_done_moves_later_dates_and_the_next_step(
    plan, staff_user, as_staff, as_client_a
):
    """End to end through the session service: step 1 done on the session's day, steps 2
    and 3 dated from it, and the workspace and the portal show step 2 as next, not step 1."""
    done_at = timezone.now() - 2 * DAY
    done_on = timezone.localdate(done_at)
    # Booked first: a scheduled session leaves the step planned.
    session = _save(_laser(plan, _step(plan, 1), when=done_at, status=SessionStatus.SCHEDULED), staff_user)
    assert _step(plan, 1).status == StepStatus.PLANNED

    session.refresh_from_db()
    session.status = SessionStatus.COMPLETED
    _save(session, staff_user)

    one, two, three = (_step(plan, n) for n in (1, 2, 3))
    assert one.status == StepStatus.DONE
    assert one.done_on == done_on
    assert two.target_date == done_on + 6 * WEEK
    assert three.target_date == done_on + 14 * WEEK
    plan.refresh_from_db()
    assert plan.status == PlanStatus.IN_PROGRESS

    workspace = as_staff.get(reverse("cases:case_detail", args=[plan.case.public_id]))
    assert workspace.context["next_step"].label == "Plan step 2: Laser session"
    assert workspace.context["next_step"].day == done_on + 6 * WEEK
    html = workspace.content.decode()
    assert f"Done {_day(done_on)}" in html
    assert f"Step 2: Laser session · target {_day(done_on + 6 * WEEK)}" in html

    portal = as_client_a.get(reverse("cases:portal_plan")).content.decode()
    assert f"Next step: Laser session, target {_day(done_on + 6 * WEEK)}." in portal
    assert f"Done {_day(done_on)}" in portal
    assert f"Target {_day(done_on + 6 * WEEK)}" in portal

    plan_page = as_staff.get(reverse("cases:plan_detail", args=[plan.public_id])).content.decode()
    assert f"Done {_day(done_on)}" in plan_page and f"Target {_day(done_on + 14 * WEEK)}" in plan_page


def test_a_session_booked_for_the_next_step_dates_it_alike_in_the_header_the_plan_and_the_portal(
    plan, staff_user, as_staff, as_client_a
):
    """The header's "next step" and the plan's next planned step tell one story: the step
    with a booked session shows the booking's day, not its older target date."""
    booked_at = timezone.now() + 3 * DAY
    booked_on = timezone.localdate(booked_at)
    _save(_laser(plan, _step(plan, 1), when=booked_at, status=SessionStatus.SCHEDULED), staff_user)

    workspace = as_staff.get(reverse("cases:case_detail", args=[plan.case.public_id]))
    assert workspace.context["next_step"].label == "Plan step 1: laser session booked"
    assert workspace.context["next_step"].day == booked_on
    assert f"Step 1: Laser session · booked {_day(booked_on)}" in workspace.content.decode()
    portal = as_client_a.get(reverse("cases:portal_plan")).content.decode()
    assert f"Next step: Laser session, booked {_day(booked_on)}." in portal
    plan_page = as_staff.get(reverse("cases:plan_detail", args=[plan.public_id])).content.decode()
    assert f"Booked {_day(booked_on)}" in plan_page


@pytest.mark.parametrize("freeing", [SessionStatus.CANCELLED, SessionStatus.NOT_ATTENDED])
def test_a_cancelled_or_missed_session_puts_its_step_back_to_planned(plan, staff_user, freeing):
    when = timezone.now() - 3 * DAY
    session = _save(_laser(plan, _step(plan, 1), when=when), staff_user)
    assert _step(plan, 1).status == StepStatus.DONE

    session.refresh_from_db()
    session.status = freeing
    _save(session, staff_user)

    assert _step(plan, 1).status == StepStatus.PLANNED
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACCEPTED
    # Back to the target dates: step 2 counts from step 1's target again.
    assert _step(plan, 2).target_date == _step(plan, 1).target_date + 6 * WEEK


def test_a_step_stays_done_while_another_of_its_sessions_is_completed(plan, staff_user):
    technician = factories.TechnicianFactory()
    first = _save(_laser(plan, _step(plan, 1), when=timezone.now() - 60 * DAY, technician=technician), staff_user)
    _save(_laser(plan, _step(plan, 1), when=timezone.now() - 2 * DAY, technician=technician), staff_user)

    first.refresh_from_db()
    first.status = SessionStatus.CANCELLED
    _save(first, staff_user)

    step = _step(plan, 1)
    assert step.status == StepStatus.DONE
    assert step.done_on == timezone.localdate(timezone.now() - 2 * DAY)


def test_moving_a_session_to_another_step_frees_the_first(plan, staff_user):
    session = _save(_laser(plan, _step(plan, 1), when=timezone.now() - 2 * DAY), staff_user)
    session.refresh_from_db()
    session.plan_step = _step(plan, 2)
    _save(session, staff_user)

    assert (_step(plan, 1).status, _step(plan, 2).status) == (StepStatus.PLANNED, StepStatus.DONE)


def test_a_correction_session_moves_its_step_too(plan, staff_user):
    smp = _step(plan, 3)
    session = CorrectionSession(
        case=plan.case,
        plan_step=smp,
        kind=CorrectionKind.SMP_CORRECTION,
        artist=factories.ArtistFactory(),
        scheduled_at=timezone.now() - DAY,
        status=SessionStatus.COMPLETED,
    )
    correction_session_save(session=session, zones=_zones(), by=staff_user)
    assert _step(plan, 3).status == StepStatus.DONE


def test_the_plan_is_completed_when_every_step_is_done_or_skipped(plan, staff_user):
    PlanStep.objects.filter(plan=plan, order__in=[2, 3]).update(status=StepStatus.SKIPPED)
    session = _save(_laser(plan, _step(plan, 1), when=timezone.now() - DAY), staff_user)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMPLETED

    session.refresh_from_db()
    session.status = SessionStatus.CANCELLED
    _save(session, staff_user)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACCEPTED


def test_an_archived_session_no_longer_counts(plan, staff_user):
    session = _save(_laser(plan, _step(plan, 1), when=timezone.now() - DAY), staff_user)
    session.refresh_from_db()
    session.archive(by=staff_user, reason="Entered on the wrong case")
    session.save()
    services.plan_steps_follow_sessions(step_ids=[session.plan_step_id])
    assert _step(plan, 1).status == StepStatus.PLANNED


def test_changing_an_interval_moves_this_step_and_every_later_one():
    plan = factories.TreatmentPlanFactory()
    first = services.plan_step_save(plan=plan, kind=PlanStepKind.LASER_SESSION, target_date=datetime.date(2027, 1, 4))
    second = services.plan_step_save(plan=plan, kind=PlanStepKind.LASER_SESSION, interval_weeks=6)
    third = services.plan_step_save(plan=plan, kind=PlanStepKind.HEALING_CHECK, interval_weeks=2)
    assert (second.target_date, third.target_date) == (datetime.date(2027, 2, 15), datetime.date(2027, 3, 1))

    services.plan_step_save(plan=plan, step=second, kind=PlanStepKind.LASER_SESSION, interval_weeks=8)
    third.refresh_from_db()
    assert third.target_date == datetime.date(2027, 3, 15)

    # Moving the first step's date moves both later ones.
    first.refresh_from_db()
    services.plan_step_save(
        plan=plan, step=first, kind=PlanStepKind.LASER_SESSION, target_date=datetime.date(2027, 1, 11)
    )
    second.refresh_from_db()
    third.refresh_from_db()
    assert (second.target_date, third.target_date) == (datetime.date(2027, 3, 8), datetime.date(2027, 3, 22))


def test_reordering_steps_recomputes_the_dates():
    plan = factories.TreatmentPlanFactory()
    services.plan_step_save(plan=plan, kind=PlanStepKind.LASER_SESSION, target_date=datetime.date(2027, 1, 4))
    check = services.plan_step_save(plan=plan, kind=PlanStepKind.HEALING_CHECK, interval_weeks=2)
    review = services.plan_step_save(plan=plan, kind=PlanStepKind.REVIEW, target_date=datetime.date(2027, 6, 1))
    # The check now comes after the review: two weeks after the review's date.
    services.plan_step_save(plan=plan, step=check, kind=PlanStepKind.HEALING_CHECK, interval_weeks=2, order=4)
    check.refresh_from_db()
    review.refresh_from_db()
    assert review.target_date == datetime.date(2027, 6, 1)  # no interval: its own date
    assert check.target_date == datetime.date(2027, 6, 15)


def test_nothing_to_follow_is_a_no_op():
    services.plan_steps_follow_sessions(step_ids=[None])
    services.plan_steps_follow_sessions(step_ids=[])
