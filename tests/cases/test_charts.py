"""Server-side SVG charts: well-formed, accessible, readable without colour; the fade chart."""

from __future__ import annotations

import datetime
import re
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.choices import SessionStatus
from cases.reporting import charts
from cases.reporting.charts import Series
from tests import factories

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def _texts(root: ET.Element) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text")]


def _check_accessible(root: ET.Element, title: str) -> None:
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find(f"{SVG}title").get("id") == title_id
    assert root.find(f"{SVG}title").text == title
    assert root.find(f"{SVG}desc").get("id") == desc_id
    assert root.find(f"{SVG}desc").text
    assert root.get("viewBox").startswith("0 0 ")
    assert root.find(f".//{SVG}script") is None
    assert root.get("style") is None and not any(el.get("style") for el in root.iter())


def test_bar_chart_is_well_formed_labelled_and_escaped():
    svg = charts.bar_chart(
        "c1",
        "Cases by <studio> & artist",
        "A description.",
        ["<script>alert(1)</script>", "Studio & Sons"],
        [Series("Cases", [3, 0])],
        "Cases",
    )
    assert "<script>" not in svg
    root = _parse(svg)
    _check_accessible(root, "Cases by <studio> & artist")
    texts = _texts(root)
    assert "<script>alert(1)</script>" in texts  # escaped in the markup, intact as text
    assert "Studio & Sons" in texts
    assert "Cases" in texts  # axis label
    assert texts[texts.index("Studio & Sons") + 1] == "0"
    assert len(root.findall(f"{SVG}rect")) == 1  # a zero draws no bar, only its value


def test_second_series_is_hatched_and_named_in_a_legend():
    root = _parse(
        charts.bar_chart(
            "c2",
            "T",
            "D",
            ["Tina", "Tom"],
            [Series("Events", [100.0, 300.0]), Series("Complications", [66.7, None])],
            "Per 100",
        )
    )
    fills = {r.get("fill") for r in root.iter(f"{SVG}rect")}
    assert "url(#c2-fill-1)" in fills
    assert root.find(f".//{SVG}pattern[@id='c2-fill-1']") is not None
    texts = _texts(root)
    assert {"Events", "Complications", "66.7", "300", "no data"} <= set(texts)


def test_percentages_carry_their_unit_and_stop_at_100():
    root = _parse(
        charts.bar_chart("c3", "T", "D", ["On time"], [Series("Share", [40.0])], "Share", unit="%", max_value=100)
    )
    texts = _texts(root)
    assert "40 %" in texts and "100 %" in texts


def test_line_chart_leaves_gaps_for_missing_values():
    root = _parse(
        charts.line_chart(
            "c4",
            "Satisfaction by month",
            "D",
            ["Jan", "Feb", "Mar", "Apr"],
            [Series("Mean", [4.0, None, 3.5, 4.5])],
            "Mean satisfaction",
            "Month",
            min_value=1,
            max_value=5,
        )
    )
    _check_accessible(root, "Satisfaction by month")
    lines = root.findall(f"{SVG}polyline")
    assert len(lines) == 1 and len(lines[0].get("points").split()) == 2  # Mar–Apr; Jan stands alone
    assert len(root.findall(f"{SVG}circle")) == 3
    texts = _texts(root)
    assert {"Jan", "Apr", "Month", "Mean satisfaction", "3.5", "1", "5"} <= set(texts)


def test_scatter_chart_marks_coinciding_points_and_the_diagonal():
    root = _parse(charts.scatter_chart("c5", "Estimate vs actual", "D", [(8, 3), (8, 3), (9, 2)], "Estimate", "Actual"))
    _check_accessible(root, "Estimate vs actual")
    assert len(root.findall(f"{SVG}circle")) == 2
    texts = _texts(root)
    assert "×2" in texts and "actual = estimate" in texts and "Estimate" in texts and "Actual" in texts


# Advance widths in DejaVu Sans, the widest of the usual sans-serif faces (Debian's
# default, so what Chromium draws here), in ems: "×" and a digit, regular and bold.
DEJAVU = {"×": 0.838, "digit": 0.636, "bold digit": 0.696}


def _drawn_width(text: str, font: float, *, bold: bool = False) -> float:
    digit = DEJAVU["bold digit" if bold else "digit"]
    return sum((DEJAVU["×"] if char == "×" else digit) * font for char in text)


def _label_box(text: ET.Element) -> tuple[float, float, float, float]:
    """A start-anchored label's box as the browser draws it: left, top, right, bottom."""
    x, y = float(text.get("x")), float(text.get("y"))
    return x, y - charts.FONT, x + _drawn_width(text.text, charts.FONT), y + 2


def test_scatter_chart_counts_never_run_into_the_next_point():
    """A busy clinic has dozens of cases on most (estimate, actual) pairs, one session
    apart: a "×27" written beside a point ran over the next point's dot and label."""
    points = [(x, y) for x in range(5, 18) for y in range(2, 7) for _ in range((x * y) % 30 + 1)]
    root = _parse(charts.scatter_chart("c6", "Estimate vs actual", "D", points, "Estimate", "Actual"))

    circles = root.findall(f"{SVG}circle")
    labels = [t for t in root.iter(f"{SVG}text") if t.text.startswith("×")]
    for label in labels:
        left, top, right, bottom = _label_box(label)
        for circle in circles:
            cx, cy, r = float(circle.get("cx")), float(circle.get("cy")), float(circle.get("r"))
            assert not (left < cx + r and cx - r < right and top < cy + r and cy - r < bottom), (label.text, cx, cy)
    # A count that has no room beside its point is written inside it when it fits there.
    inside = [t for t in root.iter(f"{SVG}text") if t.get("class") == "chart-on-dot"]
    assert inside
    for text in inside:
        font = float(text.get("font-size"))
        circle = next(c for c in circles if c.get("cx") == text.get("x"))
        assert _drawn_width(text.text, font, bold=True) <= 2 * float(circle.get("r")), text.text
    # Every point says how many cases it stands for, labelled or not.
    titles = [circle.find(f"{SVG}title").text for circle in circles]
    assert len(circles) == 13 * 5
    assert "estimate 8, actual 3: 25 cases" in titles
    assert "estimate 5, actual 2: 11 cases" in titles
    # A point standing for more cases is drawn larger, within its cell.
    radius = {title: float(c.get("r")) for title, c in zip(titles, circles, strict=True)}
    assert radius["estimate 8, actual 3: 25 cases"] > radius["estimate 5, actual 2: 11 cases"]


def test_scatter_chart_labels_a_count_where_there_is_room():
    root = _parse(charts.scatter_chart("c7", "E", "D", [(3, 3)] * 4 + [(9, 3)], "Estimate", "Actual"))

    assert "×4" in _texts(root)
    titles = [c.find(f"{SVG}title").text for c in root.findall(f"{SVG}circle")]
    assert titles == ["estimate 3, actual 3: 4 cases", "estimate 9, actual 3: 1 case"]


def test_nice_ticks():
    assert charts.nice_ticks(0, 3) == [0, 1, 2, 3]
    assert charts.nice_ticks(0, 100) == [0, 20, 40, 60, 80, 100]
    assert charts.nice_ticks(1, 5) == [1, 2, 3, 4, 5]
    assert charts.nice_ticks(0, 0) == [0, 1]
    assert charts.nice_ticks(0, 7)[-1] >= 7


# --- Fade chart ---------------------------------------------------------------------


def _session(day: int, clearance, status=SessionStatus.COMPLETED):
    when = timezone.make_aware(datetime.datetime(2026, 3, day, 12))
    return SimpleNamespace(status=status, estimated_clearance_pct=clearance, scheduled_at=when, day=when.date())


def test_fade_chart_follows_completed_sessions_in_date_order():
    chart = charts.fade_chart(
        [_session(20, 55), _session(1, 20), _session(10, None), _session(25, 90, SessionStatus.SCHEDULED)]
    )
    assert [(p.number, p.clearance) for p in chart.points] == [(1, 20), (2, 55)]
    root = _parse(chart.svg)
    _check_accessible(root, "Fade chart: estimated clearance by laser session")
    assert "from 20 % after session 1 to 55 % after session 2" in root.find(f"{SVG}desc").text
    assert {"#1", "#2", "20 %", "55 %", "Laser session", "Estimated clearance (%)"} <= set(_texts(root))


def test_fade_chart_without_sessions_or_estimates():
    assert charts.fade_chart([]) is None
    empty = charts.fade_chart([_session(1, None)])
    assert empty.svg is None and empty.points == []


@pytest.mark.django_db
def test_case_page_shows_the_fade_chart(as_staff):
    case = factories.CaseFactory()
    technician = factories.TechnicianFactory()
    for day, clearance in [(1, 25), (15, 60)]:
        factories.LaserSessionFactory(
            case=case,
            technician=technician,
            estimated_clearance_pct=clearance,
            scheduled_at=timezone.make_aware(datetime.datetime(2026, 2, day, 12)),
        )
    html = as_staff.get(reverse("cases:case_detail", kwargs={"case_id": case.public_id})).content.decode()
    assert 'id="fade-chart-heading">Fade chart</h2>' in html
    # a section of its own, folded until opened
    folded = r'<section id="fade-chart" class="case-section"[^>]*>\s*<details class="case-section-details">'
    assert re.search(folded, html)
    (svg,) = re.findall(r"<svg\b.*?</svg>", html, flags=re.S)
    root = _parse(svg)
    assert {"25 %", "60 %"} <= set(_texts(root))
    assert '<td class="num">60 %</td>' in html
    assert "style=" not in html


@pytest.mark.django_db
def test_case_page_without_laser_sessions_has_no_fade_chart(as_staff):
    case = factories.CaseFactory()
    html = as_staff.get(reverse("cases:case_detail", kwargs={"case_id": case.public_id})).content.decode()
    assert "fade-chart" not in html
