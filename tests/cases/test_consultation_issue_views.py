"""Consultations and issues: recording and correcting them from the case workspace."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.choices import ConsultationKind, IssueKind, Zone
from cases.models import Consultation, Issue
from tests import factories

DAY = datetime.timedelta(days=1)


def _consultation_create(case) -> str:
    return reverse("cases:consultation_create", kwargs={"case_id": case.public_id})


def _consultation_edit(consultation) -> str:
    return reverse("cases:consultation_edit", kwargs={"consultation_id": consultation.public_id})


def _issue_create(case) -> str:
    return reverse("cases:issue_create", kwargs={"case_id": case.public_id})


def _issue_edit(issue) -> str:
    return reverse("cases:issue_edit", kwargs={"issue_id": issue.public_id})


def _workspace(case, anchor: str) -> str:
    return reverse("cases:case_detail", kwargs={"case_id": case.public_id}) + f"#{anchor}"


def _consultation_data(**overrides) -> dict:
    held_at = timezone.localtime() - datetime.timedelta(hours=2)
    data = {
        "lock_version": "1",  # the version an edit form of a new record carries
        "held_at": held_at.strftime("%Y-%m-%dT%H:%M"),
        "kind": ConsultationKind.PRE_LASER,
        "concerns": "Blue tinge at the temples.",
        "findings": "Colour shift, left temple.",
        "recommendations": "Test spot at 1064 nm.",
        "internal_notes": "Anxious about pain.",
    }
    data.update(overrides)
    return data


def _issue_data(**overrides) -> dict:
    data = {
        "lock_version": "1",  # the version an edit form of a new record carries
        "kind": IssueKind.COLOUR_SHIFT,
        "zone": Zone.LEFT_TEMPLE,
        "severity": "4",
        "description": "Blue-green dots.",
        "identified_on": (timezone.localdate() - 7 * DAY).isoformat(),
        "resolved_on": "",
    }
    data.update(overrides)
    return data


# --- Consultations ---------------------------------------------------------------------


def test_new_consultation_form_defaults_to_now(as_staff):
    case = factories.CaseFactory()

    response = as_staff.get(_consultation_create(case))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'type="datetime-local"' in html
    assert f'value="{timezone.localtime():%Y-%m-%dT}' in html
    assert 'name="internal_notes"' in html


def test_recording_a_consultation_names_the_user(as_staff, staff_user):
    case = factories.CaseFactory()

    response = as_staff.post(_consultation_create(case), _consultation_data())

    assert response.status_code == 302
    assert response["Location"] == _workspace(case, "consultations")
    consultation = Consultation.objects.get(case=case)
    assert consultation.staff == staff_user
    assert consultation.kind == ConsultationKind.PRE_LASER
    assert consultation.findings == "Colour shift, left temple."
    assert consultation.internal_notes == "Anxious about pain."
    assert consultation.history.first().history_user == staff_user


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"held_at": ""}, "held_at"),
        ({"held_at": "yesterday"}, "held_at"),
        ({"kind": ""}, "kind"),
        ({"kind": "chat"}, "kind"),
    ],
)
def test_consultation_with_bad_input_is_refused(as_staff, changes, field):
    case = factories.CaseFactory()

    response = as_staff.post(_consultation_create(case), _consultation_data(**changes))

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Consultation.objects.exists()


def test_editing_a_consultation_keeps_who_held_it(as_manager, manager_user):
    consultation = factories.ConsultationFactory(recommendations="Old advice")
    held_by = consultation.staff

    response = as_manager.get(_consultation_edit(consultation))
    assert response.status_code == 200
    assert "Old advice" in response.content.decode()

    response = as_manager.post(_consultation_edit(consultation), _consultation_data(recommendations="New advice"))

    assert response.status_code == 302
    assert response["Location"] == _workspace(consultation.case, "consultations")
    consultation.refresh_from_db()
    assert consultation.recommendations == "New advice"
    assert consultation.staff == held_by
    assert consultation.history.first().history_user == manager_user


def test_editing_a_consultation_with_bad_input_changes_nothing(as_staff):
    consultation = factories.ConsultationFactory()

    response = as_staff.post(_consultation_edit(consultation), _consultation_data(kind=""))

    assert response.status_code == 200
    consultation.refresh_from_db()
    assert consultation.kind == ConsultationKind.INITIAL


def test_an_archived_consultation_is_not_found(as_staff):
    consultation = factories.ConsultationFactory(archived_at=timezone.now())

    assert as_staff.get(_consultation_edit(consultation)).status_code == 404


# --- Issues ----------------------------------------------------------------------------------


def test_new_issue_form_defaults_to_today(as_staff):
    response = as_staff.get(_issue_create(factories.CaseFactory()))

    assert response.status_code == 200
    html = response.content.decode()
    assert f'value="{timezone.localdate().isoformat()}"' in html
    assert 'type="date"' in html
    assert 'max="5"' in html and 'min="1"' in html


def test_recording_an_issue(as_staff, staff_user):
    case = factories.CaseFactory()

    response = as_staff.post(_issue_create(case), _issue_data())

    assert response.status_code == 302
    assert response["Location"] == _workspace(case, "issues")
    issue = Issue.objects.get(case=case)
    assert (issue.kind, issue.zone, issue.severity) == (IssueKind.COLOUR_SHIFT, Zone.LEFT_TEMPLE, 4)
    assert issue.resolved_on is None
    assert issue.history.first().history_user == staff_user


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": ""}, "kind"),
        ({"zone": ""}, "zone"),
        ({"zone": "eyebrow"}, "zone"),
        ({"severity": ""}, "severity"),
        ({"severity": "0"}, "severity"),
        ({"severity": "6"}, "severity"),
        ({"identified_on": ""}, "identified_on"),
        ({"identified_on": "2999-01-01"}, "identified_on"),
        ({"resolved_on": "2999-01-01"}, "resolved_on"),
    ],
)
def test_issue_with_bad_input_is_refused(as_staff, changes, field):
    case = factories.CaseFactory()

    response = as_staff.post(_issue_create(case), _issue_data(**changes))

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Issue.objects.exists()


def test_an_issue_cannot_be_resolved_before_it_was_identified(as_staff):
    case = factories.CaseFactory()
    data = _issue_data(
        identified_on=(timezone.localdate() - 5 * DAY).isoformat(),
        resolved_on=(timezone.localdate() - 6 * DAY).isoformat(),
    )

    response = as_staff.post(_issue_create(case), data)

    assert response.context["form"].errors["resolved_on"] == ["An issue cannot be resolved before it was identified."]
    assert not Issue.objects.exists()


def test_resolving_an_issue(as_staff):
    issue = factories.IssueFactory(severity=3)
    resolved = timezone.localdate() - DAY

    response = as_staff.get(_issue_edit(issue))
    assert response.status_code == 200
    assert response.context["form"].initial["severity"] == 3

    response = as_staff.post(
        _issue_edit(issue),
        _issue_data(
            kind=issue.kind,
            zone=issue.zone,
            severity="2",
            identified_on=issue.identified_on.isoformat(),
            resolved_on=resolved.isoformat(),
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == _workspace(issue.case, "issues")
    issue.refresh_from_db()
    assert issue.severity == 2
    assert issue.resolved_on == resolved


def test_editing_an_issue_with_a_resolution_before_identification_changes_nothing(as_staff):
    issue = factories.IssueFactory()
    before = issue.identified_on - DAY

    response = as_staff.post(
        _issue_edit(issue),
        _issue_data(identified_on=issue.identified_on.isoformat(), resolved_on=before.isoformat()),
    )

    assert "resolved_on" in response.context["form"].errors
    issue.refresh_from_db()
    assert issue.resolved_on is None and issue.kind == IssueKind.UNNATURAL_HAIRLINE


def test_an_archived_issue_is_not_found(as_staff):
    issue = factories.IssueFactory(archived_at=timezone.now())

    assert as_staff.get(_issue_edit(issue)).status_code == 404


# --- Permissions -------------------------------------------------------------------------
# Who may open these pages is tests/test_url_permissions.py's walk; here, what it does not
# check: refused posts save nothing, allowed ones save, archived clients' records are not found.


def _pages(case):
    consultation = factories.ConsultationFactory(case=case)
    issue = factories.IssueFactory(case=case)
    return [
        (_consultation_create(case), _consultation_data()),
        (_consultation_edit(consultation), _consultation_data()),
        (_issue_create(case), _issue_data()),
        (_issue_edit(issue), _issue_data()),
    ]


def test_anonymous_posts_are_sent_to_login_and_save_nothing(anonymous):
    for url, data in _pages(factories.CaseFactory()):
        response = anonymous.post(url, data)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert Consultation.objects.count() == 1 and Issue.objects.count() == 1


def test_a_client_posting_is_refused_even_on_their_own_case(as_client_a, client_a):
    for url, data in _pages(factories.CaseFactory(client=client_a)):
        assert as_client_a.post(url, data).status_code == 403
    assert Consultation.objects.count() == 1 and Issue.objects.count() == 1


@pytest.mark.parametrize("persona", ["as_staff", "as_manager"])
def test_staff_and_managers_may_record_and_edit(request, persona):
    http = request.getfixturevalue(persona)
    for url, data in _pages(factories.CaseFactory()):
        assert http.post(url, data).status_code == 302
    assert Consultation.objects.count() == 2 and Issue.objects.count() == 2


def test_records_of_an_archived_client_are_not_found(as_staff):
    case = factories.CaseFactory(client=factories.ClientFactory(archived_at=timezone.now()))
    for url, data in _pages(case):
        assert as_staff.get(url).status_code == 404
        assert as_staff.post(url, data).status_code == 404
    assert Consultation.objects.count() == 1 and Issue.objects.count() == 1
