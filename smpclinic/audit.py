"""The sign-in audit: every sign-in, failure, lockout, second-factor and password event
is written to `LoginEvent` (append-only) with who, from where and when."""

from __future__ import annotations

from django.http import HttpRequest

from smpclinic.http import client_ip
from smpclinic.models import LoginEvent


def login_event(kind: str, *, request: HttpRequest | None = None, user=None, username: str = "", by=None) -> LoginEvent:
    """Record one sign-in event. `username` is what was typed (kept for attempts on no
    account); `by` is who acted when it was not the user (a manager unlocking)."""
    if user is not None and getattr(user, "pk", None) is None:
        user = None  # an anonymous user
    meta = request.META if request is not None else {}
    return LoginEvent.objects.create(
        kind=kind,
        user=user,
        username=(username or getattr(user, "username", "") or "")[:254],
        by=by,
        ip=client_ip(request) if request is not None else None,
        user_agent=meta.get("HTTP_USER_AGENT", "")[:300],
    )
