"""Report pages and CSV downloads: who may see them, the date filter, the charts, query caps."""

from __future__ import annotations

import csv
import datetime
import io
import re
import xml.etree.ElementTree as ET

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from cases.choices import AdverseEventChoice, FollowUpStatus, IssueKind
from cases.models import AdverseEventKind
from cases.reporting.reports import REPORTS
from tests import factories
from tests.helpers import assert_queries_hold, sql_of_get

pytestmark = pytest.mark.django_db

D = datetime.date
SVG = "{http://www.w3.org/2000/svg}"
Q1 = {"from": "2026-01-01", "to": "2026-03-31"}


def _svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r"<svg\b.*?</svg>", html, flags=re.S)]


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


# --- The index (who may open it: tests/test_url_permissions.py) -------------------


def test_index_lists_every_report_and_the_nav_links_to_it(as_manager):
    response = as_manager.get(reverse("cases:reports"))
    html = response.content.decode()
    for report in REPORTS.values():
        assert f'href="{reverse(report.url_name)}"' in html
        assert report.title in html
    assert f'class="nav-link active" href="{reverse("cases:reports")}"' in html


# --- Date filter --------------------------------------------------------------------


@time_machine.travel(datetime.datetime(2026, 11, 25, 12, tzinfo=datetime.UTC))
def test_default_period_is_the_last_twelve_months(as_manager):
    factories.CaseFactory(opened_on=D(2025, 11, 30))  # just before the default period
    factories.CaseFactory(opened_on=D(2025, 12, 1))
    response = as_manager.get(reverse("cases:report_cases"))
    assert "Period: 1 Dec 2025 to 25 Nov 2026." in response.content.decode()
    by_status = response.context["sections"][0]["table"]
    assert sum(row[1] for row in by_status.rows) == 1
    assert len(response.context["sections"][1]["table"].rows) == 12


def test_date_filter_limits_the_report(as_manager):
    factories.CaseFactory(opened_on=D(2026, 1, 15))
    factories.CaseFactory(opened_on=D(2026, 2, 15))
    response = as_manager.get(reverse("cases:report_cases"), {"from": "2026-02-01", "to": "2026-02-28"})
    assert response.status_code == 200
    sections = response.context["sections"]
    assert sum(row[1] for row in sections[0]["table"].rows) == 1
    assert sections[1]["table"].rows == [[D(2026, 2, 1), 1]]
    assert "Period: 1 Feb 2026 to 28 Feb 2026." in response.content.decode()


def test_only_one_end_given_keeps_the_default_for_the_other(as_manager):
    response = as_manager.get(reverse("cases:report_cases"), {"from": "2026-03-01"})
    period = response.context["period"]
    assert period.start == D(2026, 3, 1)
    assert period.end == timezone.localdate()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-13-01", "to": "2026-12-31"}, "Enter a valid date."),
        ({"from": "yesterday", "to": "2026-12-31"}, "Enter a valid date."),
        ({"from": "2026-05-01", "to": "2026-04-01"}, "The start of the period must be on or before its end."),
        ({"from": "1990-01-01", "to": "2026-01-01"}, "Choose a period of at most ten years."),
    ],
)
def test_bad_dates_show_a_form_error_and_no_report(as_manager, params, message):
    response = as_manager.get(reverse("cases:report_issues"), params)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert response.context["sections"] == []
    assert "<svg" not in html

    download = as_manager.get(reverse("cases:report_issues_csv"), params)
    assert download.status_code == 400
    assert message in download.content.decode()


# --- CSV ----------------------------------------------------------------------------


def test_csv_download_of_a_table(as_manager):
    factories.CaseFactory(opened_on=D(2026, 1, 15))
    factories.CaseFactory(opened_on=D(2026, 3, 15))
    response = as_manager.get(reverse("cases:report_cases_csv"), {**Q1, "table": "new-per-month"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="smp-cases-new-per-month-2026-01-01-to-2026-03-31.csv"'
    )
    assert _csv(response) == [["Month", "New cases"], ["2026-01", "1"], ["2026-02", "0"], ["2026-03", "1"]]

    first = as_manager.get(reverse("cases:report_cases_csv"), Q1)  # no table: the first one
    assert _csv(first)[0] == ["Status", "Cases", "Share (%)"]
    assert "by-status" in first["Content-Disposition"]
    assert as_manager.get(reverse("cases:report_cases_csv"), {**Q1, "table": "nope"}).status_code == 404


def test_report_page_links_each_table_to_its_csv(as_manager):
    response = as_manager.get(reverse("cases:report_satisfaction"), Q1)
    html = response.content.decode()
    base = reverse("cases:report_satisfaction_csv")
    assert f'href="{base}?from=2026-01-01&amp;to=2026-03-31&amp;table=distribution"' in html
    assert f'href="{base}?from=2026-01-01&amp;to=2026-03-31&amp;table=trend"' in html


def test_csv_neutralises_formulas_in_names(as_manager):
    studio = factories.StudioFactory(name='=HYPERLINK("http://evil.example","click")', city="")
    artist = factories.ExternalArtistFactory(first_name="@SUM(A1)", last_name="", studio=None)
    factories.CaseFactory(opened_on=D(2026, 2, 1), original_studio=studio, original_artist=artist)
    factories.StudioFactory(name="-2+3", city="")

    studios = _csv(as_manager.get(reverse("cases:report_origins_csv"), {**Q1, "table": "by-studio"}))
    assert studios[1] == ['\'=HYPERLINK("http://evil.example","click")', "1", "100.0"]
    artists = _csv(as_manager.get(reverse("cases:report_origins_csv"), {**Q1, "table": "by-artist"}))
    assert artists[1] == ["'@SUM(A1)", "1", "100.0"]


def test_negative_differences_stay_numbers_in_the_csv(as_manager):
    case = factories.ClosedCaseFactory(closed_on=D(2026, 2, 1))
    factories.ApprovedPlanFactory(case=case)  # estimate 8
    factories.LaserSessionFactory(case=case)
    rows = _csv(as_manager.get(reverse("cases:report_laser_sessions_csv"), Q1))
    assert rows[0] == [
        "Case",
        "Closed on",
        "Kirby–Desai estimate",
        "Completed laser sessions",
        "Difference (actual − estimate)",
    ]
    assert rows[1] == [case.reference, "2026-02-01", "8", "1", "-7"]


# --- Charts on the pages ------------------------------------------------------------


@pytest.mark.parametrize("slug", list(REPORTS))
def test_every_report_draws_accessible_svg_next_to_its_table(as_manager, slug):
    _populate(3)
    report = REPORTS[slug]
    response = as_manager.get(reverse(report.url_name), {"from": "2025-01-01", "to": "2026-12-31"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "style=" not in html
    assert "<script" not in html.split("<main", 1)[1].split("</main>", 1)[0]
    svgs = _svgs(html)
    assert len(svgs) == len(response.context["sections"]) >= 1
    for svg, section in zip(svgs, response.context["sections"], strict=True):
        table = section["table"]
        assert svg.get("role") == "img"
        title_id, desc_id = svg.get("aria-labelledby").split()
        assert svg.find(f"{SVG}title").get("id") == title_id
        assert svg.find(f"{SVG}title").text == table.title
        assert svg.find(f"{SVG}desc").get("id") == desc_id
        assert "1 Jan 2025 to 31 Dec 2026" in svg.find(f"{SVG}desc").text
        texts = {t.text for t in svg.iter(f"{SVG}text")}
        assert section["table"].chart.value_label in texts  # the axis is labelled
        assert f'<h2 class="h4 mb-0" id="{table.key}-heading">{table.title}</h2>' in html
        assert f'<caption class="visually-hidden">{table.title}</caption>' in html


def test_bar_labels_and_values_are_on_the_chart(as_manager):
    case = factories.CaseFactory()
    factories.IssueFactory(case=case, kind=IssueKind.COLOUR_SHIFT, identified_on=D(2026, 2, 1))
    factories.IssueFactory(case=case, kind=IssueKind.COLOUR_SHIFT, identified_on=D(2026, 2, 2))
    response = as_manager.get(reverse("cases:report_issues"), Q1)
    by_kind = _svgs(response.content.decode())[0]
    texts = [t.text for t in by_kind.iter(f"{SVG}text")]
    label_index = texts.index("Colour shift (blue/green)")
    assert texts[label_index + 1] == "2"  # its bar's value
    assert "Highest: Colour shift (blue/green), 2." in by_kind.find(f"{SVG}desc").text


# --- Query caps ---------------------------------------------------------------------


def _populate(n: int) -> None:
    """n closed and n open cases with issues, laser sessions with adverse events, follow-ups."""
    technician, device = factories.TechnicianFactory(), factories.LaserDeviceFactory()
    studio = factories.StudioFactory()
    artist = factories.ExternalArtistFactory(studio=studio)
    events = list(
        AdverseEventKind.objects.filter(code__in=[AdverseEventChoice.ERYTHEMA, AdverseEventChoice.BLISTERING])
    )
    for i in range(n):
        day = D(2026, 1 + i % 6, 1 + i % 27)
        closed = factories.ClosedCaseFactory(
            closed_on=day, satisfaction=1 + i % 5, original_studio=studio, original_artist=artist
        )
        factories.ApprovedPlanFactory(case=closed)
        factories.TreatmentPlanFactory(case=closed, version=2)  # a later draft, not counted
        open_case = factories.CaseFactory(opened_on=day, original_studio=factories.StudioFactory())
        factories.IssueFactory(case=open_case, identified_on=day)
        session = factories.LaserSessionFactory(
            case=closed,
            technician=technician if i % 2 else factories.TechnicianFactory(),
            device=device if i % 3 else None,
            scheduled_at=timezone.make_aware(datetime.datetime(2026, 1 + i % 6, 2, 12)),
        )
        session.adverse_events.set(events[: i % 3])
        factories.FollowUpFactory(
            case=closed, due_on=day, status=FollowUpStatus.COMPLETED, completed_on=day + datetime.timedelta(i % 2)
        )


def test_every_report_runs_in_a_fixed_number_of_queries(as_manager):
    params = {"from": "2025-06-01", "to": "2026-12-31"}
    urls = [reverse("cases:reports")]
    for report in REPORTS.values():
        urls += [reverse(report.url_name), reverse(report.csv_url_name)]

    _populate(5)
    small = {url: sql_of_get(as_manager, url, params) for url in urls}
    _populate(45)
    large = {url: sql_of_get(as_manager, url, params) for url in urls}

    # Per page: session + user + the user's groups (roles), then one query per table
    # (two for the Kirby–Desai report: its table and the mean difference), and the
    # two-factor device of the verified session.
    for url in urls:
        assert_queries_hold(small[url], large[url], at_most=7)


def test_a_long_laser_table_is_cut_with_a_note_and_the_means_cover_all(as_manager, monkeypatch):
    from cases.reporting import reports

    monkeypatch.setattr(reports, "LASER_ROWS_LIMIT", 2)
    cases = []
    for day in (1, 2, 3):
        case = factories.ClosedCaseFactory(closed_on=D(2026, 2, day))
        factories.ApprovedPlanFactory(case=case)  # estimate 8
        factories.LaserSessionFactory.create_batch(day, case=case)
        cases.append(case)

    html = as_manager.get(reverse("cases:report_laser_sessions"), Q1).content.decode()

    assert "The table lists only the latest 2 closed cases; the means and the CSV download cover every case" in html
    assert "Across 3 closed cases with an estimate" in html
    assert "mean actual 2.0" in html
    assert cases[0].reference not in html and cases[1].reference in html and cases[2].reference in html


def test_the_laser_csv_holds_every_case_the_page_cuts(as_manager, monkeypatch):
    """The page lists the latest cases only; a download is for working on the data, so it
    has every case of the period, oldest first, whatever the page's limit."""
    from cases.reporting import reports

    monkeypatch.setattr(reports, "LASER_ROWS_LIMIT", 2)
    cases = []
    for day in (1, 2, 3):
        case = factories.ClosedCaseFactory(closed_on=D(2026, 2, day))
        factories.ApprovedPlanFactory(case=case)
        factories.LaserSessionFactory.create_batch(day, case=case)
        cases.append(case)

    rows = _csv(as_manager.get(reverse("cases:report_laser_sessions_csv"), {**Q1, "table": "estimate-vs-actual"}))

    assert [row[0] for row in rows[1:]] == [case.reference for case in cases]
    assert [row[3] for row in rows[1:]] == ["1", "2", "3"]
