"""Booking and recording laser and correction sessions, with the clinical safety rules.

The rules themselves live in `cases.rules`; these functions apply them and save the
session, its zones, adverse events and any overrides in one transaction, move the plan
steps the session carries out, and schedule the check that follows a completed session.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction

from cases import rules
from cases.choices import FollowUpKind, SessionStatus
from cases.models import (
    AdverseEventKind,
    Booking,
    Case,
    CorrectionSession,
    FollowUp,
    LaserSession,
    RuleOverride,
    ZoneLookup,
)
from cases.models.sessions import pulse_domain_of
from cases.services import diary
from cases.services.followups import followup_create
from cases.services.plans import plan_steps_follow_sessions
from smpclinic import roles
from smpclinic.concurrency import lock_for_edit
from smpclinic.models import ClinicSettings


class SessionSaved(NamedTuple):
    session: LaserSession | CorrectionSession
    overrides: list[RuleOverride]  # recorded by this save
    follow_up: FollowUp | None = None  # the check this save scheduled
    warnings: tuple[str, ...] = ()  # findings that did not block the save (not contraindications)
    booking: Booking | None = None  # its slot in the diary


class _Stored(NamedTuple):
    """What the session was before this save (nothing for a new one)."""

    status: str | None
    plan_step_id: int | None


def _lock_case(case_id: int) -> None:
    # Serialise session writes per case, so two saves cannot both pass the interval rule.
    Case.objects.select_for_update().filter(pk=case_id).values_list("pk", flat=True).first()


def _stored(session: LaserSession | CorrectionSession) -> _Stored:
    """Lock the stored row of an edited session and refuse a stale copy (someone saved it
    after this form was opened): nothing of theirs is overwritten."""
    if session.pk is None:
        return _Stored(None, None)
    stored = lock_for_edit(session)
    return _Stored(stored.status, stored.plan_step_id)


def _fill_from_device(session: LaserSession) -> None:
    """Without JavaScript nobody fills the laser type from the device: take the device's,
    and the pulse domain the laser type implies, where they were left empty."""
    if session.device_id and not session.laser_type:
        session.laser_type = session.device.laser_type
    if not session.pulse_domain:
        session.pulse_domain = pulse_domain_of(session.laser_type)


def _check_common(session: LaserSession | CorrectionSession, zones: list[ZoneLookup]) -> None:
    # The submission token's uniqueness is the database's to decide: a parallel submit of
    # the same form must reach the INSERT, whose IntegrityError create_once() answers with
    # the first session, not a form error.
    session.full_clean(exclude={"submission_token"})
    if not zones:
        raise ValidationError("Choose at least one scalp zone.")
    if session.plan_step_id and session.plan_step.plan.case_id != session.case_id:
        raise ValidationError("The plan step belongs to another case.")


def _judge(
    session: LaserSession | CorrectionSession,
    zones: list[ZoneLookup],
    *,
    by,
    overrides: Mapping[str, str],
    worker: str,
    findings: Callable[..., list[rules.Finding]],
    judged_fields: tuple[str, ...],
) -> tuple[dict[str, str], tuple[str, ...]]:
    """What both session saves check before saving; returns the overrides to record and
    the warnings to show.

    Validates the session and — when the rules apply to this save — refuses an archived
    `worker` (the session's technician or artist field) and judges `findings` (a
    rules.*_session_findings function) on the session's date, status and zones plus its
    `judged_fields`.
    """
    _check_common(session, zones)
    if not rules.checks_apply(session=session, zones=zones):
        return {}, ()
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
    recorded = rules.recorded_overrides(session.overrides.all()) if session.pk else {}
    errors, to_record = rules.resolve(found, overrides=overrides, by=by, recorded=recorded)
    if errors:
        raise ValidationError(errors)
    warnings = tuple(f.message for f in found if f.severity == rules.Severity.WARNING and not f.contraindication)
    return to_record, warnings


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


# The check a completed session calls for: its kind, and the Clinic settings field with
# the days after the session's day (0: none). After laser, a healing check at 1–2 weeks
# (docs/domain.md#aftercare).
CHECK_AFTER = {
    LaserSession: (FollowUpKind.POST_LASER_CHECK, "laser_check_days", "laser_session", "technician"),
    CorrectionSession: (FollowUpKind.HEALING_CHECK, "correction_check_days", "correction_session", "artist"),
}


def _schedule_check(session: LaserSession | CorrectionSession, before: _Stored, by) -> FollowUp | None:
    """Completing a session (new, or edited into completed) schedules its check, due the
    clinic's number of days after the session's day in the clinic's time zone, assigned
    to the technician's or artist's login when they have one that is clinic staff.

    Never a second one: none if a check of that kind is linked to the session already,
    whatever its state (done, missed, cancelled), e.g. after completing it again.
    """
    if session.status != SessionStatus.COMPLETED or before.status == SessionStatus.COMPLETED:
        return None
    kind, days_field, link, worker = CHECK_AFTER[type(session)]
    days = getattr(ClinicSettings.load(), days_field)
    if not days or FollowUp.objects.filter(kind=kind, **{link: session}).exists():
        return None
    login = getattr(session, worker).user
    assignee = login if login is not None and login.is_active and roles.is_clinic_user(login) else None
    return followup_create(
        case=session.case,
        kind=kind,
        due_on=session.local_day() + datetime.timedelta(days=days),
        assignee=assignee,
        by=by,
        **{link: session},
    )


def _after_save(session: LaserSession | CorrectionSession, before: _Stored, by) -> FollowUp | None:
    """What follows a saved session: its plan steps (the one it left and the one it
    carries out now) follow it, and a completed session schedules its check."""
    plan_steps_follow_sessions(step_ids=[before.plan_step_id, session.plan_step_id])
    return _schedule_check(session, before, by)


@transaction.atomic
def laser_session_save(
    *,
    session: LaserSession,
    zones: Iterable[ZoneLookup],
    adverse_events: Iterable[AdverseEventKind] = (),
    by,
    overrides: Mapping[str, str] | None = None,
    submission_token: uuid.UUID | str | None = None,
    slot: diary.Slot | None = None,
) -> SessionSaved:
    """Book or record a laser session (new or edited) under the clinic's laser rules
    (docs/domain.md#safety-rules).

    Refuses, with every reason at once: no laser consent in force, a technician without
    a valid laser-safety certification on the day, a zone treated by laser within the
    clinic's minimum interval, Fitzpatrick IV–VI at a wavelength other than 1064 nm, and
    the blocking contraindications (isotretinoin within the washout, active infection) —
    unless `overrides` ({OverrideRule: reason}) covers the overridable ones (blocking
    contraindications: managers only). Each override used is stored as a RuleOverride.
    The model refuses a session recorded as completed or not attended before its time, and
    a laser type or wavelength its device does not have. An edit based on a stale copy of
    the session is refused (StaleEdit). `submission_token` is a create form's, so a second
    submit of the same form finds this session (smpclinic.concurrency.create_once).
    The session takes its slot in the diary (`diary.session_booked`, with `slot`'s room and
    length): refused if its technician, room or device is booked at the same time.
    """
    overrides = overrides or {}
    zones, adverse_events = list(zones), list(adverse_events)
    _lock_case(session.case_id)
    before = _stored(session)
    if session.pk is None:
        session.submission_token = submission_token
    _fill_from_device(session)
    to_record, warnings = _judge(
        session,
        zones,
        by=by,
        overrides=overrides,
        worker="technician",
        findings=rules.laser_session_findings,
        judged_fields=("technician", "wavelength_nm"),
    )
    # The skin type the rules judged, recorded with the session until it is completed;
    # after that the session keeps the type it was treated with.
    if before.status != SessionStatus.COMPLETED or not session.fitzpatrick_type:
        session.fitzpatrick_type = session.case.client.fitzpatrick_type
    session.save()
    session.zones.set(zones)
    session.adverse_events.set(adverse_events)
    booking = diary.session_booked(session, slot=slot, by=by, new=before.status is None)
    recorded = _record_overrides(session, to_record, overrides, by)
    return SessionSaved(session, recorded, _after_save(session, before, by), warnings, booking)


@transaction.atomic
def correction_session_save(
    *,
    session: CorrectionSession,
    zones: Iterable[ZoneLookup],
    by,
    overrides: Mapping[str, str] | None = None,
    submission_token: uuid.UUID | str | None = None,
    slot: diary.Slot | None = None,
) -> SessionSaved:
    """Book or record a non-laser correction session (new or edited).

    Saline removal on a zone the case had saline-treated less than the clinic's minimum
    saline interval before or after (sessions 4–8 weeks apart, docs/domain.md#laser-intervals) is
    refused unless overridden with a reason, which is stored as a RuleOverride. Completed
    or not attended only once its time has passed; stale edits refused; a completed
    session schedules its healing check. Its slot in the diary as for laser sessions.
    """
    overrides = overrides or {}
    zones = list(zones)
    _lock_case(session.case_id)
    before = _stored(session)
    if session.pk is None:
        session.submission_token = submission_token
    to_record, warnings = _judge(
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
    booking = diary.session_booked(session, slot=slot, by=by, new=before.status is None)
    recorded = _record_overrides(session, to_record, overrides, by)
    return SessionSaved(session, recorded, _after_save(session, before, by), warnings, booking)
