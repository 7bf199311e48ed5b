"""The client portal on a phone (390 px wide): every page fits without horizontal
scrolling, and a client can sign a consent from start to finish with a thumb."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import choices
from cases.models import Consent
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=3, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def journey(portal_client):
    """A client well into treatment: an approved plan with steps, sessions, shared photos."""
    case = factories.CaseFactory(client=portal_client, expectations_agreed="Lighter, softer hairline in 4–6 sessions.")
    plan = factories.ApprovedPlanFactory(case=case)
    for order in (1, 2, 3):
        factories.PlanStepFactory(plan=plan, order=order)
    factories.LaserSessionFactory(
        case=case,
        notes_for_client="Some redness is normal for a few days; a long explanatory sentence to test wrapping.",
    )
    factories.FollowUpFactory(case=case)
    for kind, day in ((choices.PhotoKind.BEFORE, 200), (choices.PhotoKind.AFTER, 10)):
        factories.PhotoFactory(
            case=case, kind=kind, shared_with_client=True, taken_on=timezone.localdate() - datetime.timedelta(days=day)
        )
    factories.ConsentTextFactory(kind=choices.ConsentKind.PHOTO_CLINICAL, version=1)
    return case


PAGES = [
    "cases:portal_plan",
    "cases:portal_appointments",
    "cases:portal_photos",
    "cases:portal_photo_compare",
    "cases:portal_consents",
    "cases:portal_consent_sign",
    "cases:portal_aftercare",
]


def test_every_portal_page_fits_a_phone(phone, live_server, log_in, portal_client, journey):
    log_in(portal_client.user, at=phone)
    assert phone.url.startswith(live_server.url + "/portal/"), "a client lands in the portal"
    too_wide = {}
    for name in PAGES:
        response = phone.goto(live_server.url + reverse(name))
        assert response.status == 200, name
        phone.wait_for_load_state("load")
        width = phone.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[name] = width
        assert phone.locator("h1").count() == 1, name
    assert too_wide == {}


def test_signing_a_consent_on_a_phone(phone, live_server, log_in, portal_client, journey):
    log_in(portal_client.user, at=phone)
    phone.goto(live_server.url + reverse("cases:portal_consents"))
    phone.get_by_role("link", name="Read and sign", exact=False).first.click()
    phone.wait_for_load_state()
    phone.get_by_label("Type your full name", exact=False).fill("nobody in particular")
    phone.get_by_label("I have read this consent", exact=False).check()
    phone.get_by_role("button", name="Sign this consent").click()
    phone.wait_for_load_state()
    assert phone.locator(".invalid-feedback, .errorlist").first.is_visible()
    assert not Consent.objects.filter(client=portal_client).exists()

    phone.get_by_label("Type your full name", exact=False).fill(portal_client.full_name)
    phone.get_by_label("I have read this consent", exact=False).check()
    phone.get_by_role("button", name="Sign this consent").click()
    phone.wait_for_load_state()
    consent = Consent.objects.get(client=portal_client)
    assert consent.signed_name == portal_client.full_name
    assert "Chrome" in consent.signed_user_agent
    assert consent.signed_ip == "127.0.0.1"
