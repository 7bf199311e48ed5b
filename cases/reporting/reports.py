"""Managers' reports: the queries behind each chart and table .

Every report is a fixed number of aggregating queries (values/annotate/Count/TruncMonth),
so it runs in the same number of queries whatever the clinic's size; Python fills in
empty groups (months, statuses with no case), sums fine groups into the tables that share
them and does arithmetic on the grouped counts. What each report reads and why it is
fast at a large clinic: docs/performance.md#reports.

What a report counts: active (not archived) records of active cases of active clients,
as the clinic's own lists show them.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.db.models import Avg, Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncMonth
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from artists.models import Artist, Studio
from cases.choices import (
    AdverseEventChoice,
    CaseStatus,
    Fitzpatrick,
    FollowUpStatus,
    IssueKind,
    PlanStatus,
    Satisfaction,
    SessionStatus,
    Zone,
)
from cases.models import Case, Client, FollowUp, Issue, LaserSession, TreatmentPlan

TOP_N = 10
# The laser sessions table lists at most this many cases (the latest closed).
LASER_ROWS_LIMIT = 500
MAX_PERIOD_DAYS = 10 * 366
# Stands for a case's public id in its link, filled in per row (see laser_sessions_report).
PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"


# --- Period -------------------------------------------------------------------------


def _day(day: datetime.date) -> str:
    return f"{day.day} {day:%b %Y}"


def _add_months(day: datetime.date, months: int) -> datetime.date:
    """The first of the month `months` after (or before) `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """The inclusive date range a report covers."""

    start: datetime.date
    end: datetime.date

    @classmethod
    def default(cls, today: datetime.date | None = None) -> Period:
        """The last 12 months: this month so far and the 11 whole months before it."""
        today = today or timezone.localdate()
        return cls(_add_months(today, -11), today)

    def months(self) -> list[datetime.date]:
        """First day of every month the period touches, oldest first."""
        months, month = [], self.start.replace(day=1)
        while month <= self.end:
            months.append(month)
            month = _add_months(month, 1)
        return months

    def moments(self) -> tuple[datetime.datetime, datetime.datetime]:
        """[start, end) as aware datetimes at the clinic's local midnights.

        Filtering a datetime column on these bounds can use its index; `__date__range`
        wraps the column in a time-zone conversion on every row instead (a full scan on
        PostgreSQL, a Python function call per row on SQLite; measured by `make bench`).
        """
        zone = timezone.get_current_timezone()
        start = datetime.datetime.combine(self.start, datetime.time.min, tzinfo=zone)
        end = datetime.datetime.combine(self.end + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
        return start, end

    def __str__(self) -> str:
        return f"{_day(self.start)} to {_day(self.end)}"


# --- Tables -------------------------------------------------------------------------

TEXT, INT, FLOAT, PCT, MONTH, DATE = "text", "int", "float", "pct", "month", "date"
NUMERIC_CELL = ' class="num"'


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = TEXT

    @property
    def numeric(self) -> bool:
        return self.kind in (INT, FLOAT, PCT)


@dataclass(frozen=True)
class ChartSpec:
    """How to draw a table: which columns, on which kind of chart (see cases.reporting.charts)."""

    kind: str  # "bar" (horizontal bars), "line" (a series over time), "scatter"
    value_columns: tuple[int, ...] = (1,)
    label_column: int = 0
    value_label: str = ""
    unit: str = ""
    max_value: float | None = None
    min_value: float = 0
    x_label: str = ""


@dataclass
class Table:
    key: str
    title: str
    description: str
    columns: list[Column]
    rows: list[list[Any]]
    chart: ChartSpec | None = None
    note: str = ""
    links: list[str | None] = field(default_factory=list)  # for the first cell of each row
    # What a chart draws when it is more than the rows listed (a table cut to its latest
    # rows still charts every one); None: the rows themselves.
    chart_points: list[tuple] | None = None

    @property
    def wide(self) -> bool:
        """Too many columns to sit beside its chart: the page puts it underneath."""
        return len(self.columns) > 4

    def display_rows(self) -> list[list[tuple[str, str | None, bool]]]:
        """Cells as (text, link, numeric) for the template."""
        out = []
        for index, row in enumerate(self.rows):
            link = self.links[index] if index < len(self.links) else None
            cells = []
            for position, (column, value) in enumerate(zip(self.columns, row, strict=True)):
                cells.append((display(value, column.kind), link if position == 0 else None, column.numeric))
            out.append(cells)
        return out

    def body_html(self) -> SafeString:
        """The table's body rows, every cell escaped. Built here rather than by a template
        loop: the laser sessions table has 500 rows of five cells, which the template
        engine took tens of milliseconds to render; joining strings takes a few."""
        rows = []
        for (text, link, _), *rest in self.display_rows():
            head = f'<a href="{escape(link)}">{escape(text)}</a>' if link else escape(text)
            cells = "".join(f"<td{NUMERIC_CELL if numeric else ''}>{escape(value)}</td>" for value, _, numeric in rest)
            rows.append(f'<tr><th scope="row">{head}</th>{cells}</tr>')
        return mark_safe("\n".join(rows))  # nosec B308 B703  # every cell escaped above

    def csv_rows(self) -> list[list[Any]]:
        """Header and rows as plain values for a spreadsheet (see cases.reporting.csv_export);
        each column's conversion chosen once, not at every cell (a year's laser sessions
        at a large clinic are thousands of rows)."""
        header = [c.label + (" (%)" if c.kind == PCT else "") for c in self.columns]
        converters = [_RAW.get(c.kind, _as_is) for c in self.columns]
        return [header] + [
            ["" if v is None else convert(v) for convert, v in zip(converters, row, strict=True)] for row in self.rows
        ]


def display(value: Any, kind: str) -> str:
    if value is None:
        return "—"
    if kind == MONTH:
        return f"{value:%b %Y}"
    if kind == DATE:
        return _day(value)
    if kind == FLOAT:
        return f"{value:.1f}"
    if kind == PCT:
        return f"{value:.1f} %"
    return str(value)


def _as_is(value: Any) -> Any:
    return value


def _rounded(value: Any) -> float:
    return round(float(value), 1)


# A spreadsheet cell for each kind of column whose values are not written as they are
# (an empty value is an empty cell whatever the kind).
_RAW: dict[str, Callable[[Any], Any]] = {
    MONTH: lambda value: f"{value:%Y-%m}",
    DATE: lambda value: value.isoformat(),
    FLOAT: _rounded,
    PCT: _rounded,
}


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _per_100(events: int, sessions: int) -> float | None:
    return round(100 * events / sessions, 1) if sessions else None


def _month(value) -> datetime.date:
    # TruncMonth of a DateField is a date on PostgreSQL and SQLite; be lenient anyway.
    return value.date() if isinstance(value, datetime.datetime) else value


# --- Base querysets -----------------------------------------------------------------


# The "live case" rule (`live_case`) as anti-joins: a case is left out when it, or its
# client, is among the archived ones, which are few (read from the `archived_at` index
# of each table). Joining every row to its case and client to read their `archived_at`
# would hash the whole clients table for every report.


def _archived_clients() -> QuerySet:
    return Client.objects.filter(archived_at__isnull=False).values("pk")


def _cases() -> QuerySet[Case]:
    return Case.objects.filter(archived_at__isnull=True).exclude(client_id__in=_archived_clients())


def _active_case_rows(qs: QuerySet) -> QuerySet:
    return qs.exclude(case_id__in=Case.objects.filter(archived_at__isnull=False).values("pk")).exclude(
        case_id__in=Case.objects.filter(client_id__in=_archived_clients()).values("pk")
    )


# --- 1. Cases by status; new cases per month ----------------------------------------


def cases_report(period: Period) -> list[Table]:
    opened = _cases().filter(opened_on__range=(period.start, period.end))
    # One read of the period's cases, grouped by status and month (a few dozen groups);
    # both tables are sums of those groups.
    by_status: dict[str, int] = defaultdict(int)
    per_month: dict[datetime.date, int] = defaultdict(int)
    for status, month, n in (
        opened.annotate(month=TruncMonth("opened_on")).values_list("status", "month").annotate(n=Count("id")).order_by()
    ):
        by_status[status] += n
        per_month[_month(month)] += n
    total = sum(by_status.values())
    return [
        Table(
            key="by-status",
            title="Cases by status",
            description="Cases opened in the period, by their status today.",
            columns=[Column("Status"), Column("Cases", INT), Column("Share", PCT)],
            rows=[[s.label, by_status.get(s, 0), _share(by_status.get(s, 0), total)] for s in CaseStatus],
            chart=ChartSpec("bar", value_label="Cases"),
            note=f"{total} case{'s' if total != 1 else ''} opened in the period.",
        ),
        Table(
            key="new-per-month",
            title="New cases per month",
            description="Cases opened in each month of the period.",
            columns=[Column("Month", MONTH), Column("New cases", INT)],
            rows=[[m, per_month.get(m, 0)] for m in period.months()],
            chart=ChartSpec("line", value_label="New cases", x_label="Month"),
        ),
    ]


# --- 2. Issues by kind and by zone --------------------------------------------------


def _issue_table(issues: QuerySet, field_name: str, choices, key: str, title: str, label: str) -> Table:
    groups = {
        row[field_name]: row
        for row in issues.values(field_name)
        .annotate(issues=Count("id"), cases=Count("case", distinct=True), severity=Avg("severity"))
        .order_by()
    }
    empty = {"issues": 0, "cases": 0, "severity": None}
    order = list(choices.values)
    ranked = sorted(order, key=lambda v: (-groups.get(v, empty)["issues"], order.index(v)))
    return Table(
        key=key,
        title=title,
        description=f"Issues identified in the period, by {label.lower()}; severity from 1 (mild) to 5 (severe).",
        columns=[Column(label), Column("Issues", INT), Column("Cases", INT), Column("Mean severity", FLOAT)],
        rows=[
            [
                choices(v).label,
                groups.get(v, empty)["issues"],
                groups.get(v, empty)["cases"],
                groups.get(v, empty)["severity"],
            ]
            for v in ranked
        ],
        chart=ChartSpec("bar", value_label="Issues"),
    )


def issues_report(period: Period) -> list[Table]:
    issues = _active_case_rows(Issue.objects.active()).filter(identified_on__range=(period.start, period.end))
    return [
        _issue_table(issues, "kind", IssueKind, "by-kind", "Issues by kind", "Kind"),
        _issue_table(issues, "zone", Zone, "by-zone", "Issues by zone", "Zone"),
    ]


# --- 3. Where corrections come from -------------------------------------------------


def _top_with_rest(groups: list[dict], name: Callable[[dict], str], id_field: str, what: str) -> list[list]:
    """The top ten named groups, one row for all the others, one for "not recorded"."""
    known = [g for g in groups if g[id_field] is not None]
    unknown = sum(g["cases"] for g in groups if g[id_field] is None)
    total = sum(g["cases"] for g in groups)
    rows = [[name(g), g["cases"], _share(g["cases"], total)] for g in known[:TOP_N]]
    rest = known[TOP_N:]
    if rest:
        count = sum(g["cases"] for g in rest)
        rows.append([f"All other {what} ({len(rest)})", count, _share(count, total)])
    if unknown:
        rows.append(["Not recorded", unknown, _share(unknown, total)])
    return rows


def _ranked(counts: dict[int | None, int], named: QuerySet, id_field: str) -> list[dict]:
    """Groups of cases per id with their named row ("row"), most cases first; ties in the
    order of `named`, read in the database's own order of the names; "not recorded"
    (None) last."""
    rows = {row.pk: row for row in named.filter(pk__in=counts)}
    rank = {pk: position for position, pk in enumerate(rows)}
    ids = sorted(counts, key=lambda pk: (pk is None, -counts[pk], rank.get(pk, 0)))
    return [{id_field: pk, "row": rows.get(pk), "cases": counts[pk]} for pk in ids]


def _studio_name(group: dict) -> str:
    studio = group["row"]
    return f"{studio.name} ({studio.city})" if studio.city else studio.name


def _artist_name(group: dict) -> str:
    artist = group["row"]
    name = f"{artist.first_name} {artist.last_name}".strip()
    return f"{name} ({artist.studio.name})" if artist.studio else name


def origins_report(period: Period) -> list[Table]:
    cases = _cases().filter(opened_on__range=(period.start, period.end))
    # The period's cases read once from the covering index and grouped by the original
    # studio's and artist's ids (a few dozen groups); the names come from the two small
    # tables afterwards, rather than joined to every case.
    studio_counts: dict[int | None, int] = defaultdict(int)
    artist_counts: dict[int | None, int] = defaultdict(int)
    for studio, artist, n in (
        cases.values_list("original_studio_id", "original_artist_id").annotate(n=Count("id")).order_by()
    ):
        studio_counts[studio] += n
        artist_counts[artist] += n
    studios = _ranked(studio_counts, Studio.objects.order_by("name", "pk"), "original_studio_id")
    artists = _ranked(
        artist_counts,
        Artist.objects.select_related("studio").order_by("last_name", "first_name", "pk"),
        "original_artist_id",
    )

    columns = [Column("Studio"), Column("Cases", INT), Column("Share", PCT)]
    return [
        Table(
            key="by-studio",
            title="Cases by original studio",
            description=f"Cases opened in the period by the studio of the original SMP: top {TOP_N} and the rest.",
            columns=columns,
            rows=_top_with_rest(studios, _studio_name, "original_studio_id", "studios"),
            chart=ChartSpec("bar", value_label="Cases"),
        ),
        Table(
            key="by-artist",
            title="Cases by original artist",
            description=f"Cases opened in the period by the artist of the original SMP: top {TOP_N} and the rest.",
            columns=[Column("Artist"), *columns[1:]],
            rows=_top_with_rest(artists, _artist_name, "original_artist_id", "artists"),
            chart=ChartSpec("bar", value_label="Cases"),
        ),
    ]


# --- 4. Laser sessions per completed case against the Kirby–Desai estimate ----------


# More completed sessions than one case will ever have: an estimate and a count in one number.
PAIRED = 1_000_000


def laser_sessions_report(period: Period, *, whole: bool = False) -> list[Table]:
    """Kirby–Desai (2009) over-estimates for shallow SMP pigment (docs/domain.md#kirby-desai): this shows
    the clinic its own calibration, actual completed sessions against the estimate.

    The page lists the latest LASER_ROWS_LIMIT cases; `whole` (the CSV download) lists every one."""
    # The estimate a manager approved: the newest approved version (a later draft or an
    # unapproved revision does not count; an approved version stays the estimate after a
    # revision supersedes it, until that revision is approved in turn).
    approved = (
        TreatmentPlan.objects.active()
        .approved()
        .exclude(status=PlanStatus.CANCELLED)
        .filter(case=OuterRef("pk"), kd_total__isnull=False)
        .order_by("-version")
    )

    def completed(case):
        """The case's completed sessions, counted from the partial index
        `laser_completed_by_case` rather than by joining and grouping every session of
        the period's cases."""
        return Coalesce(
            Subquery(
                LaserSession.objects.filter(case=case, status=SessionStatus.COMPLETED, archived_at__isnull=True)
                .order_by()
                .values("case")
                .annotate(n=Count("*"))
                .values("n")
            ),
            0,
        )

    in_period = _cases().filter(status=CaseStatus.CLOSED, closed_on__range=(period.start, period.end))
    closed = in_period.annotate(estimate=Subquery(approved.values("kd_total")[:1]), actual=completed(OuterRef("pk")))
    # A case is listed when it has an estimate or a completed session. Each reference to
    # an annotation in SQL repeats its subquery, so the difference is worked out in Python
    # and the whole table (the CSV's) is filtered in Python too: one estimate and one
    # count per case.
    columns = ("public_id", "reference", "closed_on", "estimate", "actual")
    if whole:
        listed = closed.values_list(*columns).order_by("closed_on", "reference")
        rows, cut = [r for r in listed if r[3] is not None or r[4] > 0], False
    else:
        # The latest first, read backwards along the closed-on index, which stops after
        # LASER_ROWS_LIMIT + 1 listed cases (one more, to know the table was cut); shown
        # oldest first.
        listed = closed.filter(Q(estimate__isnull=False) | Q(actual__gt=0)).values_list(*columns)
        latest = list(listed.order_by("-closed_on", "-reference")[: LASER_ROWS_LIMIT + 1])
        cut = len(latest) > LASER_ROWS_LIMIT
        rows = latest[:LASER_ROWS_LIMIT][::-1]
    # The means over every case with an estimate, summed here from one (estimate, count)
    # pair per case (the whole table has them all already). Each case's pair comes from
    # one subquery, the estimate's, which counts the sessions of a case that has one:
    # estimate × PAIRED + count, taken apart here. A filter on the estimate, or an
    # aggregate in SQL, made PostgreSQL look each case's estimate up again (106 → 88 ms
    # for a year at 100,000 clients).
    if whole:
        estimated = [(r[3], r[4]) for r in rows if r[3] is not None]
    else:
        paired = approved.annotate(pair=F("kd_total") * PAIRED + completed(OuterRef("case"))).values("pair")[:1]
        pairs = in_period.annotate(pair=Subquery(paired)).values_list("pair", flat=True).order_by()
        # Read with a plain cursor: the one integer column needs no conversion, and
        # Django's per-row converters and iterable took 9 of the query's ~110 ms for the
        # 34,000 cases of a year at 100,000 clients.
        sql, params = pairs.query.sql_with_params()
        with connections[pairs.db].cursor() as cursor:
            cursor.execute(sql, params)
            estimated = [divmod(pair, PAIRED) for (pair,) in cursor.fetchall() if pair is not None]
    n = len(estimated)
    if n:
        estimates, actuals = sum(e for e, _ in estimated), sum(a for _, a in estimated)
        note = (
            f"Across {n:,} closed case{'s' if n != 1 else ''} with an estimate: "
            f"mean estimate {estimates / n:.1f}, mean actual {actuals / n:.1f}, "
            f"mean difference (actual − estimate) {(actuals - estimates) / n:+.1f} sessions."
        )
    else:
        note = "No closed case in the period has a Kirby–Desai estimate yet."
    # One reverse() for the table's links (up to 500 of them, and thousands in the CSV's
    # table) rather than one per row.
    case_link = reverse("cases:case_detail", kwargs={"case_id": PLACEHOLDER_ID})
    if cut:
        note += (
            f" The table lists only the latest {LASER_ROWS_LIMIT} closed cases; the means and the CSV download "
            "cover every case in the period."
        )
    return [
        Table(
            key="estimate-vs-actual",
            title="Laser sessions: Kirby–Desai estimate against actual",
            description=(
                "Cases closed in the period: the Kirby–Desai total on the case's approved plan and the "
                "laser sessions actually completed."
            ),
            columns=[
                Column("Case"),
                Column("Closed on", DATE),
                Column("Kirby–Desai estimate", INT),
                Column("Completed laser sessions", INT),
                Column("Difference (actual − estimate)", INT),
            ],
            rows=[[ref, day, est, act, None if est is None else act - est] for _, ref, day, est, act in rows],
            # The page's rows link to their cases; a download's do not.
            links=[] if whole else [case_link.replace(PLACEHOLDER_ID, str(r[0])) for r in rows],
            chart=ChartSpec(
                "scatter",
                value_columns=(2, 3),
                x_label="Kirby–Desai estimate (sessions)",
                value_label="Completed laser sessions",
            ),
            note=note,
            chart_points=None if whole else estimated,
        )
    ]


# --- 5. Adverse events per 100 laser sessions ---------------------------------------

COMPLICATIONS = [c for c in AdverseEventChoice.values if c not in AdverseEventChoice.expected()]


# A session's group: its technician, device and the skin type recorded with it.
ADVERSE_GROUP = ("technician_id", "device_id", "fitzpatrick_type")


def _adverse_counts(sessions: QuerySet) -> list[dict]:
    """Sessions, adverse events and complications per technician, device and skin type.

    Two queries: the sessions counted from the covering index `laser_completed_report`
    alone (the tiny technician and device tables joined for their names), then the events
    of the sessions that have any, counted from their links. One query joining every
    session to its events would have to count the sessions DISTINCT, a sort of every row.
    """
    groups = {
        tuple(g[f] for f in ADVERSE_GROUP): {**g, "events": 0, "complications": 0}
        for g in sessions.values(*ADVERSE_GROUP, "technician__last_name", "technician__first_name", "device__name")
        .annotate(sessions=Count("id"))
        .order_by()
    }
    events = (
        sessions.filter(adverse_events__isnull=False)
        .values(*ADVERSE_GROUP)
        .annotate(
            events=Count("adverse_events"),
            complications=Count("adverse_events", filter=Q(adverse_events__code__in=COMPLICATIONS)),
        )
        .order_by()
    )
    for g in events:
        groups[tuple(g[f] for f in ADVERSE_GROUP)].update(events=g["events"], complications=g["complications"])
    return list(groups.values())


def _adverse_row(label: str, g: dict) -> list:
    return [
        label,
        g["sessions"],
        g["events"],
        _per_100(g["events"], g["sessions"]),
        g["complications"],
        _per_100(g["complications"], g["sessions"]),
    ]


def _adverse_table(key: str, title: str, label: str, rows: list[list]) -> Table:
    return Table(
        key=key,
        title=title,
        description=(
            "Completed laser sessions in the period and the adverse events recorded on them, per 100 sessions. "
            "Complications are every event except the expected transient reactions (erythema, oedema, crusting)."
        ),
        columns=[
            Column(label),
            Column("Laser sessions", INT),
            Column("Adverse events", INT),
            Column("Events per 100 sessions", FLOAT),
            Column("Complications", INT),
            Column("Complications per 100 sessions", FLOAT),
        ],
        rows=rows,
        chart=ChartSpec("bar", value_columns=(3, 5), value_label="Per 100 laser sessions"),
    )


def _adverse_totals(groups: list[dict], *fields: str) -> list[dict]:
    """Add the fine groups up per `fields`: each session sits in exactly one fine group,
    so the sums are exact (a few dozen groups, not rows)."""
    totals: dict[tuple, dict] = {}
    for group in groups:
        total = totals.setdefault(
            tuple(group[f] for f in fields),
            {**{f: group[f] for f in fields}, "sessions": 0, "events": 0, "complications": 0},
        )
        for count in ("sessions", "events", "complications"):
            total[count] += group[count]
    return list(totals.values())


def adverse_events_report(period: Period) -> list[Table]:
    sessions = (
        _active_case_rows(LaserSession.objects.active())
        .completed()
        .filter(scheduled_at__gte=period.moments()[0], scheduled_at__lt=period.moments()[1])
    )
    # The sessions grouped finely; the three tables are sums of those groups.
    groups = _adverse_counts(sessions)
    technicians = sorted(
        _adverse_totals(groups, "technician__last_name", "technician__first_name", "technician_id"),
        key=lambda g: (
            (g["technician__last_name"] or "").casefold(),
            (g["technician__first_name"] or "").casefold(),
            g["technician_id"] or 0,
        ),
    )
    # Sessions without a device last.
    devices = sorted(
        _adverse_totals(groups, "device_id", "device__name"),
        key=lambda g: (g["device_id"] is None, (g["device__name"] or "").casefold(), g["device_id"] or 0),
    )
    skin = {g["fitzpatrick_type"]: g for g in _adverse_totals(groups, "fitzpatrick_type")}
    no_sessions = {"sessions": 0, "events": 0, "complications": 0}
    return [
        _adverse_table(
            "by-technician",
            "Adverse events by technician",
            "Technician",
            [
                _adverse_row(f"{g['technician__first_name']} {g['technician__last_name']}".strip(), g)
                for g in technicians
            ],
        ),
        _adverse_table(
            "by-device",
            "Adverse events by device",
            "Device",
            [_adverse_row(g["device__name"] or "No device recorded", g) for g in devices],
        ),
        _adverse_table(
            "by-fitzpatrick",
            "Adverse events by Fitzpatrick skin type",
            "Fitzpatrick type",
            [_adverse_row(f"Type {t.value}", skin.get(t.value, no_sessions)) for t in Fitzpatrick],
        ),
    ]


# --- 6. Follow-up compliance --------------------------------------------------------


def followups_report(period: Period, today: datetime.date | None = None) -> list[Table]:
    today = today or timezone.localdate()
    completed = Q(status=FollowUpStatus.COMPLETED)
    counts = (
        _active_case_rows(FollowUp.objects.active())
        .filter(due_on__range=(period.start, period.end))
        .exclude(status=FollowUpStatus.CANCELLED)
        .aggregate(
            on_time=Count("id", filter=completed & Q(completed_on__lte=F("due_on"))),
            late=Count("id", filter=completed & Q(completed_on__gt=F("due_on"))),
            missed=Count("id", filter=Q(status=FollowUpStatus.MISSED)),
            overdue=Count("id", filter=Q(status=FollowUpStatus.SCHEDULED, due_on__lt=today)),
            upcoming=Count("id", filter=Q(status=FollowUpStatus.SCHEDULED, due_on__gte=today)),
        )
    )
    due = counts["on_time"] + counts["late"] + counts["missed"] + counts["overdue"]
    outcomes = [
        ("Completed on time", "on_time"),
        ("Completed late", "late"),
        ("Missed", "missed"),
        ("Overdue, not yet recorded", "overdue"),
    ]
    rows = [[label, counts[key], _share(counts[key], due)] for label, key in outcomes]
    rows.append(["Not yet due", counts["upcoming"], None])
    return [
        Table(
            key="compliance",
            title="Follow-up compliance",
            description=(
                "Follow-ups due in the period (cancelled ones left out). Shares are of those due by today; "
                "follow-ups not yet due are counted but have no share."
            ),
            columns=[Column("Follow-ups"), Column("Count", INT), Column("Share of those due", PCT)],
            rows=rows,
            chart=ChartSpec("bar", value_columns=(2,), value_label="Share of follow-ups due", unit="%", max_value=100),
            note=f"{due} follow-up{'s' if due != 1 else ''} due by today.",
        )
    ]


# --- 7. Satisfaction at closing -----------------------------------------------------


def satisfaction_report(period: Period) -> list[Table]:
    closed = _cases().filter(status=CaseStatus.CLOSED, closed_on__range=(period.start, period.end))
    scores = dict(closed.values_list("satisfaction").annotate(n=Count("id")).order_by())
    unrecorded = scores.pop(None, 0)
    answered = sum(scores.values())
    trend = {
        _month(row["month"]): row
        for row in closed.annotate(month=TruncMonth("closed_on"))
        .values("month")
        .annotate(closed=Count("id"), answered=Count("satisfaction"), mean=Avg("satisfaction"))
        .order_by("month")
    }
    distribution = [[s.label, scores.get(s.value, 0), _share(scores.get(s.value, 0), answered)] for s in Satisfaction]
    distribution.append(["Not recorded", unrecorded, None])
    empty = {"closed": 0, "answered": 0, "mean": None}
    return [
        Table(
            key="distribution",
            title="Satisfaction at closing",
            description="Cases closed in the period by the client's satisfaction (1–5) at closing.",
            columns=[Column("Satisfaction"), Column("Cases", INT), Column("Share of scored", PCT)],
            rows=distribution,
            chart=ChartSpec("bar", value_label="Cases"),
            note=f"{answered} of {answered + unrecorded} closed cases have a satisfaction score.",
        ),
        Table(
            key="trend",
            title="Satisfaction by month",
            description="Mean satisfaction (1–5) of the cases closed in each month.",
            columns=[
                Column("Month", MONTH),
                Column("Closed cases", INT),
                Column("With a score", INT),
                Column("Mean satisfaction", FLOAT),
            ],
            rows=[
                [m, trend.get(m, empty)["closed"], trend.get(m, empty)["answered"], _mean(trend.get(m, empty)["mean"])]
                for m in period.months()
            ],
            chart=ChartSpec(
                "line", value_columns=(3,), value_label="Mean satisfaction", min_value=1, max_value=5, x_label="Month"
            ),
        ),
    ]


def _mean(value) -> float | None:
    return None if value is None else round(float(value), 1)


# --- Registry -----------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    slug: str
    title: str
    summary: str
    build: Callable[..., Sequence[Table]]
    # The page shows part of a table, which build(period, whole=True) gives whole for the CSV.
    cuts_rows: bool = False

    def tables(self, period: Period, *, download: bool = False) -> Sequence[Table]:
        return self.build(period, whole=True) if download and self.cuts_rows else self.build(period)

    @property
    def name(self) -> str:
        """The URL name inside the "cases" namespace; the CSV download adds "_csv"."""
        return "report_" + self.slug.replace("-", "_")

    @property
    def url_name(self) -> str:
        return f"cases:{self.name}"

    @property
    def csv_url_name(self) -> str:
        return f"cases:{self.name}_csv"


REPORTS: dict[str, Report] = {
    r.slug: r
    for r in [
        Report("cases", "Cases", "Cases by status; new cases per month.", cases_report),
        Report("issues", "Issues", "Assessed issues by kind and by scalp zone.", issues_report),
        Report(
            "origins",
            "Where corrections come from",
            "Cases by the studio and the artist of the original SMP.",
            origins_report,
        ),
        Report(
            "laser-sessions",
            "Laser sessions against Kirby–Desai",
            "Completed laser sessions per closed case against the Kirby–Desai estimate.",
            laser_sessions_report,
            cuts_rows=True,
        ),
        Report(
            "adverse-events",
            "Adverse events",
            "Adverse events per 100 laser sessions by technician, device and Fitzpatrick type.",
            adverse_events_report,
        ),
        Report(
            "follow-ups",
            "Follow-up compliance",
            "Follow-ups completed on time, late, missed.",
            followups_report,
        ),
        Report(
            "satisfaction",
            "Satisfaction at closing",
            "How satisfied clients were at closing: distribution and trend.",
            satisfaction_report,
        ),
    ]
}
