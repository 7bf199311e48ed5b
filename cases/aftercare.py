"""Aftercare periods after a session, and the countdowns the client portal shows.

The one place for these numbers; each comes from DOMAIN.md, "Aftercare and follow-ups"
and "Lasers for pigment removal":

- after SMP work: keep the scalp dry about 4 days; no heavy sweating about 5 days;
  no swimming, sauna or steam, and no sun, for about 28 days; then SPF 30–50;
- after laser: a healing check at 1–2 weeks; crusts heal in about 2 weeks.

DOMAIN.md gives the SMP periods for needle work; every non-laser correction session
(SMP correction, saline removal, colour correction, scar camouflage, hairline redesign,
density adjustment) puts pigment or saline into the skin with needles, so they all use
them. For laser sessions DOMAIN.md gives only the healing-check window and the crusting
time, so nothing else is counted down after a laser session (the clinic's own notes
and the plan's aftercare text say the rest).

A period of N days starts on the session day (day 0) and is over on day N: a session on
1 March with "keep dry 4 days" means dry on 1–4 March, done from 5 March.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

LASER = "laser"
CORRECTION = "correction"


@dataclass(frozen=True)
class Period:
    code: str
    label: str  # what to do, in the client's words; "for N more days" follows
    days: int


# After SMP / needle work (DOMAIN.md).
SMP_PERIODS: tuple[Period, ...] = (
    Period("keep_dry", "Keep your scalp dry", 4),
    Period("no_sweating", "No heavy sweating (gym, running, hot work)", 5),
    Period("no_swimming", "No swimming, sauna or steam room", 28),
    Period("no_sun", "No sun on your scalp", 28),
)
SPF_ADVICE = "After that, protect your scalp with sunscreen of SPF 30–50 whenever you are in the sun."
SPF_AFTER_DAYS = 28  # the end of the no-sun period

# After laser (DOMAIN.md): healing check at 1–2 weeks; crusts heal in about 2 weeks.
LASER_PERIODS: tuple[Period, ...] = (Period("crusts", "Let any crusts or scabs heal on their own", 14),)
LASER_HEALING_CHECK_DAYS = (7, 14)

PERIODS = {LASER: LASER_PERIODS, CORRECTION: SMP_PERIODS}


def _short(day: datetime.date) -> str:
    return f"{day.day} {day:%b}"


def _days(n: int) -> str:
    return f"{n} more day{'s' if n != 1 else ''}"


@dataclass(frozen=True)
class Countdown:
    code: str
    label: str
    ends_on: datetime.date  # the first day the period is over
    days_left: int  # 0 when done

    @property
    def done(self) -> bool:
        return self.days_left == 0

    @property
    def last_day(self) -> datetime.date:
        return self.ends_on - datetime.timedelta(days=1)

    @property
    def status(self) -> str:
        """E.g. "12 more days" or "done"."""
        return "done" if self.done else _days(self.days_left)

    def __str__(self) -> str:
        return f"{self.label}: {self.status}"


def countdowns(*, kind: str, session_day: datetime.date, today: datetime.date) -> list[Countdown]:
    """The aftercare periods after a session of `kind` (LASER or CORRECTION) on `session_day`."""
    found = []
    for period in PERIODS[kind]:
        ends_on = session_day + datetime.timedelta(days=period.days)
        found.append(Countdown(period.code, period.label, ends_on, max(0, (ends_on - today).days)))
    return found


@dataclass(frozen=True)
class HealingCheck:
    """The window for the healing check after a laser session (DOMAIN.md: 1–2 weeks)."""

    opens_on: datetime.date
    closes_on: datetime.date  # last day of the window
    today: datetime.date

    @property
    def status(self) -> str:
        if self.today < self.opens_on:
            days = (self.opens_on - self.today).days
            plural = "s" if days != 1 else ""
            return f"due in {days} day{plural}, between {_short(self.opens_on)} and {_short(self.closes_on)}"
        if self.today <= self.closes_on:
            return f"due now, by {_short(self.closes_on)}"
        return "the 1–2 week window has passed"


def healing_check(*, session_day: datetime.date, today: datetime.date) -> HealingCheck:
    first, last = LASER_HEALING_CHECK_DAYS
    return HealingCheck(
        opens_on=session_day + datetime.timedelta(days=first),
        closes_on=session_day + datetime.timedelta(days=last),
        today=today,
    )


def spf_from(*, session_day: datetime.date) -> datetime.date:
    """The day the no-sun period ends and sunscreen (SPF 30–50) takes over."""
    return session_day + datetime.timedelta(days=SPF_AFTER_DAYS)
