"""A server process is set up for a long life when it loads the WSGI application: the
views imported before the first visitor, the cycle collector running less often and
leaving what is loaded at start alone (smpclinic/collector.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from smpclinic import collector

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, json, sys
before = gc.get_threshold()
import smpclinic.wsgi
print(json.dumps({
    "before": before,
    "after": gc.get_threshold(),
    "frozen": gc.get_freeze_count(),
    "views": "cases.views.workspace" in sys.modules and "cases.views.home" in sys.modules,
}))
"""


def test_a_worker_loading_the_application_imports_the_views_and_tunes_the_collector():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "smpclinic.settings"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=60
    )
    state = json.loads(done.stdout.strip().splitlines()[-1])

    assert tuple(state["before"]) == (700, 10, 10)
    assert tuple(state["after"]) == collector.THRESHOLDS
    assert state["frozen"] > 10_000
    assert state["views"]
