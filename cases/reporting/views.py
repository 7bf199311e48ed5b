"""Reports for managers: a chart and the table behind it, a date filter, CSV downloads.

The report and its tables come from cases.reporting.reports (one aggregating query per table);
the charts from cases.reporting.charts (server-side SVG, no JavaScript).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from cases import audit
from cases.reporting import charts
from cases.reporting.csv_export import csv_response, filename
from cases.reporting.forms import ReportPeriodForm
from cases.reporting.reports import REPORTS
from smpclinic import roles


@roles.required(roles.VIEW_REPORTS)
@require_GET
def report_index(request):
    reports = [{"report": r, "url": reverse(r.url_name)} for r in REPORTS.values()]
    return render(request, "cases/reports/index.html", {"reports": reports})


@roles.required(roles.VIEW_REPORTS)
@require_GET
def report_page(request, slug):
    report = REPORTS[slug]
    audit.saw(request, f"report: {slug}")
    form = ReportPeriodForm(request.GET or None)
    period = form.period()
    sections = []
    if period is not None:
        query = urlencode({"from": period.start.isoformat(), "to": period.end.isoformat()})
        csv_url = reverse(report.csv_url_name)
        for table in report.tables(period):
            sections.append(
                {
                    "table": table,
                    "svg": charts.chart_for_table(table, period),
                    "csv_url": f"{csv_url}?{query}&table={table.key}",
                }
            )
    context = {
        "report": report,
        "reports": REPORTS.values(),
        "form": form,
        "period": period,
        "sections": sections,
    }
    return render(request, "cases/reports/report.html", context)


@roles.required(roles.VIEW_REPORTS)
@require_GET
def report_csv(request, slug):
    report = REPORTS[slug]
    form = ReportPeriodForm(request.GET or None)
    period = form.period()
    if period is None:
        errors = "; ".join(str(e) for errors in form.errors.values() for e in errors)
        return HttpResponseBadRequest(f"Choose a valid period: {errors}", content_type="text/plain; charset=utf-8")
    tables = {t.key: t for t in report.tables(period, download=True)}
    key = request.GET.get("table") or next(iter(tables))
    if key not in tables:
        raise Http404("No such table in this report.")
    audit.downloaded(request, f"report CSV: {slug}")
    name = filename("smp", report.slug, key, start=period.start, end=period.end)
    return csv_response(tables[key].csv_rows(), name)
