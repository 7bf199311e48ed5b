"""Login lockouts (django-axes): the page a locked-out person sees, and a manager's unlock."""

from __future__ import annotations

import math

from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from axes.utils import reset
from django.contrib import messages
from django.contrib.auth.models import User
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from smpclinic import roles
from smpclinic.audit import login_event
from smpclinic.models import LoginEvent


def lockout_response(request, original_response=None, credentials=None):
    """HTTP 429 with a page saying when to try again (AXES_LOCKOUT_CALLABLE)."""
    cool_off = get_cool_off(request)
    minutes = math.ceil(cool_off.total_seconds() / 60) if cool_off else None
    response = render(
        request,
        "registration/locked_out.html",
        {
            "failure_limit": get_failure_limit(request, credentials),
            "minutes": minutes,
            "retry_at": timezone.now() + cool_off if cool_off else None,
        },
        status=429,
    )
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response


@roles.required(roles.MANAGE_SIGN_INS)
@require_http_methods(["GET", "POST"])
def lockout_list(request):
    """Current failed-login records; a manager unlocks a username (from every address)."""
    if request.method == "POST":
        username = request.POST.get("username", "")
        if username:
            reset(username=username)
            login_event(
                LoginEvent.Kind.UNLOCKED,
                request=request,
                user=User.objects.filter(username=username).first(),
                username=username,
                by=request.user,
            )
            messages.success(request, f"{username} can log in again.")
        return redirect("lockouts")
    attempts = AccessAttempt.objects.order_by("-attempt_time")[:200]
    return render(request, "registration/lockouts.html", {"attempts": attempts})
