"""Which pages the benchmark measures, and the records it opens them on.

Adding a page is one line in `pages()`: a label, who opens it, its kind (which targets
apply, see bench/targets.py) and its URL. The records are picked by query on the
database measured (`Picks`), the same way at every size, so the S and L rows show the
same page for comparable records: the case with the most photos and sessions, its
client, its latest plan, the demo logins' own portal.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

# Kinds: "staff" and "portal" pages carry the 50 ms and growth targets, "report" pages
# the 150 ms one (12 months), "csv" only the query targets; "admin" and "floor" are the
# peers every page is compared with.
STAFF, PORTAL, REPORT, CSV, ADMIN, FLOOR = "staff", "portal", "report", "csv", "admin", "floor"

# Who opens a page: a demo login (cases.demo.DEMO_USERNAMES' keys).
PERSONAS = ("staff", "manager", "client", "admin")


@dataclass
class Page:
    label: str
    persona: str
    kind: str
    url: str
    note: str = ""


@dataclass
class Picks:
    """The records the pages are opened on, and what the output should say about them."""

    case: object
    client: object
    plan: object | None
    photo: object | None
    name_part: str
    email: str
    notes: list[str] = field(default_factory=list)


def pick(media_root) -> Picks:
    """The case with the most photos whose files exist, then the most sessions; its records."""
    from django.db.models import Count, Q

    from cases.models import Case, Client, Photo, TreatmentPlan

    notes = []
    # The cases with the most photos that have files (grouped on the photos alone: at L
    # there are a few hundred thousand), then the most laser sessions among them.
    most = (
        Photo.objects.exclude(thumbnail="")
        .filter(case__in=Case.objects.live())
        .values("case_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "case_id")[:20]
    )
    candidates = Case.objects.live().filter(pk__in=[row["case_id"] for row in most]) or Case.objects.live()
    case = (
        candidates.annotate(
            n_photos=Count("photos", distinct=True),
            n_laser=Count("lasersessions", distinct=True),
            n_correction=Count("correctionsessions", distinct=True),
        )
        .order_by("-n_photos", "-n_laser", "pk")
        .first()
    )
    notes.append(
        f"case workspace: {case.reference}, {case.n_laser} laser and {case.n_correction} correction sessions, "
        f"{case.n_photos} photos"
    )
    photo = next(
        (p for p in case.photos.exclude(thumbnail="").order_by("pk") if (media_root / p.thumbnail.name).exists()),
        None,
    )
    if photo is None:
        notes.append("photo thumbnail: no photo of that case has a thumbnail file here; the page is left out")
    plan = TreatmentPlan.objects.filter(case=case).order_by("-pk").first()
    # The first four letters of a surname from the middle of the list: a search that
    # matches a few dozen clients at L, as a receptionist's partial name does (a prefix,
    # so that the Django admin's "^last_name" search finds the same clients).
    clients = Client.objects.filter(~Q(email=""), archived_at__isnull=True).order_by("pk")
    middle = clients[clients.count() // 2]
    name_part = middle.last_name[:4]
    return Picks(case, case.client, plan, photo, name_part=name_part, email=middle.email, notes=notes)


def _ten_years(today: datetime.date) -> str:
    try:
        start = today.replace(year=today.year - 10)
    except ValueError:  # 29 February
        start = today.replace(year=today.year - 10, day=28)
    return f"from={start + datetime.timedelta(days=1)}&to={today}"


def _table_keys(report) -> list[str]:
    """A report's table keys, without running its queries (a one-day period in 1900)."""
    from cases.reporting.reports import Period

    day = datetime.date(1900, 1, 1)
    return [table.key for table in report.build(Period(day, day))]


def pages(picks: Picks, today: datetime.date) -> list[Page]:
    """Every page measured, in the order printed."""
    from urllib.parse import quote

    from django.urls import reverse

    from cases.reporting.reports import REPORTS

    case, client, plan, photo = picks.case, picks.client, picks.plan, picks.photo
    search = reverse("cases:client_list") + "?q="
    result = [
        Page("staff home", "staff", STAFF, reverse("cases:home")),
        Page("client list", "staff", STAFF, reverse("cases:client_list")),
        Page("client search: name part", "staff", STAFF, search + quote(picks.name_part), picks.name_part),
        Page("client search: e-mail", "staff", STAFF, search + quote(picks.email)),
        Page("client search: case reference", "staff", STAFF, search + quote(case.reference)),
        Page("client detail", "staff", STAFF, reverse("cases:client_detail", args=[client.public_id])),
        Page("case workspace", "staff", STAFF, reverse("cases:case_detail", args=[case.public_id])),
        Page("laser session form", "staff", STAFF, reverse("cases:laser_session_create", args=[case.public_id])),
        Page("photo gallery", "staff", STAFF, reverse("cases:photo_gallery", args=[case.public_id])),
        Page("team", "manager", STAFF, reverse("artists:team")),
        Page("review queue", "manager", STAFF, reverse("cases:review_queue")),
        Page("plans to approve (manager home)", "manager", STAFF, reverse("cases:home")),
        Page("portal plan", "client", PORTAL, reverse("cases:portal_plan")),
        Page("portal appointments", "client", PORTAL, reverse("cases:portal_appointments")),
        Page("portal photos", "client", PORTAL, reverse("cases:portal_photos")),
        Page("diary day (rooms)", "staff", STAFF, reverse("cases:diary")),
        Page("diary day (people)", "staff", STAFF, reverse("cases:diary") + "?by=person"),
    ]
    if plan is not None:
        result.insert(7, Page("plan detail", "staff", STAFF, reverse("cases:plan_detail", args=[plan.public_id])))
    if photo is not None:
        result.append(Page("photo thumbnail", "staff", STAFF, reverse("cases:photo_thumb", args=[photo.public_id])))
    ranges = [("12 months", ""), ("10 years", _ten_years(today))]
    result.append(Page("report index", "manager", REPORT, reverse("cases:reports")))
    for report in REPORTS.values():
        for label, query in ranges:
            url = reverse(report.url_name) + (f"?{query}" if query else "")
            result.append(Page(f"report {report.slug} ({label})", "manager", REPORT, url))
    for report in REPORTS.values():
        for key in _table_keys(report):
            for label, query in ranges:
                url = f"{reverse(report.csv_url_name)}?table={key}" + (f"&{query}" if query else "")
                result.append(Page(f"csv {report.slug}/{key} ({label})", "manager", CSV, url))
    result += [
        Page("admin: client changelist", "admin", ADMIN, reverse("admin:cases_client_changelist")),
        Page(
            "admin: client search",
            "admin",
            ADMIN,
            reverse("admin:cases_client_changelist") + "?q=" + quote(picks.name_part),
            picks.name_part,
        ),
    ]
    return result


FLOOR_PAGE = Page("floor (12 rows)", "staff", FLOOR, "/bench/floor/")
