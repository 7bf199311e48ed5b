"""Portal invitations: a client's login, and a one-time link to set its password.

Only the SHA-256 of a token is stored (PortalInvitation.token_hash); the e-mail holds
the one copy of the token. A link is good once, until it expires
(SMP_INVITATION_VALID_HOURS), and only while it is the client's newest: sending a new
invitation revokes the earlier open ones.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from cases.models import Client, PortalInvitation
from smpclinic import roles
from smpclinic.mail import LOGO_SRC, attach_logo, clinic_sender
from smpclinic.models import ClinicSettings

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class LinkState(StrEnum):
    VALID = "valid"
    UNKNOWN = "unknown"  # never issued, mistyped or tampered with
    USED = "used"
    REVOKED = "revoked"  # a newer invitation replaced it, or the client was archived
    EXPIRED = "expired"


@dataclass(frozen=True)
class LinkCheck:
    state: LinkState
    invitation: PortalInvitation | None = None


def _state(invitation: PortalInvitation | None, now: datetime.datetime) -> LinkState:
    if invitation is None:
        return LinkState.UNKNOWN
    if invitation.used_at is not None:
        return LinkState.USED
    if invitation.revoked_at is not None or invitation.client.is_archived:
        return LinkState.REVOKED
    if invitation.expires_at <= now:
        return LinkState.EXPIRED
    return LinkState.VALID


def invitation_check(token: str, *, lock: bool = False) -> LinkCheck:
    """What a link's token stands for. Looked up by its hash, so the comparison with the
    stored value happens inside the database's unique index, never character by character
    in Python on the secret itself."""
    if not token or len(token) > 200:
        return LinkCheck(LinkState.UNKNOWN)
    invitations = PortalInvitation.objects.select_related("client__user")
    if lock:
        invitations = invitations.select_for_update(of=("self",))
    invitation = invitations.filter(token_hash=token_hash(token)).first()
    return LinkCheck(_state(invitation, timezone.now()), invitation)


def _is_clinic_login(user: User) -> bool:
    return user.is_staff or roles.is_clinic_user(user)


def _portal_user(client: Client, email: str) -> User:
    """The client's login: the linked one, or a new one named after the e-mail address.

    Refuses an address that belongs to any other login: a staff member's, above all,
    must never become a client's (it would mix the two roles in one account).
    """
    others = User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email))
    if client.user_id is not None:
        others = others.exclude(pk=client.user_id)
    others = list(others)
    if any(_is_clinic_login(other) for other in others):
        raise ValidationError(
            f"{email} belongs to a clinic staff login. A client needs their own e-mail address for the portal."
        )
    if others:
        raise ValidationError(f"{email} is already used by another portal login. Check the client's e-mail address.")

    user = client.user
    if user is not None:
        if _is_clinic_login(user):
            raise ValidationError("This client's login is a clinic staff account; it cannot be used for the portal.")
    else:
        user = User(username=email.lower())
        user.set_unusable_password()
    user.email = email
    user.first_name = client.first_name[:150]
    user.last_name = client.last_name[:150]
    user.is_active = True
    user.full_clean(exclude=["password"])
    user.save()
    user.groups.add(Group.objects.get(name=roles.CLIENTS))
    if client.user_id != user.pk:
        client.user = user
        client.save(update_fields=["user", "updated_at"])
    return user


def _send(invitation: PortalInvitation, *, client: Client, user: User, link: str) -> None:
    clinic = ClinicSettings.load()
    logo = clinic.logo_png()
    context = {
        "clinic": clinic,
        "logo_src": LOGO_SRC if logo else "",
        "client": client,
        "username": user.get_username(),
        "link": link,
        "expires_at": invitation.expires_at,
        "valid_hours": settings.SMP_INVITATION_VALID_HOURS,
    }
    subject = " ".join(render_to_string("emails/invitation_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/invitation.txt", context),
        from_email=clinic_sender(clinic),
        to=[invitation.sent_to],
        reply_to=[clinic.email] if clinic.email else None,
    )
    message.attach_alternative(render_to_string("emails/invitation.html", context), "text/html")
    attach_logo(message, logo)
    message.send()


@transaction.atomic
def invitation_send(*, client: Client, by: AbstractBaseUser, base_url: str = "") -> PortalInvitation:
    """Invite a client to the portal (or send a new link): account, one-time link, e-mail.

    Creates or reuses the client's login (username = e-mail address, no usable password
    until the link is used, in the Clients group), revokes every earlier open invitation
    and e-mails a link valid for SMP_INVITATION_VALID_HOURS. `base_url` ("https://host")
    makes the link absolute. The e-mail is sent inside the transaction: if sending fails,
    nothing is stored and the earlier link still works.
    """
    client = Client.objects.select_for_update().get(pk=client.pk)
    if client.is_archived:
        raise ValidationError("This client is archived and cannot be invited to the portal.")
    email = (client.email or "").strip()
    if not email:
        raise ValidationError("Add the client's e-mail address before inviting them to the portal.")
    user = _portal_user(client, email)

    now = timezone.now()
    client.invitations.filter(used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now, updated_at=now)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invitation = PortalInvitation(
        client=client,
        token_hash=token_hash(token),
        sent_to=email,
        created_by=by,
        expires_at=now + datetime.timedelta(hours=settings.SMP_INVITATION_VALID_HOURS),
    )
    invitation.full_clean(exclude=["token_hash"])
    invitation.save()
    link = base_url.rstrip("/") + reverse("invitation_accept", kwargs={"token": token})
    _send(invitation, client=client, user=user, link=link)
    return invitation


@transaction.atomic
def invitation_use(*, token: str, password: str) -> User:
    """Set the password through a valid link and spend the link (single use).

    The invitation row is locked, so two submissions of the same link cannot both
    succeed. The password was validated by the form (Django's password validators).
    """
    check = invitation_check(token, lock=True)
    if check.state != LinkState.VALID:
        raise ValidationError(check.state.value, code=check.state.value)
    invitation = check.invitation
    user = invitation.client.user
    if user is None or not user.is_active or not roles.is_client(user):
        raise ValidationError(LinkState.REVOKED.value, code=LinkState.REVOKED.value)
    user.set_password(password)
    user.save(update_fields=["password"])
    invitation.used_at = timezone.now()
    invitation.save(update_fields=["used_at", "updated_at"])
    return user
