"""Limits on password-reset requests: per e-mail address and per client address.

django-axes guards password logins only; without this a reset form can be used to flood
one person's inbox or probe many addresses from one machine.
"""

from __future__ import annotations

import datetime
import hashlib
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render
from django.utils import timezone

from smpclinic.http import client_ip


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()
    return f"smpclinic:reset:{kind}:{digest}"


def _count(key: str, window: int) -> int:
    """Add one to the counter and return it; the window starts at the first request."""
    cache.add(key, 0, window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        return 1


def reset_rate_limited(view):
    """Refuse with 429 a reset request beyond the limits for that address or that IP."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method != "POST":
            return view(request, *args, **kwargs)
        window = settings.SMP_RESET_WINDOW_MINUTES * 60
        per_ip = _count(_key("ip", client_ip(request) or ""), window)
        per_email = _count(_key("email", request.POST.get("email", "")), window)
        if per_ip > settings.SMP_RESET_LIMIT_PER_IP or per_email > settings.SMP_RESET_LIMIT_PER_EMAIL:
            retry_at = timezone.now() + datetime.timedelta(seconds=window)
            response = render(
                request,
                "registration/password_reset_limited.html",
                {"minutes": settings.SMP_RESET_WINDOW_MINUTES, "retry_at": retry_at},
                status=429,
            )
            response["Retry-After"] = str(window)
            return response
        return view(request, *args, **kwargs)

    return wrapped
