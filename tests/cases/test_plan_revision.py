"""Revising an accepted plan keeps it as the client's plan until the revision is accepted.

The revision is a draft beside the plan in force, made from a confirmation page with a
reason; the portal, the PDF, the workspace and the "start treatment" rule keep following
the accepted version until the new one is approved and accepted. A revision not accepted
yet can be discarded, leaving the earlier version in force.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.choices import CaseStatus, CorrectionOptionChoice, PlanStatus, SessionStatus, StepStatus, Zone
from cases.models import CorrectionOption, LaserSession, TreatmentPlan, ZoneLookup
from cases.portal.views import plan_pdf_html
from cases.services import cases as case_services
from cases.services import plans as services
from cases.services.sessions import laser_session_save
from tests import factories
from tests.formdata import form_data
from tests.helpers import messages_of

pytestmark = pytest.mark.django_db

PORTAL = reverse("cases:portal_plan")
PDF = reverse("cases:portal_plan_pdf")


def url(name, obj) -> str:
    return reverse(f"cases:{name}", args=[obj.public_id])


@pytest.fixture
def accepted(client_a, staff_user, manager_user):
    """Client A's plan v1, made, approved and accepted through the services."""
    case = factories.CaseFactory(client=client_a, status=CaseStatus.PLANNING)
    plan = services.plan_create(case=case, summary="VERSION-ONE-SUMMARY", price_estimate=Decimal("2450"))
    plan.options.set(CorrectionOption.objects.filter(code=CorrectionOptionChoice.LASER_REMOVAL))
    first = timezone.localdate() + timezone.timedelta(days=7)
    services.plan_step_save(plan=plan, kind="laser_session", target_date=first)
    services.plan_step_save(plan=plan, kind="laser_session", interval_weeks=6)
    plan = services.plan_submit(plan=plan, by=staff_user)
    plan = services.plan_approve(plan=plan, by=manager_user)
    return services.plan_accept(plan=plan, name=client_a.full_name, by=staff_user, in_clinic=True)


def _revise(plan, reason="Client wants a softer hairline."):
    return services.plan_revise(plan=plan, reason=reason)


def test_the_revise_button_asks_for_confirmation_and_a_reason(as_staff, accepted):
    detail = as_staff.get(url("plan_detail", accepted)).content.decode()
    # A link to a confirmation page, not a form that acts at once.
    assert f'href="{url("plan_revise", accepted)}"' in detail
    assert f'action="{url("plan_revise", accepted)}"' not in detail

    page = as_staff.get(url("plan_revise", accepted))
    assert page.status_code == 200
    body = page.content.decode()
    assert "stays unchanged and stays the client's plan" in body
    assert TreatmentPlan.objects.count() == 1

    data = form_data(body)
    assert as_staff.post(url("plan_revise", accepted), {**data, "reason": ""}).status_code == 200
    assert TreatmentPlan.objects.count() == 1

    response = as_staff.post(url("plan_revise", accepted), {**data, "reason": "Client wants a softer hairline."})
    new = TreatmentPlan.objects.get(version=2)
    assert response.status_code == 302 and response.url == url("plan_detail", new)
    assert messages_of(response) == [
        "Version 2 is a new draft copied from version 1. "
        "Version 1 stays the client's plan until version 2 is approved and accepted."
    ]
    new_page = as_staff.get(url("plan_detail", new)).content.decode()
    assert "Why this version was made:</strong> Client wants a softer hairline." in new_page
    assert "Version 1 (" in new_page and "stays the client's plan until this version is approved" in new_page


def test_the_accepted_version_stays_the_clients_plan_while_a_revision_is_prepared(
    accepted, as_client_a, client_a, as_staff, staff_user, manager_user
):
    new = _revise(accepted)
    accepted.refresh_from_db()
    assert accepted.status == PlanStatus.ACCEPTED
    assert services.agreed_plan(accepted.case) == accepted

    portal = as_client_a.get(PORTAL).content.decode()
    assert "VERSION-ONE-SUMMARY" in portal and "There is no plan" not in portal
    assert "Proposed new version" not in portal  # a draft is never shown to the client
    assert as_client_a.get(PDF).status_code == 200
    assert "VERSION-ONE-SUMMARY" in plan_pdf_html(client_a.user)

    workspace = as_staff.get(reverse("cases:case_detail", args=[accepted.case.public_id]))
    assert workspace.context["plan"] == accepted
    assert workspace.context["revision"] == new
    assert workspace.context["next_step"].label == "Plan step 1: Laser session"
    assert url("plan_detail", new) in workspace.content.decode()
    # The rule that starts treatment still sees an agreed plan.
    case_services.check_transition(case=accepted.case, to=CaseStatus.IN_TREATMENT)

    # Approved but not accepted: still version 1, and the client sees the new one labelled.
    new = services.plan_update(plan=new, summary="VERSION-TWO-SUMMARY")
    new = services.plan_submit(plan=new, by=staff_user)
    new = services.plan_approve(plan=new, by=manager_user)
    portal = as_client_a.get(PORTAL).content.decode()
    assert portal.index("VERSION-ONE-SUMMARY") < portal.index("Proposed new version")
    assert "Until you accept this new version, your current plan (version 1) stays in force." in portal
    assert "one for each of your cases" not in portal  # two cards, one case
    assert url("portal_plan_accept", new) in portal and url("portal_plan_accept", accepted) not in portal
    accept_page = as_client_a.get(url("portal_plan_accept", new)).content.decode()
    assert "it replaces your current plan (version 1); until then, your current plan stays in force" in accept_page
    pdf = plan_pdf_html(client_a.user)
    assert "VERSION-ONE-SUMMARY" in pdf and "version 1 above stays your plan" in pdf
    assert services.agreed_plan(accepted.case) == accepted


def test_accepting_the_revision_supersedes_the_earlier_version_and_keeps_what_was_done(
    accepted, as_client_a, client_a, staff_user, manager_user
):
    done_at = _complete_step_one(accepted, staff_user)
    accepted.refresh_from_db()
    assert accepted.status == PlanStatus.IN_PROGRESS

    new = _revise(accepted)
    new = services.plan_submit(plan=new, by=staff_user)
    new = services.plan_approve(plan=new, by=manager_user)
    response = as_client_a.post(url("portal_plan_accept", new), {"understood": "on", "name": client_a.full_name})
    assert response.status_code == 302, response.context["form"].errors

    accepted.refresh_from_db()
    new.refresh_from_db()
    assert accepted.status == PlanStatus.SUPERSEDED
    assert new.status == PlanStatus.IN_PROGRESS  # its step 1 carries the completed session
    assert services.agreed_plan(accepted.case) == new
    moved = LaserSession.objects.get()
    assert moved.plan_step.plan_id == new.pk and moved.plan_step.order == 1
    assert new.steps.get(order=1).status == StepStatus.DONE
    assert new.steps.get(order=2).target_date == timezone.localdate(done_at) + timezone.timedelta(weeks=6)
    portal = as_client_a.get(PORTAL).content.decode()
    assert "VERSION-ONE-SUMMARY" in portal  # v2 copied the summary
    assert "Proposed new version" not in portal and "Next step: Laser session" in portal


def test_a_superseded_version_says_so_and_keeps_the_dates_of_what_was_done(
    accepted, as_staff, client_a, staff_user, manager_user
):
    done_at = _complete_step_one(accepted, staff_user)
    accepted.refresh_from_db()
    new = services.plan_approve(plan=services.plan_submit(plan=_revise(accepted), by=staff_user), by=manager_user)
    services.plan_accept(plan=new, name=client_a.full_name, by=staff_user, in_clinic=True)

    page = as_staff.get(url("plan_detail", accepted)).content.decode()

    assert "stays the client's plan" not in page
    assert "This version is superseded" in page and "The client's plan is version 2" in page
    assert f"Done {timezone.localdate(done_at):%-d %b %Y}" in page  # its session moved to version 2


def test_a_cancelled_version_does_not_claim_to_wait_for_approval(accepted, as_staff):
    draft = _revise(accepted)
    TreatmentPlan.objects.filter(pk=draft.pk).update(status=PlanStatus.CANCELLED)

    page = as_staff.get(url("plan_detail", draft)).content.decode()

    assert "stays the client's plan" not in page
    assert "This version is cancelled" in page


def _complete_step_one(accepted, staff_user):
    factories.ConsentFactory(client=accepted.case.client)
    step_one = accepted.steps.get(order=1)
    done_at = timezone.now() - timezone.timedelta(days=2)
    laser_session_save(
        session=LaserSession(
            case=accepted.case,
            plan_step=step_one,
            technician=factories.TechnicianFactory(),
            scheduled_at=done_at,
            status=SessionStatus.COMPLETED,
            wavelength_nm=1064,
            fluence_j_cm2=Decimal("3.00"),
            spot_size_mm=Decimal("4.0"),
            passes=1,
        ),
        zones=ZoneLookup.objects.filter(code=Zone.FRONTAL_HAIRLINE),
        by=staff_user,
    )
    return done_at


def test_a_revision_can_be_discarded_and_the_earlier_version_stays_in_force(as_staff, accepted, as_client_a):
    new = _revise(accepted)
    detail = as_staff.get(url("plan_detail", new)).content.decode()
    assert f'href="{url("plan_discard", new)}"' in detail
    page = as_staff.get(url("plan_discard", new))
    assert "Version 1 stays the client's plan" in page.content.decode()

    response = as_staff.post(url("plan_discard", new), form_data(page.content))
    assert response.status_code == 302 and response.url == url("plan_detail", accepted)
    assert messages_of(response) == ["Version 2 was discarded. Version 1 stays the client's plan."]
    new.refresh_from_db()
    accepted.refresh_from_db()
    assert (new.status, accepted.status) == (PlanStatus.CANCELLED, PlanStatus.ACCEPTED)
    assert "VERSION-ONE-SUMMARY" in as_client_a.get(PORTAL).content.decode()
    # And it can be revised again.
    assert _revise(accepted, "Second thoughts.").version == 3


def test_an_accepted_plan_cannot_be_discarded(as_staff, accepted):
    response = as_staff.post(url("plan_discard", accepted), {"lock_version": accepted.lock_version})
    assert response.status_code == 302
    assert "revising it, not by discarding it" in messages_of(response)[0]
    accepted.refresh_from_db()
    assert accepted.status == PlanStatus.ACCEPTED


def test_one_revision_at_a_time_and_no_second_plan(accepted):
    _revise(accepted)
    assert "Version 2 is already a revision" in services.revise_refusal(accepted)
    assert "already has a plan in force (version 1, accepted)" in services.plan_create_refusal(accepted.case)


def test_revising_an_approved_proposal_keeps_it_open_for_acceptance(client_a, staff_user, manager_user, as_client_a):
    plan = factories.ApprovedPlanFactory(case=factories.CaseFactory(client=client_a), summary="FIRST-PROPOSAL")
    new = _revise(plan)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PROPOSED and plan.is_approved
    portal = as_client_a.get(PORTAL).content.decode()
    assert "FIRST-PROPOSAL" in portal and url("portal_plan_accept", plan) in portal
    # The client may still accept it; the revision stays a draft beside it.
    services.plan_accept(plan=plan, name=client_a.full_name, by=staff_user, in_clinic=True)
    new.refresh_from_db()
    assert new.status == PlanStatus.DRAFT
    assert services.agreed_plan(plan.case) == plan


def test_aftercare_in_the_portal_follows_the_clients_plan_not_an_approved_revision(
    accepted, staff_user, manager_user, as_client_a
):
    TreatmentPlan.objects.filter(pk=accepted.pk).update(aftercare="AFTERCARE-OF-VERSION-ONE")
    factories.LaserSessionFactory(case=accepted.case, scheduled_at=timezone.now() - timezone.timedelta(days=3))
    revision = _revise(TreatmentPlan.objects.get(pk=accepted.pk))
    revision = services.plan_update(plan=revision, aftercare="AFTERCARE-OF-VERSION-TWO")
    revision = services.plan_submit(plan=revision, by=staff_user)
    services.plan_approve(plan=revision, by=manager_user)  # approved, not yet accepted

    page = as_client_a.get(reverse("cases:portal_aftercare")).content.decode()

    assert "AFTERCARE-OF-VERSION-ONE" in page
    assert "AFTERCARE-OF-VERSION-TWO" not in page
