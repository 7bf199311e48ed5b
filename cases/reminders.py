"""Reminder e-mails: what is due on a day, and sending each one exactly once.

Three kinds go out:

- clients who agreed to reminders and have an e-mail address hear about a planned session
  or a scheduled follow-up `ClinicSettings.reminder_lead_days` days ahead;
- each clinic user gets a daily digest of their follow-ups due today or overdue (only when
  there is one);
- managers get a weekly summary, once per ISO week, on the first run of the week.

Client reminders use a window, not a single day: on day D everything planned from D+1 to
D+lead that was not reminded yet is due. A session booked ten days ahead is therefore
reminded exactly `lead` days before; one booked for tomorrow is reminded at the next run;
and if cron skips a day, the next run catches up instead of silently missing reminders.
The window never sends twice because every reminder has a unique `SentReminder.key`
naming the item and its date (a rescheduled session is a new reminder, with the new time).

Sending is claim-then-send: the `SentReminder` row is inserted in its own transaction
before the e-mail goes out. The unique key makes a second claim fail (IntegrityError), so
running the scheduler twice, or two workers picking up the same reminder, sends it once.
Retry policy: if the mail backend raises, the error is recorded on the row and the next
run may re-claim it (a conditional UPDATE, so again only one worker wins) while the
reminder is still due. A claim with neither `sent_at` nor `error` (a worker died while
sending) is never retried automatically: nobody knows whether the message left, and a
duplicate is worse than a reminder a person can re-check in the admin.

Dates are the clinic's calendar (`ClinicSettings.time_zone`).
"""

from __future__ import annotations

import datetime
import smtplib
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from cases.choices import CaseStatus, ReminderKind, SessionStatus
from cases.forms.followups import clinic_users
from cases.models import AdverseEventKind, Booking, CorrectionSession, FollowUp, LaserSession, SentReminder
from cases.models.cases import live_case
from smpclinic import roles
from smpclinic.mail import LOGO_SRC, attach_logo
from smpclinic.mail import clinic_sender as from_address
from smpclinic.models import ClinicSettings

SENT = "sent"
ALREADY_CLAIMED = "already claimed"
NOT_DUE = "no longer due"

# The models a client session reminder can be about, by the name tasks carry.
SESSION_MODELS: dict[str, type[LaserSession] | type[CorrectionSession]] = {
    "laser": LaserSession,
    "correction": CorrectionSession,
}


class ReminderNotSent(Exception):
    """The mail backend refused a claimed reminder; the error is on its SentReminder row."""


# --- the clinic's calendar -------------------------------------------------------------


def clinic_zone(clinic: ClinicSettings) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(clinic.time_zone)


def clinic_today(clinic: ClinicSettings | None = None) -> datetime.date:
    clinic = clinic or ClinicSettings.load()
    return timezone.localtime(timezone.now(), clinic_zone(clinic)).date()


def day_start(day: datetime.date, clinic: ClinicSettings) -> datetime.datetime:
    """Midnight at the start of `day` in the clinic's time zone (aware)."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=clinic_zone(clinic))


def reminder_window(day: datetime.date, clinic: ClinicSettings) -> tuple[datetime.date, datetime.date]:
    """First and last day (inclusive) whose appointments are reminded on `day`."""
    return day + datetime.timedelta(days=1), day + datetime.timedelta(days=clinic.reminder_lead_days)


def _future_window(day: datetime.date, clinic: ClinicSettings) -> tuple[datetime.date, datetime.date]:
    """The reminder window, cut to start tomorrow at the earliest (real time): a backfill
    with an old --date never reminds a client of today's or a past appointment."""
    first, last = reminder_window(day, clinic)
    return max(first, clinic_today(clinic) + datetime.timedelta(days=1)), last


def iso_week_label(day: datetime.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


# --- what is due (reads only) ----------------------------------------------------------


# The client agreed to reminders, has an address and is not archived; the case is live.
CLIENT_CAN_BE_REMINDED = Q(case__client__reminders_opt_in=True, case__client__archived_at__isnull=True) & ~Q(
    case__client__email=""
)
LIVE_CASE = live_case("case__") & ~Q(case__status=CaseStatus.WITHDRAWN)


def upcoming_sessions(model: type[LaserSession] | type[CorrectionSession], day: datetime.date, clinic: ClinicSettings):
    """Planned sessions whose client gets a reminder on `day` (before the key check).

    Scheduled (not completed or cancelled), not archived, on a live case (not archived,
    not withdrawn) of an active client who opted in and has an e-mail address, on a day in
    the reminder window and not before tomorrow.
    """
    first, last = _future_window(day, clinic)
    return (
        model.objects.active()
        .filter(status=SessionStatus.SCHEDULED)
        .between(day_start(first, clinic), day_start(last + datetime.timedelta(days=1), clinic))
        .filter(LIVE_CASE, CLIENT_CAN_BE_REMINDED)
        .select_related("case__client")
        .order_by("scheduled_at", "pk")
    )


def upcoming_follow_ups(day: datetime.date, clinic: ClinicSettings):
    """Scheduled follow-ups whose client gets a reminder on `day` (same rules as sessions)."""
    first, last = _future_window(day, clinic)
    return (
        FollowUp.objects.active()
        .open()
        .filter(due_on__gte=first, due_on__lte=last)
        .filter(LIVE_CASE, CLIENT_CAN_BE_REMINDED)
        .select_related("case__client")
        .order_by("due_on", "pk")
    )


def digest_follow_ups(day: datetime.date):
    """Open follow-ups due on or before `day` on live cases of active clients, assigned to a
    clinic user with an e-mail address: what the daily digests list."""
    return (
        FollowUp.objects.active()
        .open()
        .on_live_cases()
        .filter(due_on__lte=day)
        .filter(assignee__in=clinic_users().exclude(email=""))
        .select_related("case", "assignee")
        .order_by("assignee_id", "due_on", "pk")
    )


def managers():
    """Who reviews follow-ups, with an e-mail address: the weekly summary's readers."""
    return roles.holders(roles.REVIEW_FOLLOW_UPS).exclude(email="").order_by("pk")


@dataclass(frozen=True)
class Due:
    """One reminder due on a day: its key, and the task (with JSON arguments) that sends it."""

    kind: str
    key: str
    recipient: str
    task: str  # a function name in cases.tasks
    args: tuple = ()
    description: str = ""


def session_key(session: LaserSession | CorrectionSession) -> str:
    # The time, not only the date: a session moved to another hour is a new reminder.
    at = session.scheduled_at.astimezone(datetime.UTC)
    return f"{ReminderKind.CLIENT_SESSION}:{session.public_id}:{at:%Y-%m-%dT%H:%MZ}"


def follow_up_key(followup: FollowUp) -> str:
    return f"{ReminderKind.CLIENT_FOLLOW_UP}:{followup.public_id}:{followup.due_on.isoformat()}"


def staff_digest_key(user_id: int, day: datetime.date) -> str:
    return f"{ReminderKind.STAFF_DIGEST}:{user_id}:{day.isoformat()}"


def manager_summary_key(user_id: int, day: datetime.date) -> str:
    return f"{ReminderKind.MANAGER_SUMMARY}:{user_id}:{iso_week_label(day)}"


def due_reminders(day: datetime.date, clinic: ClinicSettings | None = None) -> list[Due]:
    """Everything due on `day` that is not claimed yet (or whose last attempt failed).

    A fixed number of queries whatever the data size: one per kind, and one for the keys
    already claimed.
    """
    clinic = clinic or ClinicSettings.load()
    day_iso = day.isoformat()
    found: list[Due] = []
    for name, model in SESSION_MODELS.items():
        for session in upcoming_sessions(model, day, clinic):
            client = session.case.client
            found.append(
                Due(
                    ReminderKind.CLIENT_SESSION,
                    session_key(session),
                    client.email,
                    "send_session_reminder",
                    (name, session.pk, day_iso),
                    f"{session_label(session)} on {_local(session.scheduled_at, clinic):%-d %b %Y %H:%M}",
                )
            )
    for followup in upcoming_follow_ups(day, clinic):
        found.append(
            Due(
                ReminderKind.CLIENT_FOLLOW_UP,
                follow_up_key(followup),
                followup.case.client.email,
                "send_follow_up_reminder",
                (followup.pk, day_iso),
                f"{followup.get_kind_display().lower()} on {followup.due_on:%-d %b %Y}",
            )
        )
    per_user: dict[int, list[FollowUp]] = {}
    for followup in digest_follow_ups(day):
        per_user.setdefault(followup.assignee_id, []).append(followup)
    for user_id, items in per_user.items():
        found.append(
            Due(
                ReminderKind.STAFF_DIGEST,
                staff_digest_key(user_id, day),
                items[0].assignee.email,
                "send_staff_digest",
                (user_id, day_iso),
                f"{len(items)} follow-up(s) due or overdue",
            )
        )
    for manager in managers():
        found.append(
            Due(
                ReminderKind.MANAGER_SUMMARY,
                manager_summary_key(manager.pk, day),
                manager.email,
                "send_manager_summary",
                (manager.pk, day_iso),
                f"week {iso_week_label(day)}",
            )
        )
    # Claimed and either sent or in flight: not due again. Failed attempts stay due (retry).
    done = set(
        SentReminder.objects.filter(key__in=[d.key for d in found])
        .filter(Q(sent_at__isnull=False) | Q(error=""))
        .values_list("key", flat=True)
    )
    return [d for d in found if d.key not in done]


# --- what each e-mail says -------------------------------------------------------------


def _local(moment: datetime.datetime, clinic: ClinicSettings) -> datetime.datetime:
    return timezone.localtime(moment, clinic_zone(clinic))


def session_label(session: LaserSession | CorrectionSession) -> str:
    """The session in plain words, nothing clinical: “laser session”, “saline removal session”."""
    if isinstance(session, LaserSession):
        return "laser session"
    return f"{session.get_kind_display().lower()} session"


def clinic_contact(clinic: ClinicSettings) -> dict[str, Any]:
    return {
        "name": clinic.name,
        "address": clinic.address,
        "phone": clinic.phone,
        "email": clinic.email,
        "website": clinic.website,
    }


def _site_link(name: str, **kwargs) -> str:
    """An absolute link when the deployment names its address (SMP_SITE_URL), else ''."""
    base = getattr(settings, "SMP_SITE_URL", "").rstrip("/")
    if not base:
        return ""
    try:
        return base + reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return ""


@dataclass
class ReminderEmail:
    kind: str
    key: str
    recipient: str
    template: str  # templates/emails/<template>_subject.txt, .txt, .html
    context: dict[str, Any]
    user_id: int | None = None
    client_id: int | None = None
    subject: str = field(init=False, default="")

    def render(self, clinic: ClinicSettings, logo: bytes | None = None) -> EmailMultiAlternatives:
        """The message; `logo` (the clinic's PNG, if it has one) goes inside it."""
        context = {**self.context, "clinic": clinic_contact(clinic), "logo_src": LOGO_SRC if logo else ""}
        subject = render_to_string(f"emails/{self.template}_subject.txt", context)
        self.subject = " ".join(subject.split())[:200]
        text = render_to_string(f"emails/{self.template}.txt", context)
        html = render_to_string(f"emails/{self.template}.html", context)
        message = EmailMultiAlternatives(
            subject=self.subject,
            body=text,
            from_email=from_address(clinic),
            to=[self.recipient],
            reply_to=[clinic.email] if clinic.email else None,
        )
        message.attach_alternative(html, "text/html")
        attach_logo(message, logo)
        return message


def _booked_slot(appointment, clinic: ClinicSettings) -> dict[str, str]:
    """What the diary adds to a reminder: the booked time and its end, the room, and the
    link to the portal's appointments page (where the client also finds the calendar file).
    An appointment without a booking (made before the diary) has the link only."""
    slot = {"link": _site_link("cases:portal_appointments")}
    booking = Booking.objects.filter(**{_booking_link(appointment): appointment}).select_related("room").first()
    if booking is None:
        return slot
    start, end = _local(booking.starts_at, clinic), _local(booking.ends_at, clinic)
    return {
        **slot,
        "time": f"{start:%H:%M}",
        "until": f"{end:%H:%M}",
        "room": booking.room.name if booking.room_id else "",
    }


def _booking_link(appointment) -> str:
    if isinstance(appointment, LaserSession):
        return "laser_session"
    if isinstance(appointment, CorrectionSession):
        return "correction_session"
    return "follow_up"


def session_email(session: LaserSession | CorrectionSession, clinic: ClinicSettings) -> ReminderEmail:
    client = session.case.client
    # A date and a clock time, already in the clinic's zone: templates would convert an
    # aware datetime to the server's zone.
    when = _local(session.scheduled_at, clinic)
    return ReminderEmail(
        kind=ReminderKind.CLIENT_SESSION,
        key=session_key(session),
        recipient=client.email,
        template="client_session",
        context={
            "name": client.preferred_name or client.first_name,
            "what": session_label(session),
            "day": when.date(),
            "time": f"{when:%H:%M}",
            **_booked_slot(session, clinic),
        },
        client_id=client.pk,
    )


def follow_up_email(followup: FollowUp, clinic: ClinicSettings) -> ReminderEmail:
    client = followup.case.client
    return ReminderEmail(
        kind=ReminderKind.CLIENT_FOLLOW_UP,
        key=follow_up_key(followup),
        recipient=client.email,
        template="client_follow_up",
        context={
            "name": client.preferred_name or client.first_name,
            "what": followup.get_kind_display().lower(),
            "day": followup.due_on,
            **_booked_slot(followup, clinic),
        },
        client_id=client.pk,
    )


def staff_digest_email(user, followups: list[FollowUp], day: datetime.date) -> ReminderEmail:
    """Case reference, kind and due date only: no client names or notes in staff mailboxes."""
    rows = [
        {
            "reference": f.case.reference,
            "kind": f.get_kind_display(),
            "due_on": f.due_on,
            "days_overdue": (day - f.due_on).days,
            "link": _site_link("cases:case_detail", case_id=f.case.public_id),
        }
        for f in followups
    ]
    return ReminderEmail(
        kind=ReminderKind.STAFF_DIGEST,
        key=staff_digest_key(user.pk, day),
        recipient=user.email,
        template="staff_digest",
        context={
            "user": user,
            "day": day,
            "due_today": [r for r in rows if r["days_overdue"] == 0],
            "overdue": [r for r in rows if r["days_overdue"] > 0],
        },
        user_id=user.pk,
    )


def weekly_figures(day: datetime.date, clinic: ClinicSettings) -> dict[str, Any]:
    """The managers' weekly summary, as of `day`: aggregates in the database, six queries.

    “Last week” is the previous ISO week (Monday to Sunday) in the clinic's time zone.
    """
    monday = day - datetime.timedelta(days=day.weekday())
    last_monday = monday - datetime.timedelta(days=7)
    last_week = (day_start(last_monday, clinic), day_start(monday, clinic))
    live = FollowUp.objects.on_live_cases()
    laser_last_week = LaserSession.objects.active().on_live_cases().completed().between(*last_week)
    correction_last_week = CorrectionSession.objects.active().on_live_cases().completed().between(*last_week)
    events = (
        AdverseEventKind.objects.filter(laser_sessions__in=laser_last_week)
        .annotate(sessions=Count("laser_sessions", distinct=True))
        .order_by("-sessions", "position")
    )
    return {
        "overdue": live.overdue(today=day).count(),
        # The review queue's definition (cases.views.review): today and the 7 days after.
        "due_next_7_days": live.due_soon(day).count(),
        "awaiting_review": live.awaiting_review().count(),
        "laser_sessions_last_week": laser_last_week.count(),
        "correction_sessions_last_week": correction_last_week.count(),
        "sessions_with_adverse_events": laser_last_week.filter(adverse_events__isnull=False).distinct().count(),
        "adverse_events": [{"label": e.label, "sessions": e.sessions} for e in events],
        "last_week_start": last_monday,
        "last_week_end": monday - datetime.timedelta(days=1),
        "week": iso_week_label(day),
        "review_link": _site_link("cases:review_queue"),
    }


def manager_summary_email(user, day: datetime.date, figures: dict[str, Any]) -> ReminderEmail:
    return ReminderEmail(
        kind=ReminderKind.MANAGER_SUMMARY,
        key=manager_summary_key(user.pk, day),
        recipient=user.email,
        template="manager_summary",
        context={"user": user, "day": day, **figures},
        user_id=user.pk,
    )


# --- sending once ------------------------------------------------------------------------


def claim(email: ReminderEmail) -> SentReminder | None:
    """Take the reminder for this process, or None if someone else has (or had) it.

    The insert commits on its own before anything is sent; the unique key refuses a
    second one. A row whose last attempt failed (error recorded, never sent) is taken over
    with a conditional UPDATE, which only one process can win.
    """
    values = {
        "kind": email.kind,
        "recipient": email.recipient,
        "user_id": email.user_id,
        "client_id": email.client_id,
        "subject": email.subject,
    }
    try:
        with transaction.atomic():
            return SentReminder.objects.create(key=email.key, **values)
    except IntegrityError:
        pass
    retried = (
        SentReminder.objects.filter(key=email.key, sent_at__isnull=True)
        .exclude(error="")
        .update(error="", claimed_at=timezone.now(), **values)
    )
    return SentReminder.objects.get(key=email.key) if retried else None


def deliver(email: ReminderEmail, clinic: ClinicSettings) -> str:
    """Claim, then send, then record `sent_at`. Call outside any transaction, so the claim
    is visible to other workers before the message leaves."""
    message = email.render(clinic, clinic.logo_png())
    row = claim(email)
    if row is None:
        return ALREADY_CLAIMED
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        SentReminder.objects.filter(pk=row.pk).update(error=f"{type(exc).__name__}: {exc}"[:2000])
        raise ReminderNotSent(f"{email.key}: {exc}") from exc
    SentReminder.objects.filter(pk=row.pk).update(sent_at=timezone.now())
    return SENT


# Each function below re-checks at send time that the reminder is still due (the queue
# may have waited: a session cancelled meanwhile is not reminded), then delivers it.


def send_session_reminder(*, model: str, session_id: int, day: datetime.date) -> str:
    clinic = ClinicSettings.load()
    session = upcoming_sessions(SESSION_MODELS[model], day, clinic).filter(pk=session_id).first()
    if session is None:
        return NOT_DUE
    return deliver(session_email(session, clinic), clinic)


def send_follow_up_reminder(*, followup_id: int, day: datetime.date) -> str:
    clinic = ClinicSettings.load()
    followup = upcoming_follow_ups(day, clinic).filter(pk=followup_id).first()
    if followup is None:
        return NOT_DUE
    return deliver(follow_up_email(followup, clinic), clinic)


def send_staff_digest(*, user_id: int, day: datetime.date) -> str:
    clinic = ClinicSettings.load()
    followups = list(digest_follow_ups(day).filter(assignee_id=user_id))
    if not followups:
        return NOT_DUE
    return deliver(staff_digest_email(followups[0].assignee, followups, day), clinic)


def send_manager_summary(*, user_id: int, day: datetime.date) -> str:
    clinic = ClinicSettings.load()
    user = managers().filter(pk=user_id).first()
    if user is None:
        return NOT_DUE
    return deliver(manager_summary_email(user, day, weekly_figures(day, clinic)), clinic)


def send_due(due: Due) -> str:
    """Send one `Due` in this process (the command's --now): its task, called directly."""
    from cases import tasks  # cases.tasks imports this module

    return getattr(tasks, due.task).call(*due.args)
