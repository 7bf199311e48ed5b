"""How the app talks to PostgreSQL: short queries, so no JIT compilation of their plans;
reports' sorts in memory."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def settings_for(database_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DATABASE_URL=database_url, DJANGO_DEBUG="1", DJANGO_SETTINGS_MODULE="smpclinic.settings")
    # The settings module alone, as django.setup() reads it first: nothing but
    # smpclinic/settings.py sets DATABASES, and populating the apps (0.35 s of CPU, three
    # times here) would not change it.
    code = "from django.conf import settings; print(repr(settings.DATABASES['default'].get('OPTIONS', {})))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return ast.literal_eval(out.stdout)


def test_postgresql_connections_turn_jit_off_and_keep_options_from_the_url():
    options = settings_for("postgres://u@db.example:5432/clinic")["options"]
    assert "-c jit=off" in options and "-c work_mem=16MB" in options
    given = settings_for("postgres://u@db.example:5432/clinic?options=-c%20statement_timeout%3D5000")["options"]
    assert "statement_timeout=5000" in given and "jit=off" in given
    assert "options" not in settings_for("sqlite:////tmp/x.sqlite3")


def test_the_running_suite_database_answers_as_configured(db):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW jit")
            assert cursor.fetchone()[0] == "off"
            cursor.execute("SHOW work_mem")
            assert cursor.fetchone()[0] == "16MB"
    else:
        assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
