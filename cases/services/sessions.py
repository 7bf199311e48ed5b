"""Booking and recording laser and correction sessions, with the clinical safety rules.

The rules themselves live in `cases.rules`; these functions apply them and save the
session, its zones, adverse events and any overrides in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction

from cases import rules
from cases.models import AdverseEventKind, Case, CorrectionSession, LaserSession, RuleOverride, ZoneLookup


class SessionSaved(NamedTuple):
    session: LaserSession | CorrectionSession
    overrides: list[RuleOverride]  # recorded by this save


def _lock_case(case_id: int) -> None:
    # Serialise session writes per case, so two saves cannot both pass the interval rule.
    Case.objects.select_for_update().filter(pk=case_id).values_list("pk", flat=True).first()


def _check_common(session: LaserSession | CorrectionSession, zones: list[ZoneLookup]) -> None:
    session.full_clean()
    if not zones:
        raise ValidationError("Choose at least one scalp zone.")
    if session.plan_step_id and session.plan_step.plan.case_id != session.case_id:
        raise ValidationError("The plan step belongs to another case.")


def _recorded(session: LaserSession | CorrectionSession) -> dict[str, set[str]]:
    if session.pk is None:
        return {}
    recorded: dict[str, set[str]] = {}
    for rule, message in session.overrides.values_list("rule", "message"):
        recorded.setdefault(rule, set()).add(message)
    return recorded


def _apply_rules(session, findings: list[rules.Finding], by, overrides: Mapping[str, str]) -> dict[str, str]:
    errors, to_record = rules.resolve(findings, overrides=overrides, by=by, recorded=_recorded(session))
    if errors:
        raise ValidationError(errors)
    return to_record


def _judge(
    session: LaserSession | CorrectionSession,
    zones: list[ZoneLookup],
    *,
    by,
    overrides: Mapping[str, str],
    worker: str,
    findings: Callable[..., list[rules.Finding]],
    judged_fields: tuple[str, ...],
) -> dict[str, str]:
    """What both session saves check before saving; returns the overrides to record.

    Locks the case, validates the session, and — when the rules apply to this save —
    refuses an archived `worker` (the session's technician or artist field) and judges
    `findings` (a rules.*_session_findings function) on the session's date, status and
    zones plus its `judged_fields`.
    """
    _lock_case(session.case_id)
    _check_common(session, zones)
    if not rules.checks_apply(session=session, zones=zones):
        return {}
    person = getattr(session, worker)
    if person.is_archived:
        raise ValidationError(f"{person} is archived: choose a current {worker}.")
    found = findings(
        case=session.case,
        scheduled_at=session.scheduled_at,
        status=session.status,
        zones=zones,
        exclude_id=session.pk,
        **{name: getattr(session, name) for name in judged_fields},
    )
    return _apply_rules(session, found, by, overrides)


def _record_overrides(
    session: LaserSession | CorrectionSession, to_record: dict[str, str], overrides: Mapping[str, str], by
) -> list[RuleOverride]:
    link = "laser_session" if isinstance(session, LaserSession) else "correction_session"
    created = []
    for rule, message in to_record.items():
        override = RuleOverride(
            case=session.case,
            rule=rule,
            message=message,
            reason=overrides[rule].strip(),
            overridden_by=by,
            **{link: session},
        )
        override.full_clean()
        override.save()
        created.append(override)
    return created


@transaction.atomic
def laser_session_save(
    *,
    session: LaserSession,
    zones: Iterable[ZoneLookup],
    adverse_events: Iterable[AdverseEventKind] = (),
    by,
    overrides: Mapping[str, str] | None = None,
) -> SessionSaved:
    """Book or record a laser session (new or edited) under DOMAIN.md's laser rules.

    Refuses, with every reason at once: no laser consent in force, a technician without
    a valid laser-safety certification on the day, a zone treated by laser within the
    clinic's minimum interval, Fitzpatrick IV–VI at a wavelength other than 1064 nm, and
    the blocking contraindications (isotretinoin within the washout, active infection) —
    unless `overrides` ({OverrideRule: reason}) covers the overridable ones (blocking
    contraindications: managers only). Each override used is stored as a RuleOverride.
    """
    overrides = overrides or {}
    zones, adverse_events = list(zones), list(adverse_events)
    to_record = _judge(
        session,
        zones,
        by=by,
        overrides=overrides,
        worker="technician",
        findings=rules.laser_session_findings,
        judged_fields=("technician", "wavelength_nm"),
    )
    session.save()
    session.zones.set(zones)
    session.adverse_events.set(adverse_events)
    return SessionSaved(session, _record_overrides(session, to_record, overrides, by))


@transaction.atomic
def correction_session_save(
    *,
    session: CorrectionSession,
    zones: Iterable[ZoneLookup],
    by,
    overrides: Mapping[str, str] | None = None,
) -> SessionSaved:
    """Book or record a non-laser correction session (new or edited).

    Saline removal on a zone the case had saline-treated less than the clinic's minimum
    saline interval before or after (DOMAIN.md: sessions 4–8 weeks apart) is refused
    unless overridden with a reason, which is stored as a RuleOverride.
    """
    overrides = overrides or {}
    zones = list(zones)
    to_record = _judge(
        session,
        zones,
        by=by,
        overrides=overrides,
        worker="artist",
        findings=rules.correction_session_findings,
        judged_fields=("kind",),
    )
    session.save()
    session.zones.set(zones)
    return SessionSaved(session, _record_overrides(session, to_record, overrides, by))
