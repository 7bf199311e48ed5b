"""The client portal: my plan, accepting it, and the plan as a PDF.

Every record is found through request.user (the client's own Client record and the
`visible_to(user)` QuerySets): a client sees only plans a manager approved, of their
own active cases, never a superseded or cancelled one, and never an internal field.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import capfirst
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from cases import audit, kirby_desai, pdf
from cases.choices import CorrectionOptionChoice, PlanStepKind, StepStatus
from cases.models import Client, TreatmentPlan
from cases.pdf import render as render_pdf
from cases.portal.forms import PortalPlanAcceptForm
from cases.services import plans as plan_services
from smpclinic.forms import add_service_errors
from smpclinic.http import client_ip
from smpclinic.models import ClinicSettings
from smpclinic.roles import client_required

# Correction options in plain language, for the client (docs/domain.md#vocabulary).
OPTION_EXPLANATIONS = {
    CorrectionOptionChoice.LASER_REMOVAL: (
        "a laser breaks the pigment into tiny particles that your body clears over the following weeks, "
        "lightening or removing the dots."
    ),
    CorrectionOptionChoice.SALINE_REMOVAL: (
        "a salt solution is worked into individual dots or small areas; it lifts pigment out into a scab "
        "that falls off as the skin heals."
    ),
    CorrectionOptionChoice.COLOUR_CORRECTION: "dots that have turned blue or green are toned back to a natural shade.",
    CorrectionOptionChoice.HAIRLINE_REDESIGN: (
        "the hairline is reshaped so it looks softer and suits your face and age."
    ),
    CorrectionOptionChoice.SCAR_CAMOUFLAGE: (
        "pigment is placed in and around scars so they blend in; scars need to be well healed first."
    ),
    CorrectionOptionChoice.DENSITY_ADJUSTMENT: "dots are added or softened so the density looks even and natural.",
}


def own_client(user) -> Client:
    """The signed-in client's own record (404 once archived); the portal pages share it."""
    return get_object_or_404(Client.objects.visible_to(user))


# The columns the portal's plan pages read: what the client is shown and what decides it.
# Internal notes, the review note, the revision's reason, the client's health record and
# the acceptance's IP address never leave the database for these pages (and the 70
# columns fewer took half a millisecond off the plan page).
PORTAL_PLAN_FIELDS = (
    *("lock_version", "archived_at", "public_id", "case_id", "version", "status"),
    *("summary", "aftercare", "price_estimate", "clinician_estimate_sessions"),
    *("kd_skin_type", "kd_location", "kd_colour", "kd_ink_amount", "kd_scarring", "kd_layering", "kd_total"),
    *("approved_at", "accepted_at"),
    *("case__reference", "case__opened_on", "case__client_id", "case__archived_at"),
    *("case__goal", "case__expectations_agreed", "case__expectations_discussed_on"),
    *("case__client__first_name", "case__client__last_name", "case__client__preferred_name"),
    *("case__client__user_id", "case__client__archived_at"),
)


def client_plans(user):
    """Plans the client may see: approved by a manager, of their own active cases, in force
    or done (never a superseded version, a cancelled plan, or a draft). Per case, the
    client's plan (agreed) comes first, then a revision of it waiting for their answer.
    Only the columns the portal shows are read (`PORTAL_PLAN_FIELDS`)."""
    return (
        TreatmentPlan.objects.visible_to(user)
        .current()
        .for_portal()
        .only(*PORTAL_PLAN_FIELDS)
        .order_by("-case__opened_on", "-case_id", "version")
    )


def _decorate(plans) -> list[TreatmentPlan]:
    plans = list(plans)
    in_force = {plan.case_id: plan for plan in plans if plan.is_agreed}
    for plan in plans:
        # A revision waiting for the client's answer names the plan that stays in force.
        plan.replaces = None if plan.is_agreed else in_force.get(plan.case_id)
        plan.next_step = plan.next_planned_step() if plan.is_agreed else None
        plan.option_rows = [
            {"label": option.label, "explanation": OPTION_EXPLANATIONS.get(option.code, "")}
            for option in plan.options.all()
        ]
        plan.estimate = plan.kirby_desai()
        plan.accept_refusal = plan_services.accept_refusal(plan)
        for step in plan.steps.all():
            # Labels looked up here, once: `get_kind_display()` builds its choices afresh
            # at every call in the template.
            step.kind_label = _STEP_KINDS.get(step.kind, step.kind)
            step.status_label = _STEP_STATUSES.get(step.status, step.status)
            step.schedule_line = _schedule_line(step)
    return plans


_STEP_KINDS = dict(PlanStepKind.choices)
_STEP_STATUSES = dict(StepStatus.choices)


def _schedule_line(step) -> str:
    """The line under a step: its date ("Done 12 Mar 2026", "Booked …", "Target …"), the
    weeks after the previous step while it is planned, its zones; " · " between."""
    parts = [capfirst(step.when_label) or "Date to be arranged"]
    if step.interval_weeks and step.status == StepStatus.PLANNED:
        weeks = step.interval_weeks
        parts.append(f"{weeks} week{'s' if weeks != 1 else ''} after the previous step")
    zones = ", ".join(zone.label for zone in step.zones.all())
    if zones:
        parts.append(zones)
    return " · ".join(parts)


def plan_context(user) -> dict:
    """What the plan page and the PDF show; the same data for both."""
    plans = _decorate(client_plans(user))
    return {
        # Every plan shown came with its case's client, the signed-in client (live, or the
        # plan would not be visible); only a client without a plan to see is read alone.
        "client": plans[0].case.client if plans else own_client(user),
        "plans": plans,
        # A proposed revision is shown beside the plan it would replace: one case, two cards.
        "case_count": len({plan.case_id for plan in plans}),
        "clinic": ClinicSettings.cached(),
        "kd_uncertainty": kirby_desai.UNCERTAINTY,
    }


def plan_pdf_html(user) -> str:
    """The HTML the PDF is rendered from (the tests read it, since the PDF is compressed)."""
    context = plan_context(user)
    if not context["plans"]:
        raise Http404("No plan to download yet.")
    context["generated_at"] = timezone.now()
    context["logo_data_url"] = pdf.logo_data_url(context["clinic"])
    return render_to_string("portal/plan_pdf.html", context)


@client_required
@require_http_methods(["GET", "HEAD"])
def portal_plan(request):
    context = plan_context(request.user)
    audit.saw(request, "portal plan", client_id=context["client"].pk)
    return render(request, "portal/plan.html", context)


@client_required
@require_http_methods(["GET", "POST"])
def portal_plan_accept(request, plan_id):
    plan = get_object_or_404(client_plans(request.user), public_id=plan_id)
    audit.saw(request, "portal plan acceptance", plan, client_id=plan.case.client_id)
    refusal = plan_services.accept_refusal(plan)
    if refusal is not None:
        messages.info(request, refusal)
        return redirect("cases:portal_plan")
    form = PortalPlanAcceptForm(request.POST or None, client=plan.case.client)
    if request.method == "POST" and form.is_valid():
        try:
            plan_services.plan_accept(
                plan=plan,
                name=form.cleaned_data["name"],
                by=request.user,
                in_clinic=False,
                ip=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Thank you. You have accepted your plan; the clinic can see it now.")
            return redirect("cases:portal_plan")
    (plan,) = _decorate([plan])
    # A revision names the version in force that it would replace: its number, nothing more.
    plan.replaces = None if plan.is_agreed else plan_services.agreed_plan(plan.case, fields=("version",))
    context = {"plan": plan, "kd_uncertainty": kirby_desai.UNCERTAINTY, "form": form, "clinic": ClinicSettings.load()}
    return render(request, "portal/plan_accept.html", context)


@client_required
@never_cache
@require_http_methods(["GET", "HEAD"])
def portal_plan_pdf(request):
    html = plan_pdf_html(request.user)
    audit.saw_own(request, "plan PDF", action=audit.DOWNLOADED)
    pdf = render_pdf(html)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="my-treatment-plan.pdf"'
    # never_cache adds no-store; private keeps shared caches out of a medical document.
    response["Cache-Control"] = "private, no-cache, no-store, must-revalidate, max-age=0"
    return response
