"""CSV downloads that are safe to open in a spreadsheet.

A spreadsheet treats a cell starting with =, +, -, @ (or a tab or carriage return, which
some programs strip before looking) as a formula: a client's or studio's name typed as
`=HYPERLINK(...)` would run on the manager's machine (OWASP "CSV injection"). Such text
gets a leading single quote, which spreadsheets show as plain text. Numbers the report
computed itself (int, float, Decimal) are left alone, so a negative difference stays a
number a spreadsheet can sum.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.http import HttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str | int | float | Decimal:
    """One cell, neutralised if a spreadsheet could read it as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return buffer.getvalue()


def filename(*parts: str, start: datetime.date, end: datetime.date) -> str:
    name = "-".join(p for p in parts if p)
    return f"{name}-{start:%Y-%m-%d}-to-{end:%Y-%m-%d}.csv"


def csv_response(rows: Iterable[Sequence[Any]], name: str) -> HttpResponse:
    """A download; the byte-order mark makes Excel read the UTF-8 (e.g. "Kirby–Desai") right."""
    response = HttpResponse("\ufeff" + csv_text(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
