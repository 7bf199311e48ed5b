"""The generator: the entry points of `manage.py seed_demo` (`seed`, which fills an
empty database with the demo clinic, and the checks and listings of the demo logins)
and the `Generator` that turns each client's timeline into rows.

Everything random comes from `random.Random(seed)`: the clinic (staff, studios, devices)
from the master generator, then one seed per client drawn from it. Every date is an
offset in days from today, and nothing that decides whether a row exists looks at the
calendar, so the same seed gives the same rows (and counts) on any day; only the diary's
bookings (`cases.demo.diary`) follow the weekdays' opening hours.

The work runs in two passes over the clients. The first builds each case's timeline
(status, plan, steps, dates) and keeps only the opening dates, so references can be
numbered in opening order per year (SMP-2026-0001 is the year's first case). The second
rebuilds the same timelines from the same per-client seeds, adds the details and writes
them a chunk of clients at a time, so 100 000 clients fit in memory and in a few
minutes. Those rows skip `save()` and signals, like `bulk_create` (see `writer.Table` for
why not `bulk_create` itself): Kirby–Desai totals are computed here, and simple_history
records nothing for them (acceptable for demo data). The clinic's own rows (staff,
certifications, devices, consent texts, settings) and the photos go through the ORM.
Image files are made only for a handful of cases; the earlier courses of a clinic seeded
with history (`seed(history_years=…)`) get photos whose files link to a few painted ones.
"""

from __future__ import annotations

import datetime
import errno
import hashlib
import os
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.contrib.auth.models import Group, User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from cases import kirby_desai
from cases.choices import (
    AdverseEventChoice,
    CaseStatus,
    ConsentKind,
    ConsultationKind,
    CorrectionKind,
    CorrectionOptionChoice,
    Fitzpatrick,
    FollowUpKind,
    FollowUpStatus,
    Healing,
    ImmediateResponse,
    IssueKind,
    LaserType,
    NorwoodStage,
    Outcome,
    PhotoAngle,
    PhotoKind,
    PlanStatus,
    PlanStepKind,
    PulseDomain,
    RegretReasonChoice,
    SessionStatus,
    StepStatus,
    Zone,
)
from cases.demo.clinic import (
    DEMO_USERNAMES,
    LEAD_ARTISTS,
    MANAGER_KEYS,
    STAFF,
    TECHNICIAN_WEIGHTS,
    Clinic,
    create_clinic,
)
from cases.demo.diary import seed_diary
from cases.demo.painter import ANGLE_ZONE, IMAGE_SIZE, SKIN_TONES, scalp_jpeg
from cases.demo.timeline import FORCED, LONG_CASE, Skeleton, Step, client_skeletons
from cases.demo.vocabulary import (
    AFTERCARE_LASER,
    AFTERCARE_SMP,
    ALLERGIES,
    CORRECTION_PIGMENTS,
    EXPECTATIONS,
    FEMALE_FIRST,
    GOALS,
    HEALING_NOTES,
    INITIAL_CONCERNS,
    ISSUE_TEXT,
    LAST,
    MALE_FIRST,
    MEDICATIONS,
    NEEDLES,
    OUTCOME_NOTES,
    PHOTOSENSITISING,
    PIGMENTS,
    PLAN_AFTERCARE,
    PLAN_SUMMARY,
    REGRET_NOTES,
    SALINE,
    STEP_TEXT,
    STREETS,
    TOWNS,
    USER_AGENTS,
    WITHDRAWN_REASONS,
    ascii_slug,
)
from cases.demo.writer import BATCH, Rows, Writer
from cases.models import (
    Case,
    Client,
    Consent,
    Consultation,
    CorrectionSession,
    FollowUp,
    Issue,
    LaserSession,
    Photo,
    PlanStep,
    ReferenceCounter,
    TreatmentPlan,
)
from cases.models.photos import photo_upload_path
from smpclinic import roles
from smpclinic.lookups import sync_all_lookups

DEFAULT_PASSWORD = "smpclinic-demo"  # nosec B105  # the demo clinic only; DEMO_PASSWORD overrides it
DEFAULT_CLIENTS = 200
CHUNK = 1000  # clients generated and inserted together


# --------------------------------------------------------------------------------------
# Treatment shapes. A plan type decides the correction options and which issues it
# suits (its steps and their intervals are decided by `timeline.treatment_steps`); the
# timeline's codes map onto the models' choices here.
# --------------------------------------------------------------------------------------

PLAN_ISSUES = {
    "laser_smp": (
        IssueKind.TOO_DARK,
        IssueKind.PIGMENT_MIGRATION,
        IssueKind.DOTS_TOO_LARGE,
        IssueKind.UNNATURAL_HAIRLINE,
        IssueKind.COLOUR_SHIFT,
        IssueKind.UNEVEN_PIGMENTATION,
    ),
    "laser_only": (IssueKind.TOO_DARK, IssueKind.PIGMENT_MIGRATION, IssueKind.COLOUR_SHIFT, IssueKind.OTHER),
    "saline": (IssueKind.DOTS_TOO_LARGE, IssueKind.UNNATURAL_HAIRLINE, IssueKind.TOO_DARK),
    "colour": (IssueKind.COLOUR_SHIFT,),
    "scar": (IssueKind.VISIBLE_SCARRING,),
    "density": (
        IssueKind.FADED,
        IssueKind.HAIR_LOSS_PROGRESSION,
        IssueKind.UNEVEN_PIGMENTATION,
        IssueKind.OTHER,
    ),
    None: tuple(IssueKind.values),
}
Z = Zone
KIND_ZONES = {
    IssueKind.UNNATURAL_HAIRLINE: (Z.FRONTAL_HAIRLINE, Z.LEFT_TEMPLE, Z.RIGHT_TEMPLE),
    IssueKind.VISIBLE_SCARRING: (Z.SCAR, Z.NAPE),
    IssueKind.HAIR_LOSS_PROGRESSION: (Z.CROWN, Z.MID_SCALP, Z.LEFT_TEMPLE, Z.RIGHT_TEMPLE),
    IssueKind.FADED: (Z.MID_SCALP, Z.CROWN, Z.FRONTAL_HAIRLINE, Z.NAPE),
    IssueKind.UNEVEN_PIGMENTATION: (Z.MID_SCALP, Z.CROWN, Z.FRONTAL_HAIRLINE, Z.LEFT_TEMPLE, Z.RIGHT_TEMPLE),
    IssueKind.COLOUR_SHIFT: (Z.FRONTAL_HAIRLINE, Z.MID_SCALP, Z.CROWN, Z.LEFT_TEMPLE, Z.RIGHT_TEMPLE),
    IssueKind.PIGMENT_MIGRATION: (Z.FRONTAL_HAIRLINE, Z.MID_SCALP, Z.CROWN),
    IssueKind.TOO_DARK: (Z.FRONTAL_HAIRLINE, Z.MID_SCALP, Z.CROWN, Z.LEFT_TEMPLE, Z.RIGHT_TEMPLE),
    IssueKind.DOTS_TOO_LARGE: (Z.FRONTAL_HAIRLINE, Z.LEFT_TEMPLE, Z.RIGHT_TEMPLE, Z.MID_SCALP),
    IssueKind.OTHER: (Z.NAPE, Z.MID_SCALP, Z.CROWN, Z.FRONTAL_HAIRLINE),
}
SMP_KINDS = (CorrectionKind.HAIRLINE_REDESIGN, CorrectionKind.DENSITY_ADJUSTMENT, CorrectionKind.SMP_CORRECTION)
SESSION_KIND = {  # skeleton session code -> CorrectionKind (laser is its own model)
    "saline": CorrectionKind.SALINE_REMOVAL,
    "colour": CorrectionKind.COLOUR_CORRECTION,
    "scar": CorrectionKind.SCAR_CAMOUFLAGE,
    "density": CorrectionKind.DENSITY_ADJUSTMENT,
}

# Choices' `.values` builds a new list on every call: read them once.
FITZPATRICK = tuple(Fitzpatrick.values)
NORWOOD = tuple(NorwoodStage.values)
REGRET_REASONS = tuple(RegretReasonChoice.values)
ISSUE_KINDS = tuple(IssueKind.values)
OUTCOMES = tuple(Outcome.values)
RESPONSES = tuple(ImmediateResponse.values)
KD_COLOUR = tuple(kirby_desai.ColourPoints.values)
KD_INK = tuple(kirby_desai.InkAmountPoints.values)
KD_SCARRING = tuple(kirby_desai.ScarringPoints.values)

PLAN_OPTIONS = {
    "laser_smp": [CorrectionOptionChoice.LASER_REMOVAL],  # plus the option of the SMP step
    "laser_only": [CorrectionOptionChoice.LASER_REMOVAL],
    "saline": [CorrectionOptionChoice.SALINE_REMOVAL, CorrectionOptionChoice.HAIRLINE_REDESIGN],
    "colour": [CorrectionOptionChoice.COLOUR_CORRECTION],
    "scar": [CorrectionOptionChoice.SCAR_CAMOUFLAGE],
    "density": [CorrectionOptionChoice.DENSITY_ADJUSTMENT],
}
SMP_OPTION = {
    CorrectionKind.HAIRLINE_REDESIGN: CorrectionOptionChoice.HAIRLINE_REDESIGN,
    CorrectionKind.DENSITY_ADJUSTMENT: CorrectionOptionChoice.DENSITY_ADJUSTMENT,
    CorrectionKind.SMP_CORRECTION: CorrectionOptionChoice.DENSITY_ADJUSTMENT,
}
PLAN_STATUS = {
    "draft": PlanStatus.DRAFT,
    "proposed": PlanStatus.PROPOSED,
    "approved": PlanStatus.PROPOSED,  # approved by a manager, awaiting the client
    "accepted": PlanStatus.ACCEPTED,
    "in_progress": PlanStatus.IN_PROGRESS,
    "completed": PlanStatus.COMPLETED,
}
STEP_STATUS = {"done": StepStatus.DONE, "skipped": StepStatus.SKIPPED, "cancelled": StepStatus.SKIPPED}
SESSION_STATUS = {
    "done": SessionStatus.COMPLETED,
    "booked": SessionStatus.SCHEDULED,
    "cancelled": SessionStatus.CANCELLED,
    "missed": SessionStatus.NOT_ATTENDED,
}
# A client who missed a booked laser session: it was booked this many days after the
# session before (over the 6 weeks between sessions on a zone), and booked again this many
# days from today.
MISSED_AFTER, REBOOKED_IN = 43, 7
COMPLICATIONS = [a for a in AdverseEventChoice.values if a not in AdverseEventChoice.expected()]
SATISFACTION_BY_OUTCOME = {
    Outcome.RESOLVED: (4, 5, 5),
    Outcome.IMPROVED: (3, 4, 4, 5),
    Outcome.PARTIAL: (2, 3, 3, 4),
    Outcome.UNCHANGED: (1, 2, 2, 3),
    Outcome.WORSE: (1, 1, 2),
}
CS = CaseStatus


class Coverage:
    """Picks each option once before picking by weight, so small demos show everything.

    Only used in the second pass, in a fixed order, so it stays deterministic.
    """

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.seen: dict[str, set] = defaultdict(set)

    def pick(self, key: str, options: Iterable, weights: Iterable[float] | None = None):
        options = list(options)
        seen = self.seen[key]
        for option in options:
            if option not in seen:
                seen.add(option)
                return option
        return self.rng.choices(options, weights=list(weights) if weights is not None else None)[0]


# --------------------------------------------------------------------------------------
# Pass two: each client's timeline turned into rows, with the details.
# --------------------------------------------------------------------------------------


M2M = {
    "regret": Case._meta.get_field("regret_reasons"),
    "options": TreatmentPlan._meta.get_field("options"),
    "step_zones": PlanStep._meta.get_field("zones"),
    "laser_zones": LaserSession._meta.get_field("zones"),
    "adverse": LaserSession._meta.get_field("adverse_events"),
    "correction_zones": CorrectionSession._meta.get_field("zones"),
    "side_effects": FollowUp._meta.get_field("side_effects"),
}


class Generator:
    """Second pass: turns each client's timeline into rows, with the details."""

    def __init__(
        self, clinic: Clinic, master: random.Random, history_days: int = 0, saved_files: list[str] | None = None
    ) -> None:
        self.clinic = clinic
        self.history_days = history_days
        self._history_files: dict[tuple, dict] = {}  # painted once, linked for every history photo
        self.saved_files = [] if saved_files is None else saved_files  # removed if the seeding fails
        self.cover = Coverage(random.Random(master.getrandbits(64)))  # nosec B311  # reproducible demo data, not a secret
        self._dates: dict[int, datetime.date] = {}

    # -- time -----------------------------------------------------------------------

    def date(self, offset: int) -> datetime.date:
        day = self._dates.get(offset)
        if day is None:
            day = self._dates[offset] = self.clinic.today + datetime.timedelta(days=offset)
        return day

    def at(self, offset: int, rng: random.Random, first_hour: int = 9, last_hour: int = 16) -> datetime.datetime:
        """A clinic-hours time on a day (half-hour slots, the clinic's time zone)."""
        hour = rng.randint(first_hour, last_hour)
        minute = rng.choice((0, 30))
        return datetime.datetime.combine(self.date(offset), datetime.time(hour, minute), tzinfo=self.clinic.tz)

    # -- people ---------------------------------------------------------------------

    def user(self, key: str) -> User:
        return self.clinic.users[key]

    def technician(self, day: int, rng: random.Random) -> str:
        """A technician whose laser-safety certification is valid on the day (docs/domain.md#safety-rules)."""
        valid = [
            (key, weight)
            for key, weight in TECHNICIAN_WEIGHTS.items()
            if self.clinic.laser_valid[key][0] <= day <= self.clinic.laser_valid[key][1]
        ]
        return rng.choices([k for k, _ in valid], weights=[w for _, w in valid])[0]

    # -- one client -----------------------------------------------------------------

    def client(self, rows: Rows, index: int, seed: int, references: list[str]) -> None:
        rng = random.Random(seed)  # nosec B311  # reproducible demo data, not a secret
        forced = forced_for(index, self.history_days)
        skeletons = client_skeletons(rng, forced, self.history_days)
        forced = forced or {}
        demo = forced.get("demo", False)
        has_laser = any(sk.laser and (sk.test_spot_day is not None or _any_session(sk, "laser")) for sk in skeletons)

        female = forced.get("flag") == "pregnancy" or rng.random() < 0.12
        first = rng.choice(FEMALE_FIRST if female else MALE_FIRST)
        last = rng.choice(LAST)
        age = rng.randint(22, 68)
        if self.history_days:  # an adult at the first course, however long ago
            age = max(age, 19 - skeletons[0].opened // 365)
        dob = self.clinic.today - datetime.timedelta(days=age * 365 + rng.randint(0, 364))
        town, postcode = rng.choice(TOWNS)
        client = rows.new(
            Client,
            first_name=first,
            last_name=last,
            date_of_birth=dob,
            email=f"{ascii_slug(first)}.{ascii_slug(last)}.{index + 1}@example.com",
            phone=f"07700 9{index % 100000:05d}",
            address=(
                f"{rng.randint(1, 180)} {rng.choice(STREETS)}\n{town} {postcode}{rng.randint(1, 28)} "
                f"{rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
            ),
            reminders_opt_in=demo or rng.random() < 0.6,
            fitzpatrick_type=rng.choices(FITZPATRICK, weights=(8, 20, 28, 20, 14, 10))[0],
            norwood_stage="" if female else rng.choices(NORWOOD, weights=(2, 4, 4, 8, 6, 8, 12, 10, 14, 10, 12, 10))[0],
        )
        if demo:
            user = self.clinic.client_user
            user.first_name, user.last_name, user.email = client.first_name, client.last_name, client.email
            user.save(update_fields=["first_name", "last_name", "email"])
            client.user = user
            client.reminders_opt_in = True
            self.clinic.demo_client_name = client.full_name
        self._contraindications(client, rng, forced, has_laser, female, skeletons[0].opened, demo)

        signatures: list[tuple[str, int, bool]] = []  # (consent kind, day, signed online)
        for number, sk in enumerate(skeletons):
            self.case(rows, rng, client, sk, references[number], signatures, demo)
        self._client_consents(rows, rng, client, skeletons, signatures, forced, demo)

    def _contraindications(self, client, rng, forced, has_laser, female, first_opened, demo) -> None:
        flag = forced.get("flag")
        if demo:
            return
        if not has_laser:
            # Laser contraindications only where no laser work has been done or booked.
            if flag == "isotretinoin" or rng.random() < 0.05:
                client.isotretinoin_last_dose = self.date(-rng.randint(20, 170))
                client.medications = "Isotretinoin 20 mg daily (stopped recently)"
            if flag == "active_infection" or rng.random() < 0.02:
                client.active_infection = True
                client.internal_notes = "Folliculitis on the crown at assessment; laser deferred."
            if female and (flag == "pregnancy" or rng.random() < 0.15):
                client.pregnant_or_breastfeeding = True
            if rng.random() < 0.03:
                client.photosensitising_medication = True
                client.medications = rng.choice(PHOTOSENSITISING)
            if rng.random() < 0.03:
                client.recent_sunburn_or_tan = True
            if rng.random() < 0.01:
                client.immunosuppression_last = self.date(-rng.randint(30, 400))
            if rng.random() < 0.005:
                client.gold_therapy = True
            if rng.random() < 0.01:
                client.open_wounds = True
        elif rng.random() < 0.04:
            # Isotretinoin long before the case: outside the washout for every session.
            client.isotretinoin_last_dose = self.date(first_opened - rng.randint(200, 700))
        if flag == "keloid" or rng.random() < 0.04:
            client.keloid_history = True
        if rng.random() < 0.01:
            client.ink_allergy = True
        if rng.random() < 0.1:
            client.allergies = rng.choice(ALLERGIES)
        if not client.medications and rng.random() < 0.25:
            client.medications = rng.choice(MEDICATIONS)

    # -- one case -------------------------------------------------------------------

    def case(self, rows: Rows, rng, client: Client, sk: Skeleton, reference: str, consents: list, demo: bool) -> None:
        clinic = self.clinic
        lead_key = rng.choices([k for k, _ in LEAD_ARTISTS], weights=[w for _, w in LEAD_ARTISTS])[0]
        lead_user = self.user(lead_key)
        studio = rng.choice(clinic.studios) if rng.random() < 0.85 else None
        original_artist = None
        if studio is not None and rng.random() < 0.75:
            original_artist = rng.choice(clinic.externals[studio.pk])
        how_many = rng.choices((1, 2, 3), weights=(55, 35, 10))[0]
        reasons = sorted(set(rng.choices(REGRET_REASONS, weights=(25, 45, 30, 15), k=how_many)))
        case = rows.new(
            Case,
            reference=reference,
            client=client,
            status=sk.status,
            opened_on=self.date(sk.opened),
            lead_artist=clinic.artists[lead_key],
            goal=rng.choice(GOALS[sk.plan_type]),
            regret_notes=" ".join(REGRET_NOTES[r] for r in reasons),
            original_studio=studio,
            original_artist=original_artist,
            original_date=self.date(sk.opened - rng.randint(180, 3000)) if rng.random() < 0.9 else None,
            original_sessions=rng.choices((1, 2, 3, 4, 5, 6), weights=(5, 20, 45, 20, 7, 3))[0],
            original_pigment=rng.choice(PIGMENTS),
        )
        if demo:
            clinic.demo_reference = reference
        rows.link(M2M["regret"], case, [clinic.regret_ids[r] for r in reasons])

        # Issues, and the zones the treatment targets (the main issue's, perhaps one more).
        issues: list[Issue] = []
        zones: list[str] = []
        if sk.issues_day is not None:
            for n in range(rng.choices((1, 2, 3), weights=(45, 40, 15))[0]):
                kind = self.cover.pick("issue_kind", PLAN_ISSUES[sk.plan_type] if n == 0 else ISSUE_KINDS)
                zone = self.cover.pick("zone", KIND_ZONES[kind])
                if n == 0 or (sk.plan_type != "scar" and zone not in zones and len(zones) < 2 and rng.random() < 0.5):
                    zones.append(zone)
                issue = rows.new(
                    Issue,
                    case=case,
                    kind=kind,
                    zone=zone,
                    severity=rng.choices((1, 2, 3, 4, 5), weights=(8, 22, 35, 25, 10))[0],
                    description=ISSUE_TEXT[kind],
                    identified_on=self.date(sk.issues_day),
                )
                if sk.status == CS.CLOSED and rng.random() < 0.7:
                    issue.resolved_on = self.date(sk.closed)
                issues.append(issue)
        zones = zones or [Zone.FRONTAL_HAIRLINE]
        ctx = _CaseContext(
            case=case,
            sk=sk,
            client=client,
            lead_key=lead_key,
            zone_ids=[clinic.zone_ids[z] for z in zones],
            demo=demo,
            primary=issues[0].kind if issues else None,
        )

        # Consultations, expectations, closing.
        self._consultation(rows, rng, ctx, sk.opened, ConsultationKind.INITIAL, lead_user)
        if sk.review_day is not None:
            self._consultation(rows, rng, ctx, sk.review_day, ConsultationKind.REVIEW, lead_user)
            case.expectations_discussed_on = self.date(sk.review_day)
            case.expectations_discussed_by = lead_user
            case.expectations_agreed = EXPECTATIONS.get(sk.plan_type, EXPECTATIONS["laser_smp"])
        if sk.status == CS.CLOSED:
            case.outcome = rng.choices(OUTCOMES, weights=(35, 35, 18, 8, 4))[0]
            case.outcome_notes = OUTCOME_NOTES[case.outcome]
            case.satisfaction = rng.choice(SATISFACTION_BY_OUTCOME[case.outcome])
            case.closed_on = self.date(sk.closed)
            self._consultation(rows, rng, ctx, sk.closed, ConsultationKind.REVIEW, lead_user, closing=True)
        elif sk.status == CS.WITHDRAWN:
            case.withdrawn_reason = rng.choice(WITHDRAWN_REASONS)
            case.closed_on = self.date(sk.closed)

        laser_sessions: list[LaserSession] = []
        correction_sessions: list[CorrectionSession] = []
        follow_ups: list[FollowUp] = []

        # Pre-laser evaluation and laser consent (every case with laser work has one),
        # then the optional test spot with its re-check 1–2 weeks later (docs/domain.md#side-effects).
        if sk.prelaser_day is not None:
            tech = self.technician(sk.prelaser_day, rng)
            self._consultation(rows, rng, ctx, sk.prelaser_day, ConsultationKind.PRE_LASER, self.user(tech))
            consents.append((ConsentKind.LASER_TREATMENT, sk.prelaser_day, demo))
            if sk.test_spot_day is not None:
                session = self._laser_session(rows, rng, ctx, None, sk.test_spot_day, "done", 0, 1, test_spot=True)
                laser_sessions.append(session)
                due = sk.test_spot_day + rng.randint(10, 14)
                follow_ups.append(
                    self._follow_up(
                        rows, rng, ctx, FollowUpKind.TEST_SPOT_RECHECK, due, ctx.tech_of[id(session)], laser=session
                    )
                )

        if sk.plan_type:
            smp_kind = sk.forced.get("smp") or rng.choices(SMP_KINDS, weights=(40, 35, 25))[0]
            if sk.plan_type == "saline":
                smp_kind = CorrectionKind.SMP_CORRECTION
            plan = self._plans(rows, rng, ctx, smp_kind)
            # Laser sessions are numbered from the test spot (0), if any, for rising
            # fluence and clearance.
            laser_done = 1 if sk.test_spot_day is not None else 0
            laser_total = laser_done + sum(1 for s in sk.steps if s.session == "laser")
            signed_smp = False
            last_laser_day = None
            for order, step in enumerate(sk.steps, start=1):
                plan_step = self._plan_step(rows, ctx, plan, step, order, smp_kind)
                has_session = step.session is not None and step.state in ("done", "booked", "cancelled")
                if has_session and step.session == "laser":
                    day = step.day
                    if step.state == "booked" and sk.forced.get("no_show") and last_laser_day is not None:
                        missed_day = last_laser_day + MISSED_AFTER
                        if missed_day >= 0:
                            raise AssertionError(f"a missed session {missed_day} days from today")
                        laser_sessions.append(
                            self._laser_session(rows, rng, ctx, plan_step, missed_day, "missed", 0, laser_total)
                        )
                        day = max(day, REBOOKED_IN)
                    session = self._laser_session(rows, rng, ctx, plan_step, day, step.state, laser_done, laser_total)
                    last_laser_day = day
                    laser_sessions.append(session)
                    if step.state == "done":
                        laser_done += 1
                        due = step.day + rng.randint(10, 14)
                        follow_ups.append(
                            self._follow_up(
                                rows,
                                rng,
                                ctx,
                                FollowUpKind.POST_LASER_CHECK,
                                due,
                                ctx.tech_of[id(session)],
                                laser=session,
                            )
                        )
                elif has_session:
                    kind = SESSION_KIND.get(step.session, smp_kind)
                    session = self._correction_session(rows, rng, ctx, plan_step, step, kind)
                    correction_sessions.append(session)
                    if not signed_smp:
                        consents.append((ConsentKind.SMP_CORRECTION, sk.accept_day, False))
                        signed_smp = True
                    if step.state == "done" and rng.random() < 0.6:
                        due = step.day + rng.randint(7, 14)
                        follow_ups.append(
                            self._follow_up(
                                rows,
                                rng,
                                ctx,
                                FollowUpKind.HEALING_CHECK,
                                due,
                                ctx.artist_of[id(session)],
                                correction=session,
                            )
                        )
                elif step.session is None and self._step_follow_up_due(sk, step):
                    if step.kind == PlanStepKind.HEALING_CHECK:
                        kind, owner = FollowUpKind.HEALING_CHECK, lead_key
                    else:
                        kind, owner = FollowUpKind.SATISFACTION, "dana"
                    follow_ups.append(self._follow_up(rows, rng, ctx, kind, step.day, owner))
            if sk.status == CS.FOLLOW_UP:
                last = max(s.day for s in sk.steps if s.session and s.state == "done")
                due = last + rng.randint(180, 365)
                follow_ups.append(self._follow_up(rows, rng, ctx, FollowUpKind.MAINTENANCE, due, lead_key))

        if sk.forced.get("photos"):
            photo_seed = rng.getrandbits(64)
            rows.photo_jobs.append(
                lambda: self._photos(ctx, photo_seed, issues, laser_sessions + correction_sessions, follow_ups)
            )
        elif sk.forced.get("history") and sk.issues_day is not None:
            after = rng.random() < 0.4
            rows.photo_jobs.append(lambda: self._history_photos(ctx, after))

    # -- consultations, plans, steps --------------------------------------------------

    def _consultation(self, rows, rng, ctx: _CaseContext, day, kind, user, closing=False) -> None:
        findings = ISSUE_TEXT[ctx.primary] if ctx.primary else "Old SMP reviewed; full assessment booked."
        if kind == ConsultationKind.INITIAL:
            concerns = rng.choice(INITIAL_CONCERNS)
            recommendations = "Full assessment with the standard photo set; discuss laser and non-laser options."
        elif kind == ConsultationKind.PRE_LASER:
            concerns = "Questions about pain, downtime and the number of sessions."
            findings = "Contraindications checked with the client: none active. Skin intact, no recent tan."
            recommendations = "1064 nm, low fluence; test spot first where planned, re-check in 1–2 weeks."
        elif closing:
            concerns = "End-of-treatment review."
            findings = OUTCOME_NOTES[ctx.case.outcome]
            recommendations = "SMP top-up in 2–4 years if needed; SPF 30–50 on the scalp."
        else:
            concerns = "Wants to understand the options and the likely result."
            recommendations = PLAN_SUMMARY.get(ctx.sk.plan_type, "Assessment first.")
        rows.new(
            Consultation,
            case=ctx.case,
            held_at=self.at(day, rng),
            staff=user,
            kind=kind,
            concerns=concerns,
            findings=findings,
            recommendations=recommendations,
        )

    def _plans(self, rows, rng, ctx: _CaseContext, smp_kind: str) -> TreatmentPlan:
        """The current plan, and the superseded first version when the plan was revised."""
        sk, case, client = ctx.sk, ctx.case, ctx.client
        kd: dict[str, int] = {}
        if sk.laser:
            # Kirby–Desai (2009) with the real scale; SMP is always head and neck.
            colour = (30, 10, 35, 25) if ctx.primary == IssueKind.COLOUR_SHIFT else (82, 10, 6, 2)
            scarring = (10, 40, 40, 10) if client.keloid_history else (75, 20, 5, 0)
            layered = (case.original_sessions or 0) >= 4 or rng.random() < 0.15
            scores = {
                "skin_type": kirby_desai.FITZPATRICK_POINTS[client.fitzpatrick_type],
                "location": int(kirby_desai.LocationPoints.HEAD_NECK),
                "colour": rng.choices(KD_COLOUR, weights=colour)[0],
                "ink_amount": rng.choices(KD_INK, weights=(8, 30, 42, 20))[0],
                "scarring": rng.choices(KD_SCARRING, weights=scarring)[0],
                "layering": kirby_desai.LayeringPoints.LAYERED if layered else kirby_desai.LayeringPoints.NONE,
            }
            kd = {f"kd_{name}": int(value) for name, value in scores.items()}
            kd["kd_total"] = kirby_desai.kirby_desai_score(**scores).total  # bulk_create skips save()
        sessions = sum(1 for s in sk.steps if s.session)
        extra = 600 if sk.plan_type in ("laser_smp", "saline") else 0
        price = Decimal(50 * round((sessions * rng.randint(250, 450) + extra) / 50))
        manager = self.user(rng.choice(MANAGER_KEYS))
        lead = self.user(ctx.lead_key)

        def new_plan(version: int, status: str, previous=None) -> TreatmentPlan:
            return rows.new(
                TreatmentPlan,
                case=case,
                version=version,
                previous_version=previous,
                status=status,
                summary=PLAN_SUMMARY[sk.plan_type],
                aftercare=PLAN_AFTERCARE[sk.plan_type],
                price_estimate=price + (150 if previous is None and sk.revision else 0),
                **kd,
            )

        plans = []
        previous = None
        if sk.revision:
            previous = new_plan(1, PlanStatus.SUPERSEDED)
            previous.submitted_at = self.at(sk.v1_submit, rng)
            previous.submitted_by = lead
            previous.approved_at = self.at(sk.v1_approve, rng)
            previous.approved_by = manager
            previous.review_note = "Approved."
            previous.internal_notes = "Client asked for a lower price; revised with one session fewer budgeted."
            plans.append(previous)
        status = PLAN_STATUS.get(sk.stage, PlanStatus.CANCELLED)
        current = new_plan(2 if previous else 1, status, previous)
        if sk.submit_day is not None:
            current.submitted_at = self.at(sk.submit_day, rng)
            current.submitted_by = lead
        if sk.approve_day is not None:
            current.approved_at = self.at(sk.approve_day, rng)
            current.approved_by = manager
            current.review_note = rng.choice(("Approved.", "Approved; expectations documented.", ""))
        if sk.accept_day is not None:
            current.accepted_at = self.at(sk.accept_day, rng)
            current.accepted_name = client.full_name
            if ctx.demo:  # accepted in the portal
                current.accepted_by = self.clinic.client_user
                current.accepted_ip = "203.0.113.24"
                current.accepted_user_agent = USER_AGENTS[0]
            else:
                current.accepted_by = self.user("lucy")
                current.accepted_in_clinic = True
        if status == PlanStatus.CANCELLED:
            current.internal_notes = "Cancelled: client withdrew."
        plans.append(current)
        ctx.plans = plans

        option_codes = PLAN_OPTIONS[sk.plan_type] + ([SMP_OPTION[smp_kind]] if sk.plan_type == "laser_smp" else [])
        for p in plans:
            rows.link(M2M["options"], p, [self.clinic.option_ids[code] for code in option_codes])
        return current

    def _plan_step(self, rows, ctx: _CaseContext, plan, step: Step, order: int, smp_kind: str) -> PlanStep:
        """The step in the current plan (and the same step, still planned, in a superseded one)."""
        status = STEP_STATUS.get(step.state, StepStatus.PLANNED)
        description = CorrectionKind(smp_kind).label if step.session == "smp" else STEP_TEXT[step.kind]
        result = None
        interval = max(1, round(step.gap / 7)) if step.gap else None
        for p in ctx.plans:
            # As the plan services derive it: a step with an interval is due that many weeks
            # after the previous step's actual day (its completed session's) or target date.
            base = ctx.step_base.get(id(p))
            target = base + datetime.timedelta(weeks=interval) if interval and base else self.date(step.day)
            done = p is plan and status == StepStatus.DONE and step.session is not None
            ctx.step_base[id(p)] = self.date(step.day) if done else target
            ps = rows.new(
                PlanStep,
                plan=p,
                order=order,
                kind=step.kind,
                description=description,
                interval_weeks=interval,
                target_date=target,
                status=status if p is plan else StepStatus.PLANNED,
            )
            if step.kind != PlanStepKind.REVIEW:
                rows.link(M2M["step_zones"], ps, ctx.zone_ids)
            if p is plan:
                result = ps
        return result

    def _step_follow_up_due(self, sk: Skeleton, step: Step) -> bool:
        """Healing and review steps get a follow-up once they are due within two months."""
        if sk.status == CS.PLANNING or sk.withdraw == "pre":
            return False
        if sk.status == CS.WITHDRAWN:
            return step.day <= sk.closed
        return step.day <= 60

    # -- sessions -------------------------------------------------------------------

    def _laser_session(self, rows, rng, ctx, plan_step, day, state, index, total, test_spot=False) -> LaserSession:
        client = ctx.client
        tech = self.technician(day, rng)
        if ctx.device_key is None:
            darker = client.fitzpatrick_type in Fitzpatrick.darker()
            if not darker and ctx.primary == IssueKind.COLOUR_SHIFT and rng.random() < 0.5:
                ctx.device_key = "Pico room 2"  # 755 nm for a blue-green shift, lighter skin only
            else:
                ctx.device_key = rng.choices(("Pico room 1", "Q-switch room"), weights=(70, 30))[0]
        device = self.clinic.devices[ctx.device_key]
        status = SESSION_STATUS[state]
        session = rows.new(
            LaserSession,
            case=ctx.case,
            plan_step=plan_step,
            scheduled_at=self.at(day, rng),
            status=status,
            technician=self.clinic.artists[tech],
            device=device,
            fitzpatrick_type=client.fitzpatrick_type,
            laser_type=device.laser_type,
            wavelength_nm=755 if device.laser_type == LaserType.PICO_ALEXANDRITE else 1064,
            pulse_domain=PulseDomain.NANOSECOND if device.laser_type == LaserType.QS_ND_YAG else PulseDomain.PICOSECOND,
            test_spot=test_spot,
        )
        ctx.tech_of[id(session)] = tech
        adverse: list[str] = []
        if status == SessionStatus.COMPLETED:
            adverse = self._laser_parameters(session, rng, ctx, index, total, test_spot)
        elif status == SessionStatus.CANCELLED:
            session.internal_notes = "Cancelled by the client."
        elif status == SessionStatus.NOT_ATTENDED:
            session.internal_notes = "Did not attend and did not call; booked again."
        else:
            session.notes_for_client = "Please arrive 10 minutes early; no tanning or sun on the scalp before."
        ctx.adverse_of[id(session)] = adverse
        rows.link(M2M["laser_zones"], session, ctx.zone_ids[:1] if test_spot else ctx.zone_ids)
        rows.link(M2M["adverse"], session, [self.clinic.adverse_ids[a] for a in adverse])
        return session

    def _laser_parameters(self, session, rng, ctx, index, total, test_spot) -> list[str]:
        """Parameters inside the physical limits (docs/domain.md#laser-parameters); fluence
        and clearance rise over the sessions.

        Returns the adverse events of the session.
        """
        if ctx.laser is None:  # the case's protocol: start fluence, rise per session, limits
            kind = session.laser_type
            if kind == LaserType.QS_ND_YAG:  # 5–10 J/cm² at 1064 (docs/domain.md#lasers), kept to 4–8 here
                ctx.laser = (rng.uniform(4.0, 5.5), rng.uniform(0.3, 0.8), 8.0, (2, 4), (1, 5), 6)
            elif kind == LaserType.PICO_ALEXANDRITE:
                ctx.laser = (rng.uniform(2.0, 2.8), rng.uniform(0.2, 0.5), 4.0, (2.5, 4), (1, 5), 750)
            else:  # picosecond Nd:YAG, 1064 nm
                ctx.laser = (rng.uniform(1.5, 2.5), rng.uniform(0.2, 0.6), 4.0, (3, 6), (2, 10), 450)
        f0, inc, cap, spot, rate, width = ctx.laser
        fluence = f0 * 0.8 if test_spot else min(cap, f0 + inc * index)
        session.fluence_j_cm2 = Decimal(f"{max(1.5, fluence):.2f}")
        session.spot_size_mm = Decimal(f"{rng.randint(int(spot[0] * 2), int(spot[1] * 2)) / 2:.1f}")
        session.repetition_rate_hz = Decimal(1 if test_spot else rng.randint(*rate))
        session.pulse_width = Decimal(width)
        session.passes = 1
        session.pain_score = rng.randint(2, 7)
        session.immediate_response = rng.choices(RESPONSES, weights=(80, 8, 10, 2))[0]
        if test_spot:
            session.estimated_clearance_pct = rng.randint(0, 10)
            session.internal_notes = "Test spot, 1 cm² at the least visible edge of the zone."
        else:
            if ctx.clearance_base is None:
                ctx.clearance_base = rng.randint(15, 35)
            rise = (95 - ctx.clearance_base) / max(1, total - 1)
            estimate = round(ctx.clearance_base + rise * index + rng.randint(-3, 3))
            session.estimated_clearance_pct = min(100, max(estimate, ctx.last_clearance + 5))
            ctx.last_clearance = session.estimated_clearance_pct
        session.aftercare_given = rng.random() < 0.97
        session.aftercare_notes = AFTERCARE_LASER if session.aftercare_given else ""
        session.parameters_shared = rng.random() < 0.25
        roll = rng.random()
        if roll < 0.06 and not ctx.demo:
            complication = self.cover.pick("complication", COMPLICATIONS, (10, 10, 12, 12, 4, 4, 6, 6))
            session.adverse_event_notes = f"{AdverseEventChoice(complication).label}; manager informed."
            return [AdverseEventChoice.ERYTHEMA, complication]
        if roll < 0.3:
            session.adverse_event_notes = "Expected transient reaction."
            return sorted(set(rng.choices(AdverseEventChoice.expected(), k=rng.randint(1, 2))))
        return []

    def _correction_session(self, rows, rng, ctx, plan_step, step: Step, kind: str) -> CorrectionSession:
        artist_key = {
            CorrectionKind.SALINE_REMOVAL: rng.choice(("elena", "sofia")),
            CorrectionKind.COLOUR_CORRECTION: "elena",
            CorrectionKind.SCAR_CAMOUFLAGE: rng.choice(("jamie", "morgan")),
        }.get(kind, ctx.lead_key)
        status = SESSION_STATUS[step.state]
        session = rows.new(
            CorrectionSession,
            case=ctx.case,
            plan_step=plan_step,
            scheduled_at=self.at(step.day, rng),
            status=status,
            kind=kind,
            artist=self.clinic.artists[artist_key],
        )
        if kind == CorrectionKind.SALINE_REMOVAL:
            session.saline_solution = rng.choice(SALINE)
            session.needle = "5RS round shader"
        else:
            session.pigment = rng.choice(CORRECTION_PIGMENTS)
            session.needle = rng.choice(NEEDLES)
        if status == SessionStatus.COMPLETED:
            session.duration_minutes = rng.randint(45, 240)
            session.pain_score = rng.randint(1, 6)
            session.aftercare_given = True
            session.aftercare_notes = AFTERCARE_SMP
        elif status == SessionStatus.CANCELLED:
            session.internal_notes = "Cancelled by the client."
        ctx.artist_of[id(session)] = artist_key
        rows.link(M2M["correction_zones"], session, ctx.zone_ids)
        return session

    # -- follow-ups -----------------------------------------------------------------

    def _follow_up(self, rows, rng, ctx, kind, due, assignee_key, laser=None, correction=None) -> FollowUp:
        """A follow-up whose state fits its due date: the review queue gets every state."""
        sk = ctx.sk
        fu = rows.new(
            FollowUp,
            case=ctx.case,
            laser_session=laser,
            correction_session=correction,
            kind=kind,
            due_on=self.date(due),
            assignee=self.user(assignee_key),
        )
        if sk.status == CS.WITHDRAWN and due > sk.closed:
            status = FollowUpStatus.CANCELLED
        elif due >= 0:
            status = FollowUpStatus.SCHEDULED
        elif ctx.demo:
            status = FollowUpStatus.COMPLETED
        elif due >= -45:  # recently due: what the review queue is about
            options = [FollowUpStatus.SCHEDULED, FollowUpStatus.COMPLETED, FollowUpStatus.MISSED]
            weights = [15, 70, 10]
            if sk.status in (CS.CLOSED, CS.WITHDRAWN):  # nothing left open on a finished case
                options, weights = options[1:], weights[1:]
            status = self.cover.pick("recent_follow_up", [*options, FollowUpStatus.CANCELLED], [*weights, 5])
        else:
            options = (FollowUpStatus.COMPLETED, FollowUpStatus.MISSED, FollowUpStatus.CANCELLED)
            status = self.cover.pick("old_follow_up", options, (85, 10, 5))
        fu.status = status
        done_day = due
        if status == FollowUpStatus.COMPLETED:
            done_day = min(-1, due + rng.randint(-2, 3))
            fu.completed_on = self.date(done_day)
            fu.completed_by_id = fu.assignee_id
            adverse = ctx.adverse_of.get(id(laser), []) if laser is not None else []
            if kind in (FollowUpKind.HEALING_CHECK, FollowUpKind.POST_LASER_CHECK, FollowUpKind.TEST_SPOT_RECHECK):
                if any(a not in AdverseEventChoice.expected() for a in adverse):
                    fu.healing = Healing.COMPLICATION
                else:
                    fu.healing = rng.choices((Healing.AS_EXPECTED, Healing.DELAYED), weights=(88, 12))[0]
                fu.notes = HEALING_NOTES[fu.healing]
                lingering = [a for a in adverse if a != AdverseEventChoice.OEDEMA]
                if lingering and rng.random() < 0.6:
                    rows.link(M2M["side_effects"], fu, [self.clinic.adverse_ids[a] for a in lingering])
                    # Written as rows, without the signal that keeps the flag on other paths.
                    fu.unexpected_side_effects = any(a not in AdverseEventChoice.expected() for a in lingering)
            elif kind == FollowUpKind.SATISFACTION:
                fu.satisfaction = ctx.case.satisfaction or rng.choices((2, 3, 4, 5), weights=(5, 20, 45, 30))[0]
                fu.notes = "Satisfaction call."
            else:
                fu.notes = "Density holding; no top-up needed yet."
        elif status == FollowUpStatus.MISSED:
            fu.notes = "Client did not attend; left a voicemail."
        if status in (FollowUpStatus.COMPLETED, FollowUpStatus.MISSED):
            if ctx.demo:
                reviewed = True
            elif due >= -45:
                reviewed = self.cover.pick(f"reviewed_{status}", (False, True), (65, 35))
            else:
                reviewed = rng.random() < 0.98
            review_day = done_day + rng.randint(1, 6)
            if reviewed and review_day <= -1:
                fu.reviewed_at = self.at(review_day, rng)
                fu.reviewed_by = self.user(rng.choice(MANAGER_KEYS))
                fu.review_note = rng.choice(("Seen.", "Fine, no action.", "Book the next session.", ""))
        return fu

    # -- consents -------------------------------------------------------------------

    def _client_consents(self, rows, rng, client, skeletons, signatures, forced, demo) -> None:
        """Data processing and photos once per client; laser and SMP consent per course."""
        texts = self.clinic.consent_texts

        def sign(kind, day, version=1, online=False) -> Consent:
            consent = rows.new(
                Consent,
                client=client,
                text=texts[(kind, version)],
                signed_name=client.full_name,
                signed_at=self.at(day, rng, 8, 8),  # at check-in, before the appointment
            )
            if online:
                consent.signed_ip = "203.0.113.24"
                consent.signed_user_agent = USER_AGENTS[0]
            else:
                consent.signed_in_clinic = True
                consent.witnessed_by = self.user("lucy")
            return consent

        sign(ConsentKind.DATA_PROCESSING, skeletons[0].opened)
        assessed = [sk.issues_day for sk in skeletons if sk.issues_day is not None]
        if assessed:
            sign(ConsentKind.PHOTO_CLINICAL, assessed[0])
            if not demo and (forced.get("teaching") or rng.random() < 0.3):
                consent = sign(ConsentKind.PHOTO_TEACHING, assessed[0])
                if assessed[0] < -31 and self.cover.pick("teaching_withdrawn", (True, False), (12, 88)):
                    consent.withdrawn_at = self.at(rng.randint(assessed[0] + 30, -1), rng)
                    consent.withdrawn_reason = "Changed my mind about marketing use."
        signed = set()
        for kind, day, online in signatures:
            version = 2 if kind == ConsentKind.LASER_TREATMENT and day >= self.clinic.laser_v2_from else 1
            if (kind, version) in signed:
                continue  # still in force from an earlier course: one signature per version
            signed.add((kind, version))
            sign(kind, day, version, online=online)

    # -- photos ---------------------------------------------------------------------

    def _photos(self, ctx: _CaseContext, seed: int, issues, sessions, follow_ups) -> list[Photo]:
        """Generated before/progress/after JPEGs for one case, stored like uploads."""
        rng = random.Random(seed)  # nosec B311  # reproducible demo data, not a secret
        sk, case = ctx.sk, ctx.case
        tone = SKIN_TONES[FITZPATRICK.index(ctx.client.fitzpatrick_type)]
        by_zone = {issue.zone: issue for issue in issues}
        done = sorted(
            (s for s in sessions if s.status == SessionStatus.COMPLETED and not getattr(s, "test_spot", False)),
            key=lambda s: s.scheduled_at,
        )
        jobs = []
        before_day = sk.issues_day if sk.issues_day is not None else sk.opened
        for angle in (PhotoAngle.FRONT, PhotoAngle.TOP, PhotoAngle.CROWN, PhotoAngle.HAIRLINE, PhotoAngle.BACK):
            zone = ANGLE_ZONE.get(angle, "")
            shared = angle in (PhotoAngle.FRONT, PhotoAngle.TOP)
            jobs.append(
                {
                    "kind": PhotoKind.BEFORE,
                    "angle": angle,
                    "zone": zone,
                    "issue": by_zone.get(zone),
                    "day": before_day,
                    "shared": shared,
                }
            )
        progress = [(s, PhotoAngle.FRONT) for s in (done[:1] + done[-1:] if len(done) > 1 else done)]
        if sk.forced["photos"] == "every_session":  # the front at each session, the top now and then
            progress = [(s, PhotoAngle.FRONT) for s in done]
            progress += [(s, PhotoAngle.TOP) for s in done[:: max(1, len(done) // 2)]]
        for session, angle in progress:
            link = "laser_session" if isinstance(session, LaserSession) else "correction_session"
            day = (timezone.localdate(session.scheduled_at, self.clinic.tz) - self.clinic.today).days
            jobs.append({"kind": PhotoKind.PROGRESS, "angle": angle, link: session, "day": day, "shared": True})
        if sk.status in (CS.FOLLOW_UP, CS.CLOSED):
            completed = [f for f in follow_ups if f.status == FollowUpStatus.COMPLETED]
            after_day = sk.closed if sk.status == CS.CLOSED else max(s.day for s in sk.steps if s.state == "done")
            for angle in (PhotoAngle.FRONT, PhotoAngle.LEFT, PhotoAngle.RIGHT):
                jobs.append(
                    {
                        "kind": PhotoKind.AFTER,
                        "angle": angle,
                        "zone": ANGLE_ZONE.get(angle, ""),
                        "follow_up": completed[-1] if completed else None,
                        "day": after_day,
                        "shared": True,
                    }
                )
        photos = []
        for job in jobs:
            day, shared = job.pop("day"), job.pop("shared")
            photo = Photo(
                case=case,
                taken_on=self.date(day),
                shared_with_client=shared,
                uploaded_by=self.user(ctx.lead_key),
                caption=f"{PhotoKind(job['kind']).label} – {PhotoAngle(job['angle']).label}",
                **job,
            )
            data, thumbnail = scalp_jpeg(rng, photo.kind, photo.angle, tone, case.reference)
            photo.image.name = default_storage.save(photo_upload_path(photo, "photo.jpg"), ContentFile(data))
            photo.thumbnail.name = default_storage.save(photo_upload_path(photo, "thumb.jpg"), ContentFile(thumbnail))
            photo.width, photo.height = IMAGE_SIZE
            photo.byte_size = len(data)
            photo.sha256 = photo.file_sha256 = hashlib.sha256(data).hexdigest()
            photos.append(photo)
        return photos

    def _history_photos(self, ctx: _CaseContext, after: bool) -> list[Photo]:
        """An earlier course's front photo before (and sometimes after) treatment.

        Hundreds of thousands of these are not painted one by one: each kind, angle and
        skin tone is painted once, and every photo gets its own file name, a hard link to
        that file where the storage is a local folder (so deleting one photo's files, as
        anonymising does, leaves the others'), otherwise a copy.
        """
        sk, case = ctx.sk, ctx.case
        jobs = [(PhotoKind.BEFORE, sk.issues_day)] + ([(PhotoKind.AFTER, sk.closed)] if after else [])
        tone = SKIN_TONES[FITZPATRICK.index(ctx.client.fitzpatrick_type)]
        photos = []
        for kind, day in jobs:
            source = self._history_file(kind, PhotoAngle.FRONT, tone)
            photo = Photo(
                case=case,
                kind=kind,
                angle=PhotoAngle.FRONT,
                taken_on=self.date(day),
                shared_with_client=True,
                uploaded_by=self.user(ctx.lead_key),
                caption=f"{PhotoKind(kind).label} – {PhotoAngle.FRONT.label}",
                width=IMAGE_SIZE[0],
                height=IMAGE_SIZE[1],
                byte_size=source["byte_size"],
                sha256=source["sha256"],
                file_sha256=source["sha256"],
            )
            photo.image.name = _linked(source, "image", photo_upload_path(photo, "photo.jpg"), self.saved_files)
            photo.thumbnail.name = _linked(source, "thumbnail", photo_upload_path(photo, "thumb.jpg"), self.saved_files)
            photos.append(photo)
        return photos

    def _history_file(self, kind: str, angle: str, tone: tuple[int, int, int]) -> dict:
        key = (kind, angle, tone)
        found = self._history_files.get(key)
        if found is None:
            rng = random.Random(str(key))  # nosec B311  # reproducible demo data, not a secret
            data, thumbnail = scalp_jpeg(rng, kind, angle, tone, "earlier course")
            found = self._history_files[key] = {
                "image": default_storage.save(f"{HISTORY_FOLDER}/photo.jpg", ContentFile(data)),
                "thumbnail": default_storage.save(f"{HISTORY_FOLDER}/thumb.jpg", ContentFile(thumbnail)),
                "byte_size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
            self.saved_files += [found["image"], found["thumbnail"]]
        return found


HISTORY_FOLDER = "photos/demo-history"  # the painted files the earlier courses' photos link to


def _linked(source: dict, field: str, name: str, saved_files: list[str]) -> str:
    """`_link` from the painted file `source[field]`, first making a fresh copy of it
    (noted in `saved_files`, and in `source` for the links after) when the filesystem
    allows it no more links (ext4: 65,000 per file)."""
    try:
        return _link(source[field], name)
    except OSError as error:
        if error.errno != errno.EMLINK:
            raise
    with default_storage.open(source[field]) as file:
        source[field] = default_storage.save(f"{HISTORY_FOLDER}/{field}.jpg", ContentFile(file.read()))
    saved_files.append(source[field])
    return _link(source[field], name)


def _link(source: str, name: str) -> str:
    """A new file `name` with the content of the stored file `source`: a hard link on a
    local folder, a copy elsewhere. Returns the name stored."""
    try:
        source_path, path = Path(default_storage.path(source)), Path(default_storage.path(name))
    except NotImplementedError:  # no local paths (object storage)
        with default_storage.open(source) as file:
            return default_storage.save(name, ContentFile(file.read()))
    path.parent.mkdir(parents=True, exist_ok=True)
    os.link(source_path, path)
    return name


@dataclass(eq=False)
class _CaseContext:
    """What the rows of one case share while they are built."""

    case: Case
    sk: Skeleton
    client: Client
    lead_key: str
    zone_ids: list[int]
    demo: bool
    primary: str | None  # the main issue's kind
    plans: list[TreatmentPlan] = field(default_factory=list)
    device_key: str | None = None
    laser: tuple | None = None
    clearance_base: int | None = None
    last_clearance: int = 0
    adverse_of: dict = field(default_factory=dict)
    tech_of: dict = field(default_factory=dict)
    artist_of: dict = field(default_factory=dict)
    step_base: dict = field(default_factory=dict)  # per plan: the day the next step's interval counts from


def _any_session(sk: Skeleton, session: str) -> bool:
    return any(s.session == session and s.state in ("done", "booked", "cancelled") for s in sk.steps)


# --------------------------------------------------------------------------------------
# The run, and what `manage.py seed_demo` asks about the demo logins.
# --------------------------------------------------------------------------------------


def demo_users_exist() -> bool:
    usernames = set(DEMO_USERNAMES.values()) | {m.username for m in STAFF}
    return User.objects.filter(username__in=usernames).exists()


def database_has_data() -> bool:
    """Demo data goes only into a clinic without clients (and without the demo logins)."""
    return Client.objects.exists() or demo_users_exist()


@dataclass
class Result:
    counts: Counter
    demo_client: str
    demo_reference: str


DEMO_APP_NAME = "Demo authenticator"


def _second_factor_for_demo_managers() -> None:
    """The demo's manager and administrator sign in with a second step: each gets an
    authenticator app device and single-use recovery codes, both printed with the logins
    (the app's key, to try a real app), so the demo needs no phone. Two users, whatever
    the number of clients."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from smpclinic import twofactor

    for user in User.objects.filter(username__in=[DEMO_USERNAMES["admin"], DEMO_USERNAMES["manager"]]):
        TOTPDevice.objects.create(user=user, name=DEMO_APP_NAME, confirmed=True)
        twofactor.new_recovery_codes(user)


def seed(
    *,
    clients: int,
    seed: int,
    password: str,
    today: datetime.date | None = None,
    progress: Callable[[str], None] | None = None,
    history_years: int = 0,
) -> Result:
    """Create the demo clinic in one transaction; the database must have no clients.

    `today` (default: the clinic's today) anchors every date; which rows exist does not
    depend on it. With `history_years`, the clinic is that old: clients also have the
    courses they finished before the last three years (`timeline.history_skeletons`),
    and one client has a course of twenty sessions with thirty photos
    (`timeline.LONG_CASE`): the volume a clinic chain's database holds, for benchmarks.
    """
    sync_all_lookups()
    if Group.objects.filter(name__in=roles.ROLES).count() < len(roles.ROLES):
        roles.sync_groups()
    today = today or timezone.localdate()
    master = random.Random(seed)  # nosec B311  # reproducible demo data, not a secret
    saved_files: list[str] = []
    try:
        with transaction.atomic(), _bulk_load_cache():
            if database_has_data():
                raise ValueError("The demo clinic goes only into a database without clients or demo logins.")
            result = _seed(clients, master, today, password, progress, saved_files, history_years * 365)
            _second_factor_for_demo_managers()
    except BaseException:
        for name in saved_files:
            default_storage.delete(name)
        raise
    return result


@contextmanager
def _bulk_load_cache(megabytes: int = 256):
    """A bigger SQLite page cache while loading: inserts touch a dozen indexes per table."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (previous,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = {-megabytes * 1024}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


def forced_for(index: int, history_days: int) -> dict | None:
    """The hand-laid timeline of the client at `index`, if any."""
    if index < len(FORCED):
        return FORCED[index]
    return LONG_CASE if history_days and index == len(FORCED) else None


def _seed(clients, master, today, password, progress, saved_files, history_days) -> Result:
    counts: Counter = Counter()
    clinic = create_clinic(master, today, password, history_days)
    generator = Generator(clinic, master, history_days, saved_files)
    seeds = [master.getrandbits(64) for _ in range(clients)]

    # Pass one: opening dates, to number references in opening order per year.
    opened = []
    for index, client_seed in enumerate(seeds):
        skeletons = client_skeletons(random.Random(client_seed), forced_for(index, history_days), history_days)  # nosec B311  # demo data
        for number, sk in enumerate(skeletons):
            opened.append((sk.opened, index, number))
    opened.sort()
    start = dict(ReferenceCounter.objects.values_list("year", "last_number"))
    last_number: dict[int, int] = {}
    references: list[list[str]] = [[] for _ in range(clients)]
    for day, index, _number in opened:
        year = (today + datetime.timedelta(days=day)).year
        last_number[year] = last_number.get(year, start.get(year, 0)) + 1
        references[index].append(f"SMP-{year}-{last_number[year]:04d}")
    del opened

    # Pass two: rows, a chunk of clients at a time.
    writer = Writer(timezone.now())
    for chunk_start in range(0, clients, CHUNK):
        rows = Rows(writer)
        for index in range(chunk_start, min(clients, chunk_start + CHUNK)):
            generator.client(rows, index, seeds[index], references[index])
        rows.insert(counts)
        photos = []
        for job in rows.photo_jobs:
            made = job()
            saved_files.extend(p.image.name for p in made)
            saved_files.extend(p.thumbnail.name for p in made)
            photos.extend(made)
        if photos:
            Photo.objects.bulk_create(photos, batch_size=BATCH)
            counts["Photo"] += len(photos)
        if progress:
            progress(f"  {min(clients, chunk_start + CHUNK)} / {clients} clients")

    writer.reset_sequences()
    counts["Booking"] += seed_diary(clinic)

    # Later cases continue after the demo's numbers: one counter row per year the demo
    # could span (always four without history, so counts do not depend on the day it runs).
    first_year = (today - datetime.timedelta(days=history_days)).year if history_days else today.year - 3
    for year in range(min(first_year, today.year - 3), today.year + 1):
        value = max(last_number.get(year, 0), start.get(year, 0))
        ReferenceCounter.objects.update_or_create(year=year, defaults={"last_number": value})
    return Result(counts=counts, demo_client=clinic.demo_client_name, demo_reference=clinic.demo_reference)


def demo_logins() -> list[tuple[str, str]]:
    """(username, what it is) for the demo logins present in the database."""
    roles_text = {
        DEMO_USERNAMES["admin"]: "administrator (Django admin)",
        DEMO_USERNAMES["manager"]: "manager",
        DEMO_USERNAMES["staff"]: "staff, laser technician",
        DEMO_USERNAMES["client"]: "client portal",
    }
    found = []
    users = User.objects.filter(username__in=DEMO_USERNAMES.values()).select_related("artist", "client")
    by_name = {u.username: u for u in users}
    for username in DEMO_USERNAMES.values():
        user = by_name.get(username)
        if user is None:
            continue
        text = roles_text[username]
        artist = getattr(user, "artist", None)
        client = getattr(user, "client", None)
        if artist is not None:
            text += f" – {artist.full_name}"
        if client is not None:
            case = client.cases.order_by("-opened_on").first()
            text += f" – {client.full_name}" + (f", case {case.reference}" if case else "")
        found.append((username, text))
    return found
