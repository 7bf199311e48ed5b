"""Two estimates of laser sessions, each labelled, everywhere; one price format for staff
and clients; flash messages that read naturally."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from cases.choices import PlanStepKind, StepStatus
from cases.portal.views import plan_pdf_html
from tests import factories
from tests.formdata import form_data
from tests.helpers import messages_of

pytestmark = pytest.mark.django_db


def url(name, obj) -> str:
    return reverse(f"cases:{name}", args=[obj.public_id])


@pytest.fixture
def plan(client_a):
    plan = factories.ApprovedPlanFactory(
        case=factories.CaseFactory(client=client_a), price_estimate=Decimal("2450"), clinician_estimate_sessions=3
    )
    factories.PlanStepFactory(plan=plan, order=1)
    return plan


def test_staff_and_client_see_both_estimates_labelled(plan, as_staff, as_client_a, client_a):
    staff = as_staff.get(url("plan_detail", plan)).content.decode()
    assert "<dt>Kirby–Desai scale estimate</dt>" in staff and "8 sessions (about ±2.5: 5–11)" in staff
    assert "<dt>Clinician's estimate</dt>" in staff and "<dd>3 sessions</dd>" in staff

    portal = as_client_a.get(reverse("cases:portal_plan")).content.decode()
    assert "Kirby–Desai scale estimate: <strong>8 sessions</strong> (about ±2.5)" in portal
    assert "Your clinician's estimate: <strong>3 sessions</strong>" in portal

    pdf = plan_pdf_html(client_a.user)
    assert "Kirby–Desai scale estimate: <strong>8 sessions</strong> (about ±2.5)" in pdf
    assert "Your clinician's estimate: <strong>3 sessions</strong>" in pdf

    accept = as_staff.get(url("plan_accept", plan)).content.decode()
    assert "Kirby–Desai scale estimate: 8 sessions (about ±2.5)" in accept
    assert "Clinician's estimate: 3 sessions" in accept

    workspace = as_staff.get(reverse("cases:case_detail", args=[plan.case.public_id])).content.decode()
    assert "clinician's estimate: 3 sessions" in workspace


def test_the_clinicians_estimate_is_edited_in_the_plan_form(as_staff):
    draft = factories.TreatmentPlanFactory()
    page = as_staff.get(url("plan_edit", draft))
    assert "clinician_estimate_sessions" in page.context["form"].fields
    data = form_data(page.content, clinician_estimate_sessions="2")
    assert as_staff.post(url("plan_edit", draft), data).status_code == 302
    draft.refresh_from_db()
    assert draft.clinician_estimate_sessions == 2

    data = form_data(as_staff.get(url("plan_edit", draft)).content, clinician_estimate_sessions="31")
    response = as_staff.post(url("plan_edit", draft), data)
    assert response.status_code == 200 and "clinician_estimate_sessions" in response.context["form"].errors


def test_prices_read_the_same_for_staff_and_clients(plan, as_staff, as_client_a, client_a):
    for html in (
        as_staff.get(url("plan_detail", plan)).content.decode(),
        as_staff.get(url("plan_accept", plan)).content.decode(),
        as_client_a.get(reverse("cases:portal_plan")).content.decode(),
        plan_pdf_html(client_a.user),
    ):
        assert "GBP 2,450.00" in html
        assert "GBP 2450.00" not in html


def test_step_saved_message_uses_the_kind_label(as_staff):
    draft = factories.TreatmentPlanFactory()
    for order in (1, 2, 3):
        factories.PlanStepFactory(plan=draft, order=order)
    response = as_staff.post(
        url("step_create", draft), {"kind": PlanStepKind.SMP_SESSION, "status": StepStatus.PLANNED}
    )
    assert response.status_code == 302
    assert messages_of(response) == ["Step 4 (SMP / correction session) saved."]
