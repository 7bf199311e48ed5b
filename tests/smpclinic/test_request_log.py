"""One log line per request (method, path, status, duration, user id), never a query
string, a token or clinical text; JSON when asked; the request id on the 500 page."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import include, path

from smpclinic.requestlog import JsonFormatter, RequestIdFilter
from tests import factories
from tests.signin import signed_in


@login_not_required
def _fails(request):
    raise RuntimeError("the database went away")


@login_not_required
def _logs_the_client(request):
    logging.getLogger("cases").warning("looking at a record")
    return HttpResponse("ok")


urlpatterns = [
    path("test-fails/", _fails),
    path("test-logs/", _logs_the_client),
    path("", include("smpclinic.urls")),
]
handler500 = "smpclinic.views.server_error"


@pytest.fixture
def request_lines(caplog):
    caplog.set_level(logging.INFO, logger="smpclinic.requests")
    return lambda: [r for r in caplog.records if r.name == "smpclinic.requests"]


def test_one_line_per_request_with_the_user_and_without_the_query(db, request_lines):
    staff = factories.StaffUserFactory()
    client = factories.ClientFactory(first_name="Confidential", allergies="scalp infection in 2023")
    http = signed_in(staff)

    response = http.get(f"/clients/{client.public_id}/", {"q": "secret-feed-token"})

    (line,) = request_lines()
    assert (line.method, line.path, line.status, line.user_id) == (
        "GET",
        f"/clients/{client.public_id}/",
        response.status_code,
        staff.pk,
    )
    assert line.duration_ms >= 0
    assert line.request_id == response["X-Request-ID"]
    text = line.getMessage()
    assert text.startswith(f"GET /clients/{client.public_id}/ 200 ") and text.endswith(f"ms user={staff.pk}")
    for secret in ("secret-feed-token", "Confidential", "scalp"):
        assert secret not in text


def test_an_anonymous_request_has_no_user(db, request_lines):
    HttpClient().get("/login/")
    (line,) = request_lines()
    assert (line.path, line.status, line.user_id) == ("/login/", 200, None)


def test_tokens_in_the_path_are_hidden(db, request_lines):
    HttpClient().get("/invite/abcdef-invitation-token/")
    HttpClient().get("/password/reset/MQ/c3x9z2-0123456789abcdef/")

    paths = [line.path for line in request_lines()]
    assert paths == ["/invite/…/", "/password/reset/…/…/"]


def test_the_health_checks_are_not_logged(db, request_lines):
    HttpClient().get("/healthz")
    HttpClient().get("/readyz")
    assert request_lines() == []


def test_a_proxys_request_id_is_kept_and_a_forged_one_replaced(db, request_lines):
    kept = HttpClient().get("/login/", HTTP_X_REQUEST_ID="0f8a9e1c2b3d4e5f")
    forged = HttpClient().get("/login/", HTTP_X_REQUEST_ID='x" status=200\nGET /admin/')

    assert kept["X-Request-ID"] == "0f8a9e1c2b3d4e5f"
    assert re.fullmatch(r"[0-9a-f]{32}", forged["X-Request-ID"])
    assert [line.request_id for line in request_lines()] == ["0f8a9e1c2b3d4e5f", forged["X-Request-ID"]]


@override_settings(ROOT_URLCONF=__name__)
def test_the_500_page_shows_the_request_id_of_the_logged_error(db, caplog, request_lines):
    http = HttpClient(raise_request_exception=False)

    response = http.get("/test-fails/")

    request_id = response["X-Request-ID"]
    assert response.status_code == 500
    assert request_id in response.content.decode()
    assert "Something went wrong" in response.content.decode()
    (error,) = [r for r in caplog.records if r.name == "django.request"]
    assert error.request_id == request_id
    assert error.exc_info[0] is RuntimeError
    (line,) = request_lines()
    assert (line.status, line.request_id) == (500, request_id)


@override_settings(ROOT_URLCONF=__name__)
def test_json_lines_carry_the_request_id(db):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    loggers = [logging.getLogger("cases"), logging.getLogger("smpclinic.requests")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        response = HttpClient().get("/test-logs/?token=not-in-the-log")
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)

    app_line, request_line = (json.loads(line) for line in stream.getvalue().splitlines())
    request_id = response["X-Request-ID"]
    assert app_line["message"] == "looking at a record"
    assert (app_line["level"], app_line["logger"], app_line["request_id"]) == ("WARNING", "cases", request_id)
    assert "status" not in app_line
    assert request_line["request_id"] == request_id
    assert {key: request_line[key] for key in ("method", "path", "status", "user_id")} == {
        "method": "GET",
        "path": "/test-logs/",
        "status": 200,
        "user_id": None,
    }
    # The token is nowhere (a word a random request id cannot hold: "abc" once was in one).
    assert "not-in-the-log" not in stream.getvalue()
    assert request_line["time"].endswith("+00:00")


def test_json_lines_keep_the_traceback():
    try:
        raise ValueError("broken")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed", (), __import__("sys").exc_info()
        )
    RequestIdFilter().filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["request_id"] == "-"
    assert "ValueError: broken" in entry["exception"]


def test_an_unknown_log_format_stops_the_start():
    """A typo must not leave a server logging in a format the collector cannot read."""
    started = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "smpclinic.settings",
            "DJANGO_SECRET_KEY": "x",
            "DJANGO_LOG_FORMAT": "xml",
        },
        capture_output=True,
        text=True,
    )
    assert started.returncode == 1
    assert "DJANGO_LOG_FORMAT is 'text' or 'json'." in started.stderr
