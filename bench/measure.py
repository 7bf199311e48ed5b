"""Server time of every page, measured in-process on one database (run by bench/run.py).

    DATABASE_URL=… DJANGO_SETTINGS_MODULE=bench.settings .venv/bin/python -m bench.measure --out s.json

Each page is requested through django.test.Client as its demo login, with the
production settings (bench.settings: DEBUG off, every middleware): once cold, then
`--repeat` times (fewer only if a page's `--budget` seconds run out first, never under
five), so the figures are of a warm process. The queries are counted on three more
requests, untimed (capturing them costs time the server does not spend in production).
The floor page is measured before and after the others and its samples pooled, so a
machine that slows down during the run slows the floor too.

Everything runs inside one transaction that is rolled back at the end: the sign-ins,
the access-log rows each page writes and anything else the requests save are undone, so
the database measured (which may be shared) is left as it was. Inside it the services'
own transactions become savepoints, which costs the same for pages that only read.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Requests made per page to count its queries, apart from the timed ones.
QUERY_SAMPLES = 3


def percentile(samples: list[float], share: float) -> float:
    """Nearest-rank percentile: the smallest sample that `share` of the samples do not exceed."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def signed_in(username: str):
    """A test client signed in as this demo login, its second step passed as a code would."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user

    from smpclinic.twofactor import PASSED, STEP_KEY

    user = get_user_model().objects.get(username=username)
    http = Client()
    http.force_login(user)
    device = next(devices_for_user(user, confirmed=True), None)
    if device is not None:
        session = http.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session[STEP_KEY] = PASSED
        session.save()
    return http


def _body(response) -> bytes:
    if response.streaming:
        # Consuming the content closes the response (the test client's wrapper), without
        # Django's close_old_connections, which would end the transaction measured in.
        return b"".join(response.streaming_content)
    return response.content


def measure_page(http, page, repeat: int, budget: float) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    started = time.perf_counter()
    response = http.get(page.url)
    _body(response)
    cold = time.perf_counter() - started
    result = {**page.__dict__, "status": response.status_code, "cold_ms": cold * 1000}
    if response.status_code != 200:
        return result
    walls, body = [], b""
    deadline = time.monotonic() + budget
    while len(walls) < repeat and (len(walls) < min(repeat, 5) or time.monotonic() < deadline):
        started = time.perf_counter()
        body = _body(http.get(page.url))
        walls.append(time.perf_counter() - started)
    # The queries are counted on requests of their own, after the timed ones: capturing
    # them logs each one's SQL with its parameters filled in, work the server does not do
    # in production, which would weigh on the pages with the most or longest queries.
    queries = None
    for _ in range(QUERY_SAMPLES):
        with CaptureQueriesContext(connection) as captured:
            _body(http.get(page.url))
        # The request with the fewest queries: now and then a request also does the
        # session's housekeeping (the idle logout's activity stamp), which is not the page's.
        if queries is None or len(captured.captured_queries) < len(queries):
            queries = captured.captured_queries
    # The slowest read is the one worth an EXPLAIN (the access log's INSERT is one row).
    reads = [q for q in queries if q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))]
    slowest = max(reads, key=lambda q: float(q["time"]), default={"time": 0, "sql": ""})
    return {
        **result,
        "n": len(walls),
        "samples_ms": [w * 1000 for w in walls],
        "median_ms": statistics.median(walls) * 1000,
        "p95_ms": percentile(walls, 0.95) * 1000,
        "queries": len(queries),
        "sql_ms": sum(float(q["time"]) for q in queries) * 1000,
        "slowest_query_ms": float(slowest["time"]) * 1000,
        "slowest_sql": slowest["sql"],
        "bytes": len(body),
    }


def measure(repeat: int, budget: float, only: str | None) -> dict:
    """Every page and the floor on the database DATABASE_URL names; all of it rolled back."""
    sys.path.insert(0, str(ROOT))
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    # Set up as a gunicorn worker is: the app, its views and the cycle collector's tuning.
    import smpclinic.wsgi  # noqa: F401
    from bench.pages import FLOOR_PAGE, pages, pick
    from cases.demo import DEMO_USERNAMES
    from cases.models import Case, Client, FollowUp, LaserSession, Photo

    assert not settings.DEBUG, "measure with DEBUG off, as in production"
    with transaction.atomic():
        picks = pick(Path(settings.MEDIA_ROOT))
        chosen = pages(picks, timezone.localdate())
        if only:
            chosen = [p for p in chosen if only.lower() in p.label.lower()]
        clients = {persona: signed_in(DEMO_USERNAMES[persona]) for persona in {p.persona for p in chosen} | {"staff"}}
        floor_before = measure_page(clients["staff"], FLOOR_PAGE, repeat, budget)
        if floor_before["status"] != 200:
            raise SystemExit(f"The floor page answered {floor_before['status']}: nothing to compare with.")
        results = []
        for page in chosen:
            results.append(measure_page(clients[page.persona], page, repeat, budget))
            print(f"  {page.label:<45} {results[-1].get('median_ms', 0):8.1f} ms", file=sys.stderr, flush=True)
        floor_after = measure_page(clients["staff"], FLOOR_PAGE, repeat, budget)
        floor = {**floor_after, "n": floor_before["n"] + floor_after["n"]}
        samples = floor_before["samples_ms"] + floor_after["samples_ms"]
        floor.update(median_ms=statistics.median(samples), p95_ms=percentile(samples, 0.95), samples_ms=samples)
        counts = {
            "clients": Client.objects.count(),
            "cases": Case.objects.count(),
            "laser sessions": LaserSession.objects.count(),
            "follow-ups": FollowUp.objects.count(),
            "photos": Photo.objects.count(),
        }
        transaction.set_rollback(True)
    return {
        "database": f"{connection.vendor} {connection.settings_dict['NAME']}",
        "counts": counts,
        "notes": picks.notes,
        "floor": floor,
        "pages": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--budget", type=float, default=15.0, help="seconds per page before repeats stop early")
    parser.add_argument("--only", help="measure only pages whose label contains this")
    parser.add_argument("--out", type=Path, required=True)
    options = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    options.out.write_text(json.dumps(measure(options.repeat, options.budget, options.only), indent=1))


if __name__ == "__main__":
    main()
