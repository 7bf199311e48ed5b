"""Fill a benchmark database with the demo clinic and time it.

    .venv/bin/python bench/seeding.py --clients 1000 --database-url postgres://postgres@127.0.0.1:5432/smpclinic_bench_s

A PostgreSQL database is dropped and made afresh (the name must start with
"smpclinic_bench", so that no other database can be dropped by mistake), migrated,
seeded with `manage.py seed_demo --clients N --seed S --history-years 10` (a clinic ten
years old: about eleven sessions, fourteen follow-ups and three photos per client, one case
of twenty sessions and thirty photos), then VACUUM ANALYZEd, as
autovacuum would do soon after a bulk load: without it the planner guesses from empty
statistics and the figures say nothing about a clinic in use. A SQLite URL names a file,
which is removed first. Photo files go to the media folder given (seed_demo paints
files for a few cases; the earlier courses' photos are hard links to a few of them).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import environ

ROOT = Path(__file__).resolve().parent.parent
SAFE_PREFIX = "smpclinic_bench"
HISTORY_YEARS = 10


def manage(args: list[str], env: dict[str, str]) -> float:
    """Run a manage.py command in a subprocess; its wall time in seconds."""
    started = time.monotonic()
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, check=True)
    return time.monotonic() - started


def database_env(database_url: str, media_root: Path) -> dict[str, str]:
    """The environment of a manage.py command on this database (DEBUG on: no secret needed)."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_MEDIA_ROOT": str(media_root),
        "DJANGO_DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "smpclinic.settings",
    }


def is_postgres(database_url: str) -> bool:
    return database_url.startswith(("postgres:", "postgresql:", "pgsql:"))


def recreate(database_url: str) -> None:
    """An empty database at this URL: PostgreSQL's dropped and created, SQLite's file removed."""
    config = environ.Env.db_url_config(database_url)
    name = config["NAME"]
    if not is_postgres(database_url):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{name}{suffix}").unlink(missing_ok=True)
        return
    if not name.startswith(SAFE_PREFIX):
        raise SystemExit(f"Refusing to drop {name!r}: the bench only recreates databases named {SAFE_PREFIX}*.")
    import psycopg

    server = {"host": config.get("HOST") or None, "port": config.get("PORT") or None, "user": config.get("USER")}
    with psycopg.connect(dbname="postgres", autocommit=True, password=config.get("PASSWORD") or None, **server) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')


def copy(template: str, database_url: str) -> float:
    """Make the database at this URL a copy of another on the same server (CREATE DATABASE
    … TEMPLATE): a seconds-long way to measure, and write to, a clinic seeded elsewhere
    without touching it. The template must have no open connections meanwhile."""
    config = environ.Env.db_url_config(database_url)
    name = config["NAME"]
    if not name.startswith(SAFE_PREFIX):
        raise SystemExit(f"Refusing to replace {name!r}: the bench only recreates databases named {SAFE_PREFIX}*.")
    import psycopg

    started = time.monotonic()
    server = {"host": config.get("HOST") or None, "port": config.get("PORT") or None, "user": config.get("USER")}
    with psycopg.connect(dbname="postgres", autocommit=True, password=config.get("PASSWORD") or None, **server) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return time.monotonic() - started


def seed(
    database_url: str, *, clients: int, seed: int, media_root: Path, history_years: int = HISTORY_YEARS
) -> dict[str, float]:
    """Seed a fresh database; the seconds each step took."""
    recreate(database_url)
    shutil.rmtree(media_root, ignore_errors=True)
    media_root.mkdir(parents=True)
    env = database_env(database_url, media_root)
    times = {"migrate": manage(["migrate", "--no-input", "-v0"], env)}
    times["seed_demo"] = manage(
        ["seed_demo", f"--clients={clients}", f"--seed={seed}", f"--history-years={history_years}", "-v0"], env
    )
    if is_postgres(database_url):
        code = "from django.db import connection; connection.cursor().execute('VACUUM ANALYZE')"
        times["vacuum_analyze"] = manage(["shell", "--no-imports", "-c", code], env)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--history-years", type=int, default=HISTORY_YEARS)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--media-root", type=Path, default=ROOT / ".bench" / "media")
    options = parser.parse_args()
    times = seed(
        options.database_url,
        clients=options.clients,
        seed=options.seed,
        media_root=options.media_root,
        history_years=options.history_years,
    )
    print(", ".join(f"{step} {seconds:.1f} s" for step, seconds in times.items()), f"({options.clients} clients)")


if __name__ == "__main__":
    main()
