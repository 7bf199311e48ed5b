"""The staff start page: today's and this week's sessions, my follow-ups, my cases, recent
changes; for managers, first of all the plans waiting for their approval.

Every list is capped (HOME_LIST_LIMIT) so the page costs the same few queries whatever
the size of the clinic's data.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import wraps
from itertools import chain

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Concat
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from artists.models import Artist
from cases import audit
from cases.choices import CaseStatus, CorrectionKind
from cases.models import Case, Client, CorrectionSession, FollowUp, LaserSession, ZoneLookup
from cases.views.review import plans_to_approve
from smpclinic import roles
from smpclinic.links import Link
from smpclinic.lookups import choice_labels, choice_rows
from smpclinic.roles import is_client, staff_required

# Each list shows this many rows: a page to glance at, whose full lists are the diary,
# the client list and the review page. At 50 a list, building and drawing the rows took
# most of the page's time at 100,000 clients.
HOME_LIST_LIMIT = 25
# The plans waiting longest for approval; the rest are on the review page, paged.
HOME_PLANS = 10
RECENT_CASES = 10
WEEK_DAYS = 7


@dataclass
class _SessionRow:
    """A scheduled session as the page lists it."""

    scheduled_at: datetime.datetime
    day: datetime.date
    is_laser: bool
    kind: str  # a correction's kind; "" for laser
    zones: str
    reference: str
    case_url: str
    client_url: str
    client_name: str
    worker_name: str


# What a session's row shows, read as plain values: at a week of a busy clinic's sessions,
# building each row's session, case, client, person and zone objects took more of the page
# than its queries.
_SESSION_VALUES = ("scheduled_at", "case__public_id", "case__reference", "case__client__public_id")
_SESSION_VALUES += ("case__client__first_name", "case__client__last_name")


def scheduled_session_values(model, user, start: datetime.date, last: datetime.date):
    """The first HOME_LIST_LIMIT + 1 scheduled sessions of `model` (laser or correction)
    from `start` to `last`, by time, as the values a row shows (zones as a JSON column:
    `choice_rows`). One query; it walks `laser_status_time` / `correction_status_time` in
    order and stops at the cap."""
    laser = model is LaserSession
    # The technician's or artist's name is read per row shown, like the zones, not joined:
    # a join to the people's table let PostgreSQL hash it and then sort the week's
    # thousands of joined sessions (a misjudged count of the week's sessions made that
    # look cheap) instead of stopping at the cap.
    worker = Artist.objects.filter(pk=OuterRef("technician_id" if laser else "artist_id"))
    worker_name = worker.order_by().values(name=Concat("first_name", Value(" "), "last_name"))[:1]
    sessions = model.objects.visible_to(user).scheduled().on_days(start, last).order_by("scheduled_at", "pk")
    return sessions.annotate(zone_rows=choice_rows(model, "zones")).values(
        *_SESSION_VALUES,
        "zone_rows",
        *([] if laser else ["kind"]),
        worker_name=Subquery(worker_name),
    )[: HOME_LIST_LIMIT + 1]


def _session_rows(rows, links: _Links, kinds: dict | None) -> list[_SessionRow]:
    """`scheduled_session_values` as the page's rows; `kinds` the correction kinds'
    labels (None for laser sessions)."""
    return [
        _SessionRow(
            scheduled_at=row["scheduled_at"],
            day=timezone.localdate(row["scheduled_at"]),
            is_laser=kinds is None,
            kind="" if kinds is None else kinds.get(row["kind"], row["kind"]),
            zones=", ".join(choice_labels(ZoneLookup, row["zone_rows"])),
            reference=row["case__reference"],
            case_url=links.case(row["case__public_id"]),
            client_url=links.client(row["case__client__public_id"]),
            client_name=f"{row['case__client__first_name']} {row['case__client__last_name']}",
            worker_name=(row["worker_name"] or "").strip(),
        )
        for row in rows
    ]


def _scheduled_sessions(user, start: datetime.date, end: datetime.date, links: _Links) -> tuple[list, bool]:
    """Scheduled laser and correction sessions from `start` up to (not including) `end`, by time.

    Two queries, each fetching one row past the cap so the page can say the list was
    cut. The first HOME_LIST_LIMIT of the merged order always come from the first
    HOME_LIST_LIMIT of each list, so the merge is exact.
    """
    last = end - datetime.timedelta(days=1)
    laser = _session_rows(scheduled_session_values(LaserSession, user, start, last), links, kinds=None)
    correction = _session_rows(
        scheduled_session_values(CorrectionSession, user, start, last), links, kinds=dict(CorrectionKind.choices)
    )
    merged = sorted(chain(laser, correction), key=lambda s: s.scheduled_at)
    return merged[:HOME_LIST_LIMIT], len(merged) > HOME_LIST_LIMIT


# The columns the page's rows show, and only those: a client's record alone has some
# thirty columns the page never shows, and building each row's objects from every
# column cost more than the queries.
_CASE_COLUMNS = ("case", "case__public_id", "case__reference", "case__client")
_CASE_COLUMNS += ("case__client__public_id", "case__client__first_name", "case__client__last_name")


def _person_columns(name: str) -> tuple[str, ...]:
    return (name, f"{name}__first_name", f"{name}__last_name")


class _Links:
    """The links of the page's rows, each reversed once for the page (`Link`)."""

    def __init__(self):
        self.client = Link("cases:client_detail", "client_id")
        self.case = Link("cases:case_detail", "case_id")
        self.record = Link("cases:followup_complete", "followup_id")


def _link_cases(rows, links: _Links, case=lambda row: row.case) -> None:
    """Each row's case and client links, and the client's name, worked out once."""
    for row in rows:
        of = case(row)
        row.case_url = links.case(of.public_id)
        row.client_url = links.client(of.client.public_id)
        row.client_name = of.client.full_name


def _my_follow_ups(user, today: datetime.date) -> tuple[list, bool]:
    """Scheduled follow-ups assigned to me, overdue or due within the week, oldest first."""
    follow_ups = list(
        FollowUp.objects.visible_to(user)
        .open()
        .filter(
            assignee=user,
            due_on__lte=today + datetime.timedelta(days=WEEK_DAYS),
        )
        .select_related("case__client")
        .only("public_id", "kind", "due_on", "status", *_CASE_COLUMNS)
        .order_by("due_on", "pk")[: HOME_LIST_LIMIT + 1]
    )
    for follow_up in follow_ups:
        follow_up.overdue = follow_up.is_overdue(today)
    return follow_ups[:HOME_LIST_LIMIT], len(follow_ups) > HOME_LIST_LIMIT


def led_case_counts(artist):
    """(status, live cases) of the cases `artist` leads, from the partial index
    `case_live_lead_status` alone: the live-case rule as an anti-join on the few archived
    clients (docs/performance.md), not a join with every client."""
    return (
        Case.objects.filter(lead_artist=artist, archived_at__isnull=True)
        .exclude(client_id__in=Client.objects.filter(archived_at__isnull=False).values("pk"))
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
    )


# A listed case: its reference, status and client.
_LISTED_CASE_COLUMNS = ("public_id", "reference", "status", "client", "client__first_name", "client__last_name")
_LISTED_CASE_COLUMNS += ("client__public_id",)


def _my_cases(user) -> dict | None:
    """Cases where I am the lead artist: a count per status and my open cases by status."""
    try:
        artist = user.artist
    except ObjectDoesNotExist:
        return None
    led = Case.objects.visible_to(user).filter(lead_artist=artist)
    counts = dict(led_case_counts(artist))
    open_cases = list(
        led.open().select_related("client").only(*_LISTED_CASE_COLUMNS).order_by("-updated_at")[: HOME_LIST_LIMIT + 1]
    )
    order = {status: index for index, status in enumerate(CaseStatus.values)}
    shown = sorted(open_cases[:HOME_LIST_LIMIT], key=lambda case: order[case.status])
    return {
        "artist": artist,
        "counts": [(value, label, counts.get(value, 0)) for value, label in CaseStatus.choices],
        "total": sum(counts.values()),
        "open_cases": shown,
        "open_cases_cut": len(open_cases) > HOME_LIST_LIMIT,
    }


def _clients_to_portal(view):
    """A client's home is the portal: logging in (LOGIN_REDIRECT_URL) or the brand link lands there."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if is_client(request.user):
            return redirect("cases:portal_plan")
        return view(request, *args, **kwargs)

    return wrapped


@_clients_to_portal
@staff_required
@require_http_methods(["GET", "HEAD"])
def staff_home(request):
    audit.saw(request, "home")  # today's sessions and follow-ups name clients: a list page
    today = timezone.localdate()
    tomorrow = today + datetime.timedelta(days=1)
    links = _Links()
    sessions, sessions_cut = _scheduled_sessions(
        request.user, today, tomorrow + datetime.timedelta(days=WEEK_DAYS), links
    )
    follow_ups, follow_ups_cut = _my_follow_ups(request.user, today)
    recent_cases = list(
        Case.objects.visible_to(request.user)
        .for_list()
        .only(*_LISTED_CASE_COLUMNS, "updated_at", *_person_columns("lead_artist"))
        .order_by("-updated_at", "-pk")[:RECENT_CASES]
    )
    _link_cases(follow_ups, links)
    for follow_up in follow_ups:
        follow_up.record_url = links.record(follow_up.public_id)
    _link_cases(recent_cases, links, case=lambda case: case)
    my_cases = _my_cases(request.user)
    if my_cases:
        _link_cases(my_cases["open_cases"], links, case=lambda case: case)
    plans, plans_cut = (None, False)
    if roles.may(request.user, roles.APPROVE_PLANS):
        plans, plans_cut = plans_to_approve(request.user, HOME_PLANS)
    context = {
        "plans_to_approve": plans,
        "plans_cut": plans_cut,
        "plans_count": f"{len(plans)}+" if plans_cut else str(len(plans or ())),
        # The rest are on the review page, for those who may open it.
        "plans_more_url": reverse("cases:review_queue") + "#plans-to-approve"
        if roles.may(request.user, roles.REVIEW_FOLLOW_UPS)
        else None,
        "today": today,
        "week_end": today + datetime.timedelta(days=WEEK_DAYS),
        "session_groups": [
            {
                "title": "Sessions today",
                "slug": "today",
                "sessions": [s for s in sessions if s.day == today],
                # Cut lists drop their latest rows: today's count is short only if the cut fell today.
                "cut": sessions_cut and bool(sessions) and sessions[-1].day == today,
                "empty": "No sessions scheduled today.",
                "time_format": "H:i",
            },
            {
                "title": "Sessions in the next 7 days",
                "slug": "week",
                "sessions": [s for s in sessions if s.day != today],
                "cut": sessions_cut,
                "empty": "No sessions scheduled in the next 7 days.",
                "time_format": "D j M, H:i",
            },
        ],
        "sessions_cut": sessions_cut,
        "follow_ups": follow_ups,
        "follow_ups_cut": follow_ups_cut,
        "overdue_count": sum(1 for f in follow_ups if f.overdue),
        # Oldest first: when the cut falls among overdue ones, more are overdue than are shown.
        "overdue_cut": follow_ups_cut and bool(follow_ups) and follow_ups[-1].overdue,
        "my_cases": my_cases,
        "recent_cases": recent_cases,
        "list_limit": HOME_LIST_LIMIT,
    }
    return render(request, "cases/home.html", context)
