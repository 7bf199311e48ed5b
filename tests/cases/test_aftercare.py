"""Aftercare countdowns (cases.aftercare, the periods of docs/domain.md#aftercare) and the portal aftercare page."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from cases import aftercare
from cases.choices import CorrectionKind, SessionStatus
from tests import factories

SESSION_DAY = datetime.date(2026, 3, 1)


def _status(found, code):
    return next(c for c in found if c.code == code)


def test_periods_are_domain_values():
    smp = {p.code: p.days for p in aftercare.SMP_PERIODS}
    assert smp == {"keep_dry": 4, "no_sweating": 5, "no_swimming": 28, "no_sun": 28}
    assert aftercare.LASER_HEALING_CHECK_DAYS == (7, 14)
    assert "SPF 30–50" in aftercare.SPF_ADVICE


@pytest.mark.parametrize(
    ("days_after", "dry", "sweat", "sun"),
    [
        (0, "4 more days", "5 more days", "28 more days"),
        (1, "3 more days", "4 more days", "27 more days"),
        (3, "1 more day", "2 more days", "25 more days"),
        (4, "done", "1 more day", "24 more days"),
        (5, "done", "done", "23 more days"),
        (16, "done", "done", "12 more days"),
        (27, "done", "done", "1 more day"),
        (28, "done", "done", "done"),
        (400, "done", "done", "done"),
    ],
)
def test_smp_countdown_arithmetic(days_after, dry, sweat, sun):
    today = SESSION_DAY + datetime.timedelta(days=days_after)
    found = aftercare.countdowns(kind=aftercare.CORRECTION, session_day=SESSION_DAY, today=today)
    assert _status(found, "keep_dry").status == dry
    assert _status(found, "no_sweating").status == sweat
    assert _status(found, "no_sun").status == sun
    assert _status(found, "no_swimming").status == sun


def test_countdown_last_day_and_text():
    found = aftercare.countdowns(kind=aftercare.CORRECTION, session_day=SESSION_DAY, today=SESSION_DAY)
    dry = _status(found, "keep_dry")
    assert dry.last_day == datetime.date(2026, 3, 4)
    assert dry.ends_on == datetime.date(2026, 3, 5)
    assert str(_status(found, "no_sun")) == "No sun on your scalp: 28 more days"
    assert aftercare.spf_from(session_day=SESSION_DAY) == datetime.date(2026, 3, 29)


def test_laser_has_only_domain_periods():
    found = aftercare.countdowns(kind=aftercare.LASER, session_day=SESSION_DAY, today=SESSION_DAY)
    assert [c.code for c in found] == ["crusts"]
    assert found[0].status == "14 more days"


@pytest.mark.parametrize(
    ("days_after", "expected"),
    [
        (0, "due in 7 days, between 8 Mar and 15 Mar"),
        (6, "due in 1 day, between 8 Mar and 15 Mar"),
        (7, "due now, by 15 Mar"),
        (14, "due now, by 15 Mar"),
        (15, "the 1–2 week window has passed"),
    ],
)
def test_healing_check_window(days_after, expected):
    today = SESSION_DAY + datetime.timedelta(days=days_after)
    assert aftercare.healing_check(session_day=SESSION_DAY, today=today).status == expected


def _noon(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


@pytest.fixture
def smp_session(client_a):
    case = factories.CaseFactory(client=client_a)
    factories.ApprovedPlanFactory(case=case, aftercare="Wash gently with a mild shampoo after day four.")
    return factories.CorrectionSessionFactory(
        case=case,
        scheduled_at=_noon(SESSION_DAY),
        kind=CorrectionKind.SMP_CORRECTION,
        aftercare_notes="Pat dry, do not rub.",
        notes_for_client="You did very well today.",
    )


def test_page_counts_down_with_the_clock(as_client_a, smp_session):
    url = reverse("cases:portal_aftercare")
    with time_machine.travel(_noon(SESSION_DAY + datetime.timedelta(days=16)), tick=False):
        html = as_client_a.get(url).content.decode()
    assert "SMP correction" in html
    assert "Pat dry, do not rub." in html
    assert "You did very well today." in html
    assert "Wash gently with a mild shampoo after day four." in html
    assert "12 more days" in html  # no sun: 28 − 16
    assert "Keep your scalp dry" in html and "done" in html
    assert "SPF 30–50" in html

    with time_machine.travel(_noon(SESSION_DAY + datetime.timedelta(days=30)), tick=False):
        html = as_client_a.get(url).content.decode()
    assert "more day" not in html
    assert "The no-sun period is over" in html


def _sections(html: str) -> list[str]:
    """The page's session entries, latest first."""
    return html.split('class="mb-4 aftercare-session"')[1:]


def test_page_lists_recent_completed_sessions_latest_first(as_client_a, smp_session, client_a):
    later_laser = factories.LaserSessionFactory(
        case=smp_session.case, scheduled_at=_noon(SESSION_DAY + datetime.timedelta(days=10))
    )
    # Neither a booked future session nor a cancelled one is a session to look after.
    factories.LaserSessionFactory(
        case=smp_session.case,
        scheduled_at=_noon(SESSION_DAY + datetime.timedelta(days=11)),
        status=SessionStatus.CANCELLED,
    )
    factories.CorrectionSessionFactory(
        case=smp_session.case,
        scheduled_at=_noon(SESSION_DAY + datetime.timedelta(days=40)),
        status=SessionStatus.SCHEDULED,
    )
    with time_machine.travel(_noon(later_laser.day + datetime.timedelta(days=3)), tick=False):
        html = as_client_a.get(reverse("cases:portal_aftercare")).content.decode()
    laser, smp = _sections(html)
    assert "Laser session" in laser
    assert "3 days ago" in laser
    assert "due in 4 days" in laser  # healing check opens 7 days after the laser session
    assert "11 more days" in laser  # crusts: 14 − 3
    assert "Keep your scalp dry" not in laser  # no SMP periods after laser
    # The SMP session 13 days ago still has its no-sun period running.
    assert "SMP correction" in smp and "13 days ago" in smp
    assert "15 more days" in smp  # no sun: 28 − 13
    assert "Pat dry, do not rub." in smp


def test_an_old_session_shows_only_when_it_is_the_latest(as_client_a, smp_session):
    factories.LaserSessionFactory(case=smp_session.case, scheduled_at=_noon(SESSION_DAY + datetime.timedelta(days=100)))
    with time_machine.travel(_noon(SESSION_DAY + datetime.timedelta(days=200)), tick=False):
        html = as_client_a.get(reverse("cases:portal_aftercare")).content.decode()
    (only,) = _sections(html)
    assert "Laser session" in only and "100 days ago" in only
    assert "SMP correction" not in html


def test_page_without_sessions(as_client_a):
    html = as_client_a.get(reverse("cases:portal_aftercare")).content.decode()
    assert "No treatment session is recorded yet" in html


def test_other_clients_session_is_not_shown(as_client_b, smp_session):
    with time_machine.travel(_noon(SESSION_DAY + datetime.timedelta(days=2)), tick=False):
        html = as_client_b.get(reverse("cases:portal_aftercare")).content.decode()
    assert "Pat dry" not in html
    assert "No treatment session is recorded yet" in html
