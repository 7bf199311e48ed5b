"""The portal's aftercare page says what the clinic recorded at the checks after each
recent session: done, the next check, a missed one, and a plain-language note when a
check found more than the expected course of healing. Internal notes never show."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from cases import aftercare
from cases.choices import AdverseEventChoice, CorrectionKind, FollowUpKind, FollowUpStatus, Healing, SessionStatus
from cases.models import AdverseEventKind, FollowUp
from cases.services.followups import followup_complete
from smpclinic.models import ClinicSettings
from tests import factories
from tests.helpers import assert_queries_hold, sql_of_get

SESSION_DAY = datetime.date(2026, 3, 2)
MARK = "ZZ-FOLLOW-UP-NOTE-9K"
URL = reverse("cases:portal_aftercare")


def _noon(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def _day(n: int) -> datetime.date:
    return SESSION_DAY + datetime.timedelta(days=n)


@pytest.fixture
def clinic(db):
    settings = ClinicSettings.load()
    settings.phone = "020 7946 0123"
    settings.save()
    return settings


@pytest.fixture
def case(client_a):
    return factories.CaseFactory(client=client_a, opened_on=SESSION_DAY - datetime.timedelta(days=30))


@pytest.fixture
def laser(case):
    return factories.LaserSessionFactory(case=case, scheduled_at=_noon(SESSION_DAY))


def _check(case, *, session=None, due=10, status=FollowUpStatus.SCHEDULED, kind=FollowUpKind.POST_LASER_CHECK):
    return factories.FollowUpFactory(
        case=case, laser_session=session, kind=kind, due_on=_day(due), status=status, notes=MARK
    )


def _complete(follow_up, staff_user, *, on: int, healing=Healing.AS_EXPECTED, effects=()):
    with time_machine.travel(_noon(_day(on)), tick=False):
        return followup_complete(
            followup=follow_up,
            completed_on=_day(on),
            healing=healing,
            side_effects=AdverseEventKind.objects.filter(code__in=effects),
            notes=MARK,
            by=staff_user,
        )


def _page(http, on: int) -> str:
    with time_machine.travel(_noon(_day(on)), tick=False):
        response = http.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert MARK not in html  # follow-up notes are the clinic's own
    return " ".join(html.split())


# ---------------------------------------------------------------- the rule, in the client's words


@pytest.mark.parametrize(
    ("healing", "effects", "expected"),
    [
        (Healing.AS_EXPECTED, [], []),
        (Healing.AS_EXPECTED, list(AdverseEventChoice.expected()), []),  # transient reactions only
        (Healing.DELAYED, [], ["slower healing"]),
        (Healing.COMPLICATION, [], ["a problem with healing"]),
        (Healing.DELAYED, ["blistering", "erythema"], ["slower healing", "blistering"]),
        (Healing.AS_EXPECTED, ["infection", "crusting"], ["signs of infection"]),
        ("", ["hyperpigmentation"], ["darker patches of skin"]),
    ],
)
def test_findings_in_the_clients_words(case, healing, effects, expected):
    check = factories.FollowUpFactory(
        case=case, status=FollowUpStatus.COMPLETED, completed_on=SESSION_DAY, healing=healing
    )
    check.side_effects.set(AdverseEventKind.objects.filter(code__in=effects))
    annotated = FollowUp.objects.with_adverse_findings().prefetch_related("side_effects").get(pk=check.pk)
    assert aftercare.findings_in_words(annotated) == expected


def test_every_side_effect_has_words_for_the_client():
    assert set(aftercare.SIDE_EFFECT_WORDS) == set(AdverseEventChoice.values)
    assert aftercare.in_words(["a"]) == "a"
    assert aftercare.in_words(["a", "b"]) == "a and b"
    assert aftercare.in_words(["a", "b", "c"]) == "a, b and c"


# ---------------------------------------------------------------- the page


def test_a_completed_check_with_delayed_healing_replaces_due_now(as_client_a, clinic, case, laser, staff_user):
    """The reported case: a post-laser check completed with delayed healing and blistering
    still said "Healing check due now" and nothing about the finding."""
    check = _check(case, session=laser, due=10)
    assert "Next: Check-up after laser" in _page(as_client_a, 10)  # booked, not yet done
    _complete(check, staff_user, on=10, healing=Healing.DELAYED, effects=["blistering", "crusting"])

    html = _page(as_client_a, 11)
    assert "due now" not in html
    assert 'Check-up after laser</span><span><span class="badge text-bg-success">done</span> on' in html
    assert "12 March" in html
    assert (
        "The clinic has noted slower healing and blistering: follow the advice they gave you, "
        'and call the clinic on <a href="tel:02079460123">020 7946 0123</a> if you notice spreading redness, '
        "pus, a fever, or pain that is getting worse." in html
    )


def test_expected_reactions_give_no_note(as_client_a, clinic, case, laser, staff_user):
    check = _check(case, session=laser, due=10)
    _complete(check, staff_user, on=10, healing=Healing.AS_EXPECTED, effects=["erythema", "oedema", "crusting"])
    html = _page(as_client_a, 11)
    assert "The clinic has noted" not in html
    assert "done</span> on" in html and "due now" not in html


def test_only_the_latest_completed_check_counts(as_client_a, clinic, case, laser, staff_user):
    first = _check(case, session=laser, due=8)
    _complete(first, staff_user, on=8, healing=Healing.DELAYED, effects=["blistering"])
    assert "The clinic has noted slower healing and blistering" in _page(as_client_a, 9)
    second = _check(case, session=laser, due=20)
    assert "Next: Check-up after laser" in _page(as_client_a, 9)
    _complete(second, staff_user, on=20, healing=Healing.AS_EXPECTED)
    html = _page(as_client_a, 21)
    assert "The clinic has noted" not in html
    assert "22 March" in html  # the latest check


def test_a_complication_found_at_a_case_check_shows(as_client_a, clinic, case, laser, staff_user):
    """A check linked only to the case counts for the latest session before it."""
    check = _check(case, session=None, due=12)
    _complete(check, staff_user, on=12, healing=Healing.COMPLICATION, effects=["infection"])
    html = _page(as_client_a, 13)
    assert "The clinic has noted a problem with healing and signs of infection" in html
    assert "due now" not in html


def test_next_check_is_the_booked_follow_up_of_the_session_or_the_case(as_client_a, clinic, case, laser):
    _check(case, session=None, due=30, kind=FollowUpKind.MAINTENANCE)
    html = _page(as_client_a, 3)
    assert "Next: Maintenance visit" in html and "Wednesday 1 April" in html
    assert "due in" not in html  # the clinic booked a check: no generic window

    _check(case, session=laser, due=9)
    html = _page(as_client_a, 3)
    assert "Next: Check-up after laser" in html and "Wednesday 11 March" in html
    assert "Maintenance visit" not in html  # the session's own check comes first


def test_a_missed_check_asks_the_client_to_call(as_client_a, clinic, case, laser):
    _check(case, session=laser, due=10, status=FollowUpStatus.MISSED)
    html = _page(as_client_a, 12)
    assert "missed on 12 March: please call the clinic on" in html
    assert "due now" not in html


def test_cancelled_checks_count_for_nothing(as_client_a, clinic, case, laser):
    _check(case, session=laser, due=10, status=FollowUpStatus.CANCELLED)
    assert "due now, by 16 Mar" in _page(as_client_a, 10)


def test_a_correction_session_shows_its_healing_check(as_client_a, clinic, case, staff_user):
    session = factories.CorrectionSessionFactory(
        case=case, scheduled_at=_noon(SESSION_DAY), kind=CorrectionKind.SALINE_REMOVAL
    )
    check = factories.FollowUpFactory(case=case, correction_session=session, due_on=_day(14), notes=MARK)
    html = _page(as_client_a, 5)
    assert "Next: Healing check" in html and "Monday 16 March" in html
    _complete(check, staff_user, on=14, healing=Healing.DELAYED)
    html = _page(as_client_a, 15)
    assert "The clinic has noted slower healing" in html
    assert "Saline removal" in html


def test_other_clients_checks_never_show(as_client_b, clinic, case, laser, staff_user):
    check = _check(case, session=laser, due=10)
    _complete(check, staff_user, on=10, healing=Healing.DELAYED)
    html = _page(as_client_b, 11)
    assert "The clinic has noted" not in html and "No treatment session is recorded yet" in html


def test_without_a_clinic_phone_the_note_still_reads(as_client_a, case, laser, staff_user):
    check = _check(case, session=laser, due=10)
    _complete(check, staff_user, on=10, healing=Healing.DELAYED)
    html = _page(as_client_a, 11)
    assert "follow the advice they gave you, and call the clinic if you notice spreading redness" in html


# ---------------------------------------------------------------- fresh the moment it is recorded


@time_machine.travel(_noon(SESSION_DAY), tick=False)
def test_a_session_shows_the_moment_it_is_recorded_completed(as_client_a, clinic, case):
    session = factories.LaserSessionFactory(
        case=case, scheduled_at=timezone.now() - datetime.timedelta(minutes=30), status=SessionStatus.SCHEDULED
    )
    first = as_client_a.get(URL)
    assert "No treatment session is recorded yet" in first.content.decode()
    # Neither the browser nor a proxy keeps the page: the next visit asks again.
    assert "no-store" in first["Cache-Control"] and "max-age=0" in first["Cache-Control"]

    session.status = SessionStatus.COMPLETED
    session.save()
    html = as_client_a.get(URL).content.decode()
    assert "Laser session" in html and "Today" in html


# ---------------------------------------------------------------- query count


def _add(case, n, staff_user, start: int):
    for i in range(n):
        session = factories.LaserSessionFactory(case=case, scheduled_at=_noon(_day(start + i)))
        done = factories.FollowUpFactory(
            case=case,
            laser_session=session,
            due_on=_day(start + i),
            status=FollowUpStatus.COMPLETED,
            completed_on=_day(start + i),
            healing=Healing.DELAYED,
        )
        done.side_effects.set(AdverseEventKind.objects.filter(code__in=["blistering", "erythema"]))
        _check(case, session=session, due=start + i + 20)
        factories.CorrectionSessionFactory(case=case, scheduled_at=_noon(_day(start + i)))
        factories.FollowUpFactory(case=case, due_on=_day(start + i + 30))
    factories.ApprovedPlanFactory(case=case)


def test_query_count_is_flat(as_client_a, clinic, case, staff_user):
    def sql() -> list[str]:
        with time_machine.travel(_noon(_day(60)), tick=False):
            return sql_of_get(as_client_a, URL)

    _add(case, 2, staff_user, start=50)
    small = sql()
    _add(factories.CaseFactory(client=case.client, opened_on=case.opened_on), 12, staff_user, start=40)
    large = sql()
    # session, user with their groups' permissions (role check), own client record, laser
    # sessions, correction sessions, follow-ups, their side effects, the cases' plans.
    assert_queries_hold(small, large)
    assert len(large) == 9  # +1: the access log's one insert
