"""Signing and withdrawing consents in the portal (cases.services.consents), and the
laser-consent rule in the staff workspace that a portal signature satisfies."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from cases.choices import ConsentKind, SessionStatus, Zone
from cases.models import Consent, LaserSession, ZoneLookup
from cases.services.consents import consent_sign, consent_withdraw
from cases.services.sessions import laser_session_save
from smpclinic.concurrency import StaleEdit
from tests import factories
from tests.formdata import form_data
from tests.helpers import frozen_at
from tests.signin import signed_in
from tests.threads import race

NOW = datetime.datetime(2026, 11, 25, 9, 0, tzinfo=datetime.UTC)
LONG_AGENT = "Mozilla/5.0 " + "x" * 700


frozen_clock = frozen_at(NOW)


@pytest.fixture
def laser_text(db):
    return factories.ConsentTextFactory(kind=ConsentKind.LASER_TREATMENT, version=1, body="LASER CONSENT BODY v1")


@pytest.fixture
def photo_text(db):
    return factories.ConsentTextFactory(kind=ConsentKind.PHOTO_CLINICAL, version=1, body="PHOTO CONSENT BODY")


def _sign_url(text) -> str:
    return f"{reverse('cases:portal_consent_sign')}?text={text.pk}"


def _post_sign(http, text, name, **extra):
    return http.post(
        _sign_url(text),
        {"signed_name": name, "agree": "on"},
        REMOTE_ADDR="203.0.113.7",
        HTTP_USER_AGENT=LONG_AGENT,
        **extra,
    )


# ---------------------------------------------------------------- listing and reading


def test_pending_list_shows_current_unsigned_versions(as_client_a, client_a, laser_text, photo_text):
    # v2 of the laser text supersedes v1, which client A signed: v2 waits for signature.
    factories.ConsentFactory(client=client_a, text=laser_text)
    v2 = factories.ConsentTextFactory(kind=ConsentKind.LASER_TREATMENT, version=2, title="Laser consent, 2026")
    html = as_client_a.get(reverse("cases:portal_consents")).content.decode()
    assert "Laser consent, 2026" in html
    assert f"?text={v2.pk}" in html
    assert f"?text={photo_text.pk}" in html
    assert f"?text={laser_text.pk}" not in html  # an older version is never offered
    # The signed v1 is listed under "Signed".
    assert "Version 1" in html


def test_sign_page_shows_full_versioned_text(as_client_a, laser_text):
    response = as_client_a.get(_sign_url(laser_text))
    assert response.status_code == 200
    html = response.content.decode()
    assert "LASER CONSENT BODY v1" in html
    assert "version 1" in html


def test_sign_page_without_text_offers_the_first_waiting(as_client_a, laser_text):
    html = as_client_a.get(reverse("cases:portal_consent_sign")).content.decode()
    assert "LASER CONSENT BODY v1" in html


def test_retired_or_unknown_text_is_404(as_client_a, laser_text):
    factories.ConsentTextFactory(kind=ConsentKind.LASER_TREATMENT, version=2)
    assert as_client_a.get(_sign_url(laser_text)).status_code == 404  # superseded by v2
    assert as_client_a.get(f"{reverse('cases:portal_consent_sign')}?text=999999").status_code == 404
    assert as_client_a.get(f"{reverse('cases:portal_consent_sign')}?text=abc").status_code == 404


# ---------------------------------------------------------------- signing


def test_sign_records_name_time_ip_and_agent(as_client_a, client_a, laser_text):
    response = _post_sign(as_client_a, laser_text, "  alice   ABLE ")
    consent = Consent.objects.get(client=client_a)
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:portal_consent_detail", kwargs={"consent_id": consent.public_id})
    assert consent.text == laser_text
    assert consent.signed_name == "alice ABLE"
    assert consent.signed_at == NOW
    assert consent.signed_ip == "203.0.113.7"
    assert consent.signed_user_agent == LONG_AGENT[:500]
    assert consent.signed_in_clinic is False
    assert consent.witnessed_by is None
    assert consent.is_in_force
    # The pending list no longer offers it.
    assert f"?text={laser_text.pk}" not in as_client_a.get(reverse("cases:portal_consents")).content.decode()


def test_preferred_name_also_signs(client_a, laser_text):
    client_a.preferred_name = "Ally"
    client_a.save()
    consent = consent_sign(client=client_a, text=laser_text, typed_name="Ally Able", ip="::1", user_agent="UA")
    assert consent.signed_name == "Ally Able"
    assert consent.signed_ip == "::1"


def test_wrong_name_is_a_form_error_and_nothing_is_saved(as_client_a, client_a, laser_text):
    response = _post_sign(as_client_a, laser_text, "Bob Baker")
    assert response.status_code == 200
    form = response.context["form"]
    assert "signed_name" in form.errors
    assert "Alice Able" in form.errors["signed_name"][0]
    assert not Consent.objects.exists()


@pytest.mark.parametrize("name", ["Alice", "Able", "Alice Ablex", ""])
def test_partial_names_do_not_sign(client_a, laser_text, name):
    with pytest.raises(ValidationError):
        consent_sign(client=client_a, text=laser_text, typed_name=name, ip=None, user_agent="")
    assert not Consent.objects.exists()


def test_agreement_box_is_required(as_client_a, laser_text):
    response = as_client_a.post(_sign_url(laser_text), {"signed_name": "Alice Able"})
    assert response.status_code == 200
    assert "agree" in response.context["form"].errors
    assert not Consent.objects.exists()


def test_second_signature_is_refused(as_client_a, client_a, laser_text):
    _post_sign(as_client_a, laser_text, "Alice Able")
    response = _post_sign(as_client_a, laser_text, "Alice Able")
    assert response.status_code == 200
    assert "Already signed" in response.content.decode()
    assert Consent.objects.filter(client=client_a).count() == 1
    with pytest.raises(ValidationError, match="already signed"):
        consent_sign(client=client_a, text=laser_text, typed_name="Alice Able", ip=None, user_agent="")


def test_bad_remote_addr_is_stored_empty(client_a, laser_text):
    consent = consent_sign(client=client_a, text=laser_text, typed_name="Alice Able", ip="not-an-ip", user_agent="")
    assert consent.signed_ip is None


def test_archived_client_cannot_sign(client_a, laser_text, manager_user):
    client_a.archive(by=manager_user, reason="left the clinic")
    client_a.save()
    with pytest.raises(ValidationError, match="archived"):
        consent_sign(client=client_a, text=laser_text, typed_name="Alice Able", ip=None, user_agent="")


# ---------------------------------------------------------------- viewing and withdrawing


def test_view_and_withdraw_signed_consent(as_client_a, client_a, laser_text, as_staff):
    _post_sign(as_client_a, laser_text, "Alice Able")
    consent = Consent.objects.get(client=client_a)
    detail = reverse("cases:portal_consent_detail", kwargs={"consent_id": consent.public_id})
    html = as_client_a.get(detail).content.decode()
    assert "LASER CONSENT BODY v1" in html and "Alice Able" in html and "Withdraw this consent" in html

    withdraw = reverse("cases:portal_consent_withdraw", kwargs={"consent_id": consent.public_id})
    assert as_client_a.get(withdraw).status_code == 200
    later = NOW + datetime.timedelta(hours=2)
    with time_machine.travel(later, tick=False):
        signed_in(client_a.user, as_client_a)  # two hours on, the idle logout asks to sign in again
        response = as_client_a.post(withdraw, {"reason": "I changed my mind."})
    assert response.status_code == 302 and response["Location"] == detail
    consent.refresh_from_db()
    assert consent.withdrawn_at == later
    assert consent.withdrawn_reason == "I changed my mind."
    assert "Withdrawn on" in as_client_a.get(detail).content.decode()

    # Staff see the withdrawal on the client page at once.
    staff_html = as_staff.get(reverse("cases:client_detail", kwargs={"client_id": client_a.public_id})).content.decode()
    assert "Withdrawn" in staff_html
    assert "I changed my mind." in staff_html
    assert "online" in staff_html

    # Withdrawn consents can be signed again (the current version waits once more).
    assert f"?text={laser_text.pk}" in as_client_a.get(reverse("cases:portal_consents")).content.decode()
    # A second withdrawal changes nothing.
    with time_machine.travel(later + datetime.timedelta(hours=1), tick=False):
        signed_in(client_a.user, as_client_a)
        as_client_a.post(withdraw, {"reason": "again"})
    consent.refresh_from_db()
    assert consent.withdrawn_at == later and consent.withdrawn_reason == "I changed my mind."


def test_withdraw_without_reason(client_a, laser_text):
    consent = factories.ConsentFactory(client=client_a, text=laser_text)
    withdrawn = consent_withdraw(consent=consent, by=client_a.user, reason="   ")
    assert withdrawn.withdrawn_at == NOW and withdrawn.withdrawn_reason == ""
    with pytest.raises(ValidationError, match="already withdrawn"):
        consent_withdraw(consent=consent, by=client_a.user, reason="")


def test_another_client_cannot_withdraw_in_the_service(client_a, client_b, laser_text):
    consent = factories.ConsentFactory(client=client_a, text=laser_text)
    with pytest.raises(ValidationError):
        consent_withdraw(consent=consent, by=client_b.user, reason="")
    consent.refresh_from_db()
    assert consent.is_in_force


def test_client_b_gets_404_for_client_a_consents(as_client_b, client_a, laser_text):
    consent = factories.ConsentFactory(client=client_a, text=laser_text)
    for name in ("cases:portal_consent_detail", "cases:portal_consent_withdraw"):
        url = reverse(name, kwargs={"consent_id": consent.public_id})
        assert as_client_b.get(url).status_code == 404
    withdraw = reverse("cases:portal_consent_withdraw", kwargs={"consent_id": consent.public_id})
    assert as_client_b.post(withdraw, {"reason": "x"}).status_code == 404
    consent.refresh_from_db()
    assert consent.is_in_force
    assert str(consent.public_id) not in as_client_b.get(reverse("cases:portal_consents")).content.decode()


# ---------------------------------------------------------------- the laser-consent rule


def _laser(case, technician, when) -> LaserSession:
    return LaserSession(
        case=case,
        technician=technician,
        scheduled_at=when,
        status=SessionStatus.SCHEDULED,
        wavelength_nm=1064,
        fluence_j_cm2=Decimal("3.00"),
        spot_size_mm=Decimal("4.0"),
        passes=1,
    )


def test_portal_consent_satisfies_the_laser_rule_and_withdrawal_refuses(
    as_client_a, client_a, laser_text, staff_user, as_staff
):
    case = factories.CaseFactory(client=client_a)
    technician = factories.TechnicianFactory()
    zones = list(ZoneLookup.objects.filter(code=Zone.FRONTAL_HAIRLINE))
    tomorrow = timezone.now() + datetime.timedelta(days=1)

    # Without consent the rule refuses.
    with pytest.raises(ValidationError, match="no signed laser treatment consent"):
        laser_session_save(session=_laser(case, technician, tomorrow), zones=zones, by=staff_user)

    # Signed in the portal: the staff booking goes through.
    _post_sign(as_client_a, laser_text, "Alice Able")
    saved = laser_session_save(session=_laser(case, technician, tomorrow), zones=zones, by=staff_user)
    assert saved.session.pk is not None
    workspace = as_staff.get(reverse("cases:case_detail", kwargs={"case_id": case.public_id}))
    assert workspace.context["case"].has_laser_consent is True

    # Withdrawn in the portal: the next booking is refused.
    consent = Consent.objects.get(client=client_a)
    withdraw = reverse("cases:portal_consent_withdraw", kwargs={"consent_id": consent.public_id})
    assert as_client_a.post(withdraw, {"reason": ""}).status_code == 302
    in_two_days = timezone.now() + datetime.timedelta(days=2)
    with pytest.raises(ValidationError, match="no signed laser treatment consent"):
        laser_session_save(session=_laser(case, technician, in_two_days), zones=zones, by=staff_user)
    assert LaserSession.objects.filter(case=case).count() == 1
    workspace = as_staff.get(reverse("cases:case_detail", kwargs={"case_id": case.public_id}))
    assert workspace.context["case"].has_laser_consent is False


def test_withdrawn_consent_refuses_through_the_staff_view(as_client_a, client_a, laser_text, as_staff):
    case = factories.CaseFactory(client=client_a)
    technician = factories.TechnicianFactory()
    consent = factories.ConsentFactory(client=client_a, text=laser_text, signed_in_clinic=False)
    consent_withdraw(consent=consent, by=client_a.user, reason="")
    url = reverse("cases:laser_session_create", kwargs={"case_id": case.public_id})
    local = timezone.localtime(timezone.now() + datetime.timedelta(days=1))
    data = {
        "scheduled_at": local.strftime("%Y-%m-%dT%H:%M"),
        "status": SessionStatus.SCHEDULED,
        "technician": technician.pk,
        "wavelength_choice": "1064",
        "wavelength_other": "",
        "pulse_domain": "ps",
        "pulse_width": "450",
        "spot_size_mm": "4",
        "fluence_j_cm2": "3.5",
        "repetition_rate_hz": "5",
        "passes": "1",
        "zones": [z.pk for z in ZoneLookup.objects.filter(code=Zone.FRONTAL_HAIRLINE)],
    }
    response = as_staff.post(url, data)
    assert response.status_code == 200
    assert "no signed laser treatment consent" in response.content.decode()
    assert not LaserSession.objects.filter(case=case).exists()


# ---------------------------------------------------------------- one name rule with plans


@pytest.mark.parametrize("typed", ["ALICE  ABLE", "Ally Able", "ａｌｉｃｅ able"])
def test_the_portal_signs_with_any_accepted_form_of_the_name(as_client_a, client_a, laser_text, typed):
    client_a.preferred_name = "Ally"
    client_a.save()
    response = _post_sign(as_client_a, laser_text, typed)
    assert response.status_code == 302
    consent = Consent.objects.get(client=client_a)
    assert consent.signed_name == " ".join(typed.split())


@pytest.mark.parametrize(
    "typed", ["Alice Able", "ally  ABLE", "ａｌｉｃｅ able", "Alice", "Ally", "Alice Ablex", "Bob Baker", "Able Alice"]
)
def test_consent_and_plan_accept_share_one_name_rule(client_a, laser_text, staff_user, typed):
    """A consent and a plan acceptance take or refuse the same typed names: the ones
    `signature_matches` takes. (Comparing the services' names for the function proves
    nothing: a copy of the rule under another name would pass.)"""
    from cases.services import plans
    from cases.services.clients import signature_matches

    client_a.preferred_name = "Ally"
    client_a.save()
    plan = factories.ApprovedPlanFactory(case=factories.CaseFactory(client=client_a))

    def takes(sign) -> bool:
        try:
            sign()
        except ValidationError:
            return False
        return True

    consent_takes = takes(
        lambda: consent_sign(client=client_a, text=laser_text, typed_name=typed, ip=None, user_agent="")
    )
    plan_takes = takes(lambda: plans.plan_accept(plan=plan, name=typed, by=staff_user, in_clinic=True))
    assert consent_takes == plan_takes == signature_matches(client_a, typed)


def test_another_clients_name_does_not_sign_in_the_portal(as_client_a, client_a, client_b, laser_text):
    response = _post_sign(as_client_a, laser_text, client_b.full_name)
    assert response.status_code == 200
    assert "signed_name" in response.context["form"].errors
    assert not Consent.objects.exists()


# ---------------------------------------------------------------- one signing function, in the clinic too


def _record_url(client) -> str:
    return reverse("cases:consent_record", kwargs={"client_id": client.public_id})


def _in_clinic(http, client, text, name, **extra):
    data = form_data(http.get(_record_url(client)).content, text=str(text.pk), signed_name=name, signed_in_clinic="on")
    return data, http.post(_record_url(client), data, **extra)


def test_there_is_one_signing_function():
    from cases.services import clients, consents

    assert not hasattr(clients, "consent_record_in_clinic")
    assert consents.consent_sign.__module__ == "cases.services.consents"


@pytest.mark.parametrize("name", ["Dom", "Dominic", "Doe", "Dominic Doex", "Bob Baker"])
def test_in_clinic_a_partial_name_does_not_sign(as_staff, laser_text, name):
    """The in-clinic form took "Dom" as Dominic Doe's full name; the portal never did."""
    dominic = factories.ClientFactory(first_name="Dominic", last_name="Doe")
    _, response = _in_clinic(as_staff, dominic, laser_text, name)
    assert response.status_code == 200
    errors = response.context["form"].errors["signed_name"]
    assert "first and last name as the clinic has them: Dominic Doe" in errors[0]
    assert not Consent.objects.exists()


@pytest.mark.parametrize("typed", ["dominic  DOE", "Dom Doe", "ｄｏｍｉｎｉｃ doe"])
def test_in_clinic_the_name_rule_is_the_portals(as_staff, staff_user, laser_text, typed):
    dominic = factories.ClientFactory(first_name="Dominic", last_name="Doe", preferred_name="Dom")
    _, response = _in_clinic(as_staff, dominic, laser_text, typed)
    assert response.status_code == 302
    consent = Consent.objects.get(client=dominic)
    assert consent.signed_name == " ".join(typed.split())
    assert consent.signed_in_clinic and consent.witnessed_by == staff_user


def test_in_clinic_records_address_and_browser_as_the_portal_does(as_staff, client_a, laser_text):
    """An address that does not parse is stored empty (it used to fail the form), and the
    browser is cut to the field's length, the same as online."""
    _, response = _in_clinic(
        as_staff, client_a, laser_text, "Alice Able", REMOTE_ADDR="tablet-7", HTTP_USER_AGENT=LONG_AGENT
    )
    assert response.status_code == 302
    in_clinic = Consent.objects.get(client=client_a)
    assert in_clinic.signed_ip is None
    assert in_clinic.signed_user_agent == LONG_AGENT[:500]
    online = consent_sign(
        client=client_a,
        text=factories.ConsentTextFactory(kind=ConsentKind.PHOTO_CLINICAL),
        typed_name="Alice Able",
        ip="tablet-7",
        user_agent=LONG_AGENT,
    )
    assert (online.signed_ip, online.signed_user_agent) == (in_clinic.signed_ip, in_clinic.signed_user_agent)


def test_in_clinic_ipv6_is_stored_normalised(as_staff, client_a, laser_text):
    _, response = _in_clinic(as_staff, client_a, laser_text, "Alice Able", REMOTE_ADDR=" 2001:DB8::0:1 ")
    assert response.status_code == 302
    assert Consent.objects.get(client=client_a).signed_ip == "2001:db8::1"


# ---------------------------------------------------------------- double submit and races


def test_posting_the_same_in_clinic_form_twice_records_one_consent(as_staff, client_a, laser_text):
    data, first = _in_clinic(as_staff, client_a, laser_text, "Alice Able")
    assert data["submission_token"]
    second = as_staff.post(_record_url(client_a), data, follow=True)
    assert first.status_code == 302
    assert second.redirect_chain[-1][0] == reverse("cases:client_detail", kwargs={"client_id": client_a.public_id})
    assert "This consent was already recorded." in second.content.decode()
    assert Consent.objects.filter(client=client_a).count() == 1


def _browsers(user, n=4):
    from django.test import Client as HttpClient

    browsers = [HttpClient() for _ in range(n)]
    for browser in browsers:
        signed_in(user, browser)
    return browsers


@pytest.mark.django_db(transaction=True)
def test_four_parallel_posts_of_one_in_clinic_form_record_one_consent(staff_user, client_a, laser_text):
    browsers = _browsers(staff_user)
    url = _record_url(client_a)
    data = form_data(
        browsers[0].get(url).content, text=str(laser_text.pk), signed_name="Alice Able", signed_in_clinic="on"
    )

    results, errors = race(*[lambda b=b: b.post(url, data).status_code for b in browsers])

    assert errors == []
    assert results == [302] * 4
    assert Consent.objects.filter(client=client_a).count() == 1


@pytest.mark.django_db(transaction=True)
def test_four_in_clinic_forms_posted_at_once_record_one_consent(staff_user, client_a, laser_text):
    """Four separate forms (four tokens) for the same signature: the client row lock lets
    one through; the others are told it is already signed."""
    browsers = _browsers(staff_user)
    url = _record_url(client_a)
    forms = [
        form_data(b.get(url).content, text=str(laser_text.pk), signed_name="Alice Able", signed_in_clinic="on")
        for b in browsers
    ]

    def post(browser, data):
        response = browser.post(url, data)
        return response.status_code, response.content.decode() if response.status_code == 200 else ""

    results, errors = race(*[lambda b=b, d=d: post(b, d) for b, d in zip(browsers, forms, strict=True)])

    assert errors == []
    assert sorted(code for code, _ in results) == [200, 200, 200, 302]
    for code, html in results:
        if code == 200:
            assert "Alice Able has already signed “Laser treatment consent” (version 1)" in html
    assert Consent.objects.filter(client=client_a).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_signature_that_races_past_the_lock_gets_the_same_message(client_a, laser_text, staff_user):
    """Another writer that does not lock the client row (the admin, an import) inserts the
    same signature and commits while ours is under way: the database's one-in-force
    constraint refuses ours, with the message the check before it gives."""
    inserted, release = threading.Event(), threading.Event()

    def other_writer():
        with transaction.atomic():
            factories.ConsentFactory(client=client_a, text=laser_text)
            inserted.set()
            release.wait(timeout=10)
        return "committed"

    def ours():
        inserted.wait(timeout=10)
        threading.Timer(0.5, release.set).start()
        return consent_sign(
            client=client_a, text=laser_text, typed_name="Alice Able", ip=None, user_agent="", witnessed_by=staff_user
        )

    results, errors = race(other_writer, ours)

    assert results == ["committed"]
    assert len(errors) == 1 and isinstance(errors[0], ValidationError), errors
    assert errors[0].messages == [
        "Alice Able has already signed “Laser treatment consent” (version 1) and it has not been withdrawn."
    ]
    with pytest.raises(ValidationError) as sequential:
        consent_sign(
            client=client_a, text=laser_text, typed_name="Alice Able", ip=None, user_agent="", witnessed_by=staff_user
        )
    assert sequential.value.messages == errors[0].messages
    assert Consent.objects.filter(client=client_a).count() == 1


# ---------------------------------------------------------------- withdrawal is optimistic-locked


def test_a_stale_withdraw_form_is_refused(as_client_a, client_a, laser_text):
    consent = factories.ConsentFactory(client=client_a, text=laser_text)
    url = reverse("cases:portal_consent_withdraw", kwargs={"consent_id": consent.public_id})
    data = form_data(as_client_a.get(url).content, reason="I changed my mind.")
    assert data["lock_version"] == str(consent.lock_version)

    # Meanwhile the clinic corrects the record of the signature.
    consent.refresh_from_db()
    consent.signed_user_agent = "Clinic tablet (corrected)"
    consent.save()

    response = as_client_a.post(url, data)
    assert response.status_code == 200
    assert "after you opened this form, so nothing was saved" in " ".join(response.context["form"].non_field_errors())
    consent.refresh_from_db()
    assert consent.is_in_force

    # The form shown again carries the new version: withdrawing now works.
    again = form_data(response.content)
    assert again["lock_version"] == str(consent.lock_version) and again["reason"] == "I changed my mind."
    assert as_client_a.post(url, again).status_code == 302
    consent.refresh_from_db()
    assert not consent.is_in_force and consent.withdrawn_reason == "I changed my mind."


def test_the_withdraw_service_refuses_a_stale_copy(client_a, laser_text):
    consent = factories.ConsentFactory(client=client_a, text=laser_text)
    stale = Consent.objects.get(pk=consent.pk)
    consent.signed_user_agent = "corrected"
    consent.save()
    with pytest.raises(StaleEdit):
        consent_withdraw(consent=stale, by=client_a.user, reason="")
    withdrawn = consent_withdraw(consent=Consent.objects.get(pk=consent.pk), by=client_a.user, reason="")
    with pytest.raises(ValidationError, match="already withdrawn"):
        consent_withdraw(consent=stale, by=client_a.user, reason="")
    assert withdrawn.withdrawn_at == NOW
