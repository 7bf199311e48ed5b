"""The benchmark's table, its CSV and the targets each row is checked against.

Pure functions of the measurements (the JSON of bench/measure.py at S and at L, and
bench/throughput.py's at L), so that they can be read, and tested, on their own.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from bench.pages import ADMIN, CSV, FLOOR, PORTAL, REPORT, STAFF

MAX_QUERIES = 12
MAX_GROWTH = 1.5  # L/S median, every page but the reports
PAGE_MS = 50  # staff and portal pages, median at L
REPORT_MS = 150  # reports for 12 months, median at L
PORTAL_PLAN_FLOORS = 4
SEARCH_VS_ADMIN = 8  # client search at L at least this many times faster than the admin's
RPS_SHARE = {"portal plan": 0.25, "client list": 0.10, "case workspace": 0.10}
SEARCH_PAGES = ("client search: name part", "client search: e-mail", "client search: case reference")
ADMIN_SEARCH = "admin: client search"


@dataclass
class Row:
    label: str
    kind: str
    s: dict | None
    l: dict | None  # noqa: E741  (L, the large clinic)
    floor_ms: float | None  # the floor's median at L (at S when L was not measured)
    rps: float | None = None
    rps_share: float | None = None
    misses: tuple[str, ...] = ()

    @property
    def growth(self) -> float | None:
        if self.s and self.l and self.s.get("median_ms") and self.l.get("median_ms"):
            return self.l["median_ms"] / self.s["median_ms"]
        return None

    @property
    def floors(self) -> float | None:
        largest = self.l or self.s
        if largest and largest.get("median_ms") and self.floor_ms:
            return largest["median_ms"] / self.floor_ms
        return None


def _by_label(run: dict | None) -> dict[str, dict]:
    return {page["label"]: page for page in run["pages"]} if run else {}


def rows(s_run: dict | None, l_run: dict | None, throughput: dict | None = None) -> list[Row]:
    """One row per page (the floor first), in the order measured, with the targets missed."""
    s_pages, l_pages = _by_label(s_run), _by_label(l_run)
    labels = list(dict.fromkeys([*s_pages, *l_pages]))
    floor = (l_run or s_run)["floor"]
    s_floor = s_run["floor"]["median_ms"] if s_run else None
    floor_rps = throughput["floor"]["rps"] if throughput else None
    result = [
        Row(
            floor["label"],
            FLOOR,
            s_run and s_run["floor"],
            l_run and l_run["floor"],
            floor["median_ms"],
            floor_rps,
            1.0 if floor_rps else None,
        )
    ]
    for label in labels:
        s, l = s_pages.get(label), l_pages.get(label)  # noqa: E741
        # × floor compares a page with the floor measured at the same size.
        row = Row(label, (l or s)["kind"], s, l, floor["median_ms"] if l else s_floor)
        measured = (throughput or {}).get("pages", {}).get(label)
        if measured and floor_rps:
            row.rps, row.rps_share = measured["rps"], measured["rps"] / floor_rps
        result.append(row)
    admin_search = (l_pages.get(ADMIN_SEARCH) or {}).get("median_ms")
    for row in result:
        row.misses = tuple(misses(row, admin_search, (throughput or {}).get("pages", {}).get(row.label)))
    return result


def misses(row: Row, admin_search_ms: float | None, throughput: dict | None) -> list[str]:
    """The targets this row misses, as short tags for the table's last column."""
    if row.kind == FLOOR:
        return []
    found = []
    for size, run in (("S", row.s), ("L", row.l)):
        if run and run["status"] != 200:
            found.append(f"HTTP {run['status']} at {size}")
    if found or row.kind == ADMIN:
        return found
    s_queries, l_queries = (row.s or {}).get("queries"), (row.l or {}).get("queries")
    if s_queries is not None and l_queries is not None and s_queries != l_queries:
        found.append("queries S≠L")
    if max(s_queries or 0, l_queries or 0) > MAX_QUERIES:
        found.append(f"queries>{MAX_QUERIES}")
    median = (row.l or {}).get("median_ms")
    if row.kind in (STAFF, PORTAL):
        if row.growth and row.growth > MAX_GROWTH:
            found.append(f"L/S>{MAX_GROWTH}")
        if median and median > PAGE_MS:
            found.append(f">{PAGE_MS} ms")
    if row.kind == REPORT and "(12 months)" in row.label and median and median > REPORT_MS:
        found.append(f">{REPORT_MS} ms")
    if row.label == "portal plan" and row.floors and row.floors > PORTAL_PLAN_FLOORS:
        found.append(f">{PORTAL_PLAN_FLOORS}× floor")
    if row.label in SEARCH_PAGES and median and admin_search_ms and admin_search_ms / median < SEARCH_VS_ADMIN:
        found.append(f"<{SEARCH_VS_ADMIN}× admin")
    wanted = RPS_SHARE.get(row.label)
    if wanted and row.rps_share is not None and row.rps_share < wanted:
        found.append(f"req/s<{wanted:.0%} floor")
    if throughput and (throughput["non_2xx"] or throughput["socket_errors"]):
        found.append("errors under load")
    return found


def _ms(run: dict | None) -> str:
    if not run:
        return "–"
    if run.get("status") != 200:
        return f"HTTP {run['status']}"
    return f"{run['median_ms']:.1f}/{run['p95_ms']:.0f}"


def _num(value: float | None, pattern: str) -> str:
    return "–" if value is None else format(value, pattern)


COLUMNS = ["page", "S ms med/p95", "L ms med/p95", "L/S", "queries S/L", "× floor", "req/s", "share", "L KiB", "misses"]


def table(result: list[Row]) -> str:
    """The printed table: fixed-width columns, the targets missed at the end of the row."""
    lines = []
    for row in result:
        queries = "/".join(str((run or {}).get("queries", "–")) for run in (row.s, row.l))
        largest = row.l or row.s or {}
        lines.append(
            [
                row.label,
                _ms(row.s),
                _ms(row.l),
                _num(row.growth, ".2f"),
                queries,
                _num(row.floors, ".1f"),
                _num(row.rps, ".0f"),
                _num(row.rps_share, ".0%"),
                _num(largest.get("bytes") and largest["bytes"] / 1024, ".1f"),
                ", ".join(row.misses),
            ]
        )
    widths = [max(len(str(line[i])) for line in [COLUMNS, *lines]) for i in range(len(COLUMNS))]
    out = io.StringIO()
    for n, line in enumerate([COLUMNS, *lines]):
        cells = [str(cell).rjust(width) for cell, width in zip(line, widths, strict=True)]
        cells[0] = str(line[0]).ljust(widths[0])
        cells[-1] = str(line[-1])  # misses: left, unpadded
        out.write("  ".join(cells).rstrip() + "\n")
        if n == 0:
            out.write("  ".join("-" * w for w in widths[:-1]) + "  " + "-" * 6 + "\n")
    return out.getvalue()


CSV_FIELDS = [
    "page",
    "kind",
    "url",
    "s_requests",
    "s_median_ms",
    "s_p95_ms",
    "l_requests",
    "l_median_ms",
    "l_p95_ms",
    "l_over_s",
    "s_queries",
    "l_queries",
    "floor_multiple",
    "rps",
    "rps_share_of_floor",
    "s_bytes",
    "l_bytes",
    "misses",
]


def csv_text(result: list[Row]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in result:
        s, l = row.s or {}, row.l or {}  # noqa: E741
        writer.writerow(
            {
                "page": row.label,
                "kind": row.kind,
                "url": (l or s).get("url", ""),
                "s_requests": s.get("n", ""),
                "s_median_ms": _num(s.get("median_ms"), ".2f").replace("–", ""),
                "s_p95_ms": _num(s.get("p95_ms"), ".2f").replace("–", ""),
                "l_requests": l.get("n", ""),
                "l_median_ms": _num(l.get("median_ms"), ".2f").replace("–", ""),
                "l_p95_ms": _num(l.get("p95_ms"), ".2f").replace("–", ""),
                "l_over_s": _num(row.growth, ".3f").replace("–", ""),
                "s_queries": s.get("queries", ""),
                "l_queries": l.get("queries", ""),
                "floor_multiple": _num(row.floors, ".2f").replace("–", ""),
                "rps": _num(row.rps, ".1f").replace("–", ""),
                "rps_share_of_floor": _num(row.rps_share, ".3f").replace("–", ""),
                "s_bytes": s.get("bytes", ""),
                "l_bytes": l.get("bytes", ""),
                "misses": "; ".join(row.misses),
            }
        )
    return out.getvalue()


def to_explain(result: list[Row]) -> list[tuple[str, str]]:
    """(page, SQL) of the slowest read of every page over target at the largest size, once per query."""
    seen, chosen = set(), []
    for row in result:
        run = row.l or row.s
        if not row.misses or row.kind in (ADMIN, FLOOR, CSV) or not run or not run.get("slowest_sql"):
            continue
        key = " ".join(run["slowest_sql"].split())
        if key not in seen:
            seen.add(key)
            chosen.append((row.label, run["slowest_sql"]))
    return chosen
