"""Reminder e-mails: who gets what and when, sent once (cases/reminders.py, send_reminders)."""

from __future__ import annotations

import datetime
import email
import email.policy
import smtplib
import zoneinfo
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from cases import reminders
from cases.choices import AdverseEventChoice, CaseStatus, FollowUpStatus, ReminderKind, SessionStatus
from cases.models import AdverseEventKind, SentReminder
from smpclinic.models import ClinicSettings
from tests import factories
from tests.helpers import assert_queries_hold, recorded_sql

LONDON = zoneinfo.ZoneInfo("Europe/London")
WEDNESDAY = datetime.date(2026, 11, 25)  # factories.TODAY
MONDAY = datetime.date(2026, 11, 23)


def at(day: datetime.date, hour: int = 10, minute: int = 0, tz=LONDON) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=tz)


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


@pytest.fixture
def wednesday():
    """09:00 in London on Wednesday 25 November 2026; the clinic reminds 2 days ahead."""
    with time_machine.travel(at(WEDNESDAY, 9), tick=False):
        yield WEDNESDAY


@pytest.fixture
def clinic(db):
    clinic = ClinicSettings.load()
    clinic.name = "Hairline Repair Clinic"
    clinic.phone = "0113 496 0000"
    clinic.email = "desk@hairline.example"
    clinic.address = "1 Park Row\nLeeds"
    clinic.save()
    return clinic


def client(**kwargs):
    kwargs.setdefault("reminders_opt_in", True)
    return factories.ClientFactory(**kwargs)


def planned_laser(when: datetime.datetime, who=None, **kwargs):
    case = kwargs.pop("case", None) or factories.CaseFactory(client=who or client(), status=CaseStatus.IN_TREATMENT)
    return factories.LaserSessionFactory(
        case=case,
        scheduled_at=when,
        status=SessionStatus.SCHEDULED,
        internal_notes="INTERNAL-NOTE: watch the temple",
        **kwargs,
    )


def planned_follow_up(due_on: datetime.date, who=None, **kwargs):
    case = kwargs.pop("case", None) or factories.CaseFactory(client=who or client(), status=CaseStatus.FOLLOW_UP)
    return factories.FollowUpFactory(case=case, due_on=due_on, notes="INTERNAL-NOTE: slow healer", **kwargs)


def send(day: datetime.date | None = None, *extra: str) -> str:
    out = StringIO()
    args = ["send_reminders", *extra]
    if day:
        args += ["--date", day.isoformat()]
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def to(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address]]


def keys_due(day: datetime.date) -> set[str]:
    return {d.key for d in reminders.due_reminders(day)}


# --- client reminders: lead days and the window -------------------------------------------


def test_session_two_days_ahead_is_reminded_and_three_days_ahead_waits(clinic, wednesday):
    soon = planned_laser(at(WEDNESDAY + days(2), 14, 30))
    later = planned_laser(at(WEDNESDAY + days(3)))

    send()

    assert [m.to for m in mail.outbox] == [[soon.case.client.email]]
    message = mail.outbox[0]
    assert message.subject == "Reminder: your laser session on Friday 27 November at 14:30"
    assert "Friday 27 November 2026 at 14:30" in message.body
    row = SentReminder.objects.get()
    assert row.kind == ReminderKind.CLIENT_SESSION
    assert row.key == f"client_session:{soon.public_id}:2026-11-27T14:30Z"
    assert row.client == soon.case.client
    assert row.sent_at is not None and row.error == ""
    assert row.subject == message.subject

    # The next day the later session is two days ahead in turn.
    with time_machine.travel(at(WEDNESDAY + days(1), 9), tick=False):
        send()
    assert [m.to for m in mail.outbox[1:]] == [[later.case.client.email]]


def test_a_skipped_cron_day_is_caught_up_not_missed(clinic, wednesday):
    """Window, not one day: a session tomorrow that was not reminded yet still is."""
    tomorrow = planned_laser(at(WEDNESDAY + days(1), 16))
    follow_up = planned_follow_up(WEDNESDAY + days(1))

    send()

    assert {m.to[0] for m in mail.outbox} == {tomorrow.case.client.email, follow_up.case.client.email}


def test_today_and_the_past_are_never_reminded(clinic, wednesday):
    planned_laser(at(WEDNESDAY, 15))  # later today
    planned_follow_up(WEDNESDAY)  # due today: the staff digest's business, not the client's
    planned_laser(at(WEDNESDAY - days(1), 11))  # yesterday

    send()
    send(MONDAY)  # a backfill acting as Monday: its window (Tue, Wed) is past or today now

    assert [m for m in mail.outbox if m.subject.startswith("Reminder")] == []
    assert not SentReminder.objects.exclude(kind=ReminderKind.STAFF_DIGEST).exists()


def test_lead_days_come_from_the_clinic_settings(clinic, wednesday):
    clinic.reminder_lead_days = 5
    clinic.save()
    five = planned_laser(at(WEDNESDAY + days(5)))
    planned_laser(at(WEDNESDAY + days(6)))

    send()

    assert [m.to for m in mail.outbox] == [[five.case.client.email]]


def test_follow_up_reminder_to_the_client(clinic, wednesday):
    follow_up = planned_follow_up(WEDNESDAY + days(2), kind="post_laser_check")

    send()

    [message] = to(follow_up.case.client.email)
    assert message.subject == "Reminder: your post-laser check on Friday 27 November"
    assert "Friday 27 November 2026" in message.body
    assert SentReminder.objects.get(client=follow_up.case.client).key == (
        f"client_follow_up:{follow_up.public_id}:2026-11-27"
    )


def test_correction_session_named_in_plain_words(clinic, wednesday):
    session = factories.CorrectionSessionFactory(
        case=factories.CaseFactory(client=client()),
        scheduled_at=at(WEDNESDAY + days(2), 9, 15),
        status=SessionStatus.SCHEDULED,
        kind="saline_removal",
        pigment="SECRET-PIGMENT",
    )

    send()

    [message] = to(session.case.client.email)
    assert message.subject == "Reminder: your saline removal session on Friday 27 November at 09:15"
    assert "SECRET-PIGMENT" not in message.body


def test_the_clinic_time_zone_decides_the_day_and_the_time(clinic):
    """Tokyo: 08:00 on the 27th there is still the 26th in UTC; the e-mail says 08:00."""
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
    clinic.time_zone = "Asia/Tokyo"
    clinic.save()
    with time_machine.travel(at(WEDNESDAY, 9, tz=tokyo), tick=False):
        session = planned_laser(at(WEDNESDAY + days(2), 8, tz=tokyo))
        planned_laser(at(WEDNESDAY + days(3), 8, tz=tokyo))
        send()

    [message] = mail.outbox
    assert message.to == [session.case.client.email]
    assert "Friday 27 November 2026 at 08:00" in message.body
    assert SentReminder.objects.get().key.endswith(":2026-11-26T23:00Z")


# --- who gets nothing ---------------------------------------------------------------------


def test_opted_out_clients_and_clients_without_email_get_nothing(clinic, wednesday):
    planned_laser(at(WEDNESDAY + days(2)), who=client(reminders_opt_in=False))
    planned_follow_up(WEDNESDAY + days(2), who=client(reminders_opt_in=False))
    planned_laser(at(WEDNESDAY + days(2)), who=client(email=""))
    planned_follow_up(WEDNESDAY + days(2), who=client(email=""))

    send()

    assert [m for m in mail.outbox if m.subject.startswith("Reminder")] == []
    assert not SentReminder.objects.filter(kind__in=[ReminderKind.CLIENT_SESSION, ReminderKind.CLIENT_FOLLOW_UP])


def test_archived_cancelled_and_withdrawn_are_skipped(clinic, wednesday, staff_user):
    when = at(WEDNESDAY + days(2))
    archived_client = client()
    planned_laser(when, who=archived_client)
    archived_client.archive(by=staff_user, reason="Duplicate record")
    archived_case = planned_laser(when).case
    archived_case.archive(by=staff_user, reason="Opened by mistake")
    planned_laser(when).archive(by=staff_user, reason="Entered twice")
    cancelled = planned_laser(when)
    cancelled.status = SessionStatus.CANCELLED
    cancelled.save()
    planned_laser(
        when,
        case=factories.CaseFactory(client=client(), status=CaseStatus.WITHDRAWN, withdrawn_reason="Moved abroad"),
    )
    planned_follow_up(WEDNESDAY + days(2), status=FollowUpStatus.CANCELLED)
    planned_follow_up(WEDNESDAY + days(2)).archive(by=staff_user, reason="Entered twice")
    kept = planned_laser(when)

    send()

    client_mail = [m for m in mail.outbox if m.subject.startswith("Reminder")]
    assert [m.to for m in client_mail] == [[kept.case.client.email]]


# --- content --------------------------------------------------------------------------------


def test_client_email_has_both_parts_the_clinic_name_and_nothing_internal(clinic, wednesday, settings):
    settings.DEFAULT_FROM_EMAIL = "reminders@hairline.example"
    session = planned_laser(at(WEDNESDAY + days(2), 14, 30), who=client(first_name="Alice", preferred_name="Al"))

    send()

    [message] = mail.outbox
    assert message.from_email == '"Hairline Repair Clinic" <reminders@hairline.example>' or message.from_email == (
        "Hairline Repair Clinic <reminders@hairline.example>"
    )
    assert message.message()["From"] in {
        "Hairline Repair Clinic <reminders@hairline.example>",
        '"Hairline Repair Clinic" <reminders@hairline.example>',
    }
    assert message.reply_to == ["desk@hairline.example"]
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    for part in (message.body, html):
        assert "Al" in part
        assert "laser session" in part
        assert "0113 496 0000" in part  # clinic contact
        assert "contact the clinic" in part  # how to stop the reminders
        assert "Park Row" in part
        assert "INTERNAL-NOTE" not in part
        for parameter in ("1064", "2.50", "450", "J/cm", "fluence", "nm"):
            assert parameter not in part, parameter
    assert "<strong>Friday 27 November 2026 at 14:30</strong>" in html
    assert "&lt;" not in message.body and "&amp;" not in message.body
    assert session.case.reference not in message.body  # nothing from the clinical record


def test_clinic_name_with_special_characters_is_encoded_in_from(clinic, wednesday, settings):
    settings.DEFAULT_FROM_EMAIL = "Old Name <noreply@hairline.example>"
    clinic.name = "Clinique Dupré, Leeds"
    clinic.save()
    planned_laser(at(WEDNESDAY + days(2)))

    send()

    raw = mail.outbox[0].message().as_bytes()
    [sender] = email.message_from_bytes(raw, policy=email.policy.default)["From"].addresses
    assert sender.display_name == "Clinique Dupré, Leeds"
    assert sender.addr_spec == "noreply@hairline.example"


# --- staff digest ---------------------------------------------------------------------------


def test_staff_digest_lists_due_today_and_overdue_only_for_those_who_have_some(clinic, wednesday):
    busy = factories.StaffUserFactory(first_name="Bea", last_name="Busy")
    idle = factories.StaffUserFactory()
    manager = factories.ManagerUserFactory()
    no_email = factories.StaffUserFactory(email="")
    gone = factories.StaffUserFactory(is_active=False)
    today = planned_follow_up(WEDNESDAY, assignee=busy, who=client(reminders_opt_in=False))
    late = planned_follow_up(WEDNESDAY - days(3), assignee=busy, kind="satisfaction")
    planned_follow_up(WEDNESDAY + days(5), assignee=idle)
    planned_follow_up(WEDNESDAY - days(1), assignee=idle, status=FollowUpStatus.COMPLETED, completed_on=WEDNESDAY)
    managers_own = planned_follow_up(WEDNESDAY - days(10), assignee=manager)
    planned_follow_up(WEDNESDAY, assignee=no_email)
    planned_follow_up(WEDNESDAY, assignee=gone)

    send()

    [digest] = to(busy.email)
    assert digest.subject == "Follow-ups for Wed 25 Nov: 1 due today, 1 overdue"
    assert "Bea Busy" in digest.body
    assert today.case.reference in digest.body and late.case.reference in digest.body
    assert "3 days overdue" in digest.body
    assert today.case.client.last_name not in digest.body  # no client names in staff mail
    assert "INTERNAL-NOTE" not in digest.body
    [(html, _)] = digest.alternatives
    assert late.case.reference in html
    assert to(idle.email) == []
    manager_mail = to(manager.email)
    assert {m.subject.split(":")[0] for m in manager_mail} == {"Follow-ups for Wed 25 Nov", "Weekly summary 2026-W48"}
    assert any(managers_own.case.reference in m.body for m in manager_mail)
    assert to(gone.email) == []
    assert SentReminder.objects.filter(kind=ReminderKind.STAFF_DIGEST).count() == 2
    assert SentReminder.objects.get(user=busy).key == f"staff_digest:{busy.pk}:2026-11-25"


def test_digest_links_to_cases_when_the_site_address_is_set(clinic, wednesday, settings):
    settings.SMP_SITE_URL = "https://clinic.example/"
    follow_up = planned_follow_up(WEDNESDAY, assignee=factories.StaffUserFactory())

    send()

    [digest] = to(follow_up.assignee.email)
    assert f"https://clinic.example/cases/{follow_up.case.public_id}/" in digest.body


def test_digest_and_summary_are_daily_and_weekly(clinic, wednesday):
    staff = factories.StaffUserFactory()
    manager = factories.ManagerUserFactory()
    planned_follow_up(WEDNESDAY - days(2), assignee=staff)

    send()
    send()
    with time_machine.travel(at(WEDNESDAY + days(1), 9), tick=False):
        send()
    with time_machine.travel(at(WEDNESDAY + days(5), 9), tick=False):  # Monday of the next ISO week
        send()

    assert len(to(staff.email)) == 3  # Wednesday, Thursday, Monday: still overdue each day
    summaries = to(manager.email)
    assert [m.subject.split(":")[0] for m in summaries] == ["Weekly summary 2026-W48", "Weekly summary 2026-W49"]


# --- manager summary ------------------------------------------------------------------------


def test_weekly_summary_figures(clinic):
    with time_machine.travel(at(MONDAY, 7), tick=False):
        manager = factories.ManagerUserFactory()
        factories.ManagerUserFactory(email="")  # no address, no mail
        planned_follow_up(MONDAY - days(1))  # overdue
        planned_follow_up(MONDAY - days(20))  # overdue
        planned_follow_up(MONDAY)  # due this week
        planned_follow_up(MONDAY + days(6))  # due this week (Sunday)
        planned_follow_up(MONDAY + days(7))  # due in the next 7 days (as the review queue counts)
        planned_follow_up(MONDAY + days(8))  # later
        planned_follow_up(
            MONDAY - days(3), status=FollowUpStatus.COMPLETED, completed_on=MONDAY - days(3)
        )  # awaiting review
        last_week = at(MONDAY - days(4))
        erythema = AdverseEventKind.objects.get(code=AdverseEventChoice.ERYTHEMA)
        blistering = AdverseEventKind.objects.get(code=AdverseEventChoice.BLISTERING)
        first = factories.LaserSessionFactory(scheduled_at=last_week)
        first.adverse_events.set([erythema, blistering])
        factories.LaserSessionFactory(scheduled_at=last_week).adverse_events.set([erythema])
        factories.LaserSessionFactory(scheduled_at=last_week)
        factories.LaserSessionFactory(scheduled_at=at(MONDAY - days(8))).adverse_events.set([blistering])  # older
        factories.CorrectionSessionFactory(scheduled_at=last_week)
        send()

    [summary] = to(manager.email)
    assert summary.subject == "Weekly summary 2026-W48: 2 overdue follow-ups, 1 awaiting review"
    body = summary.body
    for line in (
        "- Overdue: 2",
        "- Due in the next 7 days: 3",
        "- Completed or missed, awaiting review: 1",
        "Last week (16 Nov – 22 Nov 2026)",
        "- Laser sessions completed: 3",
        "- Correction sessions completed: 1",
        "- Laser sessions with adverse events: 2",
        "  - Erythema (redness): 2",
        "  - Blistering: 1",
    ):
        assert line in body, line
    [(html, _)] = summary.alternatives
    assert "<caption>Adverse events last week (laser sessions)</caption>" in html
    assert SentReminder.objects.get(user=manager).key == f"manager_summary:{manager.pk}:2026-W48"


def test_weekly_summary_counts_due_soon_as_the_review_queue_does(clinic, as_manager):
    from cases.models import FollowUp

    with time_machine.travel(at(MONDAY, 7), tick=False):
        for n in (-1, 0, 3, 6, 7, 8):
            planned_follow_up(MONDAY + days(n))
        figures = reminders.weekly_figures(MONDAY, clinic)
        page = as_manager.get(reverse("cases:review_queue"))
    due_soon = next(s for s in page.context["sections"] if s["slug"] == "due-soon")
    assert figures["due_next_7_days"] == len(due_soon["rows"]) == FollowUp.objects.due_within(7, MONDAY).count() == 4
    assert due_soon["title"] == "Due in the next 7 days"


# --- once and only once -------------------------------------------------------------------


def test_running_the_command_twice_sends_nothing_twice(clinic, wednesday):
    planned_laser(at(WEDNESDAY + days(2)))
    planned_follow_up(WEDNESDAY + days(1))
    planned_follow_up(WEDNESDAY - days(1), assignee=factories.StaffUserFactory())
    factories.ManagerUserFactory()

    first = send()
    sent = len(mail.outbox)
    second = send()
    third = send(None, "--now")

    assert sent == 4
    assert len(mail.outbox) == sent
    assert "4 enqueued" in first
    assert "nothing due" in second and "nothing due" in third
    assert SentReminder.objects.count() == 4
    assert SentReminder.objects.filter(sent_at__isnull=True).count() == 0


def test_a_rescheduled_session_is_reminded_again_with_the_new_time(clinic, wednesday):
    session = planned_laser(at(WEDNESDAY + days(2), 10))
    send()
    session.scheduled_at = at(WEDNESDAY + days(2), 15)
    session.save()
    send()

    assert [m.subject for m in mail.outbox] == [
        "Reminder: your laser session on Friday 27 November at 10:00",
        "Reminder: your laser session on Friday 27 November at 15:00",
    ]
    assert SentReminder.objects.count() == 2


def test_a_task_rechecks_that_its_reminder_is_still_due(clinic, wednesday):
    session = planned_laser(at(WEDNESDAY + days(2)))
    [due] = reminders.due_reminders(WEDNESDAY)
    session.status = SessionStatus.CANCELLED
    session.save()

    assert reminders.send_due(due) == reminders.NOT_DUE
    assert mail.outbox == [] and not SentReminder.objects.exists()


def test_a_claimed_reminder_is_not_sent_again_by_a_late_task(clinic, wednesday):
    planned_laser(at(WEDNESDAY + days(2)))
    [due] = reminders.due_reminders(WEDNESDAY)

    assert reminders.send_due(due) == reminders.SENT
    assert reminders.send_due(due) == reminders.ALREADY_CLAIMED  # a duplicate task in the queue
    assert len(mail.outbox) == 1


def test_dry_run_prints_and_sends_and_claims_nothing(clinic, wednesday):
    session = planned_laser(at(WEDNESDAY + days(2)))

    output = send(None, "--dry-run")

    assert "would send: client_session → " + session.case.client.email in output
    assert "1 would send" in output
    assert mail.outbox == [] and not SentReminder.objects.exists()


def test_bad_date_is_refused(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("send_reminders", "--date", "25/11/2026")


class RefusingBackend:
    """An SMTP server that is down (the one thing outside the machine)."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def test_smtp_failure_is_recorded_and_retried_once_by_the_next_run(clinic, wednesday, settings):
    session = planned_laser(at(WEDNESDAY + days(2)))
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"

    err = StringIO()
    call_command("send_reminders", "--now", stdout=StringIO(), stderr=err)

    row = SentReminder.objects.get()
    assert row.sent_at is None
    assert row.error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert "failed" in err.getvalue()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert {d.key for d in reminders.due_reminders(WEDNESDAY)} == {row.key}  # still due: retry
    send()
    send()

    assert [m.to for m in mail.outbox] == [[session.case.client.email]]
    row.refresh_from_db()
    assert row.sent_at is not None and row.error == ""


def test_a_claim_without_result_is_left_for_a_person(clinic, wednesday):
    """A worker that died while sending leaves sent_at and error empty: never resent."""
    session = planned_laser(at(WEDNESDAY + days(2)))
    SentReminder.objects.create(
        kind=ReminderKind.CLIENT_SESSION, key=reminders.session_key(session), recipient=session.case.client.email
    )

    send()

    assert mail.outbox == []


# --- cost -----------------------------------------------------------------------------------


def _world(n: int) -> None:
    manager = factories.ManagerUserFactory()
    staff = factories.StaffUserFactory()
    for i in range(n):
        planned_laser(at(WEDNESDAY + days(1 + i % 2), 9 + i % 8))
        planned_follow_up(WEDNESDAY + days(2), assignee=staff)
        planned_follow_up(WEDNESDAY - days(i % 3), assignee=manager)


def test_selection_runs_in_a_fixed_number_of_queries(clinic, wednesday):
    _world(3)
    with recorded_sql() as small:
        small_due = reminders.due_reminders(WEDNESDAY, clinic)
    _world(12)
    with recorded_sql() as large:
        large_due = reminders.due_reminders(WEDNESDAY, clinic)

    # laser sessions, correction sessions, client follow-ups, digest follow-ups, managers,
    # claimed keys; clinic_today (a date) needs no query when the clinic is passed.
    assert_queries_hold(small, large, at_most=6)
    assert len(large_due) > len(small_due)


def test_clinic_today_follows_the_clinic_time_zone(clinic):
    clinic.time_zone = "Pacific/Auckland"
    clinic.save()
    with time_machine.travel(datetime.datetime(2026, 11, 25, 12, 0, tzinfo=datetime.UTC), tick=False):
        assert reminders.clinic_today(clinic) == datetime.date(2026, 11, 26)
        assert timezone.localdate() == datetime.date(2026, 11, 25)


# --- plain-text parts are never HTML-escaped ------------------------------------------------


def test_client_reminder_text_and_subject_are_not_html_escaped(clinic, wednesday):
    clinic.name = "O'Neil & Co <Scalp>"
    clinic.save()
    planned_laser(at(WEDNESDAY + days(2), 14, 30), who=client(first_name="Darcy", preferred_name="D'Arcy"))

    send()

    [message] = mail.outbox
    assert "Hello D'Arcy," in message.body
    assert "O'Neil & Co <Scalp>" in message.body
    for escaped in ("&#x27;", "&amp;", "&lt;"):
        assert escaped not in message.body and escaped not in message.subject
    [(html, _mimetype)] = message.alternatives
    assert "O&#x27;Neil &amp; Co &lt;Scalp&gt;" in html


@pytest.mark.parametrize("template", ["client_session", "client_follow_up"])
def test_reminder_subjects_are_plain_text(clinic, template):
    reminder = reminders.ReminderEmail(
        kind=ReminderKind.CLIENT_SESSION,
        key=f"test:{template}",
        recipient="a@example.com",
        template=template,
        context={"name": "D'Arcy", "what": "check & touch-up", "day": WEDNESDAY, "time": "14:30"},
    )
    message = reminder.render(clinic)
    assert "check & touch-up" in message.subject
    assert "&amp;" not in message.subject
    assert "D'Arcy" in message.body and "check & touch-up" in message.body
