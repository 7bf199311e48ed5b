"""Client addresses and link roots behind reverse proxies."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from smpclinic.http import client_ip, site_url


def request(remote="10.0.0.2", forwarded=None, secure=False):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", secure=secure, **headers)


def test_without_proxies_the_forwarded_header_is_ignored(settings):
    settings.SMP_TRUSTED_PROXIES = 0
    assert client_ip(request(forwarded="6.6.6.6")) == "10.0.0.2"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the client wrote the left entry
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.7", "203.0.113.9"),
        (2, "203.0.113.9", "10.0.0.2"),  # fewer entries than proxies: fall back to the peer
    ],
)
def test_behind_proxies_the_nth_entry_from_the_right(settings, proxies, forwarded, expected):
    settings.SMP_TRUSTED_PROXIES = proxies
    assert client_ip(request(forwarded=forwarded)) == expected


def test_site_url_prefers_the_configured_address(settings):
    settings.SMP_SITE_URL = "https://clinic.example.org"
    assert site_url(request()) == "https://clinic.example.org"
    settings.SMP_SITE_URL = ""
    assert site_url(request(secure=True)) == "https://testserver"


def test_a_tls_proxy_header_makes_links_https(settings):
    settings.ALLOWED_HOSTS = ["clinic.example.org"]
    settings.SMP_SITE_URL = ""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    behind = RequestFactory().get("/", HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="clinic.example.org")
    assert site_url(behind) == "https://clinic.example.org"
