"""Writes to the project-wide records: the clinic's settings."""

from __future__ import annotations

from django.db import transaction

from smpclinic import roles
from smpclinic.models import ClinicSettings


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
