"""Laser and correction sessions (staff): book or record one, with the safety rules shown."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from cases import audit, rules
from cases.access import get_case_for_user, get_correction_session_for_user, get_laser_session_for_user
from cases.choices import SessionStatus
from cases.forms.sessions import (
    CorrectionSessionForm,
    LaserSessionForm,
    new_correction_session,
    new_laser_session,
)
from cases.models import CorrectionSession, LaserSession
from cases.services.sessions import SessionSaved, correction_session_save, laser_session_save
from smpclinic.concurrency import create_once
from smpclinic.forms import add_service_errors
from smpclinic.models import ClinicSettings
from smpclinic.roles import staff_required

HISTORY_SHOWN = 10


def _saved_message(what: str, saved: SessionSaved, creating: bool) -> str:
    action = "booked" if saved.session.status == SessionStatus.SCHEDULED else "saved"
    text = f"{what} {action}." if creating else f"{what} updated."
    if saved.overrides:
        listed = "; ".join(f"{o.get_rule_display()} (reason: {o.reason})" for o in saved.overrides)
        text += f" Overrides recorded: {listed}."
    if saved.follow_up is not None:
        due = saved.follow_up.due_on
        text += f" {saved.follow_up.get_kind_display()} scheduled for {due.day} {due:%b %Y}."
    return text


def _recorded(session) -> tuple[list, dict[str, set[str]]]:
    if session.pk is None:
        return [], {}
    overrides = list(session.overrides.select_related("overridden_by"))
    return overrides, rules.recorded_overrides(overrides)


def _session_form(request, case, session, form_class):
    data = request.POST if request.method == "POST" else None
    return form_class(data, instance=session, case=case, user=request.user)


def _save(request, case, form, save, what: str, creating: bool):
    """On a valid POST, save through the service and redirect; else None (show the form).

    A new session is made once per form: posting the same form again (a double click, a
    resubmit) answers with the session the first post made."""
    if request.method != "POST" or not form.is_valid():
        return None
    saved: list[SessionSaved] = []

    def save_it():
        saved.append(save(by=request.user, submission_token=form.submission_token, **form.session_fields()))
        return saved[0].session

    try:
        if creating:
            _, created = create_once(type(form.instance), form.submission_token, save_it)
        else:
            save_it()
            created = True
    except ValidationError as error:
        add_service_errors(form, error)
        return None
    if not created:
        messages.info(request, f"This {what.lower()} was already saved.")
    else:
        messages.success(request, _saved_message(what, saved[0], creating))
        for warning in saved[0].warnings:
            messages.warning(request, warning)
    return redirect("cases:case_detail", case_id=case.public_id)


def _page_context(request, case, session, form, creating: bool, findings: list[rules.Finding], zones) -> dict:
    # A new session, or a POST that changes what the rules judge, must meet them now.
    checks_apply = creating or (request.method == "POST" and rules.checks_apply(session=form.instance, zones=zones))
    overrides, recorded = _recorded(session)
    return {
        "case": case,
        "client": case.client,
        "session": session,
        "creating": creating,
        "form": form,
        "findings": [f for f in findings if not f.contraindication],
        "checks_apply": checks_apply,
        "override_rows": form.override_rows(findings, request.user, recorded) if checks_apply else [],
        "recorded_overrides": overrides,
    }


def _laser_session_page(request, case, session: LaserSession):
    creating = session.pk is None
    audit.saw(request, "laser session form", case if creating else session, client_id=case.client_id)
    previous = None
    prefill = creating and request.method != "POST"
    if prefill:
        session, previous = new_laser_session(case)
    form = _session_form(request, case, session, LaserSessionForm)
    if prefill:
        form.prefill(previous)
    if saved := _save(request, case, form, laser_session_save, "Laser session", creating):
        return saved

    proposal = form.proposal()
    clinic = ClinicSettings.load()
    day = rules.rule_day(proposal["scheduled_at"])
    findings = rules.laser_session_findings(case=case, exclude_id=session.pk, clinic=clinic, **proposal)
    history = LaserSession.objects.active().filter(case=case).latest_first().for_history()
    if session.pk:
        history = history.exclude(pk=session.pk)
    context = {
        **_page_context(request, case, session, form, creating, findings, proposal["zones"]),
        "previous": previous,
        "contraindications": case.client.contraindications(on=day, clinic=clinic),
        "contraindications_day": day,
        "history": history[:HISTORY_SHOWN],
        "clinic": clinic,
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
    audit.saw(request, "correction session form", case if creating else session, client_id=case.client_id)
    prefill = creating and request.method != "POST"
    if prefill:
        session = new_correction_session(case)
    form = _session_form(request, case, session, CorrectionSessionForm)
    if prefill:
        form.prefill()
    if saved := _save(request, case, form, correction_session_save, "Correction session", creating):
        return saved

    proposal = form.proposal()
    findings = rules.correction_session_findings(case=case, exclude_id=session.pk, **proposal)
    context = _page_context(request, case, session, form, creating, findings, proposal["zones"])
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
