"""Follow-ups (staff): schedule one on a case, record it as done, or as missed."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from cases import audit
from cases.access import get_case_for_user, get_follow_up_for_user
from cases.choices import FollowUpStatus
from cases.forms.followups import FollowUpCompleteForm, FollowUpForm, FollowUpMissedForm, followup_initial
from cases.models import FollowUp
from cases.services import followups as services
from cases.services.followups import day
from smpclinic.concurrency import StaleEdit, create_once
from smpclinic.forms import add_service_errors
from smpclinic.http import safe_next
from smpclinic.roles import staff_required


@staff_required
@require_http_methods(["GET", "POST"])
def followup_create(request, case_id):
    case = get_case_for_user(request.user, case_id)
    audit.saw(request, "follow-up form", case)
    if request.method == "POST":
        form = FollowUpForm(request.POST, case=case)
        if form.is_valid():
            token = form.submission_token
            try:
                followup, created = create_once(
                    FollowUp,
                    token,
                    lambda: services.followup_create(
                        case=case,
                        kind=form.cleaned_data["kind"],
                        due_on=form.cleaned_data["due_on"],
                        assignee=form.cleaned_data["assignee"],
                        by=request.user,
                        submission_token=token,
                        **form.linked_sessions(),
                    ),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                if not created:
                    messages.info(request, "This follow-up was already saved.")
                else:
                    overdue = " It is already overdue." if followup.is_overdue(services.clinic_today()) else ""
                    messages.success(
                        request, f"{followup.get_kind_display()} scheduled for {day(followup.due_on)}.{overdue}"
                    )
                return redirect("cases:case_detail", case_id=case.public_id)
    else:
        form = FollowUpForm(initial=followup_initial(request.user, request.GET.get("session", "")), case=case)
    return render(request, "cases/followups/followup_form.html", {"case": case, "client": case.client, "form": form})


def _posted_from_older_version(request, followup) -> bool:
    """The posted form was opened before the follow-up last changed: the service then says
    who changed what, rather than only that the follow-up is no longer scheduled."""
    posted = request.POST.get("lock_version", "") if request.method == "POST" else ""
    return posted.isdigit() and int(posted) != followup.lock_version


def _refuse_unless_scheduled(request, followup, action: str):
    if followup.status == FollowUpStatus.SCHEDULED or _posted_from_older_version(request, followup):
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
    audit.saw(request, "follow-up completion", followup, client_id=followup.case.client_id)
    refused = _refuse_unless_scheduled(request, followup, "completed")
    if refused:
        return refused
    if request.method == "POST":
        form = FollowUpCompleteForm(request.POST, followup=followup)
        if form.is_valid():
            try:
                services.followup_complete(followup=followup, by=request.user, **form.outcome())
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{followup.get_kind_display()} recorded as completed.")
                return redirect("cases:case_detail", case_id=followup.case.public_id)
    else:
        form = FollowUpCompleteForm(initial={"completed_on": timezone.localdate()}, followup=followup)
    context = {"case": followup.case, "client": followup.case.client, "followup": followup, "form": form}
    return render(request, "cases/followups/followup_complete.html", context)


@staff_required
@require_POST
def followup_missed(request, followup_id):
    followup = get_follow_up_for_user(request.user, followup_id)
    # Read before anything changes: a bad address is ignored, it cannot fail the request after the change.
    next_url = safe_next(request, request.POST.get("next"))
    form = FollowUpMissedForm(request.POST, followup=followup)
    try:
        if not form.is_valid():
            raise ValidationError("The page sent a broken version number: reload it and try again.")
        services.followup_mark_missed(followup=followup, by=request.user)
    except StaleEdit as error:
        messages.error(request, f"Not marked as missed: this follow-up {services.changed_since(error)}.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{followup.get_kind_display()} due {day(followup.due_on)} marked as missed.")
    return redirect(next_url or reverse("cases:case_detail", kwargs={"case_id": followup.case.public_id}))
