"""Aftercare periods after a session, what the clinic found at the checks after it, and
the countdowns the client portal shows.

The one place for these numbers (docs/domain.md#aftercare):

- after SMP work: keep the scalp dry about 4 days; no heavy sweating about 5 days;
  no swimming, sauna or steam, and no sun, for about 28 days; then SPF 30–50;
- after laser: a healing check at 1–2 weeks; crusts heal in about 2 weeks.

The SMP periods are for needle work; every non-laser correction session (SMP
correction, saline removal, colour correction, scar camouflage, hairline redesign,
density adjustment) puts pigment or saline into the skin with needles, so they all use
them. For laser sessions only the healing-check window and the crusting time are
known, so nothing else is counted down after a laser session (the clinic's own notes
and the plan's aftercare text say the rest).

A period of N days starts on the session day (day 0) and is over on day N: a session on
1 March with "keep dry 4 days" means dry on 1–4 March, done from 5 March.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cases.choices import AdverseEventChoice, FollowUpStatus, Healing

LASER = "laser"
CORRECTION = "correction"


@dataclass(frozen=True)
class Period:
    code: str
    label: str  # what to do, in the client's words; "for N more days" follows
    days: int


# After SMP / needle work.
SMP_PERIODS: tuple[Period, ...] = (
    Period("keep_dry", "Keep your scalp dry", 4),
    Period("no_sweating", "No heavy sweating (gym, running, hot work)", 5),
    Period("no_swimming", "No swimming, sauna or steam room", 28),
    Period("no_sun", "No sun on your scalp", 28),
)
SPF_ADVICE = "After that, protect your scalp with sunscreen of SPF 30–50 whenever you are in the sun."
SPF_AFTER_DAYS = 28  # the end of the no-sun period

# After laser: healing check at 1–2 weeks; crusts heal in about 2 weeks.
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
    """The window for the healing check after a laser session: 1–2 weeks."""

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


# ---------------------------------------------------------------------------- the checks after a session

# A completed session keeps its own entry on the aftercare page for this long: the longest
# aftercare period (28 days without sun or swimming after SMP work) twice over, so a check
# done late still shows next to its session. The latest session always shows.
RECENT_DAYS = 56
# At most this many sessions of each kind are read for the page (a client rarely has more
# than two in the recent window; the cap keeps the page's work fixed).
RECENT_SESSIONS_MAX = 6

# Side effects in the client's words, for the note after a check.
SIDE_EFFECT_WORDS = {
    AdverseEventChoice.ERYTHEMA: "redness",
    AdverseEventChoice.OEDEMA: "swelling",
    AdverseEventChoice.BLISTERING: "blistering",
    AdverseEventChoice.CRUSTING: "crusting",
    AdverseEventChoice.BRUISING: "bruising",
    AdverseEventChoice.HYPOPIGMENTATION: "lighter patches of skin",
    AdverseEventChoice.HYPERPIGMENTATION: "darker patches of skin",
    AdverseEventChoice.INFECTION: "signs of infection",
    AdverseEventChoice.SCARRING: "scarring",
    AdverseEventChoice.PARADOXICAL_DARKENING: "pigment turning darker",
    AdverseEventChoice.FOLLICLE_DAMAGE: "changes to the hair follicles",
}
HEALING_WORDS = {Healing.DELAYED: "slower healing", Healing.COMPLICATION: "a problem with healing"}


def findings_in_words(follow_up) -> list[str]:
    """The adverse findings of a completed check, in the client's words ("slower healing",
    "blistering"); empty when it has none. What counts as adverse is the follow-up's own
    rule (`cases.models.followups.adverse_findings`: healing delayed or a complication,
    or a side effect other than the transient reactions expected after laser); the
    follow-up comes from `FollowUpQuerySet.with_adverse_findings()`."""
    if not follow_up.has_adverse_findings:
        return []
    adverse_side_effects, _expected = follow_up.side_effects_found()
    words = [HEALING_WORDS[follow_up.healing]] if follow_up.healing in HEALING_WORDS else []
    return words + [SIDE_EFFECT_WORDS.get(effect.code, effect.label.lower()) for effect in adverse_side_effects]


def in_words(items: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    items = list(items)
    return " and ".join(items) if len(items) < 3 else f"{', '.join(items[:-1])} and {items[-1]}"


def recent(sessions: Iterable[tuple[str, Any]], *, today: datetime.date) -> list[tuple[str, Any]]:
    """Of completed sessions as (kind, session) pairs, those whose aftercare the portal
    shows, latest first: the sessions of the last RECENT_DAYS days, or else the latest one."""
    ordered = sorted(sessions, key=lambda pair: (pair[1].scheduled_at, pair[1].pk), reverse=True)
    cutoff = today - datetime.timedelta(days=RECENT_DAYS)
    return [(kind, session) for kind, session in ordered if session.day >= cutoff] or ordered[:1]


def session_key(kind: str, session) -> tuple[str, int]:
    return kind, session.pk


def home_of(follow_up, sessions: Sequence[tuple[str, Any]]) -> tuple[str, int] | None:
    """The session a follow-up is about: the one it is linked to; for a follow-up linked
    only to its case, the latest of `sessions` (kind, session; latest first) of that case
    on or before the day it was done or is due. None when it is about none of them."""
    if follow_up.laser_session_id:
        return LASER, follow_up.laser_session_id
    if follow_up.correction_session_id:
        return CORRECTION, follow_up.correction_session_id
    on = follow_up.completed_on or follow_up.due_on
    for kind, session in sessions:
        if session.case_id == follow_up.case_id and session.day <= on:
            return session_key(kind, session)
    return None


@dataclass(frozen=True)
class Checks:
    """The clinic's checks after one session."""

    done: Any = None  # the latest completed check
    next: Any = None  # the next one booked
    missed: Any = None  # the latest missed one, when nothing was done or booked after it

    @property
    def recorded(self) -> bool:
        return any((self.done, self.next, self.missed))


def checks(follow_ups: Iterable) -> Checks:
    """Sum up the follow-ups about one session (cancelled ones count for nothing)."""
    follow_ups = list(follow_ups)
    done = max(
        (f for f in follow_ups if f.status == FollowUpStatus.COMPLETED),
        key=lambda f: (f.completed_on, f.pk),
        default=None,
    )
    booked = min(
        (f for f in follow_ups if f.status == FollowUpStatus.SCHEDULED), key=lambda f: (f.due_on, f.pk), default=None
    )
    missed = None
    if booked is None:
        missed = max(
            (
                f
                for f in follow_ups
                if f.status == FollowUpStatus.MISSED and (done is None or f.due_on > done.completed_on)
            ),
            key=lambda f: (f.due_on, f.pk),
            default=None,
        )
    return Checks(done=done, next=booked, missed=missed)
