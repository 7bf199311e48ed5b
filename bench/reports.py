"""Time the managers' pages on a large demo clinic: every report, its CSV downloads, the
follow-up review queue and the team page.

    .venv/bin/python bench/reports.py                        # 100 000 clients, SQLite in a temp dir
    .venv/bin/python bench/reports.py --clients 20000 --repeat 3
    .venv/bin/python bench/reports.py --database-url postgres://postgres@127.0.0.1:5432/smp_bench_reports
    .venv/bin/python bench/reports.py --database-url sqlite:////tmp/seeded.sqlite3 --no-seed

Seeds a fresh database with `manage.py seed_demo --clients N --seed S` (as bench/seed_demo.py
does; the database named by --database-url must exist and be empty, unless --no-seed says
it is already seeded). On PostgreSQL it then runs VACUUM ANALYZE, as autovacuum would soon
after a bulk load (--no-analyze skips it). Then it measures in a subprocess with the
production settings (smpclinic.settings, DEBUG off): each page is requested through
django.test.Client as the demo manager (force_login), once cold, then --repeat times.
Reports are timed for their default period (the last 12 months) and for ten years, and so
is the CSV download of every table; then the review queue and the team page.

Columns: median and best wall time of the repeats, the first (cold) request, this process's
CPU time (on SQLite it includes the database's work), and from the last repeat the number
of SQL queries, their total and the slowest one's time (CaptureQueriesContext), the
response size. Pages slower than 500 ms are listed with their slowest query.
The only change to the settings: plain StaticFilesStorage instead of the manifest storage,
so that the pages render without running collectstatic first.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SLOW_MS = 500


def run(args: list[str], env: dict[str, str]) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, check=True)
    return time.monotonic() - started


# --- In the subprocess: the measurements -----------------------------------------------


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _pages(ten_years: tuple[datetime.date, datetime.date]) -> list[tuple[str, str]]:
    """(label, URL) of every page measured, in the order printed."""
    from django.urls import reverse

    from cases.reporting.reports import REPORTS

    start, end = (d.isoformat() for d in ten_years)
    ranges = [("12 months", ""), ("10 years", f"from={start}&to={end}")]
    pages = [("report index", reverse("cases:reports"))]
    for report in REPORTS.values():
        for label, query in ranges:
            pages.append((f"{report.slug} ({label})", reverse(report.url_name) + (f"?{query}" if query else "")))
    for report in REPORTS.values():
        for key in _table_keys(report):
            for label, query in ranges:
                url = f"{reverse(report.csv_url_name)}?table={key}" + (f"&{query}" if query else "")
                pages.append((f"{report.slug}.csv {key} ({label})", url))
    pages.append(("review queue", reverse("cases:review_queue")))
    pages.append(("team", reverse("artists:team")))
    return pages


def _table_keys(report) -> list[str]:
    """A report's table keys, without running its queries (a one-day period in 1900)."""
    from cases.reporting.reports import Period

    day = datetime.date(1900, 1, 1)
    return [table.key for table in report.build(Period(day, day))]


def _ten_years(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    try:
        start = today.replace(year=today.year - 10)
    except ValueError:  # 29 February
        start = today.replace(year=today.year - 10, day=28)
    return start + datetime.timedelta(days=1), today


def measure(repeat: int) -> None:
    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic here
    _django()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.utils import timezone

    from cases.demo import DEMO_USERNAMES
    from cases.models import Case, FollowUp, LaserSession

    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        manager = get_user_model().objects.get(username=DEMO_USERNAMES["manager"])
        client = Client()
        client.force_login(manager)
        vendor = f"{connection.vendor} {connection.Database.sqlite_version if connection.vendor == 'sqlite' else ''}"
        print(
            f"\n{vendor.strip()}, DEBUG={settings.DEBUG}, {Case.objects.count()} cases, "
            f"{FollowUp.objects.count()} follow-ups, {LaserSession.objects.count()} laser sessions; "
            f"median and best of {repeat} after one cold request; today {timezone.localdate()}"
        )
        header = (
            f"{'page':<50} {'median ms':>9} {'best ms':>8} {'cold ms':>8} {'CPU ms':>7} "
            f"{'queries':>7} {'SQL ms':>7} {'max q ms':>8} {'KiB':>7}"
        )
        print(header)
        print("-" * len(header))
        slow = []
        for label, url in _pages(_ten_years(timezone.localdate())):
            started = time.perf_counter()
            response = client.get(url)
            cold = time.perf_counter() - started
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
            walls, cpus = [], []
            for _ in range(repeat):
                with CaptureQueriesContext(connection) as queries:
                    started, cpu = time.perf_counter(), time.process_time()
                    response = client.get(url)
                    walls.append(time.perf_counter() - started)
                    cpus.append(time.process_time() - cpu)
            slowest = max(queries.captured_queries, key=lambda q: float(q["time"]), default={"time": 0, "sql": ""})
            sql_ms = sum(float(q["time"]) for q in queries.captured_queries) * 1000
            median = statistics.median(walls) * 1000
            print(
                f"{label:<50} {median:>9.0f} {min(walls) * 1000:>8.0f} {cold * 1000:>8.0f} "
                f"{statistics.median(cpus) * 1000:>7.0f} {len(queries):>7} {sql_ms:>7.0f} "
                f"{float(slowest['time']) * 1000:>8.0f} {len(response.content) / 1024:>7.1f}"
            )
            if median > SLOW_MS:
                slow.append((label, median, sql_ms, slowest))
        print(f"\nSlower than {SLOW_MS} ms (median): {len(slow) or 'none'}")
        shown = set()
        for label, median, sql_ms, slowest in slow:
            print(
                f"- {label}: {median:.0f} ms, of which SQL {sql_ms:.0f} ms; "
                f"slowest query {float(slowest['time']) * 1000:.0f} ms"
            )
            sql = " ".join(slowest["sql"].split())
            if sql[:150] not in shown:  # the same query in another period or download: once is enough
                shown.add(sql[:150])
                print(f"    {sql[:500]}{' …' if len(sql) > 500 else ''}")


# --- In the parent: seed, then measure in a subprocess ---------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary directory")
    parser.add_argument("--no-seed", action="store_true", help="the database is already seeded: only measure")
    parser.add_argument("--no-analyze", action="store_true", help="PostgreSQL: skip VACUUM ANALYZE before measuring")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.measure:
        measure(options.repeat)
        return

    with tempfile.TemporaryDirectory(prefix="reports-bench-") as tmp:
        env = {
            **os.environ,
            "DATABASE_URL": options.database_url or f"sqlite:///{tmp}/bench.sqlite3",
            "DJANGO_MEDIA_ROOT": f"{tmp}/media",
            "DJANGO_DEBUG": os.environ.get("DJANGO_DEBUG", "1"),
        }
        if not options.no_seed:
            migrate = run(["migrate", "--no-input", "-v0"], env)
            seed = run(["seed_demo", f"--clients={options.clients}", f"--seed={options.seed}", "-v0"], env)
            print(f"migrate {migrate:.1f} s, seed_demo {seed:.1f} s ({options.clients} clients, seed {options.seed})")
        if env["DATABASE_URL"].startswith(("postgres:", "postgresql:")) and not options.no_analyze:
            # What autovacuum does soon after a bulk load (it is off on some servers): without
            # statistics the planner picks nested loops that take seconds.
            analyze = run(
                [
                    "shell",
                    "--no-imports",
                    "-c",
                    "from django.db import connection; connection.cursor().execute('VACUUM ANALYZE')",
                ],
                env,
            )
            print(f"VACUUM ANALYZE {analyze:.1f} s")
        measure_env = {
            **env,
            "DJANGO_SETTINGS_MODULE": "smpclinic.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "bench",
            "DJANGO_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        }
        command = [sys.executable, __file__, "--measure", "--repeat", str(options.repeat)]
        subprocess.run(command, env=measure_env, cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
