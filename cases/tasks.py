"""Background tasks (Django Tasks API, django-tasks backport): one reminder e-mail each.

`manage.py send_reminders` (cron) enqueues them; `manage.py db_worker` runs them. Arguments
are plain ids and an ISO date, so they serialise to JSON. Each task re-checks that its
reminder is still due and claims it before sending (cases/reminders.py), so a task enqueued
twice, or run by two workers, sends one e-mail. A failed send raises, so the task result
is recorded as failed; the error is on the SentReminder row and the next run retries it.
"""

from __future__ import annotations

import datetime

from django_tasks import task

from cases import reminders


@task()
def send_session_reminder(model: str, session_id: int, day: str) -> str:
    """Remind a client of a planned laser ("laser") or correction ("correction") session."""
    return reminders.send_session_reminder(model=model, session_id=session_id, day=datetime.date.fromisoformat(day))


@task()
def send_follow_up_reminder(followup_id: int, day: str) -> str:
    """Remind a client of a scheduled follow-up."""
    return reminders.send_follow_up_reminder(followup_id=followup_id, day=datetime.date.fromisoformat(day))


@task()
def send_staff_digest(user_id: int, day: str) -> str:
    """A clinic user's follow-ups due on `day` or overdue."""
    return reminders.send_staff_digest(user_id=user_id, day=datetime.date.fromisoformat(day))


@task()
def send_manager_summary(user_id: int, day: str) -> str:
    """A manager's weekly summary for the ISO week of `day`."""
    return reminders.send_manager_summary(user_id=user_id, day=datetime.date.fromisoformat(day))


@task()
def make_photo_copies(photo_id: int) -> bool:
    """The screen copy and thumbnail of an uploaded photo (the upload stores only the
    cleaned original). Nothing to do if they exist, or if the photo is gone."""
    from cases.models import Photo
    from cases.services.photos import photo_make_copies

    photo = Photo.objects.filter(pk=photo_id).first()
    return photo is not None and photo_make_copies(photo)
