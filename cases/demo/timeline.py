"""Pass one of the demo: what happens to each client over time.

From nothing but the client's own `random.Random`, `client_skeletons` decides the
client's cases: status, plan type, plan stage, the treatment steps and every date, as
day offsets from today. Nothing here reads or writes the database, so the generator can
run it twice with the same seeds: once for the opening dates that number the
references, once again to write the rows. The first clients are laid out by hand
(`FORCED`), so that even a small demo shows every state.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from cases.choices import CaseStatus, PlanStepKind

OLDEST_CASE_DAYS = 1090  # every case opened in the last 3 years: 4 reference years

# A plan type decides the steps (`treatment_steps`). Intervals follow docs/domain.md#laser-intervals:
# laser ≥ 6 weeks on a zone, saline 4–8 weeks, SMP sessions 1–2 weeks apart, healing
# confirmed before redesign.
LASER_PLANS = ("laser_smp", "laser_only")
PLAN_TYPES = ("laser_smp", "laser_only", "saline", "colour", "scar", "density")
PLAN_TYPE_WEIGHTS = (34, 12, 10, 10, 12, 22)

# Three years of history: most cases are finished, the open ones are recent.
STATUS_WEIGHTS = {
    CaseStatus.CONSULTATION: 5,
    CaseStatus.ASSESSMENT: 6,
    CaseStatus.PLANNING: 9,
    CaseStatus.IN_TREATMENT: 22,
    CaseStatus.FOLLOW_UP: 13,
    CaseStatus.CLOSED: 35,
    CaseStatus.WITHDRAWN: 10,
}

# The first clients are laid out by hand, so that even an 18-client demo shows every
# status, plan stage, session kind and follow-up state; the rest are random. The keys
# "demo", "photos", "flag", "teaching", "smp" and "no_show" are read by the generator.
CS = CaseStatus
FORCED: tuple[dict, ...] = (
    # The demo client: mid-way through laser, next session booked, post-laser check due.
    {
        "status": CS.IN_TREATMENT,
        "plan": "laser_smp",
        "n_laser": 3,
        "done": 2,
        "last_done": -9,
        "demo": True,
        "photos": True,
    },
    {"status": CS.CONSULTATION, "flag": "isotretinoin"},
    {"status": CS.ASSESSMENT, "flag": "active_infection", "photos": True},
    {"status": CS.PLANNING, "plan": "laser_smp", "stage": "draft", "test_spot": True},
    {"status": CS.PLANNING, "plan": "saline", "stage": "proposed", "flag": "pregnancy"},
    {"status": CS.PLANNING, "plan": "laser_only", "stage": "approved", "revision": True},
    {"status": CS.IN_TREATMENT, "plan": "density", "done": 0},
    {"status": CS.FOLLOW_UP, "plan": "laser_smp", "last_session": -20, "smp": "hairline_redesign", "photos": True},
    {"status": CS.CLOSED, "plan": "saline", "photos": True, "teaching": True},
    {"status": CS.CLOSED, "plan": "colour"},
    {"status": CS.FOLLOW_UP, "plan": "scar", "flag": "keloid", "photos": True, "last_session": -40},
    {"status": CS.WITHDRAWN, "plan": "laser_only", "withdraw": "mid", "n_laser": 3},
    {"status": CS.IN_TREATMENT, "plan": "laser_smp", "done": 1, "last_done": -25, "photos": True},
    {"status": CS.CLOSED, "plan": "laser_smp", "smp": "smp_correction", "photos": True, "test_spot": True},
    {"status": CS.WITHDRAWN, "withdraw": "pre"},
    {"status": CS.IN_TREATMENT, "plan": "scar", "done": 1, "revision": True},
    # Post-laser checks due in the last few weeks: the follow-up review queue.
    {"status": CS.IN_TREATMENT, "plan": "laser_only", "n_laser": 3, "done": 1, "last_done": -30},
    {"status": CS.IN_TREATMENT, "plan": "laser_smp", "n_laser": 3, "done": 2, "last_done": -35},
    # Did not come to the second laser session two weeks ago; booked again for next week.
    {"status": CS.IN_TREATMENT, "plan": "laser_only", "n_laser": 3, "done": 1, "last_done": -60, "no_show": True},
)


def weighted(rng: random.Random, options: dict):
    return rng.choices(list(options), weights=list(options.values()))[0]


@dataclass
class Step:
    kind: str  # PlanStepKind
    session: str | None  # "laser", "smp", "saline", "colour", "scar", "density" or None
    s: int  # days after treatment start
    gap: int | None
    day: int = 0  # offset from today, once placed
    state: str = "planned"  # done, booked, planned, skipped, cancelled


@dataclass
class Skeleton:
    status: str
    plan_type: str | None
    forced: dict
    stage: str | None = None  # draft, proposed, approved, accepted, in_progress, completed, cancelled
    revision: bool = False
    opened: int = 0
    issues_day: int | None = None
    review_day: int | None = None
    test_spot_day: int | None = None
    prelaser_day: int | None = None
    v1_submit: int | None = None
    v1_approve: int | None = None
    submit_day: int | None = None
    approve_day: int | None = None
    accept_day: int | None = None
    steps: list[Step] = field(default_factory=list)
    closed: int | None = None  # closed_on, or the day a withdrawn case stopped
    withdraw: str | None = None  # "pre" or "mid"

    @property
    def laser(self) -> bool:
        return self.plan_type in LASER_PLANS


def _adder(steps: list[Step]) -> Callable[[str, str | None, int], None]:
    """Appends a step `gap` days after the previous one (the first at day 0)."""

    def add(kind: str, session: str | None, gap: int) -> None:
        s = steps[-1].s + gap if steps else 0
        steps.append(Step(kind, session, s, gap if steps else None))

    return add


def treatment_steps(rng: random.Random, plan_type: str, n_laser: int | None = None) -> list[Step]:
    steps: list[Step] = []
    add = _adder(steps)

    K = PlanStepKind
    if plan_type in LASER_PLANS:
        # 43 days or more: at least 6 weeks apart whatever the times of day (and DST).
        n = n_laser or rng.choices((1, 2, 3, 4), weights=(10, 35, 40, 15))[0]
        for _ in range(n):
            add(K.LASER_SESSION, "laser", rng.randint(43, 63))
        if plan_type == "laser_smp":
            add(K.HEALING_CHECK, None, rng.randint(14, 21))
            add(K.SMP_SESSION, "smp", rng.randint(42, 70))
            if rng.random() < 0.4:
                add(K.SMP_SESSION, "smp", rng.randint(10, 14))
    elif plan_type == "saline":
        for _ in range(rng.randint(2, 4)):
            add(K.SALINE_SESSION, "saline", rng.randint(35, 56))
        add(K.HEALING_CHECK, None, rng.randint(14, 21))
        add(K.SMP_SESSION, "smp", rng.randint(42, 70))
    elif plan_type == "colour":
        for _ in range(rng.randint(1, 2)):
            add(K.COLOUR_CORRECTION, "colour", rng.randint(28, 42))
    elif plan_type == "scar":
        for _ in range(rng.randint(2, 3)):
            add(K.SCAR_CAMOUFLAGE, "scar", rng.randint(21, 35))
    else:  # density
        for _ in range(rng.randint(2, 3)):
            add(K.SMP_SESSION, "density", rng.randint(10, 14))
    add(K.REVIEW, None, rng.randint(42, 56))
    return steps


def build_skeleton(rng: random.Random, forced: dict | None) -> Skeleton:
    """One case's status and timeline, in day offsets from today (negative = past)."""
    forced = forced or {}
    status = forced.get("status") or weighted(rng, STATUS_WEIGHTS)
    withdraw = None
    if status == CS.WITHDRAWN:
        withdraw = forced.get("withdraw") or rng.choice(("pre", "mid"))
    no_plan_yet = withdraw == "pre" and "plan" not in forced and rng.random() < 0.4
    if status in (CS.CONSULTATION, CS.ASSESSMENT) or no_plan_yet:
        plan_type = None
    else:
        plan_type = forced.get("plan") or rng.choices(PLAN_TYPES, weights=PLAN_TYPE_WEIGHTS)[0]
    sk = Skeleton(status=status, plan_type=plan_type, forced=forced, withdraw=withdraw)

    # Relative days (0 = opened): initial consultation, assessment, review, plan.
    r_issues = rng.randint(0, 3)
    r_review = r_issues + rng.randint(7, 21)
    test_spot = sk.laser and forced.get("test_spot", rng.random() < 0.33)
    r_ts = r_review + rng.randint(0, 3) if test_spot else None
    revision = plan_type is not None and forced.get("revision", rng.random() < 0.1)
    r_draft = r_review
    r_submit = r_review + rng.randint(1, 5)
    r_approve = r_submit + rng.randint(1, 4)
    v1 = None
    if revision:
        v1 = (r_submit, r_approve)
        r_revise = r_approve + rng.randint(2, 7)
        r_draft = r_revise
        r_submit = r_revise + rng.randint(1, 3)
        r_approve = r_submit + rng.randint(1, 3)
    r_accept = r_approve + rng.randint(1, 10)
    r_prelaser = r_ts if test_spot else (r_accept + rng.randint(0, 7) if sk.laser else None)
    r_start = r_accept + rng.randint(7, 21)
    if sk.laser:
        r_start = max(r_start, r_prelaser + 1)
    if test_spot:
        r_start = max(r_start, r_ts + rng.randint(43, 56))
    if "steps" in forced:
        steps = forced["steps"](rng)
    else:
        steps = treatment_steps(rng, plan_type, forced.get("n_laser")) if plan_type else []
    sessions = [i for i, step in enumerate(steps) if step.session]

    # Which events have happened, and where "today" falls.
    happened = {"issues": True, "review": True, "prelaser": False}
    stage = None
    if status == CS.CONSULTATION:
        happened.update(issues=False, review=False)
        opened = -rng.randint(1, 20)
    elif status == CS.ASSESSMENT:
        happened.update(review=False)
        opened = -(r_issues + rng.randint(2, 35))
    elif status == CS.PLANNING:
        stage = forced.get("stage") or rng.choices(("draft", "proposed", "approved"), weights=(35, 30, 35))[0]
        last = {"draft": r_draft, "proposed": r_submit, "approved": r_approve}[stage]
        if test_spot:
            happened["prelaser"] = True
            last = max(last, r_ts)
        opened = -(last + rng.randint(1, 14))
        start = rng.randint(14, 35)
        for step in steps:
            step.day = start + step.s
    elif status == CS.IN_TREATMENT:
        happened["prelaser"] = sk.laser
        k = forced["done"] if "done" in forced else rng.randint(0, len(sessions) - 1)
        anchor = sessions[k]
        if "last_done" in forced:
            x = forced["last_done"] + steps[anchor].s - steps[sessions[k - 1]].s
        else:
            prev_gap = steps[anchor].s - steps[anchor - 1].s if anchor else r_start - max(r_accept, r_prelaser or 0)
            x = rng.randint(2, max(2, min(40, prev_gap - 1)))
        opened = x - (r_start + steps[anchor].s)
        for i, step in enumerate(steps):
            step.state = "done" if i < anchor else ("booked" if i == anchor else "planned")
        stage = "accepted" if k == 0 else "in_progress"
    elif status in (CS.FOLLOW_UP, CS.CLOSED):
        happened["prelaser"] = sk.laser
        last = sessions[-1]
        if status == CS.FOLLOW_UP:
            last_day = forced.get("last_session") or -rng.randint(14, 150)
        else:  # as far back as the case's own timeline allows within the window
            last_day = -rng.randint(120, max(120, OLDEST_CASE_DAYS - (r_start + steps[last].s)))
        opened = last_day - (r_start + steps[last].s)
        laser_steps = [i for i in sessions if steps[i].session == "laser"]
        skip = None
        if plan_type == "laser_smp" and len(laser_steps) >= 3 and "steps" not in forced and rng.random() < 0.15:
            skip = laser_steps[-1]  # clearance good enough: last laser session not needed
        for i, step in enumerate(steps):
            step.state = "skipped" if i == skip else ("done" if opened + r_start + step.s <= -1 else "planned")
        stage = "completed"
        if status == CS.CLOSED:
            sk.closed = opened + r_start + steps[-1].s + rng.randint(3, 30)
    else:  # withdrawn
        if withdraw == "mid" and len(sessions) >= 2:
            happened["prelaser"] = sk.laser
            k = rng.randint(1, len(sessions) - 1)
            anchor = sessions[k]
            stop = r_start + steps[anchor].s - rng.randint(1, 7)
            w_day = -rng.randint(1, max(1, OLDEST_CASE_DAYS - stop))
            opened = w_day - stop
            for i, step in enumerate(steps):
                step.state = "done" if i < anchor else ("cancelled" if i == anchor else "skipped")
            stage = "cancelled"
        else:
            withdraw = sk.withdraw = "pre"
            if plan_type is None:
                last = r_issues
                happened["review"] = False
                test_spot = False
            else:
                stage_pre = rng.choice(("draft", "proposed"))
                last = r_draft if stage_pre == "draft" else r_submit
                if test_spot:
                    happened["prelaser"] = True
                    last = max(last, r_ts)
                stage = "cancelled_" + stage_pre
            stop = last + rng.randint(5, 30)
            w_day = -rng.randint(1, max(1, OLDEST_CASE_DAYS - stop))
            opened = w_day - stop
            for step in steps:
                step.state = "skipped"
                step.day = opened + stop + 21 + step.s
        sk.closed = w_day

    sk.opened = opened
    if status != CS.PLANNING and withdraw != "pre":
        for step in steps:
            step.day = opened + r_start + step.s
    sk.steps = steps
    sk.stage = stage
    sk.revision = revision
    sk.issues_day = opened + r_issues if happened["issues"] else None
    sk.review_day = opened + r_review if happened["review"] else None
    sk.test_spot_day = opened + r_ts if test_spot else None
    sk.prelaser_day = opened + r_prelaser if happened["prelaser"] else None
    if plan_type:
        if v1:
            sk.v1_submit, sk.v1_approve = opened + v1[0], opened + v1[1]
        agreed = stage in ("accepted", "in_progress", "completed") or withdraw == "mid"
        if stage in ("proposed", "approved", "cancelled_proposed") or agreed:
            sk.submit_day = opened + r_submit
        if stage == "approved" or agreed:
            sk.approve_day = opened + r_approve
        if agreed:
            sk.accept_day = opened + r_accept
    if not -OLDEST_CASE_DAYS <= opened <= -1:
        raise AssertionError(f"case opened {opened} days from today")
    return sk


def client_skeletons(rng: random.Random, forced: dict | None, history_days: int = 0) -> list[Skeleton]:
    """A client's cases, oldest first: usually one, sometimes an earlier closed one.

    With `history_days`, also the courses the client finished before those, back to back
    and none opened more than that many days ago (`history_skeletons`).
    """
    main = build_skeleton(rng, forced)
    cases = [main]
    if (
        forced is None
        and main.status in (CS.ASSESSMENT, CS.PLANNING, CS.IN_TREATMENT)
        and main.opened >= -400
        and rng.random() < 0.05
    ):
        old = build_skeleton(rng, {"status": CS.CLOSED, "plan": rng.choice(("density", "colour"))})
        shift = (main.opened - rng.randint(30, 150)) - old.closed
        if old.opened + shift >= -OLDEST_CASE_DAYS:
            _shift(old, shift)
            cases.insert(0, old)
    if history_days:
        # A generator of its own, so the history does not change what follows it.
        history = random.Random(rng.getrandbits(64))  # nosec B311  # reproducible demo data, not a secret
        cases[:0] = history_skeletons(history, before=cases[0].opened, oldest=-history_days)
    return cases


# An older clinic's history: how many finished courses a client had before the cases in
# the three-year window (each 2–18 months before the next one opened), and how many laser
# sessions half of them took: 2–6, a little above the demo's 1–4 (harder earlier cases),
# still below the Kirby–Desai estimates, which run high for SMP (docs/domain.md#kirby-desai).
HISTORY_COURSES = {0: 10, 1: 18, 2: 24, 3: 24, 4: 16, 5: 8}
HISTORY_LASER_SESSIONS = {2: 20, 3: 30, 4: 25, 5: 15, 6: 10}


def history_skeletons(rng: random.Random, *, before: int, oldest: int) -> list[Skeleton]:
    """Closed courses, oldest first, each closed before the next one opened (the first
    of them before day `before`); none opened before day `oldest`."""
    courses: list[Skeleton] = []
    for _ in range(weighted(rng, HISTORY_COURSES)):
        forced = {"status": CS.CLOSED, "history": True}
        if rng.random() < 0.5:
            forced.update(plan=rng.choice(LASER_PLANS), n_laser=weighted(rng, HISTORY_LASER_SESSIONS))
        sk = build_skeleton(rng, forced)
        shift = (before - rng.randint(60, 540)) - sk.closed
        if sk.opened + shift < oldest:
            break
        _shift(sk, shift)
        courses.insert(0, sk)
        before = sk.opened
    return courses


def long_course(rng: random.Random) -> list[Step]:
    """The longest course in the benchmark's clinic: twelve laser sessions, then four SMP
    sessions and three for density (with the test spot, twenty sessions)."""
    steps: list[Step] = []
    add, K = _adder(steps), PlanStepKind
    for _ in range(12):
        add(K.LASER_SESSION, "laser", rng.randint(43, 49))
    add(K.HEALING_CHECK, None, rng.randint(14, 21))
    for gap in (rng.randint(42, 56), 10, 10, 12):
        add(K.SMP_SESSION, "smp", gap)
    for gap in (28, 14, 14):
        add(K.SMP_SESSION, "density", gap)
    add(K.REVIEW, None, rng.randint(42, 56))
    return steps


# In a clinic seeded with history, the first client after the hand-laid ones has the
# long course, photographed at every session (`Generator._photos`).
LONG_CASE = {
    "status": CS.FOLLOW_UP,
    "plan": "laser_smp",
    "steps": long_course,
    "test_spot": True,
    "last_session": -30,
    "photos": "every_session",
}


def _shift(sk: Skeleton, days: int) -> None:
    for name in (
        "opened",
        "issues_day",
        "review_day",
        "test_spot_day",
        "prelaser_day",
        "v1_submit",
        "v1_approve",
        "submit_day",
        "approve_day",
        "accept_day",
        "closed",
    ):
        value = getattr(sk, name)
        if value is not None:
            setattr(sk, name, value + days)
    for step in sk.steps:
        step.day += days
