"""Treatment plan services: every state change, every refusal, the revision that keeps history."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import model_to_dict

from cases.choices import CaseStatus, CorrectionOptionChoice, PlanStatus, PlanStepKind, StepStatus, Zone
from cases.models import CorrectionOption, PlanStep, TreatmentPlan, ZoneLookup
from cases.services import plans as services
from smpclinic.models import ClinicSettings
from tests import factories

pytestmark = pytest.mark.django_db

KD_ALL = {
    "kd_skin_type": 4,
    "kd_location": 1,
    "kd_colour": 1,
    "kd_ink_amount": 3,
    "kd_scarring": 1,
    "kd_layering": 0,
}


def options(*codes):
    return list(CorrectionOption.objects.filter(code__in=codes))


def zones(*codes):
    return list(ZoneLookup.objects.filter(code__in=codes))


def draft_with_step(**kwargs) -> TreatmentPlan:
    plan = factories.TreatmentPlanFactory(**kwargs)
    plan.options.set(options(CorrectionOptionChoice.LASER_REMOVAL))
    factories.PlanStepFactory(plan=plan, order=1)
    return plan


def proposed(by=None, **kwargs) -> TreatmentPlan:
    plan = draft_with_step(**kwargs)
    return services.plan_submit(plan=plan, by=by or factories.StaffUserFactory())


def approved(**kwargs) -> TreatmentPlan:
    plan = proposed(**kwargs)
    return services.plan_approve(plan=plan, by=factories.ManagerUserFactory(), note="Fine.")


# ---------------------------------------------------------------------------
# plan_create / plan_update
# ---------------------------------------------------------------------------


def test_plan_create_makes_a_draft_version_1_with_options_and_kirby_desai_total():
    case = factories.CaseFactory()
    plan = services.plan_create(
        case=case,
        options=options(CorrectionOptionChoice.LASER_REMOVAL, CorrectionOptionChoice.HAIRLINE_REDESIGN),
        summary="Lighten, then redraw the hairline.",
        aftercare="Keep dry.",
        price_estimate=Decimal("1500.00"),
        internal_notes="Anxious about pain.",
        **KD_ALL,
    )
    plan.refresh_from_db()
    assert (plan.version, plan.status, plan.previous_version) == (1, PlanStatus.DRAFT, None)
    assert plan.kd_total == 10
    assert plan.price_estimate == Decimal("1500.00")
    assert set(plan.options.values_list("code", flat=True)) == {"laser_removal", "hairline_redesign"}


def test_plan_create_without_kirby_desai_leaves_total_empty():
    plan = services.plan_create(case=factories.CaseFactory(), summary="Saline only.")
    assert plan.kd_total is None
    assert plan.kirby_desai() is None


@pytest.mark.parametrize("status", [PlanStatus.DRAFT, PlanStatus.PROPOSED])
def test_plan_create_refuses_a_second_plan_in_force(status):
    existing = factories.TreatmentPlanFactory(status=status)
    with pytest.raises(ValidationError, match="already has a plan in force"):
        services.plan_create(case=existing.case, summary="Another")
    assert TreatmentPlan.objects.filter(case=existing.case).count() == 1


def test_plan_create_refuses_while_an_accepted_plan_is_in_force():
    existing = factories.AcceptedPlanFactory()
    with pytest.raises(ValidationError, match="revise the plan"):
        services.plan_create(case=existing.case)


def test_plan_create_after_a_cancelled_plan_takes_the_next_version_number():
    cancelled = factories.TreatmentPlanFactory(status=PlanStatus.CANCELLED)
    plan = services.plan_create(case=cancelled.case, summary="Fresh start")
    assert plan.version == 2
    assert plan.previous_version is None


def test_plan_create_refuses_a_case_that_is_no_longer_open():
    case = factories.CaseFactory(status=CaseStatus.WITHDRAWN, withdrawn_reason="Moved abroad")
    with pytest.raises(ValidationError, match="withdrawn: no new plan"):
        services.plan_create(case=case)


def test_plan_create_refuses_partial_kirby_desai():
    case = factories.CaseFactory()
    with pytest.raises(ValidationError, match="all six Kirby–Desai sub-scores, or none. Missing: colour"):
        services.plan_create(case=case, kd_skin_type=3, kd_location=1)
    assert not TreatmentPlan.objects.exists()


def test_plan_create_refuses_off_scale_sub_score():
    with pytest.raises(ValidationError):
        services.plan_create(case=factories.CaseFactory(), **{**KD_ALL, "kd_scarring": 2})
    assert not TreatmentPlan.objects.exists()


def test_plan_create_refuses_negative_price():
    with pytest.raises(ValidationError) as raised:
        services.plan_create(case=factories.CaseFactory(), price_estimate=Decimal("-1"))
    assert "price_estimate" in raised.value.message_dict
    assert not TreatmentPlan.objects.exists()


def test_plan_create_rejects_fields_that_are_not_plan_content():
    with pytest.raises(TypeError, match="status"):
        services.plan_create(case=factories.CaseFactory(), status=PlanStatus.ACCEPTED)


def test_plan_update_changes_a_draft():
    plan = factories.TreatmentPlanFactory()
    updated = services.plan_update(
        plan=plan, options=options(CorrectionOptionChoice.SALINE_REMOVAL), summary="New words", kd_colour=2
    )
    plan.refresh_from_db()
    assert plan.summary == "New words"
    assert plan.kd_total == 9 == updated.kd_total
    assert list(plan.options.values_list("code", flat=True)) == ["saline_removal"]


def test_plan_update_can_clear_all_kirby_desai_sub_scores():
    plan = factories.TreatmentPlanFactory()
    services.plan_update(plan=plan, **dict.fromkeys(KD_ALL))
    plan.refresh_from_db()
    assert plan.kd_total is None


def test_plan_update_refuses_partial_kirby_desai():
    plan = factories.TreatmentPlanFactory()
    with pytest.raises(ValidationError, match="Missing: layering"):
        services.plan_update(plan=plan, kd_layering=None)
    plan.refresh_from_db()
    assert plan.kd_layering == 0


def test_plan_update_refuses_after_submit():
    plan = proposed()
    with pytest.raises(ValidationError, match="waiting for a manager's review"):
        services.plan_update(plan=plan, summary="Sneaky change")
    plan.refresh_from_db()
    assert plan.summary != "Sneaky change"


def test_plan_update_refuses_an_approved_plan_and_points_to_revision():
    plan = approved()
    with pytest.raises(ValidationError, match="revise it"):
        services.plan_update(plan=plan, summary="Change")


def test_plan_update_refuses_a_stale_copy_of_a_plan_submitted_meanwhile():
    plan = draft_with_step()
    stale = TreatmentPlan.objects.get(pk=plan.pk)
    services.plan_submit(plan=plan, by=factories.StaffUserFactory())
    with pytest.raises(ValidationError):
        services.plan_update(plan=stale, summary="Late edit")


# ---------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------


def test_step_save_appends_with_the_next_order_and_zones():
    plan = factories.TreatmentPlanFactory()
    first = services.plan_step_save(plan=plan, kind=PlanStepKind.LASER_SESSION, zones=zones(Zone.CROWN))
    second = services.plan_step_save(plan=plan, kind=PlanStepKind.HEALING_CHECK)
    assert (first.order, second.order) == (1, 2)
    assert list(first.zones.values_list("code", flat=True)) == ["crown"]
    assert first.status == StepStatus.PLANNED


def test_step_save_computes_target_date_from_previous_step_and_interval():
    plan = factories.TreatmentPlanFactory()
    services.plan_step_save(plan=plan, kind=PlanStepKind.LASER_SESSION, target_date=datetime.date(2027, 1, 4))
    step = services.plan_step_save(plan=plan, kind=PlanStepKind.HEALING_CHECK, interval_weeks=2)
    assert step.target_date == datetime.date(2027, 1, 18)


def test_step_save_keeps_a_given_target_date_only_without_an_interval():
    """A step with an interval is dated from the previous step; one without keeps its date."""
    plan = factories.TreatmentPlanFactory()
    services.plan_step_save(plan=plan, kind=PlanStepKind.LASER_SESSION, target_date=datetime.date(2027, 1, 4))
    with_interval = services.plan_step_save(
        plan=plan, kind=PlanStepKind.HEALING_CHECK, interval_weeks=2, target_date=datetime.date(2027, 2, 1)
    )
    without = services.plan_step_save(plan=plan, kind=PlanStepKind.REVIEW, target_date=datetime.date(2027, 6, 1))
    assert with_interval.target_date == datetime.date(2027, 1, 18)
    assert without.target_date == datetime.date(2027, 6, 1)


def test_step_save_leaves_target_date_empty_without_a_dated_previous_step():
    plan = factories.TreatmentPlanFactory()
    first = services.plan_step_save(plan=plan, kind=PlanStepKind.LASER_SESSION, interval_weeks=3)
    second = services.plan_step_save(plan=plan, kind=PlanStepKind.LASER_SESSION, interval_weeks=6)
    assert first.target_date is None and second.target_date is None


def test_step_edit_keeps_its_order_when_none_given_and_updates_fields():
    plan = factories.TreatmentPlanFactory()
    step = services.plan_step_save(plan=plan, kind=PlanStepKind.LASER_SESSION, order=3)
    services.plan_step_save(plan=plan, kind=PlanStepKind.REVIEW, order=4)
    edited = services.plan_step_save(
        plan=plan, step=step, kind=PlanStepKind.SALINE_SESSION, description="Small area", status=StepStatus.SKIPPED
    )
    edited.refresh_from_db()
    assert (edited.order, edited.kind, edited.description, edited.status) == (
        3,
        PlanStepKind.SALINE_SESSION,
        "Small area",
        StepStatus.SKIPPED,
    )
    assert plan.steps.count() == 2


def test_step_save_refuses_interval_over_104_weeks():
    plan = factories.TreatmentPlanFactory()
    with pytest.raises(ValidationError):
        services.plan_step_save(plan=plan, kind=PlanStepKind.REVIEW, interval_weeks=105)
    assert not plan.steps.exists()


def test_step_save_refuses_unless_draft():
    plan = proposed()
    with pytest.raises(ValidationError, match="waiting for a manager's review"):
        services.plan_step_save(plan=plan, kind=PlanStepKind.REVIEW)
    step = plan.steps.get()
    with pytest.raises(ValidationError):
        services.plan_step_save(plan=plan, step=step, kind=PlanStepKind.REVIEW)
    assert plan.steps.get().kind == PlanStepKind.LASER_SESSION


def test_step_save_refuses_a_step_of_another_plan():
    plan = factories.TreatmentPlanFactory()
    other_step = factories.PlanStepFactory(plan=factories.TreatmentPlanFactory())
    with pytest.raises(ValidationError, match="another plan"):
        services.plan_step_save(plan=plan, step=other_step, kind=PlanStepKind.REVIEW)


def test_default_step_zones_are_those_of_unresolved_issues():
    case = factories.CaseFactory()
    factories.IssueFactory(case=case, zone=Zone.CROWN)
    factories.IssueFactory(case=case, zone=Zone.LEFT_TEMPLE, resolved_on=factories.TODAY)
    assert [z.code for z in services.default_step_zones(case)] == ["crown"]


def _laser(plan, order, zone_codes=(Zone.FRONTAL_HAIRLINE,), **kwargs):
    return services.plan_step_save(
        plan=plan, kind=PlanStepKind.LASER_SESSION, order=order, zones=zones(*zone_codes), **kwargs
    )


def test_laser_step_sooner_than_clinic_minimum_on_same_zone_is_warned():
    plan = factories.TreatmentPlanFactory()
    _laser(plan, 1, target_date=datetime.date(2027, 1, 4))
    second = _laser(plan, 2, interval_weeks=4)
    warnings = services.plan_step_interval_warnings(step=second)
    assert warnings == [
        "Laser sessions on the same zone should be at least 6 weeks apart (clinic setting): "
        "step 2 is planned 4 weeks after step 1."
    ]


def test_laser_step_at_the_minimum_interval_is_not_warned():
    plan = factories.TreatmentPlanFactory()
    _laser(plan, 1, target_date=datetime.date(2027, 1, 4))
    assert services.plan_step_interval_warnings(step=_laser(plan, 2, interval_weeks=6)) == []


def test_laser_interval_follows_the_clinic_setting():
    clinic = ClinicSettings.load()
    clinic.min_laser_interval_weeks = 8
    clinic.save()
    plan = factories.TreatmentPlanFactory()
    _laser(plan, 1, target_date=datetime.date(2027, 1, 4))
    warnings = services.plan_step_interval_warnings(step=_laser(plan, 2, interval_weeks=6))
    assert len(warnings) == 1 and "at least 8 weeks" in warnings[0]


def test_laser_interval_counts_the_weeks_of_steps_in_between_when_undated():
    plan = factories.TreatmentPlanFactory()
    _laser(plan, 1)
    services.plan_step_save(plan=plan, kind=PlanStepKind.HEALING_CHECK, order=2, interval_weeks=2)
    third = _laser(plan, 3, interval_weeks=2)
    assert "planned 4 weeks after step 1" in services.plan_step_interval_warnings(step=third)[0]
    services.plan_step_save(plan=plan, step=third, kind=PlanStepKind.LASER_SESSION, interval_weeks=4)
    assert services.plan_step_interval_warnings(step=third) == []


def test_laser_steps_on_different_zones_are_not_warned():
    plan = factories.TreatmentPlanFactory()
    _laser(plan, 1, zone_codes=[Zone.CROWN], target_date=datetime.date(2027, 1, 4))
    second = _laser(plan, 2, zone_codes=[Zone.NAPE], interval_weeks=2)
    assert services.plan_step_interval_warnings(step=second) == []


def test_saline_steps_follow_the_saline_minimum():
    plan = factories.TreatmentPlanFactory()
    services.plan_step_save(plan=plan, kind=PlanStepKind.SALINE_SESSION, order=1, target_date=datetime.date(2027, 1, 4))
    second = services.plan_step_save(plan=plan, kind=PlanStepKind.SALINE_SESSION, order=2, interval_weeks=3)
    assert "at least 4 weeks" in services.plan_step_interval_warnings(step=second)[0]


def test_non_session_steps_are_never_warned():
    plan = factories.TreatmentPlanFactory()
    _laser(plan, 1, target_date=datetime.date(2027, 1, 4))
    check = services.plan_step_save(plan=plan, kind=PlanStepKind.HEALING_CHECK, order=2, interval_weeks=1)
    assert services.plan_step_interval_warnings(step=check) == []


# ---------------------------------------------------------------------------
# Submission and review
# ---------------------------------------------------------------------------


def test_plan_submit_proposes_and_records_who_and_when():
    staff = factories.StaffUserFactory()
    plan = services.plan_submit(plan=draft_with_step(), by=staff)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PROPOSED
    assert plan.submitted_by == staff and plan.submitted_at is not None
    assert plan.approved_at is None


def test_plan_submit_needs_a_step():
    plan = factories.TreatmentPlanFactory()
    plan.options.set(options(CorrectionOptionChoice.LASER_REMOVAL))
    with pytest.raises(ValidationError, match="add at least one step"):
        services.plan_submit(plan=plan, by=factories.StaffUserFactory())
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT


def test_plan_submit_needs_a_correction_option():
    plan = factories.TreatmentPlanFactory()
    factories.PlanStepFactory(plan=plan)
    with pytest.raises(ValidationError, match="choose at least one correction option"):
        services.plan_submit(plan=plan, by=factories.StaffUserFactory())


def test_plan_submit_refuses_twice():
    plan = proposed()
    with pytest.raises(ValidationError, match="Only a draft"):
        services.plan_submit(plan=plan, by=factories.StaffUserFactory())


def test_plan_approve_records_manager_time_and_note():
    manager = factories.ManagerUserFactory()
    plan = services.plan_approve(plan=proposed(), by=manager, note="  Good plan.  ")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PROPOSED
    assert plan.approved_by == manager and plan.approved_at is not None
    assert plan.review_note == "Good plan."


def test_plan_approve_by_staff_is_denied():
    plan = proposed()
    with pytest.raises(PermissionDenied):
        services.plan_approve(plan=plan, by=factories.StaffUserFactory())
    plan.refresh_from_db()
    assert plan.approved_at is None


def test_plan_approve_twice_is_refused():
    plan = approved()
    first_approval = plan.approved_at
    with pytest.raises(ValidationError, match="already been approved"):
        services.plan_approve(plan=plan, by=factories.ManagerUserFactory())
    plan.refresh_from_db()
    assert plan.approved_at == first_approval


def test_plan_approve_refuses_a_draft():
    with pytest.raises(ValidationError, match="submitted for approval"):
        services.plan_approve(plan=draft_with_step(), by=factories.ManagerUserFactory())


def test_plan_send_back_returns_to_draft_with_the_note():
    plan = services.plan_send_back(plan=proposed(), by=factories.ManagerUserFactory(), note="Add a test spot.")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT
    assert plan.review_note == "Add a test spot."
    assert plan.approved_at is None and plan.approved_by is None and plan.submitted_at is None
    # Back in draft, it can be edited and submitted again.
    plan = services.plan_update(plan=plan, summary="With a test spot")
    assert services.plan_submit(plan=plan, by=factories.StaffUserFactory()).status == PlanStatus.PROPOSED


def test_plan_send_back_needs_a_note():
    plan = proposed()
    with pytest.raises(ValidationError) as raised:
        services.plan_send_back(plan=plan, by=factories.ManagerUserFactory(), note="   ")
    assert "note" in raised.value.message_dict
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PROPOSED


def test_plan_send_back_refuses_an_approved_plan():
    plan = approved()
    with pytest.raises(ValidationError, match="already been approved"):
        services.plan_send_back(plan=plan, by=factories.ManagerUserFactory(), note="Too late")


def test_plan_send_back_by_staff_is_denied():
    with pytest.raises(PermissionDenied):
        services.plan_send_back(plan=proposed(), by=factories.StaffUserFactory(), note="No")


# ---------------------------------------------------------------------------
# Revision
# ---------------------------------------------------------------------------


def _snapshot(plan: TreatmentPlan) -> dict:
    plan = TreatmentPlan.objects.get(pk=plan.pk)
    fields = {f.name: getattr(plan, f.attname) for f in plan._meta.concrete_fields}
    fields.pop("status")
    fields.pop("updated_at")
    steps = [
        (model_to_dict(s, exclude=["zones"]), sorted(s.zones.values_list("code", flat=True)))
        for s in plan.steps.order_by("order")
    ]
    return {"fields": fields, "options": sorted(plan.options.values_list("code", flat=True)), "steps": steps}


def test_plan_revise_copies_content_into_a_new_draft_and_keeps_the_old_version_intact():
    old = approved(internal_notes="Prefers mornings.", clinician_estimate_sessions=5)
    old.options.add(*options(CorrectionOptionChoice.HAIRLINE_REDESIGN))
    step = old.steps.get()
    step.zones.set(zones(Zone.FRONTAL_HAIRLINE, Zone.LEFT_TEMPLE))
    factories.PlanStepFactory(plan=old, order=2, kind=PlanStepKind.HEALING_CHECK, target_date=factories.TODAY)
    before = _snapshot(old)
    status_before = old.status

    new = services.plan_revise(plan=old, reason="Client wants a softer hairline.")

    old.refresh_from_db()
    # The earlier version is untouched, status included: it stays the plan in force.
    assert old.status == status_before == PlanStatus.PROPOSED
    assert _snapshot(old) == before
    assert (new.version, new.previous_version, new.status) == (2, old, PlanStatus.DRAFT)
    assert new.revision_reason == "Client wants a softer hairline."
    assert "clinician_estimate_sessions" in services.REVISION_COPIED_FIELDS
    for name in services.REVISION_COPIED_FIELDS:
        assert getattr(new, name) == getattr(old, name), name
    assert new.kd_total == old.kd_total
    assert sorted(new.options.values_list("code", flat=True)) == before["options"]
    new_steps = [
        (s.order, s.kind, s.interval_weeks, s.target_date, sorted(s.zones.values_list("code", flat=True)))
        for s in new.steps.order_by("order")
    ]
    old_steps = [
        (s.order, s.kind, s.interval_weeks, s.target_date, sorted(s.zones.values_list("code", flat=True)))
        for s in old.steps.order_by("order")
    ]
    assert new_steps == old_steps
    assert not set(new.steps.values_list("pk", flat=True)) & set(old.steps.values_list("pk", flat=True))


def test_plan_revise_needs_a_reason():
    plan = approved()
    with pytest.raises(ValidationError) as raised:
        services.plan_revise(plan=plan, reason="  ")
    assert "reason" in raised.value.message_dict
    assert TreatmentPlan.objects.count() == 1


def test_plan_revise_does_not_copy_submission_approval_or_acceptance():
    old = factories.AcceptedPlanFactory(
        accepted_in_clinic=True, accepted_by=factories.StaffUserFactory(), review_note="OK"
    )
    new = services.plan_revise(plan=old, reason="More sessions needed.")
    for name in (
        "submitted_at",
        "submitted_by",
        "approved_at",
        "approved_by",
        "accepted_at",
        "accepted_by",
        "accepted_ip",
    ):
        assert getattr(new, name) is None, name
    assert (new.accepted_name, new.accepted_in_clinic, new.review_note) == ("", False, "")
    old.refresh_from_db()
    assert old.status == PlanStatus.ACCEPTED
    assert old.accepted_name == "Test Client" and old.approved_at is not None


@pytest.mark.parametrize("status", [PlanStatus.IN_PROGRESS, PlanStatus.COMPLETED])
def test_plan_revise_an_in_progress_or_completed_plan(status):
    """A completed plan can be revised too: more sessions may turn out to be needed."""
    old = factories.AcceptedPlanFactory(status=status)
    assert services.plan_revise(plan=old, reason="More sessions needed.").version == 2
    old.refresh_from_db()
    assert old.status == status


def test_plan_revise_refuses_a_draft():
    plan = draft_with_step()
    with pytest.raises(ValidationError, match="edit it instead"):
        services.plan_revise(plan=plan, reason="Why not")
    assert TreatmentPlan.objects.count() == 1


def test_plan_revise_refuses_a_plan_awaiting_review():
    with pytest.raises(ValidationError, match="waiting for a manager's review"):
        services.plan_revise(plan=proposed(), reason="Why not")


@pytest.mark.parametrize("status", [PlanStatus.CANCELLED, PlanStatus.SUPERSEDED])
def test_plan_revise_refuses_closed_plans(status):
    plan = factories.AcceptedPlanFactory(status=status)
    with pytest.raises(ValidationError, match="cannot be revised"):
        services.plan_revise(plan=plan, reason="Why not")


def test_never_two_revisions_at_once_and_revising_a_revision_replaces_it():
    v1 = factories.AcceptedPlanFactory()
    v1.options.set(options(CorrectionOptionChoice.LASER_REMOVAL))
    factories.PlanStepFactory(plan=v1, order=1)
    v2 = services.plan_revise(plan=v1, reason="Softer hairline.")
    with pytest.raises(ValidationError, match="Version 2 is already a revision"):
        services.plan_revise(plan=v1, reason="Another idea.")
    v2 = services.plan_submit(plan=v2, by=factories.StaffUserFactory())
    v2 = services.plan_approve(plan=v2, by=factories.ManagerUserFactory())
    with pytest.raises(ValidationError, match="Version 2 is already a revision"):
        services.plan_revise(plan=v1, reason="Another idea.")
    # The client has not accepted version 2: revising it replaces it.
    v3 = services.plan_revise(plan=v2, reason="Client asked for fewer sessions.")
    assert (v3.version, v3.previous_version_id) == (3, v2.pk)
    v2.refresh_from_db()
    assert v2.status == PlanStatus.SUPERSEDED
    assert list(TreatmentPlan.objects.standing().filter(case=v1.case).order_by("version")) == [v1, v3]
    assert services.agreed_plan(v1.case) == v1


# ---------------------------------------------------------------------------
# Acceptance
# ---------------------------------------------------------------------------


def test_plan_accept_in_clinic_records_who_when_and_how():
    plan = approved(case=factories.CaseFactory(client__first_name="Ann", client__last_name="Lee"))
    staff = factories.StaffUserFactory()
    services.plan_accept(plan=plan, name="  ann   LEE ", by=staff, in_clinic=True)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACCEPTED
    assert plan.accepted_at is not None
    assert (plan.accepted_name, plan.accepted_by, plan.accepted_in_clinic) == ("ann   LEE", staff, True)
    assert plan.accepted_ip is None and plan.accepted_user_agent == ""


def test_plan_accept_in_the_portal_records_ip_and_browser():
    user = factories.ClientUserFactory()
    plan = approved(case=factories.CaseFactory(client__user=user, client__first_name="Ann", client__last_name="Lee"))
    services.plan_accept(plan=plan, name="Ann Lee", by=user, in_clinic=False, ip="203.0.113.9", user_agent="Firefox")
    plan.refresh_from_db()
    assert (plan.accepted_in_clinic, plan.accepted_ip, plan.accepted_user_agent) == (False, "203.0.113.9", "Firefox")
    assert plan.accepted_by == user


def test_plan_accept_refuses_a_name_that_does_not_match():
    plan = approved(case=factories.CaseFactory(client__first_name="Ann", client__last_name="Lee"))
    with pytest.raises(ValidationError) as raised:
        services.plan_accept(plan=plan, name="Anne Lee", by=factories.StaffUserFactory(), in_clinic=True)
    assert "does not match" in raised.value.message_dict["name"][0]
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PROPOSED and plan.accepted_at is None


def test_plan_accept_before_approval_is_refused():
    plan = proposed(case=factories.CaseFactory(client__first_name="Ann", client__last_name="Lee"))
    with pytest.raises(ValidationError, match="manager must approve"):
        services.plan_accept(plan=plan, name="Ann Lee", by=factories.StaffUserFactory(), in_clinic=True)
    plan.refresh_from_db()
    assert plan.accepted_at is None


def test_plan_accept_a_draft_is_refused():
    plan = draft_with_step(case=factories.CaseFactory(client__first_name="Ann", client__last_name="Lee"))
    with pytest.raises(ValidationError):
        services.plan_accept(plan=plan, name="Ann Lee", by=factories.StaffUserFactory(), in_clinic=True)


def test_plan_accept_twice_is_refused():
    plan = approved(case=factories.CaseFactory(client__first_name="Ann", client__last_name="Lee"))
    services.plan_accept(plan=plan, name="Ann Lee", by=factories.StaffUserFactory(), in_clinic=True)
    with pytest.raises(ValidationError, match="already accepted"):
        services.plan_accept(plan=plan, name="Ann Lee", by=factories.StaffUserFactory(), in_clinic=True)


def test_plan_accept_in_the_portal_only_by_the_client_themself():
    owner = factories.ClientUserFactory()
    plan = approved(case=factories.CaseFactory(client__user=owner, client__first_name="Ann", client__last_name="Lee"))
    for someone_else in (factories.ClientUserFactory(), factories.StaffUserFactory(), None):
        with pytest.raises(PermissionDenied):
            services.plan_accept(plan=plan, name="Ann Lee", by=someone_else, in_clinic=False)
    plan.refresh_from_db()
    assert plan.accepted_at is None


def test_plan_accept_in_clinic_only_by_clinic_staff():
    owner = factories.ClientUserFactory()
    plan = approved(case=factories.CaseFactory(client__user=owner, client__first_name="Ann", client__last_name="Lee"))
    with pytest.raises(PermissionDenied):
        services.plan_accept(plan=plan, name="Ann Lee", by=owner, in_clinic=True)


def test_standing_plan_is_the_agreed_plan_else_the_plan_being_prepared():
    v1 = approved()
    v2 = services.plan_revise(plan=v1, reason="Softer hairline.")
    assert services.standing_plan(v1.case) == v2  # nothing agreed yet: the newest being prepared
    services.plan_discard(plan=v2, by=factories.StaffUserFactory())
    assert services.standing_plan(v1.case) == v1
    TreatmentPlan.objects.filter(pk=v1.pk).update(status=PlanStatus.SUPERSEDED)
    assert services.standing_plan(v1.case) is None
    assert PlanStep.objects.filter(plan=v1).count() == 1


# ---------------------------------------------------------------------------
# Acceptance: the same typed-name rule as consents
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "Ally Able",  # preferred and last name
        "ALICE  ABLE",  # case and spacing
        "ＡＬＩＣＥ Ａｂｌｅ",  # full-width letters (Unicode compatibility form)
    ],
)
def test_plan_accept_takes_every_name_a_consent_takes(typed):
    user = factories.ClientUserFactory()
    client = factories.ClientFactory(user=user, first_name="Alice", last_name="Able", preferred_name="Ally")
    plan = approved(case=factories.CaseFactory(client=client))
    text = factories.ConsentTextFactory()
    services.plan_accept(plan=plan, name=typed, by=user, in_clinic=False)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACCEPTED
    # The consent service agrees, by the same rule.
    from cases.services.consents import consent_sign

    assert consent_sign(client=client, text=text, typed_name=typed, ip=None, user_agent="").is_in_force


def test_plan_accept_matches_a_decomposed_accent():
    plan = approved(case=factories.CaseFactory(client__first_name="Zoë", client__last_name="Lee"))
    services.plan_accept(plan=plan, name="Zoe\u0308 lee", by=factories.StaffUserFactory(), in_clinic=True)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACCEPTED


@pytest.mark.parametrize("typed", ["Bob Baker", "Ally", "Alice Ablex", "   "])
def test_plan_accept_refuses_another_name_for_the_client(typed):
    plan = approved(
        case=factories.CaseFactory(client__first_name="Alice", client__last_name="Able", client__preferred_name="Ally")
    )
    with pytest.raises(ValidationError) as raised:
        services.plan_accept(plan=plan, name=typed, by=factories.StaffUserFactory(), in_clinic=True)
    assert "name" in raised.value.message_dict
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PROPOSED and plan.accepted_at is None


def test_signature_matches_is_the_one_rule():
    from cases.services.clients import signature_matches

    client = factories.ClientFactory(first_name="Alice", last_name="Able", preferred_name="Ally")
    assert signature_matches(client, " alice   able ")
    assert signature_matches(client, "ALLY ABLE")
    assert not signature_matches(client, "Bob Baker")
    assert not signature_matches(client, "")
    client.preferred_name = ""
    assert not signature_matches(client, "Ally Able")
