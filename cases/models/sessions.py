from __future__ import annotations

import datetime
import re
import zoneinfo
from decimal import Decimal
from typing import Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cases.choices import (
    STANDARD_WAVELENGTHS,
    WAVELENGTH_OTHER_MAX,
    WAVELENGTH_OTHER_MIN,
    CorrectionKind,
    Fitzpatrick,
    ImmediateResponse,
    LaserType,
    OverrideRule,
    PulseDomain,
    SessionStatus,
)
from smpclinic.concurrency import SubmittedOnce, Versioned
from smpclinic.constraints import ChecksInOneQuery
from smpclinic.dates import PAST, booking_date_error
from smpclinic.history import HistoricalRecords
from smpclinic.lookups import with_choice_rows
from smpclinic.models import Archivable, ClinicSettings, PublicIdMixin, Timestamped

from .cases import AdverseEventKind, Case, CaseRecordQuerySet, ZoneLookup
from .plans import PlanStep

# Physical sanity limits (docs/domain.md#laser-parameters): errors outside them.
FLUENCE_MAX = 20  # J/cm², > 0
SPOT_MIN, SPOT_MAX = 1, 10  # mm
REPETITION_MIN, REPETITION_MAX = 0.5, 20  # Hz
PASSES_MIN, PASSES_MAX = 1, 6
PAIN_MAX = 10
CLEARANCE_MAX = 100

# The laser's settings on a session, in the order forms and the admin show them.
LASER_PARAMETERS = (
    "laser_type",
    "wavelength_nm",
    "pulse_domain",
    "pulse_width",
    "spot_size_mm",
    "fluence_j_cm2",
    "repetition_rate_hz",
    "passes",
)


def _wavelength_ok(value: int | None) -> None:
    if (
        value is not None
        and value not in STANDARD_WAVELENGTHS
        and not (WAVELENGTH_OTHER_MIN <= value <= WAVELENGTH_OTHER_MAX)
    ):
        raise ValidationError(
            f"Wavelength must be one of {', '.join(map(str, STANDARD_WAVELENGTHS))} nm, "
            f"or another value from {WAVELENGTH_OTHER_MIN} to {WAVELENGTH_OTHER_MAX} nm."
        )


def _wavelength_problem(value: int) -> bool:
    try:
        _wavelength_ok(value)
    except ValidationError:
        return True
    return False


# The pulse domain of each laser type (docs/domain.md#lasers): Q-switched lasers pulse in
# nanoseconds, picosecond lasers in picoseconds; "other" says nothing.
PULSE_DOMAIN_OF = {
    LaserType.QS_ND_YAG: PulseDomain.NANOSECOND,
    LaserType.QS_RUBY: PulseDomain.NANOSECOND,
    LaserType.QS_ALEXANDRITE: PulseDomain.NANOSECOND,
    LaserType.PICO_ND_YAG: PulseDomain.PICOSECOND,
    LaserType.PICO_ALEXANDRITE: PulseDomain.PICOSECOND,
}


def pulse_domain_of(laser_type: str) -> str:
    return PULSE_DOMAIN_OF.get(laser_type, "")


def _a_laser_of_type(laser_type: str) -> str:
    if not laser_type or laser_type == LaserType.OTHER:
        return "a laser of another type"
    label = str(LaserType(laser_type).label)
    # "Picosecond alexandrite" reads in lower case mid-sentence; "Q-switched" keeps its capital.
    return f"a {label[0].lower() + label[1:] if label[1:2].islower() else label} laser"


def clinic_zone() -> zoneinfo.ZoneInfo:
    """The clinic's time zone (Clinic settings), whatever zone is active: services and
    model checks also run outside a request, in the admin, a shell or a task."""
    return zoneinfo.ZoneInfo(ClinicSettings.cached().time_zone)


def _empty_or(field: str, *, name: str, message: str, **bounds) -> models.CheckConstraint:
    """A check that an optional number is empty or within `bounds` (lookup=limit, e.g. gte=1)."""
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True})
        | Q(**{f"{field}__{lookup}": limit for lookup, limit in bounds.items()}),
        name=name,
        violation_error_message=message,
    )


class LaserDevice(Archivable, PublicIdMixin, Timestamped):
    """A laser the clinic owns; each session records which one was used."""

    name = models.CharField(max_length=200, help_text="What staff call it, e.g. “Pico room 2”.")
    manufacturer = models.CharField(max_length=100, blank=True)
    model_name = models.CharField("model", max_length=100, blank=True)
    serial_number = models.CharField(max_length=100, blank=True)
    laser_type = models.CharField(max_length=20, choices=LaserType.choices)
    wavelengths = models.CharField(max_length=100, blank=True, help_text="e.g. 532, 1064")
    last_serviced_on = models.DateField(null=True, blank=True, validators=PAST)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        try:
            wavelengths = self.wavelength_list
        except ValueError:
            wavelengths = None
        if wavelengths is None or any(_wavelength_problem(w) for w in wavelengths):
            raise ValidationError(
                {"wavelengths": "List the device's wavelengths in nm, separated by commas, e.g. “532, 1064”."}
            )

    @property
    def wavelength_list(self) -> list[int]:
        """The wavelengths the device emits, from `wavelengths` ("532, 1064" → [532, 1064]).

        Raises ValueError for text that is not a list of whole numbers of nm."""
        return [int(part) for part in re.split(r"[\s,;/]+", self.wavelengths.lower().replace("nm", "")) if part]

    @property
    def pulse_domain(self) -> str:
        """The pulse domain its laser type implies (picosecond → ps, Q-switched → ns), or ""."""
        return pulse_domain_of(self.laser_type)

    def describe(self) -> str:
        """“Pico room 2 is a picosecond alexandrite laser (755 nm)”, for messages."""
        try:
            listed = self.wavelength_list
        except ValueError:
            listed = []
        nm = f" ({', '.join(map(str, listed))} nm)" if listed else ""
        return f"{self} is {_a_laser_of_type(self.laser_type)}{nm}"


class SessionQuerySet(CaseRecordQuerySet):
    def completed(self) -> Self:
        return self.filter(status=SessionStatus.COMPLETED)

    def scheduled(self) -> Self:
        return self.filter(status=SessionStatus.SCHEDULED)

    def not_cancelled(self) -> Self:
        return self.exclude(status=SessionStatus.CANCELLED)

    def completed_by(self, moment: datetime.datetime) -> Self:
        """Completed sessions whose time had come by `moment`: what took place."""
        return self.completed().filter(scheduled_at__lte=moment)

    def on_any_zone(self, zone_ids) -> Self:
        """Sessions that treated at least one of these zones (ZoneLookup ids)."""
        return self.filter(zones__in=list(zone_ids)).distinct()

    def between(self, start, end) -> Self:
        """Sessions at or after `start` and before `end` (aware datetimes)."""
        return self.filter(scheduled_at__gte=start, scheduled_at__lt=end)

    def on_days(self, first: datetime.date, last: datetime.date, zone: datetime.tzinfo | None = None) -> Self:
        """Sessions from the start of `first` to the end of `last`, local days in `zone`
        (default: the active zone, the clinic's during a request). Bounds on the column
        itself, so its index serves the range (`__date` would convert every row)."""
        zone = zone or timezone.get_current_timezone()
        return self.between(
            datetime.datetime.combine(first, datetime.time.min, tzinfo=zone),
            datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone),
        )

    def with_zones(self) -> Self:
        return with_choice_rows(self, "zones")

    def latest_first(self) -> Self:
        return self.order_by("-scheduled_at", "-id")


class SessionBase(ChecksInOneQuery, Versioned, SubmittedOnce, Archivable, PublicIdMixin, Timestamped):
    """What laser and correction sessions share: when, status, zones, aftercare."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="%(class)ss")
    plan_step = models.ForeignKey(PlanStep, on_delete=models.PROTECT, null=True, blank=True, related_name="%(class)ss")
    scheduled_at = models.DateTimeField("date and time", default=timezone.now)
    status = models.CharField(max_length=12, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED)
    zones = models.ManyToManyField(ZoneLookup, related_name="%(class)ss")
    pain_score = models.PositiveSmallIntegerField(
        "pain (0–10)", null=True, blank=True, validators=[MaxValueValidator(PAIN_MAX)]
    )
    aftercare_given = models.BooleanField(default=False)
    aftercare_notes = models.TextField(blank=True)
    notes_for_client = models.TextField(blank=True, help_text="Shown to the client in the portal.")
    internal_notes = models.TextField(blank=True, help_text="Never shown to the client.")

    objects = SessionQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-scheduled_at"]

    @property
    def day(self):
        return timezone.localdate(self.scheduled_at)

    def local_day(self) -> datetime.date:
        """The session's day in the clinic's time zone (not the active one)."""
        return timezone.localtime(self.scheduled_at, clinic_zone()).date()

    def clean(self) -> None:
        super().clean()
        self._check_date_bounds()
        self._check_it_happened()

    def _check_date_bounds(self) -> None:
        """Not before 1900 and booked at most a few years ahead (smpclinic.dates)."""
        if self.scheduled_at is None:
            return
        zone = clinic_zone()
        try:
            day = timezone.localtime(self.scheduled_at, zone).date()
        except OverflowError:  # within a day of the calendar's ends
            day = datetime.date.min if self.scheduled_at.year == 1 else datetime.date.max
        error = booking_date_error(day, today=timezone.localtime(timezone.now(), zone).date(), what="A session")
        if error:
            raise ValidationError({"scheduled_at": error})

    def _check_it_happened(self) -> None:
        """Completed and not attended say what happened at the appointment: only once its
        time has passed. Shown in the clinic's time zone, which is also the zone the form's
        date and time are read in."""
        if self.status not in SessionStatus.happened() or self.scheduled_at is None:
            return
        if self.scheduled_at <= timezone.now():
            return
        when = timezone.localtime(self.scheduled_at, clinic_zone())
        status = SessionStatus(self.status).label.lower()
        raise ValidationError(
            {
                "status": f"A session can be recorded as {status} only once its time has passed: this one is "
                f"on {when.day} {when:%b %Y} at {when:%H:%M}. Keep it scheduled until then."
            }
        )


class LaserSessionQuerySet(SessionQuerySet):
    def previous_for(self, case) -> LaserSession | None:
        """The case's latest laser session that took place: completed, and its time passed.
        A booking, a cancelled or missed session has no settings that were used."""
        return (
            self.active()
            .completed_by(timezone.now())
            .filter(case=case)
            .latest_first()
            .with_zones()
            .select_related("device")
            .first()
        )

    def for_history(self) -> Self:
        """What a list of a case's laser sessions shows: technician, device, zones."""
        return with_choice_rows(self, "zones").select_related("technician", "device")


class CorrectionSessionQuerySet(SessionQuerySet):
    def for_history(self) -> Self:
        return with_choice_rows(self, "zones").select_related("artist")


class LaserSession(SessionBase):
    technician = models.ForeignKey(
        "artists.Artist", on_delete=models.PROTECT, related_name="laser_sessions", limit_choices_to={"kind": "internal"}
    )
    device = models.ForeignKey(LaserDevice, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions")
    laser_type = models.CharField(max_length=20, choices=LaserType.choices, blank=True)
    wavelength_nm = models.PositiveSmallIntegerField(
        "wavelength (nm)", null=True, blank=True, validators=[_wavelength_ok]
    )
    pulse_domain = models.CharField(max_length=2, choices=PulseDomain.choices, blank=True)
    pulse_width = models.DecimalField(
        "pulse width (ns or ps)",
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    spot_size_mm = models.DecimalField(
        "spot size (mm)",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(SPOT_MIN), MaxValueValidator(SPOT_MAX)],
    )
    fluence_j_cm2 = models.DecimalField(
        "fluence (J/cm²)",
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(FLUENCE_MAX)],
    )
    repetition_rate_hz = models.DecimalField(
        "repetition rate (Hz)",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(str(REPETITION_MIN))), MaxValueValidator(REPETITION_MAX)],
    )
    passes = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(PASSES_MIN), MaxValueValidator(PASSES_MAX)]
    )
    test_spot = models.BooleanField("test spot done", default=False)
    immediate_response = models.CharField(max_length=20, choices=ImmediateResponse.choices, blank=True)
    estimated_clearance_pct = models.PositiveSmallIntegerField(
        "estimated clearance (%)", null=True, blank=True, validators=[MaxValueValidator(CLEARANCE_MAX)]
    )
    adverse_events = models.ManyToManyField(AdverseEventKind, blank=True, related_name="laser_sessions")
    adverse_event_notes = models.TextField(blank=True)
    # The client's skin type the session was booked or recorded with, what the laser rules
    # judged it against; kept once the session is completed, so a later change to the
    # client's type leaves the sessions already done as they were. Set by
    # `services.sessions.laser_session_save`; the adverse events report groups by it.
    fitzpatrick_type = models.CharField(
        "Fitzpatrick skin type at the session", max_length=3, choices=Fitzpatrick.choices, blank=True, editable=False
    )
    parameters_shared = models.BooleanField("share laser parameters with the client", default=False)

    objects = LaserSessionQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=["zones", "adverse_events"])

    class Meta(SessionBase.Meta):
        indexes = [
            models.Index(fields=["scheduled_at"]),
            # A status's sessions by time, the id breaking ties as the pages do: the staff
            # home's first sessions of the week come off it in order, with no sort of the
            # week's thousands at a large clinic.
            models.Index(fields=["status", "scheduled_at", "id"], name="laser_status_time"),
            # Reports: completed live sessions in a period (adverse events, grouped by
            # technician, device and skin type), and per case (laser sessions against the
            # estimate), from the index alone.
            models.Index(
                fields=["scheduled_at"],
                include=["id", "case", "technician", "device", "fitzpatrick_type"],
                name="laser_completed_report",
                condition=Q(archived_at__isnull=True, status=SessionStatus.COMPLETED),
            ),
            models.Index(
                fields=["case"],
                name="laser_completed_by_case",
                condition=Q(archived_at__isnull=True, status=SessionStatus.COMPLETED),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(wavelength_nm__isnull=True)
                | Q(wavelength_nm__in=STANDARD_WAVELENGTHS)
                | Q(wavelength_nm__gte=WAVELENGTH_OTHER_MIN, wavelength_nm__lte=WAVELENGTH_OTHER_MAX),
                name="laser_wavelength_range",
                violation_error_message="Wavelength is 532, 694, 755, 1064 nm or another value from 400 to 1200 nm.",
            ),
            _empty_or(
                "fluence_j_cm2",
                gt=0,
                lte=FLUENCE_MAX,
                name="laser_fluence_range",
                message="Fluence must be above 0 and at most 20 J/cm².",
            ),
            _empty_or(
                "spot_size_mm",
                gte=SPOT_MIN,
                lte=SPOT_MAX,
                name="laser_spot_size_range",
                message="Spot size is from 1 to 10 mm.",
            ),
            _empty_or(
                "repetition_rate_hz",
                gte=REPETITION_MIN,
                lte=REPETITION_MAX,
                name="laser_repetition_rate_range",
                message="Repetition rate is from 0.5 to 20 Hz.",
            ),
            _empty_or(
                "passes", gte=PASSES_MIN, lte=PASSES_MAX, name="laser_passes_range", message="Passes are from 1 to 6."
            ),
            _empty_or("pulse_width", gt=0, name="laser_pulse_width_positive", message="Pulse width must be above 0."),
            _empty_or(
                "pain_score", gte=0, lte=PAIN_MAX, name="laser_pain_range", message="Pain is scored from 0 to 10."
            ),
            _empty_or(
                "estimated_clearance_pct",
                gte=0,
                lte=CLEARANCE_MAX,
                name="laser_clearance_range",
                message="Clearance is from 0 to 100 %%.",
            ),
            models.CheckConstraint(
                condition=~Q(status="completed")
                | Q(
                    wavelength_nm__isnull=False,
                    fluence_j_cm2__isnull=False,
                    spot_size_mm__isnull=False,
                    passes__isnull=False,
                ),
                name="laser_completed_has_parameters",
                violation_error_message="A completed laser session records wavelength, fluence, spot size and passes.",
            ),
        ]

    def __str__(self) -> str:
        return f"Laser session {timezone.localtime(self.scheduled_at):%-d %b %Y}"

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        try:
            super().clean()
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        for field, message in (("device", self.device_contradiction()), ("pulse_domain", self._pulse_problem())):
            if message:
                errors.setdefault(field, []).append(message)
        if errors:
            raise ValidationError(errors)

    def device_contradiction(self) -> str | None:
        """Why the recorded laser type or wavelength cannot come from the chosen device:
        its laser type must be the device's, and its wavelength one the device lists
        (when the device lists any). None when they agree."""
        if self.device_id is None:
            return None
        device = self.device
        try:
            wavelengths = device.wavelength_list
        except ValueError:
            wavelengths = []
        wrong_type = bool(self.laser_type) and self.laser_type != device.laser_type
        wrong_wavelength = (
            self.wavelength_nm is not None and bool(wavelengths) and self.wavelength_nm not in wavelengths
        )
        if not (wrong_type or wrong_wavelength):
            return None
        recorded = " ".join(
            part
            for part in (
                self.get_laser_type_display() if self.laser_type else "",
                f"{self.wavelength_nm} nm" if self.wavelength_nm is not None else "",
            )
            if part
        )
        return f"{device.describe()}; this session records {recorded}."

    def _pulse_problem(self) -> str | None:
        expected = pulse_domain_of(self.laser_type)
        if not self.pulse_domain or not expected or self.pulse_domain == expected:
            return None
        return (
            f"{self.get_laser_type_display()} lasers pulse in {PulseDomain(expected).label.split(' (')[0].lower()}: "
            f"choose “{PulseDomain(expected).label}” as the pulse domain."
        )


class CorrectionSession(SessionBase):
    kind = models.CharField(max_length=30, choices=CorrectionKind.choices)
    artist = models.ForeignKey(
        "artists.Artist",
        on_delete=models.PROTECT,
        related_name="correction_sessions",
        limit_choices_to={"kind": "internal"},
    )
    pigment = models.CharField("pigment (brand, shade, dilution)", max_length=200, blank=True)
    needle = models.CharField("needle (configuration, size)", max_length=100, blank=True)
    saline_solution = models.CharField(max_length=100, blank=True, help_text="For saline removal.")
    duration_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(600)]
    )

    objects = CorrectionSessionQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=["zones"])

    class Meta(SessionBase.Meta):
        indexes = [
            models.Index(fields=["scheduled_at"]),
            models.Index(fields=["status", "scheduled_at", "id"], name="correction_status_time"),  # as laser's
        ]
        constraints = [
            _empty_or(
                "pain_score", gte=0, lte=PAIN_MAX, name="correction_pain_range", message="Pain is scored from 0 to 10."
            ),
            _empty_or(
                "duration_minutes",
                gte=1,
                lte=600,
                name="correction_duration_range",
                message="Duration is from 1 to 600 minutes.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {timezone.localtime(self.scheduled_at):%-d %b %Y}"


class RuleOverride(Timestamped):
    """A warning someone with the right role overrode, and why."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="overrides")
    laser_session = models.ForeignKey(
        LaserSession, on_delete=models.PROTECT, null=True, blank=True, related_name="overrides"
    )
    correction_session = models.ForeignKey(
        CorrectionSession, on_delete=models.PROTECT, null=True, blank=True, related_name="overrides"
    )
    rule = models.CharField(max_length=30, choices=OverrideRule.choices)
    message = models.TextField(help_text="The warning as it was shown.")
    reason = models.TextField()
    overridden_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        permissions = [("override_contraindication", "Can override a blocking contraindication")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="override_has_reason",
                violation_error_message="An override needs a reason.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} – {self.case}"
