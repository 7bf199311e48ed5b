"""The deployment files agree with each other and with the app: compose.yaml (which CI
cannot run: no Docker daemon) uses the commands and environment variables of the systemd
units; each variable is read by the settings (or gunicorn.conf.py) and documented; the
nginx example, gunicorn.conf.py and `make serve` say what docs/operations.md says."""

from __future__ import annotations

import json
import multiprocessing
import re
import runpy
import shlex
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.urls import reverse

ROOT = Path(settings.BASE_DIR)
DEPLOY = ROOT / "deploy"
VENV_BIN = "/srv/smpclinic/.venv/bin/"
APP_SERVICES = ("migrate", "web", "worker", "reminders")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def exec_start(unit: str) -> list[str]:
    """The unit's command, with the checkout's virtualenv path taken off the program."""
    (line,) = re.findall(r"^ExecStart=(.+)$", (DEPLOY / "systemd" / unit).read_text(), re.M)
    program, *args = shlex.split(line)
    return [program.removeprefix(VENV_BIN), *args]


def env_file_names() -> list[str]:
    """Every variable deploy/smpclinic.env sets or offers (commented out)."""
    text = (DEPLOY / "smpclinic.env").read_text()
    return re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, re.M)


def env_file_values() -> dict[str, str]:
    text = (DEPLOY / "smpclinic.env").read_text()
    return dict(re.findall(r"^([A-Z][A-Z0-9_]+)=(.*)$", text, re.M))


def test_compose_runs_the_commands_of_the_systemd_units(compose):
    services = compose["services"]

    assert services["web"]["command"] == exec_start("smpclinic-web.service") == ["gunicorn", "-c", "gunicorn.conf.py"]
    assert services["worker"]["command"] == exec_start("smpclinic-worker.service")
    assert exec_start("smpclinic-worker.service") == ["python", "manage.py", "db_worker"]
    reminders = " ".join(exec_start("smpclinic-reminders.service"))
    assert reminders == "python manage.py send_reminders"
    assert reminders in services["reminders"]["command"][-1]
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--no-input"]
    assert exec_start("smpclinic-backup.service") == ["python", "manage.py", "backup"]


def test_the_image_starts_what_compose_and_systemd_start(compose):
    dockerfile = (ROOT / "Dockerfile").read_text()
    (cmd,) = re.findall(r"^CMD (.+)$", dockerfile, re.M)

    assert json.loads(cmd) == compose["services"]["web"]["command"]
    assert "manage.py collectstatic --no-input" in dockerfile
    assert "pip install -r requirements.txt" in dockerfile


def test_every_app_container_has_the_same_variables_as_the_systemd_environment(compose):
    names = set(env_file_names())
    for service in APP_SERVICES:
        environment = compose["services"][service]["environment"]
        assert set(environment) - {"TZ"} == names, service


def test_every_variable_is_read_by_the_app_and_documented():
    read = (ROOT / "smpclinic" / "settings.py").read_text() + (ROOT / "gunicorn.conf.py").read_text()
    documented = (ROOT / "docs" / "operations.md").read_text()
    for name in env_file_names():
        assert f'"{name}"' in read, f"{name} is not read by settings.py or gunicorn.conf.py"
        assert f"`{name}`" in documented, f"{name} is not in docs/operations.md"


def test_every_unit_reads_the_one_environment_file_from_the_checkout():
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        text = unit.read_text()
        assert "EnvironmentFile=/etc/smpclinic/smpclinic.env" in text, unit.name
        assert "WorkingDirectory=/srv/smpclinic" in text, unit.name
        assert "User=smpclinic" in text, unit.name
    for timer in ("smpclinic-reminders.timer", "smpclinic-backup.timer"):
        assert "OnCalendar=" in (DEPLOY / "systemd" / timer).read_text()


def test_compose_checks_readiness_on_the_apps_own_url(compose):
    web = compose["services"]["web"]
    probe = " ".join(web["healthcheck"]["test"])
    assert f"http://127.0.0.1:8000{reverse('readyz')}" in probe
    assert web["environment"]["GUNICORN_BIND"] == "0.0.0.0:8000"
    for dependency in ("db", "redis", "minio"):
        assert dependency in compose["services"]
    assert web["environment"]["DJANGO_CACHE_URL"].startswith("redis://redis:6379/")
    assert web["environment"]["DATABASE_URL"].startswith("postgres://")
    assert web["environment"]["DJANGO_PHOTO_STORAGE"] == "s3"


def test_nginx_matches_the_app():
    conf = (DEPLOY / "nginx" / "smpclinic.conf").read_text()
    (log_format,) = re.findall(r"log_format smpclinic (.+?);", conf, re.S)
    (body_limit,) = re.findall(r"client_max_body_size (\d+)m;", conf)
    (upstream,) = re.findall(r"upstream smpclinic \{.*?server ([\d.:]+);", conf, re.S)

    # No query strings (tokens) in the proxy's log either.
    assert not re.search(r"\$(request|request_uri|args|query_string|is_args)\b", log_format)
    assert "$uri" in log_format and "$request_id" in log_format
    assert int(body_limit) * 1024 * 1024 >= settings.SMP_PHOTO_MAX_BYTES
    assert upstream == env_file_values()["GUNICORN_BIND"]
    assert "alias /srv/smpclinic/staticfiles/;" in conf  # STATIC_ROOT's default in the checkout
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Request-ID"):
        assert f"proxy_set_header {header} " in conf


def test_gunicorn_takes_its_workers_from_the_cpus(monkeypatch):
    for name in ("WEB_CONCURRENCY", "GUNICORN_BIND", "GUNICORN_ACCESS_LOG", "GUNICORN_FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))

    assert conf["workers"] == multiprocessing.cpu_count() * 2 + 1
    assert conf["bind"] == "127.0.0.1:8000"
    assert conf["timeout"] == 30
    assert conf["forwarded_allow_ips"] == "127.0.0.1"
    assert conf["accesslog"] is None  # the app's own request line is the access log
    assert "%(U)s" in conf["access_log_format"]
    assert not re.search(r"%\((r|q)\)s", conf["access_log_format"])  # the request line holds the query
    assert conf["control_socket_disable"] is True
    assert conf["wsgi_app"] == "smpclinic.wsgi:application"

    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("GUNICORN_BIND", "0.0.0.0:9000")
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert (conf["workers"], conf["bind"]) == (3, "0.0.0.0:9000")


def test_make_serve_is_production_like():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nserve: install\n", 1)[1].split("\n\n", 1)[0]

    assert "serve: export DJANGO_DEBUG = 0" in makefile
    assert "manage.py migrate --no-input" in recipe
    assert "manage.py collectstatic --no-input" in recipe
    assert "gunicorn -c gunicorn.conf.py" in recipe
    assert "manage.py db_worker" in recipe


def test_the_readme_says_how_to_run_it_in_production():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Running in production", 1)[1].split("\n## ", 1)[0]
    for step in ("make serve", "collectstatic", "gunicorn -c gunicorn.conf.py", "db_worker", "send_reminders"):
        assert step in section, step
