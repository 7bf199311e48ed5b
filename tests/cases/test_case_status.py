"""Case status changes: the journey's rules, the service and the status page."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cases.choices import CaseStatus, Outcome, PlanStatus
from cases.services.cases import TRANSITIONS, case_change_status
from tests import factories
from tests.helpers import messages_of

S = CaseStatus
DAY = datetime.timedelta(days=1)

LEGAL = [(current, to) for current, targets in TRANSITIONS.items() for to in targets]
ILLEGAL = [(current, to) for current in S.values for to in S.values if to not in TRANSITIONS[current]]


def _case(status: str, **fields):
    """A valid case in `status`: final states carry what the database requires."""
    if status == S.CLOSED:
        fields = {"closed_on": timezone.localdate(), "outcome": Outcome.IMPROVED, "satisfaction": 4, **fields}
    if status == S.WITHDRAWN:
        fields = {"withdrawn_reason": "Moved abroad.", **fields}
    return factories.CaseFactory(status=status, **fields)


def _url(case, to: str | None = None) -> str:
    url = reverse("cases:case_status", kwargs={"case_id": case.public_id})
    return f"{url}?to={to}" if to else url


def _detail(case) -> str:
    return reverse("cases:case_detail", kwargs={"case_id": case.public_id})


def _extra_for(to: str) -> dict:
    if to == S.CLOSED:
        return {"outcome": Outcome.IMPROVED, "satisfaction": "4", "closed_on": timezone.localdate().isoformat()}
    if to == S.WITHDRAWN:
        return {"withdrawn_reason": "The client decided against treatment."}
    return {}


# --- The rules, through the page -----------------------------------------------------


def test_there_are_twelve_legal_moves():
    """consultation→assessment→planning→in_treatment→follow_up→closed (5), a withdrawal
    from each open status (5), follow_up→in_treatment and planning→assessment (2)."""
    assert len(LEGAL) == 12
    assert TRANSITIONS[S.CLOSED] == () and TRANSITIONS[S.WITHDRAWN] == ()


@pytest.mark.parametrize(("current", "to"), LEGAL)
def test_each_legal_transition_is_applied(as_staff, staff_user, current, to):
    case = _case(current)
    if to == S.IN_TREATMENT:
        factories.AcceptedPlanFactory(case=case)

    response = as_staff.post(_url(case), {"to": to, **_extra_for(to)})

    assert response.status_code == 302
    assert response["Location"] == _detail(case)
    case.refresh_from_db()
    assert case.status == to
    assert messages_of(response) == [f"Case {case.reference} moved to {S(to).label}."]
    assert case.history.first().history_user == staff_user


@pytest.mark.parametrize(("current", "to"), ILLEGAL)
def test_each_illegal_transition_is_refused_and_nothing_changes(as_staff, current, to):
    case = _case(current)
    factories.AcceptedPlanFactory(case=case)  # so the plan rule is never the reason
    before = case.history.count()

    response = as_staff.post(_url(case), {"to": to, **_extra_for(to)})

    assert response.status_code == 302
    assert response["Location"] == _detail(case)
    case.refresh_from_db()
    assert case.status == current
    assert case.history.count() == before
    (message,) = messages_of(response)
    assert "cannot" in message or "not to" in message or "already" in message


@pytest.mark.parametrize(("current", "to"), [(S.CONSULTATION, S.CLOSED), (S.CLOSED, S.IN_TREATMENT)])
def test_asking_for_an_illegal_transition_redirects_with_a_message(as_staff, current, to):
    case = _case(current)

    response = as_staff.get(_url(case, to))

    assert response.status_code == 302
    assert response["Location"] == _detail(case)
    assert messages_of(response)


def test_an_unknown_status_is_refused(as_staff):
    case = _case(S.PLANNING)

    response = as_staff.post(_url(case), {"to": "paused"})

    assert messages_of(response) == ["“paused” is not a case status."]
    case.refresh_from_db()
    assert case.status == S.PLANNING


def test_posting_without_a_target_is_refused(as_staff):
    case = _case(S.PLANNING)

    response = as_staff.post(_url(case), {})

    assert response.status_code == 302
    assert messages_of(response) == ["Choose the status the case should move to."]


def test_the_page_without_a_target_lists_the_legal_moves(as_staff):
    case = _case(S.PLANNING)

    response = as_staff.get(_url(case))

    assert response.status_code == 200
    assert [to for to, _label in response.context["transitions"]] == [S.IN_TREATMENT, S.ASSESSMENT, S.WITHDRAWN]
    html = response.content.decode()
    assert "Start treatment" in html and "Back to assessment" in html


def test_the_page_for_a_final_case_says_so(as_staff):
    response = as_staff.get(_url(_case(S.CLOSED)))

    assert response.status_code == 200
    assert "final" in response.content.decode()


# --- Starting treatment needs an approved and accepted plan ---------------------------


@pytest.mark.parametrize(
    "plan",
    ["none", "draft", "approved_only", "accepted_not_approved", "superseded", "cancelled", "archived"],
)
def test_treatment_cannot_start_without_an_approved_and_accepted_plan(as_staff, plan):
    case = _case(S.PLANNING)
    now = timezone.now()
    if plan == "draft":
        factories.TreatmentPlanFactory(case=case)
    elif plan == "approved_only":
        factories.ApprovedPlanFactory(case=case)
    elif plan == "accepted_not_approved":
        factories.TreatmentPlanFactory(case=case, status=PlanStatus.PROPOSED, accepted_at=now, accepted_name="A")
    elif plan == "superseded":
        factories.AcceptedPlanFactory(case=case, status=PlanStatus.SUPERSEDED)
    elif plan == "cancelled":
        factories.AcceptedPlanFactory(case=case, status=PlanStatus.CANCELLED)
    elif plan == "archived":
        factories.AcceptedPlanFactory(case=case, archived_at=now)

    response = as_staff.post(_url(case), {"to": S.IN_TREATMENT})

    assert response.status_code == 302
    assert messages_of(response) == [
        "Treatment can start only on a plan that a manager has approved and the client has accepted."
    ]
    case.refresh_from_db()
    assert case.status == S.PLANNING


def test_treatment_starts_on_a_plan_accepted_in_clinic(as_staff):
    case = _case(S.PLANNING)
    factories.AcceptedPlanFactory(case=case, accepted_in_clinic=True, accepted_by=factories.StaffUserFactory())

    as_staff.post(_url(case), {"to": S.IN_TREATMENT})

    case.refresh_from_db()
    assert case.status == S.IN_TREATMENT


def test_going_back_to_treatment_from_follow_up_also_needs_the_plan(as_staff):
    case = _case(S.FOLLOW_UP)

    response = as_staff.post(_url(case), {"to": S.IN_TREATMENT})

    assert "Treatment can start only" in messages_of(response)[0]
    case.refresh_from_db()
    assert case.status == S.FOLLOW_UP


# --- Closing ----------------------------------------------------------------------------


def test_the_closing_form_asks_for_outcome_and_satisfaction(as_staff):
    case = _case(S.FOLLOW_UP)

    response = as_staff.get(_url(case, S.CLOSED))

    assert response.status_code == 200
    assert set(response.context["form"].fields) == {"outcome", "satisfaction", "outcome_notes", "closed_on"}
    html = response.content.decode()
    assert 'name="to" value="closed"' in html
    assert "5 – very satisfied" in html


def test_closing_records_outcome_satisfaction_and_date(as_manager):
    case = _case(S.FOLLOW_UP)
    closed_on = timezone.localdate() - DAY

    as_manager.post(
        _url(case),
        {
            "to": S.CLOSED,
            "outcome": Outcome.RESOLVED,
            "satisfaction": "5",
            "outcome_notes": "Natural hairline, client delighted.",
            "closed_on": closed_on.isoformat(),
        },
    )

    case.refresh_from_db()
    assert case.status == S.CLOSED
    assert case.outcome == Outcome.RESOLVED
    assert case.satisfaction == 5
    assert case.outcome_notes == "Natural hairline, client delighted."
    assert case.closed_on == closed_on


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"outcome": ""}, "outcome"),
        ({"outcome": "great"}, "outcome"),
        ({"satisfaction": ""}, "satisfaction"),
        ({"satisfaction": "6"}, "satisfaction"),
        ({"satisfaction": "0"}, "satisfaction"),
        ({"closed_on": ""}, "closed_on"),
        ({"closed_on": "2999-01-01"}, "closed_on"),
        ({"closed_on": "2000-01-01"}, "closed_on"),  # before the case opened
    ],
)
def test_closing_refuses_missing_or_bad_details(as_staff, changes, field):
    case = _case(S.FOLLOW_UP)
    data = {"to": S.CLOSED, **_extra_for(S.CLOSED), **changes}

    response = as_staff.post(_url(case), data)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    case.refresh_from_db()
    assert case.status == S.FOLLOW_UP
    assert case.closed_on is None and case.outcome == ""


# --- Withdrawing ------------------------------------------------------------------------


def test_the_withdraw_form_asks_for_a_reason(as_staff):
    response = as_staff.get(_url(_case(S.ASSESSMENT), S.WITHDRAWN))

    assert set(response.context["form"].fields) == {"withdrawn_reason"}


@pytest.mark.parametrize("reason", ["", "   "])
def test_withdrawing_without_a_reason_is_refused(as_staff, reason):
    case = _case(S.ASSESSMENT)

    response = as_staff.post(_url(case), {"to": S.WITHDRAWN, "withdrawn_reason": reason})

    assert response.status_code == 200
    assert "withdrawn_reason" in response.context["form"].errors
    case.refresh_from_db()
    assert case.status == S.ASSESSMENT


@pytest.mark.parametrize("current", S.open())
def test_any_open_case_can_be_withdrawn_with_a_reason(as_staff, current):
    case = _case(current)

    as_staff.post(_url(case), {"to": S.WITHDRAWN, "withdrawn_reason": "  Cost.  "})

    case.refresh_from_db()
    assert case.status == S.WITHDRAWN
    assert case.withdrawn_reason == "Cost."


def test_a_plain_move_shows_a_confirmation_page(as_staff):
    case = _case(S.CONSULTATION)

    response = as_staff.get(_url(case, S.ASSESSMENT))

    assert response.status_code == 200
    assert list(response.context["form"].fields) == []
    assert "Change to assessment" in response.content.decode()
    case.refresh_from_db()
    assert case.status == S.CONSULTATION


# --- The service on its own -----------------------------------------------------------------


def test_service_refuses_an_illegal_move_and_changes_nothing(staff_user):
    case = _case(S.CONSULTATION)

    with pytest.raises(ValidationError, match="can move to assessment or withdrawn, not to closed"):
        case_change_status(case=case, to=S.CLOSED, by=staff_user, outcome=Outcome.IMPROVED, satisfaction=4)

    case.refresh_from_db()
    assert case.status == S.CONSULTATION and case.closed_on is None


def test_service_refuses_closing_without_outcome_or_satisfaction(staff_user):
    case = _case(S.FOLLOW_UP)

    with pytest.raises(ValidationError) as refused:
        case_change_status(case=case, to=S.CLOSED, by=staff_user)

    assert set(refused.value.message_dict) == {"outcome", "satisfaction"}
    case.refresh_from_db()
    assert case.status == S.FOLLOW_UP


def test_service_closes_today_by_default_and_names_who(staff_user):
    case = _case(S.FOLLOW_UP)

    closed = case_change_status(case=case, to=S.CLOSED, by=staff_user, outcome=Outcome.PARTIAL, satisfaction=3)

    assert closed.closed_on == timezone.localdate()
    assert closed.history.first().history_user == staff_user


def test_service_refuses_a_withdrawal_without_reason(staff_user):
    case = _case(S.PLANNING)

    with pytest.raises(ValidationError) as refused:
        case_change_status(case=case, to=S.WITHDRAWN, by=staff_user, withdrawn_reason=" ")

    assert "withdrawn_reason" in refused.value.message_dict


def test_service_refuses_the_same_status(staff_user):
    with pytest.raises(ValidationError, match="already"):
        case_change_status(case=_case(S.PLANNING), to=S.PLANNING, by=staff_user)


# --- Permissions -------------------------------------------------------------------------
# Who may open the page is tests/test_url_permissions.py's walk; here, what it does not check:
# refused posts change nothing, staff and managers do change it, archived clients, the service.


def test_an_anonymous_post_is_sent_to_login_and_changes_nothing(anonymous):
    case = _case(S.CONSULTATION)

    response = anonymous.post(_url(case), {"to": S.ASSESSMENT})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    case.refresh_from_db()
    assert case.status == S.CONSULTATION


def test_a_client_posting_is_refused_and_changes_nothing(as_client_a, client_a):
    case = _case(S.CONSULTATION, client=client_a)

    assert as_client_a.post(_url(case), {"to": S.ASSESSMENT}).status_code == 403
    case.refresh_from_db()
    assert case.status == S.CONSULTATION


@pytest.mark.parametrize("persona", ["as_staff", "as_manager"])
def test_staff_and_managers_may_change_status(request, persona):
    http = request.getfixturevalue(persona)
    case = _case(S.CONSULTATION)

    http.post(_url(case), {"to": S.ASSESSMENT})
    case.refresh_from_db()
    assert case.status == S.ASSESSMENT


def test_a_case_of_an_archived_client_is_not_found(as_staff):
    case = _case(S.CONSULTATION, client=factories.ClientFactory(archived_at=timezone.now()))

    assert as_staff.get(_url(case, S.ASSESSMENT)).status_code == 404
    assert as_staff.post(_url(case), {"to": S.ASSESSMENT}).status_code == 404
    case.refresh_from_db()
    assert case.status == S.CONSULTATION


def test_the_service_itself_refuses_someone_who_may_not_work_on_records(client_a):
    """The view's check is not the only one: a caller that skipped it is refused too."""
    from django.core.exceptions import PermissionDenied

    case = _case(CaseStatus.ASSESSMENT)
    with pytest.raises(PermissionDenied):
        case_change_status(case=case, to=CaseStatus.WITHDRAWN, by=client_a.user, withdrawn_reason="Moved away")
    case.refresh_from_db()
    assert case.status == CaseStatus.ASSESSMENT
