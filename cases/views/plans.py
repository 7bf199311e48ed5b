"""Treatment plans (staff): draft, steps, submit, manager review, revise, acceptance in clinic.

The rules live in cases.services.plans; each view looks the record up through
cases.access (404 for what the user may not see), validates with a form, calls a
service and redirects with a message.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases import audit, kirby_desai
from cases.access import get_case_for_user, get_plan_for_user, get_step_for_user
from cases.choices import PlanStatus, StepStatus
from cases.forms.plans import AcceptInClinicForm, PlanForm, PlanVersionForm, ReviewForm, ReviseForm, StepForm
from cases.models import Issue, LaserSession, PlanStep, TreatmentPlan
from cases.models.plans import KD_FIELDS
from cases.services import plans as services
from smpclinic import roles
from smpclinic.forms import add_service_errors, expected_version
from smpclinic.models import ClinicSettings
from smpclinic.roles import staff_required


def _detail_url(plan: TreatmentPlan) -> str:
    return reverse("cases:plan_detail", args=[plan.public_id])


def _refused(request: HttpRequest, plan: TreatmentPlan, reason: str) -> HttpResponse:
    messages.error(request, reason)
    return redirect(_detail_url(plan))


def _bound(request: HttpRequest) -> dict | None:
    return request.POST if request.method == "POST" else None


# ---------------------------------------------------------------------------
# The plan
# ---------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def plan_create(request: HttpRequest, case_id) -> HttpResponse:
    case = get_case_for_user(request.user, case_id)
    audit.saw(request, "plan form", case)
    refusal = services.plan_create_refusal(case)
    if refusal:
        messages.error(request, refusal)
        existing = services.standing_plan(case)
        return redirect(_detail_url(existing) if existing else reverse("cases:case_detail", args=[case.public_id]))
    clinic = ClinicSettings.load()
    form = PlanForm(_bound(request), instance=TreatmentPlan(case=case), case=case, currency=clinic.currency)
    if form.is_valid():
        try:
            plan = services.plan_create(case=case, options=form.cleaned_data["options"], **form.plan_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Draft plan (version {plan.version}) saved. Add its steps next.")
            return redirect(_detail_url(plan))
    return render(request, "cases/plans/plan_form.html", {"form": form, "case": case, "plan": None})


@staff_required
@require_GET
def plan_detail(request: HttpRequest, plan_id) -> HttpResponse:
    found = get_plan_for_user(request.user, plan_id)
    plan = TreatmentPlan.objects.for_detail().get(pk=found.pk)
    case = plan.case
    audit.saw(request, "plan", plan, client_id=case.client_id)
    approver = roles.may(request.user, roles.APPROVE_PLANS)
    versions = list(
        TreatmentPlan.objects.versions_of(case).only(
            "public_id", "version", "status", "case_id", "previous_version_id", "archived_at"
        )
    )
    actions = {
        "edit": services.edit_refusal(plan) is None,
        "submit": services.submit_refusal(plan) is None,
        "review": approver and services.review_refusal(plan) is None,
        "revise": services.revise_refusal(plan) is None,
        "discard": services.discard_refusal(plan) is None,
        "accept": services.accept_refusal(plan) is None,
    }
    context = {
        **_plan_summary(plan),
        "steps": _steps_dated(plan),
        "client": case.client,
        "versions": versions,
        "later_version": next((v for v in versions if v.previous_version_id == plan.pk), None),
        # The version in force while this one is prepared (the client's plan), if another.
        "client_plan": next((v for v in versions if v.is_agreed and v.pk != plan.pk), None),
        "actions": actions,
        "submit_form": PlanVersionForm(plan=plan),
        "awaiting_review": plan.status == PlanStatus.PROPOSED and not plan.is_approved,
    }
    return render(request, "cases/plans/plan_detail.html", context)


def _steps_dated(plan: TreatmentPlan) -> list[PlanStep]:
    """The plan's steps; on a superseded version, a done step's date is read from the
    later version's matching step (same order and kind), where its sessions moved."""
    steps = list(plan.steps.all())
    if plan.status != PlanStatus.SUPERSEDED:
        return steps
    undated = {(s.order, s.kind): s for s in steps if s.status == StepStatus.DONE and s.done_on is None}
    if undated:
        later = (
            PlanStep.objects.filter(plan__case_id=plan.case_id, plan__version__gt=plan.version)
            .with_done_at()
            .order_by("plan__version")
        )
        for step in later:
            match = undated.get((step.order, step.kind))
            if match is not None and (step.laser_done_at or step.correction_done_at):
                match.laser_done_at, match.correction_done_at = step.laser_done_at, step.correction_done_at
                del undated[(step.order, step.kind)]
    return steps


def _plan_summary(plan: TreatmentPlan) -> dict:
    """The plan as its detail and review pages show it: steps, options, Kirby–Desai estimate."""
    return {
        "plan": plan,
        "case": plan.case,
        "steps": plan.steps.all(),
        "options": plan.options.all(),
        "kd_rows": _kirby_desai_rows(plan),
        "estimate": plan.kirby_desai(),
        "laser_sessions_done": _laser_sessions_done(plan),
        "currency": ClinicSettings.load().currency,
        "kd_uncertainty": kirby_desai.UNCERTAINTY,
    }


def _laser_sessions_done(plan: TreatmentPlan) -> int:
    """The actual count, shown beside the Kirby–Desai estimate so the clinic sees its calibration."""
    return LaserSession.objects.active().completed().filter(case_id=plan.case_id).count()


def _kirby_desai_rows(plan: TreatmentPlan) -> list[tuple[str, int | None, str]]:
    """(parameter, points, chosen label) for each Kirby–Desai sub-score."""
    rows = []
    for name in KD_FIELDS:
        value = getattr(plan, name)
        label = getattr(plan, f"get_{name}_display")() if value is not None else ""
        rows.append((str(plan._meta.get_field(name).verbose_name), value, label))
    return rows


@staff_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, plan_id) -> HttpResponse:
    plan = get_plan_for_user(request.user, plan_id)
    audit.saw(request, "plan form", plan, client_id=plan.case.client_id)
    refusal = services.edit_refusal(plan)
    if refusal:
        return _refused(request, plan, refusal)
    clinic = ClinicSettings.load()
    form = PlanForm(_bound(request), instance=plan, case=plan.case, currency=clinic.currency)
    if form.is_valid():
        try:
            plan = services.plan_update(plan=plan, options=form.cleaned_data["options"], **form.plan_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Plan version {plan.version} saved.")
            return redirect(_detail_url(plan))
    return render(request, "cases/plans/plan_form.html", {"form": form, "case": plan.case, "plan": plan})


# ---------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------


def _step_form_page(request: HttpRequest, plan: TreatmentPlan, step=None) -> HttpResponse:
    audit.saw(request, "plan step form", step or plan, client_id=plan.case.client_id)
    refusal = services.edit_refusal(plan)
    if refusal:
        return _refused(request, plan, refusal)
    form = StepForm(
        _bound(request),
        instance=step,
        next_order=services.next_step_order(plan),
        default_zones=services.default_step_zones(plan.case),
    )
    if form.is_valid():
        try:
            saved = services.plan_step_save(plan=plan, step=step, **form.step_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Step {saved.order} ({saved.get_kind_display()}) saved.")
            for warning in services.plan_step_interval_warnings(step=saved):
                messages.warning(request, warning)
            return redirect(_detail_url(plan))
    return render(request, "cases/plans/step_form.html", {"form": form, "plan": plan, "case": plan.case, "step": step})


@staff_required
@require_http_methods(["GET", "POST"])
def step_create(request: HttpRequest, plan_id) -> HttpResponse:
    return _step_form_page(request, get_plan_for_user(request.user, plan_id))


@staff_required
@require_http_methods(["GET", "POST"])
def step_edit(request: HttpRequest, step_id) -> HttpResponse:
    step = get_step_for_user(request.user, step_id)
    return _step_form_page(request, step.plan, step)


# ---------------------------------------------------------------------------
# Submission, review, revision, acceptance
# ---------------------------------------------------------------------------


@staff_required
@require_POST
def plan_submit(request: HttpRequest, plan_id) -> HttpResponse:
    plan = get_plan_for_user(request.user, plan_id)
    form = PlanVersionForm(request.POST, plan=plan)
    if form.is_valid():
        expected_version(form, plan)
    try:
        services.plan_submit(plan=plan, by=request.user)
    except ValidationError as exc:
        return _refused(request, plan, " ".join(exc.messages))
    messages.success(request, f"Plan version {plan.version} submitted: a manager will review it.")
    return redirect(_detail_url(plan))


@roles.required(roles.APPROVE_PLANS)
@require_http_methods(["GET", "POST"])
def plan_review(request: HttpRequest, plan_id) -> HttpResponse:
    found = get_plan_for_user(request.user, plan_id)
    audit.saw(request, "plan review", found, client_id=found.case.client_id)
    refusal = services.review_refusal(found)
    if refusal:
        return _refused(request, found, refusal)
    form = ReviewForm(_bound(request), plan=found)
    if form.is_valid():
        expected_version(form, found)
        note = form.cleaned_data["note"]
        try:
            if form.cleaned_data["decision"] == ReviewForm.APPROVE:
                services.plan_approve(plan=found, by=request.user, note=note)
                messages.success(request, "Plan approved: it can now be shown to the client and accepted.")
            else:
                services.plan_send_back(plan=found, by=request.user, note=note)
                messages.success(request, "Plan sent back to draft with your note.")
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect(_detail_url(found))
    plan = TreatmentPlan.objects.for_detail().get(pk=found.pk)
    client = plan.case.client
    context = {
        **_plan_summary(plan),
        "form": form,
        # Shown instead of the approve button (four eyes); sending back stays open.
        "approve_refusal": services.approve_refusal(plan, by=request.user),
        "client": client,
        "contraindications": client.contraindications(clinic=ClinicSettings.load()),
        "contraindications_day": timezone.localdate(),
        "open_issues": Issue.objects.active()
        .filter(case_id=plan.case_id, resolved_on__isnull=True)
        .order_by("-severity", "zone", "identified_on", "pk"),
    }
    return render(request, "cases/plans/plan_review.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def plan_revise(request: HttpRequest, plan_id) -> HttpResponse:
    """Asks for the reason first (GET); the new version is made by the POST."""
    plan = get_plan_for_user(request.user, plan_id)
    audit.saw(request, "plan revision", plan, client_id=plan.case.client_id)
    refusal = services.revise_refusal(plan)
    if refusal:
        return _refused(request, plan, refusal)
    form = ReviseForm(_bound(request), plan=plan)
    if form.is_valid():
        expected_version(form, plan)
        try:
            new = services.plan_revise(plan=plan, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if new.previous_version.status == PlanStatus.SUPERSEDED:
                kept = f"Version {plan.version} is replaced by it (superseded), as the client had not accepted it."
            else:
                kept = (
                    f"Version {plan.version} stays the client's plan until version {new.version} "
                    "is approved and accepted."
                )
            messages.success(
                request, f"Version {new.version} is a new draft copied from version {plan.version}. {kept}"
            )
            return redirect(_detail_url(new))
    context = {"form": form, "plan": plan, "case": plan.case}
    return render(request, "cases/plans/plan_revise.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def plan_discard(request: HttpRequest, plan_id) -> HttpResponse:
    """Asks for confirmation first (GET); the POST discards (cancels) the plan."""
    plan = get_plan_for_user(request.user, plan_id)
    audit.saw(request, "plan discard", plan, client_id=plan.case.client_id)
    refusal = services.discard_refusal(plan)
    if refusal:
        return _refused(request, plan, refusal)
    revised = plan.previous_version
    form = PlanVersionForm(_bound(request), plan=plan)
    if form.is_valid():
        expected_version(form, plan)
        try:
            services.plan_discard(plan=plan, by=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if revised is not None and revised.status != PlanStatus.SUPERSEDED:
                messages.success(
                    request,
                    f"Version {plan.version} was discarded. Version {revised.version} stays the client's plan.",
                )
                return redirect(_detail_url(revised))
            messages.success(request, f"Version {plan.version} was discarded.")
            return redirect(reverse("cases:case_detail", args=[plan.case.public_id]))
    context = {"form": form, "plan": plan, "case": plan.case, "revised": revised}
    return render(request, "cases/plans/plan_discard.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def plan_accept_in_clinic(request: HttpRequest, plan_id) -> HttpResponse:
    plan = get_plan_for_user(request.user, plan_id)
    audit.saw(request, "plan acceptance", plan, client_id=plan.case.client_id)
    refusal = services.accept_refusal(plan)
    if refusal:
        return _refused(request, plan, refusal)
    client = plan.case.client
    form = AcceptInClinicForm(_bound(request), client=client, plan=plan)
    if form.is_valid():
        expected_version(form, plan)
        try:
            services.plan_accept(plan=plan, name=form.cleaned_data["name"], by=request.user, in_clinic=True)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{client.full_name}'s acceptance of plan version {plan.version} is recorded.")
            return redirect(_detail_url(plan))
    plan = TreatmentPlan.objects.for_detail().get(pk=plan.pk)
    context = {
        "form": form,
        "plan": plan,
        "case": plan.case,
        "steps": plan.steps.all(),
        "currency": ClinicSettings.load().currency,
        "kd_uncertainty": kirby_desai.UNCERTAINTY,
    }
    return render(request, "cases/plans/plan_accept.html", context)
