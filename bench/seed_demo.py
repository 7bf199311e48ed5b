"""Time `manage.py seed_demo` on a fresh database.

    .venv/bin/python bench/seed_demo.py                      # 100 000 clients, SQLite in a temp dir
    .venv/bin/python bench/seed_demo.py --clients 20000 --seed 2
    .venv/bin/python bench/seed_demo.py --database-url postgres://postgres@127.0.0.1:5432/seed_bench

The database named by --database-url must exist and be empty; a SQLite file and the
media folder are made in a temporary directory and removed afterwards. Prints the time
of each step and the command's own row counts.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(args: list[str], env: dict[str, str]) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, check=True)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary directory")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="seed-demo-bench-") as tmp:
        env = {
            **os.environ,
            "DATABASE_URL": options.database_url or f"sqlite:///{tmp}/bench.sqlite3",
            "DJANGO_MEDIA_ROOT": f"{tmp}/media",
            "DJANGO_DEBUG": os.environ.get("DJANGO_DEBUG", "1"),
        }
        migrate = run(["migrate", "--no-input", "-v0"], env)
        seed = run(["seed_demo", f"--clients={options.clients}", f"--seed={options.seed}"], env)
    print(f"\nmigrate {migrate:.1f} s, seed_demo {seed:.1f} s ({options.clients} clients)")


if __name__ == "__main__":
    main()
