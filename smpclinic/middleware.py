"""Middleware of the clinic's own."""

from __future__ import annotations

import zoneinfo

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
