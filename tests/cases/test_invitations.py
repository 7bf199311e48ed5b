"""Portal access: invitations (one-time links), password reset, and where clients land."""

from __future__ import annotations

import datetime
import hashlib
import re

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from cases.models import PortalInvitation
from cases.services.invitations import invitation_send
from smpclinic import roles
from smpclinic.models import ClinicSettings
from tests import factories
from tests.signin import signed_in

PORTAL = reverse("cases:portal_plan")
NEW_PASSWORD = "Softer-Hairline-2026"


def page_checks(html: str) -> None:
    """Every portal page: a title, one h1, headings in order, every visible field labelled."""
    assert re.search(r"<title>\s*\S.*?</title>", html, re.S)
    levels = [int(level) for level in re.findall(r"<h([1-6])[\s>]", html)]
    assert levels and levels[0] == 1 and levels.count(1) == 1, levels
    for before, after in zip(levels, levels[1:], strict=False):
        assert after <= before + 1, levels
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        if re.search(r'type="(hidden|submit|button)"', tag):
            continue
        field_id = re.search(r'\sid="([^"]+)"', tag).group(1)
        assert re.search(rf'<label\s+for="{field_id}"', html), tag


def _invite_url(client) -> str:
    return reverse("cases:client_invite", kwargs={"client_id": client.public_id})


def _link_in(message) -> str:
    return re.search(r"http://testserver(/invite/[^/\s]+/)", message.body).group(1)


@pytest.fixture
def new_client(db):
    return factories.ClientFactory(first_name="Carl", last_name="Cole", email="Carl.Cole@example.com")


def _send(as_staff, client) -> str:
    mail.outbox.clear()
    response = as_staff.post(_invite_url(client))
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:client_detail", kwargs={"client_id": client.public_id})
    assert len(mail.outbox) == 1
    return _link_in(mail.outbox[0])


# Sending -----------------------------------------------------------------------------------


def test_staff_invite_creates_the_login_and_mails_a_one_time_link(as_staff, staff_user, new_client):
    clinic = ClinicSettings.load()
    clinic.name = "Hairline Repair Clinic"
    clinic.save()
    link = _send(as_staff, new_client)

    new_client.refresh_from_db()
    user = new_client.user
    assert user.username == "carl.cole@example.com"
    assert user.email == "Carl.Cole@example.com"
    assert not user.has_usable_password()
    assert roles.is_client(user)
    message = mail.outbox[0]
    assert message.to == ["Carl.Cole@example.com"]
    assert message.from_email.startswith('"Hairline Repair Clinic" <') or message.from_email.startswith(
        "Hairline Repair Clinic <"
    )
    assert "Hairline Repair Clinic" in message.subject
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert link in html and "Hairline Repair Clinic" in html
    assert "carl.cole@example.com" in message.body  # the username
    invitation = PortalInvitation.objects.get(client=new_client)
    token = link.split("/")[2]
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in invitation.token_hash
    assert invitation.created_by == staff_user
    hours = (invitation.expires_at - invitation.created_at).total_seconds() / 3600
    assert round(hours) == 72


def test_client_page_offers_invite_then_resend(as_staff, new_client):
    detail = reverse("cases:client_detail", kwargs={"client_id": new_client.public_id})
    html = as_staff.get(detail).content.decode()
    assert "Invite to the portal" in html and "Not invited yet" in html
    _send(as_staff, new_client)
    html = as_staff.get(detail).content.decode()
    assert "Re-send invitation" in html
    assert "Carl.Cole@example.com" in html


def test_client_page_says_when_the_invitation_expired(as_staff, staff_user, new_client):
    detail = reverse("cases:client_detail", kwargs={"client_id": new_client.public_id})
    _send(as_staff, new_client)
    assert "the link works until" in as_staff.get(detail).content.decode()
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=73)):
        signed_in(staff_user, as_staff)  # idle logout would sign the staff member out meanwhile
        html = as_staff.get(detail).content.decode()
    assert "expired" in html and "re-send it" in html
    assert "the link works until" not in html


def test_invitation_is_refused_for_a_staff_e_mail_address(as_staff, staff_user):
    client = factories.ClientFactory(email=staff_user.email.upper())
    response = as_staff.post(_invite_url(client), follow=True)
    assert "belongs to a clinic staff login" in response.content.decode()
    assert not mail.outbox
    client.refresh_from_db()
    assert client.user is None
    assert not PortalInvitation.objects.exists()
    assert not roles.is_client(staff_user)


def test_invitation_is_refused_without_e_mail_or_for_an_archived_client(db, staff_user):
    from django.core.exceptions import ValidationError

    no_email = factories.ClientFactory(email="")
    with pytest.raises(ValidationError, match="e-mail address"):
        invitation_send(client=no_email, by=staff_user)
    archived = factories.ClientFactory()
    archived.archive(by=staff_user, reason="Moved abroad")
    with pytest.raises(ValidationError, match="archived"):
        invitation_send(client=archived, by=staff_user)
    assert not mail.outbox and not User.objects.filter(email__in=[archived.email]).exists()


def test_an_existing_client_login_is_reused(as_staff, client_a):
    user = client_a.user
    _send(as_staff, client_a)
    client_a.refresh_from_db()
    assert client_a.user == user
    assert User.objects.filter(groups__name=roles.CLIENTS).count() == 1


# Using the link ------------------------------------------------------------------------------


def test_happy_path_sets_the_password_logs_in_and_lands_in_the_portal(as_staff, anonymous, new_client):
    link = _send(as_staff, new_client)
    page = anonymous.get(link)
    html = page.content.decode()
    assert page.status_code == 200
    assert "carl.cole@example.com" in html
    page_checks(html)
    assert re.search(r'<label\s+for="id_new_password1"', html)

    response = anonymous.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == PORTAL
    new_client.refresh_from_db()
    assert int(anonymous.session[SESSION_KEY]) == new_client.user.pk
    assert new_client.user.check_password(NEW_PASSWORD)
    assert PortalInvitation.objects.get().used_at is not None
    assert anonymous.get(PORTAL).status_code == 200


def test_a_weak_password_is_refused_and_the_link_stays_valid(as_staff, anonymous, new_client):
    link = _send(as_staff, new_client)
    response = anonymous.post(link, {"new_password1": "short", "new_password2": "short"})
    assert response.status_code == 200
    assert "This password is too short" in response.content.decode()
    assert PortalInvitation.objects.get().used_at is None
    assert anonymous.get(link).status_code == 200


def test_a_used_link_is_refused(as_staff, anonymous, new_client):
    link = _send(as_staff, new_client)
    anonymous.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    stranger = type(anonymous)()
    response = stranger.get(link)
    assert response.status_code == 410
    html = response.content.decode()
    assert "already been used" in html
    page_checks(html)
    again = stranger.post(link, {"new_password1": "Another-Pass-2027", "new_password2": "Another-Pass-2027"})
    assert again.status_code == 410
    new_client.refresh_from_db()
    assert new_client.user.check_password(NEW_PASSWORD)
    assert SESSION_KEY not in stranger.session


def test_an_expired_link_is_refused(as_staff, anonymous, new_client):
    link = _send(as_staff, new_client)
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=72, minutes=1), tick=False):
        response = anonymous.get(link)
        assert response.status_code == 410
        assert "expired" in response.content.decode()
        assert "ask" in response.content.decode().lower()
        post = anonymous.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        assert post.status_code == 410
    new_client.refresh_from_db()
    assert not new_client.user.has_usable_password()
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=71), tick=False):
        assert anonymous.get(link).status_code == 200


def test_resending_revokes_the_earlier_link(as_staff, anonymous, new_client):
    first = _send(as_staff, new_client)
    second = _send(as_staff, new_client)
    assert first != second
    response = anonymous.get(first)
    assert response.status_code == 410
    assert "replaced" in response.content.decode()
    assert anonymous.post(first, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}).status_code == 410
    assert anonymous.get(second).status_code == 200
    assert PortalInvitation.objects.filter(revoked_at__isnull=False).count() == 1


@pytest.mark.parametrize("mangle", [lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), lambda t: t[:20], lambda t: "x"])
def test_a_tampered_link_is_refused(mangle, as_staff, anonymous, new_client):
    link = _send(as_staff, new_client)
    token = link.split("/")[2]
    bad = reverse("invitation_accept", kwargs={"token": mangle(token)})
    response = anonymous.get(bad)
    assert response.status_code == 404
    html = response.content.decode()
    assert "not valid" in html and "send you a new invitation" in html
    page_checks(html)
    assert anonymous.post(bad, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}).status_code == 404
    assert PortalInvitation.objects.get().used_at is None


def test_archiving_the_client_revokes_the_link(as_staff, staff_user, anonymous, new_client):
    link = _send(as_staff, new_client)
    new_client.refresh_from_db()  # sending the link saved the client (its login)
    new_client.archive(by=staff_user, reason="Duplicate record")
    assert anonymous.get(link).status_code == 410


# Password reset and landing ------------------------------------------------------------------


def test_login_page_links_to_password_reset(anonymous):
    html = anonymous.get(reverse("login")).content.decode()
    assert f'href="{reverse("password_reset")}"' in html


def test_password_reset_works_for_a_client(anonymous, client_a):
    form = anonymous.get(reverse("password_reset"))
    assert form.status_code == 200
    page_checks(form.content.decode())
    response = anonymous.post(reverse("password_reset"), {"email": client_a.user.email})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [client_a.user.email]
    clinic = ClinicSettings.load()
    assert mail.outbox[0].from_email.endswith(f"<{settings.DEFAULT_FROM_EMAIL}>")
    assert clinic.name in mail.outbox[0].from_email
    assert clinic.name in mail.outbox[0].body
    link = re.search(r"http://testserver(/password/reset/\S+/)", mail.outbox[0].body).group(1)
    confirm = anonymous.get(link, follow=True)
    assert confirm.status_code == 200
    page_checks(confirm.content.decode())
    set_url = confirm.redirect_chain[-1][0]
    done = anonymous.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done["Location"] == reverse("password_reset_complete")
    login = anonymous.post(reverse("login"), {"username": "client-a", "password": NEW_PASSWORD}, follow=True)
    assert login.redirect_chain[-1][0] == PORTAL


def test_password_reset_confirm_with_a_bad_link_says_so(anonymous):
    response = anonymous.get(reverse("password_reset_confirm", kwargs={"uidb64": "MQ", "token": "bad-token"}))
    assert response.status_code == 200
    assert "cannot be used" in response.content.decode()


def test_clients_land_in_the_portal(anonymous, client_a):
    response = anonymous.post(reverse("login"), {"username": "client-a", "password": "pw-for-tests"}, follow=True)
    assert response.redirect_chain == [(reverse("cases:home"), 302), (PORTAL, 302)]
    assert response.status_code == 200
    assert response.templates[0].name == "portal/plan.html"


def test_a_client_never_opens_a_staff_page_or_the_admin(as_client_a, client_a):
    # That a client is refused the staff pages (403) is tests/test_url_permissions.py's walk.
    assert as_client_a.get(reverse("cases:home"))["Location"] == PORTAL
    admin = as_client_a.get(reverse("admin:index"))
    assert admin.status_code == 302 and admin["Location"].startswith(reverse("admin:login"))
    assert "Site administration" not in as_client_a.get(admin["Location"]).content.decode()


# Plain-text e-mail parts are never HTML-escaped ------------------------------------------------

SPECIAL_NAME = "O'Neil & Co <Scalp>"


def test_invitation_subject_and_text_keep_the_clinic_name_as_typed(as_staff, new_client):
    clinic = ClinicSettings.load()
    clinic.name = SPECIAL_NAME
    clinic.save()
    new_client.preferred_name = "D'Arcy"
    new_client.save()
    _send(as_staff, new_client)
    message = mail.outbox[0]
    assert message.subject == f"Your client portal at {SPECIAL_NAME}"
    assert SPECIAL_NAME in message.body and "Hello D'Arcy," in message.body
    assert "&#x27;" not in message.body and "&amp;" not in message.body and "&lt;" not in message.body
    html, _mimetype = message.alternatives[0]
    assert "O&#x27;Neil &amp; Co &lt;Scalp&gt;" in html  # the HTML part escapes, as it must
    assert SPECIAL_NAME not in html


def test_password_reset_email_keeps_the_clinic_name_as_typed(anonymous, client_a):
    clinic = ClinicSettings.load()
    clinic.name = SPECIAL_NAME
    clinic.save()
    anonymous.post(reverse("password_reset"), {"email": client_a.user.email})
    [message] = mail.outbox
    assert message.subject == "Reset your password"
    assert SPECIAL_NAME in message.body
    assert "&#x27;" not in message.body and "&amp;" not in message.body
