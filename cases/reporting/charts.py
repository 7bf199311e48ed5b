"""Small accessible SVG charts drawn on the server: bars, lines, a scatter plot.

Why hand-built SVG rather than pygal: pygal styles its charts with a <style>
element inside the SVG and class soup (a strict CSP blocks inline <style> once the SVG is
inlined in the page), adds JavaScript tooltips by default, and has no role="img" or
aria-labelledby; making its output accessible means rewriting it after the fact. The
three chart shapes the reports need fit in a few helpers that build the SVG with
ElementTree, so the markup is well-formed and every text is escaped by construction.

Every chart is `<svg role="img" aria-labelledby="<title> <desc>">` with a <title> and a
<desc> summarising it; the numbers themselves are in the table the page shows beside
it. Colours are presentation attributes (no style=), and meaning never rests on colour
alone: each bar and point carries its value as text, and a second series is hatched.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET  # nosec B405  # only builds SVG from our own values; never parses input
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.safestring import SafeString, mark_safe

SVG_NS = "http://www.w3.org/2000/svg"
WIDTH = 640
FONT = 12
INSIDE_FONT = 9  # a count written inside its point (scatter chart)
CHAR_WIDTH = 6.6  # average width of a 12 px sans-serif character, for laying out labels
# The widest a count's characters come out in the common sans-serif faces (DejaVu Sans,
# Debian's default, is the widest), in ems: a count beside a point must not be guessed
# narrower than it is drawn.
DIGIT_EM, BOLD_DIGIT_EM, TIMES_EM = 0.64, 0.70, 0.84


def _count_width(digits: int, font: float = FONT, *, bold: bool = False) -> float:
    return digits * (BOLD_DIGIT_EM if bold else DIGIT_EM) * font


INK = "#212529"
GRID = "#c8c8c8"
# (fill, stroke) per series; series 2+ are patterns so print in greyscale tells them apart.
COLOURS = ["#1f5f99", "#b35c00", "#2e7d32"]


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "no data"
    text = f"{value:.1f}".removesuffix(".0") if isinstance(value, float) else str(value)
    return f"{text} {unit}".strip() if unit else text


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values from `low` covering `high` (steps of 1, 2, 2.5 or 5 × 10^k)."""
    high = max(high, low + 1)  # an all-zero chart still gets an axis
    span = high - low
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if step < 1 and all(float(v).is_integer() for v in (low, high)) and span <= count:
        step = 1
    steps = math.ceil(round((high - low) / step, 6))
    return [round(low + i * step, 6) for i in range(steps + 1)]


class _Svg:
    def __init__(self, chart_id: str, title: str, desc: str, height: float):
        self.id = chart_id
        self.height = round(height)
        self.root = ET.Element(
            "svg",
            {
                "xmlns": SVG_NS,
                "viewBox": f"0 0 {WIDTH} {self.height}",
                "width": str(WIDTH),
                "height": str(self.height),
                "role": "img",
                "aria-labelledby": f"{chart_id}-title {chart_id}-desc",
                "class": "chart",
                "id": chart_id,
                "font-size": str(FONT),
                "fill": INK,
            },
        )
        ET.SubElement(self.root, "title", {"id": f"{chart_id}-title"}).text = title
        ET.SubElement(self.root, "desc", {"id": f"{chart_id}-desc"}).text = desc
        self.defs: ET.Element | None = None

    def _patterns(self) -> None:
        """The hatch and dot fills, added to <defs> the first time a series needs one."""
        self.defs = ET.Element("defs")
        self.root.insert(2, self.defs)  # after <title> and <desc>
        hatch = ET.SubElement(
            self.defs,
            "pattern",
            {
                "id": f"{self.id}-fill-1",
                "width": "6",
                "height": "6",
                "patternUnits": "userSpaceOnUse",
                "patternTransform": "rotate(45)",
            },
        )
        ET.SubElement(hatch, "rect", {"width": "6", "height": "6", "fill": "#ffffff"})
        ET.SubElement(
            hatch, "line", {"x1": "0", "y1": "0", "x2": "0", "y2": "6", "stroke": COLOURS[1], "stroke-width": "3"}
        )
        dots = ET.SubElement(
            self.defs,
            "pattern",
            {"id": f"{self.id}-fill-2", "width": "5", "height": "5", "patternUnits": "userSpaceOnUse"},
        )
        ET.SubElement(dots, "rect", {"width": "5", "height": "5", "fill": "#ffffff"})
        ET.SubElement(dots, "circle", {"cx": "2.5", "cy": "2.5", "r": "1.5", "fill": COLOURS[2]})

    def fill(self, series: int) -> str:
        if series == 0:
            return COLOURS[0]
        if self.defs is None:
            self._patterns()
        return f"url(#{self.id}-fill-{min(series, 2)})"

    def el(self, tag: str, parent: ET.Element | None = None, text: str | None = None, **attrs) -> ET.Element:
        element = ET.SubElement(
            self.root if parent is None else parent,
            tag,
            {k.rstrip("_").replace("_", "-"): _num(v) for k, v in attrs.items()},
        )
        if text is not None:
            element.text = text
        return element

    def text(self, x: float, y: float, text: str, anchor: str = "start", **attrs) -> ET.Element:
        return self.el("text", text=text, x=x, y=y, text_anchor=anchor, **attrs)

    def legend(self, series: Sequence[Series], y: float) -> None:
        x = 8.0
        for index, s in enumerate(series):
            self.el("rect", x=x, y=y - 10, width=12, height=12, fill=self.fill(index), stroke=COLOURS[index % 3])
            self.text(x + 17, y, s.label)
            x += 17 + len(s.label) * CHAR_WIDTH + 20

    def render(self) -> SafeString:
        # Safe: ElementTree escaped every text and attribute value it wrote.
        return mark_safe(ET.tostring(self.root, encoding="unicode"))  # nosec B308 B703  # ElementTree escaped it


def _num(value) -> str:
    if isinstance(value, float):
        return f"{value:.1f}".removesuffix(".0")
    return str(value)


def _truncate(label: str, chars: int) -> str:
    return label if len(label) <= chars else label[: max(chars - 1, 1)] + "…"


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    categories: Sequence[str],
    series: Sequence[Series],
    value_label: str,
    unit: str = "",
    max_value: float | None = None,
) -> SafeString:
    """Horizontal bars, one group per category and one bar per series, value at each bar's end."""
    longest = max((len(c) for c in categories), default=4)
    label_w = min(max(longest * CHAR_WIDTH + 12, 60), 230)
    label_chars = int((label_w - 12) / CHAR_WIDTH)
    x0, x1 = label_w + 8, WIDTH - 64
    legend_h = 24 if len(series) > 1 else 0
    bar_h, group_h = 14, len(series) * 16 + 10
    top = 10 + legend_h
    axis_y = top + max(len(categories), 1) * group_h
    svg = _Svg(chart_id, title, desc, axis_y + 46)
    if legend_h:
        svg.legend(series, 18)

    values = [v for s in series for v in s.values if v is not None]
    ticks = nice_ticks(0, max_value if max_value is not None else max(values, default=0))
    scale = (x1 - x0) / (ticks[-1] or 1)
    grid = svg.el("g", class_="chart-grid")
    for tick in ticks:
        x = x0 + tick * scale
        svg.el("line", grid, x1=x, y1=top, x2=x, y2=axis_y, stroke=GRID, stroke_dasharray="2 3")
        svg.text(x, axis_y + 16, _fmt(tick, unit), "middle")
    svg.el("line", x1=x0, y1=top, x2=x0, y2=axis_y, stroke=INK)
    svg.el("line", x1=x0, y1=axis_y, x2=x1, y2=axis_y, stroke=INK)
    svg.text((x0 + x1) / 2, axis_y + 36, value_label, "middle", class_="chart-axis-label")

    for row, category in enumerate(categories):
        y = top + row * group_h + 5
        svg.text(label_w, y + group_h / 2 - 1, _truncate(category, label_chars), "end")
        for index, s in enumerate(series):
            value = s.values[row]
            bar_y = y + index * 16
            width = (value or 0) * scale
            if value:
                svg.el(
                    "rect",
                    x=x0,
                    y=bar_y,
                    width=max(width, 1),
                    height=bar_h,
                    fill=svg.fill(index),
                    stroke=COLOURS[index % 3],
                )
            svg.text(x0 + width + 4, bar_y + bar_h - 3, _fmt(value, unit))
    return svg.render()


def line_chart(
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[Series],
    value_label: str,
    x_label: str,
    unit: str = "",
    min_value: float = 0,
    max_value: float | None = None,
) -> SafeString:
    """Points joined by lines, one marker shape per series; a missing value leaves a gap."""
    legend_h = 24 if len(series) > 1 else 0
    x0, x1 = 64, WIDTH - 20
    y0, y1 = 16 + legend_h, 250 + legend_h
    svg = _Svg(chart_id, title, desc, y1 + 52)
    if legend_h:
        svg.legend(series, 18)
    values = [v for s in series for v in s.values if v is not None]
    ticks = nice_ticks(min_value, max_value if max_value is not None else max(values + [min_value + 1]))
    low, high = ticks[0], ticks[-1]

    def y_of(value: float) -> float:
        return y1 - (value - low) / ((high - low) or 1) * (y1 - y0)

    count = len(labels)
    pad = 16
    step = (x1 - x0 - 2 * pad) / (count - 1) if count > 1 else 0

    def x_of(index: int) -> float:
        return x0 + pad + index * step if count > 1 else (x0 + x1) / 2

    grid = svg.el("g", class_="chart-grid")
    for tick in ticks:
        svg.el("line", grid, x1=x0, y1=y_of(tick), x2=x1, y2=y_of(tick), stroke=GRID, stroke_dasharray="2 3")
        svg.text(x0 - 6, y_of(tick) + 4, _fmt(tick, unit), "end")
    svg.el("line", x1=x0, y1=y0, x2=x0, y2=y1, stroke=INK)
    svg.el("line", x1=x0, y1=y1, x2=x1, y2=y1, stroke=INK)
    every = max(1, math.ceil(count / max(1, int((x1 - x0) // 64))))
    for index, label in enumerate(labels):
        if index % every == 0:
            svg.text(x_of(index), y1 + 16, label, "middle")
    svg.text((x0 + x1) / 2, y1 + 40, x_label, "middle", class_="chart-axis-label")
    middle = (y0 + y1) / 2
    svg.text(16, middle, value_label, "middle", transform=f"rotate(-90 16 {middle:.1f})", class_="chart-axis-label")

    show_values = count <= 24
    for index, s in enumerate(series):
        colour = COLOURS[index % 3]
        points = [(x_of(i), y_of(v), v) for i, v in enumerate(s.values) if v is not None]
        segment: list[str] = []
        for i, v in enumerate(s.values):
            if v is None:
                _polyline(svg, segment, colour, index)
                segment = []
            else:
                segment.append(f"{x_of(i):.1f},{y_of(v):.1f}")
        _polyline(svg, segment, colour, index)
        for x, y, v in points:
            if index == 0:
                svg.el("circle", cx=x, cy=y, r=4, fill="#ffffff", stroke=colour, stroke_width=2)
            else:
                svg.el("rect", x=x - 4, y=y - 4, width=8, height=8, fill="#ffffff", stroke=colour, stroke_width=2)
            if show_values:
                svg.text(x, y - 9, _fmt(v, unit), "middle")
    return svg.render()


def _polyline(svg: _Svg, points: list[str], colour: str, series: int) -> None:
    if len(points) > 1:
        dash = {"stroke_dasharray": "6 3"} if series else {}
        svg.el("polyline", points=" ".join(points), fill="none", stroke=colour, stroke_width=2, **dash)


def scatter_chart(
    chart_id: str,
    title: str,
    desc: str,
    points: Sequence[tuple[float, float]],
    x_label: str,
    y_label: str,
) -> SafeString:
    """One point per pair, the same scale on both axes and a dashed "x = y" diagonal.

    Pairs that coincide are drawn once and labelled "×n"."""
    x0, x1, y0, y1 = 64, WIDTH - 24, 16, 316
    svg = _Svg(chart_id, title, desc, y1 + 52)
    ticks = nice_ticks(0, max([v for p in points for v in p] + [0]) + 1)  # headroom for labels
    high = ticks[-1]

    def x_of(value: float) -> float:
        return x0 + value / high * (x1 - x0)

    def y_of(value: float) -> float:
        return y1 - value / high * (y1 - y0)

    grid = svg.el("g", class_="chart-grid")
    for tick in ticks:
        svg.el("line", grid, x1=x_of(tick), y1=y0, x2=x_of(tick), y2=y1, stroke=GRID, stroke_dasharray="2 3")
        svg.el("line", grid, x1=x0, y1=y_of(tick), x2=x1, y2=y_of(tick), stroke=GRID, stroke_dasharray="2 3")
        svg.text(x_of(tick), y1 + 16, _fmt(tick), "middle")
        svg.text(x0 - 6, y_of(tick) + 4, _fmt(tick), "end")
    svg.el("line", x1=x0, y1=y0, x2=x0, y2=y1, stroke=INK)
    svg.el("line", x1=x0, y1=y1, x2=x1, y2=y1, stroke=INK)
    svg.el("line", x1=x_of(0), y1=y_of(0), x2=x_of(high), y2=y_of(high), stroke=COLOURS[1], stroke_dasharray="6 4")
    # Beside the diagonal's top end, above it, so that the line does not cross the words.
    svg.text(x_of(high) - 36, y_of(high) + 12, "actual = estimate", "end")
    svg.text((x0 + x1) / 2, y1 + 40, x_label, "middle", class_="chart-axis-label")
    middle = (y0 + y1) / 2
    svg.text(16, middle, y_label, "middle", transform=f"rotate(-90 16 {middle:.1f})", class_="chart-axis-label")
    counts = Counter(points)
    # A point's area grows with the cases it stands for, its width never more than one
    # session's step along either axis, so that neighbouring pairs stay apart.
    cell = min(x_of(1) - x_of(0), y_of(0) - y_of(1))
    widest = max(min(cell / 2 - 1, 9), 3)
    smallest = min(4, widest)
    most = max(counts.values(), default=1)
    dots = [
        (x_of(x), y_of(y), smallest + (widest - smallest) * math.sqrt((n - 1) / max(most - 1, 1)))
        for (x, y), n in counts.items()
    ]
    by_x = sorted(dots)
    lefts = [cx for cx, _, _ in by_x]
    for ((x, y), n), (cx, cy, r) in sorted(zip(counts.items(), dots, strict=True)):
        # Darker, too, for more cases: at a large clinic the points' sizes are held back
        # by their one-session cells, and the shade still tells the crowded pairs apart.
        shade = 0.25 + 0.75 * math.sqrt(n / most)
        dot = svg.el("circle", cx=cx, cy=cy, r=r, fill=COLOURS[0], fill_opacity=f"{shade:.2f}", stroke=INK)
        svg.el("title", dot, text=f"estimate {_fmt(x)}, actual {_fmt(y)}: {n} case{'s' if n != 1 else ''}")
        if n == 1:
            continue
        digits = len(str(n))
        box = (cx + r + 3, cy - 8, cx + r + 4 + TIMES_EM * FONT + _count_width(digits), cy + 6)
        # The count is written beside the point ("×n") when it runs into no other point
        # (those within reach found by position, not by trying every point); else inside
        # the point, smaller and in white, when it fits there; else the point's size and
        # its title (shown on hover, read by screen readers) say it.
        near = by_x[bisect_left(lefts, box[0] - widest) : bisect_right(lefts, box[2] + widest)]
        if not any(_meets(box, other) for other in near if other != (cx, cy, r)):
            svg.text(box[0], cy + 4, f"×{n}")
        elif _count_width(digits, INSIDE_FONT, bold=True) <= 2 * r - 2:
            svg.text(cx, cy + INSIDE_FONT * 0.35, str(n), "middle", font_size=INSIDE_FONT, class_="chart-on-dot")
    return svg.render()


def _meets(box: tuple[float, float, float, float], dot: tuple[float, float, float]) -> bool:
    """Whether a label's box (left, top, right, bottom) touches a point's square."""
    left, top, right, bottom = box
    cx, cy, r = dot
    return left < cx + r and cx - r < right and top < cy + r and cy - r < bottom


# --- Charts for report tables and the case fade chart --------------------------------


def _highest(labels: Sequence[str], values: Sequence[float | None], unit: str) -> str:
    known = [(v, label) for label, v in zip(labels, values, strict=True) if v is not None]
    if not known or max(known)[0] == 0:
        return "All values are zero."
    value, label = max(known, key=lambda pair: pair[0])
    return f"Highest: {label}, {_fmt(value, unit)}."


def chart_for_table(table, period) -> SafeString | None:
    """Draw a report table (cases.reporting.reports.Table) the way its ChartSpec says."""
    from cases.reporting.reports import display

    spec = table.chart
    if spec is None or not table.rows:
        return None
    chart_id = f"chart-{table.key}"
    label_column = table.columns[spec.label_column]
    labels = [display(row[spec.label_column], label_column.kind) for row in table.rows]
    series = [Series(table.columns[c].label, [_plain(row[c]) for row in table.rows]) for c in spec.value_columns]
    tail = " The table next to this chart gives every number."
    if spec.kind == "bar":
        names = " and ".join(s.label.lower() for s in series)
        desc = (
            f"Horizontal bar chart of {names} by {label_column.label.lower()}, {period}. "
            + " ".join(_highest(labels, s.values, spec.unit) for s in series)
            + tail
        )
        return bar_chart(chart_id, table.title, desc, labels, series, spec.value_label, spec.unit, spec.max_value)
    if spec.kind == "line":
        desc = f"Line chart of {series[0].label.lower()} by {label_column.label.lower()}, {period}. "
        desc += _highest(labels, series[0].values, spec.unit) + tail
        return line_chart(
            chart_id,
            table.title,
            desc,
            labels,
            series,
            spec.value_label,
            spec.x_label,
            spec.unit,
            spec.min_value,
            spec.max_value,
        )
    if spec.kind == "scatter":
        x_col, y_col = spec.value_columns
        points = table.chart_points
        if points is None:
            pairs = ((row[x_col], row[y_col]) for row in table.rows)
            points = [(x, y) for x, y in pairs if x is not None and y is not None]
        desc = (
            f"Scatter plot of every case closed {period} with an estimate: across, the Kirby–Desai estimate; up, "
            f"the laser sessions completed; a larger, darker point stands for more cases. Points under the dashed "
            f"diagonal needed fewer sessions than estimated. {table.note}{tail}"
        )
        return scatter_chart(chart_id, table.title, desc, points, spec.x_label, spec.value_label)
    raise ValueError(f"Unknown chart kind {spec.kind!r}")


def _plain(value):
    return float(value) if value is not None and not isinstance(value, int | float) else value


@dataclass(frozen=True)
class FadePoint:
    number: int
    day: object
    clearance: int


@dataclass(frozen=True)
class FadeChart:
    svg: SafeString | None
    points: list[FadePoint]


def fade_chart(laser_sessions: Sequence) -> FadeChart | None:
    """Estimated clearance % over a case's completed laser sessions, oldest first.

    Takes the sessions the workspace already loaded (no query); None when the case has
    no laser session at all, an empty chart when none has a clearance estimate yet."""
    from cases.choices import SessionStatus

    if not laser_sessions:
        return None
    done = sorted(
        (s for s in laser_sessions if s.status == SessionStatus.COMPLETED and s.estimated_clearance_pct is not None),
        key=lambda s: s.scheduled_at,
    )
    points = [FadePoint(i, s.day, s.estimated_clearance_pct) for i, s in enumerate(done, start=1)]
    if not points:
        return FadeChart(None, [])
    last = points[-1]
    desc = (
        f"Line chart of the estimated clearance after each of {len(points)} completed laser "
        f"session{'s' if len(points) != 1 else ''}, from {points[0].clearance} % after session 1 "
        f"to {last.clearance} % after session {last.number}. The table next to this chart lists every session."
    )
    svg = line_chart(
        "fade-chart",
        "Fade chart: estimated clearance by laser session",
        desc,
        [f"#{p.number}" for p in points],
        [Series("Estimated clearance", [p.clearance for p in points])],
        "Estimated clearance (%)",
        "Laser session",
        unit="%",
        max_value=100,
    )
    return FadeChart(svg, points)
