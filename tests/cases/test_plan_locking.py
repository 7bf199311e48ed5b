"""Nothing silently lost on plans: a plan or step form opened before someone else's save
is refused with their changes and shown again with both; approve, submit and the
in-clinic acceptance act only on the version the user looked at; two parallel saves of
the same version: one wins."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.choices import PlanStatus
from cases.models import CorrectionOption, TreatmentPlan
from cases.services import plans as services
from smpclinic.concurrency import StaleEdit
from tests import factories
from tests.formdata import form_data
from tests.threads import race

pytestmark = pytest.mark.django_db


def url(name, obj) -> str:
    return reverse(f"cases:{name}", args=[obj.public_id])


def _errors(response) -> str:
    return " ".join(str(e) for e in response.context["form"].non_field_errors())


@pytest.fixture
def draft():
    plan = factories.TreatmentPlanFactory(summary="Original summary", internal_notes="")
    plan.options.set(CorrectionOption.objects.filter(code="laser_removal"))
    factories.PlanStepFactory(plan=plan, order=1, description="First step")
    return plan


def test_a_stale_plan_form_is_refused_and_saving_it_again_keeps_both_edits(as_staff, as_manager, draft):
    first = form_data(as_staff.get(url("plan_edit", draft)).content)
    second = form_data(as_manager.get(url("plan_edit", draft)).content)
    assert first["lock_version"] == second["lock_version"] == str(draft.lock_version)

    assert as_staff.post(url("plan_edit", draft), {**first, "summary": "Summary by staff"}).status_code == 302

    response = as_manager.post(url("plan_edit", draft), {**second, "internal_notes": "Prefers mornings"})
    assert response.status_code == 200
    assert "after you opened this form, so nothing was saved" in _errors(response)
    assert "Plan in plain language: Original summary → Summary by staff" in _errors(response)
    draft.refresh_from_db()
    assert (draft.summary, draft.internal_notes) == ("Summary by staff", "")

    again = form_data(response.content)
    assert again["summary"] == "Summary by staff" and again["internal_notes"] == "Prefers mornings"
    assert as_manager.post(url("plan_edit", draft), again).status_code == 302
    draft.refresh_from_db()
    assert (draft.summary, draft.internal_notes) == ("Summary by staff", "Prefers mornings")


@pytest.mark.history
def test_a_stale_step_form_is_refused_and_saving_it_again_keeps_both_edits(as_staff, as_manager, draft):
    step = draft.steps.get()
    first = form_data(as_staff.get(url("step_edit", step)).content)
    second = form_data(as_manager.get(url("step_edit", step)).content)

    assert as_staff.post(url("step_edit", step), {**first, "description": "Lighten the hairline"}).status_code == 302

    response = as_manager.post(url("step_edit", step), {**second, "target_date": "2027-03-01"})
    assert response.status_code == 200
    assert "Description: First step → Lighten the hairline" in _errors(response)
    step.refresh_from_db()
    assert step.description == "Lighten the hairline" and step.target_date is None

    again = form_data(response.content)
    assert as_manager.post(url("step_edit", step), again).status_code == 302
    step.refresh_from_db()
    assert (step.description, str(step.target_date)) == ("Lighten the hairline", "2027-03-01")


def test_submitting_a_plan_changed_since_the_page_was_opened_is_refused(as_staff, as_manager, draft):
    page = as_staff.get(url("plan_detail", draft)).content
    submit = form_data(page, form_index=page.decode().count("<form") - 1)  # the last form: submit
    services.plan_update(plan=draft, summary="Changed meanwhile")

    response = as_staff.post(url("plan_submit", draft), submit)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == PlanStatus.DRAFT


def test_approving_a_plan_resubmitted_since_the_review_page_was_opened_is_refused(
    as_manager, manager_user, staff_user, draft
):
    plan = services.plan_submit(plan=draft, by=staff_user)
    review = form_data(as_manager.get(url("plan_review", plan)).content)
    # Meanwhile another manager sends it back, staff change it and submit it again.
    plan = services.plan_send_back(plan=plan, by=manager_user, note="Add a test spot.")
    plan = services.plan_update(plan=plan, summary="Changed after it was sent back")
    services.plan_submit(plan=plan, by=staff_user)

    response = as_manager.post(url("plan_review", plan), {**review, "decision": "approve"})
    assert response.status_code == 200
    assert "nothing was saved" in _errors(response)
    plan.refresh_from_db()
    assert plan.approved_at is None


def test_the_in_clinic_acceptance_is_of_the_version_shown(as_staff, draft, staff_user, manager_user):
    plan = services.plan_approve(plan=services.plan_submit(plan=draft, by=staff_user), by=manager_user)
    page = form_data(as_staff.get(url("plan_accept", plan)).content)
    assert page["lock_version"] == str(plan.lock_version)
    TreatmentPlan.objects.filter(pk=plan.pk).update(lock_version=plan.lock_version + 1)  # someone saved it

    response = as_staff.post(url("plan_accept", plan), {**page, "name": plan.case.client.full_name, "confirm": "on"})
    assert response.status_code == 200
    plan.refresh_from_db()
    assert plan.accepted_at is None


@pytest.mark.django_db(transaction=True)
def test_two_parallel_plan_updates_of_the_same_version_one_wins():
    """On PostgreSQL the two run at once and the row lock decides; on SQLite writers take
    turns. Either way the loser is refused, never silently overwriting."""
    plan = factories.TreatmentPlanFactory(summary="Original", internal_notes="")
    copies = [TreatmentPlan.objects.get(pk=plan.pk) for _ in range(2)]

    results, errors = race(
        lambda: services.plan_update(plan=copies[0], summary="Summary by one"),
        lambda: services.plan_update(plan=copies[1], internal_notes="Notes by the other"),
    )

    assert len(results) == 1, errors
    assert len(errors) == 1 and isinstance(errors[0], StaleEdit)
    plan.refresh_from_db()
    assert plan.lock_version == 2
    won = results[0]
    assert (plan.summary, plan.internal_notes) == (won.summary, won.internal_notes)
