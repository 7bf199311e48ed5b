"""Calendar files (iCalendar, RFC 5545) for the portal and the staff diary, built with
the `icalendar` library rather than by hand (folding, escaping and time zones are its).

What a calendar holds leaves the clinic: a phone's calendar syncs it to other services.
So a client's entry says only the clinic's name, "Appointment", the time and the clinic's
address, never the treatment; a staff member's entry says the client's initials and the
case reference, nothing clinical. Each entry's UID is the booking's public id, so a moved
appointment updates the same entry in the calendar app and a cancelled one is sent as
CANCELLED while the feed still lists it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.utils import timezone
from icalendar import Calendar, Event

from cases.models import Booking, BookingStatus
from smpclinic.models import ClinicSettings

PRODID = "-//SMP Clinic//Diary//EN"


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    return calendar


def _address(clinic: ClinicSettings) -> str:
    return ", ".join(line.strip() for line in clinic.address.splitlines() if line.strip())


def _event(booking: Booking, *, summary: str, location: str, description: str, url: str = "") -> Event:
    event = Event()
    event.add("uid", f"{booking.public_id}@smp-clinic")
    event.add("dtstamp", timezone.now().astimezone(datetime.UTC))
    event.add("dtstart", booking.starts_at.astimezone(datetime.UTC))
    event.add("dtend", booking.ends_at.astimezone(datetime.UTC))
    event.add("summary", summary)
    if location:
        event.add("location", location)
    if description:
        event.add("description", description)
    if url:
        event.add("url", url)
    # The history of moves counts as the sequence: a calendar app keeps the newest.
    event.add("sequence", int(booking.updated_at.timestamp()) % 2_000_000_000)
    event.add("status", "CANCELLED" if booking.status == BookingStatus.CANCELLED else "CONFIRMED")
    return event


def client_event(booking: Booking, clinic: ClinicSettings, *, url: str = "") -> Event:
    """A client's appointment: the clinic's name, "Appointment", time and address only."""
    contact = f"To change it, contact {clinic.name}" + (f" on {clinic.phone}" if clinic.phone else "") + "."
    return _event(
        booking, summary=f"Appointment – {clinic.name}", location=_address(clinic), description=contact, url=url
    )


def client_calendar(bookings: Iterable[Booking], clinic: ClinicSettings, *, url_of=None) -> bytes:
    calendar = _calendar(clinic.name)
    for booking in bookings:
        calendar.add_component(client_event(booking, clinic, url=url_of(booking) if url_of else ""))
    return calendar.to_ical()


def initials(first: str, last: str) -> str:
    return "".join(part[:1].upper() for part in (first, last) if part)


def staff_calendar(bookings: Iterable[Booking], clinic: ClinicSettings, *, name: str) -> bytes:
    """A staff member's own bookings: the client's initials, the case reference and the room."""
    calendar = _calendar(f"{clinic.name} – {name}")
    for booking in bookings:
        client = booking.case.client
        summary = f"{initials(client.first_name, client.last_name)} · {booking.case.reference}"
        location = booking.room.name if booking.room_id else ""
        calendar.add_component(_event(booking, summary=summary, location=location, description=""))
    return calendar.to_ical()
