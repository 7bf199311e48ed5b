"""Signing a test client in as a person who has passed every step of sign-in, the second
factor included where their role needs one (tests/test_two_factor.py goes through the
code page itself)."""

from __future__ import annotations

from django.test import Client as HttpClient


def signed_in(user, http: HttpClient | None = None) -> HttpClient:
    from smpclinic.twofactor import STEP_KEY

    http = http or HttpClient()
    http.force_login(user)
    session = http.session
    if session.pop(STEP_KEY, None):
        session.save()
    return http
