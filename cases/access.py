"""One lookup per object that applies visibility: 404 for what the user may not see.

Views never fetch a clinical record by id alone; they call these, which go through the
`visible_to(user)` QuerySet methods (the one tested place for visibility rules).
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from cases.models import (
    Case,
    Client,
    Consultation,
    CorrectionSession,
    FollowUp,
    Issue,
    LaserSession,
    Photo,
    PlanStep,
    TreatmentPlan,
)
from smpclinic.lookups import fill_related, with_choice_rows


def get_client_for_user(user, public_id) -> Client:
    return get_object_or_404(Client.objects.visible_to(user), public_id=public_id)


def get_case_for_user(user, public_id) -> Case:
    return get_object_or_404(Case.objects.visible_to(user).select_related("client"), public_id=public_id)


def get_case_workspace_for_user(user, public_id) -> Case:
    """The case with everything its workspace shows (`CaseQuerySet.for_workspace`); the
    case's overrides, read in one query, are handed to their sessions' `overrides`."""
    case = get_object_or_404(Case.objects.visible_to(user).for_workspace(), public_id=public_id)
    by_laser: dict[int, list] = {}
    by_correction: dict[int, list] = {}
    for override in case.workspace_overrides:
        if override.laser_session_id is not None:
            by_laser.setdefault(override.laser_session_id, []).append(override)
        if override.correction_session_id is not None:
            by_correction.setdefault(override.correction_session_id, []).append(override)
    for session in case.workspace_laser_sessions:
        fill_related(session, "overrides", by_laser.get(session.pk, []))
    for session in case.workspace_correction_sessions:
        fill_related(session, "overrides", by_correction.get(session.pk, []))
    return case


def get_plan_for_user(user, public_id) -> TreatmentPlan:
    return get_object_or_404(TreatmentPlan.objects.visible_to(user).select_related("case__client"), public_id=public_id)


def get_step_for_user(user, public_id) -> PlanStep:
    plans = TreatmentPlan.objects.visible_to(user)
    return get_object_or_404(
        PlanStep.objects.filter(plan__in=plans).select_related("plan__case__client"), public_id=public_id
    )


def _in_visible_case(model, user, public_id):
    """A record of a live case the user may see (CaseRecordQuerySet.visible_to)."""
    return get_object_or_404(model.objects.visible_to(user).select_related("case__client"), public_id=public_id)


def get_consultation_for_user(user, public_id) -> Consultation:
    return _in_visible_case(Consultation, user, public_id)


def get_issue_for_user(user, public_id) -> Issue:
    return _in_visible_case(Issue, user, public_id)


def get_laser_session_for_user(user, public_id) -> LaserSession:
    """The session with what its form shows and its rules judge, in one query: its zones
    and adverse events, its booking (room and length) and its technician."""
    sessions = with_choice_rows(LaserSession.objects.visible_to(user), "zones", "adverse_events")
    return get_object_or_404(sessions.select_related("case__client", "booking", "technician"), public_id=public_id)


def get_correction_session_for_user(user, public_id) -> CorrectionSession:
    """The session with its zones and its booking (room and length), which its form
    shows, in one query."""
    sessions = with_choice_rows(CorrectionSession.objects.visible_to(user), "zones")
    return get_object_or_404(sessions.select_related("case__client", "booking"), public_id=public_id)


def get_follow_up_for_user(user, public_id) -> FollowUp:
    return _in_visible_case(FollowUp, user, public_id)


def get_photo_for_user(user, public_id) -> Photo:
    """A photo the user may see (Photo.objects.visible_to): clients only their shared ones."""
    return get_object_or_404(Photo.objects.visible_to(user).select_related("case__client"), public_id=public_id)
