"""The client portal on a phone (390 px wide): every page fits without horizontal
scrolling, and a client can sign a consent from start to finish with a thumb."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from cases import choices
from cases.models import Consent
from cases.services.invitations import invitation_send
from smpclinic.models import ClinicSettings
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=3, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


# A 60-character word with no break opportunity: only word-wrapping keeps it on screen.
LONG_WORD = ("Micropigmentation" * 4)[:60]


@pytest.fixture
def long_clinic_name(transactional_db):
    """The clinic's name, shown in the portal and invitation texts outside any card."""
    clinic = ClinicSettings.load()
    clinic.name = f"Clinic {LONG_WORD}"
    clinic.save()
    return clinic.name


@pytest.fixture
def journey(portal_client, long_clinic_name):
    """A client well into treatment: an approved plan (not yet accepted) with steps,
    sessions, shared photos, a signed consent; long unbroken words in the plan texts."""
    case = factories.CaseFactory(
        client=portal_client,
        goal=f"Natural hairline {LONG_WORD} at a short buzz cut.",
        expectations_agreed=f"Lighter, softer hairline in 4–6 sessions. {LONG_WORD}",
    )
    plan = factories.ApprovedPlanFactory(
        case=case,
        summary=f"Lighten the hairline with laser, then redesign it. {LONG_WORD}",
        aftercare=f"Keep the scalp dry for 4 days. {LONG_WORD}",
    )
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
    consent = factories.ConsentFactory(client=portal_client, text=factories.ConsentTextFactory())
    return {"case": case, "plan": plan, "consent": consent}


PAGES = [
    ("cases:portal_plan", {}),
    ("cases:portal_plan_accept", {"plan_id": "plan"}),
    ("cases:portal_appointments", {}),
    ("cases:portal_photos", {}),
    ("cases:portal_photo_compare", {}),
    ("cases:portal_consents", {}),
    ("cases:portal_consent_sign", {}),
    ("cases:portal_consent_detail", {"consent_id": "consent"}),
    ("cases:portal_consent_withdraw", {"consent_id": "consent"}),
    ("cases:portal_aftercare", {}),
]

# Pages a client sees before logging in (their status when not 200).
PUBLIC_PAGES = [
    ("password_reset", {}, 200),
    ("password_reset_done", {}, 200),
    ("password_reset_confirm", {"uidb64": "MQ", "token": "bad-token"}, 200),
    ("password_reset_complete", {}, 200),
    ("invitation_accept", {"token": "not-a-token-we-issued"}, 404),
]


def _check_page(page, url: str, status: int = 200) -> int | None:
    """Open `url`; assert its status, one h1 and a title; return the width if it scrolls sideways."""
    response = page.goto(url)
    assert response.status == status, (url, response.status)
    page.wait_for_load_state("load")
    assert page.locator("h1").count() == 1, url
    assert page.title().strip(), url
    width = page.evaluate("document.documentElement.scrollWidth")
    return width if width > PHONE["width"] else None


def test_every_portal_page_fits_a_phone(phone, live_server, log_in, portal_client, journey):
    log_in(portal_client.user, at=phone)
    assert phone.url.startswith(live_server.url + "/portal/"), "a client lands in the portal"
    too_wide = {}
    for name, kwargs in PAGES:
        url = live_server.url + reverse(name, kwargs={key: journey[value].public_id for key, value in kwargs.items()})
        width = _check_page(phone, url)
        if width:
            too_wide[name] = width
        if name in ("cases:portal_plan", "cases:portal_plan_accept"):
            assert phone.get_by_text(LONG_WORD, exact=False).first.is_visible(), name
    assert too_wide == {}


def test_invitation_and_password_reset_pages_fit_a_phone(phone, live_server, staff, journey):
    """Signed out: a valid invitation link from the real e-mail, a refused one, password reset."""
    invited = factories.ClientFactory(first_name=LONG_WORD, last_name="Cole", email="carl.cole@example.com")
    mail.outbox.clear()
    invitation_send(client=invited, by=staff, base_url=live_server.url)
    [message] = mail.outbox
    link = re.search(r"(/invite/[^/\s]+/)", message.body).group(1)
    too_wide = {}
    width = _check_page(phone, live_server.url + link)
    if width:
        too_wide["invitation_accept (valid)"] = width
    assert phone.get_by_label("New password", exact=False).first.is_visible()
    for name, kwargs, status in PUBLIC_PAGES:
        width = _check_page(phone, live_server.url + reverse(name, kwargs=kwargs), status)
        if width:
            too_wide[name] = width
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
    assert not Consent.objects.filter(client=portal_client, signed_in_clinic=False).exists()

    phone.get_by_label("Type your full name", exact=False).fill(portal_client.full_name)
    phone.get_by_label("I have read this consent", exact=False).check()
    phone.get_by_role("button", name="Sign this consent").click()
    phone.wait_for_load_state()
    consent = Consent.objects.get(client=portal_client, signed_in_clinic=False)
    assert consent.signed_name == portal_client.full_name
    assert "Chrome" in consent.signed_user_agent
    assert consent.signed_ip == "127.0.0.1"
