"""Team pages (managers only): the clinic's artists with their certifications; add or renew one.

Certifications expiring within EXPIRY_WARNING_DAYS are flagged as a warning, expired ones
as a danger; only the latest certification of each kind counts (older ones are history:
see artists/services.py on renewals). The list costs the same few queries whatever the
size of the team (tests/artists/test_team_pages.py).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from artists import services
from artists.forms import CertificationForm, RenewalForm, renewal_initial
from artists.models import Artist, Certification
from smpclinic import roles
from smpclinic.forms import add_service_errors

EXPIRY_WARNING_DAYS = 60
EXPIRED, EXPIRING, VALID, NOT_YET = "expired", "expiring", "valid", "not yet valid"


def certification_state(certification: Certification, today: datetime.date) -> str:
    """The same boundaries as CertificationQuerySet.expired_on() and .expiring_within()."""
    if certification.issued_on > today:
        return NOT_YET
    if certification.expires_on is None:
        return VALID
    if certification.expires_on < today:
        return EXPIRED
    if certification.expires_on <= today + datetime.timedelta(days=EXPIRY_WARNING_DAYS):
        return EXPIRING
    return VALID


@dataclass
class KindRow:
    """One kind of certification an artist holds: the current one and the ones it replaced."""

    current: Certification
    earlier: list[Certification] = field(default_factory=list)


@dataclass
class TeamMember:
    artist: Artist
    kinds: list[KindRow]
    laser: str  # VALID, EXPIRING, EXPIRED or "none"
    laser_until: datetime.date | None = None


def _member(artist: Artist, today: datetime.date) -> TeamMember:
    kinds: dict[str, KindRow] = {}
    for certification in artist.team_certifications:
        certification.state = certification_state(certification, today)
        certification.days_left = (certification.expires_on - today).days if certification.expires_on else None
        certification.days_ago = -certification.days_left if certification.days_left is not None else None
        row = kinds.get(certification.kind)
        if row is None:
            kinds[certification.kind] = KindRow(current=certification)
        else:
            row.earlier.append(certification)
    laser_row = kinds.get(Certification.Kind.LASER_SAFETY)
    laser, until = "none", None
    if laser_row:
        valid = [c for c in [laser_row.current, *laser_row.earlier] if c.is_valid_on(today)]
        if valid:
            until = None if any(c.expires_on is None for c in valid) else max(c.expires_on for c in valid)
            soon = until is not None and until <= today + datetime.timedelta(days=EXPIRY_WARNING_DAYS)
            laser = EXPIRING if soon else VALID
        else:
            laser = EXPIRED
    return TeamMember(artist=artist, kinds=list(kinds.values()), laser=laser, laser_until=until)


@roles.required(roles.MANAGE_TEAM)
@require_http_methods(["GET", "HEAD"])
def team(request):
    today = timezone.localdate()
    members = [_member(artist, today) for artist in Artist.objects.for_team()]
    current = [row.current for member in members for row in member.kinds]
    context = {
        "today": today,
        "members": members,
        "warning_days": EXPIRY_WARNING_DAYS,
        "expired_count": sum(1 for c in current if c.state == EXPIRED),
        "expiring_count": sum(1 for c in current if c.state == EXPIRING),
        "without_laser": sum(1 for m in members if m.laser in (EXPIRED, "none")),
    }
    return render(request, "artists/team.html", context)


def _team_url(artist: Artist) -> str:
    return f"{reverse('artists:team')}#artist-{artist.public_id}"


@roles.required(roles.MANAGE_TEAM)
@require_http_methods(["GET", "POST"])
def certification_add(request, artist_id):
    artist = get_object_or_404(Artist.objects.active().internal(), public_id=artist_id)
    if request.method == "POST":
        form = CertificationForm(request.POST)
        if form.is_valid():
            try:
                certification = services.certification_add(artist=artist, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{certification.get_kind_display()} added for {artist.full_name}.")
                return redirect(_team_url(artist))
    else:
        kind = request.GET.get("kind", "")
        form = CertificationForm(initial={"kind": kind} if kind in Certification.Kind.values else None)
    return render(request, "artists/certification_form.html", {"artist": artist, "form": form, "renews": None})


@roles.required(roles.MANAGE_TEAM)
@require_http_methods(["GET", "POST"])
def certification_renew(request, certification_id):
    certification = get_object_or_404(
        Certification.objects.active().filter(artist__archived_at__isnull=True).select_related("artist"),
        public_id=certification_id,
    )
    artist = certification.artist
    refusal = services.renewal_refusal(certification)
    if refusal:
        messages.error(request, refusal)
        return redirect(_team_url(artist))
    if request.method == "POST":
        form = RenewalForm(request.POST, renews=certification)
        if form.is_valid():
            try:
                renewal = services.certification_renew(
                    certification=certification, by=request.user, **form.cleaned_data
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                until = f" until {renewal.expires_on:%-d %b %Y}" if renewal.expires_on else ""
                messages.success(request, f"{renewal.get_kind_display()} renewed for {artist.full_name}{until}.")
                return redirect(_team_url(artist))
    else:
        form = RenewalForm(initial=renewal_initial(certification), renews=certification)
    return render(request, "artists/certification_form.html", {"artist": artist, "form": form, "renews": certification})
