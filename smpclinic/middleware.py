"""Middleware of the clinic's own."""

from __future__ import annotations

import time
import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.utils import timezone
from django.utils.cache import patch_cache_control

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
SIGNED_IN_AT = "smpclinic_signed_in_at"
# The session is written again only when this much time has passed, not on every request.
LAST_SEEN_GRANULARITY = 60


@receiver(user_logged_in)
def _start_the_idle_clock(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[LAST_SEEN] = request.session[SIGNED_IN_AT] = int(time.time())


class IdleLogoutMiddleware:
    """Sign a person out after the clinic's idle time (Clinic settings, default 30 minutes):
    a screen left open at the front desk must not stay open on a client's records. And,
    however active, SMP_SESSION_MAX_HOURS after login: a stolen session cookie stops working."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN, now)
            max_hours = settings.SMP_SESSION_MAX_HOURS
            # A session from before this rule has no start: its clock starts now.
            signed_in_at = request.session.setdefault(SIGNED_IN_AT, now)
            if now - signed_in_at > max_hours * 3600:
                logout(request)
                messages.info(request, f"You were signed out {max_hours} hours after logging in. Please log in again.")
                return redirect_to_login(request.get_full_path())
            idle_minutes = ClinicSettings.cached().idle_logout_minutes
            if now - last_seen > idle_minutes * 60:
                logout(request)
                messages.info(request, f"You were signed out after {idle_minutes} minutes without activity.")
                return redirect_to_login(request.get_full_path())
            if now - request.session.get(LAST_SEEN, 0) >= LAST_SEEN_GRANULARITY:
                request.session[LAST_SEEN] = now
        return self.get_response(request)


class NoStoreForSignedInMiddleware:
    """Every answer to a signed-in person (pages, photos, PDFs, CSV files) says
    `Cache-Control: private, no-store`: a shared computer's browser cache or a proxy must
    not keep a client's records. Directives a view set are kept (a stricter `no-cache` or
    `max-age=0` stays; `public` gives way to `private`). Public pages are left alone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response
