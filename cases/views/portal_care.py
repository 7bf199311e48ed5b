"""Client portal: appointments, shared photos, consents and aftercare (issue 6).

Every page is for clients only (`client_required`; staff and managers get 403) and
reads through `visible_to(request.user)`: a client sees only records of their own,
non-archived client record and cases, and anything else answers 404. Internal fields
(internal notes, adverse-event notes, follow-up notes and reviews, consultation
records, laser parameters unless the session is marked shared) are never put in the
context of these pages.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from cases import aftercare
from cases.choices import FollowUpKind, FollowUpStatus, PhotoAngle, PhotoKind, SessionStatus
from cases.forms.photos import PhotoCompareForm
from cases.forms.portal_care import ConsentSignForm, ConsentWithdrawForm
from cases.models import Client, Consent, ConsentText, CorrectionSession, FollowUp, LaserSession, Photo, TreatmentPlan
from cases.services import consents as consent_services
from cases.views.portal import own_client
from smpclinic.forms import add_service_errors
from smpclinic.http import client_ip
from smpclinic.roles import client_required


def _first_name(person) -> str:
    return (getattr(person, "first_name", "") or "").strip()


# ---------------------------------------------------------------------------- appointments

# Follow-up kinds in the client's words.
FOLLOW_UP_WORDS = {
    FollowUpKind.HEALING_CHECK: "Healing check",
    FollowUpKind.POST_LASER_CHECK: "Check-up after laser",
    FollowUpKind.TEST_SPOT_RECHECK: "Test-spot check",
    FollowUpKind.MAINTENANCE: "Maintenance visit",
    FollowUpKind.SATISFACTION: "How are you getting on? (check-in)",
}

STATUS_WORDS = {
    SessionStatus.SCHEDULED: "Booked",
    SessionStatus.COMPLETED: "Done",
    SessionStatus.CANCELLED: "Cancelled",
    FollowUpStatus.MISSED: "Missed",
}


@dataclass
class Appointment:
    day: datetime.date
    at: datetime.datetime | None  # None for follow-ups: they have a due day, not a time
    kind: str
    who: str
    status: str
    zones: list[str] = field(default_factory=list)
    notes_for_client: str = ""
    parameters: list[tuple[str, str]] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return STATUS_WORDS.get(self.status, self.status.title())

    @property
    def is_cancelled(self) -> bool:
        return self.status == SessionStatus.CANCELLED

    @property
    def sort_key(self):
        return (self.day, self.at.time() if self.at else datetime.time.max)


def _laser_parameters(session: LaserSession) -> list[tuple[str, str]]:
    """What the clinic agreed to share (`parameters_shared`); empty otherwise."""
    if not session.parameters_shared:
        return []
    values = [
        ("Laser", session.get_laser_type_display() if session.laser_type else ""),
        ("Wavelength", f"{session.wavelength_nm} nm" if session.wavelength_nm else ""),
        (
            "Pulse",
            f"{session.pulse_width} {session.pulse_domain}" if session.pulse_width and session.pulse_domain else "",
        ),
        ("Spot size", f"{session.spot_size_mm} mm" if session.spot_size_mm else ""),
        ("Fluence", f"{session.fluence_j_cm2} J/cm²" if session.fluence_j_cm2 else ""),
        ("Repetition rate", f"{session.repetition_rate_hz} Hz" if session.repetition_rate_hz else ""),
        ("Passes", str(session.passes) if session.passes else ""),
    ]
    return [(label, value) for label, value in values if value]


def _appointments(user) -> list[Appointment]:
    found = []
    for session in LaserSession.objects.visible_to(user).select_related("technician").prefetch_related("zones"):
        found.append(
            Appointment(
                day=session.day,
                at=timezone.localtime(session.scheduled_at),
                kind="Laser session",
                who=_first_name(session.technician),
                status=session.status,
                zones=[zone.label for zone in session.zones.all()],
                notes_for_client=session.notes_for_client,
                parameters=_laser_parameters(session),
            )
        )
    for session in CorrectionSession.objects.visible_to(user).select_related("artist").prefetch_related("zones"):
        found.append(
            Appointment(
                day=session.day,
                at=timezone.localtime(session.scheduled_at),
                kind=session.get_kind_display(),
                who=_first_name(session.artist),
                status=session.status,
                zones=[zone.label for zone in session.zones.all()],
                notes_for_client=session.notes_for_client,
            )
        )
    for follow_up in FollowUp.objects.visible_to(user).select_related("assignee"):
        found.append(
            Appointment(
                day=follow_up.due_on,
                at=None,
                kind=FOLLOW_UP_WORDS.get(follow_up.kind, follow_up.get_kind_display()),
                who=_first_name(follow_up.assignee),
                status=follow_up.status,
            )
        )
    return found


@client_required
@require_safe
def portal_appointments(request):
    """Upcoming (booked or cancelled, from today on) and past appointments.

    Cancelled appointments stay in the list, marked cancelled, so a client is never left
    wondering where a booking went.
    """
    own_client(request.user)
    today = timezone.localdate()
    everything = sorted(_appointments(request.user), key=lambda a: a.sort_key)
    upcoming_states = (SessionStatus.SCHEDULED, SessionStatus.CANCELLED)
    upcoming, past = [], []
    for item in everything:
        (upcoming if item.day >= today and item.status in upcoming_states else past).append(item)
    past.reverse()  # most recent first
    sections = [
        ("upcoming", "Upcoming", upcoming, "Nothing booked yet. The clinic will let you know your next appointment."),
        ("past", "Past", past, "No past appointments yet."),
    ]
    return render(request, "portal/care_appointments.html", {"sections": sections, "today": today})


# ---------------------------------------------------------------------------- photos


@dataclass
class AngleGroup:
    angle: str
    label: str
    photos: list[Photo]
    before: Photo | None  # earliest "before" photo of the angle, else its earliest
    after: Photo | None  # latest photo of the angle, when it is not `before`


def _before_after(of_angle: list[Photo]) -> tuple[Photo | None, Photo | None]:
    if not of_angle:
        return None, None
    befores = [photo for photo in of_angle if photo.kind == PhotoKind.BEFORE]
    before = (befores or of_angle)[0]
    latest = of_angle[-1]
    return before, (latest if latest != before else None)


def _shared_photos(user) -> list[Photo]:
    return list(Photo.objects.visible_to(user).order_by("taken_on", "created_at", "id"))


def _groups(photos: list[Photo]) -> list[AngleGroup]:
    groups = []
    for angle, label in PhotoAngle.choices:
        of_angle = [photo for photo in photos if photo.angle == angle]
        if of_angle:
            before, after = _before_after(of_angle)
            groups.append(AngleGroup(angle, label, of_angle, before, after))
    return groups


@client_required
@require_safe
def portal_photos(request):
    """Photos the clinic shared, by angle in the standard scalp-set order, each angle
    with its before/after pair (earliest "before" photo and the latest photo)."""
    own_client(request.user)
    photos = _shared_photos(request.user)
    return render(request, "portal/care_photos.html", {"groups": _groups(photos), "photo_count": len(photos)})


@client_required
@require_safe
def portal_photo_compare(request):
    """Two of the client's shared photos side by side (?a=…&b=… photo ids, or ?angle=…).

    An id that is not one of the client's own shared photos answers 404.
    """
    own_client(request.user)
    photos = _shared_photos(request.user)
    form = PhotoCompareForm(request.GET or None, photos=photos)
    if form.is_bound and not form.is_valid():
        raise Http404("No such photo.")
    chosen = form.cleaned_data if form.is_bound else {}
    a, b = chosen.get("a"), chosen.get("b")
    groups = _groups(photos)
    if a and b:
        angle = a.angle
    elif a or b:
        single = a or b
        later = [photo for photo in photos if photo.angle == single.angle and photo != single]
        a, b, angle = single, (later[-1] if later else None), single.angle
    else:
        wanted = chosen.get("angle")
        group = next((g for g in groups if g.angle == wanted), groups[0] if groups else None)
        a, b, angle = (group.before, group.after, group.angle) if group else (None, None, "")
    days = abs((b.taken_on - a.taken_on).days) if a and b else None
    picker = PhotoCompareForm(
        initial={"angle": angle, "a": a and str(a.public_id), "b": b and str(b.public_id)}, photos=photos
    )
    return render(
        request,
        "portal/care_photo_compare.html",
        {"a": a, "b": b, "days": days, "angle": angle, "groups": groups, "form": picker},
    )


# ---------------------------------------------------------------------------- consents


@client_required
@require_safe
def portal_consents(request):
    client = own_client(request.user)
    signed = Consent.objects.visible_to(request.user).select_related("text").order_by("-signed_at", "-id")
    return render(
        request,
        "portal/care_consents.html",
        {"pending": list(consent_services.pending_texts(client)), "signed": list(signed)},
    )


def _text_to_sign(request, client: Client) -> ConsentText | None:
    """The text named by ?text=<id> (a current version, else 404), or the first one waiting."""
    raw = request.GET.get("text")
    if raw is None:
        return consent_services.pending_texts(client).first()
    try:
        pk = int(raw)
    except ValueError as exc:
        raise Http404("No such consent.") from exc
    return get_object_or_404(ConsentText.objects.current(), pk=pk)


@client_required
@require_http_methods(["GET", "POST"])
def portal_consent_sign(request):
    """Read the full text of a consent and sign it with a typed name."""
    client = own_client(request.user)
    text = _text_to_sign(request, client)
    already = (
        Consent.objects.visible_to(request.user).in_force().filter(text=text).first() if text is not None else None
    )
    form = ConsentSignForm(request.POST or None)
    if request.method == "POST" and text is not None and already is None and form.is_valid():
        try:
            consent = consent_services.consent_sign(
                client=client,
                text=text,
                typed_name=form.cleaned_data["typed_name"],
                ip=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Thank you. You signed “{consent.text.title}”; the clinic can see it now.")
            return redirect("cases:portal_consent_detail", consent_id=consent.public_id)
    return render(request, "portal/care_consent_sign.html", {"text": text, "already": already, "form": form})


def _own_consent(request, consent_id) -> Consent:
    return get_object_or_404(Consent.objects.visible_to(request.user).select_related("text"), public_id=consent_id)


@client_required
@require_safe
def portal_consent_detail(request, consent_id):
    consent = _own_consent(request, consent_id)
    return render(request, "portal/care_consent_detail.html", {"consent": consent})


@client_required
@require_http_methods(["GET", "POST"])
def portal_consent_withdraw(request, consent_id):
    consent = _own_consent(request, consent_id)
    form = ConsentWithdrawForm(request.POST or None)
    if request.method == "POST" and consent.is_in_force and form.is_valid():
        try:
            consent_services.consent_withdraw(consent=consent, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"You withdrew your consent “{consent.text.title}”. The clinic can see it now.")
            return redirect("cases:portal_consent_detail", consent_id=consent.public_id)
    return render(request, "portal/care_consent_withdraw.html", {"consent": consent, "form": form})


# ---------------------------------------------------------------------------- aftercare


def _last_completed_session(user) -> tuple[str, LaserSession | CorrectionSession] | tuple[None, None]:
    now = timezone.now()
    latest = [
        (kind, model.objects.visible_to(user).completed().filter(scheduled_at__lte=now).latest_first().first())
        for kind, model in ((aftercare.LASER, LaserSession), (aftercare.CORRECTION, CorrectionSession))
    ]
    latest = [(kind, session) for kind, session in latest if session is not None]
    if not latest:
        return None, None
    return max(latest, key=lambda pair: pair[1].scheduled_at)


@client_required
@require_safe
def portal_aftercare(request):
    """The instructions for the client's last completed session, with countdowns of the
    DOMAIN.md aftercare periods (cases.aftercare) from the session day."""
    own_client(request.user)
    today = timezone.localdate()
    kind, session = _last_completed_session(request.user)
    context = {"session": session, "today": today}
    if session is not None:
        day = session.day
        plan = (
            TreatmentPlan.objects.visible_to(request.user)
            .current()
            .filter(case_id=session.case_id)
            .order_by("-version")
            .first()
        )
        context.update(
            kind=kind,
            kind_label="Laser session" if kind == aftercare.LASER else session.get_kind_display(),
            day=day,
            days_since=(today - day).days,
            countdowns=aftercare.countdowns(kind=kind, session_day=day, today=today),
            healing_check=aftercare.healing_check(session_day=day, today=today) if kind == aftercare.LASER else None,
            spf_from=aftercare.spf_from(session_day=day) if kind == aftercare.CORRECTION else None,
            spf_advice=aftercare.SPF_ADVICE,
            plan_aftercare=plan.aftercare if plan else "",
        )
    return render(request, "portal/care_aftercare.html", context)
