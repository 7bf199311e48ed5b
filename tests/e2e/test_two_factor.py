"""A manager's first sign-in sets up the authenticator app from the page, as a person
would: the key shown as text goes into the app, whose code is typed back."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories
from tests.e2e.conftest import PASSWORD, app_code_from_secret

pytestmark = pytest.mark.django_db(transaction=True)


def test_first_sign_in_of_a_manager_sets_up_the_app_and_shows_recovery_codes(page, live_server):
    manager = factories.ManagerUserFactory(username="e2e-manager")
    manager.set_password(PASSWORD)
    manager.save()
    refused = []  # the QR code is inline SVG: the Content Security Policy must not block it
    page.on("console", lambda message: "Content Security Policy" in message.text and refused.append(message.text))
    page.goto(live_server.url + reverse("login"))
    page.get_by_label("Username").fill("e2e-manager")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()

    assert "/account/two-factor/set-up/" in page.url
    qr = page.locator("#two-factor-qr svg")
    assert qr.is_visible() and qr.bounding_box()["width"] > 100
    secret = page.locator("#two-factor-secret").inner_text().strip()
    page.get_by_label("Code").fill(app_code_from_secret(secret))
    page.get_by_role("button", name="Turn on").click()
    page.wait_for_load_state()

    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10 and all(len(code) == 11 and code[5] == "-" for code in codes)
    page.goto(live_server.url + reverse("cases:review_queue"))
    assert page.url.endswith(reverse("cases:review_queue"))
    assert refused == []
