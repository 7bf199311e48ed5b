"""Run jobs at the same moment, each on its own database connection.

On PostgreSQL the writes truly overlap and row locks or unique indexes decide; on SQLite
writers queue one after the other. Either way a test can assert that exactly one wins.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def race(*jobs: Callable) -> tuple[list, list[BaseException]]:
    """Run the jobs in threads released together; returns (results, exceptions raised)."""
    results, errors = [], []
    start = threading.Barrier(len(jobs))

    def run(job):
        try:
            start.wait(timeout=10)
            results.append(job())
        except BaseException as exc:  # reported to the test, which asserts on it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors
