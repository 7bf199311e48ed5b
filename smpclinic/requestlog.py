"""One log line per request, a request id on every line, JSON logs when asked.

What a line may hold is decided here, once: the method, the path with its secret parts
blanked, the status, the duration and the user's id. Never the query string (calendar
feed and other tokens travel in it), never a form field, never clinical text: a log is
read by whoever runs the server, who is not necessarily allowed to read the records.

The request id is taken from the proxy's `X-Request-ID` when it looks like one (nginx's
`$request_id`, so the proxy's and the app's lines can be matched) or made here. It is sent
back in the answer's `X-Request-ID`, added to every log line written while the request
runs (the traceback of an error included) and shown on the 500 page, so staff can quote it.
"""

from __future__ import annotations

import contextvars
import datetime
import json
import logging
import re
import time
import uuid

from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("smpclinic.requests")

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# Letters, digits and dashes only: the header comes from outside, and a line break or a
# quote in it would let a client write lines of its own into the log.
_REQUEST_ID = re.compile(r"[A-Za-z0-9-]{8,64}")

# URL parts that are a secret in themselves (an invitation link, a password-reset link, a
# calendar feed's address): a log line shows the route's shape, never the value. A URL
# argument is hidden when its name is one of these or contains one of the words.
SECRET_URL_PARTS = frozenset({"uidb64"})
SECRET_URL_WORDS = ("token", "secret", "key")
HIDDEN = "…"

REQUEST_FIELDS = ("method", "path", "status", "duration_ms", "user_id")


def request_id_from(request: HttpRequest) -> str:
    """The proxy's request id when it is well formed, else a new one."""
    offered = request.headers.get("X-Request-ID", "")
    if _REQUEST_ID.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


def loggable_path(request: HttpRequest) -> str:
    """The request's path, without its query string and with secret URL parts hidden."""
    path = request.path
    match = getattr(request, "resolver_match", None)
    if match is not None:
        for name, value in match.kwargs.items():
            if value and (name in SECRET_URL_PARTS or any(word in name for word in SECRET_URL_WORDS)):
                path = path.replace(str(value), HIDDEN)
    return path


class RequestLogMiddleware:
    """Give each request its id and, once answered, write its one line at INFO on
    `smpclinic.requests`. First in MIDDLEWARE (after the health checks) so that the
    duration covers the whole stack and an error page is counted like any answer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = request_id_from(request)
        token = current_request_id.set(request.request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request.request_id
            user = getattr(request, "user", None)
            fields = {
                "method": request.method,
                "path": loggable_path(request),
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "user_id": user.pk if user is not None and user.is_authenticated else None,
            }
            logger.info(
                "%(method)s %(path)s %(status)s %(duration_ms)sms user=%(user_id)s",
                fields,
                extra=fields,
            )
            return response
        finally:
            current_request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Put the id of the request being answered (or "-") on every record, for both formats."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (DJANGO_LOG_FORMAT=json), for a log collector: time, level,
    logger, message, request id, the request fields when the record is a request line,
    and the traceback of an error."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for field in REQUEST_FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
