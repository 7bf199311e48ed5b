"""The diary's day reads the bookings of its day through the (starts_at) index, not the
whole table: years of history must not slow the day down (tests/test_query_plans.py has
the helper and the reasoning)."""

from __future__ import annotations

import datetime

from django.db import connection
from django.utils import timezone

from cases.choices import SessionStatus
from cases.models import Booking, BookingKind, LaserSession
from tests import factories
from tests.test_query_plans import plan_of

DAYS = 3000


def test_the_day_reads_the_starts_at_index(staff_user):
    case = factories.CaseFactory()
    person = factories.ArtistFactory()
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    sessions = LaserSession.objects.bulk_create(
        [
            LaserSession(
                case=case,
                technician=person,
                scheduled_at=now - datetime.timedelta(days=n),
                status=SessionStatus.COMPLETED,
                wavelength_nm=1064,
                fluence_j_cm2=2,
                spot_size_mm=4,
                passes=1,
            )
            for n in range(DAYS)
        ]
    )
    Booking.objects.bulk_create(
        [
            Booking(
                case=case,
                kind=BookingKind.LASER,
                laser_session=session,
                person=person,
                starts_at=session.scheduled_at,
                ends_at=session.scheduled_at + datetime.timedelta(minutes=45),
                status="completed",
            )
            for session in sessions
        ]
    )
    start = now.replace(hour=0)
    day = Booking.objects.visible_to(staff_user).holding().between(start, start + datetime.timedelta(days=1))
    query = day.for_diary()
    if connection.vendor == "postgresql":
        scanned, indexes = plan_of(query)
        assert "cases_booking" not in scanned
        assert "booking_starts_at" in indexes, indexes
    else:
        sql, params = query.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            details = [row[-1] for row in cursor.fetchall()]
        booking = [d for d in details if " cases_booking " in f"{d} "]
        assert booking and all("USING INDEX booking_starts_at" in d for d in booking), details
