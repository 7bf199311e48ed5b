"""Clinic-sensible bounds on dates: nothing before 1900, and no booking (a session, a
follow-up, a plan step's target) more than a few years ahead. Also date arithmetic that
cannot overflow at the ends of the calendar (year 1, year 9999)."""

from __future__ import annotations

import datetime

EARLIEST = datetime.date(1900, 1, 1)
BOOKING_YEARS_AHEAD = 5


def latest_booking(today: datetime.date) -> datetime.date:
    """The last day a booking made `today` may be for."""
    try:
        return today.replace(year=today.year + BOOKING_YEARS_AHEAD)
    except ValueError:  # 29 February
        return today.replace(year=today.year + BOOKING_YEARS_AHEAD, day=28)


def booking_date_error(day: datetime.date, *, today: datetime.date, what: str) -> str | None:
    """Why `what` cannot be on `day` (None when it can)."""
    if day < EARLIEST:
        return f"{what} cannot be before 1 Jan 1900."
    latest = latest_booking(today)
    if day > latest:
        return f"{what} can be at most {BOOKING_YEARS_AHEAD} years ahead (on or before {latest.day} {latest:%b %Y})."
    return None


def shifted(day: datetime.date, days: int) -> datetime.date:
    """`day` moved by `days`, stopping at the first or last day of the calendar."""
    try:
        return day + datetime.timedelta(days=days)
    except OverflowError:
        return datetime.date.max if days > 0 else datetime.date.min


# Field validators: on the model, so forms, services (full_clean) and the admin all refuse
# the same dates with the same words.


def clinic_zone():
    """The clinic's time zone (Clinic settings), whatever zone is active: validators also
    run outside a request (a task, the admin, a shell)."""
    import zoneinfo

    from smpclinic.models import ClinicSettings

    return zoneinfo.ZoneInfo(ClinicSettings.cached().time_zone)


def clinic_today() -> datetime.date:
    from django.utils import timezone

    return timezone.localtime(timezone.now(), clinic_zone()).date()


def _as_date(value) -> datetime.date:
    from django.utils import timezone

    if isinstance(value, datetime.datetime):
        return timezone.localtime(value, clinic_zone()).date() if timezone.is_aware(value) else value.date()
    return value


def not_before_1900(value) -> None:
    from django.core.exceptions import ValidationError

    if value is not None and _as_date(value) < EARLIEST:
        raise ValidationError("Choose a date from 1 Jan 1900 on.", code="before_1900")


def not_in_the_future(value) -> None:
    """For a date that records something that happened (opened, signed, taken, resolved)."""
    from django.core.exceptions import ValidationError

    if value is not None and _as_date(value) > clinic_today():
        raise ValidationError("This records something that happened: it cannot be in the future.", code="future")


def within_booking_range(value) -> None:
    """For a date something is booked for: at most BOOKING_YEARS_AHEAD years ahead."""
    from django.core.exceptions import ValidationError

    if value is None:
        return
    latest = latest_booking(clinic_today())
    if _as_date(value) > latest:
        raise ValidationError(
            f"Choose a date at most {BOOKING_YEARS_AHEAD} years ahead (on or before {latest.day} {latest:%b %Y}).",
            code="too_far_ahead",
        )


PAST = [not_before_1900, not_in_the_future]  # something that happened
BOOKABLE = [not_before_1900, within_booking_range]  # something booked or in force from a day
