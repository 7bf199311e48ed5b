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
        return at

    return _log_in


@pytest.fixture
def staff(transactional_db):
    return factories.StaffUserFactory(username="e2e-staff", first_name="Sam", last_name="Staff")


@pytest.fixture
def portal_client(transactional_db):
    user = factories.ClientUserFactory(username="e2e-client")
    return factories.ClientFactory(user=user, first_name="Alice", last_name="Able")
