"""`make load`: a locust scenario against gunicorn + PostgreSQL on 127.0.0.1.

    .venv/bin/python -m bench.load                         # seed, 50 users, 3 minutes
    .venv/bin/python -m bench.load --no-seed --users 10 --duration 30s

Steps, each in its own process:
1. Seed its own database (default smpclinic_bench_load, 1,000 clients; --no-seed reuses it).
2. Set up the people (before the clock starts): accounts for the simulated staff,
   managers and clients, each with the demo password; staff and managers with an
   authenticator app (TOTP) whose key the scenario reads, so every sign-in goes through the
   password and code pages as a person's does. And the cases the staff will book laser
   sessions on: each is tried first (a booking posted and rolled back), so the scenario
   books only what the clinic's safety rules allow, and each case at most once.
3. gunicorn (sync workers, one per core) with the production settings over plain HTTP
   (DJANGO_SECURE_COOKIES=0, so the session and CSRF cookies travel over http://).
4. locust, headless, for --duration (at most 10 minutes): staff browse and book laser
   sessions, managers read the review queue and reports, clients their portal
   (bench/locustfile.py). Every request has a 60-second timeout; the run stops by itself.
5. The check: 0 failed requests, 0 server errors (5xx, counted by locust and in
   gunicorn's access log), and the database holds exactly the laser sessions the scenario
   says it booked: the same count since the start, the same submission tokens.
Exits non-zero when any of these fails.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench import seeding
from bench.run import OUT, ROOT, SERVER, django_env
from bench.throughput import gunicorn

PASSWORD = "smpclinic-load-only"  # nosec B105: a local load database's accounts
MAX_DURATION_S = 600


# --- In a Django subprocess: the people and the cases; the check afterwards ------------


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def set_up(staff: int, managers: int, clients: int, bookings: int) -> dict:
    """Accounts per role and the cases to book on; what the scenario needs, as JSON."""
    _django()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from cases.models import Case, Client, TreatmentPlan
    from smpclinic import roles

    User = get_user_model()
    groups = {g.name: g for g in Group.objects.filter(name__in=roles.ROLES)}
    people = {"staff": [], "manager": [], "client": []}
    with transaction.atomic():
        User.objects.filter(username__startswith="load-").update(is_active=False)
        for role, group, count in (("staff", roles.STAFF, staff), ("manager", roles.MANAGERS, managers)):
            for n in range(count):
                user, _ = User.objects.update_or_create(username=f"load-{role}-{n}", defaults={"is_active": True})
                user.set_password(PASSWORD)
                user.save()
                user.groups.set([groups[group]])
                TOTPDevice.objects.filter(user=user).delete()
                device = TOTPDevice.objects.create(user=user, name="Load phone", confirmed=True)
                people[role].append({"username": user.username, "key": device.key})
        agreed = TreatmentPlan.objects.agreed().values("case__client")
        portal = Client.objects.filter(pk__in=agreed, user__isnull=True, archived_at__isnull=True).order_by("pk")
        for n, client in enumerate(portal[:clients]):
            user, _ = User.objects.update_or_create(username=f"load-client-{n}", defaults={"is_active": True})
            user.set_password(PASSWORD)
            user.save()
            user.groups.set([groups[roles.CLIENTS]])
            Client.objects.filter(user=user).update(user=None)
            Client.objects.filter(pk=client.pk).update(user=user)
            people["client"].append({"username": user.username, "key": None})
    cases = Case.objects.live().filter(pk__in=TreatmentPlan.objects.agreed().values("case")).order_by("pk")
    return {"people": people, "bookings": _bookable(cases, bookings, people["staff"][0]["username"])}


def _open_hours(start: datetime.date):
    """Whole hours the clinic is open (its opening hours, no closure day), from `start`
    on: one booking each, so none meets another's room, technician or hours rule."""
    from smpclinic.models import Closure, OpeningHours

    hours = {row.weekday: row for row in OpeningHours.objects.all()}
    closed = set(Closure.objects.filter(day__gte=start).values_list("day", flat=True))
    day = start
    while True:
        row = hours.get(day.weekday())
        if row is not None and day not in closed:
            when = datetime.datetime.combine(day, row.opens)
            while when + datetime.timedelta(hours=1) <= datetime.datetime.combine(day, row.closes):
                yield when
                when += datetime.timedelta(hours=1)
        day += datetime.timedelta(days=1)


def _bookable(cases, wanted: int, username: str) -> list[dict]:
    """Cases where booking a laser session far ahead passes the rules, tried and rolled back.

    Each is booked from 100 days ahead at its own hour within the opening hours, so that
    no two bookings of the run meet the same technician, room or zone interval rule; the
    form's own defaults (its plan step, device and zones) are kept, as a person booking
    the next planned session would, and the technician is the demo's."""
    from django.db import transaction
    from django.urls import reverse
    from django.utils import timezone

    from artists.models import Artist
    from bench.browser import form_fields
    from bench.measure import signed_in
    from cases.demo import DEMO_USERNAMES
    from smpclinic.models import Room

    # The load accounts are not artists: they book for the demo's laser technician, in the
    # clinic's first room (each booking has an hour of its own, so neither clashes).
    technician = Artist.objects.get(user__username=DEMO_USERNAMES["staff"]).pk
    room = Room.objects.active().order_by("pk").first()
    slots = _open_hours(timezone.localdate() + datetime.timedelta(days=100))
    found = []
    with transaction.atomic():
        http = signed_in(username)
        for case in cases[: wanted * 6]:
            when = next(slots)
            url = reverse("cases:laser_session_create", args=[case.public_id])
            data = form_fields(http.get(url).content.decode())
            if not data.get("zones"):
                continue
            booking = {
                "status": "scheduled",
                "scheduled_at": when.strftime("%Y-%m-%dT%H:%M"),
                "technician": technician,
                "room": room.pk if room else "",
            }
            if http.post(url, {**data, **booking}).status_code == 302:
                found.append({"url": url, **booking})
            if len(found) == wanted:
                break
        transaction.set_rollback(True)
    return found


def check(started: str, tokens: list[str]) -> dict:
    """What the database holds that the scenario wrote: laser sessions since it started."""
    _django()
    from cases.models import LaserSession

    since = LaserSession.objects.filter(created_at__gte=datetime.datetime.fromisoformat(started))
    return {
        "since_start": since.count(),
        "with_tokens": LaserSession.objects.filter(submission_token__in=tokens).count(),
        "tokens": len(tokens),
        "distinct_tokens": len(set(tokens)),
    }


def _django_call(env: dict[str, str], *args: str) -> dict:
    command = [sys.executable, "-m", "bench.load", *args]
    return json.loads(subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout)


# --- In the parent ---------------------------------------------------------------------


def _seconds(text: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    return int(float(text[:-1]) * units[text[-1]]) if text[-1] in units else int(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=f"{SERVER}/smpclinic_bench_load")
    parser.add_argument("--clients", type=int, default=1_000, help="clinic size when seeding")
    parser.add_argument("--no-seed", action="store_true")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--duration", default="3m", help="locust's run time: 30s, 3m … (at most 10 minutes)")
    parser.add_argument("--set-up", nargs=4, type=int, help=argparse.SUPPRESS)
    parser.add_argument("--check", nargs=2, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.set_up:
        print(json.dumps(set_up(*options.set_up)))
        return
    if options.check:
        print(json.dumps(check(options.check[0], json.loads(Path(options.check[1]).read_text()))))
        return

    seconds = _seconds(options.duration)
    if not 0 < seconds <= MAX_DURATION_S:
        raise SystemExit(f"--duration must be between 1 second and {MAX_DURATION_S // 60} minutes")
    OUT.mkdir(exist_ok=True)
    media = OUT / "media-load"
    if not options.no_seed:
        print(f"Seeding {options.clients} clients into {options.database_url} …", flush=True)
        times = seeding.seed(options.database_url, clients=options.clients, seed=1, media_root=media)
        print("  " + ", ".join(f"{step} {s:.1f} s" for step, s in times.items()), flush=True)
    env = {**django_env(options.database_url, media), "DJANGO_SECURE_COOKIES": "0"}
    # At most a third of the users are managers, a third clients; the rest staff. Each staff
    # user books at most one session a minute, so this many cases are enough.
    managers = clients = max(1, options.users // 4)
    staff = max(1, options.users - managers - clients)
    bookings = staff * (seconds // 60 + 1)
    print(f"Setting up {staff} staff, {managers} managers, {clients} clients, up to {bookings} bookings …", flush=True)
    scenario = _django_call(env, "--set-up", str(staff), str(managers), str(clients), str(bookings))
    print(f"  {len(scenario['bookings'])} cases ready to book on")
    if not scenario["bookings"]:
        # Without them the run would write nothing and "pass" its check of the writes.
        raise SystemExit("FAIL: no case could be booked in a trial run; the scenario would write nothing")
    scenario_file, tokens_file = OUT / "load-scenario.json", OUT / "load-tokens.json"
    scenario_file.write_text(json.dumps({**scenario, "password": PASSWORD}))
    tokens_file.unlink(missing_ok=True)
    access_log = OUT / "load-access.log"
    workers = os.cpu_count() or 1
    started = datetime.datetime.now(datetime.UTC).isoformat()
    with gunicorn({**env, "GUNICORN_CMD_ARGS": f"--access-logfile={access_log}"}, workers) as base:
        print(f"locust: {options.users} users for {options.duration} against {base} ({workers} workers) …", flush=True)
        command = [
            str(Path(sys.executable).parent / "locust"),
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            f"--users={options.users}",
            f"--spawn-rate={options.spawn_rate}",
            f"--run-time={options.duration}",
            "--stop-timeout=30",
            f"--host={base}",
            f"--csv={OUT / 'load'}",
            "--only-summary",
        ]
        access_log.unlink(missing_ok=True)
        locust_env = {**os.environ, "BENCH_SCENARIO": str(scenario_file), "BENCH_TOKENS": str(tokens_file)}
        began = time.monotonic()
        finished = subprocess.run(command, env=locust_env, cwd=ROOT, timeout=seconds + 120)
        print(f"  locust ran {time.monotonic() - began:.0f} s, exit status {finished.returncode}")
    if not tokens_file.exists():  # locust stopped before writing them: none to find
        tokens_file.write_text("[]")
    tokens = json.loads(tokens_file.read_text())
    held = _django_call(env, "--check", started, str(tokens_file))
    sys.exit(report(OUT / "load_stats.csv", access_log, tokens, held))


def report(stats_path: Path, access_log: Path, tokens: list[str], held: dict) -> int:
    """Print throughput, percentiles and the checks; 0 when every check holds."""
    with stats_path.open() as f:
        total = next(row for row in csv.DictReader(f) if row["Name"] == "Aggregated")
    requests, failures = int(total["Request Count"]), int(total["Failure Count"])
    statuses = [line.split('"')[2].split()[0] for line in access_log.read_text().splitlines() if line.count('"') >= 2]
    server_errors = sum(status.startswith("5") for status in statuses)
    print(
        f"\n{requests} requests, {float(total['Requests/s']):.1f} req/s; p50 {total['50%']} ms, "
        f"p95 {total['95%']} ms, p99 {total['99%']} ms, max {float(total['Max Response Time']):.0f} ms"
    )
    print(f"Failed requests: {failures}; server errors (5xx in gunicorn's log of {len(statuses)}): {server_errors}")
    print(
        f"Laser sessions booked: {len(tokens)} by the scenario; in the database: {held['since_start']} created since "
        f"the start, {held['with_tokens']} with the scenario's submission tokens"
    )
    exact = held["since_start"] == held["with_tokens"] == len(tokens) == held["distinct_tokens"]
    ok = failures == 0 and server_errors == 0 and exact and requests > 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    main()
