"""Facts about a request that depend on how the site is deployed."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The address of the person's browser, as recorded with a signature.

    Behind N reverse proxies (DJANGO_TRUSTED_PROXIES=N) REMOTE_ADDR is the nearest proxy;
    each proxy appends the address it saw to X-Forwarded-For, so the client is the N-th
    entry from the right. Entries further left were written by the client and are not
    trusted. With no proxies configured, X-Forwarded-For is ignored altogether.
    """
    proxies = settings.SMP_TRUSTED_PROXIES
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def site_url(request: HttpRequest) -> str:
    """The site's root address for links in e-mails: DJANGO_SITE_URL when set, else the request's."""
    return settings.SMP_SITE_URL or request.build_absolute_uri("/").rstrip("/")
