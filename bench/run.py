"""`make bench`: every page at S and L side by side with the framework's floor.

    .venv/bin/python -m bench.run                      # seed S and L, measure, load, photos
    .venv/bin/python -m bench.run --no-seed            # reuse the seeded databases
    .venv/bin/python -m bench.run --no-seed --quick    # a few requests per page, short loads
    .venv/bin/python -m bench.run --no-seed --only search --no-throughput

See bench/README.md for what each step and each column means.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import environ

from bench import report, seeding, throughput
from bench.pages import ADMIN, CSV, PORTAL, REPORT, STAFF

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgres://postgres@127.0.0.1:5432"
OUT = ROOT / ".bench"


def django_env(database_url: str, media_root: Path) -> dict[str, str]:
    """The environment of the measured app: production settings plus the floor, DEBUG off."""
    return {
        **seeding.database_env(database_url, media_root),
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-only-not-a-secret",  # nosec B105
        "DJANGO_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    }


def media_root(options, size: str) -> Path:
    """Where the photo files of that size's database are: as given, or the bench's own folder."""
    given = options.s_media if size == "S" else options.l_media
    return given or OUT / f"media-{environ.Env.db_url_config(getattr(options, size.lower() + '_url'))['NAME']}"


def explain(database_url: str, sql: str) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of one read, as the app runs it (JIT off), rolled back."""
    import psycopg

    config = environ.Env.db_url_config(database_url)
    connection = psycopg.connect(
        dbname=config["NAME"],
        host=config.get("HOST") or None,
        port=config.get("PORT") or None,
        user=config.get("USER"),
        password=config.get("PASSWORD") or None,
        options="-c jit=off",
    )
    with connection:
        rows = connection.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}").fetchall()  # our own query, as captured
        connection.rollback()
    return "\n".join(row[0] for row in rows)


def machine() -> str:
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in lines if "model name" in line), platform.processor())
    memory = next(
        (line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")), "0"
    )
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {int(memory) / 2**20:.0f} GiB, Python {platform.python_version()}, "
        f"load average {load[0]:.1f} at the start"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--s-url", default=f"{SERVER}/smpclinic_bench_s", help="the small clinic's database")
    parser.add_argument("--l-url", default=f"{SERVER}/smpclinic_bench_l", help="the large clinic's database")
    parser.add_argument("--s-clients", type=int, default=1_000)
    parser.add_argument("--l-clients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--history-years",
        type=int,
        default=seeding.HISTORY_YEARS,
        help=f"how old the seeded clinic is (seed_demo --history-years; default {seeding.HISTORY_YEARS})",
    )
    parser.add_argument("--sizes", default="S,L", help="which sizes to measure: S,L (default), S or L")
    parser.add_argument("--no-seed", action="store_true", help="the databases are seeded already: only measure")
    parser.add_argument("--l-from", metavar="DATABASE", help="make L a copy of this seeded database instead of seeding")
    parser.add_argument("--s-media", type=Path, help="S's photo files (default: .bench/media-<database name>)")
    parser.add_argument("--l-media", type=Path, help="L's photo files (default: .bench/media-<database name>)")
    parser.add_argument("--quick", action="store_true", help="5 requests a page, 2-second loads: for development")
    parser.add_argument("--repeat", type=int, help="requests per page after the cold one (default 30; quick 5)")
    parser.add_argument("--budget", type=float, default=15.0, help="seconds per page before its repeats stop early")
    parser.add_argument("--only", help="only the pages whose label contains this (the floor always)")
    parser.add_argument("--no-throughput", action="store_true", help="skip the gunicorn + wrk step")
    parser.add_argument("--throughput-seconds", type=float, help="wrk's duration per page (default 8; quick 2)")
    parser.add_argument("--csv", type=Path, default=OUT / "bench.csv")
    options = parser.parse_args()
    repeat = options.repeat or (5 if options.quick else 30)
    seconds = options.throughput_seconds or (2 if options.quick else 8)
    sizes = {size.strip().upper() for size in options.sizes.split(",")}
    urls = {"S": options.s_url, "L": options.l_url}
    clients = {"S": options.s_clients, "L": options.l_clients}
    OUT.mkdir(exist_ok=True)

    print(f"SMP Clinic benchmark, {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"Machine: {machine()}")
    if options.l_from:
        print(f"L: a copy of {options.l_from} into {urls['L']}: {seeding.copy(options.l_from, urls['L']):.1f} s")
    if not options.no_seed:
        for size in sorted(sizes - ({"L"} if options.l_from else set()), reverse=True):  # S first
            print(f"Seeding {size}: {clients[size]} clients into {urls[size]} …", flush=True)
            times = seeding.seed(
                urls[size],
                clients=clients[size],
                seed=options.seed,
                media_root=media_root(options, size),
                history_years=options.history_years,
            )
            print("  " + ", ".join(f"{step} {seconds_:.1f} s" for step, seconds_ in times.items()), flush=True)

    runs: dict[str, dict | None] = {"S": None, "L": None}
    for size in ("S", "L"):
        if size not in sizes:
            continue
        out = OUT / f"measure-{size}.json"
        print(f"Measuring {size} ({urls[size]}), {repeat} requests a page …", flush=True)
        command = [sys.executable, "-m", "bench.measure", "--repeat", str(repeat), "--budget", str(options.budget)]
        command += ["--out", str(out), *(["--only", options.only] if options.only else [])]
        started = time.monotonic()
        subprocess.run(command, env=django_env(urls[size], media_root(options, size)), cwd=ROOT, check=True)
        runs[size] = json.loads(out.read_text())
        counts = ", ".join(f"{n} {what}" for what, n in runs[size]["counts"].items())
        print(f"  {time.monotonic() - started:.0f} s; {counts}")
        for note in runs[size]["notes"]:
            print(f"  {note}")

    loaded = None
    largest = "L" if runs["L"] else "S"
    if not options.no_throughput:
        pages = [p for p in runs[largest]["pages"] if p["kind"] in (STAFF, PORTAL) and p["status"] == 200]
        workers = os.cpu_count() or 1
        print(f"Throughput at {largest}: gunicorn, {workers} sync workers, wrk {seconds:g} s a page …", flush=True)
        env = django_env(urls[largest], media_root(options, largest))
        loaded = throughput.run(env, pages, runs[largest]["floor"], seconds, workers)

    result = report.rows(runs["S"], runs["L"], loaded)
    print()
    print(report.table(result), end="")
    floor = runs[largest]["floor"]
    print(
        f"Floor at {largest}: {floor['median_ms']:.1f} ms median, {floor['queries']} queries"
        + (f", {loaded['floor']['rps']:.0f} req/s under gunicorn" if loaded else "")
    )
    print(
        f"Targets: ≤{report.MAX_QUERIES} queries and the same at S and L; L/S ≤ {report.MAX_GROWTH} "
        f"(not reports); staff and portal pages ≤ {report.PAGE_MS} ms at L; reports (12 months) ≤ "
        f"{report.REPORT_MS} ms; portal plan ≤ {report.PORTAL_PLAN_FLOORS}× floor; client search ≥ "
        f"{report.SEARCH_VS_ADMIN}× faster than the admin's; req/s shares "
        + ", ".join(f"{page} ≥ {share:.0%}" for page, share in report.RPS_SHARE.items())
    )
    kinds = {STAFF: "staff", PORTAL: "portal", REPORT: "report", CSV: "CSV", ADMIN: "admin"}
    missed = [row for row in result if row.misses]
    print(f"Over target: {len(missed)} of {len(result) - 1} pages", end="")
    print(" (" + ", ".join(f"{kinds[k]} {sum(r.kind == k for r in missed)}" for k in kinds) + ")")
    options.csv.write_text(report.csv_text(result))
    print(f"CSV: {options.csv}")

    url = urls[largest]
    if seeding.is_postgres(url):
        for label, sql in report.to_explain(result):
            print(f"\nEXPLAIN ANALYZE of the slowest query of “{label}” at {largest}:")
            print(f"  {' '.join(sql.split())[:400]} …")
            print("\n".join("  " + line for line in explain(url, sql).splitlines()))


if __name__ == "__main__":
    main()
