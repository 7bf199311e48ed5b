"""`manage.py send_reminders`: find the reminder e-mails due today and queue them (cron)."""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases import reminders, tasks


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--date wants YYYY-MM-DD, not “{value}”.") from exc


class Command(BaseCommand):
    help = (
        "Find the reminders due today (client session and follow-up reminders, staff digests, the "
        "managers' weekly summary) and enqueue one task per e-mail for `manage.py db_worker`. Safe to "
        "run any number of times a day: each reminder is sent once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date", type=_date, default=None, help="The day to act as (YYYY-MM-DD); default today in the clinic."
        )
        parser.add_argument("--dry-run", action="store_true", help="Print what would be sent; send nothing.")
        parser.add_argument("--now", action="store_true", help="Send in this process instead of enqueuing.")

    def handle(self, *args, date: datetime.date | None, dry_run: bool, now: bool, **options) -> None:
        if dry_run and now:
            raise CommandError("Choose --dry-run or --now, not both.")
        day = date or reminders.clinic_today()
        due = reminders.due_reminders(day)
        counts: dict[str, int] = {}
        for item in due:
            line = f"{item.kind} → {item.recipient}: {item.description} [{item.key}]"
            if dry_run:
                outcome = "would send"
            elif now:
                try:
                    outcome = reminders.send_due(item)
                except reminders.ReminderNotSent as exc:
                    outcome = "failed"
                    self.stderr.write(f"failed: {exc}")
            else:
                getattr(tasks, item.task).enqueue(*item.args)
                outcome = "enqueued"
            counts[outcome] = counts.get(outcome, 0) + 1
            if options["verbosity"] >= 2 or dry_run:
                self.stdout.write(f"{outcome}: {line}")
        summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "nothing due"
        self.stdout.write(f"Reminders for {day:%Y-%m-%d}: {summary}.")
