"""Writes to the project-wide records: the clinic's settings, the diary's rooms, hours and closures."""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from smpclinic import roles
from smpclinic.models import ClinicSettings, Closure, OpeningHours, Room


@transaction.atomic
def clinic_settings_update(*, settings: ClinicSettings, by, **fields) -> ClinicSettings:
    """Save the settings as the form left them. `settings` carries the version its form was
    opened on, so a change saved by someone else meanwhile is refused (StaleEdit), not
    overwritten; the history keeps who changed which value."""
    roles.check(by, roles.CHANGE_SETTINGS)
    for name, value in fields.items():
        setattr(settings, name, value)
    settings.full_clean()
    settings.save()
    return settings


def clinic_logo_set(*, png: bytes | None, by) -> ClinicSettings:
    """Store `png` (bytes cases.imaging.process_logo made) as the clinic's logo, or remove
    the logo with None. The new file is written first under a name holding its hash; if the
    row cannot be saved it is deleted again, and the old file goes only once the row is
    committed, so a failure leaves the old logo in place and nothing half-saved."""
    roles.check(by, roles.CHANGE_SETTINGS)
    new_name = ""
    if png is not None:
        digest = hashlib.sha256(png).hexdigest()[:12]
        new_name = default_storage.save(f"clinic/logo-{digest}.png", ContentFile(png))
    try:
        with transaction.atomic():
            settings = ClinicSettings.load()
            old_name = settings.logo.name
            settings.logo.name = new_name
            settings.save()
    except BaseException:
        if new_name:
            default_storage.delete(new_name)
        raise
    if old_name and old_name != new_name:
        transaction.on_commit(lambda: default_storage.delete(old_name))
    return settings


# --- the diary's rooms, opening hours and closures (docs/diary.md) ------------------------


@transaction.atomic
def opening_hours_set(*, hours: dict[int, tuple | None], by) -> None:
    """Replace the week's opening hours: {weekday: (opens, closes)}, None for closed.
    Bookings already made stay; new and moved ones follow the new hours."""
    roles.check(by, roles.CHANGE_SETTINGS)
    for weekday, times in hours.items():
        if times is None:
            for row in OpeningHours.objects.filter(weekday=weekday):
                row.delete()  # a closed weekday has no row; the history keeps the old hours
            continue
        opens, closes = times
        row = OpeningHours.objects.filter(weekday=weekday).first() or OpeningHours(weekday=weekday)
        row.opens, row.closes = opens, closes
        row.full_clean()
        row.save()


@transaction.atomic
def room_add(*, name: str, position: int, by) -> Room:
    roles.check(by, roles.CHANGE_SETTINGS)
    room = Room(name=(name or "").strip(), position=position)
    room.full_clean()
    room.save()
    return room


@transaction.atomic
def room_archive(*, room: Room, by) -> Room:
    """A room is archived, not deleted: its bookings keep it; new bookings cannot use it."""
    roles.check(by, roles.CHANGE_SETTINGS)
    room.archive(by=by, reason="No longer used for bookings.")
    return room


@transaction.atomic
def closure_add(*, day, reason: str, by) -> Closure:
    roles.check(by, roles.CHANGE_SETTINGS)
    closure = Closure(day=day, reason=(reason or "").strip())
    closure.full_clean()
    closure.save()
    return closure


@transaction.atomic
def closure_remove(*, closure: Closure, by) -> None:
    """A closure day called off (the history keeps it)."""
    roles.check(by, roles.CHANGE_SETTINGS)
    closure.delete()
