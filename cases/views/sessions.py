"""Laser and correction sessions (staff): book or record one, with the safety rules shown."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from cases import rules
from cases.access import get_case_for_user, get_correction_session_for_user, get_laser_session_for_user
from cases.choices import SessionStatus
from cases.forms.sessions import (
    CorrectionSessionForm,
    LaserSessionForm,
    correction_session_defaults,
    laser_session_defaults,
)
from cases.models import CorrectionSession, LaserSession
from cases.services.sessions import SessionSaved, correction_session_save, laser_session_save
from smpclinic.models import ClinicSettings
from smpclinic.roles import staff_required

HISTORY_SHOWN = 10


def _saved_message(what: str, saved: SessionSaved, creating: bool) -> str:
    action = "booked" if saved.session.status == SessionStatus.SCHEDULED else "saved"
    text = f"{what} {action}." if creating else f"{what} updated."
    if saved.overrides:
        listed = "; ".join(f"{o.get_rule_display()} (reason: {o.reason})" for o in saved.overrides)
        text += f" Overrides recorded: {listed}."
    return text


def _recorded(session) -> tuple[list, dict[str, set[str]]]:
    if session.pk is None:
        return [], {}
    overrides = list(session.overrides.select_related("overridden_by"))
    recorded: dict[str, set[str]] = {}
    for override in overrides:
        recorded.setdefault(override.rule, set()).add(override.message)
    return overrides, recorded


def _safety_context(request, form, session, findings: list[rules.Finding], checks_apply: bool) -> dict:
    overrides, recorded = _recorded(session)
    return {
        "findings": [f for f in findings if not f.contraindication],
        "checks_apply": checks_apply,
        "override_rows": form.override_rows(findings, request.user, recorded) if checks_apply else [],
        "recorded_overrides": overrides,
    }


def _laser_session_page(request, case, session: LaserSession):
    creating = session.pk is None
    previous = None
    if request.method == "POST":
        form = LaserSessionForm(request.POST, instance=session, case=case, user=request.user)
        if form.is_valid():
            try:
                saved = laser_session_save(
                    session=form.instance,
                    zones=form.cleaned_data["zones"],
                    adverse_events=form.cleaned_data["adverse_events"],
                    by=request.user,
                    overrides=form.overrides(),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _saved_message("Laser session", saved, creating))
                return redirect("cases:case_detail", case_id=case.public_id)
    elif creating:
        session, initial, previous = laser_session_defaults(case, request.user)
        form = LaserSessionForm(instance=session, initial=initial, case=case, user=request.user)
    else:
        form = LaserSessionForm(instance=session, case=case, user=request.user)

    proposal = form.proposal()
    clinic = ClinicSettings.load()
    day = timezone.localdate(proposal["scheduled_at"])
    findings = rules.laser_session_findings(case=case, exclude_id=session.pk, clinic=clinic, **proposal)
    # A new session, or a POST that changes what the rules judge, must meet them now.
    checks_apply = creating or (
        request.method == "POST" and rules.checks_apply(session=form.instance, zones=proposal["zones"])
    )
    history = LaserSession.objects.active().filter(case=case).latest_first().for_history()
    if session.pk:
        history = history.exclude(pk=session.pk)
    context = {
        "case": case,
        "client": case.client,
        "session": session,
        "creating": creating,
        "form": form,
        "previous": previous,
        "contraindications": case.client.contraindications(on=day, clinic=clinic),
        "contraindications_day": day,
        "history": history[:HISTORY_SHOWN],
        "clinic": clinic,
        **_safety_context(request, form, session, findings, checks_apply),
    }
    return render(request, "cases/sessions/laser_session_form.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def laser_session_create(request, case_id):
    case = get_case_for_user(request.user, case_id)
    return _laser_session_page(request, case, LaserSession(case=case))


@staff_required
@require_http_methods(["GET", "POST"])
def laser_session_edit(request, session_id):
    session = get_laser_session_for_user(request.user, session_id)
    return _laser_session_page(request, session.case, session)


def _correction_session_page(request, case, session: CorrectionSession):
    creating = session.pk is None
    if request.method == "POST":
        form = CorrectionSessionForm(request.POST, instance=session, case=case, user=request.user)
        if form.is_valid():
            try:
                saved = correction_session_save(
                    session=form.instance,
                    zones=form.cleaned_data["zones"],
                    by=request.user,
                    overrides=form.overrides(),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _saved_message("Correction session", saved, creating))
                return redirect("cases:case_detail", case_id=case.public_id)
    elif creating:
        session, initial = correction_session_defaults(case, request.user)
        form = CorrectionSessionForm(instance=session, initial=initial, case=case, user=request.user)
    else:
        form = CorrectionSessionForm(instance=session, case=case, user=request.user)

    proposal = form.proposal()
    findings = rules.correction_session_findings(case=case, exclude_id=session.pk, **proposal)
    checks_apply = creating or (
        request.method == "POST" and rules.checks_apply(session=form.instance, zones=proposal["zones"])
    )
    context = {
        "case": case,
        "client": case.client,
        "session": session,
        "creating": creating,
        "form": form,
        **_safety_context(request, form, session, findings, checks_apply),
    }
    return render(request, "cases/sessions/correction_session_form.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def correction_session_create(request, case_id):
    case = get_case_for_user(request.user, case_id)
    return _correction_session_page(request, case, CorrectionSession(case=case))


@staff_required
@require_http_methods(["GET", "POST"])
def correction_session_edit(request, session_id):
    session = get_correction_session_for_user(request.user, session_id)
    return _correction_session_page(request, session.case, session)
