"""Four eyes on plan approval: the manager who approves a plan is not the one who submitted it,
unless the clinic turns the rule off (Clinic settings, recorded in their history)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient
from django.urls import reverse

from cases.choices import CorrectionOptionChoice, PlanStatus
from cases.models import CorrectionOption
from cases.services import plans as services
from smpclinic.models import ClinicSettings
from tests import factories
from tests.signin import signed_in

pytestmark = pytest.mark.django_db


def url(name, obj) -> str:
    return reverse(f"cases:{name}", args=[obj.public_id])


def set_four_eyes(on: bool) -> None:
    clinic = ClinicSettings.load()
    clinic.plan_approval_four_eyes = on
    clinic.save()


@pytest.fixture
def own_proposal(manager_user):
    """A plan the manager drafted and submitted themselves."""
    plan = factories.TreatmentPlanFactory()
    plan.options.set([CorrectionOption.objects.get(code=CorrectionOptionChoice.LASER_REMOVAL)])
    factories.PlanStepFactory(plan=plan, order=1)
    return services.plan_submit(plan=plan, by=manager_user)


@pytest.fixture
def second_manager():
    return factories.ManagerUserFactory(username="second-manager")


def test_four_eyes_is_on_by_default():
    assert ClinicSettings.load().plan_approval_four_eyes is True


# ---------------------------------------------------------------------------
# Service
# ---------------------------------------------------------------------------


def test_submitter_cannot_approve_their_own_plan(own_proposal, manager_user):
    with pytest.raises(ValidationError) as refused:
        services.plan_approve(plan=own_proposal, by=manager_user, note="Looks fine to me.")
    assert refused.value.messages == [services.FOUR_EYES_REFUSAL]
    assert "Four-eyes rule" in refused.value.messages[0] and "another manager" in refused.value.messages[0]
    own_proposal.refresh_from_db()
    assert (own_proposal.approved_at, own_proposal.approved_by, own_proposal.review_note) == (None, None, "")


def test_another_manager_approves(own_proposal, second_manager):
    assert services.approve_refusal(own_proposal, by=second_manager) is None
    plan = services.plan_approve(plan=own_proposal, by=second_manager)
    plan.refresh_from_db()
    assert plan.approved_by == second_manager and plan.submitted_by_id != second_manager.pk


def test_submitter_can_still_send_their_own_plan_back(own_proposal, manager_user):
    plan = services.plan_send_back(plan=own_proposal, by=manager_user, note="I forgot the price.")
    plan.refresh_from_db()
    assert (plan.status, plan.review_note) == (PlanStatus.DRAFT, "I forgot the price.")


def test_with_four_eyes_off_the_submitter_approves(own_proposal, manager_user):
    set_four_eyes(False)
    assert services.approve_refusal(own_proposal, by=manager_user) is None
    plan = services.plan_approve(plan=own_proposal, by=manager_user, note="Single-manager clinic.")
    plan.refresh_from_db()
    assert plan.approved_by == manager_user == plan.submitted_by


def test_turning_four_eyes_back_on_applies_at_once(own_proposal, manager_user):
    set_four_eyes(False)
    ClinicSettings.cached()  # a cached copy with the rule off must not let the approval through
    set_four_eyes(True)
    with pytest.raises(ValidationError, match="Four-eyes rule"):
        services.plan_approve(plan=own_proposal, by=manager_user)


def test_other_refusals_come_first(own_proposal, manager_user, second_manager):
    services.plan_approve(plan=own_proposal, by=second_manager)
    own_proposal.refresh_from_db()
    assert services.approve_refusal(own_proposal, by=manager_user) == "This plan has already been approved."


# ---------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------


def test_review_page_names_the_rule_instead_of_the_approve_button(as_manager, own_proposal):
    response = as_manager.get(url("plan_review", own_proposal))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'value="approve"' not in body
    assert 'value="send_back"' in body
    assert 'id="approve-refusal"' in body and "Four-eyes rule: you submitted this plan" in body


def test_a_forced_approve_post_is_refused_with_the_rule(as_manager, own_proposal):
    response = as_manager.post(
        url("plan_review", own_proposal),
        {"decision": "approve", "note": "", "lock_version": own_proposal.lock_version},
    )
    assert response.status_code == 200
    assert services.FOUR_EYES_REFUSAL in response.context["form"].non_field_errors()
    own_proposal.refresh_from_db()
    assert own_proposal.approved_at is None


def test_send_back_through_the_page_is_allowed_to_the_submitter(as_manager, own_proposal):
    response = as_manager.post(
        url("plan_review", own_proposal),
        {"decision": "send_back", "note": "Needs a price.", "lock_version": own_proposal.lock_version},
    )
    assert response.status_code == 302
    own_proposal.refresh_from_db()
    assert own_proposal.status == PlanStatus.DRAFT


def test_second_manager_sees_and_uses_the_approve_button(own_proposal, second_manager):
    http = HttpClient()
    signed_in(second_manager, http)
    body = http.get(url("plan_review", own_proposal)).content.decode()
    assert 'value="approve"' in body and 'id="approve-refusal"' not in body
    response = http.post(
        url("plan_review", own_proposal),
        {"decision": "approve", "note": "", "lock_version": own_proposal.lock_version},
    )
    assert response.status_code == 302
    own_proposal.refresh_from_db()
    assert own_proposal.approved_by == second_manager


def test_with_four_eyes_off_the_page_offers_approve_and_it_works(as_manager, own_proposal, manager_user):
    set_four_eyes(False)
    body = as_manager.get(url("plan_review", own_proposal)).content.decode()
    assert 'value="approve"' in body and 'id="approve-refusal"' not in body
    response = as_manager.post(
        url("plan_review", own_proposal),
        {"decision": "approve", "note": "", "lock_version": own_proposal.lock_version},
    )
    assert response.status_code == 302
    own_proposal.refresh_from_db()
    assert own_proposal.approved_by == manager_user


def test_turning_the_rule_off_in_the_admin_is_recorded_with_who(admin_user):
    http = HttpClient()
    signed_in(admin_user, http)
    clinic = ClinicSettings.load()
    address = reverse("admin:smpclinic_clinicsettings_change", args=[clinic.pk])
    form = http.get(address).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name in form.fields}
    data.pop("plan_approval_four_eyes")
    response = http.post(address, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    clinic.refresh_from_db()
    assert clinic.plan_approval_four_eyes is False
    latest = clinic.history.order_by("-history_date").first()
    assert latest.plan_approval_four_eyes is False and latest.history_user == admin_user
