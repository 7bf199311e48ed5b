"""The admin writes no clinical record past the clinic's rules.

Clinical records are read-only in the admin, for a superuser too: a change form the staff
pages would refuse (a laser session inside the interval, without a certified technician,
completed in the future; a case status the journey forbids; a plan approved or accepted
by editing fields) answers 403 and leaves the stored row as it was. Add views are
refused, nothing is deleted or restored from history, archiving keeps working with a
typed reason, and a consent withdrawal goes through the same service as the portal's.
"""

from __future__ import annotations

import datetime

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import formats, timezone

from artists.models import Certification
from cases import choices
from cases.models import (
    Case,
    Client,
    Consent,
    CorrectionOption,
    LaserSession,
    TreatmentPlan,
    ZoneLookup,
)
from cases.services.cases import check_transition
from cases.services.plans import plan_steps_follow_sessions
from cases.services.sessions import laser_session_save
from smpclinic.concurrency import snapshot
from smpclinic.models import ClinicSettings
from tests import factories
from tests.helpers import assert_queries_hold, sql_of_get
from tests.test_admin import CLINICAL_READ_ONLY, post_data_of, request_for, url

DAY = datetime.timedelta(days=1)


def noon(days_from_today: int) -> datetime.datetime:
    day = timezone.localdate() + datetime.timedelta(days=days_from_today)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def split(name: str, value: datetime.datetime) -> dict[str, str]:
    """A date-and-time field as the admin's two inputs post it."""
    local = timezone.localtime(value)
    return {f"{name}_0": formats.localize_input(local.date()), f"{name}_1": formats.localize_input(local.time())}


def stored(record) -> dict:
    """Everything stored for `record` (many-to-many included) and its version."""
    fresh = type(record)._base_manager.get(pk=record.pk)
    return {**snapshot(fresh), "lock_version": getattr(fresh, "lock_version", None)}


def post_change(http, record, **changes):
    """The change form posted back as the browser has it, with `changes` on top.

    Were the form editable, every field would be in `post_data_of`; the changes name the
    fields directly, so the post tries the same change whatever the page shows.
    """
    change_url = url(type(record), "change", record.pk)
    data = post_data_of(http.get(change_url))
    return http.post(change_url, {**data, **changes, "_save": "Save"})


def assert_refused(http, record, **changes) -> None:
    before = stored(record)

    response = post_change(http, record, **changes)

    assert response.status_code == 403
    assert stored(record) == before


# Laser sessions the staff form would refuse


@pytest.fixture
def laser_case(db):
    """A case with laser consent and two completed laser sessions on the frontal hairline, 8 weeks apart."""
    case = factories.CaseFactory(client__fitzpatrick_type=choices.Fitzpatrick.III)
    factories.ConsentFactory(client=case.client)
    technician = factories.TechnicianFactory()
    first = factories.LaserSessionFactory(case=case, technician=technician, scheduled_at=noon(-70))
    second = factories.LaserSessionFactory(case=case, technician=technician, scheduled_at=noon(-14))
    return case, first, second


def test_change_page_of_a_laser_session_is_read_only_for_a_superuser(as_admin, laser_case):
    _, _, session = laser_case

    response = as_admin.get(url(LaserSession, "change", session.pk))

    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert response.context["adminform"].form.fields == {}
    assert b'name="_save"' not in response.content
    assert b'name="scheduled_at_0"' not in response.content
    assert session.case.reference in response.content.decode()  # shown, read-only


def test_laser_session_moved_within_the_minimum_interval_is_not_saved(as_admin, staff_user, laser_case):
    _, first, session = laser_case
    moved = first.scheduled_at + 2 * 7 * DAY  # the clinic's minimum on a zone is 6 weeks

    # The staff pages' service refuses this move…
    edited = LaserSession.objects.get(pk=session.pk)
    edited.scheduled_at = moved
    with pytest.raises(ValidationError, match="too close to this session"):
        laser_session_save(session=edited, zones=list(edited.zones.all()), by=staff_user)

    # …and the admin does not save it either.
    assert_refused(as_admin, session, **split("scheduled_at", moved))


def test_laser_session_given_a_technician_without_valid_certification_is_not_saved(as_admin, laser_case):
    _, _, session = laser_case
    lapsed = factories.TechnicianFactory(
        laser_certification__issued_on=datetime.date(2019, 1, 1),
        laser_certification__expires_on=datetime.date(2020, 1, 1),
    )
    assert not lapsed.has_valid_laser_certification(timezone.localdate(session.scheduled_at))

    assert_refused(as_admin, session, technician=str(lapsed.pk))


def test_laser_session_completed_in_the_future_is_not_saved(as_admin, laser_case):
    case, _, _ = laser_case
    booked = factories.LaserSessionFactory(
        case=case, scheduled_at=noon(30), status=choices.SessionStatus.SCHEDULED, immediate_response=""
    )

    assert_refused(as_admin, booked, status=choices.SessionStatus.COMPLETED, estimated_clearance_pct="40")


def test_laser_session_adverse_events_and_zones_cannot_be_changed_in_admin(as_admin, laser_case):
    _, _, session = laser_case
    crown = ZoneLookup.objects.get(code=choices.Zone.CROWN)

    assert_refused(as_admin, session, zones=[str(crown.pk)], adverse_events=[], adverse_event_notes="")


def test_correction_session_cannot_be_changed_in_admin(as_admin, db):
    session = factories.CorrectionSessionFactory()

    assert_refused(as_admin, session, status=choices.SessionStatus.CANCELLED, pigment="")


# Case status and plans


def test_case_status_the_journey_forbids_is_not_saved(as_admin, db):
    case = factories.CaseFactory(status=choices.CaseStatus.ASSESSMENT)
    with pytest.raises(ValidationError):  # no agreed plan: treatment cannot start
        check_transition(case=case, to=choices.CaseStatus.IN_TREATMENT)

    assert_refused(as_admin, case, status=choices.CaseStatus.IN_TREATMENT)


def test_closed_case_cannot_be_reopened_in_admin(as_admin, db):
    case = factories.ClosedCaseFactory()

    assert_refused(as_admin, case, status=choices.CaseStatus.IN_TREATMENT, closed_on="", outcome="")


def test_client_contraindications_cannot_be_changed_in_admin(as_admin, db):
    client = factories.ClientFactory(active_infection=True)

    assert_refused(as_admin, client, active_infection="", first_name="Renamed")


def with_laser_removal(plan: TreatmentPlan) -> TreatmentPlan:
    plan.options.set([CorrectionOption.objects.get(code=choices.CorrectionOptionChoice.LASER_REMOVAL)])
    return plan


def test_draft_plan_cannot_be_made_proposed_in_admin(as_admin, db):
    plan = with_laser_removal(factories.TreatmentPlanFactory())  # no step, never submitted

    assert_refused(as_admin, plan, status=choices.PlanStatus.PROPOSED)


def test_cancelled_plan_cannot_be_made_accepted_again_in_admin(as_admin, db):
    """Its approval and acceptance stamps are there, but the plan the client holds is another."""
    plan = with_laser_removal(factories.AcceptedPlanFactory(status=choices.PlanStatus.CANCELLED))

    assert_refused(as_admin, plan, status=choices.PlanStatus.ACCEPTED)


def test_accepted_plan_cannot_be_edited_in_admin(as_admin, db):
    plan = with_laser_removal(factories.AcceptedPlanFactory())

    assert_refused(as_admin, plan, price_estimate="900.00", summary="Something the client never saw.")


def test_plan_step_cannot_be_marked_done_in_admin(as_admin, db):
    step = factories.PlanStepFactory(plan=factories.AcceptedPlanFactory())

    assert_refused(as_admin, step, status=choices.StepStatus.DONE, target_date="01/01/2026")


def test_follow_up_cannot_be_completed_in_admin(as_admin, db):
    followup = factories.FollowUpFactory()

    assert_refused(
        as_admin,
        followup,
        status=choices.FollowUpStatus.COMPLETED,
        completed_on=formats.localize_input(timezone.localdate() + 30 * DAY),
    )


def test_signed_consent_cannot_be_changed_in_admin(as_admin, db):
    consent = factories.ConsentFactory()

    assert_refused(
        as_admin,
        consent,
        signed_name="Someone Else",
        withdrawn_reason="Told us by phone",
        **split("withdrawn_at", noon(0)),
    )


# Nothing added, changed or deleted, whoever asks


@pytest.mark.parametrize("label", sorted(CLINICAL_READ_ONLY))
def test_admin_never_writes_clinical_records_even_for_a_superuser(admin_user, label):
    model = apps.get_model(label)
    model_admin = admin.site._registry[model]
    request = request_for(admin_user)
    shown = {
        field.name
        for field in model._meta.get_fields()
        if (field.concrete or field.many_to_many) and not field.auto_created and field.editable
    } - set(model_admin.get_exclude(request) or ())

    assert model_admin.has_add_permission(request) is False
    assert model_admin.has_change_permission(request) is False
    assert model_admin.has_delete_permission(request) is False
    assert model_admin.has_view_permission(request) is True
    assert "delete_selected" not in model_admin.get_actions(request)
    assert shown <= set(model_admin.get_readonly_fields(request))
    for inline in model_admin.get_inline_instances(request):
        assert not inline.has_add_permission(request, None), inline
        assert not inline.has_change_permission(request), inline
        assert not inline.has_delete_permission(request), inline


@pytest.mark.parametrize("label", sorted(CLINICAL_READ_ONLY))
def test_add_views_of_clinical_records_are_refused(as_admin, label):
    model = apps.get_model(label)
    case = factories.CaseFactory()
    rows = model._base_manager.count()
    data = {"case": case.pk, "client": case.client_id, "status": "scheduled", "_save": "Save"}

    assert as_admin.get(url(model, "add")).status_code == 403
    assert as_admin.post(url(model, "add"), data).status_code == 403
    assert model._base_manager.count() == rows


# Archiving keeps working, with who and why


def test_archiving_a_laser_session_records_who_and_why_in_its_history(as_admin, admin_user, laser_case):
    _, first, second = laser_case
    version = second.lock_version

    response = as_admin.post(
        url(LaserSession, "changelist"),
        {
            "action": "archive_selected",
            "_selected_action": [second.pk],
            "index": "0",
            "reason": "Booked on the wrong client",
        },
        follow=True,
    )

    second.refresh_from_db()
    first.refresh_from_db()
    assert second.is_archived and not first.is_archived
    assert (second.archived_by, second.archive_reason) == (admin_user, "Booked on the wrong client")
    assert second.lock_version == version + 1  # a stale staff form opened before cannot undo it
    latest = second.history.first()
    assert (latest.history_user, latest.archive_reason) == (admin_user, "Booked on the wrong client")
    assert [str(m) for m in response.context["messages"]] == ["Archived 1 laser session."]


def test_archiving_the_session_that_did_a_plan_step_puts_the_step_back_to_planned(as_admin, db):
    step = factories.PlanStepFactory(plan=factories.AcceptedPlanFactory())
    session = factories.LaserSessionFactory(case=step.plan.case, plan_step=step, scheduled_at=noon(-7))
    plan_steps_follow_sessions(step_ids=[step.pk])  # as the session service does on save
    step.refresh_from_db()
    assert step.status == choices.StepStatus.DONE

    as_admin.post(
        url(LaserSession, "changelist"),
        {"action": "archive_selected", "_selected_action": [session.pk], "index": "0", "reason": "Recorded twice"},
    )

    step.refresh_from_db()
    assert step.status == choices.StepStatus.PLANNED


def test_archive_reason_box_is_on_the_changelist(as_admin, db):
    factories.CaseFactory()

    response = as_admin.get(url(Case, "changelist"))

    assert b'name="reason"' in response.content
    assert "archive_selected" in dict(response.context["action_form"].fields["action"].choices)


def test_archive_reason_longer_than_the_record_keeps_is_refused(as_admin, db):
    client = factories.ClientFactory()

    as_admin.post(
        url(Client, "changelist"),
        {"action": "archive_selected", "_selected_action": [client.pk], "index": "0", "reason": "x" * 501},
    )

    client.refresh_from_db()
    assert not client.is_archived


# Consent withdrawal: the portal's service, from the admin


def test_consent_withdrawal_is_recorded_through_the_service(as_admin, admin_user, db):
    consent = factories.ConsentFactory()
    earlier = factories.ConsentFactory(withdrawn_at=timezone.now() - DAY, withdrawn_reason="Changed their mind")

    response = as_admin.post(
        url(Consent, "changelist"),
        {
            "action": "record_withdrawal",
            "_selected_action": [consent.pk, earlier.pk],
            "index": "0",
            "reason": "Told us by phone",
        },
        follow=True,
    )

    consent.refresh_from_db()
    assert consent.withdrawn_at is not None
    assert consent.withdrawn_reason == "Told us by phone"
    assert consent.history.first().history_user == admin_user
    earlier_before = earlier.withdrawn_at
    earlier.refresh_from_db()
    assert (earlier.withdrawn_at, earlier.withdrawn_reason) == (earlier_before, "Changed their mind")
    messages = [str(m) for m in response.context["messages"]]
    assert any("already withdrawn" in m for m in messages)
    assert "Recorded the withdrawal of 1 consent." in messages


# History: shown, never restored


@pytest.mark.history
def test_history_pages_render_and_an_old_version_cannot_be_restored(as_admin, laser_case):
    _, _, session = laser_case
    first_version = session.history.earliest("history_date")
    session.refresh_from_db()
    session.internal_notes = "Client asked for a later slot."
    session.save()
    before = stored(session)
    version_url = reverse("admin:cases_lasersession_simple_history", args=(session.pk, first_version.history_id))

    history = as_admin.get(url(LaserSession, "history", session.pk))
    version = as_admin.get(version_url)
    restore = as_admin.post(version_url, {"_save": "Save"})

    assert history.status_code == 200
    assert len(history.context["page_obj"].object_list) >= 2
    assert "Client asked for a later slot." in history.content.decode()
    assert version.status_code == 200
    assert version.context["revert_disabled"] is True
    assert restore.status_code == 403
    assert stored(session) == before


def test_signed_consent_text_cannot_be_restored_to_other_words(as_admin, db):
    text = factories.ConsentTextFactory(body="The words first drafted.")
    old_version = text.history.earliest("history_date")
    text.body = "The words the client signed."
    text.save()
    factories.ConsentFactory(text=text)
    version_url = reverse("admin:cases_consenttext_simple_history", args=(text.pk, old_version.history_id))

    assert as_admin.get(version_url).status_code == 200
    assert as_admin.post(version_url, {"_save": "Save"}).status_code == 403
    text.refresh_from_db()
    assert text.body == "The words the client signed."


# Reference data stays editable where no rule hangs on it


def test_certification_validity_cannot_be_changed_in_admin_but_its_details_can(as_admin, laser_case):
    _, _, session = laser_case
    certification = session.technician.certifications.get()

    response = post_change(
        as_admin,
        certification,
        issued_on="01/01/2025",
        expires_on="01/02/2025",  # would no longer cover the technician's sessions
        kind=Certification.Kind.FIRST_AID,
        issuer="Laser Safety Board (UK)",
    )

    assert response.status_code == 302
    certification.refresh_from_db()
    assert certification.expires_on == datetime.date(2030, 1, 1)
    assert certification.kind == Certification.Kind.LASER_SAFETY
    assert certification.issuer == "Laser Safety Board (UK)"
    assert session.technician.has_valid_laser_certification(timezone.localdate(session.scheduled_at))


def test_certifications_are_added_on_the_team_page_not_in_admin(as_admin, db):
    artist = factories.ArtistFactory()

    assert as_admin.get(url(Certification, "add")).status_code == 403
    response = as_admin.get(url(artist, "change", artist.pk))
    (certifications,) = response.context["inline_admin_formsets"]
    assert certifications.has_add_permission is False
    assert certifications.has_change_permission is False


def test_laser_device_type_is_fixed_once_a_session_used_it(as_admin, laser_case):
    _, _, session = laser_case
    used = session.device
    unused = factories.LaserDeviceFactory()
    change = {"laser_type": choices.LaserType.QS_ND_YAG, "wavelengths": "1064", "name": "Room 3"}

    assert post_change(as_admin, used, **change).status_code == 302
    assert post_change(as_admin, unused, **change).status_code == 302

    used.refresh_from_db()
    unused.refresh_from_db()
    assert (used.laser_type, used.wavelengths, used.name) == (choices.LaserType.PICO_ND_YAG, "532, 1064", "Room 3")
    assert (unused.laser_type, unused.wavelengths) == (choices.LaserType.QS_ND_YAG, "1064")


def test_clinic_settings_post_session_check_days_are_edited_in_admin(as_admin, db):
    clinic = ClinicSettings.load()

    response = post_change(as_admin, clinic, laser_check_days="10", correction_check_days="0")

    assert response.status_code == 302
    clinic.refresh_from_db()
    assert (clinic.laser_check_days, clinic.correction_check_days) == (10, 0)


# Changelists of clinical records: constant queries at two sizes


ROW_MAKERS = {
    "lasersession": factories.LaserSessionFactory,
    "correctionsession": factories.CorrectionSessionFactory,
    "treatmentplan": factories.AcceptedPlanFactory,
    "planstep": factories.PlanStepFactory,
    "followup": factories.CompletedFollowUpFactory,
    "consent": factories.ConsentFactory,
    "consultation": factories.ConsultationFactory,
    "issue": factories.IssueFactory,
    "photo": factories.PhotoFactory,
    "certification": factories.CertificationFactory,
}


@pytest.mark.parametrize("name", sorted(ROW_MAKERS))
def test_changelist_queries_do_not_grow_with_rows(as_admin, name):
    model = {m._meta.model_name: m for m in admin.site._registry}[name]
    path = url(model, "changelist")
    for _ in range(3):
        ROW_MAKERS[name]()
    as_admin.get(path)  # first request warms per-process caches (content types…)
    with_3 = sql_of_get(as_admin, path)

    for _ in range(9):
        ROW_MAKERS[name]()
    with_12 = sql_of_get(as_admin, path)

    assert len(as_admin.get(path).context["cl"].result_list) >= 12
    assert_queries_hold(with_3, with_12)


def test_plan_change_page_shows_the_clinician_estimate(as_admin, db):
    plan = factories.TreatmentPlanFactory(clinician_estimate_sessions=8)

    response = as_admin.get(url(TreatmentPlan, "change", plan.pk))

    assert "clinician_estimate_sessions" in flatten_fieldsets(response.context["adminform"].fieldsets)
    assert "estimate of laser sessions" in response.content.decode()
