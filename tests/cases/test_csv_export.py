"""CSV downloads must be safe to open in a spreadsheet (no formula injection)."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest

from cases.reporting.csv_export import csv_response, csv_text, filename, safe_cell


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_text_that_a_spreadsheet_would_run_is_quoted(start):
    value = f'{start}HYPERLINK("http://evil.example")'
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize(
    "value",
    ["Studio North", "Too dark or too dense", "1 – very dissatisfied", "a=b", "x-ray", "", "Zoë @ home"],
)
def test_ordinary_text_is_left_alone(value):
    assert safe_cell(value) == value


def test_text_that_looks_like_a_negative_number_is_still_quoted():
    # Only numbers the report computed are trusted; "-2+3" typed as a name is text.
    assert safe_cell("-2+3") == "'-2+3"
    assert safe_cell("-5") == "'-5"


@pytest.mark.parametrize("value", [-7, 0, 12, 3.5, -1.5, Decimal("-2.50")])
def test_numbers_stay_numbers(value):
    assert safe_cell(value) == value


def test_empty_and_boolean_cells():
    assert safe_cell(None) == ""
    assert safe_cell(True) == "yes"
    assert safe_cell(False) == "no"


def test_csv_text_quotes_and_neutralises_every_cell():
    text = csv_text([["Name", "Count"], ['=cmd|" /C calc"!A0', -3], ["Studio, Leeds", 2]])
    assert list(csv.reader(io.StringIO(text))) == [
        ["Name", "Count"],
        ['\'=cmd|" /C calc"!A0', "-3"],
        ["Studio, Leeds", "2"],
    ]


def test_filename_names_report_and_period():
    assert (
        filename("smp", "adverse-events", "by-device", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 6, 30))
        == "smp-adverse-events-by-device-2026-01-01-to-2026-06-30.csv"
    )


def test_response_is_a_utf8_download_with_a_byte_order_mark():
    response = csv_response([["Kirby–Desai", 8]], "x.csv")
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
    assert response.content.startswith("\ufeff".encode())
    assert response.content.decode("utf-8-sig") == "Kirby–Desai,8\r\n"


@pytest.mark.parametrize(
    "value",
    [
        ' =HYPERLINK("http://evil.example")',
        "  +1+1",
        "\n-2+3",
        "\u00a0@SUM(A1)",
        "\u3000=1+1",
        "\u200b=1+1",
        " \ufeff =1+1",
        '\uff1dHYPERLINK("http://evil.example")',
        "\uff0b1",
        "\uff0d1",
        "\uff20SUM(A1)",
        " \uff1d1+1",
    ],
)
def test_formula_after_leading_whitespace_or_in_full_width_is_quoted(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", [" Studio North", "  a=b", "\u3000Zoë", "x\uff1dy", "   "])
def test_leading_whitespace_alone_is_left_alone(value):
    assert safe_cell(value) == value


def test_csv_keeps_real_numbers_numeric_next_to_neutralised_text():
    text = csv_text([[" =1+1", -3, Decimal("-2.50"), 1.5, "\uff0d5"]])
    assert list(csv.reader(io.StringIO(text))) == [["' =1+1", "-3", "-2.50", "1.5", "'\uff0d5"]]
