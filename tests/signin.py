"""Signing a test client in as a person who has passed every step of sign-in, the second
factor included where their role needs one (tests/test_two_factor.py and tests/test_auth.py
go through the sign-in pages themselves).

The session is the one a completed sign-in leaves: the user, their backend and password
hash, the idle clock started, and the second step passed through a confirmed
authenticator device of the user's (made once per user) under django-otp's session key,
so the two-factor middleware lets it through on its own rule, not because a test removed
the step. It is written directly, as `Client.force_login` does, but without sending
`user_logged_in`: its receivers (the sign-in audit event, django-axes' attempt reset,
`last_login`, the second-step decision) are tested through the real sign-in, and running
them for each of the suite's ~1,300 sign-ins cost a sixteenth of its time."""

from __future__ import annotations

import time
from importlib import import_module

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.test import Client as HttpClient
from django.utils.crypto import get_random_string


def verified_device(user):
    """A confirmed device of the user's: theirs if they have one, else a new app."""
    from django_otp import devices_for_user
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = next(devices_for_user(user, confirmed=True), None)
    return device or TOTPDevice.objects.create(user=user, name="Test phone", confirmed=True)


def _backend() -> str:
    """The backend a password sign-in records: the first that can load a user (as
    `Client.force_login` picks it; django-axes' backend only refuses locked-out logins)."""
    from django.conf import settings
    from django.contrib.auth import load_backend

    return next(path for path in settings.AUTHENTICATION_BACKENDS if hasattr(load_backend(path), "get_user"))


def signed_in(user, http: HttpClient | None = None) -> HttpClient:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django_otp import DEVICE_ID_SESSION_KEY

    from smpclinic.middleware import LAST_SEEN, SIGNED_IN_AT
    from smpclinic.twofactor import NONE, PASSED, STEP_KEY, has_second_factor, required

    http = http or HttpClient()
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = _backend()
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[LAST_SEEN] = session[SIGNED_IN_AT] = int(time.time())
    if required(user) or has_second_factor(user):
        # As a right code leaves it (smpclinic.twofactor.check_code): verified, no step owed.
        session[DEVICE_ID_SESSION_KEY] = verified_device(user).persistent_id
        session[STEP_KEY] = PASSED
    else:
        session[STEP_KEY] = NONE
    # What `session.save()` writes for a new session, in one INSERT: `save()` first asks
    # whether its new key is taken, then inserts in a savepoint of its own. A key of 32
    # random characters is never taken, and the insert would refuse one that were.
    session._session_key = get_random_string(32, VALID_KEY_CHARS)
    session.get_model_class().objects.create(
        session_key=session.session_key,
        session_data=session.encode(dict(session.items())),
        expire_date=session.get_expiry_date(),
    )
    http.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    http.cookies[settings.SESSION_COOKIE_NAME].update(
        {"path": "/", "domain": settings.SESSION_COOKIE_DOMAIN, "secure": settings.SESSION_COOKIE_SECURE or None}
    )
    return http
