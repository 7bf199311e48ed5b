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
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.access import get_case_for_user, get_plan_for_user, get_step_for_user
from cases.choices import PlanStatus
from cases.forms.plans import AcceptInClinicForm, PlanForm, ReviewForm, StepForm
from cases.models import LaserSession, TreatmentPlan
from cases.models.plans import KD_FIELDS
from cases.services import plans as services
from smpclinic import roles
from smpclinic.forms import add_service_errors
from smpclinic.models import ClinicSettings
from smpclinic.roles import manager_required, staff_required


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
    is_manager = roles.is_manager(request.user)
    versions = list(
        TreatmentPlan.objects.versions_of(case).only("public_id", "version", "status", "case_id", "previous_version_id")
    )
    actions = {
        "edit": services.edit_refusal(plan) is None,
        "submit": services.submit_refusal(plan) is None,
        "review": is_manager and services.review_refusal(plan) is None,
        "revise": services.revise_refusal(plan) is None,
        "accept": services.accept_refusal(plan) is None,
    }
    context = {
        **_plan_summary(plan),
        "client": case.client,
        "versions": versions,
        "later_version": next((v for v in versions if v.previous_version_id == plan.pk), None),
        "actions": actions,
        "awaiting_review": plan.status == PlanStatus.PROPOSED and not plan.is_approved,
    }
    return render(request, "cases/plans/plan_detail.html", context)


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
            messages.success(request, "Plan saved.")
            return redirect(_detail_url(plan))
    return render(request, "cases/plans/plan_form.html", {"form": form, "case": plan.case, "plan": plan})


# ---------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------


def _step_form_page(request: HttpRequest, plan: TreatmentPlan, step=None) -> HttpResponse:
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
            messages.success(request, f"Step {saved.order} ({saved.get_kind_display().lower()}) saved.")
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
    try:
        services.plan_submit(plan=plan, by=request.user)
    except ValidationError as exc:
        return _refused(request, plan, " ".join(exc.messages))
    messages.success(request, "Plan submitted: a manager will review it.")
    return redirect(_detail_url(plan))


@manager_required
@require_http_methods(["GET", "POST"])
def plan_review(request: HttpRequest, plan_id) -> HttpResponse:
    found = get_plan_for_user(request.user, plan_id)
    refusal = services.review_refusal(found)
    if refusal:
        return _refused(request, found, refusal)
    form = ReviewForm(_bound(request))
    if form.is_valid():
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
    return render(request, "cases/plans/plan_review.html", {**_plan_summary(plan), "form": form})


@staff_required
@require_POST
def plan_revise(request: HttpRequest, plan_id) -> HttpResponse:
    plan = get_plan_for_user(request.user, plan_id)
    try:
        new = services.plan_revise(plan=plan)
    except ValidationError as exc:
        return _refused(request, plan, " ".join(exc.messages))
    messages.success(
        request,
        f"Version {new.version} is a new draft copied from version {plan.version}, "
        "which is kept unchanged as superseded.",
    )
    return redirect(_detail_url(new))


@staff_required
@require_http_methods(["GET", "POST"])
def plan_accept_in_clinic(request: HttpRequest, plan_id) -> HttpResponse:
    plan = get_plan_for_user(request.user, plan_id)
    refusal = services.accept_refusal(plan)
    if refusal:
        return _refused(request, plan, refusal)
    client = plan.case.client
    form = AcceptInClinicForm(_bound(request), client=client)
    if form.is_valid():
        try:
            services.plan_accept(plan=plan, name=form.cleaned_data["name"], by=request.user, in_clinic=True)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{client.full_name}'s acceptance of the plan is recorded.")
            return redirect(_detail_url(plan))
    plan = TreatmentPlan.objects.for_detail().get(pk=plan.pk)
    context = {
        "form": form,
        "plan": plan,
        "case": plan.case,
        "steps": plan.steps.all(),
        "currency": ClinicSettings.load().currency,
    }
    return render(request, "cases/plans/plan_accept.html", context)
