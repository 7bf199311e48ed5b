"""Reminders with real concurrency and the real queue: two workers at once, and the
django-tasks-db DatabaseBackend drained by `manage.py db_worker`.

These tests commit (transaction=True): each thread has its own database connection, and
the worker closes connections, which a test wrapped in a transaction would not survive.
"""

from __future__ import annotations

import datetime
import signal
import threading
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django_tasks_db.models import DBTaskResult

from cases import reminders
from cases.choices import CaseStatus, ReminderKind, SessionStatus
from cases.models import SentReminder
from smpclinic.models import ClinicSettings
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 6


def _clinic_world() -> tuple[ClinicSettings, datetime.date]:
    """Six opted-in clients with a session two days ahead, a staff member with an overdue
    follow-up and a manager: six client reminders, one digest and one weekly summary."""
    clinic = ClinicSettings.load()
    today = reminders.clinic_today(clinic)
    session_day = reminders.day_start(today + datetime.timedelta(days=2), clinic)
    for i in range(CLIENTS):
        case = factories.CaseFactory(
            client=factories.ClientFactory(reminders_opt_in=True), status=CaseStatus.IN_TREATMENT
        )
        factories.LaserSessionFactory(
            case=case, status=SessionStatus.SCHEDULED, scheduled_at=session_day + datetime.timedelta(hours=9 + i)
        )
    staff = factories.StaffUserFactory()
    factories.FollowUpFactory(due_on=today - datetime.timedelta(days=1), assignee=staff)
    factories.ManagerUserFactory()
    return clinic, today


def _run_in_threads(work, n: int = 2) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(n)

    def run() -> None:
        try:
            start.wait(timeout=10)
            work()
        except BaseException as exc:  # reported by the caller; a thread cannot fail a test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_two_workers_claiming_the_same_reminders_send_each_once():
    """Both workers hold every reminder (a task enqueued twice) and race on each one."""
    clinic, today = _clinic_world()
    due = reminders.due_reminders(today, clinic)
    assert len(due) == CLIENTS + 2
    outcomes: list[str] = []

    def work() -> None:
        for item in due:
            outcomes.append(reminders.send_due(item))

    assert _run_in_threads(work) == []

    assert sorted(outcomes).count(reminders.SENT) == len(due)
    assert sorted(outcomes).count(reminders.ALREADY_CLAIMED) == len(due)
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted(item.recipient for item in due)
    assert SentReminder.objects.count() == len(due)
    assert not SentReminder.objects.filter(sent_at__isnull=True).exists()


def test_two_cron_runs_at_once_send_each_reminder_once():
    """`send_reminders --now` started twice at the same moment (overlapping cron jobs)."""
    _clinic_world()

    def work() -> None:
        call_command("send_reminders", "--now", stdout=StringIO(), stderr=StringIO())

    assert _run_in_threads(work) == []

    expected = CLIENTS + 2
    assert len(mail.outbox) == expected
    assert len({tuple(m.to) + (m.subject,) for m in mail.outbox}) == expected
    assert SentReminder.objects.filter(sent_at__isnull=False).count() == expected


@pytest.fixture
def database_backend(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    # db_worker installs its own SIGINT/SIGTERM handlers; give the test process its own back.
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def _drain() -> None:
    call_command("db_worker", batch=True, interval=0, startup_delay=False, reload=False, verbosity=0)


def test_enqueue_then_db_worker_sends_and_records(database_backend):
    clinic, today = _clinic_world()

    output = StringIO()
    call_command("send_reminders", stdout=output)

    expected = CLIENTS + 2
    assert f"{expected} enqueued" in output.getvalue()
    assert mail.outbox == []  # queued, not sent
    assert DBTaskResult.objects.ready().count() == expected
    assert set(DBTaskResult.objects.values_list("task_path", flat=True)) == {
        "cases.tasks.send_session_reminder",
        "cases.tasks.send_staff_digest",
        "cases.tasks.send_manager_summary",
    }

    # cron fires again before the worker ran: the same reminders are queued twice.
    call_command("send_reminders", stdout=StringIO())
    assert DBTaskResult.objects.ready().count() == 2 * expected

    _drain()

    assert DBTaskResult.objects.successful().count() == 2 * expected
    assert sorted(DBTaskResult.objects.values_list("return_value", flat=True)) == sorted(
        [reminders.SENT] * expected + [reminders.ALREADY_CLAIMED] * expected
    )
    assert len(mail.outbox) == expected
    assert all(m.alternatives[0][1] == "text/html" for m in mail.outbox)
    assert SentReminder.objects.filter(sent_at__isnull=False).count() == expected
    assert SentReminder.objects.filter(kind=ReminderKind.CLIENT_SESSION).count() == CLIENTS

    # Everything is recorded: the next cron run has nothing left to queue.
    call_command("send_reminders", stdout=StringIO())
    assert DBTaskResult.objects.ready().count() == 0


class RefusingBackend:
    """An SMTP server that is down (the one thing outside the machine)."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError(111, "Connection refused")


def test_a_failed_send_fails_the_task_and_is_retried_by_the_next_run(database_backend, settings):
    clinic, today = _clinic_world()
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    call_command("send_reminders", stdout=StringIO())
    _drain()

    assert DBTaskResult.objects.failed().count() == CLIENTS + 2
    assert SentReminder.objects.exclude(error="").count() == CLIENTS + 2
    assert "Connection refused" in SentReminder.objects.first().error

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("send_reminders", stdout=StringIO())
    _drain()

    assert len(mail.outbox) == CLIENTS + 2
    assert not SentReminder.objects.exclude(error="").exists()
    assert not SentReminder.objects.filter(sent_at__isnull=True).exists()
