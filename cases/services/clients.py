"""Registering clients and keeping their details; the typed-name rule for signatures.

Consents, in the clinic or online, are signed through `cases.services.consents.consent_sign`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from cases.models import Client
from smpclinic.concurrency import lock_for_edit

# What identifies a person for the duplicate check; changing one of these on edit checks again.
IDENTITY_FIELDS = ("first_name", "last_name", "date_of_birth", "email")

# The client's contraindications for laser work, in the order the form and the admin show them.
CONTRAINDICATION_FIELDS = (
    "pregnant_or_breastfeeding",
    "isotretinoin_last_dose",
    "photosensitising_medication",
    "gold_therapy",
    "immunosuppression_last",
    "active_infection",
    "open_wounds",
    "recent_sunburn_or_tan",
    "keloid_history",
    "ink_allergy",
)

# Fields staff set on the client form, in its order; anything else (portal login,
# archiving) has its own service.
EDITABLE_FIELD_ORDER = (
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "email",
    "phone",
    "address",
    "reminders_opt_in",
    "fitzpatrick_type",
    "norwood_stage",
    *CONTRAINDICATION_FIELDS,
    "allergies",
    "medications",
    "internal_notes",
)
EDITABLE_FIELDS = frozenset(EDITABLE_FIELD_ORDER)


# --- typed-name signatures (consents and plan acceptance) -----------------------------------


def _signature_key(name: str) -> str:
    """A name as compared for signing: Unicode-normalised (NFKC), spaces collapsed, case folded."""
    return " ".join(unicodedata.normalize("NFKC", name or "").split()).casefold()


def accepted_names(client: Client) -> set[str]:
    """The typed names that sign for `client`, compared by `_signature_key`: first and last
    name, or preferred and last name ("alice  ABLE" and "Ally Able" sign for Alice Able)."""
    names = {_signature_key(f"{client.first_name} {client.last_name}")}
    if client.preferred_name.strip():
        names.add(_signature_key(f"{client.preferred_name} {client.last_name}"))
    return names


def signature_matches(client: Client, typed_name: str) -> bool:
    """Whether `typed_name` signs for `client`: the one rule for consents and plan acceptance."""
    key = _signature_key(typed_name)
    return bool(key) and key in accepted_names(client)


class PossibleDuplicateClient(ValidationError):
    """Raised instead of saving when the client may already be registered.

    Carries the possible duplicates so the form can list them; the caller saves anyway by
    calling again with `allow_duplicate=True` once a person has confirmed.
    """

    def __init__(self, duplicates: Iterable[Client]):
        self.duplicates = list(duplicates)
        super().__init__(
            "This client may already be registered: check the records listed, or confirm this is a different person.",
            code="possible_duplicate",
        )


def _check_fields(fields: dict) -> None:
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(f"These client fields cannot be set here: {', '.join(sorted(unknown))}.")


def _refuse_duplicates(client: Client) -> None:
    duplicates = list(
        Client.objects.possible_duplicates(
            first_name=client.first_name,
            last_name=client.last_name,
            date_of_birth=client.date_of_birth,
            email=client.email,
            exclude_pk=client.pk,
        )
    )
    if duplicates:
        raise PossibleDuplicateClient(duplicates)


@transaction.atomic
def client_create(*, allow_duplicate: bool = False, **fields) -> Client:
    """Register a new client.

    One person, one record: an active client with the same first and last name (ignoring
    case) and date of birth, or the same e-mail address, is a possible duplicate, and the
    client is saved only once a person confirmed (`allow_duplicate=True`).
    """
    _check_fields(fields)
    client = Client(**fields)
    client.full_clean()
    if not allow_duplicate:
        _refuse_duplicates(client)
    client.save()
    return client


@transaction.atomic
def client_update(*, client: Client, allow_duplicate: bool = False, **fields) -> Client:
    """Change a client's details; the duplicate check runs again only when the name,
    date of birth or e-mail changed (a confirmed duplicate is not asked about on every edit)."""
    _check_fields(fields)
    stored = lock_for_edit(client)
    if stored.is_archived:
        raise ValidationError("This client is archived; archived records cannot be changed.")
    identity_changed = any(field in fields and fields[field] != getattr(stored, field) for field in IDENTITY_FIELDS)
    for name, value in fields.items():
        setattr(stored, name, value)
    stored.full_clean()
    if identity_changed and not allow_duplicate:
        _refuse_duplicates(stored)
    stored.save()
    return stored
