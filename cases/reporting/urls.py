"""Reports for managers: charts, the tables behind them, CSV downloads.

One page and one CSV download per report in cases.reporting.reports.REPORTS, e.g.
`cases:report_adverse_events` at /reports/adverse-events/ and
`cases:report_adverse_events_csv` at /reports/adverse-events.csv.
"""

from django.urls import path

from cases.reporting import views
from cases.reporting.reports import REPORTS

urlpatterns = [path("reports/", views.report_index, name="reports")]
for _report in REPORTS.values():
    urlpatterns += [
        path(f"reports/{_report.slug}/", views.report_page, {"slug": _report.slug}, name=_report.name),
        path(f"reports/{_report.slug}.csv", views.report_csv, {"slug": _report.slug}, name=f"{_report.name}_csv"),
    ]
