"""Facts about a request that depend on how the site is deployed."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


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


def normalised_ip(address: str | None) -> str | None:
    """An address as the records store it: normalised ("2001:db8::1"), or None when it
    does not parse. A proxy may send "unknown"; PostgreSQL's inet column refuses what
    SQLite would keep as text; neither may stop a signature or a page being recorded."""
    try:
        return str(ipaddress.ip_address((address or "").strip()))
    except ValueError:
        return None


def site_url(request: HttpRequest) -> str:
    """The site's root address for links in e-mails: DJANGO_SITE_URL when set, else the request's."""
    return settings.SMP_SITE_URL or request.build_absolute_uri("/").rstrip("/")


def safe_next(request: HttpRequest, url: str | None) -> str | None:
    """The `next=` page to return to when it is a plain path on this site (starting with
    one "/", no spaces or control characters), else None: another site, a scheme, or text
    `redirect()` would try to read as a URL name is ignored, and the caller's own page used."""
    if not url or not url.startswith("/") or url.startswith("//"):
        return None
    if any(c.isspace() or ord(c) < 32 for c in url):
        return None
    if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return None
