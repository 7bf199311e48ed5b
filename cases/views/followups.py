"""Follow-ups (staff): schedule one on a case, record it as done, or as missed."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from cases.access import get_case_for_user, get_follow_up_for_user
from cases.choices import FollowUpStatus
from cases.forms.followups import FollowUpCompleteForm, FollowUpForm, followup_initial
from cases.services import followups as services
from smpclinic.forms import add_service_errors
from smpclinic.roles import staff_required


@staff_required
@require_http_methods(["GET", "POST"])
def followup_create(request, case_id):
    case = get_case_for_user(request.user, case_id)
    if request.method == "POST":
        form = FollowUpForm(request.POST, case=case)
        if form.is_valid():
            try:
                followup = services.followup_create(
                    case=case,
                    kind=form.cleaned_data["kind"],
                    due_on=form.cleaned_data["due_on"],
                    assignee=form.cleaned_data["assignee"],
                    by=request.user,
                    **form.linked_sessions(),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{followup.get_kind_display()} scheduled for {followup.due_on:%d %b %Y}.")
                return redirect("cases:case_detail", case_id=case.public_id)
    else:
        form = FollowUpForm(initial=followup_initial(request.user, request.GET.get("session", "")), case=case)
    return render(request, "cases/followups/followup_form.html", {"case": case, "client": case.client, "form": form})


def _refuse_unless_scheduled(request, followup, action: str):
    if followup.status == FollowUpStatus.SCHEDULED:
        return None
    messages.error(
        request,
        f"Only a scheduled follow-up can be {action}; this one is {followup.get_status_display().lower()}.",
    )
    return redirect("cases:case_detail", case_id=followup.case.public_id)


@staff_required
@require_http_methods(["GET", "POST"])
def followup_complete(request, followup_id):
    followup = get_follow_up_for_user(request.user, followup_id)
    refused = _refuse_unless_scheduled(request, followup, "completed")
    if refused:
        return refused
    if request.method == "POST":
        form = FollowUpCompleteForm(request.POST)
        if form.is_valid():
            try:
                services.followup_complete(followup=followup, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{followup.get_kind_display()} recorded as completed.")
                return redirect("cases:case_detail", case_id=followup.case.public_id)
    else:
        form = FollowUpCompleteForm(initial={"completed_on": timezone.localdate()})
    context = {"case": followup.case, "client": followup.case.client, "followup": followup, "form": form}
    return render(request, "cases/followups/followup_complete.html", context)


def _safe_next(request) -> str | None:
    """The page to return to (the review queue posts its own address), if it is on this site."""
    url = request.POST.get("next", "")
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


@staff_required
@require_POST
def followup_missed(request, followup_id):
    followup = get_follow_up_for_user(request.user, followup_id)
    try:
        services.followup_mark_missed(followup=followup, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{followup.get_kind_display()} due {followup.due_on:%d %b %Y} marked as missed.")
    return redirect(_safe_next(request) or reverse("cases:case_detail", kwargs={"case_id": followup.case.public_id}))
