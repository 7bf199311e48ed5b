"""Pages show times in the clinic's time zone (Clinic settings), as the reminder e-mails do."""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils import timezone

from smpclinic.models import ClinicSettings
from tests import factories

AT = datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.UTC)


def set_zone(name: str) -> None:
    clinic = ClinicSettings.load()
    clinic.time_zone = name
    clinic.save()


def test_staff_workspace_shows_session_times_in_the_clinic_zone(as_staff):
    case = factories.CaseFactory()
    factories.LaserSessionFactory(case=case, scheduled_at=AT)
    url = reverse("cases:case_detail", args=[case.public_id])

    assert "20 Nov 2026 10:00" in as_staff.get(url).content.decode()  # London: GMT in November
    set_zone("Asia/Tokyo")
    assert "20 Nov 2026 19:00" in as_staff.get(url).content.decode()


def test_portal_appointments_follow_the_clinic_zone(as_client_a, client_a):
    case = factories.CaseFactory(client=client_a)
    factories.LaserSessionFactory(case=case, scheduled_at=AT)
    set_zone("America/New_York")
    html = as_client_a.get(reverse("cases:portal_appointments")).content.decode()
    assert "20 November 2026, 05:00" in html


def test_the_zone_is_not_left_active_after_the_request(as_staff):
    set_zone("Asia/Tokyo")
    as_staff.get(reverse("cases:home"))
    assert timezone.get_current_timezone_name() == "Europe/London"


def test_reading_the_cached_settings_creates_no_row(db):
    ClinicSettings.objects.all().delete()
    from django.core.cache import cache

    cache.clear()
    clinic = ClinicSettings.cached()
    assert clinic.time_zone == "Europe/London"
    assert not ClinicSettings.objects.exists()


def test_a_saved_change_is_what_the_next_request_uses(db, django_assert_num_queries):
    set_zone("Asia/Tokyo")
    with django_assert_num_queries(0):
        assert ClinicSettings.cached().time_zone == "Asia/Tokyo"
