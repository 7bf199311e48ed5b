"""Signing a test client in as a person who has passed every step of sign-in, the second
factor included where their role needs one (tests/test_two_factor.py goes through the
code page itself).

The session is verified the way a real one is: through a confirmed authenticator device
of the user's (made once per user) and django-otp's session key for it, so the two-factor
middleware lets it through on its own rule, not because a test removed the step."""

from __future__ import annotations

from django.test import Client as HttpClient


def verified_device(user):
    """A confirmed device of the user's: theirs if they have one, else a new app."""
    from django_otp import devices_for_user
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = next(devices_for_user(user, confirmed=True), None)
    return device or TOTPDevice.objects.create(user=user, name="Test phone", confirmed=True)


def signed_in(user, http: HttpClient | None = None) -> HttpClient:
    from django_otp import DEVICE_ID_SESSION_KEY

    from smpclinic.twofactor import ENROL, PASSED, STEP_KEY, VERIFY

    http = http or HttpClient()
    http.force_login(user)
    session = http.session
    if session.get(STEP_KEY) in (ENROL, VERIFY):
        # As a right code leaves it (smpclinic.twofactor.check_code): verified, no step owed.
        session[DEVICE_ID_SESSION_KEY] = verified_device(user).persistent_id
        session[STEP_KEY] = PASSED
        session.save()
    return http
