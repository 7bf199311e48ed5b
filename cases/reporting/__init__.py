"""Reports for managers: the report tables (reports.py), their SVG charts (charts.py),
CSV downloads (csv_export.py), and the pages, period form and URLs that show them."""
