"""The benchmark's table and CSV (bench/report.py): which targets a row misses, and that
the printed and CSV figures are the measured ones. Made-up measurements, no database."""

from __future__ import annotations

import csv
import io

from bench import report
from bench.pages import ADMIN, FLOOR, PORTAL, REPORT, STAFF


def measured(label: str, kind: str, median: float, queries: int = 8, status: int = 200) -> dict:
    return {
        "label": label,
        "kind": kind,
        "persona": "staff",
        "url": f"/{label.replace(' ', '-')}/",
        "status": status,
        "n": 30,
        "median_ms": median,
        "p95_ms": median * 1.5,
        "queries": queries,
        "bytes": 2048,
        "slowest_sql": f"SELECT 1 -- {label}",
    }


def run(floor_ms: float, *pages: dict) -> dict:
    return {"floor": measured("floor (12 rows)", FLOOR, floor_ms, 4), "pages": list(pages)}


def by_label(rows: list[report.Row]) -> dict[str, report.Row]:
    return {row.label: row for row in rows}


def test_a_page_within_every_target_misses_nothing():
    small = run(5, measured("client list", STAFF, 20))
    large = run(5, measured("client list", STAFF, 25))
    throughput = {"floor": {"rps": 100.0}, "pages": {"client list": {"rps": 40.0, "non_2xx": 0, "socket_errors": 0}}}

    row = by_label(report.rows(small, large, throughput))["client list"]

    assert row.misses == ()
    assert row.growth == 1.25
    assert row.floors == 5
    assert row.rps_share == 0.4


def test_growth_time_queries_and_throughput_are_flagged():
    small = run(5, measured("case workspace", STAFF, 20, queries=28))
    large = run(5, measured("case workspace", STAFF, 80, queries=30))
    throughput = {"floor": {"rps": 100.0}, "pages": {"case workspace": {"rps": 5.0, "non_2xx": 3, "socket_errors": 0}}}

    row = by_label(report.rows(small, large, throughput))["case workspace"]

    assert row.misses == (
        "queries S≠L",
        "queries>12",
        "L/S>1.5",
        ">50 ms",
        "req/s<10% floor",
        "errors under load",
    )


def test_portal_plan_is_held_to_four_floors_and_search_to_eight_times_the_admin():
    pages = [
        measured("portal plan", PORTAL, 25),
        measured("client search: name part", STAFF, 30),
        measured("client search: e-mail", STAFF, 10),
        measured("admin: client search", ADMIN, 160, queries=40),
    ]
    rows = by_label(report.rows(run(5, *pages), run(5, *pages)))

    assert rows["portal plan"].misses == (">4× floor",)
    assert rows["client search: name part"].misses == ("<8× admin",)
    assert rows["client search: e-mail"].misses == ()
    assert rows["admin: client search"].misses == ()  # the peer is measured, not judged


def test_reports_are_held_to_150_ms_for_twelve_months_only():
    pages = [
        measured("report cases (12 months)", REPORT, 200),
        measured("report cases (10 years)", REPORT, 900),
    ]
    rows = by_label(report.rows(run(5, *[measured(p["label"], REPORT, 20) for p in pages]), run(5, *pages)))

    assert rows["report cases (12 months)"].misses == (">150 ms",)
    assert rows["report cases (10 years)"].misses == ()


def test_a_page_that_fails_says_its_status():
    row = by_label(report.rows(run(5, measured("team", STAFF, 0, status=403)), None))["team"]

    assert row.misses == ("HTTP 403 at S",)
    assert "HTTP 403" in report.table([row])


def test_table_and_csv_carry_the_measured_figures():
    small = run(5, measured("staff home", STAFF, 20))
    large = run(6, measured("staff home", STAFF, 90, queries=13))
    rows = report.rows(small, large)

    lines = report.table(rows).splitlines()
    assert lines[0].split()[:2] == ["page", "S"]
    assert lines[2].startswith("floor (12 rows)")
    assert "20.0/30" in lines[3] and "90.0/135" in lines[3] and "4.50" in lines[3] and "8/13" in lines[3]
    assert lines[3].endswith("queries S≠L, queries>12, L/S>1.5, >50 ms")

    written = list(csv.DictReader(io.StringIO(report.csv_text(rows))))
    assert [r["page"] for r in written] == ["floor (12 rows)", "staff home"]
    assert written[1]["s_median_ms"] == "20.00"
    assert written[1]["l_median_ms"] == "90.00"
    assert written[1]["l_over_s"] == "4.500"
    assert written[1]["floor_multiple"] == "15.00"
    assert written[1]["misses"] == "queries S≠L; queries>12; L/S>1.5; >50 ms"
    assert report.to_explain(rows) == [("staff home", "SELECT 1 -- staff home")]
