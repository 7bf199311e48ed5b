"""My plan in the portal: only approved plans, only the client's own, accepting with a typed name,
and nothing internal ever shown."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.choices import ConsultationKind, PlanStatus, PlanStepKind
from cases.models import CorrectionOption, PortalInvitation, TreatmentPlan, ZoneLookup
from cases.portal.views import plan_pdf_html
from cases.services.invitations import invitation_send
from smpclinic.models import ClinicSettings
from tests import factories
from tests.cases.test_invitations import page_checks
from tests.helpers import assert_queries_hold, sql_of_get

PORTAL = reverse("cases:portal_plan")
MARKER = "ZZ-INTERNAL-MARKER-7731"


def _accept_url(plan) -> str:
    return reverse("cases:portal_plan_accept", kwargs={"plan_id": plan.public_id})


@pytest.fixture
def approved_plan(client_a):
    case = factories.CaseFactory(
        client=client_a,
        goal="Look natural at a short buzz cut.",
        expectations_agreed="Laser lightens the dots; a few may stay faintly visible.",
        expectations_discussed_on=datetime.date(2026, 10, 1),
    )
    plan = factories.ApprovedPlanFactory(case=case, summary="Lighten the frontal hairline, then redraw it softer.")
    plan.options.set(CorrectionOption.objects.filter(code__in=["laser_removal", "hairline_redesign"]))
    factories.PlanStepFactory(plan=plan, order=1, target_date=datetime.date(2027, 1, 12), interval_weeks=None)
    factories.PlanStepFactory(
        plan=plan,
        order=2,
        kind=PlanStepKind.SMP_SESSION,
        description="Redraw the hairline",
        target_date=datetime.date(2027, 2, 23),
        interval_weeks=6,
    )
    return plan


def test_my_plan_shows_the_approved_plan_in_plain_language(as_client_a, approved_plan):
    response = as_client_a.get(PORTAL)
    html = response.content.decode()
    assert response.status_code == 200
    page_checks(html)
    assert "Lighten the frontal hairline, then redraw it softer." in html
    assert "Laser removal</strong>: a laser breaks the pigment" in html
    assert "Hairline redesign" in html
    assert "Target 12 Jan 2027" in html and "Target 23 Feb 2027" in html
    assert "6 weeks after the previous step" in html
    assert "Redraw the hairline" in html
    # Kirby–Desai 3+1+1+3+0+0 = 8, ±2.5 → 5 to 11
    assert "Kirby–Desai scale estimate: <strong>8 sessions</strong> (about ±2.5)" in html
    assert "clinician's estimate" not in html  # none given for this plan
    assert "about 2.5 sessions either way" in html
    assert "tends to over-estimate" in html
    assert "Look natural at a short buzz cut." in html
    assert "a few may stay faintly visible" in html
    assert "1,800.00" in html
    assert "Keep the scalp dry for 4 days." in html
    assert _accept_url(approved_plan) in html
    assert reverse("cases:portal_plan_pdf") in html


def test_a_client_without_an_approved_plan_sees_a_calm_empty_page(as_client_a, client_a):
    factories.TreatmentPlanFactory(case=factories.CaseFactory(client=client_a), summary="DRAFT-SUMMARY")
    html = as_client_a.get(PORTAL).content.decode()
    assert "There is no plan to show you yet" in html
    assert "DRAFT-SUMMARY" not in html
    assert reverse("cases:portal_plan_pdf") not in html
    page_checks(html)


@pytest.mark.parametrize(
    "fields",
    [
        {"status": PlanStatus.DRAFT},
        {"status": PlanStatus.PROPOSED, "submitted_at": timezone.now()},  # waiting for the manager
    ],
)
def test_unapproved_plans_are_invisible(fields, as_client_a, client_a):
    plan = factories.TreatmentPlanFactory(case=factories.CaseFactory(client=client_a), summary="HIDDEN-PLAN", **fields)
    assert "HIDDEN-PLAN" not in as_client_a.get(PORTAL).content.decode()
    assert as_client_a.get(_accept_url(plan)).status_code == 404
    assert as_client_a.post(_accept_url(plan), {"name": "Alice Able", "understood": "on"}).status_code == 404
    plan.refresh_from_db()
    assert plan.accepted_at is None


@pytest.mark.parametrize("status", [PlanStatus.SUPERSEDED, PlanStatus.CANCELLED])
def test_superseded_and_cancelled_plans_are_invisible(status, as_client_a, client_a):
    plan = factories.ApprovedPlanFactory(case=factories.CaseFactory(client=client_a), summary="OLD-PLAN")
    TreatmentPlan.objects.filter(pk=plan.pk).update(status=status)
    assert "OLD-PLAN" not in as_client_a.get(PORTAL).content.decode()
    assert as_client_a.get(_accept_url(plan)).status_code == 404


def test_client_b_cannot_see_or_accept_client_a_plan(as_client_b, approved_plan):
    assert "Lighten the frontal hairline" not in as_client_b.get(PORTAL).content.decode()
    assert as_client_b.get(_accept_url(approved_plan)).status_code == 404
    response = as_client_b.post(_accept_url(approved_plan), {"name": "Bob Baker", "understood": "on"})
    assert response.status_code == 404
    approved_plan.refresh_from_db()
    assert approved_plan.accepted_at is None


def test_accept_page_shows_the_plan_and_a_labelled_signature(as_client_a, approved_plan):
    response = as_client_a.get(_accept_url(approved_plan))
    html = response.content.decode()
    assert response.status_code == 200
    page_checks(html)
    assert "Lighten the frontal hairline" in html
    assert "Type your full name to sign" in html


def test_accepting_with_a_wrong_name_is_a_form_error(as_client_a, approved_plan):
    response = as_client_a.post(_accept_url(approved_plan), {"name": "Alicia Abel", "understood": "on"})
    assert response.status_code == 200
    assert "does not match" in response.content.decode()
    page_checks(response.content.decode())
    approved_plan.refresh_from_db()
    assert approved_plan.accepted_at is None and approved_plan.status == PlanStatus.PROPOSED


def test_accepting_needs_the_confirmation(as_client_a, approved_plan):
    response = as_client_a.post(_accept_url(approved_plan), {"name": "Alice Able"})
    assert "Please confirm that you have read the plan." in response.content.decode()
    approved_plan.refresh_from_db()
    assert approved_plan.accepted_at is None


def test_accepting_records_who_when_and_from_where(as_client_a, client_a, approved_plan):
    response = as_client_a.post(
        _accept_url(approved_plan),
        {"name": "  alice   ABLE ", "understood": "on"},
        HTTP_USER_AGENT="Mozilla/5.0 (iPhone) Test",
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 302
    assert response["Location"] == PORTAL
    approved_plan.refresh_from_db()
    assert approved_plan.status == PlanStatus.ACCEPTED
    assert approved_plan.accepted_by == client_a.user
    assert approved_plan.accepted_in_clinic is False
    assert approved_plan.accepted_ip == "203.0.113.9"
    assert approved_plan.accepted_user_agent == "Mozilla/5.0 (iPhone) Test"
    html = as_client_a.get(PORTAL).content.decode()
    assert "You accepted this plan on" in html
    assert _accept_url(approved_plan) not in html
    # A second try is turned away with the reason.
    again = as_client_a.get(_accept_url(approved_plan), follow=True)
    assert "already accepted" in again.content.decode()


# Nothing internal, ever ------------------------------------------------------------------------


def _mark_everything_internal(client, plan, staff_user, manager_user):
    """Put MARKER in every internal or staff-only field of client A's records."""
    m = MARKER
    client.internal_notes = f"client {m}"
    client.allergies = f"allergy {m}"
    client.medications = f"medication {m}"
    client.save()
    case = plan.case
    case.internal_notes = f"case {m}"
    case.regret_notes = f"regret {m}"
    case.outcome_notes = f"outcome {m}"
    case.withdrawn_reason = f"withdrawn {m}"
    case.original_pigment = f"pigment {m}"
    case.save()
    TreatmentPlan.objects.filter(pk=plan.pk).update(internal_notes=f"plan {m}", review_note=f"review {m}")
    factories.ConsultationFactory(
        case=case,
        kind=ConsultationKind.INITIAL,
        concerns=f"concerns {m}",
        findings=f"findings {m}",
        recommendations=f"recommendations {m}",
        internal_notes=f"consultation {m}",
    )
    factories.IssueFactory(case=case, description=f"issue {m}")
    factories.LaserSessionFactory(
        case=case, internal_notes=f"laser {m}", adverse_event_notes=f"adverse {m}", aftercare_notes=f"care {m}"
    )
    factories.CorrectionSessionFactory(case=case, internal_notes=f"correction {m}", pigment=f"pigment {m}")
    follow_up = factories.FollowUpFactory(case=case, notes=f"follow-up {m}")
    type(follow_up).objects.filter(pk=follow_up.pk).update(review_note=f"fu-review {m}")
    # An older, superseded version and a draft revision must not leak either.
    old = factories.ApprovedPlanFactory(case=factories.CaseFactory(client=client), summary=f"old {m}")
    TreatmentPlan.objects.filter(pk=old.pk).update(status=PlanStatus.SUPERSEDED)
    factories.TreatmentPlanFactory(case=factories.CaseFactory(client=client), summary=f"draft {m}")
    # Client B's plan is not A's business.
    factories.ApprovedPlanFactory(case=factories.CaseFactory(client=factories.ClientFactory()), summary=f"b {m}")


def test_internal_notes_never_appear_on_my_pages_or_in_the_pdf(
    as_client_a, client_a, approved_plan, staff_user, manager_user
):
    _mark_everything_internal(client_a, approved_plan, staff_user, manager_user)
    pages = {
        "plan": as_client_a.get(PORTAL),
        "accept": as_client_a.get(_accept_url(approved_plan)),
        "accept error": as_client_a.post(_accept_url(approved_plan), {"name": "Wrong Name", "understood": "on"}),
        "pdf": as_client_a.get(reverse("cases:portal_plan_pdf")),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        assert MARKER.encode() not in response.content, name
    assert "Lighten the frontal hairline" in pages["plan"].content.decode()  # the page did render the plan
    pdf_html = plan_pdf_html(client_a.user)
    assert "Lighten the frontal hairline" in pdf_html
    assert MARKER not in pdf_html

    # The invitation page and e-mail, too.
    invitation_send(client=client_a, by=staff_user)
    from django.core import mail

    message = mail.outbox[-1]
    assert MARKER not in message.body and MARKER not in message.alternatives[0][0]
    link = re.search(r"(/invite/[^/\s]+/)", message.body).group(1)
    response = type(as_client_a)().get(link)
    assert response.status_code == 200 and MARKER.encode() not in response.content
    assert PortalInvitation.objects.filter(client=client_a).count() == 1


@pytest.mark.parametrize(
    "column",
    [
        '"cases_treatmentplan"."internal_notes"',
        '"cases_treatmentplan"."review_note"',
        '"cases_treatmentplan"."revision_reason"',
        '"cases_treatmentplan"."accepted_ip"',
        '"cases_case"."internal_notes"',
        '"cases_case"."regret_notes"',
        '"cases_client"."internal_notes"',
        '"cases_client"."medications"',
        '"cases_client"."date_of_birth"',
    ],
)
def test_my_plan_pages_never_read_the_internal_or_health_columns(column, as_client_a, approved_plan):
    """Not shown is not enough: the plan pages do not even read these columns, so no
    template slip or debugging aid can show them (data minimisation)."""
    for url in (PORTAL, _accept_url(approved_plan)):
        statements = sql_of_get(as_client_a, url)
        assert any('"cases_planstep"' in sql for sql in statements), url  # the plan was read
        assert not [sql for sql in statements if column in sql], (url, column)


# Query caps -----------------------------------------------------------------------------------


def _plan_with_steps(client, n: int) -> TreatmentPlan:
    plan = factories.ApprovedPlanFactory(case=factories.CaseFactory(client=client))
    plan.options.set(CorrectionOption.objects.all()[:2])
    zones = list(ZoneLookup.objects.all()[:2])
    for i in range(n):
        step = factories.PlanStepFactory(plan=plan, order=i + 1, target_date=datetime.date(2027, 1, 1))
        step.zones.set(zones)
    return plan


def _sql(http) -> list[str]:
    ClinicSettings.load()  # the first load creates the row; count a steady-state page
    http.get(PORTAL)  # and warm per-process caches (the clinic's time zone in middleware)
    return sql_of_get(http, PORTAL)


@pytest.mark.parametrize("plans_small, plans_large", [(1, 3)])
def test_plan_page_queries_do_not_grow_with_the_data(plans_small, plans_large, as_client_a, client_a):
    for _ in range(plans_small):
        _plan_with_steps(client_a, 5)
    small = _sql(as_client_a)
    for _ in range(plans_large - plans_small):
        _plan_with_steps(client_a, 50)
    large = _sql(as_client_a)
    # session, user with groups, plans with options (and their client), steps with zones,
    # the access log's one insert; the clinic's settings come from the cache
    assert_queries_hold(small, large, at_most=5)


def test_a_client_without_a_plan_to_see_still_gets_their_page(as_client_a, client_a):
    factories.TreatmentPlanFactory(case=factories.CaseFactory(client=client_a))  # a draft: not theirs to see

    page = as_client_a.get(PORTAL)

    assert page.status_code == 200
    assert page.context["client"] == client_a
    assert page.context["plans"] == []


# The typed-name signature: the consent rule, and the client's own name as the example ---------


@pytest.mark.parametrize(("address", "stored"), [("unknown", None), (" 2001:DB8::0001 ", "2001:db8::1")])
def test_an_address_a_proxy_garbled_does_not_stop_the_client_accepting(
    as_client_a, approved_plan, settings, address, stored
):
    """Behind a proxy the address comes from X-Forwarded-For, which some proxies fill with
    "unknown": the acceptance is recorded without it, never refused for it."""
    settings.SMP_TRUSTED_PROXIES = 1
    response = as_client_a.post(
        _accept_url(approved_plan), {"name": "Alice Able", "understood": "on"}, HTTP_X_FORWARDED_FOR=address
    )

    assert response.status_code == 302
    approved_plan.refresh_from_db()
    assert approved_plan.status == PlanStatus.ACCEPTED
    assert approved_plan.accepted_ip == stored


@pytest.mark.parametrize("typed", ["Ally Able", "ALICE  ABLE", "ａｌｉｃｅ ａｂｌｅ"])
def test_accepting_takes_the_preferred_name_and_ignores_case_spacing_and_unicode_form(
    as_client_a, client_a, approved_plan, typed
):
    client_a.preferred_name = "Ally"
    client_a.save()
    response = as_client_a.post(_accept_url(approved_plan), {"name": typed, "understood": "on"})
    assert response.status_code == 302
    approved_plan.refresh_from_db()
    assert approved_plan.status == PlanStatus.ACCEPTED
    assert approved_plan.accepted_name == typed.strip()


def test_accepting_with_another_clients_name_is_refused(as_client_a, client_b, approved_plan):
    response = as_client_a.post(_accept_url(approved_plan), {"name": "Bob Baker", "understood": "on"})
    assert response.status_code == 200
    assert "does not match" in response.content.decode()
    approved_plan.refresh_from_db()
    assert approved_plan.accepted_at is None


def test_the_signature_help_shows_the_clients_own_name(as_client_a, client_a, approved_plan):
    client_a.first_name, client_a.last_name, client_a.preferred_name = "Dana", "O'Neil", "Dee"
    client_a.save()
    html = as_client_a.get(_accept_url(approved_plan)).content.decode()
    assert "“Dana O&#x27;Neil”" in html and "“Dee O&#x27;Neil”" in html
    assert "Alice Able" not in html
    page_checks(html)
