"""The clinic diary (staff): a day in columns per room or per person, a week of one person
or room, booking (with the next free slots), moving and cancelling; each staff member's
own calendar feed.

The day and week pages cost a fixed number of queries whatever the clinic's history: the
columns, the opening hours and closures, and one query for the bookings of the shown
range, which reads the (starts_at) index.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from artists.models import Artist
from cases import audit, calendar
from cases.access import get_case_for_user, get_step_for_user
from cases.forms.diary import (
    WHAT_OF_STEP,
    BookingForm,
    CancelForm,
    DiaryFilterForm,
    FreeSlotForm,
    RescheduleForm,
    split_what,
)
from cases.models import Booking, BookingKind, BookingStatus, CalendarFeed
from cases.services import bookings as booking_services
from cases.services import diary
from smpclinic.concurrency import create_once
from smpclinic.forms import add_service_errors
from smpclinic.links import Link
from smpclinic.models import ClinicSettings, Closure, Room
from smpclinic.roles import staff_required

ROW = datetime.timedelta(minutes=15)
# The rows a day shows when the clinic has set no hours for it.
DEFAULT_HOURS = (datetime.time(8), datetime.time(19))
FEED_DAYS_BACK, FEED_DAYS_AHEAD = 30, 365
FREE_SLOTS_SHOWN = 6


# --- the day ----------------------------------------------------------------------------


@dataclass
class Cell:
    bookings: list[Box] = field(default_factory=list)
    rowspan: int = 1
    covered: bool = False


@dataclass
class Column:
    key: object
    label: str
    week_url: str = ""
    cells: list[Cell] = field(default_factory=list)


def _day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
    return start, datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)


def _hours_of(day: datetime.date, hours: dict) -> tuple[datetime.time, datetime.time]:
    return hours.get(day.weekday(), DEFAULT_HOURS) if hours else DEFAULT_HOURS


def _shown_bookings(user, start, end, form: DiaryFilterForm):
    """The bookings of the range that hold their slot, with what a cell shows, filtered."""
    found = Booking.objects.visible_to(user).holding().between(start, end)
    if person := form.value("person"):
        found = found.filter(person=person)
    if room := form.value("room"):
        found = found.filter(room=room)
    if kind := form.value("kind"):
        found = found.filter(kind=kind)
    return list(found.for_diary())


@dataclass(slots=True)
class Box:
    """A booking as the day and week pages show it: where it goes (its times in the
    clinic's time zone), and its box's HTML."""

    starts_at: datetime.datetime
    ends_at: datetime.datetime
    person_id: int
    room_id: int | None
    box: str


def _boxes(rows, by: str) -> list[Box]:
    """The boxes of the bookings read by `BookingQuerySet.for_diary`: what each says and
    links to, written here rather than by a template included once per box (a full day
    holds a hundred; drawing each through a template of its own, from six model objects,
    was most of the page's time). Every value is escaped. `by`: the page's columns
    ("person": the box names the room, else the person)."""
    case_link = Link("cases:case_detail", "case_id")
    move_link, cancel_link = Link("cases:booking_reschedule", "booking_id"), Link("cases:booking_cancel", "booking_id")
    kinds, statuses = dict(BookingKind.choices), dict(BookingStatus.choices)
    zone = timezone.get_current_timezone()
    boxes = []
    for row in rows:
        public_id, kind, status, starts_at, ends_at, person_id, room_id, case_id, reference, *rest = row
        client_first, client_last, person_first, person_last, room, device = rest
        starts, ends = starts_at.astimezone(zone), ends_at.astimezone(zone)
        # A column per person: the box names the room; a column per room: the person.
        where = (room or "") if by == "person" else f"{person_first} {person_last}".strip()
        details = " · ".join(part for part in (kinds.get(kind, kind), where, device or "") if part)
        if status == BookingStatus.BOOKED:
            end = (
                f'<span class="d-block small"><a href="{move_link(public_id)}">Move</a> · '
                f'<a href="{cancel_link(public_id)}">Cancel</a></span>'
            )
        else:
            end = f'<span class="badge text-bg-secondary">{escape(statuses.get(status, status))}</span>'
        box = (
            f'<div class="diary-booking diary-{escape(kind)}"><a href="{case_link(case_id)}">{escape(reference)}</a>'
            f'<span class="d-block small">{escape(client_first)} {escape(client_last)}</span>'
            f'<span class="d-block small text-body-secondary"><time datetime="{starts.isoformat()}">'
            f"{starts:%H:%M}</time>–{ends:%H:%M} · {escape(details)}</span>{end}</div>"
        )
        # Safe: the links are made of UUIDs, the times by strftime, every text escaped above.
        boxes.append(Box(starts, ends, person_id, room_id, mark_safe(box)))  # nosec B308 B703
    return boxes


def _grid(
    day, bookings: list[Box], columns: list[Column], column_of, first: datetime.time, last: datetime.time
) -> list:
    """Place each booking in its column at the row of its start, spanning its length."""
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(day, first, tzinfo=zone)
    end = datetime.datetime.combine(day, last, tzinfo=zone)
    # Widen the day to bookings outside the hours (a manager's override), whole hours.
    for booking in bookings:
        start = min(start, booking.starts_at.replace(minute=0))
        end = max(end, booking.ends_at)
    rows = []
    moment = start
    while moment < end:
        rows.append(moment)
        moment += ROW
    index = {column.key: column for column in columns}
    for column in columns:
        column.cells = [Cell() for _ in rows]
    for booking in bookings:
        column = index.get(column_of(booking))
        if column is None:
            continue
        at = int((booking.starts_at - start) / ROW)
        at = max(0, min(at, len(rows) - 1))
        cell = column.cells[at]
        while cell.covered and at > 0:  # a start between rows, just after another booking
            at -= 1
            cell = column.cells[at]
        cell.bookings.append(booking)
        span = max(1, -(-int((booking.ends_at - booking.starts_at) / datetime.timedelta(minutes=1)) // 15))
        if span > cell.rowspan:
            for covered in column.cells[at + cell.rowspan : at + span]:
                covered.covered = True
                cell.bookings.extend(covered.bookings)
                covered.bookings = []
            cell.rowspan = min(span, len(rows) - at)
    return rows


def _columns(by: str, form: DiaryFilterForm, day: datetime.date) -> tuple[list[Column], object]:
    week = reverse("cases:diary_week")
    if by == "person":
        people = Artist.objects.active().internal().order_by("last_name", "first_name", "pk")
        if person := form.value("person"):
            people = people.filter(pk=person.pk)
        columns = [
            Column(artist.pk, artist.full_name, f"{week}?person={artist.public_id}&day={day:%Y-%m-%d}")
            for artist in people
        ]
        return columns, lambda booking: booking.person_id
    found = Room.objects.active()
    if room := form.value("room"):
        found = found.filter(pk=room.pk)
    columns = [Column(room.pk, room.name, f"{week}?room={room.public_id}&day={day:%Y-%m-%d}") for room in found]
    if not form.value("room"):
        columns.append(Column(None, "No room"))
    return columns, lambda booking: booking.room_id


def _closure(day: datetime.date) -> Closure | None:
    return Closure.objects.filter(day=day).first()


@staff_required
@require_safe
def diary_day(request):
    """One day, a column per room (or per person), a row per quarter hour."""
    today = timezone.localdate()
    # The date box shows the day on screen: today when the address names none.
    asked = request.GET.copy()
    asked.setdefault("day", today.isoformat())
    form = DiaryFilterForm(asked)
    day = form.value("day", today)
    by = form.value("by", "room")
    audit.saw(request, "diary")
    start, end = _day_bounds(day)
    bookings = _boxes(_shown_bookings(request.user, start, end, form), by)
    columns, column_of = _columns(by, form, day)
    hours = diary.opening_hours()
    first, last = _hours_of(day, hours)
    rows = _grid(day, bookings, columns, column_of, first, last)
    now = timezone.localtime()
    now_row = next((row for row in rows if row <= now < row + ROW), None) if day == today else None
    query = request.GET.copy()
    query.pop("day", None)
    context = {
        "form": form,
        "day": day,
        "today": today,
        "by": by,
        "columns": columns,
        # Each row's time as the page writes it, and the cells it draws (a cell covered
        # by a longer booking above draws nothing): worked out here once, not per cell.
        "rows": [
            {
                "iso": row.isoformat(),
                "time": f"{row:%H:%M}",
                "now": row == now_row,
                "cells": [cell for cell in (column.cells[i] for column in columns) if not cell.covered],
            }
            for i, row in enumerate(rows)
        ],
        "closed": hours and day.weekday() not in hours,
        "closure": _closure(day),
        "previous": day - datetime.timedelta(days=1),
        "next": day + datetime.timedelta(days=1),
        "query": query.urlencode(),
        "count": len(bookings),
    }
    return render(request, "cases/diary/day.html", context)


@staff_required
@require_safe
def diary_week(request):
    """A week (Monday to Sunday) of one person or one room: a column per day."""
    form = DiaryFilterForm(request.GET or None)
    today = timezone.localdate()
    day = form.value("day", today)
    monday = day - datetime.timedelta(days=day.weekday())
    person, room = form.value("person"), form.value("room")
    if person is None and room is None:
        person = Artist.objects.filter(user=request.user).first() or (
            Artist.objects.active().internal().order_by("last_name", "first_name", "pk").first()
        )
    if not form.is_bound and person is not None:
        form = DiaryFilterForm(initial={"person": person.public_id, "day": day})
    audit.saw(request, "diary week")
    start, _ = _day_bounds(monday)
    _, end = _day_bounds(monday + datetime.timedelta(days=6))
    found = Booking.objects.visible_to(request.user).holding().between(start, end)
    if person is not None:
        found = found.filter(person=person)
    elif room is not None:
        found = found.filter(room=room)
    else:
        found = found.none()
    if kind := form.value("kind"):
        found = found.filter(kind=kind)
    days = [monday + datetime.timedelta(days=n) for n in range(7)]
    by_day: dict[datetime.date, list[Box]] = {d: [] for d in days}
    bookings = _boxes(found.for_diary(), "person")
    for booking in bookings:
        by_day.setdefault(booking.starts_at.date(), []).append(booking)
    own_feed = None
    if person is not None and person.user_id == request.user.pk:
        own_feed = CalendarFeed.objects.live().filter(person=person).first()
    select = f"person={person.public_id}" if person is not None else (f"room={room.public_id}" if room else "")
    context = {
        "form": form,
        "person": person,
        "room": room,
        "days": [(d, by_day[d]) for d in days],
        "today": today,
        "previous": monday - datetime.timedelta(days=7),
        "next": monday + datetime.timedelta(days=7),
        "select": select,
        "own_feed": own_feed,
        "feed_url": request.build_absolute_uri(reverse("cases:staff_calendar_feed", args=[own_feed.token]))
        if own_feed
        else "",
    }
    return render(request, "cases/diary/week.html", context)


# --- booking ------------------------------------------------------------------------------


def _step_initial(step) -> dict:
    """ "Book this step": its kind, zones and target date, the case's lead artist."""
    initial = {
        "what": WHAT_OF_STEP.get(step.kind, "laser"),
        "zones": list(step.zones.all()),
        "plan_step": step.public_id,
    }
    if step.target_date:
        initial["after"] = max(step.target_date, timezone.localdate())
    lead = step.plan.case.lead_artist
    if lead is not None and lead.kind == Artist.Kind.INTERNAL and not lead.is_archived:
        initial["person"] = lead.public_id
    return initial


def _free_slots(case, finder: FreeSlotForm) -> list[diary.FreeSlot] | None:
    if not finder.is_valid():
        return None
    data = finder.cleaned_data
    what = split_what(data["what"])
    after = data.get("after") or timezone.localdate()
    zone = timezone.get_current_timezone()
    return diary.free_slots(
        case=case,
        kind=what["kind"],
        correction_kind=what.get("correction_kind", ""),
        person=data["person"],
        device=data.get("device"),
        room=data.get("room"),
        zones=list(data.get("zones") or []),
        minutes=data.get("minutes") or diary.default_minutes(what["kind"]),
        after=datetime.datetime.combine(after, datetime.time.min, tzinfo=zone),
        count=FREE_SLOTS_SHOWN,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def booking_create(request, case_id):
    """Book an appointment for the case; "Find free slots" proposes the next times when the
    person, room and laser are free and the clinical rules allow it."""
    case = get_case_for_user(request.user, case_id)
    audit.saw(request, "booking form", case, client_id=case.client_id)
    initial = {}
    step = None
    if step_id := request.GET.get("step"):
        try:
            step = get_step_for_user(request.user, step_id)
        except (Http404, ValidationError):
            step = None
        if step is not None and step.plan.case_id == case.pk:
            initial = _step_initial(step)
        else:
            step = None
    # The finder reads the address (what, with whom, from when); a step with a lead artist
    # asks it at once. Each slot found links back here with the form filled in.
    if "find" in request.GET:
        finder = FreeSlotForm(request.GET)
    elif step is not None and initial.get("person"):
        finder = FreeSlotForm(
            {
                "what": initial["what"],
                "person": str(initial["person"]),
                "zones": [z.pk for z in initial["zones"]],
                "after": initial.get("after", ""),
            }
        )
    else:
        finder = FreeSlotForm(initial=initial)
    slots = _free_slots(case, finder) if finder.is_bound else None
    form_initial = {**initial, **{k: v for k, v in request.GET.items() if k in ("what", "person", "room", "device")}}
    if "starts_at" in request.GET:
        form_initial["starts_at"] = request.GET["starts_at"]
    if "zones" in request.GET:
        form_initial["zones"] = request.GET.getlist("zones")
    form = BookingForm(request.POST or None, case=case, initial=form_initial)
    if request.method == "POST" and form.is_valid():
        try:
            booking, created = create_once(
                _model_of(form), form.submission_token, lambda: _appointment_of(_book(request, form))
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if created:
                messages.success(request, _booked_message(booking))
            else:
                messages.info(request, "This appointment was already booked.")
            return redirect(f"{reverse('cases:diary')}?day={_booked_day(booking):%Y-%m-%d}")
    # What a slot's link carries back to this page: the finder's choices, not its search.
    slot_query = ""
    if finder.is_bound:
        data = finder.data
        slot_query = urlencode(
            {
                key: data.getlist(key) if hasattr(data, "getlist") else data[key]
                for key in data
                if key not in ("find", "after", "minutes")
            },
            doseq=True,
        )
    context = {
        "case": case,
        "client": case.client,
        "form": form,
        "finder": finder,
        "slots": slots,
        "slot_query": slot_query,
        "step": step,
    }
    return render(request, "cases/diary/booking_form.html", context)


def _model_of(form: BookingForm):
    from cases.models import CorrectionSession, FollowUp, LaserSession

    kind = split_what(form.cleaned_data["what"])["kind"]
    return {BookingKind.LASER: LaserSession, BookingKind.CORRECTION: CorrectionSession}.get(kind, FollowUp)


def _book(request, form: BookingForm) -> Booking:
    return booking_services.book(by=request.user, submission_token=form.submission_token, **form.booking_fields())


def _appointment_of(booking: Booking):
    return booking.appointment


def _booked_message(appointment) -> str:
    booking = Booking.objects.select_related("person", "room").get(**{_link_of(appointment): appointment})
    when = timezone.localtime(booking.starts_at)
    where = f" in {booking.room}" if booking.room_id else ""
    return (
        f"{booking.get_kind_display()} booked on {when:%a} {when.day} {when:%b} at {when:%H:%M}–"
        f"{timezone.localtime(booking.ends_at):%H:%M} with {booking.person}{where}."
    )


def _link_of(appointment) -> str:
    from cases.models import CorrectionSession, LaserSession

    if isinstance(appointment, LaserSession):
        return "laser_session"
    if isinstance(appointment, CorrectionSession):
        return "correction_session"
    return "follow_up"


def _booked_day(appointment) -> datetime.date:
    starts_at = getattr(appointment, "scheduled_at", None)
    return timezone.localtime(starts_at).date() if starts_at else appointment.due_on


def _get_booking(user, booking_id) -> Booking:
    return get_object_or_404(
        Booking.objects.visible_to(user).select_related("case__client", "person", "room", "device"),
        public_id=booking_id,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def booking_reschedule(request, booking_id):
    """Move a booking (time, length, person, room) with the reason; the history keeps it."""
    booking = _get_booking(request.user, booking_id)
    case = booking.case
    audit.saw(request, "booking", booking, client_id=case.client_id)
    initial = {
        "starts_at": timezone.localtime(booking.starts_at),
        "person": booking.person.public_id,
        "room": booking.room.public_id if booking.room_id else None,
    }
    form = RescheduleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            moved = booking_services.reschedule(
                booking=booking,
                starts_at=data["starts_at"],
                minutes=data.get("minutes"),
                person=data["person"],
                room=data.get("room"),
                reason=data["reason"],
                hours_override=data.get("hours_override", ""),
                by=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            when = timezone.localtime(moved.starts_at)
            messages.success(request, f"Moved to {when:%a} {when.day} {when:%b} at {when:%H:%M}.")
            return redirect(f"{reverse('cases:diary')}?day={when:%Y-%m-%d}")
    history = booking.history.select_related("history_user").order_by("-history_date", "-history_id")[:20]
    context = {"booking": booking, "case": case, "client": case.client, "form": form, "history": history}
    return render(request, "cases/diary/booking_reschedule.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def booking_cancel(request, booking_id):
    """Cancel a booking with the reason: its slot is free at once."""
    booking = _get_booking(request.user, booking_id)
    case = booking.case
    audit.saw(request, "booking", booking, client_id=case.client_id)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            booking_services.cancel(booking=booking, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Appointment cancelled; its slot is free.")
            return redirect(f"{reverse('cases:diary')}?day={timezone.localtime(booking.starts_at):%Y-%m-%d}")
    context = {"booking": booking, "case": case, "client": case.client, "form": form}
    return render(request, "cases/diary/booking_cancel.html", context)


# --- staff calendar feeds --------------------------------------------------------------------


@staff_required
@require_POST
def staff_feed_manage(request):
    """Turn one's own calendar feed on (a new private address) or off (revoked for good)."""
    person = Artist.objects.filter(user=request.user, kind=Artist.Kind.INTERNAL).first()
    if person is None:
        messages.error(request, "Only a member of the team with diary bookings has a calendar feed.")
        return redirect("cases:diary_week")
    CalendarFeed.objects.live().filter(person=person).update(revoked_at=timezone.now())
    if request.POST.get("action") != "revoke":
        CalendarFeed.objects.create(person=person)
        messages.success(request, "Your calendar feed has a new private address; the old one no longer works.")
    else:
        messages.success(request, "Your calendar feed is turned off.")
    return redirect(f"{reverse('cases:diary_week')}?person={person.public_id}")


@login_not_required
@require_safe
def staff_calendar_feed(request, token):
    """A staff member's own bookings as iCalendar, for a calendar app (no sign-in: the
    long random token in the address is the key, and revoking it turns it off)."""
    feed = CalendarFeed.objects.live().filter(token=token, person__isnull=False).select_related("person").first()
    if feed is None or feed.person.is_archived:
        raise Http404("No such calendar.")
    now = timezone.now()
    bookings = (
        Booking.objects.filter(person=feed.person)
        .filter(Q(status__in=BookingStatus.holding()) | Q(status=BookingStatus.CANCELLED))
        .filter(
            starts_at__gte=now - datetime.timedelta(days=FEED_DAYS_BACK),
            starts_at__lt=now + datetime.timedelta(days=FEED_DAYS_AHEAD),
        )
        .select_related("case__client", "room")
        .order_by("starts_at")
    )
    body = calendar.staff_calendar(bookings, ClinicSettings.cached(), name=feed.person.full_name)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response
