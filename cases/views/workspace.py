"""The staff case workspace: open and edit a case, the one-page workspace, status changes,
consultations and issues. Staff and managers only; clients never reach these pages."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_http_methods

from cases import audit, selectors
from cases.access import (
    get_case_for_user,
    get_case_workspace_for_user,
    get_client_for_user,
    get_consultation_for_user,
    get_issue_for_user,
)
from cases.choices import CaseStatus, SessionStatus, Zone
from cases.forms.cases import CaseForm, CaseStatusForm, ConsultationForm, IssueForm
from cases.models import Case, Consultation, CorrectionSession, Issue, LaserSession, TreatmentPlan
from cases.reporting import charts
from cases.services import cases as services
from smpclinic.concurrency import create_once
from smpclinic.forms import add_service_errors
from smpclinic.links import Link
from smpclinic.models import ClinicSettings
from smpclinic.roles import staff_required

STATUS_BADGES = {
    CaseStatus.CONSULTATION: "text-bg-info",
    CaseStatus.ASSESSMENT: "text-bg-info",
    CaseStatus.PLANNING: "text-bg-primary",
    CaseStatus.IN_TREATMENT: "text-bg-warning",
    CaseStatus.FOLLOW_UP: "text-bg-success",
    CaseStatus.CLOSED: "text-bg-secondary",
    CaseStatus.WITHDRAWN: "text-bg-dark",
}
# Status changes that ask for something (outcome, reason) go through a form page.
ASKS_FOR_DETAILS = (CaseStatus.CLOSED, CaseStatus.WITHDRAWN)
JOURNEY = list(CaseStatus.open()) + [CaseStatus.CLOSED]


def _transition_label(current: str, to: str) -> str:
    if to == CaseStatus.CLOSED:
        return "Close the case…"
    if to == CaseStatus.WITHDRAWN:
        return "Withdraw…"
    if to == CaseStatus.IN_TREATMENT and current == CaseStatus.PLANNING:
        return "Start treatment"
    if JOURNEY.index(to) < JOURNEY.index(current):
        return f"Back to {CaseStatus(to).label.lower()}"
    return f"Move to {CaseStatus(to).label.lower()}"


# The history page lists this many of the latest changes.
HISTORY_LIMIT = 50


def _workspace_url(case: Case, anchor: str = "") -> str:
    url = reverse("cases:case_detail", kwargs={"case_id": case.public_id})
    return f"{url}#{anchor}" if anchor else url


# --- Opening and editing a case -------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def case_create(request, client_id):
    client = get_client_for_user(request.user, client_id)
    audit.saw(request, "case form", client, client_id=client.pk)
    form = CaseForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        fields = dict(form.cleaned_data)
        reasons = fields.pop("regret_reasons")
        discussed_by = request.user if fields["expectations_discussed_on"] else None
        try:
            case = services.case_open(
                client=client, regret_reasons=reasons, expectations_discussed_by=discussed_by, **fields
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Case {case.reference} opened for {client.full_name}.")
            return redirect(_workspace_url(case))
    return render(request, "cases/case/form.html", {"form": form, "client": client, "case": None})


@staff_required
@require_http_methods(["GET", "POST"])
def case_edit(request, case_id):
    case = get_case_for_user(request.user, case_id)
    audit.saw(request, "case form", case)
    form = CaseForm(request.POST if request.method == "POST" else None, instance=case)
    if form.is_bound and form.is_valid():
        fields = dict(form.cleaned_data)
        reasons = fields.pop("regret_reasons")
        try:
            case = services.case_update(case=case, by=request.user, regret_reasons=reasons, **fields)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Case {case.reference} saved.")
            return redirect(_workspace_url(case))
    return render(request, "cases/case/form.html", {"form": form, "client": case.client, "case": case})


# --- The workspace ---------------------------------------------------------------------


@dataclass(frozen=True)
class NextStep:
    day: datetime.date
    label: str
    when: datetime.datetime | None = None  # set for a booked session


# A session's status as the timeline's badge shows it.
_SESSION_BADGES = {SessionStatus.COMPLETED: "text-bg-success", SessionStatus.SCHEDULED: "text-bg-info"}


@dataclass(frozen=True)
class TimelineEntry:
    """A session as the workspace's timeline shows it, its texts worked out once in the
    view: drawn by the template field by field, twenty sessions took a ninth of the page."""

    kind: str  # "laser" or "correction"
    session: LaserSession | CorrectionSession
    when_label: str  # "7 Dec 2026 09:00", local time
    day_label: str  # "7 Dec 2026"
    title: str  # "Laser session" or the correction's kind
    badge: str
    details: str  # who, and for laser the device and its settings, " · " between
    zones: str
    adverse_events: str
    edit_url: str

    @property
    def when(self) -> datetime.datetime:
        return self.session.scheduled_at


def _laser_details(session: LaserSession) -> str:
    parts = [session.technician.full_name if session.technician_id else ""]
    if session.device_id:
        parts.append(session.device.name)
    if session.wavelength_nm:
        parts.append(f"{session.wavelength_nm} nm")
    if session.fluence_j_cm2 is not None:
        parts.append(f"{session.fluence_j_cm2} J/cm²")
    if session.spot_size_mm is not None:
        parts.append(f"spot {session.spot_size_mm} mm")
    if session.passes:
        parts.append(f"{session.passes} pass{'es' if session.passes != 1 else ''}")
    if session.estimated_clearance_pct is not None:
        parts.append(f"clearance {session.estimated_clearance_pct} %")
    return " · ".join(parts)


def _label_follow_ups(follow_ups: list, today: datetime.date) -> None:
    """Each follow-up's due date, overdue flag and action links, worked out once for the
    follow-ups table (the due date appears up to three times a row)."""
    complete = Link("cases:followup_complete", "followup_id")
    missed = Link("cases:followup_missed", "followup_id")
    reschedule = Link("cases:followup_reschedule", "followup_id")
    for follow_up in follow_ups:
        follow_up.due_label = date_format(follow_up.due_on, "j M Y")
        follow_up.overdue = follow_up.is_overdue(today)
        follow_up.complete_url = complete(follow_up.public_id)
        follow_up.missed_url = missed(follow_up.public_id)
        follow_up.reschedule_url = reschedule(follow_up.public_id)


def _timeline(laser: list[LaserSession], correction: list[CorrectionSession]) -> list[TimelineEntry]:
    """Laser and correction sessions in one list by time, as the timeline shows them."""
    edit = {
        "laser": Link("cases:laser_session_edit", "session_id"),
        "correction": Link("cases:correction_session_edit", "session_id"),
    }
    entries = []
    for kind, sessions in (("laser", laser), ("correction", correction)):
        for session in sessions:
            local = timezone.localtime(session.scheduled_at)
            if kind == "laser":
                title, details = "Laser session", _laser_details(session)
                events = ", ".join(str(event) for event in session.adverse_events.all())
            else:
                title, events = session.get_kind_display(), ""
                details = session.artist.full_name if session.artist_id else ""
                if session.pigment:
                    details += f" · pigment: {session.pigment}"
            entries.append(
                TimelineEntry(
                    kind=kind,
                    session=session,
                    when_label=date_format(local, "j M Y H:i"),
                    day_label=date_format(local, "j M Y"),
                    title=title,
                    badge=_SESSION_BADGES.get(session.status, "text-bg-secondary"),
                    details=details,
                    zones=", ".join(str(zone) for zone in session.zones.all()) or "—",
                    adverse_events=events,
                    edit_url=edit[kind](session.public_id),
                )
            )
    return sorted(entries, key=lambda entry: entry.when)


@dataclass
class Change:
    """One history row, described without touching the database again."""

    when: datetime.datetime
    who: str
    what: str
    action: str
    details: list[str] = field(default_factory=list)


def _next_step(plan: TreatmentPlan | None, sessions: list) -> NextStep | None:
    """The earliest of: the client's plan's next planned step (`next_planned_step`), when
    it has a target date, and the next booked session."""
    candidates = []
    step = plan.next_planned_step() if plan is not None else None
    if step is not None and step.target_date:
        candidates.append(NextStep(step.target_date, f"Plan step {step.order}: {step.get_kind_display()}"))
    booked = [s for s in sessions if s.status == SessionStatus.SCHEDULED]
    if booked:
        session = min(booked, key=lambda s: s.scheduled_at)
        label = "Laser session" if isinstance(session, LaserSession) else f"{session.get_kind_display()} session"
        if step is not None and session.plan_step_id == step.pk:
            label = f"Plan step {step.order}: {label.lower()}"  # the plan section shows it booked too
        candidates.append(NextStep(session.day, f"{label} booked", session.scheduled_at))
    return min(candidates, key=lambda c: c.day) if candidates else None


def _history_label(row) -> str:
    model = row.instance_type
    if model is Case:
        return "Case"
    if model is Issue:
        return f"Issue: {row.get_kind_display()} ({row.get_zone_display()})"
    if model is Consultation:
        return f"Consultation of {timezone.localtime(row.held_at):%-d %b %Y}"
    if model is TreatmentPlan:
        return f"Plan v{row.version}"
    if model is LaserSession:
        return f"Laser session of {timezone.localtime(row.scheduled_at):%-d %b %Y}"
    if model is CorrectionSession:
        return f"{row.get_kind_display()} session of {timezone.localtime(row.scheduled_at):%-d %b %Y}"
    return f"Follow-up: {row.get_kind_display()} due {row.due_on:%-d %b %Y}"


def _m2m_names(row) -> list[str]:
    return [f.name for f in getattr(type(row), "_history_m2m_fields", [])]


def _describe_change(row, previous, m2m: dict) -> list[str]:
    """Which fields changed; old → new for short values (choices by their labels), and
    the items added to or removed from many-to-many fields (zones, adverse events…)."""
    model = row.instance_type
    delta = row.diff_against(previous, excluded_fields={"created_at", "updated_at", "lock_version", *_m2m_names(row)})
    details = []
    for change in delta.changes:
        model_field = model._meta.get_field(change.field)
        name = str(model_field.verbose_name)
        if model_field.is_relation or model_field.get_internal_type() == "TextField":
            details.append(name)
            continue
        if model_field.choices:
            labels = dict(model_field.flatchoices)
            old, new = labels.get(change.old, change.old), labels.get(change.new, change.new)
        else:
            old, new = change.old, change.new
        details.append(f"{name}: {old if old not in (None, '') else '—'} → {new if new not in (None, '') else '—'}")
    for name in _m2m_names(row):
        before = m2m.get((type(row), name, previous.history_id), set())
        after = m2m.get((type(row), name, row.history_id), set())
        if before == after:
            continue
        label = str(model._meta.get_field(name).verbose_name)
        parts = [f"+ {item}" for item in sorted(after - before)] + [f"− {item}" for item in sorted(before - after)]
        details.append(f"{label}: {', '.join(parts)}")
    return details


def _recent_changes(case: Case, limit: int = HISTORY_LIMIT) -> list[Change]:
    """The latest changes to the case and its records, newest first (`selectors.case_history`)."""
    history = selectors.case_history(case, limit)
    changes = []
    for row in history.rows:
        user = row.history_user
        before = history.before(row)
        changes.append(
            Change(
                when=row.history_date,
                who=(user.get_full_name() or user.username) if user else "system",
                what=_history_label(row),
                action=row.get_history_type_display(),
                details=_describe_change(row, before, history.m2m) if before is not None else [],
            )
        )
    return changes


@staff_required
@require_http_methods(["GET"])
def case_detail(request, case_id):
    case = get_case_workspace_for_user(request.user, case_id)
    audit.saw(request, "case", case)
    # The client's plan (agreed) is the one shown and followed; before any acceptance,
    # the plan being prepared. A revision being prepared is linked beside the agreed plan.
    # `workspace_plans`: the standing plans (at most two), newest first.
    plans = case.workspace_plans
    client_plan = next((p for p in plans if p.is_agreed), None)
    pending = next((p for p in plans if not p.is_agreed), None)
    plan, revision = (client_plan, pending) if client_plan is not None else (pending, None)
    laser = case.workspace_laser_sessions
    correction = case.workspace_correction_sessions

    issue_groups: dict[str, list[Issue]] = {}
    for issue in case.workspace_issues:
        issue_groups.setdefault(issue.zone, []).append(issue)

    timeline = _timeline(laser, correction)
    today = timezone.localdate()
    _label_follow_ups(case.workspace_follow_ups, today)
    context = {
        "case": case,
        "client": case.client,
        "status_badge": STATUS_BADGES.get(case.status, "text-bg-secondary"),
        "contraindications": case.client.contraindications(clinic=ClinicSettings.cached()),
        "next_step": _next_step(client_plan, [*laser, *correction]),
        "issue_groups": [(Zone(z).label, issue_groups[z]) for z in Zone.values if z in issue_groups],
        "plan": plan,
        "revision": revision,
        "estimate": plan.kirby_desai() if plan else None,
        "completed_laser_sessions": sum(1 for s in laser if s.status == SessionStatus.COMPLETED),
        "fade_chart": charts.fade_chart(laser),
        "timeline": timeline,
        "transitions": [
            {
                "to": to,
                "label": _transition_label(case.status, to),
                "asks": to in ASKS_FOR_DETAILS,
                "blocked": to == CaseStatus.IN_TREATMENT and client_plan is None,
            }
            for to in services.allowed_transitions(case.status)
        ],
        "today": today,
    }
    return render(request, "cases/case/detail.html", context)


@staff_required
@require_http_methods(["GET"])
def case_history(request, case_id):
    """Who changed what in the case and its records, newest first: a page of its own, so
    that the workspace does not read fourteen history tables at every visit."""
    case = get_case_for_user(request.user, case_id)
    audit.saw(request, "case history", case)
    context = {"case": case, "client": case.client, "changes": _recent_changes(case), "limit": HISTORY_LIMIT}
    return render(request, "cases/case/history.html", context)


# --- Status changes ----------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def case_status(request, case_id):
    """GET ?to=<status> shows what that change asks for; POST applies it.

    Without a target, the page lists the changes the case allows now.
    """
    case = get_case_for_user(request.user, case_id)
    audit.saw(request, "case status", case)
    posted = request.method == "POST"
    to = (request.POST if posted else request.GET).get("to", "")
    if not to:
        if posted:
            messages.error(request, "Choose the status the case should move to.")
            return redirect(_workspace_url(case))
        transitions = [(s, _transition_label(case.status, s)) for s in services.allowed_transitions(case.status)]
        return render(request, "cases/case/status.html", {"case": case, "transitions": transitions, "form": None})
    try:
        services.check_transition(case=case, to=to)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(_workspace_url(case))

    form = CaseStatusForm(request.POST if posted else None, to=to)
    if posted and form.is_valid():
        try:
            case = services.case_change_status(case=case, to=to, by=request.user, **form.service_arguments())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Case {case.reference} moved to {case.get_status_display()}.")
            return redirect(_workspace_url(case))
    context = {"case": case, "form": form, "to": to, "to_label": CaseStatus(to).label}
    return render(request, "cases/case/status.html", context)


# --- Consultations -----------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def consultation_create(request, case_id):
    case = get_case_for_user(request.user, case_id)
    audit.saw(request, "consultation form", case)
    form = ConsultationForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            _, created = create_once(
                Consultation,
                form.submission_token,
                lambda: services.consultation_create(
                    case=case, staff=request.user, submission_token=form.submission_token, **form.cleaned_data
                ),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Consultation recorded." if created else "This consultation was already saved.")
            return redirect(_workspace_url(case, "consultations"))
    return render(request, "cases/case/consultation_form.html", {"form": form, "case": case, "consultation": None})


@staff_required
@require_http_methods(["GET", "POST"])
def consultation_edit(request, consultation_id):
    consultation = get_consultation_for_user(request.user, consultation_id)
    case = consultation.case
    audit.saw(request, "consultation form", consultation, client_id=case.client_id)
    form = ConsultationForm(request.POST if request.method == "POST" else None, instance=consultation)
    if form.is_bound and form.is_valid():
        try:
            services.consultation_update(consultation=consultation, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Consultation saved.")
            return redirect(_workspace_url(case, "consultations"))
    context = {"form": form, "case": case, "consultation": consultation}
    return render(request, "cases/case/consultation_form.html", context)


# --- Issues ------------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def issue_create(request, case_id):
    case = get_case_for_user(request.user, case_id)
    audit.saw(request, "issue form", case)
    form = IssueForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            services.issue_create(case=case, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Issue recorded.")
            return redirect(_workspace_url(case, "issues"))
    return render(request, "cases/case/issue_form.html", {"form": form, "case": case, "issue": None})


@staff_required
@require_http_methods(["GET", "POST"])
def issue_edit(request, issue_id):
    issue = get_issue_for_user(request.user, issue_id)
    case = issue.case
    audit.saw(request, "issue form", issue, client_id=case.client_id)
    form = IssueForm(request.POST if request.method == "POST" else None, instance=issue)
    if form.is_bound and form.is_valid():
        try:
            services.issue_update(issue=issue, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Issue saved.")
            return redirect(_workspace_url(case, "issues"))
    return render(request, "cases/case/issue_form.html", {"form": form, "case": case, "issue": issue})
