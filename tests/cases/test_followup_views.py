"""Follow-ups (staff): schedule, complete, mark missed; their services, illegal states and permissions."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cases.choices import AdverseEventChoice, FollowUpKind, FollowUpStatus, Healing
from cases.forms.followups import session_key
from cases.models import AdverseEventKind, FollowUp
from cases.services.followups import followup_complete, followup_create, followup_mark_missed
from smpclinic.models import ClinicSettings
from tests import factories
from tests.helpers import assert_queries_hold, frozen_at, messages_of, sql_of_get

NOW = datetime.datetime(2026, 11, 25, 9, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()
QUERY_CAP = 20


frozen_clock = frozen_at(NOW)


@pytest.fixture
def case(db):
    return factories.CaseFactory()


@pytest.fixture
def followup(case):
    return factories.FollowUpFactory(case=case, due_on=TODAY)


def create_url(case) -> str:
    return reverse("cases:followup_create", kwargs={"case_id": case.public_id})


def complete_url(followup) -> str:
    return reverse("cases:followup_complete", kwargs={"followup_id": followup.public_id})


def missed_url(followup) -> str:
    return reverse("cases:followup_missed", kwargs={"followup_id": followup.public_id})


def detail_url(case) -> str:
    return reverse("cases:case_detail", kwargs={"case_id": case.public_id})


def complete_data(**overrides) -> dict:
    data = {"completed_on": "2026-11-25", "healing": Healing.AS_EXPECTED, "satisfaction": "4", "notes": "Healing well."}
    data.update(overrides)
    return data


# --- permissions ---------------------------------------------------------------------------------------
# Who may open these pages is tests/test_url_permissions.py's walk; here, what it does not
# check: refused posts change nothing, archived records are not found.


def test_anonymous_posts_are_sent_to_login_and_change_nothing(anonymous, case, followup):
    for url in (create_url(case), complete_url(followup), missed_url(followup)):
        response = anonymous.post(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.SCHEDULED
    assert FollowUp.objects.count() == 1


def test_a_client_posting_is_refused_and_changes_nothing(as_client_a, client_a):
    case = factories.CaseFactory(client=client_a)
    own = factories.FollowUpFactory(case=case)
    assert as_client_a.post(create_url(case), {"kind": "healing_check", "due_on": "2026-12-01"}).status_code == 403
    assert as_client_a.post(complete_url(own), complete_data()).status_code == 403
    assert as_client_a.post(missed_url(own)).status_code == 403
    own.refresh_from_db()
    assert own.status == FollowUpStatus.SCHEDULED
    assert FollowUp.objects.count() == 1


def test_missed_is_post_only_and_unknown_records_are_404(as_staff, staff_user, case, followup):
    assert as_staff.get(missed_url(followup)).status_code == 405
    followup.archive(by=staff_user, reason="Duplicate")
    assert as_staff.get(complete_url(followup)).status_code == 404
    assert as_staff.post(missed_url(followup)).status_code == 404
    case.archive(by=staff_user, reason="Duplicate")
    assert as_staff.get(create_url(case)).status_code == 404


# --- schedule -----------------------------------------------------------------------------------------------


def test_create_form_defaults_to_a_healing_check_in_two_weeks_assigned_to_me(as_staff, staff_user, case):
    form = as_staff.get(create_url(case)).context["form"]
    assert form.initial["kind"] == FollowUpKind.HEALING_CHECK
    assert form.initial["due_on"] == TODAY + datetime.timedelta(days=14)
    assert form.initial["assignee"] == staff_user


def test_create_schedules_the_follow_up_about_a_session_of_the_case(as_staff, staff_user, manager_user, case):
    session = factories.LaserSessionFactory(case=case)
    data = {
        "kind": FollowUpKind.POST_LASER_CHECK,
        "due_on": "2026-12-09",
        "assignee": manager_user.pk,
        "session": session_key(session),
    }
    response = as_staff.post(create_url(case), data)
    assert response.status_code == 302
    assert response["Location"] == detail_url(case)
    followup = FollowUp.objects.get()
    assert (followup.case, followup.kind, followup.due_on) == (
        case,
        FollowUpKind.POST_LASER_CHECK,
        datetime.date(2026, 12, 9),
    )
    assert (followup.assignee, followup.laser_session, followup.correction_session) == (manager_user, session, None)
    assert followup.status == FollowUpStatus.SCHEDULED
    assert messages_of(response) == ["Post-laser check scheduled for 9 Dec 2026."]


def test_create_links_a_correction_session(as_staff, case):
    correction = factories.CorrectionSessionFactory(case=case)
    data = {"kind": FollowUpKind.HEALING_CHECK, "due_on": "2026-12-09", "session": session_key(correction)}
    assert as_staff.post(create_url(case), data).status_code == 302
    followup = FollowUp.objects.get()
    assert (followup.correction_session, followup.laser_session, followup.assignee) == (correction, None, None)


def test_only_sessions_of_this_case_are_offered_and_accepted(as_staff, case):
    own = factories.LaserSessionFactory(case=case)
    other = factories.LaserSessionFactory()
    offered = dict(as_staff.get(create_url(case)).context["form"].fields["session"].choices)
    assert [key for key, _ in offered["Laser sessions"]] == [session_key(own)]
    data = {"kind": FollowUpKind.HEALING_CHECK, "due_on": "2026-12-09", "session": session_key(other)}
    response = as_staff.post(create_url(case), data)
    assert response.status_code == 200
    assert "session" in response.context["form"].errors
    assert not FollowUp.objects.exists()


def test_a_session_can_be_preselected_from_the_link(as_staff, case):
    session = factories.LaserSessionFactory(case=case)
    response = as_staff.get(create_url(case) + f"?session={session_key(session)}")
    assert response.context["form"].initial["session"] == session_key(session)


@pytest.mark.parametrize(
    ("field", "value"),
    [("due_on", "2026-07-27"), ("due_on", ""), ("kind", "haircut"), ("assignee", "999999")],
)
def test_create_field_errors_save_nothing(as_staff, case, field, value):
    data = {"kind": FollowUpKind.HEALING_CHECK, "due_on": "2026-12-09", field: value}
    response = as_staff.post(create_url(case), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not FollowUp.objects.exists()


def test_a_client_cannot_be_the_assignee(as_staff, case, client_a):
    data = {"kind": FollowUpKind.HEALING_CHECK, "due_on": "2026-12-09", "assignee": client_a.user.pk}
    response = as_staff.post(create_url(case), data)
    assert "assignee" in response.context["form"].errors
    assert not FollowUp.objects.exists()


def test_the_service_refuses_a_session_of_another_case_and_a_non_staff_assignee(case, staff_user, client_a):
    with pytest.raises(ValidationError, match="session of its own case"):
        followup_create(
            case=case, kind="healing_check", due_on=TODAY, laser_session=factories.LaserSessionFactory(), by=staff_user
        )
    with pytest.raises(ValidationError, match="member of the clinic staff"):
        followup_create(case=case, kind="healing_check", due_on=TODAY, assignee=client_a.user, by=staff_user)
    with pytest.raises(ValidationError, match="one session at most"):
        followup_create(
            case=case,
            kind="healing_check",
            due_on=TODAY,
            laser_session=factories.LaserSessionFactory(case=case),
            correction_session=factories.CorrectionSessionFactory(case=case),
            by=staff_user,
        )
    assert not FollowUp.objects.exists()


# --- complete -----------------------------------------------------------------------------------------------


def test_complete_form_defaults_to_today(as_staff, followup):
    response = as_staff.get(complete_url(followup))
    assert response.context["form"].initial["completed_on"] == TODAY
    assert "Mark as missed" in response.content.decode()


def test_complete_records_what_was_found(as_staff, staff_user, case, followup):
    crusting = AdverseEventKind.objects.get(code=AdverseEventChoice.CRUSTING)
    response = as_staff.post(complete_url(followup), complete_data(side_effects=[crusting.pk]))
    assert response.status_code == 302
    assert response["Location"] == detail_url(case)
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.COMPLETED
    assert (followup.completed_on, followup.completed_by) == (TODAY, staff_user)
    assert (followup.healing, followup.satisfaction, followup.notes) == (Healing.AS_EXPECTED, 4, "Healing well.")
    assert list(followup.side_effects.all()) == [crusting]
    assert messages_of(response) == ["Healing check recorded as completed."]


def test_satisfaction_is_optional(as_staff, followup):
    assert as_staff.post(complete_url(followup), complete_data(satisfaction="")).status_code == 302
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.COMPLETED and followup.satisfaction is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("completed_on", "2026-11-26"),
        ("completed_on", ""),
        ("healing", ""),
        ("healing", "fine"),
        ("satisfaction", "6"),
        ("satisfaction", "0"),
        ("side_effects", ["999999"]),
    ],
)
def test_complete_field_errors_change_nothing(as_staff, followup, field, value):
    response = as_staff.post(complete_url(followup), complete_data(**{field: value}))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.SCHEDULED and followup.completed_on is None


@pytest.mark.parametrize("status", [FollowUpStatus.COMPLETED, FollowUpStatus.MISSED, FollowUpStatus.CANCELLED])
def test_only_a_scheduled_follow_up_can_be_completed(as_staff, case, status):
    followup = factories.FollowUpFactory(
        case=case, status=status, completed_on=TODAY if status == FollowUpStatus.COMPLETED else None
    )
    for response in (as_staff.get(complete_url(followup)), as_staff.post(complete_url(followup), complete_data())):
        assert response.status_code == 302 and response["Location"] == detail_url(case)
        # (the first message is still pending when the second request comes: neither was shown)
        assert messages_of(response)[-1] == (
            f"Only a scheduled follow-up can be completed; this one is {status.label.lower()}."
        )
    followup.refresh_from_db()
    assert followup.status == status and followup.notes == ""


def test_the_complete_service_refuses_twice_and_future_dates(followup, staff_user):
    with pytest.raises(ValidationError, match="cannot be completed in the future"):
        followup_complete(
            followup=followup, completed_on=TODAY + datetime.timedelta(days=1), healing="delayed", by=staff_user
        )
    followup_complete(followup=followup, completed_on=TODAY, healing="delayed", by=staff_user)
    followup.refresh_from_db()
    with pytest.raises(ValidationError, match="this one is completed"):
        followup_complete(followup=followup, completed_on=TODAY, healing="as_expected", by=staff_user)
    followup.refresh_from_db()
    assert followup.healing == "delayed"


# --- missed ------------------------------------------------------------------------------------------------------


def test_missed_marks_a_scheduled_follow_up(as_staff, case, followup):
    response = as_staff.post(missed_url(followup))
    assert response.status_code == 302 and response["Location"] == detail_url(case)
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.MISSED
    assert messages_of(response) == ["Healing check due 25 Nov 2026 marked as missed."]


@pytest.mark.parametrize("status", [FollowUpStatus.COMPLETED, FollowUpStatus.MISSED, FollowUpStatus.CANCELLED])
def test_missed_refuses_anything_not_scheduled(as_staff, case, status):
    followup = factories.FollowUpFactory(
        case=case, status=status, completed_on=TODAY if status == FollowUpStatus.COMPLETED else None
    )
    response = as_staff.post(missed_url(followup))
    assert response.status_code == 302 and response["Location"] == detail_url(case)
    assert messages_of(response) == [
        f"Only a scheduled follow-up can be marked missed; this one is {status.label.lower()}."
    ]
    followup.refresh_from_db()
    assert followup.status == status


def test_the_missed_service_refuses_twice(followup, staff_user):
    followup_mark_missed(followup=followup, by=staff_user)
    followup.refresh_from_db()
    with pytest.raises(ValidationError, match="this one is missed"):
        followup_mark_missed(followup=followup, by=staff_user)


# --- query caps -----------------------------------------------------------------------------------------------


def test_pages_make_the_same_queries_with_5_or_50_sessions(as_staff):
    """The new follow-up page and the completion page, each read at 5 and at 50 sessions
    (both pages on the same two worlds)."""
    ClinicSettings.load()
    sql = {"create": [], "complete": []}
    for count in (5, 50):
        case = factories.CaseFactory()
        technician = factories.TechnicianFactory()
        sessions = [factories.LaserSessionFactory(case=case, technician=technician) for _ in range(count)]
        for _ in range(count):
            factories.CorrectionSessionFactory(case=case, artist=technician)
            factories.StaffUserFactory()  # more people to assign to
        followup = factories.FollowUpFactory(case=case, laser_session=sessions[0])
        sql["create"].append(sql_of_get(as_staff, create_url(case)))
        sql["complete"].append(sql_of_get(as_staff, complete_url(followup)))
    for page_name, (small, large) in sql.items():
        assert len(small) == len(large), page_name
        assert_queries_hold(small, large, at_most=QUERY_CAP)


def test_missed_returns_to_a_local_next(as_staff, case, followup):
    response = as_staff.post(missed_url(followup), {"next": "/review/?assignee=-"})
    assert response.status_code == 302 and response["Location"] == "/review/?assignee=-"
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.MISSED


@pytest.mark.parametrize("bad", ["https://evil.example/", "//evil.example/x", "http:\\\\evil.example"])
def test_missed_ignores_a_next_to_another_site(as_staff, case, followup, bad):
    response = as_staff.post(missed_url(followup), {"next": bad})
    assert response["Location"] == detail_url(case)


def test_a_refused_missed_also_returns_to_a_local_next(as_staff, case):
    done = factories.CompletedFollowUpFactory(case=case)
    response = as_staff.post(missed_url(done), {"next": "/review/"})
    assert response["Location"] == "/review/"
    assert messages_of(response) == ["Only a scheduled follow-up can be marked missed; this one is completed."]
