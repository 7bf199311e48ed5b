"""Consents the client signs and withdraws in the portal.

DOMAIN.md / DESIGN.md ("Consent"): a client signs one exact version of a consent text
with their typed name; the time, IP address and user agent are recorded; a consent can
be withdrawn, never deleted. A laser-treatment consent signed here satisfies the laser
rule in `cases.rules` (rule 1) at once; a withdrawn one no longer does.
"""

from __future__ import annotations

import ipaddress

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cases.models import Client, Consent, ConsentText
from cases.services.clients import signature_matches
from smpclinic import roles

USER_AGENT_MAX = Consent._meta.get_field("signed_user_agent").max_length
REASON_MAX = 1000


def _ip_or_none(ip: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((ip or "").strip()))
    except ValueError:
        return None


def pending_texts(client: Client):
    """Current consent texts the client has no signature in force on (never signed,
    signed on an older version only, or withdrawn)."""
    signed = Consent.objects.in_force().filter(client=client).values("text_id")
    return ConsentText.objects.current().exclude(pk__in=signed).order_by("kind")


@transaction.atomic
def consent_sign(*, client: Client, text: ConsentText, typed_name: str, ip: str | None, user_agent: str) -> Consent:
    """Record the client's own online signature of the current version of a consent text.

    The typed name must be the client's first and last name (or preferred and last name),
    ignoring case and spacing; it is stored as typed (spaces collapsed). The user agent
    is cut to the field's length; an IP address that does not parse is stored as empty.
    """
    # Lock the client row: two quick submissions cannot both sign the same text.
    client = Client.objects.select_for_update().get(pk=client.pk)
    if client.is_archived:
        raise ValidationError("This client record is archived; nothing can be signed.")
    if not ConsentText.objects.current().filter(pk=text.pk).exists():
        raise ValidationError(f"“{text.title}” (version {text.version}) is no longer the current version to sign.")
    if Consent.objects.in_force().filter(client=client, text=text).exists():
        raise ValidationError(f"You have already signed “{text.title}” (version {text.version}).")
    signed_name = " ".join(typed_name.split())
    if not signed_name:
        raise ValidationError({"typed_name": "Type your full name to sign."})
    if not signature_matches(client, signed_name):
        raise ValidationError(
            {
                "typed_name": f"Type your first and last name as the clinic has them: {client.full_name}. "
                "If your name is wrong in our records, please tell the clinic."
            }
        )
    consent = Consent(
        client=client,
        text=text,
        signed_name=signed_name,
        signed_at=timezone.now(),
        signed_ip=_ip_or_none(ip),
        signed_user_agent=(user_agent or "")[:USER_AGENT_MAX],
        signed_in_clinic=False,
    )
    consent.full_clean()
    consent.save()
    return consent


@transaction.atomic
def consent_withdraw(*, consent: Consent, by, reason: str = "") -> Consent:
    """Withdraw a signed consent: the time and the optional reason are recorded; the
    signature itself is kept. The client may withdraw their own consent; clinic users may
    record a withdrawal the client gave them."""
    stored = Consent.objects.select_for_update().select_related("client", "text").get(pk=consent.pk)
    own = stored.client.user_id is not None and stored.client.user_id == getattr(by, "pk", None)
    if not (own or roles.is_clinic_user(by)):
        raise ValidationError("Only the client or the clinic can withdraw this consent.")
    if stored.withdrawn_at is not None:
        raise ValidationError(
            f"This consent was already withdrawn on {timezone.localtime(stored.withdrawn_at):%d %b %Y}."
        )
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"Keep the reason under {REASON_MAX} characters."})
    stored.withdrawn_at = max(timezone.now(), stored.signed_at)
    stored.withdrawn_reason = reason
    stored.full_clean()
    stored.save(update_fields=["withdrawn_at", "withdrawn_reason", "updated_at"])
    return stored
