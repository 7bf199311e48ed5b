"""Opening and editing a case, and the one-page case workspace (staff and managers)."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from cases.choices import (
    CaseStatus,
    ConsentKind,
    FollowUpStatus,
    IssueKind,
    OverrideRule,
    PlanStatus,
    SessionStatus,
    Zone,
)
from cases.models import AdverseEventKind, Case, RegretReason, RuleOverride
from tests import factories
from tests.helpers import assert_queries_hold, sql_of_get

DAY = datetime.timedelta(days=1)


def _detail(case) -> str:
    return reverse("cases:case_detail", kwargs={"case_id": case.public_id})


def _history(case) -> str:
    return reverse("cases:case_history", kwargs={"case_id": case.public_id})


def _edit(case) -> str:
    return reverse("cases:case_edit", kwargs={"case_id": case.public_id})


def _create(client) -> str:
    return reverse("cases:case_create", kwargs={"client_id": client.public_id})


def _case_data(**overrides) -> dict:
    data = {
        "lock_version": "1",  # the version an edit form of a new case carries
        "goal": "A softer, natural hairline.",
        "lead_artist": "",
        "regret_reasons": [],
        "regret_notes": "",
        "original_studio": "",
        "original_artist": "",
        "original_date": "",
        "original_sessions": "",
        "original_pigment": "",
        "expectations_discussed_on": "",
        "expectations_agreed": "",
    }
    data.update(overrides)
    return data


def _reason(code) -> RegretReason:
    return RegretReason.objects.get(code=code)


# --- Opening a case ------------------------------------------------------------------


def test_create_form_offers_only_active_internal_artists(as_staff):
    client = factories.ClientFactory()
    lead = factories.ArtistFactory(first_name="Lena", last_name="Lead")
    external = factories.ExternalArtistFactory(first_name="Eddie", last_name="External")
    gone = factories.ArtistFactory(first_name="Gone", last_name="Away", archived_at=timezone.now())

    response = as_staff.get(_create(client))

    assert response.status_code == 200
    choices = response.context["form"].fields["lead_artist"].queryset
    assert lead in choices and external not in choices and gone not in choices
    assert external in response.context["form"].fields["original_artist"].queryset
    assert b'type="date"' in response.content
    assert b'type="checkbox"' in response.content  # reasons for regret


def test_create_opens_a_case_and_records_who_discussed_expectations(as_staff, staff_user):
    client = factories.ClientFactory()
    lead = factories.ArtistFactory()
    original = factories.ExternalArtistFactory()
    today = timezone.localdate()
    data = _case_data(
        lead_artist=lead.pk,
        regret_reasons=[_reason("suboptimal_result").pk, _reason("change_over_time").pk],
        regret_notes="Blurred dots after two years.",
        original_studio=original.studio.pk,
        original_artist=original.pk,
        original_date=(today - datetime.timedelta(days=900)).isoformat(),
        original_sessions=3,
        original_pigment="Unknown tattoo ink",
        expectations_discussed_on=today.isoformat(),
        expectations_agreed="Two to four laser sessions before redesign.",
    )

    response = as_staff.post(_create(client), data)

    case = Case.objects.get(client=client)
    assert response.status_code == 302
    assert response["Location"] == _detail(case)
    assert case.reference.startswith(f"SMP-{today.year}-")
    assert case.status == CaseStatus.CONSULTATION
    assert case.lead_artist == lead
    assert case.original_artist == original and case.original_studio == original.studio
    assert case.original_sessions == 3
    assert set(case.regret_reasons.values_list("code", flat=True)) == {"suboptimal_result", "change_over_time"}
    assert case.expectations_discussed_by == staff_user
    assert case.history.first().history_user == staff_user


def test_create_without_expectations_date_names_nobody(as_staff):
    client = factories.ClientFactory()

    as_staff.post(_create(client), _case_data())

    case = Case.objects.get(client=client)
    assert case.expectations_discussed_on is None
    assert case.expectations_discussed_by is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"goal": ""}, "goal"),
        ({"original_date": "2999-01-01"}, "original_date"),
        ({"original_sessions": "21"}, "original_sessions"),
        ({"original_sessions": "0"}, "original_sessions"),
        ({"expectations_agreed": "Agreed on four sessions."}, "expectations_discussed_on"),
        ({"expectations_discussed_on": "2999-01-01"}, "expectations_discussed_on"),
        ({"regret_reasons": ["999999"]}, "regret_reasons"),
    ],
)
def test_create_refuses_bad_input_and_saves_nothing(as_staff, changes, field):
    client = factories.ClientFactory()

    response = as_staff.post(_create(client), _case_data(**changes))

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Case.objects.filter(client=client).exists()


@pytest.mark.parametrize("kind", ["external", "archived"])
def test_create_refuses_a_lead_artist_who_is_external_or_archived(as_staff, kind):
    client = factories.ClientFactory()
    artist = (
        factories.ExternalArtistFactory() if kind == "external" else factories.ArtistFactory(archived_at=timezone.now())
    )

    response = as_staff.post(_create(client), _case_data(lead_artist=artist.pk))

    assert "lead_artist" in response.context["form"].errors
    assert not Case.objects.exists()


def test_create_for_an_archived_client_is_not_found(as_staff):
    client = factories.ClientFactory(archived_at=timezone.now())

    assert as_staff.get(_create(client)).status_code == 404
    assert as_staff.post(_create(client), _case_data()).status_code == 404
    assert not Case.objects.exists()


# --- Editing a case ------------------------------------------------------------------


def test_edit_changes_details_but_never_the_status(as_manager, manager_user):
    case = factories.CaseFactory(status=CaseStatus.ASSESSMENT)
    new_lead = factories.ArtistFactory()

    response = as_manager.post(
        _edit(case),
        _case_data(goal="Remove the hairline entirely.", lead_artist=new_lead.pk, status=CaseStatus.CLOSED),
    )

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.goal == "Remove the hairline entirely."
    assert case.lead_artist == new_lead
    assert case.status == CaseStatus.ASSESSMENT
    assert case.history.first().history_user == manager_user


def test_edit_shows_current_values(as_staff):
    case = factories.CaseFactory(original_pigment="Carbon black")

    response = as_staff.get(_edit(case))

    assert response.status_code == 200
    assert response.context["form"].initial["original_pigment"] == "Carbon black"
    assert b"Carbon black" in response.content


def test_edit_keeps_an_archived_lead_artist_already_chosen(as_staff):
    lead = factories.ArtistFactory(archived_at=timezone.now())
    case = factories.CaseFactory(lead_artist=lead)

    response = as_staff.post(_edit(case), _case_data(lead_artist=lead.pk))

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.lead_artist == lead


def test_edit_names_whoever_changes_the_expectations_and_keeps_them_otherwise(as_staff, staff_user, manager_user):
    discussed_on = timezone.localdate() - 10 * DAY
    case = factories.CaseFactory(
        expectations_discussed_on=discussed_on,
        expectations_discussed_by=manager_user,
        expectations_agreed="Three sessions.",
    )
    same = _case_data(expectations_discussed_on=discussed_on.isoformat(), expectations_agreed="Three sessions.")

    as_staff.post(_edit(case), {**same, "goal": "Something else"})
    case.refresh_from_db()
    assert case.expectations_discussed_by == manager_user

    as_staff.post(_edit(case), {**same, "expectations_agreed": "Four sessions.", "lock_version": "2"})
    case.refresh_from_db()
    assert case.expectations_discussed_by == staff_user
    assert case.expectations_agreed == "Four sessions."

    as_staff.post(_edit(case), _case_data(lock_version="3"))
    case.refresh_from_db()
    assert case.expectations_discussed_on is None and case.expectations_discussed_by is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"goal": ""}, "goal"), ({"original_date": "2999-01-01"}, "original_date")],
)
def test_edit_refuses_bad_input_and_changes_nothing(as_staff, changes, field):
    case = factories.CaseFactory(goal="Keep me.")

    response = as_staff.post(_edit(case), _case_data(**changes))

    assert response.status_code == 200
    assert field in response.context["form"].errors
    case.refresh_from_db()
    assert case.goal == "Keep me."
    assert case.original_date is None


# --- Permissions -------------------------------------------------------------------------
# Who may open these pages is tests/test_url_permissions.py's walk; here, what it does not
# check: refused posts save nothing, archived records are not found.


PAGES = ("detail", "edit", "create")


def _url(page_name, case):
    return {"detail": _detail, "edit": _edit}[page_name](case) if page_name != "create" else _create(case.client)


@pytest.mark.parametrize("page_name", PAGES)
def test_a_client_is_refused_even_for_their_own_case(as_client_a, client_a, page_name):
    case = factories.CaseFactory(client=client_a)

    assert as_client_a.post(_url(page_name, case), _case_data()).status_code == 403
    assert Case.objects.count() == 1


@pytest.mark.parametrize("page_name", ["detail", "edit"])
def test_a_case_of_an_archived_client_is_not_found(as_staff, page_name):
    case = factories.CaseFactory(client=factories.ClientFactory(archived_at=timezone.now()))

    assert as_staff.get(_url(page_name, case)).status_code == 404


def test_an_archived_case_is_not_found(as_staff):
    case = factories.CaseFactory(archived_at=timezone.now())

    assert as_staff.get(_detail(case)).status_code == 404


# --- The workspace -----------------------------------------------------------------------


def test_workspace_header_shows_reference_client_status_lead_and_sections(as_staff):
    lead = factories.ArtistFactory(first_name="Lena", last_name="Lead")
    case = factories.CaseFactory(status=CaseStatus.PLANNING, lead_artist=lead)

    response = as_staff.get(_detail(case))

    html = response.content.decode()
    assert response.status_code == 200
    assert f'<h1 class="h3 mb-0">{case.reference}</h1>' in html
    assert reverse("cases:client_detail", kwargs={"client_id": case.client.public_id}) in html
    assert case.client.full_name in html
    assert "Planning</span>" in html
    assert "Lena Lead" in html
    # The summary says what to do next before anything else; each section folds (a
    # <details>, no script needed); the day-to-day ones are open, the background folded.
    assert html.index('id="next-step"') < html.index('id="background"')
    opening = r'<section id="([a-z-]+)" class="case-section"[^>]*>\s*<details class="case-section-details"( open)?>'
    sections = dict(re.findall(opening, html))
    assert sections == {
        "background": "",
        "expectations": " open",  # not yet discussed: open, with its warning
        "issues": " open",
        "consultations": "",
        "plan": " open",
        "sessions": " open",
        "follow-ups": " open",
    }
    for anchor in sections:
        assert f'<summary class="case-section-toggle"><h2 class="h5 mb-0" id="{anchor}-heading">' in html
    assert f'href="{_history(case)}"' in html  # a page of its own
    assert "<script>" not in html and "style=" not in html


def test_workspace_warns_about_contraindications(as_staff):
    client = factories.ClientFactory(keloid_history=True, active_infection=True)
    case = factories.CaseFactory(client=client)

    html = as_staff.get(_detail(case)).content.decode()

    assert "Keloid history" in html
    assert "Active infection or herpes at or near the site" in html
    assert "blocks laser unless a manager overrides" in html


def test_workspace_without_contraindications_shows_no_panel(as_staff):
    html = as_staff.get(_detail(factories.CaseFactory())).content.decode()

    assert "Contraindications for laser work" not in html


@pytest.mark.parametrize(
    ("consent", "warned"),
    [("none", True), ("signed", False), ("withdrawn", True), ("other_kind", True)],
)
def test_workspace_warns_without_a_signed_laser_consent(as_staff, consent, warned):
    case = factories.CaseFactory()
    if consent == "signed":
        factories.ConsentFactory(client=case.client)
    elif consent == "withdrawn":
        factories.ConsentFactory(client=case.client, withdrawn_at=timezone.now(), withdrawn_reason="Changed mind")
    elif consent == "other_kind":
        text = factories.ConsentTextFactory(kind=ConsentKind.PHOTO_CLINICAL)
        factories.ConsentFactory(client=case.client, text=text)

    html = as_staff.get(_detail(case)).content.decode()

    assert ('id="consent-warning"' in html) is warned
    record = reverse("cases:consent_record", kwargs={"client_id": case.client.public_id})
    assert (record in html) is warned


def test_workspace_shows_origin_regret_and_agreed_expectations(as_staff, staff_user):
    original = factories.ExternalArtistFactory(first_name="Olga", last_name="Original")
    case = factories.CaseFactory(
        original_artist=original,
        original_studio=original.studio,
        original_sessions=4,
        original_pigment="Tattoo ink, blue shift",
        regret_notes="Looks like a helmet.",
        expectations_discussed_on=timezone.localdate() - 3 * DAY,
        expectations_discussed_by=staff_user,
        expectations_agreed="Lighten first, redesign after healing.",
    )
    case.regret_reasons.set([_reason("unrealistic_expectations")])

    html = as_staff.get(_detail(case)).content.decode()

    assert "Olga Original" in html and original.studio.name in html
    assert "Tattoo ink, blue shift" in html
    assert "Unrealistic expectations" in html and "Looks like a helmet." in html
    assert "Lighten first, redesign after healing." in html
    assert 'id="expectations-warning"' not in html


def test_workspace_warns_when_expectations_were_not_recorded(as_staff):
    html = as_staff.get(_detail(factories.CaseFactory())).content.decode()

    assert 'id="expectations-warning"' in html


def test_workspace_groups_issues_by_zone_with_severity_and_links(as_staff):
    case = factories.CaseFactory()
    crown = factories.IssueFactory(case=case, zone=Zone.CROWN, kind=IssueKind.FADED, severity=2)
    hairline = factories.IssueFactory(case=case, zone=Zone.FRONTAL_HAIRLINE, severity=5)
    factories.IssueFactory(case=case, zone=Zone.CROWN, archived_at=timezone.now(), kind=IssueKind.TOO_DARK)

    response = as_staff.get(_detail(case))

    groups = response.context["issue_groups"]
    assert [(zone, [i.pk for i in issues]) for zone, issues in groups] == [
        ("Frontal hairline", [hairline.pk]),
        ("Crown (vertex)", [crown.pk]),
    ]
    html = response.content.decode()
    assert reverse("cases:issue_edit", kwargs={"issue_id": crown.public_id}) in html
    assert reverse("cases:issue_create", kwargs={"case_id": case.public_id}) in html
    issues_section = html[html.index('id="issues"') : html.index('id="consultations"')]
    assert "Faded" in issues_section
    assert "Too dark" not in issues_section  # archived


def test_workspace_lists_consultations_newest_first(as_staff):
    case = factories.CaseFactory()
    older = factories.ConsultationFactory(case=case, held_at=timezone.now() - 30 * DAY, concerns="Older concern")
    newer = factories.ConsultationFactory(case=case, held_at=timezone.now() - DAY, concerns="Newer concern")

    response = as_staff.get(_detail(case))

    assert [c.pk for c in response.context["case"].workspace_consultations] == [newer.pk, older.pk]
    html = response.content.decode()
    assert html.index("Newer concern") < html.index("Older concern")
    assert reverse("cases:consultation_edit", kwargs={"consultation_id": older.public_id}) in html
    assert reverse("cases:consultation_create", kwargs={"case_id": case.public_id}) in html


def test_workspace_shows_the_current_plan_with_estimate_and_actual_sessions(as_staff):
    case = factories.CaseFactory(status=CaseStatus.IN_TREATMENT)
    old = factories.AcceptedPlanFactory(case=case, version=1, status=PlanStatus.SUPERSEDED)
    plan = factories.AcceptedPlanFactory(case=case, version=2, previous_version=old, accepted_in_clinic=True)
    factories.PlanStepFactory(plan=plan, order=1, description="Lighten the frontal hairline")
    technician = factories.TechnicianFactory()
    factories.LaserSessionFactory.create_batch(2, case=case, technician=technician)
    factories.LaserSessionFactory(case=case, technician=technician, status=SessionStatus.SCHEDULED)

    response = as_staff.get(_detail(case))

    assert response.context["plan"] == plan
    html = response.content.decode()
    assert reverse("cases:plan_detail", kwargs={"plan_id": plan.public_id}) in html
    assert reverse("cases:plan_detail", kwargs={"plan_id": old.public_id}) not in html
    assert "Plan v2" in html and "Accepted</span>" in html
    assert "Approved by" in html and "in clinic" in html
    assert "8 laser sessions (range 5–11)" in html  # Kirby–Desai 3+1+1+3+0+0, ±2.5
    assert "completed laser sessions so far: <strong>2</strong>" in html
    assert "Lighten the frontal hairline" in html


def test_workspace_without_a_plan_offers_to_create_one(as_staff):
    case = factories.CaseFactory()

    html = as_staff.get(_detail(case)).content.decode()

    assert "No treatment plan yet" in html
    assert reverse("cases:plan_create", kwargs={"case_id": case.public_id}) in html


def test_workspace_timeline_merges_sessions_by_date_with_overrides(as_staff, manager_user):
    case = factories.CaseFactory()
    now = timezone.now()
    laser_old = factories.LaserSessionFactory(case=case, scheduled_at=now - 60 * DAY, estimated_clearance_pct=40)
    laser_old.adverse_events.set(AdverseEventKind.objects.filter(code="blistering"))
    correction = factories.CorrectionSessionFactory(case=case, scheduled_at=now - 20 * DAY, pigment="Grey wash 20%")
    laser_new = factories.LaserSessionFactory(
        case=case, scheduled_at=now + 10 * DAY, status=SessionStatus.SCHEDULED, zones=[Zone.CROWN]
    )
    RuleOverride.objects.create(
        case=case,
        laser_session=laser_new,
        rule=OverrideRule.ZONE_INTERVAL,
        message="Crown treated 5 weeks ago.",
        reason="Test spot only, agreed with the client.",
        overridden_by=manager_user,
    )

    response = as_staff.get(_detail(case))

    assert [e.session.pk for e in response.context["timeline"]] == [laser_old.pk, correction.pk, laser_new.pk]
    html = response.content.decode()
    assert "1064 nm" in html and "2.50 J/cm²" in html and "spot 4.0 mm" in html and "clearance 40 %" in html
    assert "Adverse events: Blistering" in html
    assert "Grey wash 20%" in html and "SMP correction" in html
    assert "Crown (vertex)" in html
    override_at = html.index("Test spot only, agreed with the client.")
    assert html.rindex("<li", 0, override_at) > html.index(
        reverse("cases:correction_session_edit", kwargs={"session_id": correction.public_id})
    )
    assert reverse("cases:laser_session_create", kwargs={"case_id": case.public_id}) in html
    assert reverse("cases:correction_session_create", kwargs={"case_id": case.public_id}) in html
    assert reverse("cases:laser_session_edit", kwargs={"session_id": laser_old.public_id}) in html


def test_workspace_follow_ups_mark_overdue_and_offer_actions(as_staff):
    case = factories.CaseFactory()
    overdue = factories.FollowUpFactory(
        case=case, due_on=timezone.localdate() - 2 * DAY, assignee=factories.StaffUserFactory()
    )
    done = factories.FollowUpFactory(
        case=case, status=FollowUpStatus.COMPLETED, completed_on=timezone.localdate(), due_on=timezone.localdate()
    )

    html = as_staff.get(_detail(case)).content.decode()

    assert html.count("overdue</span>") == 1
    assert reverse("cases:followup_complete", kwargs={"followup_id": overdue.public_id}) in html
    assert reverse("cases:followup_missed", kwargs={"followup_id": overdue.public_id}) in html
    assert reverse("cases:followup_complete", kwargs={"followup_id": done.public_id}) not in html
    assert reverse("cases:followup_create", kwargs={"case_id": case.public_id}) in html
    assert overdue.assignee.get_full_name() in html


def test_next_step_is_the_earliest_planned_step_or_booked_session(as_staff):
    case = factories.CaseFactory()
    plan = factories.AcceptedPlanFactory(case=case)
    today = timezone.localdate()
    factories.PlanStepFactory(plan=plan, order=1, target_date=today - 5 * DAY, status="done")
    factories.PlanStepFactory(plan=plan, order=2, target_date=today + 20 * DAY)
    factories.PlanStepFactory(plan=plan, order=3, target_date=today + 40 * DAY)

    response = as_staff.get(_detail(case))
    assert response.context["next_step"].label == "Plan step 2: Laser session"
    assert response.context["next_step"].day == today + 20 * DAY

    factories.CorrectionSessionFactory(case=case, status=SessionStatus.SCHEDULED, scheduled_at=timezone.now() + 3 * DAY)
    response = as_staff.get(_detail(case))
    assert response.context["next_step"].label == "SMP correction session booked"
    assert 'id="next-step"' in response.content.decode()


def test_next_step_when_nothing_is_planned(as_staff):
    response = as_staff.get(_detail(factories.CaseFactory()))

    assert response.context["next_step"] is None
    assert "Nothing planned" in response.content.decode()


@pytest.mark.history
def test_history_shows_who_changed_what(as_staff, staff_user):
    staff_user.first_name, staff_user.last_name = "Sam", "Staff"
    staff_user.save()
    case = factories.CaseFactory()
    issue = factories.IssueFactory(case=case, severity=3)
    edit = reverse("cases:issue_edit", kwargs={"issue_id": issue.public_id})
    as_staff.post(
        edit,
        {
            "lock_version": issue.lock_version,
            "kind": issue.kind,
            "zone": issue.zone,
            "severity": 5,
            "description": "",
            "identified_on": issue.identified_on.isoformat(),
            "resolved_on": "",
        },
    )

    response = as_staff.get(_history(case))

    latest = response.context["changes"][0]
    assert latest.who == "Sam Staff"
    assert latest.action == "Changed"
    assert latest.what == "Issue: Unnatural hairline (Frontal hairline)"
    assert latest.details == ["severity (1 mild – 5 severe): 3 → 5"]
    assert {c.what for c in response.context["changes"]} >= {"Case"}


@pytest.mark.history
def test_history_is_capped(as_staff):
    from cases.views.workspace import HISTORY_LIMIT

    case = factories.CaseFactory()
    factories.IssueFactory.create_batch(HISTORY_LIMIT // 2, case=case)
    factories.FollowUpFactory.create_batch(HISTORY_LIMIT // 2, case=case)

    response = as_staff.get(_history(case))

    assert len(response.context["changes"]) == HISTORY_LIMIT
    assert f"The latest {HISTORY_LIMIT} changes." in response.content.decode()


def test_the_workspace_links_to_the_history_and_reads_no_history_table(as_staff):
    case = factories.CaseFactory()

    html = as_staff.get(_detail(case)).content.decode()
    sql = sql_of_get(as_staff, _detail(case))

    assert f'href="{_history(case)}"' in html
    assert not [query for query in sql if "_historical" in query]


def test_status_buttons_offer_the_legal_transitions(as_staff):
    case = factories.CaseFactory(status=CaseStatus.FOLLOW_UP)

    response = as_staff.get(_detail(case))

    assert [t["to"] for t in response.context["transitions"]] == [
        CaseStatus.CLOSED,
        CaseStatus.IN_TREATMENT,
        CaseStatus.WITHDRAWN,
    ]
    html = response.content.decode()
    status_url = reverse("cases:case_status", kwargs={"case_id": case.public_id})
    assert f"{status_url}?to=closed" in html and f"{status_url}?to=withdrawn" in html
    assert 'name="to" value="in_treatment"' in html
    assert "Back to in treatment" in html


def test_a_final_case_offers_no_status_buttons(as_staff):
    case = factories.CaseFactory(status=CaseStatus.WITHDRAWN, withdrawn_reason="Moved abroad")

    response = as_staff.get(_detail(case))

    assert response.context["transitions"] == []
    assert "Moved abroad" in response.content.decode()


# --- Reviewed follow-ups: who reviewed, when, and the note ----------------------------------------------


def _reviewed_case(n: int, **review):
    """A case with n completed follow-ups, each reviewed by a different manager (or none if n is 0)."""
    from cases.services.followups import followups_review

    case = factories.CaseFactory()
    for i in range(n):
        followup = factories.CompletedFollowUpFactory(case=case)
        manager = factories.ManagerUserFactory(first_name=f"Mara{i}", last_name="Reviewer")
        followups_review(followups=[followup], by=manager, **review)
    return case


def test_workspace_shows_who_reviewed_a_follow_up_when_and_the_note(as_staff, manager_user):
    from cases.services.followups import followups_review

    case = factories.CaseFactory()
    reviewed = factories.CompletedFollowUpFactory(case=case)
    factories.CompletedFollowUpFactory(case=case)  # not reviewed yet
    manager_user.first_name, manager_user.last_name = "Mara", "Manager"
    manager_user.save()
    at = timezone.make_aware(datetime.datetime(2026, 3, 4, 10, 0))
    with time_machine.travel(at, tick=False):
        followups_review(followups=[reviewed], by=manager_user, note="Healing fine <b>ok</b>")

    html = as_staff.get(_detail(case)).content.decode()

    assert html.count("Reviewed by Mara Manager on 4 Mar 2026") == 1
    assert "Review note: Healing fine &lt;b&gt;ok&lt;/b&gt;" in html
    assert html.count("Reviewed by") == 1


def test_reviewed_follow_up_without_a_note_shows_no_note(as_staff):
    case = _reviewed_case(1, note="")
    html = as_staff.get(_detail(case)).content.decode()
    assert "Reviewed by Mara0 Reviewer on " in html
    assert "Review note:" not in html


def test_reviewers_cost_no_extra_queries_on_the_workspace(as_staff):
    # Edited once, as a review edits a follow-up, so the timeline's history diffs are alike.
    unreviewed = factories.CaseFactory()
    for followup in factories.CompletedFollowUpFactory.create_batch(5, case=unreviewed):
        followup.notes = "Seen again."
        followup.save()
    few, many = _reviewed_case(2, note="Fine."), _reviewed_case(8, note="Fine.")
    sql_of_get(as_staff, _detail(unreviewed))  # warm up

    baseline = sql_of_get(as_staff, _detail(unreviewed))
    assert_queries_hold(baseline, sql_of_get(as_staff, _detail(few)))
    assert_queries_hold(baseline, sql_of_get(as_staff, _detail(many)))
    assert as_staff.get(_detail(many)).content.decode().count("Reviewed by Mara") == 8
