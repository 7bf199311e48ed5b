"""Password rules beyond Django's own validators."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from smpclinic.roles import MANAGERS, STAFF


class ClinicUserMinimumLengthValidator:
    """People who see every client's records (staff, managers, administrators) need a
    longer password than a client reaching only their own portal (Django's minimum, 8)."""

    def __init__(self, min_length: int = 12):
        self.min_length = min_length

    def _applies_to(self, user) -> bool:
        if user is None:
            return False
        if user.is_superuser or user.is_staff:
            return True
        if user.pk is None:
            return False
        return user.groups.filter(name__in=[STAFF, MANAGERS]).exists()

    def validate(self, password: str, user=None) -> None:
        if len(password) < self.min_length and self._applies_to(user):
            raise ValidationError(
                f"Clinic team members need a password of at least {self.min_length} characters.",
                code="password_too_short_for_clinic_user",
            )

    def get_help_text(self) -> str:
        return f"Clinic team members need at least {self.min_length} characters."
