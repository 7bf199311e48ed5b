"""Consents: signing (online in the portal, or in the clinic before a witness) and withdrawing.

A client signs one exact version of a consent text with their typed name; the time, IP
address and browser are recorded; a consent can be withdrawn, never deleted
(docs/domain.md#vocabulary). A laser-treatment consent satisfies the laser rule in
`cases.rules` at once; a withdrawn one no longer does.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.models import Client, Consent, ConsentText
from cases.services.clients import signature_matches
from smpclinic import roles
from smpclinic.concurrency import StaleEdit, lock_for_edit
from smpclinic.http import normalised_ip

USER_AGENT_MAX = Consent._meta.get_field("signed_user_agent").max_length
REASON_MAX = 1000


def pending_texts(client: Client):
    """Current consent texts the client has no signature in force on (never signed,
    signed on an older version only, or withdrawn)."""
    signed = Consent.objects.in_force().filter(client=client).values("text_id")
    return ConsentText.objects.current().exclude(pk__in=signed).order_by("kind")


def _already_signed(client: Client, text: ConsentText, *, in_clinic: bool) -> ValidationError:
    who = client.full_name if in_clinic else "You"
    verb = "has" if in_clinic else "have"
    return ValidationError(
        f"{who} {verb} already signed “{text.title}” (version {text.version}) and it has not been withdrawn.",
        code="already_signed",
    )


def _wrong_name(client: Client, *, in_clinic: bool) -> ValidationError:
    if in_clinic:
        message = (
            f"The client must type their first and last name as the clinic has them: {client.full_name}"
            f"{f' (or {client.preferred_name} {client.last_name})' if client.preferred_name.strip() else ''}. "
            "If the name in the record is wrong, correct the client's details first."
        )
    else:
        message = (
            f"Type your first and last name as the clinic has them: {client.full_name}. "
            "If your name is wrong in our records, please tell the clinic."
        )
    return ValidationError({"signed_name": message}, code="wrong_name")


@transaction.atomic
def consent_sign(
    *,
    client: Client,
    text: ConsentText,
    typed_name: str,
    ip: str | None,
    user_agent: str,
    witnessed_by=None,
    submission_token=None,
) -> Consent:
    """Record a client's signature of the current version of a consent text: the one
    way a consent is signed, online in the portal or in the clinic.

    In the clinic, `witnessed_by` is the staff member who saw the client sign; online it
    is None. The typed name must sign for the client (`signature_matches`: first and
    last name, or preferred and last name, ignoring case, spacing and Unicode form); it
    is stored as typed, spaces collapsed. The IP address is normalised (stored empty when
    it does not parse) and the user agent cut to the field's length.

    The client row is locked, so two quick submissions cannot both sign the same text;
    should a signature still race past the lock, the database's one-in-force-consent
    constraint refuses it with the same message. `submission_token` is the form's
    (`smpclinic.concurrency.create_once`): a repeat of a form already saved raises
    IntegrityError for `create_once` to answer with the first consent.
    """
    in_clinic = witnessed_by is not None
    # NO KEY UPDATE: signers of one client queue behind each other, while inserts of other
    # rows that point at the client (their foreign-key checks take KEY SHARE) go on.
    client = Client.objects.select_for_update(no_key=True).get(pk=client.pk)
    if client.is_archived:
        raise ValidationError("This client record is archived; nothing can be signed.")
    if not ConsentText.objects.current().filter(pk=text.pk).exists():
        raise ValidationError(
            f"“{text.title}” (version {text.version}) is not the current version of this consent; sign the current one."
        )
    if submission_token and Consent.objects.filter(submission_token=submission_token).exists():
        # A parallel submit of the same form that waited for the lock: the unique token
        # decides, as in `create_once`, which answers with the consent already saved.
        raise IntegrityError("This consent form was already saved.")
    if Consent.objects.in_force().filter(client=client, text=text).exists():
        raise _already_signed(client, text, in_clinic=in_clinic)
    signed_name = " ".join((typed_name or "").split())
    if not signed_name:
        raise ValidationError(
            {"signed_name": "The client must type their name to sign." if in_clinic else "Type your full name to sign."}
        )
    if not signature_matches(client, signed_name):
        raise _wrong_name(client, in_clinic=in_clinic)
    consent = Consent(
        client=client,
        text=text,
        signed_name=signed_name,
        signed_at=timezone.now(),
        signed_ip=normalised_ip(ip),
        signed_user_agent=(user_agent or "")[:USER_AGENT_MAX],
        signed_in_clinic=in_clinic,
        witnessed_by=witnessed_by,
        submission_token=submission_token,
    )
    consent.full_clean()
    try:
        with transaction.atomic():
            consent.save()
    except IntegrityError:
        if Consent.objects.in_force().filter(client=client, text=text).exists():
            raise _already_signed(client, text, in_clinic=in_clinic) from None
        raise
    return consent


@transaction.atomic
def consent_withdraw(*, consent: Consent, by, reason: str = "") -> Consent:
    """Withdraw a signed consent: the time and the optional reason are recorded; the
    signature itself is kept. The client may withdraw their own consent; clinic users may
    record a withdrawal the client gave them.

    `consent` carries the version the withdrawal form was opened on: a consent changed
    since is refused (StaleEdit), one already withdrawn says so.
    """
    try:
        stored = lock_for_edit(consent)
    except StaleEdit:
        withdrawn = Consent.objects.filter(pk=consent.pk, withdrawn_at__isnull=False).first()
        if withdrawn is not None:
            raise _already_withdrawn(withdrawn) from None
        raise
    own = stored.client.user_id is not None and stored.client.user_id == getattr(by, "pk", None)
    if not (own or roles.is_clinic_user(by)):
        raise ValidationError("Only the client or the clinic can withdraw this consent.")
    if stored.withdrawn_at is not None:
        raise _already_withdrawn(stored)
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"Keep the reason under {REASON_MAX} characters."})
    stored.withdrawn_at = max(timezone.now(), stored.signed_at)
    stored.withdrawn_reason = reason
    stored._history_user = by
    stored.full_clean()
    stored.save(update_fields=["withdrawn_at", "withdrawn_reason", "updated_at"])
    return stored


def _already_withdrawn(consent: Consent) -> ValidationError:
    return ValidationError(
        f"This consent was already withdrawn on {timezone.localtime(consent.withdrawn_at):%-d %b %Y}."
    )
