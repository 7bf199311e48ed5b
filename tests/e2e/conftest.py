"""Browser tests: Debian's Chromium driven by Playwright against Django's live server.

Run with `make e2e` (kept out of `make test`: it needs /usr/bin/chromium, which
`.ci/run` installs). Playwright's own browser download is not used.
"""

from __future__ import annotations

import os

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests
# make between page actions are synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest

from tests import factories

CHROMIUM = os.environ.get("SMP_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "e2e-password-1"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": FLAGS}


@pytest.fixture(scope="session")
def base_url():
    """No base URL: tests open the live server's own. pytest-playwright's fallback fixture of
    this name is an instance method, which pytest 9 warns about (PytestRemovedIn10Warning)."""
    return None


def app_code_from_secret(secret: str) -> str:
    """What an authenticator app shows now for the base32 `secret` the set-up page gives."""
    import base64

    from django_otp.oath import totp

    return f"{totp(base64.b32decode(secret)):06d}"


def second_step(at, user) -> None:
    """Managers and administrators pass a code after the password: set up the app from
    the page's key on the first sign-in, or type the app's code on later ones."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if "/account/two-factor/set-up/" in at.url:
        secret = at.locator("#two-factor-secret").inner_text().strip()
        at.get_by_label("Code").fill(app_code_from_secret(secret))
        at.get_by_role("button", name="Turn on").click()
    else:
        device = TOTPDevice.objects.get(user=user, confirmed=True)
        device.last_t = -1  # each sign-in of a test is a fresh window for the app
        device.save(update_fields=["last_t"])
        at.get_by_label("Code").fill(f"{totp(device.bin_key):06d}")
        at.get_by_role("button", name="Continue").click()
    at.wait_for_load_state()


@pytest.fixture
def log_in(page, live_server):
    """Sign in through the real login form, as a person would."""

    def _log_in(user, *, at=page):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        at.context.clear_cookies()  # start signed out, whoever was signed in before
        at.goto(f"{live_server.url}/login/")
        at.get_by_label("Username").fill(user.username)
        at.get_by_label("Password").fill(PASSWORD)
        at.get_by_role("button", name="Log in").click()
        at.wait_for_load_state()
        if "/account/two-factor/set-up/" in at.url or "/login/code/" in at.url:
            second_step(at, user)
        return at

    return _log_in


@pytest.fixture
def staff(transactional_db):
    return factories.StaffUserFactory(username="e2e-staff", first_name="Sam", last_name="Staff")


@pytest.fixture
def portal_client(transactional_db):
    user = factories.ClientUserFactory(username="e2e-client")
    return factories.ClientFactory(user=user, first_name="Alice", last_name="Able")
