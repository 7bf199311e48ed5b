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
