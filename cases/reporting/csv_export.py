"""CSV downloads that are safe to open in a spreadsheet.

A spreadsheet treats a cell starting with =, +, -, @ (or a tab or carriage return, which
some programs strip before looking) as a formula, also after leading whitespace or in
the full-width forms ＝ ＋ － ＠: a client's or studio's name typed as
`=HYPERLINK(...)` would run on the manager's machine (OWASP "CSV injection"). Such text
gets a leading single quote, which spreadsheets show as plain text. Numbers the report
computed itself (int, float, Decimal) are left alone, so a negative difference stays a
number a spreadsheet can sum.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.http import HttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Full-width forms (＝ ＋ － ＠) that some spreadsheets fold to the ASCII ones.
FULL_WIDTH_STARTS = ("\uff1d", "\uff0b", "\uff0d", "\uff20")
# Invisible characters a spreadsheet may skip before looking at the first one.
LEADING_BLANKS = re.compile(r"^[\s\u200b\u200c\u200d\u2060\ufeff]+")


def safe_cell(value: Any) -> str | int | float | Decimal:
    """One cell, neutralised if a spreadsheet could read it as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    if text[:1].isalnum():
        return text  # a letter or digit first: neither a formula nor a blank hiding one
    # Leading whitespace (spaces, line breaks, no-break or ideographic spaces) or invisible
    # characters do not make " =1+1" safe: some programs trim them first.
    first = LEADING_BLANKS.sub("", text)
    if text.startswith(FORMULA_STARTS) or first.startswith(FORMULA_STARTS + FULL_WIDTH_STARTS):
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
