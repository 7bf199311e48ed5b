"""Writes of the team pages: adding and renewing an artist's certifications (managers only).

A renewal is a new Certification row with its own dates; the one it renews is left as it
was, neither changed nor archived. It stays true that the artist held that certification
on the days it covered, so laser sessions done under it still pass the "valid laser
certification on the day" rule (docs/domain.md#safety-rules) when they are looked at or
edited later; Certification.objects.valid_on() skips archived rows, so archiving would
rewrite that history. The team page treats the latest certification of each kind as the
current one and lists the older ones as history.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from artists.models import Artist, Certification
from smpclinic import roles


def _require_manager(by) -> None:
    roles.check(by, roles.MANAGE_TEAM)


def _check_dates(issued_on: datetime.date, expires_on: datetime.date | None) -> None:
    if issued_on > timezone.localdate():
        raise ValidationError({"issued_on": "A certification cannot be issued in the future."})
    if expires_on is not None and expires_on <= issued_on:
        raise ValidationError({"expires_on": "A certification must expire after it was issued."})


@transaction.atomic
def certification_add(
    *,
    artist: Artist,
    kind: str,
    issuer: str,
    issued_on: datetime.date,
    expires_on: datetime.date | None = None,
    number: str = "",
    notes: str = "",
    by,
) -> Certification:
    """Record a certification a clinic artist holds."""
    _require_manager(by)
    if artist.is_archived or artist.kind != Artist.Kind.INTERNAL:
        raise ValidationError("Certifications are kept for current clinic artists only.")
    _check_dates(issued_on, expires_on)
    certification = Certification(
        artist=artist,
        kind=kind,
        issuer=issuer.strip(),
        number=number.strip(),
        issued_on=issued_on,
        expires_on=expires_on,
        notes=notes,
    )
    certification.full_clean()
    certification.save()
    return certification


def latest_of_kind(certification: Certification) -> Certification | None:
    """The artist's current certification of this kind: the latest issued, not archived."""
    return (
        Certification.objects.active()
        .filter(artist_id=certification.artist_id, kind=certification.kind)
        .order_by("-issued_on", "-pk")
        .first()
    )


def renewal_refusal(certification: Certification) -> str | None:
    """Why this certification cannot be renewed (None when it can)."""
    latest = latest_of_kind(certification)
    if certification.is_archived or latest is None or latest.pk != certification.pk:
        when = f" on {latest.issued_on:%-d %b %Y}" if latest is not None else ""
        return f"This certification was already renewed{when}; renew the latest one instead."
    return None


@transaction.atomic
def certification_renew(
    *,
    certification: Certification,
    issuer: str,
    issued_on: datetime.date,
    expires_on: datetime.date | None = None,
    number: str = "",
    notes: str = "",
    by,
) -> Certification:
    """Renew a certification: a new row of the same kind for the same artist, with new dates.

    Only the latest certification of its kind can be renewed (so a double submit does not
    renew twice), and the renewal must be issued after the one it renews.
    """
    _require_manager(by)
    # Lock the artist so two managers renewing at once are serialised on the "latest" check.
    Artist.objects.select_for_update().get(pk=certification.artist_id)
    refusal = renewal_refusal(certification)
    if refusal:
        raise ValidationError(refusal)
    if issued_on <= certification.issued_on:
        raise ValidationError(
            {
                "issued_on": "A renewal must be issued after the certification it renews "
                f"(issued {certification.issued_on:%-d %b %Y})."
            }
        )
    return certification_add(
        artist=certification.artist,
        kind=certification.kind,
        issuer=issuer,
        issued_on=issued_on,
        expires_on=expires_on,
        number=number,
        notes=notes,
        by=by,
    )
