"""Treatment plan pages: permissions, happy paths, refusals, form errors and query caps."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from cases.choices import CorrectionOptionChoice, PlanStatus, PlanStepKind, StepStatus, Zone
from cases.forms.plans import AFTERCARE_LASER, AFTERCARE_SMP
from cases.models import CorrectionOption, PlanStep, TreatmentPlan, ZoneLookup
from cases.models.plans import KD_FIELDS
from cases.services import plans as services
from tests import factories
from tests.helpers import assert_queries_hold, messages_of, sql_of_get

pytestmark = pytest.mark.django_db

KD_POST = {
    "kd_skin_type": "3",
    "kd_location": "1",
    "kd_colour": "1",
    "kd_ink_amount": "3",
    "kd_scarring": "0",
    "kd_layering": "0",
}


def option_pk(code=CorrectionOptionChoice.LASER_REMOVAL) -> int:
    return CorrectionOption.objects.get(code=code).pk


def zone_pk(code) -> int:
    return ZoneLookup.objects.get(code=code).pk


def url(name, obj) -> str:
    return reverse(f"cases:{name}", args=[obj.public_id])


@pytest.fixture
def case():
    return factories.CaseFactory(client__first_name="Alice", client__last_name="Able", client__fitzpatrick_type="V")


@pytest.fixture
def draft(case):
    plan = factories.TreatmentPlanFactory(case=case, internal_notes="Nervous about pain.")
    plan.options.set([CorrectionOption.objects.get(code=CorrectionOptionChoice.LASER_REMOVAL)])
    step = factories.PlanStepFactory(plan=plan, order=1, target_date=datetime.date(2027, 1, 4))
    step.zones.set([ZoneLookup.objects.get(code=Zone.FRONTAL_HAIRLINE)])
    return plan


@pytest.fixture
def proposed(draft, staff_user):
    return services.plan_submit(plan=draft, by=staff_user)


@pytest.fixture
def approved(proposed, manager_user):
    return services.plan_approve(plan=proposed, by=manager_user, note="Go ahead.")


# ---------------------------------------------------------------------------
# Permissions: who may open each page is tests/test_url_permissions.py's walk;
# here, refused posts, unknown and archived records, actions that are posts only
# ---------------------------------------------------------------------------


def test_a_client_posting_is_refused_and_changes_nothing_even_on_their_own_approved_plan(as_client_a, client_a):
    plan = factories.ApprovedPlanFactory(case=factories.CaseFactory(client=client_a))
    factories.PlanStepFactory(plan=plan)
    for name in ("plan_submit", "plan_revise"):
        assert as_client_a.post(url(name, plan)).status_code == 403, name
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PROPOSED
    assert TreatmentPlan.objects.count() == 1


def test_unknown_ids_answer_404(as_staff):
    for name in ("plan_detail", "plan_edit", "step_create", "plan_accept"):
        assert as_staff.get(reverse(f"cases:{name}", args=["00000000-0000-0000-0000-000000000000"])).status_code == 404
    assert as_staff.get(reverse("cases:step_edit", args=["00000000-0000-0000-0000-000000000000"])).status_code == 404


def test_archived_plan_answers_404(as_staff, draft, staff_user):
    draft.archive(by=staff_user, reason="Entered twice")
    assert as_staff.get(url("plan_detail", draft)).status_code == 404


def test_actions_refuse_get(as_staff, approved):
    assert as_staff.get(url("plan_submit", approved)).status_code == 405
    # Revising and discarding ask first: a GET only shows the confirmation page.
    response = as_staff.get(url("plan_revise", approved))
    assert response.status_code == 200 and "reason" in response.context["form"].fields
    assert TreatmentPlan.objects.count() == 1


# ---------------------------------------------------------------------------
# plan_create
# ---------------------------------------------------------------------------


def test_create_form_is_prefilled(as_staff, case):
    response = as_staff.get(url("plan_create", case))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["kd_skin_type"].value() == 5  # Fitzpatrick V
    assert form["kd_location"].value() == 1  # head and neck
    assert AFTERCARE_SMP in form["aftercare"].value() and AFTERCARE_LASER in form["aftercare"].value()
    body = response.content.decode()
    assert "about 28 days" in body and "SPF 30–50" in body and "1–2 weeks" in body
    assert 'type="checkbox"' in body and "Laser removal" in body
    assert body.count("<h1") == 1
    assert "style=" not in body


def test_create_saves_a_draft_and_redirects_to_it(as_staff, case):
    response = as_staff.post(
        url("plan_create", case),
        {
            "options": [option_pk(), option_pk(CorrectionOptionChoice.HAIRLINE_REDESIGN)],
            "summary": "Lighten with laser, then redraw.",
            "aftercare": "Keep dry.",
            "price_estimate": "1200.50",
            "internal_notes": "Prefers Fridays.",
            **KD_POST,
        },
    )
    plan = TreatmentPlan.objects.get(case=case)
    assert response.status_code == 302 and response.url == url("plan_detail", plan)
    assert (plan.version, plan.status, plan.kd_total, plan.price_estimate) == (
        1,
        PlanStatus.DRAFT,
        8,
        Decimal("1200.50"),
    )
    assert plan.options.count() == 2
    assert "Draft plan (version 1) saved" in messages_of(response)[0]


def test_create_with_only_the_prefilled_scores_saves_an_unscored_plan(as_staff, case):
    response = as_staff.post(url("plan_create", case), {"summary": "Saline", "kd_skin_type": "5", "kd_location": "1"})
    assert response.status_code == 302
    plan = TreatmentPlan.objects.get(case=case)
    assert (plan.kd_skin_type, plan.kd_location, plan.kd_total) == (None, None, None)


def test_create_refuses_partial_kirby_desai(as_staff, case):
    response = as_staff.post(url("plan_create", case), {"summary": "x", "kd_skin_type": "5", "kd_colour": "2"})
    assert response.status_code == 200
    form = response.context["form"]
    assert "Give all six Kirby–Desai sub-scores, or none" in form.non_field_errors()[0]
    assert form.errors["kd_ink_amount"] == ["Needed with the other Kirby–Desai sub-scores."]
    assert "Give all six Kirby–Desai sub-scores" in response.content.decode()
    assert not TreatmentPlan.objects.exists()


def test_create_refuses_a_changed_skin_type_alone(as_staff, case):
    response = as_staff.post(url("plan_create", case), {"kd_skin_type": "2", "kd_location": "1"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not TreatmentPlan.objects.exists()


def test_create_refuses_negative_price(as_staff, case):
    response = as_staff.post(url("plan_create", case), {"summary": "x", "price_estimate": "-5"})
    assert response.status_code == 200
    assert response.context["form"].errors["price_estimate"] == ["The price estimate cannot be negative."]
    assert not TreatmentPlan.objects.exists()


def test_create_refuses_when_a_plan_is_in_force_and_points_to_it(as_staff, draft):
    for response in (as_staff.get(url("plan_create", draft.case)), as_staff.post(url("plan_create", draft.case), {})):
        assert response.status_code == 302 and response.url == url("plan_detail", draft)
        assert "already has a plan in force (version 1, draft)" in messages_of(response)[0]
    assert TreatmentPlan.objects.count() == 1


# ---------------------------------------------------------------------------
# plan_detail
# ---------------------------------------------------------------------------


def test_detail_shows_everything_about_a_draft(as_staff, draft):
    factories.LaserSessionFactory(case=draft.case)
    factories.LaserSessionFactory(case=draft.case, status="scheduled", wavelength_nm=None)
    response = as_staff.get(url("plan_detail", draft))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("<h1") == 1
    assert "Treatment plan, version 1" in body and "Draft" in body
    assert "Laser removal" in body
    assert "Lighten the hairline with laser" in body
    assert "Nervous about pain." in body  # internal notes: staff page
    assert "Frontal hairline" in body and "4 Jan 2027" in body
    assert "Fitzpatrick III" in body and "Head and neck" in body and "Moderate" in body
    assert response.context["estimate"].total == 8
    assert "Kirby–Desai scale estimate" in body and "8 sessions (about ±2.5: 5–11)" in body
    assert response.context["laser_sessions_done"] == 1
    assert "GBP 1,800.00" in body
    assert "Keep the scalp dry for 4 days." in body
    assert "Not accepted yet." in body
    assert url("plan_edit", draft) in body and url("step_create", draft) in body
    assert url("step_edit", draft.steps.get()) in body
    assert url("plan_submit", draft) in body
    assert url("plan_review", draft) not in body and url("plan_revise", draft) not in body
    assert url("plan_accept", draft) not in body
    assert "style=" not in body


def test_detail_of_a_proposed_plan_offers_review_to_managers_only(as_staff, as_manager, proposed, staff_user):
    staff_body = as_staff.get(url("plan_detail", proposed)).content.decode()
    assert "Waiting for a manager's review." in staff_body
    assert url("plan_review", proposed) not in staff_body
    assert url("plan_edit", proposed) not in staff_body and url("plan_submit", proposed) not in staff_body
    manager_body = as_manager.get(url("plan_detail", proposed)).content.decode()
    assert url("plan_review", proposed) in manager_body
    assert f"by {staff_user.get_full_name()}" in manager_body


def test_detail_of_an_approved_plan_shows_approval_and_offers_acceptance_and_revision(as_staff, approved, manager_user):
    body = as_staff.get(url("plan_detail", approved)).content.decode()
    assert "Go ahead." in body
    assert f"by {manager_user.get_full_name()}" in body
    assert url("plan_accept", approved) in body and url("plan_revise", approved) in body
    assert url("plan_edit", approved) not in body


def test_detail_shows_acceptance_in_clinic(as_staff, approved, staff_user):
    services.plan_accept(plan=approved, name="alice able", by=staff_user, in_clinic=True)
    body = as_staff.get(url("plan_detail", approved)).content.decode()
    assert "typed name “alice able”" in body
    assert f"In clinic, recorded by {staff_user.get_full_name()}" in body
    assert url("plan_accept", approved) not in body and url("plan_revise", approved) in body


def test_detail_shows_acceptance_in_the_portal_with_ip(as_staff, approved):
    client = approved.case.client
    client.user = factories.ClientUserFactory(username="alice")
    client.save()
    services.plan_accept(
        plan=approved, name="Alice Able", by=client.user, in_clinic=False, ip="198.51.100.7", user_agent="Safari/17"
    )
    body = as_staff.get(url("plan_detail", approved)).content.decode()
    assert "In the portal from IP 198.51.100.7" in body and "Safari/17" in body


def test_detail_links_versions_both_ways(as_staff, approved):
    new = services.plan_revise(plan=approved, reason="Softer hairline.")
    old_body = as_staff.get(url("plan_detail", approved)).content.decode()
    assert "Superseded by a revision" not in old_body  # it stays in force until the revision is accepted
    assert f'href="{url("plan_detail", new)}">version 2</a>' in old_body
    # Never two revisions at once; the client can still accept the approved version 1.
    assert url("plan_revise", approved) not in old_body and url("plan_accept", approved) in old_body
    new_body = as_staff.get(url("plan_detail", new)).content.decode()
    assert f'href="{url("plan_detail", approved)}">version 1</a>' in new_body
    assert url("plan_edit", new) in new_body
    assert "Softer hairline." in new_body and "Why this version was made" in new_body


def test_detail_of_an_unscored_plan(as_staff, case):
    plan = factories.TreatmentPlanFactory(case=case, **dict.fromkeys(KD_FIELDS))
    response = as_staff.get(url("plan_detail", plan))
    assert "Not scored." in response.content.decode()
    assert "No steps yet." in response.content.decode()


def _plan_with_steps(count: int, *, approved: bool = True) -> TreatmentPlan:
    plan = factories.ApprovedPlanFactory(submitted_by=factories.StaffUserFactory())
    if not approved:
        TreatmentPlan.objects.filter(pk=plan.pk).update(approved_at=None, approved_by=None)
    plan.options.set(CorrectionOption.objects.all()[:2])
    zones = list(ZoneLookup.objects.all()[:2])
    for order in range(1, count + 1):
        step = factories.PlanStepFactory(plan=plan, order=order, target_date=factories.TODAY)
        step.zones.set(zones)
    return plan


def test_detail_query_count_does_not_grow_with_steps(as_manager):
    small, large = _plan_with_steps(5), _plan_with_steps(50)
    sql_of_get(as_manager, url("plan_detail", small))  # warm the session and caches
    few = sql_of_get(as_manager, url("plan_detail", small))
    many = sql_of_get(as_manager, url("plan_detail", large))
    # session, user with groups, the two-factor device of the verified session, plan
    # lookup, plan for_detail with options, steps with zones, versions, completed laser
    # sessions, clinic settings, the access log's one insert
    assert_queries_hold(few, many, at_most=11)


def test_review_query_count_does_not_grow_with_steps(as_manager):
    small, large = _plan_with_steps(5, approved=False), _plan_with_steps(50, approved=False)
    sql_of_get(as_manager, url("plan_review", small))
    few = sql_of_get(as_manager, url("plan_review", small))
    many = sql_of_get(as_manager, url("plan_review", large))
    # session, user with groups, the two-factor device of the verified session, plan
    # lookup, plan for_detail with options, steps with zones, completed laser sessions,
    # open issues, clinic settings, the access log's one insert
    assert_queries_hold(few, many, at_most=11)


def test_accept_query_count_does_not_grow_with_steps(as_staff):
    small, large = _plan_with_steps(5), _plan_with_steps(50)
    sql_of_get(as_staff, url("plan_accept", small))
    few = sql_of_get(as_staff, url("plan_accept", small))
    many = sql_of_get(as_staff, url("plan_accept", large))
    # session, user with groups, plan lookup, plan for_detail with options, steps with
    # zones, clinic settings
    assert_queries_hold(few, many, at_most=7)


# ---------------------------------------------------------------------------
# plan_edit
# ---------------------------------------------------------------------------


def test_edit_changes_a_draft(as_staff, draft):
    response = as_staff.get(url("plan_edit", draft))
    assert response.status_code == 200
    assert response.context["form"]["summary"].value() == draft.summary
    response = as_staff.post(
        url("plan_edit", draft),
        {
            "options": [option_pk(CorrectionOptionChoice.SALINE_REMOVAL)],
            "summary": "Saline instead",
            "clinician_estimate_sessions": "3",
            "lock_version": draft.lock_version,
            **KD_POST,
        },
    )
    assert response.status_code == 302 and response.url == url("plan_detail", draft)
    assert messages_of(response) == ["Plan version 1 saved."]
    draft.refresh_from_db()
    assert draft.summary == "Saline instead"
    assert draft.clinician_estimate_sessions == 3
    assert list(draft.options.values_list("code", flat=True)) == ["saline_removal"]


def test_edit_after_submit_is_refused(as_staff, proposed):
    for response in (
        as_staff.get(url("plan_edit", proposed)),
        as_staff.post(url("plan_edit", proposed), {"summary": "Changed after submit"}),
    ):
        assert response.status_code == 302 and response.url == url("plan_detail", proposed)
        assert "waiting for a manager's review" in messages_of(response)[0]
    proposed.refresh_from_db()
    assert proposed.summary != "Changed after submit"


def test_edit_of_an_approved_plan_says_revise(as_staff, approved):
    response = as_staff.get(url("plan_edit", approved))
    assert "revise it to make a new version" in messages_of(response)[0]


def test_edit_refuses_negative_price_and_saves_nothing(as_staff, draft):
    response = as_staff.post(url("plan_edit", draft), {"summary": "New", "price_estimate": "-1", **KD_POST})
    assert response.status_code == 200
    assert "price_estimate" in response.context["form"].errors
    draft.refresh_from_db()
    assert draft.summary != "New"


def test_edit_shows_the_managers_note_after_send_back(as_staff, proposed, manager_user):
    services.plan_send_back(plan=proposed, by=manager_user, note="Add a test spot first.")
    assert "Add a test spot first." in as_staff.get(url("plan_edit", proposed)).content.decode()
    assert "Add a test spot first." in as_staff.get(url("plan_detail", proposed)).content.decode()


# ---------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------


def test_step_form_defaults_to_next_order_and_unresolved_issue_zones(as_staff, draft):
    factories.IssueFactory(case=draft.case, zone=Zone.CROWN)
    factories.IssueFactory(case=draft.case, zone=Zone.NAPE, resolved_on=factories.TODAY)
    response = as_staff.get(url("step_create", draft))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["order"].value() == 2
    assert form["zones"].value() == [zone_pk(Zone.CROWN)]
    assert 'type="date"' in response.content.decode()


def test_step_create_computes_target_date(as_staff, draft):
    response = as_staff.post(
        url("step_create", draft),
        {
            "kind": PlanStepKind.HEALING_CHECK,
            "zones": [zone_pk(Zone.FRONTAL_HAIRLINE)],
            "interval_weeks": "2",
            "status": StepStatus.PLANNED,
        },
    )
    assert response.status_code == 302 and response.url == url("plan_detail", draft)
    step = draft.steps.get(order=2)
    assert step.target_date == datetime.date(2027, 1, 18)
    assert messages_of(response) == ["Step 2 (Healing check) saved."]


def test_step_create_warns_about_a_laser_session_too_soon(as_staff, draft):
    response = as_staff.post(
        url("step_create", draft),
        {
            "kind": PlanStepKind.LASER_SESSION,
            "zones": [zone_pk(Zone.FRONTAL_HAIRLINE)],
            "interval_weeks": "3",
            "status": StepStatus.PLANNED,
        },
    )
    assert response.status_code == 302
    texts = messages_of(response)
    assert "at least 6 weeks apart" in texts[1] and "planned 3 weeks after step 1" in texts[1]
    assert draft.steps.count() == 2  # a warning, not an error


def test_step_create_form_errors_save_nothing(as_staff, draft):
    response = as_staff.post(
        url("step_create", draft), {"kind": "", "interval_weeks": "200", "order": "0", "status": "planned"}
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"kind", "interval_weeks", "order"} <= set(errors)
    assert draft.steps.count() == 1


def test_step_create_refused_unless_draft(as_staff, proposed):
    for response in (
        as_staff.get(url("step_create", proposed)),
        as_staff.post(url("step_create", proposed), {"kind": PlanStepKind.REVIEW, "status": "planned"}),
    ):
        assert response.status_code == 302 and response.url == url("plan_detail", proposed)
        assert messages_of(response)
    assert proposed.steps.count() == 1


def test_step_edit_changes_the_step(as_staff, draft):
    step = draft.steps.get()
    response = as_staff.get(url("step_edit", step))
    assert response.context["form"]["zones"].value() == [zone_pk(Zone.FRONTAL_HAIRLINE)]
    response = as_staff.post(
        url("step_edit", step),
        {
            "order": "1",
            "kind": PlanStepKind.SALINE_SESSION,
            "description": "Individual dots only",
            "zones": [zone_pk(Zone.LEFT_TEMPLE)],
            "target_date": "2027-02-01",
            "status": StepStatus.PLANNED,
            "lock_version": step.lock_version,
        },
    )
    assert response.status_code == 302
    step.refresh_from_db()
    assert (step.kind, step.description, step.target_date) == (
        PlanStepKind.SALINE_SESSION,
        "Individual dots only",
        datetime.date(2027, 2, 1),
    )
    assert list(step.zones.values_list("code", flat=True)) == ["left_temple"]


def test_step_edit_refused_unless_draft(as_staff, approved):
    step = approved.steps.get()
    response = as_staff.post(url("step_edit", step), {"order": "1", "kind": PlanStepKind.REVIEW, "status": "done"})
    assert response.status_code == 302
    assert "revise it" in messages_of(response)[0]
    step.refresh_from_db()
    assert step.kind == PlanStepKind.LASER_SESSION


# ---------------------------------------------------------------------------
# Submit, review
# ---------------------------------------------------------------------------


def test_submit_proposes_the_plan(as_staff, draft, staff_user):
    response = as_staff.post(url("plan_submit", draft))
    assert response.status_code == 302 and response.url == url("plan_detail", draft)
    draft.refresh_from_db()
    assert (draft.status, draft.submitted_by) == (PlanStatus.PROPOSED, staff_user)
    assert "a manager will review it" in messages_of(response)[0]


def test_submit_without_steps_is_refused(as_staff, draft):
    PlanStep.objects.filter(plan=draft).delete()
    response = as_staff.post(url("plan_submit", draft))
    assert response.status_code == 302
    assert "add at least one step" in messages_of(response)[0]
    draft.refresh_from_db()
    assert draft.status == PlanStatus.DRAFT


def test_submit_twice_is_refused(as_staff, proposed):
    response = as_staff.post(url("plan_submit", proposed))
    assert "Only a draft plan can be submitted" in messages_of(response)[0]


def test_staff_may_not_approve(as_staff, proposed):
    assert as_staff.post(url("plan_review", proposed), {"decision": "approve"}).status_code == 403
    proposed.refresh_from_db()
    assert proposed.approved_at is None


def test_review_page_shows_the_plan_and_both_actions(as_manager, proposed):
    response = as_manager.get(url("plan_review", proposed))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("<h1") == 1
    assert "Lighten the hairline with laser" in body and "Frontal hairline" in body
    assert 'value="approve"' in body and 'value="send_back"' in body


def test_review_approves_with_optional_note(as_manager, proposed, manager_user):
    response = as_manager.post(url("plan_review", proposed), {"decision": "approve", "note": ""})
    assert response.status_code == 302 and response.url == url("plan_detail", proposed)
    proposed.refresh_from_db()
    assert proposed.approved_by == manager_user and proposed.status == PlanStatus.PROPOSED


def test_review_send_back_needs_a_note(as_manager, proposed):
    response = as_manager.post(url("plan_review", proposed), {"decision": "send_back", "note": " "})
    assert response.status_code == 200
    assert response.context["form"].errors["note"] == ["Say what needs to change before sending the plan back."]
    proposed.refresh_from_db()
    assert proposed.status == PlanStatus.PROPOSED


def test_review_send_back_returns_to_draft(as_manager, proposed):
    response = as_manager.post(url("plan_review", proposed), {"decision": "send_back", "note": "Price is missing."})
    assert response.status_code == 302
    proposed.refresh_from_db()
    assert (proposed.status, proposed.review_note, proposed.approved_at) == (
        PlanStatus.DRAFT,
        "Price is missing.",
        None,
    )


def test_review_needs_a_decision(as_manager, proposed):
    response = as_manager.post(url("plan_review", proposed), {"note": "Hmm"})
    assert response.status_code == 200
    assert "decision" in response.context["form"].errors


def test_approve_twice_is_refused(as_manager, approved):
    first = approved.approved_at
    for response in (
        as_manager.get(url("plan_review", approved)),
        as_manager.post(url("plan_review", approved), {"decision": "approve"}),
    ):
        assert response.status_code == 302
        assert "already been approved" in messages_of(response)[0]
    approved.refresh_from_db()
    assert approved.approved_at == first


def test_review_of_a_draft_is_refused(as_manager, draft):
    response = as_manager.get(url("plan_review", draft))
    assert response.status_code == 302
    assert "Only a plan submitted for approval" in messages_of(response)[0]


# ---------------------------------------------------------------------------
# Revise
# ---------------------------------------------------------------------------


def test_revise_asks_for_a_reason_then_makes_version_2_beside_version_1(as_staff, approved):
    before = {f.attname: getattr(approved, f.attname) for f in approved._meta.concrete_fields}
    response = as_staff.post(url("plan_revise", approved), {"reason": " ", "lock_version": approved.lock_version})
    assert response.status_code == 200 and "reason" in response.context["form"].errors
    assert TreatmentPlan.objects.count() == 1

    response = as_staff.post(
        url("plan_revise", approved),
        {"reason": "Client wants a softer hairline.", "lock_version": approved.lock_version},
    )
    new = TreatmentPlan.objects.get(case=approved.case, version=2)
    assert response.status_code == 302 and response.url == url("plan_detail", new)
    assert "Version 1 stays the client's plan until version 2 is approved and accepted." in messages_of(response)[0]
    assert new.revision_reason == "Client wants a softer hairline."
    approved.refresh_from_db()
    after = {f.attname: getattr(approved, f.attname) for f in approved._meta.concrete_fields}
    assert after == before  # version 1 untouched, status included
    assert new.summary == approved.summary and new.steps.count() == approved.steps.count() == 1


def test_revise_a_draft_is_refused(as_staff, draft):
    response = as_staff.post(url("plan_revise", draft), {"reason": "Why not"})
    assert response.status_code == 302 and response.url == url("plan_detail", draft)
    assert "edit it instead" in messages_of(response)[0]
    assert TreatmentPlan.objects.count() == 1


# ---------------------------------------------------------------------------
# Acceptance in clinic
# ---------------------------------------------------------------------------


def test_accept_form_shows_the_plan_without_internal_notes(as_staff, approved):
    response = as_staff.get(url("plan_accept", approved))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Lighten the hairline with laser" in body and "Frontal hairline" in body
    assert "Nervous about pain." not in body  # the client may be reading this screen


def test_accept_in_clinic_records_acceptance(as_staff, approved, staff_user):
    response = as_staff.post(url("plan_accept", approved), {"name": "ALICE ABLE", "confirm": "on"})
    assert response.status_code == 302 and response.url == url("plan_detail", approved)
    approved.refresh_from_db()
    assert approved.status == PlanStatus.ACCEPTED
    assert (approved.accepted_name, approved.accepted_by, approved.accepted_in_clinic) == (
        "ALICE ABLE",
        staff_user,
        True,
    )
    assert approved.accepted_ip is None


def test_accept_name_mismatch_is_a_form_error(as_staff, approved):
    response = as_staff.post(url("plan_accept", approved), {"name": "Alicia Able", "confirm": "on"})
    assert response.status_code == 200
    assert "does not match" in response.context["form"].errors["name"][0]
    approved.refresh_from_db()
    assert approved.accepted_at is None


def test_accept_needs_confirmation(as_staff, approved):
    response = as_staff.post(url("plan_accept", approved), {"name": "Alice Able"})
    assert response.status_code == 200
    assert "confirm" in response.context["form"].errors
    approved.refresh_from_db()
    assert approved.accepted_at is None


def test_accept_before_approval_is_refused(as_staff, proposed):
    for response in (
        as_staff.get(url("plan_accept", proposed)),
        as_staff.post(url("plan_accept", proposed), {"name": "Alice Able", "confirm": "on"}),
    ):
        assert response.status_code == 302 and response.url == url("plan_detail", proposed)
        assert "manager must approve" in messages_of(response)[0]
    proposed.refresh_from_db()
    assert proposed.accepted_at is None


def test_accept_twice_is_refused(as_staff, approved, staff_user):
    services.plan_accept(plan=approved, name="Alice Able", by=staff_user, in_clinic=True)
    response = as_staff.get(url("plan_accept", approved))
    assert response.status_code == 302
    assert "already accepted" in messages_of(response)[0]
