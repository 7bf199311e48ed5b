"""The clinical safety rules for laser and correction sessions, in one place
(docs/domain.md#safety-rules).

`laser_session_findings()` / `correction_session_findings()` evaluate every rule for a
proposed session and return findings; forms show them, and the session services refuse
the save (`resolve()`) for anything that is neither a plain warning nor overridden.
`overrides_called_for()` decides which overrides a save needs and who may give them: the
form shows its answer as override rows, `resolve()` judges the save by it.

Rules:

1. a laser session needs a signed laser-treatment consent of the client (no override);
2. its technician needs a laser-safety certification valid on the session day (no override);
3. no laser session on a zone the case had treated by laser less than the clinic's
   minimum interval before or after (default 6 weeks); the same for saline removal with
   the saline interval. Staff may override with a reason;
4. Fitzpatrick IV–VI with a wavelength other than 1064 nm needs an override with a reason;
5. isotretinoin within the washout window and active infection block laser treatment
   unless a manager overrides with a reason; other contraindications are warnings;
6. laser work on a case without an agreed plan (approved and accepted) is a warning.

A session that did not take place (cancelled, not attended) is judged by none of them.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Exists, OuterRef, Q, Value
from django.utils import timezone

from artists.models import Certification
from cases.choices import (
    DARK_SKIN_WAVELENGTH,
    ConsentKind,
    CorrectionKind,
    Fitzpatrick,
    OverrideRule,
    SessionStatus,
)
from cases.models import Case, Consent, CorrectionSession, LaserSession, RuleOverride, TreatmentPlan
from smpclinic import roles
from smpclinic.dates import EARLIEST, shifted
from smpclinic.models import ClinicSettings


class Severity(StrEnum):
    ERROR = "error"  # refused, no override
    NEEDS_OVERRIDE = "needs_override"  # any clinic user may override with a reason
    NEEDS_MANAGER_OVERRIDE = "needs_manager_override"  # only a manager may override
    WARNING = "warning"  # shown, never blocks


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    severity: Severity
    rule: str | None = None  # an OverrideRule value when the finding can be overridden
    contraindication: bool = False

    @property
    def blocks(self) -> bool:
        return self.severity != Severity.WARNING


# The fields whose change makes the rules run again when a session is edited.
LASER_RULE_FIELDS = ("scheduled_at", "status", "technician_id", "wavelength_nm")
CORRECTION_RULE_FIELDS = ("scheduled_at", "status", "kind")


def _gap(days: int) -> str:
    if days == 0:
        return "the same day"
    weeks, rest = divmod(days, 7)
    parts = []
    if weeks:
        parts.append(f"{weeks} week{'s' if weeks != 1 else ''}")
    if rest:
        parts.append(f"{rest} day{'s' if rest != 1 else ''}")
    return " and ".join(parts)


def _local_day(moment: datetime.datetime) -> datetime.date:
    """The moment's local day; at the calendar's very ends, where the time-zone shift
    would overflow, the first or last day (the session's own checks refuse such dates)."""
    try:
        return timezone.localdate(moment)
    except OverflowError:
        return datetime.date.min if moment.year == 1 else datetime.date.max


def rule_day(moment: datetime.datetime) -> datetime.date:
    """The local day the rules judge a session on: its own day, or 1 Jan 1900 for an
    earlier one (which the session's own checks refuse)."""
    return max(_local_day(moment), EARLIEST)


def _ids(zones: Iterable) -> set[int]:
    return {getattr(zone, "pk", zone) for zone in zones}


# --- the rules, one function each ---------------------------------------------------


@dataclass(frozen=True)
class LaserFacts:
    """What rules 1, 2 and 6 ask of the database about a proposed session, read together."""

    consent_in_force: bool
    certified: bool  # False without a technician: rule 2 then judges nothing
    agreed_plan: bool


def laser_facts(*, case: Case, scheduled_at: datetime.datetime, technician, day: datetime.date) -> LaserFacts:
    """The client's consent in force at the session time, the technician's certification
    valid on its day and the case's agreed plan, as three EXISTS of one query on the case's
    row (their rules need nothing else from the database)."""
    consent = Consent.objects.filter(client_id=OuterRef("client_id"), text__kind=ConsentKind.LASER_TREATMENT).filter(
        Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gt=scheduled_at)
    )
    certified = (
        Exists(Certification.objects.laser_safety_valid_on(day).filter(artist_id=technician.pk))
        if technician is not None
        else Value(False)
    )
    row = (
        Case.objects.filter(pk=case.pk)
        .values(
            consent_in_force=Exists(consent),
            certified=certified,
            agreed_plan=Exists(TreatmentPlan.objects.agreed().filter(case=OuterRef("pk"))),
        )
        .get()
    )
    return LaserFacts(**{name: bool(value) for name, value in row.items()})


def consent_finding(*, facts: LaserFacts) -> Finding | None:
    """Rule 1: a laser-treatment consent of the client, in force at the session time.

    A consent withdrawn after the session took place still covered it, so editing an
    earlier session's record stays possible; any withdrawal before the session refuses it.
    """
    if facts.consent_in_force:
        return None
    return Finding(
        "consent",
        "The client has no signed laser treatment consent in force: record the client's consent "
        "before booking or recording a laser session.",
        Severity.ERROR,
    )


def certification_finding(*, technician, day: datetime.date, facts: LaserFacts) -> Finding | None:
    """Rule 2: the technician's laser-safety certification is valid on the session day."""
    if technician is None or facts.certified:
        return None
    return Finding(
        "certification",
        f"{technician} holds no laser safety certification valid on {day:%-d %b %Y}: "
        "choose a certified technician, or record the certification first.",
        Severity.ERROR,
    )


def zone_interval_finding(
    *,
    queryset,
    case: Case,
    scheduled_at: datetime.datetime,
    zone_ids: set[int],
    weeks: int,
    treatment: str,
    exclude_id: int | None = None,
) -> Finding | None:
    """Rule 3: completed sessions of the case on a shared zone, closer than `weeks`.

    Counted in calendar days, before or after the session: exactly `weeks` weeks apart is
    allowed. Cancelled and archived sessions, and the session itself, do not count.
    """
    if not zone_ids:
        return None
    day = _local_day(scheduled_at)
    span = weeks * 7
    # Kept a day short of the calendar's end: the range runs to the end of its last day.
    last = min(shifted(day, span - 1), datetime.date.max - datetime.timedelta(days=1))
    nearby = (
        queryset.active()
        .completed()
        .filter(case=case)
        .on_days(shifted(day, -(span - 1)), last)
        .on_any_zone(zone_ids)
        .with_zones()
        .order_by("scheduled_at", "id")
    )
    if exclude_id is not None:
        nearby = nearby.exclude(pk=exclude_id)
    parts = []
    for other in nearby:
        shared = ", ".join(zone.label for zone in other.zones.all() if zone.pk in zone_ids)
        gap = (other.day - day).days
        when = "before" if gap < 0 else "after"
        distance = _gap(abs(gap)) + (f" {when} this session" if gap else "")
        parts.append(f"{shared} on {other.day:%-d %b %Y} ({distance})")
    if not parts:
        return None
    return Finding(
        OverrideRule.ZONE_INTERVAL,
        f"Treated by {treatment} too close to this session: {'; '.join(parts)}. The clinic's minimum "
        f"between {treatment} sessions on a zone is {weeks} weeks.",
        Severity.NEEDS_OVERRIDE,
        rule=OverrideRule.ZONE_INTERVAL,
    )


def dark_skin_finding(*, case: Case, wavelength_nm: int | None) -> Finding | None:
    """Rule 4: Fitzpatrick IV–VI with a wavelength other than 1064 nm, which carry more risk
    of pigment change and scarring (docs/domain.md#safety-rules)."""
    skin = case.client.fitzpatrick_type
    if wavelength_nm is None or wavelength_nm == DARK_SKIN_WAVELENGTH or skin not in Fitzpatrick.darker():
        return None
    return Finding(
        OverrideRule.DARK_SKIN_WAVELENGTH,
        f"Fitzpatrick type {skin} skin with {wavelength_nm} nm: 1064 nm is the usual wavelength for types "
        "IV–VI, which carry more risk of pigment change and scarring.",
        Severity.NEEDS_OVERRIDE,
        rule=OverrideRule.DARK_SKIN_WAVELENGTH,
    )


def contraindication_findings(*, case: Case, day: datetime.date, clinic: ClinicSettings) -> list[Finding]:
    """Rule 5: the client's contraindications on the day; the blocking ones need a manager."""
    return [
        Finding(
            c.code,
            f"{c.label}.",
            Severity.NEEDS_MANAGER_OVERRIDE,
            rule=OverrideRule.CONTRAINDICATION,
            contraindication=True,
        )
        if c.blocks_laser
        else Finding(c.code, f"{c.label}.", Severity.WARNING, contraindication=True)
        for c in case.client.contraindications(on=day, clinic=clinic)
    ]


NO_AGREED_PLAN = "This case has no agreed treatment plan: laser work is normally done under an approved, accepted plan."


def agreed_plan_finding(*, facts: LaserFacts) -> Finding | None:
    """Rule 6: laser work is normally done under a plan a manager approved and the client
    accepted; without one, booking or recording a session is allowed with a warning."""
    if facts.agreed_plan:
        return None
    return Finding("no_agreed_plan", NO_AGREED_PLAN, Severity.WARNING)


# --- evaluating a proposed session ------------------------------------------------------


def laser_session_findings(
    *,
    case: Case,
    scheduled_at: datetime.datetime,
    status: str,
    technician,
    wavelength_nm: int | None,
    zones: Iterable,
    exclude_id: int | None = None,
    clinic: ClinicSettings | None = None,
) -> list[Finding]:
    """Every laser rule for a proposed session (booked or completed); none for one that did
    not take place (cancelled, not attended)."""
    if status in SessionStatus.freeing():
        return []
    clinic = clinic or ClinicSettings.load()
    day = _local_day(scheduled_at)
    facts = laser_facts(case=case, scheduled_at=scheduled_at, technician=technician, day=day)
    found = [
        consent_finding(facts=facts),
        certification_finding(technician=technician, day=day, facts=facts),
        zone_interval_finding(
            queryset=LaserSession.objects,
            case=case,
            scheduled_at=scheduled_at,
            zone_ids=_ids(zones),
            weeks=clinic.min_laser_interval_weeks,
            treatment="laser",
            exclude_id=exclude_id,
        ),
        dark_skin_finding(case=case, wavelength_nm=wavelength_nm),
        agreed_plan_finding(facts=facts),
    ]
    return [f for f in found if f] + contraindication_findings(case=case, day=rule_day(scheduled_at), clinic=clinic)


def correction_session_findings(
    *,
    case: Case,
    kind: str,
    scheduled_at: datetime.datetime,
    status: str,
    zones: Iterable,
    exclude_id: int | None = None,
    clinic: ClinicSettings | None = None,
) -> list[Finding]:
    """The saline-removal interval (rule 3); other correction work has no rule here."""
    if status in SessionStatus.freeing() or kind != CorrectionKind.SALINE_REMOVAL:
        return []
    clinic = clinic or ClinicSettings.load()
    finding = zone_interval_finding(
        queryset=CorrectionSession.objects.filter(kind=CorrectionKind.SALINE_REMOVAL),
        case=case,
        scheduled_at=scheduled_at,
        zone_ids=_ids(zones),
        weeks=clinic.min_saline_interval_weeks,
        treatment="saline removal",
        exclude_id=exclude_id,
    )
    return [finding] if finding else []


def checks_apply(*, session: LaserSession | CorrectionSession, zones: Iterable) -> bool:
    """Whether saving this session runs the rules: always for a new session, and for an
    edit that changes what they judge (date and time, status, technician, wavelength,
    kind, zones).

    A session was checked when it was booked and again when it was recorded as completed;
    later edits of its notes, response or adverse events are not refused because the
    client's flags changed since (an infection noted at the follow-up must still be
    recordable on the session).
    """
    if session.pk is None:
        return True
    model = type(session)
    fields = LASER_RULE_FIELDS if isinstance(session, LaserSession) else CORRECTION_RULE_FIELDS
    stored = model.objects.filter(pk=session.pk).values(*fields).first()
    if stored is None:
        return True
    for field in fields:
        old, new = stored[field], getattr(session, field)
        if field == "scheduled_at":
            old, new = old.replace(second=0, microsecond=0), new.replace(second=0, microsecond=0)
        if old != new:
            return True
    # The related manager reads the stored rows: M2M changes are only written on save.
    return set(session.zones.values_list("pk", flat=True)) != _ids(zones)


def recorded_overrides(overrides: Iterable[RuleOverride]) -> dict[str, set[str]]:
    """{rule: messages} of the overrides already recorded on a session."""
    recorded: dict[str, set[str]] = {}
    for override in overrides:
        recorded.setdefault(override.rule, set()).add(override.message)
    return recorded


@dataclass(frozen=True)
class OverrideCall:
    """An override a save needs: the rule, the findings it covers, and whether `by` may give it."""

    rule: str
    message: str  # the rule's findings as shown, stored with the override
    manager_only: bool  # a blocking contraindication
    allowed: bool  # the person saving may override it
    reason: str  # the reason given, stripped ("" for none)

    @property
    def refusal(self) -> str | None:
        """Why the save is refused for this rule; None when the override counts."""
        if self.manager_only and not self.allowed:
            return (
                f"{self.message} This contraindication blocks laser treatment: only a manager can override it, "
                "with a reason."
            )
        if not self.reason:
            if self.manager_only:
                return (
                    f"{self.message} This contraindication blocks laser treatment: tick the override and give a "
                    "reason to go ahead."
                )
            return f"{self.message} Tick the override and give a reason to go ahead."
        return None


def overrides_called_for(
    findings: Iterable[Finding],
    *,
    by,
    overrides: Mapping[str, str] | None = None,
    recorded: Mapping[str, set[str]] | None = None,
) -> list[OverrideCall]:
    """The overrides the findings call for, in the order found.

    A rule already overridden on this session with the same message (an earlier save)
    needs no second override. Any clinic user may override a rule; a blocking
    contraindication only a manager. `overrides` ({rule: reason}) are the ones given.
    """
    findings = list(findings)
    overrides, recorded = overrides or {}, recorded or {}
    calls: list[OverrideCall] = []
    for rule in dict.fromkeys(f.rule for f in findings if f.rule and f.blocks):
        message = " ".join(f.message for f in findings if f.rule == rule)
        if message in recorded.get(rule, set()):
            continue
        manager_only = any(f.rule == rule and f.severity == Severity.NEEDS_MANAGER_OVERRIDE for f in findings)
        calls.append(
            OverrideCall(
                rule=rule,
                message=message,
                manager_only=manager_only,
                allowed=roles.may(by, roles.OVERRIDE_RULES) or not manager_only,
                reason=(overrides.get(rule) or "").strip(),
            )
        )
    return calls


def resolve(
    findings: list[Finding],
    *,
    overrides: Mapping[str, str],
    by,
    recorded: Mapping[str, set[str]] | None = None,
) -> tuple[list[str], dict[str, str]]:
    """Split the findings into what refuses the save and the overrides to record.

    Returns (error messages, {rule: message} to store as RuleOverride rows): the errors
    that allow no override, then each override called for (`overrides_called_for`) that
    is missing its reason or was given by someone who may not.
    """
    errors = [f.message for f in findings if f.severity == Severity.ERROR]
    to_record: dict[str, str] = {}
    for call in overrides_called_for(findings, by=by, overrides=overrides, recorded=recorded):
        if call.refusal:
            errors.append(call.refusal)
        else:
            to_record[call.rule] = call.message
    return errors, to_record
