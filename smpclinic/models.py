"""Cross-cutting models: the clinic's settings record and bases shared by the apps."""

from __future__ import annotations

import uuid
import zoneinfo
from typing import Self

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from smpclinic.concurrency import Versioned
from smpclinic.constraints import ChecksInOneQuery
from smpclinic.history import HistoricalRecords


class HttpsURLField(models.URLField):
    """A web address; typed without a scheme ("clinic.example") it is read as https://,
    as Django 6 will do for every URLField's form field."""

    def formfield(self, **kwargs):
        return super().formfield(**{"assume_scheme": "https", **kwargs})

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.URLField", args, kwargs  # the column is a URLField's


class ArchivableQuerySet(models.QuerySet):
    def active(self) -> Self:
        return self.filter(archived_at__isnull=True)

    def archived(self) -> Self:
        return self.filter(archived_at__isnull=False)


class Archivable(models.Model):
    """Clinical records are archived, never deleted: who archived, when and why."""

    archived_at = models.DateTimeField(null=True, blank=True, editable=False, db_index=True)
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    archive_reason = models.CharField(max_length=500, blank=True, editable=False)

    objects = ArchivableQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def archive(self, *, by, reason: str) -> None:
        """Mark this record archived; the caller runs it inside its service transaction."""
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError("Give a reason for archiving.")
        self.archived_at = timezone.now()
        self.archived_by = by
        self.archive_reason = reason
        self.save(update_fields=["archived_at", "archived_by", "archive_reason"])


class Timestamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class PublicIdMixin(models.Model):
    """A random id for URLs, so sequential primary keys are never exposed."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        abstract = True


class ChoiceLookup(models.Model):
    """A row per value of a TextChoices enum, so multi-valued choices are plain M2M.

    M2M to these rows filters (`zones__code="crown"`) and counts (`Count("zones")`) the
    same way on SQLite and PostgreSQL, and gives forms and admin checkboxes for free.
    Subclasses set `choices`; rows are kept in step by `sync_lookups()` after migrate.
    """

    choices: type[models.TextChoices]

    code = models.CharField(max_length=40, unique=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["position"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.label_of(self.code)

    @classmethod
    def label_of(cls, code: str) -> str:
        """The label of the value `code`; the code itself for a value no longer offered."""
        try:
            return str(cls.choices(code).label)
        except ValueError:
            return code

    @classmethod
    def sync(cls) -> None:
        """Create the rows for choice values that have none yet (idempotent)."""
        existing = set(cls.objects.values_list("code", flat=True))
        cls.objects.bulk_create(
            [cls(code=value, position=index) for index, value in enumerate(cls.choices.values) if value not in existing]
        )


def _valid_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a known time zone (e.g. Europe/London).")


class ClinicSettings(ChecksInOneQuery, Versioned):
    """The clinic's identity and rule values: one row, edited by managers on the Settings page.

    Defaults are the domain's (docs/domain.md#laser-intervals): 6 weeks between laser sessions on a zone, 6 months
    isotretinoin washout, reminders 2 days ahead.
    """

    name = models.CharField(max_length=200, default="SMP Correction Clinic")
    address = models.TextField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    website = HttpsURLField(blank=True)
    time_zone = models.CharField(max_length=64, default="Europe/London", validators=[_valid_time_zone])
    currency = models.CharField(max_length=3, default="GBP", help_text="ISO 4217 code for price estimates.")
    min_laser_interval_weeks = models.PositiveSmallIntegerField(
        "minimum weeks between laser sessions on a zone",
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(26)],
    )
    min_saline_interval_weeks = models.PositiveSmallIntegerField(
        "minimum weeks between saline sessions on a zone",
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(26)],
    )
    isotretinoin_washout_months = models.PositiveSmallIntegerField(
        default=6, validators=[MinValueValidator(1), MaxValueValidator(24)]
    )
    reminder_lead_days = models.PositiveSmallIntegerField(
        "days before an appointment to send a reminder",
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(14)],
    )
    idle_logout_minutes = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(5), MaxValueValidator(480)]
    )
    laser_check_days = models.PositiveSmallIntegerField(
        "days after a laser session to schedule the post-laser check",
        default=14,
        validators=[MaxValueValidator(60)],
        # The domain's healing check 1–2 weeks after laser: docs/domain.md#aftercare.
        help_text="A healing check 1–2 weeks after laser. 0: schedule none.",
    )
    plan_approval_four_eyes = models.BooleanField(
        "a plan is approved by a manager other than the one who submitted it",
        default=True,
        help_text="Four eyes on every plan. A clinic with a single manager may turn this off; "
        "the change is kept in this record's history.",
    )
    two_factor_for_staff = models.BooleanField(
        "staff sign in with a second factor too",
        default=False,
        help_text="Managers and administrators always need a second factor (an authenticator app "
        "code or a recovery code); this setting asks it of all staff.",
    )
    correction_check_days = models.PositiveSmallIntegerField(
        "days after a correction session to schedule the healing check",
        default=14,
        validators=[MaxValueValidator(60)],
        help_text="0: schedule none.",
    )
    laser_minutes = models.PositiveSmallIntegerField(
        "minutes a laser session takes in the diary",
        default=45,
        validators=[MinValueValidator(5), MaxValueValidator(600)],
    )
    correction_minutes = models.PositiveSmallIntegerField(
        "minutes a correction session takes in the diary",
        default=120,
        validators=[MinValueValidator(5), MaxValueValidator(600)],
        help_text="SMP correction, saline removal, camouflage: the default a booking starts from.",
    )
    follow_up_minutes = models.PositiveSmallIntegerField(
        "minutes a follow-up (healing check) takes in the diary",
        default=15,
        validators=[MinValueValidator(5), MaxValueValidator(600)],
    )
    # The clinic's logo: a PNG this app re-encoded (cases.imaging.process_logo), stored in
    # the private storage under a name holding its hash, served by cases:clinic_logo.
    logo = models.FileField(upload_to="clinic/", max_length=200, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "clinic settings"
        verbose_name_plural = "clinic settings"
        permissions = [("manage_sign_ins", "Can unlock sign-ins and reset a second factor")]
        constraints = [
            models.CheckConstraint(
                condition=Q(id=1),
                name="clinicsettings_single_row",
                violation_error_message="There is one clinic settings record; edit it instead.",
            ),
            models.CheckConstraint(
                condition=Q(min_laser_interval_weeks__gte=1, min_laser_interval_weeks__lte=26),
                name="clinicsettings_laser_interval_range",
            ),
            models.CheckConstraint(
                condition=Q(min_saline_interval_weeks__gte=1, min_saline_interval_weeks__lte=26),
                name="clinicsettings_saline_interval_range",
            ),
            models.CheckConstraint(
                condition=Q(isotretinoin_washout_months__gte=1, isotretinoin_washout_months__lte=24),
                name="clinicsettings_washout_range",
            ),
            models.CheckConstraint(
                condition=Q(reminder_lead_days__gte=1, reminder_lead_days__lte=14),
                name="clinicsettings_reminder_range",
            ),
            models.CheckConstraint(
                condition=Q(idle_logout_minutes__gte=5, idle_logout_minutes__lte=480),
                name="clinicsettings_idle_logout_range",
            ),
            models.CheckConstraint(
                condition=Q(laser_check_days__lte=60, correction_check_days__lte=60),
                name="clinicsettings_check_days_range",
            ),
            models.CheckConstraint(
                condition=Q(
                    laser_minutes__gte=5,
                    laser_minutes__lte=600,
                    correction_minutes__gte=5,
                    correction_minutes__lte=600,
                    follow_up_minutes__gte=5,
                    follow_up_minutes__lte=600,
                ),
                name="clinicsettings_diary_minutes_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def logo_version(self) -> str:
        """A short tag that changes with the logo ("" without one), for its URL's query string."""
        return self.logo.name.rsplit("-", 1)[-1].removesuffix(".png")[:12] if self.logo else ""

    def logo_png(self) -> bytes | None:
        """The stored logo (a PNG this app encoded: cases.imaging.process_logo), None without
        one or when its file is missing."""
        if not self.logo:
            return None
        try:
            with self.logo.open("rb") as stored:
                return stored.read()
        except FileNotFoundError:
            return None

    CACHE_KEY = "smpclinic:clinic-settings"
    CACHE_SECONDS = 60

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)
        cache.set(self.CACHE_KEY, self, self.CACHE_SECONDS)

    @classmethod
    def load(cls) -> ClinicSettings:
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj

    @classmethod
    def recent_changes(cls, limit: int, *, fields) -> list[dict]:
        """The latest `limit` saves, newest first, each with its history entry (who, when)
        and the labels of those of `fields` it changed (one query)."""
        history = list(cls.history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1])
        shown = set(fields)

        def label(name: str) -> str:
            text = str(cls._meta.get_field(name).verbose_name)
            return text[:1].upper() + text[1:]

        return [
            {
                "entry": entry,
                # Compared here rather than by diff_against, which skips fields that are not
                # editable in forms (the logo is set on its own page).
                "fields": [
                    label(field.name)
                    for field in cls._meta.fields
                    if field.name in shown and getattr(entry, field.attname) != getattr(older, field.attname)
                ],
            }
            for entry, older in zip(history, history[1:], strict=False)
        ]

    @classmethod
    def cached(cls) -> ClinicSettings:
        """The row as of at most CACHE_SECONDS ago, for every request's time zone.

        A save replaces it at once in this process (and everywhere with a shared cache,
        DJANGO_CACHE_URL); other processes with the default per-process cache see a
        change within CACHE_SECONDS.
        """
        clinic = cache.get(cls.CACHE_KEY)
        if clinic is None:
            # A read, so no get_or_create: before the row exists, its defaults apply.
            clinic = cls.objects.filter(pk=1).first() or cls()
            cache.set(cls.CACHE_KEY, clinic, cls.CACHE_SECONDS)
        return clinic


# ---------------------------------------------------------------------------
# The diary's places and times: rooms, opening hours, closures
# ---------------------------------------------------------------------------


class Room(Archivable, PublicIdMixin, Timestamped):
    """A treatment room: a booking holds it, so two clients are never put in it at once."""

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveSmallIntegerField(default=0, help_text="Order of the diary's columns.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class OpeningHoursQuerySet(models.QuerySet):
    def on(self, weekday: int) -> Self:
        return self.filter(weekday=weekday)


class OpeningHours(ChecksInOneQuery, models.Model):
    """When the clinic takes bookings on a weekday (0 = Monday). A weekday without a row is
    closed; a clinic with no rows at all has not set its hours, and the diary refuses
    nothing for the time of day until it does (the demo clinic and a new install's Settings
    page set them)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, unique=True)
    opens = models.TimeField()
    closes = models.TimeField()

    objects = OpeningHoursQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["weekday"]
        verbose_name_plural = "opening hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(closes__gt=models.F("opens")),
                name="openinghours_closes_after_opening",
                violation_error_message="The clinic closes after it opens.",
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="openinghours_weekday_range"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class Closure(models.Model):
    """A day the clinic is closed (a bank holiday, training, a refit): no bookings."""

    day = models.DateField(unique=True)
    reason = models.CharField(max_length=200)

    history = HistoricalRecords()

    class Meta:
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day:%-d %b %Y}: {self.reason}"


# ---------------------------------------------------------------------------
# Append-only audit records
# ---------------------------------------------------------------------------


class AppendOnlyError(Exception):
    """An audit record was to be changed or deleted: they are written once and kept."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model._meta.verbose_name_plural} cannot be changed.")

    def delete(self):
        raise AppendOnlyError(f"{self.model._meta.verbose_name_plural} cannot be deleted.")


class AppendOnly(models.Model):
    """A record written once and never changed or deleted, through the ORM or (on
    PostgreSQL) by SQL: a trigger refuses UPDATE and DELETE on the table."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AppendOnlyError(f"A {self._meta.verbose_name} cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"A {self._meta.verbose_name} cannot be deleted.")


class LoginEvent(AppendOnly):
    """Sign-ins and everything that guards them: who, from where, when."""

    class Kind(models.TextChoices):
        LOGGED_IN = "logged_in", "Signed in"
        FAILED = "failed", "Wrong password"
        LOCKED_OUT = "locked_out", "Locked out after failures"
        UNLOCKED = "unlocked", "Unlocked by a manager"
        LOGGED_OUT = "logged_out", "Signed out"
        TWO_FACTOR_ENROLLED = "2fa_enrolled", "Two-factor sign-in set up"
        TWO_FACTOR_PASSED = "2fa_passed", "Two-factor code accepted"
        TWO_FACTOR_FAILED = "2fa_failed", "Wrong two-factor code"
        RECOVERY_CODE_USED = "recovery_code_used", "Recovery code used"
        TWO_FACTOR_RESET = "2fa_reset", "Two-factor sign-in reset"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        PASSWORD_RESET_REQUESTED = "reset_requested", "Password reset asked for"
        PASSWORD_RESET = "password_reset", "Password set from a reset link"

    at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    username = models.CharField(max_length=254, blank=True, help_text="As typed, for attempts on no account.")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who acted, when not the user (a manager unlocking or resetting).",
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["user", "-at"], name="loginevent_user_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.username or self.user_id} at {self.at:%Y-%m-%d %H:%M}"
