"""Client portal: appointments, shared photos, consents and aftercare.

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
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from cases import aftercare, audit, calendar
from cases.choices import FollowUpKind, FollowUpStatus, PhotoAngle, SessionStatus
from cases.forms.photos import PhotoCompareForm
from cases.models import (
    Booking,
    CalendarFeed,
    Client,
    Consent,
    ConsentText,
    CorrectionSession,
    FollowUp,
    LaserSession,
    Photo,
    TreatmentPlan,
)
from cases.models.photos import PhotoPair
from cases.portal.care_forms import ConsentSignForm, ConsentWithdrawForm
from cases.portal.views import own_client
from cases.services import consents as consent_services
from smpclinic.forms import add_service_errors, expected_version
from smpclinic.http import client_ip
from smpclinic.models import ClinicSettings
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
    booking: Booking | None = None  # its slot in the diary: time, length, room

    @property
    def ends(self) -> datetime.datetime | None:
        return timezone.localtime(self.booking.ends_at) if self.booking else None

    @property
    def room(self) -> str:
        return self.booking.room.name if self.booking and self.booking.room_id else ""

    @property
    def moved(self) -> bool:
        """Moved since it was first booked (the booking keeps the reason; the client sees
        the new time and that it changed)."""
        return bool(self.booking and self.booking.change_reason and self.status == SessionStatus.SCHEDULED)

    @property
    def calendar_file(self) -> bool:
        return bool(self.booking and self.status == SessionStatus.SCHEDULED and self.booking.holds_slot)

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


def _booking_of(record) -> Booking | None:
    try:
        return record.booking
    except Booking.DoesNotExist:
        return None


def _appointments(user) -> list[Appointment]:
    found = []
    sessions = LaserSession.objects.visible_to(user).select_related("technician", "booking__room")
    for session in sessions.prefetch_related("zones"):
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
                booking=_booking_of(session),
            )
        )
    sessions = CorrectionSession.objects.visible_to(user).select_related("artist", "booking__room")
    for session in sessions.prefetch_related("zones"):
        found.append(
            Appointment(
                day=session.day,
                at=timezone.localtime(session.scheduled_at),
                kind=session.get_kind_display(),
                who=_first_name(session.artist),
                status=session.status,
                zones=[zone.label for zone in session.zones.all()],
                notes_for_client=session.notes_for_client,
                booking=_booking_of(session),
            )
        )
    for follow_up in FollowUp.objects.visible_to(user).select_related("assignee", "booking__room", "booking__person"):
        booking = _booking_of(follow_up)
        found.append(
            Appointment(
                day=follow_up.due_on,
                at=timezone.localtime(booking.starts_at) if booking else None,
                kind=FOLLOW_UP_WORDS.get(follow_up.kind, follow_up.get_kind_display()),
                who=_first_name(booking.person if booking else follow_up.assignee),
                status=follow_up.status,
                booking=booking,
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
    client = own_client(request.user)  # 404 once the client is archived
    audit.saw(request, "portal appointments", client_id=client.pk)
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
    context = {"sections": sections, "today": today, "address": ClinicSettings.cached().address}
    return render(request, "portal/care_appointments.html", context)


# ---------------------------------------------------------------------------- calendar files


@client_required
@require_safe
def portal_appointment_ics(request, booking_id):
    """One upcoming appointment as a calendar file: the clinic, "Appointment", time, address."""
    own_client(request.user)
    booking = get_object_or_404(
        Booking.objects.visible_to(request.user).upcoming().select_related("case"), public_id=booking_id
    )
    audit.downloaded(request, "appointment calendar file", booking, client_id=booking.case.client_id)
    url = request.build_absolute_uri(reverse("cases:portal_appointments"))
    body = calendar.client_calendar([booking], ClinicSettings.cached(), url_of=lambda b: url)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    return response


@client_required
@require_http_methods(["GET", "POST"])
def portal_calendar_feed_manage(request):
    """The private calendar address: shown, turned on (a new one: any old one stops
    working) or off."""
    client = own_client(request.user)
    audit.saw(request, "calendar feed", client_id=client.pk)
    if request.method == "POST":
        CalendarFeed.objects.live().filter(client=client).update(revoked_at=timezone.now())
        if request.POST.get("action") == "revoke":
            messages.success(request, "Your calendar address is turned off.")
        else:
            CalendarFeed.objects.create(client=client)
            messages.success(request, "Your private calendar address is ready; any earlier one no longer works.")
        return redirect("cases:portal_calendar_feed_manage")
    feed = CalendarFeed.objects.live().filter(client=client).first()
    feed_url = request.build_absolute_uri(reverse("cases:client_calendar_feed", args=[feed.token])) if feed else ""
    return render(request, "portal/calendar_feed.html", {"feed_url": feed_url})


@login_not_required
@require_safe
def client_calendar_feed(request, token):
    """A client's upcoming appointments for a calendar app to subscribe to. No sign-in: the
    long random token is the key, and the client can revoke it. Nothing clinical in it."""
    feed = CalendarFeed.objects.live().filter(token=token, client__isnull=False).select_related("client").first()
    if feed is None or feed.client.is_archived:
        raise Http404("No such calendar.")
    bookings = (
        Booking.objects.on_live_cases()
        .filter(case__client=feed.client)
        .upcoming()
        .filter(Q(laser_session__archived_at__isnull=True) & Q(correction_session__archived_at__isnull=True))
        .filter(Q(follow_up__isnull=True) | Q(follow_up__archived_at__isnull=True))
        .order_by("starts_at")
    )
    url = request.build_absolute_uri(reverse("cases:portal_appointments"))
    body = calendar.client_calendar(bookings, ClinicSettings.cached(), url_of=lambda b: url)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------------------- photos


@dataclass
class AngleGroup:
    angle: str
    label: str
    photos: list[Photo]
    before: Photo | None  # left of the angle's default pair (PhotoPair.choose)
    after: Photo | None  # right of it, when there is a second photo


def _shared_photos(user) -> list[Photo]:
    return list(Photo.objects.visible_to(user).for_comparison())


def _groups(photos: list[Photo]) -> list[AngleGroup]:
    groups = []
    for angle, label in PhotoAngle.choices:
        of_angle = [photo for photo in photos if photo.angle == angle]
        if of_angle:
            pair = PhotoPair.choose(of_angle, angle=angle)
            groups.append(AngleGroup(angle, label, of_angle, pair.a, pair.b))
    return groups


@client_required
@require_safe
def portal_photos(request):
    """Photos the clinic shared, by angle in the standard scalp-set order, each angle
    with its default pair (PhotoPair.choose: the first "before" and the latest photo)."""
    client = own_client(request.user)  # 404 once the client is archived
    audit.saw(request, "portal photos", client_id=client.pk)
    photos = _shared_photos(request.user)
    return render(request, "portal/care_photos.html", {"groups": _groups(photos), "photo_count": len(photos)})


@client_required
@require_safe
def portal_photo_compare(request):
    """Two of the client's shared photos side by side (?a=…&b=… photo ids, or ?angle=…).

    An id that is not one of the client's own shared photos answers 404.
    """
    client = own_client(request.user)  # 404 once the client is archived
    audit.saw(request, "portal photo comparison", client_id=client.pk)
    photos = _shared_photos(request.user)
    form = PhotoCompareForm(request.GET or None, photos=photos)
    if form.is_bound and not form.is_valid():
        raise Http404("No such photo.")
    pair = PhotoPair.choose(photos, **form.chosen())
    return render(
        request,
        "portal/care_photo_compare.html",
        {
            "pair": pair,
            "a": pair.a,
            "b": pair.b,
            "days": pair.days,
            "angle": pair.angle,
            "groups": _groups(photos),
            "form": PhotoCompareForm.showing(pair, photos=photos),
        },
    )


# ---------------------------------------------------------------------------- consents


@client_required
@require_safe
def portal_consents(request):
    client = own_client(request.user)
    audit.saw(request, "portal consents", client_id=client.pk)
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
    audit.saw(request, "portal consent signing", client_id=client.pk)
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
                typed_name=form.cleaned_data["signed_name"],
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
    audit.saw(request, "portal consent", consent)
    return render(request, "portal/care_consent_detail.html", {"consent": consent})


@client_required
@require_http_methods(["GET", "POST"])
def portal_consent_withdraw(request, consent_id):
    consent = _own_consent(request, consent_id)
    audit.saw(request, "portal consent withdrawal", consent)
    form = ConsentWithdrawForm(request.POST or None, consent=consent)
    if request.method == "POST" and consent.is_in_force and form.is_valid():
        expected_version(form, consent)
        try:
            consent_services.consent_withdraw(consent=consent, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"You withdrew your consent “{consent.text.title}”. The clinic can see it now.")
            return redirect("cases:portal_consent_detail", consent_id=consent.public_id)
    return render(request, "portal/care_consent_withdraw.html", {"consent": consent, "form": form})


# ---------------------------------------------------------------------------- aftercare


@dataclass(frozen=True)
class CheckLine:
    """A check-up as the client reads it: what (in their words) and which day."""

    label: str
    day: datetime.date


@dataclass
class SessionAftercare:
    """One recent session on the aftercare page. Only what the client may read: no
    internal notes, no follow-up notes or review, no laser settings."""

    kind: str
    kind_label: str
    day: datetime.date
    days_since: int
    countdowns: list[aftercare.Countdown]
    healing_window: aftercare.HealingCheck | None  # laser, while the clinic has recorded no check
    spf_from: datetime.date | None
    done: CheckLine | None
    next: CheckLine | None
    missed: CheckLine | None
    findings: list[str]  # adverse findings of the latest check, in the client's words
    aftercare_notes: str
    notes_for_client: str

    @property
    def findings_text(self) -> str:
        return aftercare.in_words(self.findings)


def _check_line(follow_up: FollowUp | None, day: datetime.date | None = None) -> CheckLine | None:
    if follow_up is None:
        return None
    label = FOLLOW_UP_WORDS.get(follow_up.kind, follow_up.get_kind_display())
    return CheckLine(label, day or follow_up.due_on)


def _recent_sessions(user, today: datetime.date) -> list[tuple[str, LaserSession | CorrectionSession]]:
    """The client's recent completed sessions, latest first (`aftercare.recent`).

    A session shows as soon as it is recorded as completed: the status is the clinic's
    word that it happened (the session rules refuse completing one whose time has not
    come), so no date filter second-guesses it.
    """
    found = []
    for kind, model in ((aftercare.LASER, LaserSession), (aftercare.CORRECTION, CorrectionSession)):
        latest = model.objects.visible_to(user).completed().latest_first()[: aftercare.RECENT_SESSIONS_MAX]
        found += [(kind, session) for session in latest]
    return aftercare.recent(found, today=today)


def _session_aftercare(kind: str, session, found: aftercare.Checks, today: datetime.date) -> SessionAftercare:
    day = session.day
    done = found.done
    findings = aftercare.findings_in_words(done) if done is not None else []
    return SessionAftercare(
        kind=kind,
        kind_label="Laser session" if kind == aftercare.LASER else session.get_kind_display(),
        day=day,
        days_since=max(0, (today - day).days),
        countdowns=aftercare.countdowns(kind=kind, session_day=day, today=today),
        healing_window=(
            aftercare.healing_check(session_day=day, today=today)
            if kind == aftercare.LASER and not found.recorded
            else None
        ),
        spf_from=aftercare.spf_from(session_day=day) if kind == aftercare.CORRECTION else None,
        done=_check_line(done, done.completed_on if done else None),
        next=_check_line(found.next),
        missed=_check_line(found.missed),
        findings=findings,
        aftercare_notes=session.aftercare_notes,
        notes_for_client=session.notes_for_client,
    )


def _plan_aftercare(user, case_ids: list[int]) -> list[str]:
    """The aftercare text of each case's plan as the client knows it, once each: the
    agreed plan (a revision being prepared beside it does not replace it until the client
    accepts it), or before any acceptance the approved proposal."""
    texts: list[str] = []
    chosen: dict[int, TreatmentPlan] = {}
    plans = (
        TreatmentPlan.objects.visible_to(user)
        .standing()
        .filter(case_id__in=case_ids)
        .order_by("case_id", "-version")
        .only("case_id", "version", "status", "archived_at", "aftercare")
    )
    for plan in plans:
        held = chosen.get(plan.case_id)
        if held is None or (plan.is_agreed and not held.is_agreed):
            chosen[plan.case_id] = plan
    for plan in chosen.values():
        if plan.aftercare.strip() and plan.aftercare not in texts:
            texts.append(plan.aftercare)
    return texts


@client_required
@require_safe
@never_cache
def portal_aftercare(request):
    """The client's recent completed sessions, each with the countdowns of its aftercare
    periods (cases.aftercare), what the clinic recorded at the checks after it (done,
    next, missed, and a plain-language note when a check found more than the expected
    course of healing), and the instructions given.

    Never cached: the page must say what the clinic recorded a moment ago.
    """
    client = own_client(request.user)  # 404 once the client is archived
    audit.saw(request, "portal aftercare", client_id=client.pk)
    today = timezone.localdate()
    sessions = _recent_sessions(request.user, today)
    items: list[SessionAftercare] = []
    plan_aftercare: list[str] = []
    if sessions:
        case_ids = sorted({session.case_id for _, session in sessions})
        follow_ups = (
            FollowUp.objects.visible_to(request.user)
            .filter(case_id__in=case_ids)
            .exclude(status=FollowUpStatus.CANCELLED)
            .with_adverse_findings()
            .prefetch_related("side_effects")
        )
        by_session: dict[tuple[str, int], list[FollowUp]] = {}
        for follow_up in follow_ups:
            home = aftercare.home_of(follow_up, sessions)
            if home is not None:
                by_session.setdefault(home, []).append(follow_up)
        items = [
            _session_aftercare(
                kind, session, aftercare.checks(by_session.get(aftercare.session_key(kind, session), [])), today
            )
            for kind, session in sessions
        ]
        plan_aftercare = _plan_aftercare(request.user, case_ids)
    phone = ClinicSettings.cached().phone.strip()
    context = {
        "sessions": items,
        "plan_aftercare": plan_aftercare,
        "today": today,
        "spf_advice": aftercare.SPF_ADVICE,
        "clinic_phone": phone,
        "clinic_phone_href": "".join(ch for ch in phone if ch.isdigit() or ch == "+"),
    }
    return render(request, "portal/care_aftercare.html", context)
