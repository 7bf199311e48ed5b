"""Middleware of the clinic's own."""

from __future__ import annotations

import time
import zoneinfo

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.utils import timezone

from smpclinic.models import ClinicSettings


class ClinicTimeZoneMiddleware:
    """Show every date and time in the clinic's time zone (Clinic settings), the same zone
    the reminder e-mails use, whatever the server's DJANGO_TIME_ZONE."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timezone.activate(zoneinfo.ZoneInfo(ClinicSettings.cached().time_zone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


LAST_SEEN = "smpclinic_last_seen"
# The session is written again only when this much time has passed, not on every request.
LAST_SEEN_GRANULARITY = 60


@receiver(user_logged_in)
def _start_the_idle_clock(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[LAST_SEEN] = int(time.time())


class IdleLogoutMiddleware:
    """Sign a person out after the clinic's idle time (Clinic settings, default 30 minutes):
    a screen left open at the front desk must not stay open on a client's records."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN, now)
            idle_minutes = ClinicSettings.cached().idle_logout_minutes
            if now - last_seen > idle_minutes * 60:
                logout(request)
                messages.info(request, f"You were signed out after {idle_minutes} minutes without activity.")
                return redirect_to_login(request.get_full_path())
            if now - request.session.get(LAST_SEEN, 0) >= LAST_SEEN_GRANULARITY:
                request.session[LAST_SEEN] = now
        return self.get_response(request)
