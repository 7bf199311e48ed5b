"""Requests per second under gunicorn, every page against the floor (run by bench/run.py).

gunicorn serves bench.settings (production settings plus the floor page) with sync
workers, one per core, on 127.0.0.1; wrk sends `--seconds` of requests to each page
from as many connections as there are workers, two per worker, signed in with a session
made for the page's demo login. The floor is loaded first and last and the two averaged,
as the in-process figures do. A page's "share of floor" is its requests/s divided by the
floor's: 0.25 means a worker serves a quarter as many of it as of the floor.

The sessions are made directly in the database (as a code-verified sign-in leaves them)
and deleted afterwards; the pages' own access-log rows stay, as any visit's do.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# --- In a Django subprocess: sessions for wrk ------------------------------------------


def sign_in(personas: list[str]) -> dict:
    """A session key per demo login, its second step passed; and the cookie's name."""
    import django

    django.setup()
    from django.conf import settings

    from bench.measure import signed_in
    from cases.demo import DEMO_USERNAMES

    keys = {persona: signed_in(DEMO_USERNAMES[persona]).session.session_key for persona in personas}
    return {"cookie": settings.SESSION_COOKIE_NAME, "keys": keys}


def sign_out(keys: list[str]) -> None:
    import django

    django.setup()
    from django.contrib.sessions.models import Session

    Session.objects.filter(session_key__in=keys).delete()


def _django_call(env: dict[str, str], *args: str) -> str:
    command = [sys.executable, "-m", "bench.throughput", *args]
    return subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout


# --- In the parent: gunicorn and wrk ---------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workers: int):
    """A gunicorn serving the app on 127.0.0.1 until the block ends; its base URL."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "smpclinic.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        "--worker-class=sync",
        "--no-control-socket",
        "--log-level=warning",
    ]
    server = subprocess.Popen(command, env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def wrk(url: str, cookie: str, seconds: float, connections: int) -> dict:
    """wrk's requests/s for one URL, and how many answers were not 2xx/3xx or failed."""
    # A 60-second timeout: wrk's own (2 s) would count a slow page's queued requests as errors.
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--timeout=60s"]
    command += ["-H", f"Cookie: {cookie}", url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "rps": float(rate.group(1)) if rate else 0.0,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": sum(int(n) for n in errors.groups()) if errors else 0,
        "errors": errors.group(0) if errors else "",
    }


def run(env: dict[str, str], pages: list[dict], floor: dict, seconds: float, workers: int) -> dict:
    """Requests/s of the floor and of each page (by label) on the database `env` names."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: bash bench/setup.sh (apt-get install -y wrk)")
    personas = sorted({p["persona"] for p in pages} | {floor["persona"]})
    session = json.loads(_django_call(env, "--sign-in", *personas))
    cookies = {persona: f"{session['cookie']}={key}" for persona, key in session["keys"].items()}
    connections = workers * 2
    results = {}
    try:
        with gunicorn(env, workers) as base:
            wrk(base + floor["url"], cookies[floor["persona"]], 1, connections)  # warm both workers
            first = wrk(base + floor["url"], cookies[floor["persona"]], seconds, connections)
            for page in pages:
                # A second of warm-up: each worker loads the page's templates once.
                wrk(base + page["url"], cookies[page["persona"]], 1, connections)
                results[page["label"]] = wrk(base + page["url"], cookies[page["persona"]], seconds, connections)
                measured = results[page["label"]]
                trouble = f" non-2xx {measured['non_2xx']} {measured['errors']}".rstrip()
                print(f"  {page['label']:<45} {measured['rps']:8.1f} req/s{trouble}", file=sys.stderr)
            last = wrk(base + floor["url"], cookies[floor["persona"]], seconds, connections)
    finally:
        _django_call(env, "--sign-out", *session["keys"].values())
    floor_rps = (first["rps"] + last["rps"]) / 2
    return {
        "floor": {**last, "rps": floor_rps, "first_rps": first["rps"], "last_rps": last["rps"]},
        "pages": results,
        "workers": workers,
        "connections": connections,
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sign-in", nargs="+", metavar="PERSONA")
    parser.add_argument("--sign-out", nargs="+", metavar="SESSION_KEY")
    options = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    if options.sign_in:
        print(json.dumps(sign_in(options.sign_in)))
    elif options.sign_out:
        sign_out(options.sign_out)


if __name__ == "__main__":
    main()
