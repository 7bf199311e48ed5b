"""Laser and correction session forms: parameters in their physical ranges, plus overrides.

The rules themselves are in `cases.rules`; a form only collects the override ticks and
reasons, which the services judge.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout
from django import forms
from django.db.models import Q
from django.forms import BoundField
from django.utils import timezone

from artists.models import Artist
from cases import rules
from cases.choices import (
    STANDARD_WAVELENGTHS,
    WAVELENGTH_OTHER_MAX,
    WAVELENGTH_OTHER_MIN,
    CorrectionKind,
    OverrideRule,
    PlanStepKind,
    SessionStatus,
    StepStatus,
)
from cases.forms.diary import MINUTES_MAX, MINUTES_MIN, require_room
from cases.models import (
    AdverseEventKind,
    BookingKind,
    Case,
    CorrectionSession,
    LaserDevice,
    LaserSession,
    PlanStep,
    ZoneLookup,
)
from cases.models.sessions import (
    CLEARANCE_MAX,
    FLUENCE_MAX,
    LASER_PARAMETERS,
    PAIN_MAX,
    PASSES_MAX,
    PASSES_MIN,
    REPETITION_MAX,
    REPETITION_MIN,
    SPOT_MAX,
    SPOT_MIN,
)
from cases.services import diary
from smpclinic.forms import DateTimeInput, FittingChoiceIdsMixin, SubmitOnceFormMixin, VersionedFormMixin
from smpclinic.lookups import ChoiceRows, offered_rows, read_once, with_choice_rows
from smpclinic.models import Room

OTHER = "other"
LASER_SETTINGS = ("device", *LASER_PARAMETERS)
COMPLETED_NEEDS = {
    "fluence_j_cm2": "fluence",
    "spot_size_mm": "spot size",
    "passes": "passes",
}
# Plan steps a correction session carries out, and the kind of session each one is.
KIND_OF_STEP = {
    PlanStepKind.SALINE_SESSION: CorrectionKind.SALINE_REMOVAL,
    PlanStepKind.SMP_SESSION: CorrectionKind.SMP_CORRECTION,
    PlanStepKind.COLOUR_CORRECTION: CorrectionKind.COLOUR_CORRECTION,
    PlanStepKind.SCAR_CAMOUFLAGE: CorrectionKind.SCAR_CAMOUFLAGE,
}
NON_LASER_STEPS = tuple(KIND_OF_STEP)
# What the options of the choice fields read together (smpclinic.lookups.ChoiceRows) show,
# besides their id: a person's name (and login, to find the user's own record), a room's
# name, a device's name and what static/js/laser_device.js fills from it (DeviceSelect).
# Zones and adverse events are lookup rows, whose columns ChoiceRows knows.
CHOICE_COLUMNS = {
    "technician": ("user_id", "first_name", "last_name"),
    "artist": ("user_id", "first_name", "last_name"),
    "room": ("name",),
    "device": ("name", "laser_type", "wavelengths"),
}


def now_to_the_minute() -> datetime.datetime:
    return timezone.now().replace(second=0, microsecond=0)


def _fieldset(legend: str, *rows) -> Fieldset:
    return Fieldset(
        legend,
        *(Div(*row, css_class="row") if isinstance(row, tuple) else row for row in rows),
        css_class="smp-fieldset",
    )


def _col(name: str, width: int = 3) -> Div:
    return Div(name, css_class=f"col-md-{width}")


def _helper(*fieldsets: Fieldset) -> FormHelper:
    """Crispy layout for fields inside the page's own <form> (the template adds the tag and
    token); the hidden version and submission token follow (smpclinic.forms)."""
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    helper.layout = Layout(*fieldsets)
    return helper


# The notes both session kinds keep, as short text areas.
NOTES_WIDGETS = {
    name: forms.Textarea(attrs={"rows": 2}) for name in ("aftercare_notes", "notes_for_client", "internal_notes")
}


@dataclass
class OverrideRow:
    """One override the page offers: its rule, what it is about, and its two inputs."""

    rule: str
    label: str
    message: str
    manager_only: bool
    allowed: bool
    tick: BoundField
    reason: BoundField


class OverrideFieldsMixin:
    """A tick box and a reason for each overridable rule; shown only where a rule fires."""

    override_rules: tuple[str, ...] = tuple(OverrideRule.values)

    def add_override_fields(self) -> None:
        for rule in self.override_rules:
            label = OverrideRule(rule).label
            self.fields[f"override_{rule}"] = forms.BooleanField(
                required=False,
                label=f"Override: {label[0].lower()}{label[1:]}",
                widget=forms.CheckboxInput(attrs={"data-reveal-when-checked": f"div_id_override_{rule}_reason"}),
            )
            self.fields[f"override_{rule}_reason"] = forms.CharField(
                required=False,
                label="Reason for the override",
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text="Recorded with your name on the session.",
            )

    def clean_overrides(self) -> None:
        for rule in self.override_rules:
            ticked = self.cleaned_data.get(f"override_{rule}")
            reason = (self.cleaned_data.get(f"override_{rule}_reason") or "").strip()
            if ticked and not reason:
                self.add_error(f"override_{rule}_reason", "Give a reason for the override.")

    def overrides(self) -> dict[str, str]:
        """{rule: reason} for every ticked override with a reason."""
        return {
            rule: self.cleaned_data[f"override_{rule}_reason"].strip()
            for rule in self.override_rules
            if self.cleaned_data.get(f"override_{rule}")
            and (self.cleaned_data.get(f"override_{rule}_reason") or "").strip()
        }

    def override_rows(self, findings: list[rules.Finding], user, recorded: dict[str, set[str]]) -> list[OverrideRow]:
        """The overrides the rules call for on this save (`rules.overrides_called_for`, the
        same answer the service judges by), each with its tick box and reason."""
        return [
            OverrideRow(
                rule=call.rule,
                label=OverrideRule(call.rule).label,
                message=call.message,
                manager_only=call.manager_only,
                allowed=call.allowed,
                tick=self[f"override_{call.rule}"],
                reason=self[f"override_{call.rule}_reason"],
            )
            for call in rules.overrides_called_for(findings, by=user, recorded=recorded)
        ]


def _technicians(current_id: int | None):
    return (
        Artist.objects.internal()
        .filter(Q(archived_at__isnull=True) | Q(pk=current_id))
        .order_by("first_name", "last_name")
    )


def _step_label(step: PlanStep) -> str:
    when = f", target {step.target_date:%-d %b %Y}" if step.target_date else ""
    return (
        f"Plan v{step.plan.version}, step {step.order}: {step.get_kind_display()}{when} ({step.get_status_display()})"
    )


class PlanStepChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: PlanStep) -> str:
        return _step_label(obj)


class DeviceSelect(forms.Select):
    """The device choice, each option carrying its device's laser type, wavelengths and
    pulse domain for static/js/laser_device.js, which fills those fields from it."""

    def __init__(self, attrs=None, choices=()):
        super().__init__({"data-laser-device": "", **(attrs or {})}, choices)

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        device = getattr(value, "instance", None)
        if isinstance(device, LaserDevice):
            try:
                wavelengths = device.wavelength_list
            except ValueError:
                wavelengths = []
            option["attrs"].update(
                {
                    "data-laser-type": device.laser_type,
                    "data-wavelengths": ",".join(map(str, wavelengths)),
                    "data-pulse-domain": device.pulse_domain,
                }
            )
        return option


class SessionFormBase(
    FittingChoiceIdsMixin, VersionedFormMixin, SubmitOnceFormMixin, OverrideFieldsMixin, forms.ModelForm
):
    """What the two session forms share: case-bound choices, status, zones, overrides; the
    version an edit was opened on, and a new session's submission token."""

    step_kinds: tuple[str, ...] = ()
    booking_kind: str = ""
    person_field: str = ""  # who does the session: a laser technician, a correction artist
    # The physical ranges as browser hints; the server checks them again (model validators).
    range_hints: dict[str, dict] = {"pain_score": {"min": 0, "max": PAIN_MAX}}

    # The session's slot in the diary, as the diary's booking form asks for it.
    room = forms.ModelChoiceField(
        queryset=Room.objects.none(),
        required=False,
        help_text="Needed for a session still to come: the diary holds the room for it.",
    )
    minutes = forms.IntegerField(
        min_value=MINUTES_MIN,
        max_value=MINUTES_MAX,
        required=False,
        label="Length (minutes)",
        help_text="How long the diary holds the room and the person.",
    )

    def __init__(self, *args, case: Case, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.case = case
        self.user = user
        self._add_slot_fields()
        statuses = [SessionStatus.SCHEDULED, SessionStatus.COMPLETED]
        if self.instance.pk:
            # A booked session, edited: the client did not come, or it was called off.
            # Completed and not attended only once its time has passed (the model says so).
            statuses += [SessionStatus.NOT_ATTENDED, SessionStatus.CANCELLED]
            del self.fields["submission_token"]  # a token makes a new session once; an edit has none
        self.fields["status"].choices = [(s.value, s.label) for s in statuses]
        self.fields["status"].help_text = "Completed or not attended once the session's time has passed."
        self.fields["scheduled_at"].widget = DateTimeInput()
        self.fields["scheduled_at"].show_hidden_initial = False  # the model default is callable
        for name, attrs in self.range_hints.items():
            self.fields[name].widget.attrs.update(attrs)
        self.fields["zones"].widget = forms.CheckboxSelectMultiple()
        self.fields["zones"].queryset = ZoneLookup.objects.all()
        self.fields["zones"].help_text = ""
        self.fields["pain_score"].help_text = "0 (none) to 10 (worst)."
        self.fields[self.person_field].queryset = _technicians(getattr(self.instance, f"{self.person_field}_id"))
        # The steps come with their zones: a new session takes the next planned step's.
        self.fields["plan_step"] = PlanStepChoiceField(
            queryset=with_choice_rows(
                PlanStep.objects.offered_for(case, self.step_kinds, self.instance.plan_step_id), "zones"
            ),
            required=False,
            label="Plan step",
            initial=self.fields["plan_step"].initial,
        )
        read_once(self.fields["plan_step"])
        self.add_override_fields()

    def read_choices_together(self, *names: str) -> None:
        """The options of these choice fields, read in one query when first needed."""
        ChoiceRows({name: self.fields[name] for name in names}, CHOICE_COLUMNS)

    def prefill(self) -> PlanStep | None:
        """A new session's first values, as the clinic works (docs/domain.md#lasers): now,
        booked, by the user's own artist record, for the plan's next planned step (returned:
        the subclass takes its zones). Picked among the options the form offers, which are
        read once for both."""
        self.initial.update(scheduled_at=self.instance.scheduled_at, status=SessionStatus.SCHEDULED)
        artist = self.own_artist()
        if artist is not None:
            self.initial[self.person_field] = artist
        step = self.next_planned_step()
        if step is not None:
            self.initial["plan_step"] = step
        return step

    def own_artist(self) -> Artist | None:
        """The user's own artist record, if it is among the people offered (a new session
        offers every internal, active artist)."""
        return next((a for a in offered_rows(self.fields[self.person_field]) if a.user_id == self.user.pk), None)

    def next_planned_step(self) -> PlanStep | None:
        """The first still-planned step offered (the latest plan's, in order): the step a new
        session of the case is for."""
        return next((s for s in offered_rows(self.fields["plan_step"]) if s.status == StepStatus.PLANNED), None)

    def _add_slot_fields(self) -> None:
        """The room (the clinic's active rooms, and the one the session is booked in) and
        the length, shown as the session's booking has them; a session without a booking
        shows the clinic's usual length for its kind (Clinic settings)."""
        booking = getattr(self.instance, "booking", None) if self.instance.pk else None
        room_id = booking.room_id if booking is not None else None
        self.fields["room"].queryset = Room.objects.filter(Q(archived_at__isnull=True) | Q(pk=room_id))
        if booking is not None:
            self.initial.setdefault("room", room_id)
            self.initial.setdefault("minutes", booking.minutes)
        else:
            recorded = getattr(self.instance, "duration_minutes", None)
            self.initial.setdefault("minutes", recorded or diary.default_minutes(self.booking_kind))

    def clean_scheduled_at(self):
        value = self.cleaned_data["scheduled_at"]
        return value.replace(second=0, microsecond=0) if value else value

    def clean(self):
        cleaned = super().clean()
        self.clean_overrides()
        self._clean_room(cleaned)
        return cleaned

    def _clean_room(self, cleaned: dict) -> None:
        """A session still to come (scheduled, later than now) holds a room in the diary
        (`require_room`); one recorded after the fact may leave it empty."""
        scheduled_at = cleaned.get("scheduled_at")
        if (
            cleaned.get("status") == SessionStatus.SCHEDULED
            and scheduled_at is not None
            and scheduled_at > timezone.now()
        ):
            require_room(self, cleaned, "Choose the room: a session still to come holds one in the diary.")

    def slot(self) -> diary.Slot:
        """The room and length the session's booking takes (empty: as booked, or the default)."""
        return diary.Slot(room=self.cleaned_data.get("room"), minutes=self.cleaned_data.get("minutes"))

    def session_fields(self) -> dict:
        """What the save service takes from a valid form, besides who saves it."""
        return {
            "session": self.instance,
            "zones": self.cleaned_data["zones"],
            "overrides": self.overrides(),
            "slot": self.slot(),
        }

    def zone_ids_proposed(self) -> list[int]:
        """The zones to judge the rules on: posted, else initial, else stored."""
        if self.is_bound:
            zones = getattr(self, "cleaned_data", {}).get("zones")
            if zones is not None:
                return [z.pk for z in zones]
        else:
            initial = self.initial.get("zones")
            if initial is not None:
                return [getattr(z, "pk", z) for z in initial]
        if self.instance.pk:
            return [z.pk for z in self.instance.zones.all()]
        return []


class LaserSessionForm(SessionFormBase):
    step_kinds = (PlanStepKind.LASER_SESSION,)
    booking_kind = BookingKind.LASER
    person_field = "technician"
    range_hints = {
        **SessionFormBase.range_hints,
        "fluence_j_cm2": {"min": "0.01", "max": FLUENCE_MAX},
        "spot_size_mm": {"min": SPOT_MIN, "max": SPOT_MAX},
        "repetition_rate_hz": {"min": REPETITION_MIN, "max": REPETITION_MAX},
        "passes": {"min": PASSES_MIN, "max": PASSES_MAX},
        "estimated_clearance_pct": {"min": 0, "max": CLEARANCE_MAX},
    }

    wavelength_choice = forms.ChoiceField(
        label="Wavelength (nm)",
        required=False,
        choices=[("", "—")] + [(str(w), f"{w} nm") for w in STANDARD_WAVELENGTHS] + [(OTHER, "Other…")],
        widget=forms.Select(attrs={"data-reveal-when-value": f"div_id_wavelength_other:{OTHER}"}),
        help_text="1064 nm is the usual wavelength for black carbon pigment and for Fitzpatrick IV–VI.",
    )
    wavelength_other = forms.IntegerField(
        label="Other wavelength (nm)",
        required=False,
        min_value=WAVELENGTH_OTHER_MIN,
        max_value=WAVELENGTH_OTHER_MAX,
        help_text=f"Only with “Other…”: {WAVELENGTH_OTHER_MIN}–{WAVELENGTH_OTHER_MAX} nm.",
    )

    class Meta:
        model = LaserSession
        fields = [
            "scheduled_at",
            "status",
            "technician",
            "plan_step",
            # The wavelength is set through wavelength_choice and wavelength_other.
            *(name for name in LASER_SETTINGS if name != "wavelength_nm"),
            "zones",
            "test_spot",
            "immediate_response",
            "pain_score",
            "estimated_clearance_pct",
            "adverse_events",
            "adverse_event_notes",
            "aftercare_given",
            "aftercare_notes",
            "notes_for_client",
            "parameters_shared",
            "internal_notes",
        ]
        widgets = {**NOTES_WIDGETS, "adverse_event_notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["technician"].help_text = "Needs a laser safety certification valid on the session day."
        self.fields["device"].widget = DeviceSelect()
        self.fields["device"].queryset = LaserDevice.objects.filter(
            Q(archived_at__isnull=True) | Q(pk=self.instance.device_id)
        )
        self.fields["device"].help_text = "The laser type and wavelength must be ones this device has."
        self.fields["adverse_events"].widget = forms.CheckboxSelectMultiple()
        self.fields["adverse_events"].queryset = AdverseEventKind.objects.all()
        self.fields["adverse_events"].help_text = ""
        self.read_choices_together("technician", "room", "device", "zones", "adverse_events")
        self.fields["estimated_clearance_pct"].help_text = "0–100 %."
        wavelength = self.instance.wavelength_nm
        if wavelength is not None and not self.is_bound:
            if wavelength in STANDARD_WAVELENGTHS:
                self.initial.setdefault("wavelength_choice", str(wavelength))
            else:
                self.initial.setdefault("wavelength_choice", OTHER)
                self.initial.setdefault("wavelength_other", wavelength)
        self.helper = _helper(
            # The client's contraindications, the rules' findings and the overrides they call
            # for, first: the page's own partials, rendered with the page's context.
            _fieldset(
                "Contraindications and safety checks",
                HTML(
                    '{% include "cases/sessions/_contraindications.html" %}'
                    '{% include "cases/sessions/_safety_checks.html" %}'
                    '{% include "cases/sessions/_override_fields.html" %}'
                ),
            ),
            _fieldset(
                "When and who",
                (_col("scheduled_at", 4), _col("status", 4), _col("technician", 4)),
                (_col("room", 4), _col("minutes", 4)),
                "plan_step",
            ),
            _fieldset(
                "Device & settings",
                (_col("device", 4), _col("laser_type", 4), _col("pulse_domain", 4)),
                (_col("wavelength_choice"), _col("wavelength_other"), _col("pulse_width"), _col("spot_size_mm")),
                (_col("fluence_j_cm2", 4), _col("repetition_rate_hz", 4), _col("passes", 4)),
            ),
            _fieldset(
                "Zones & response",
                Div("zones", css_class="checkbox-columns"),
                (
                    _col("test_spot"),
                    _col("immediate_response", 5),
                    _col("pain_score", 2),
                    _col("estimated_clearance_pct", 2),
                ),
                Div("adverse_events", css_class="checkbox-columns"),
                "adverse_event_notes",
            ),
            _fieldset(
                "Aftercare and notes",
                (_col("aftercare_given", 6), _col("parameters_shared", 6)),
                (_col("aftercare_notes", 6), _col("notes_for_client", 6)),
                "internal_notes",
            ),
        )

    def clean(self):
        cleaned = super().clean()
        choice = cleaned.get("wavelength_choice")
        other = cleaned.get("wavelength_other")
        wavelength = None
        if choice == OTHER:
            if other is None and "wavelength_other" not in self.errors:
                self.add_error(
                    "wavelength_other", f"Give the wavelength ({WAVELENGTH_OTHER_MIN}–{WAVELENGTH_OTHER_MAX} nm)."
                )
            wavelength = other
        elif choice:
            wavelength = int(choice)
            if other is not None:
                self.add_error("wavelength_other", "Leave this empty unless the wavelength is “Other…”.")
        elif other is not None:
            self.add_error("wavelength_choice", "Choose “Other…” to give another wavelength.")
        self.instance.wavelength_nm = wavelength
        if cleaned.get("status") == SessionStatus.COMPLETED:
            if (
                wavelength is None
                and not self.has_error("wavelength_choice")
                and not self.has_error("wavelength_other")
            ):
                self.add_error("wavelength_choice", "A completed session records the wavelength.")
            for field, what in COMPLETED_NEEDS.items():
                if cleaned.get(field) is None and field not in self.errors:
                    self.add_error(field, f"A completed session records the {what}.")
        return cleaned

    def session_fields(self) -> dict:
        return {**super().session_fields(), "adverse_events": self.cleaned_data["adverse_events"]}

    def prefill(self, previous: LaserSession | None = None) -> PlanStep | None:
        """Also the zones: the next planned laser step's, else those of `previous`, the
        session the laser settings were copied from (`new_laser_session`)."""
        step = super().prefill()
        step_zones = list(step.zones.all()) if step is not None else []
        if step_zones:
            self.initial["zones"] = step_zones
        elif previous is not None:
            self.initial["zones"] = list(previous.zones.all())
        return step

    def proposal(self) -> dict:
        """The values the rules judge: as posted (valid fields), else as initially shown."""
        session = self.instance
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        technician = data.get("technician") if self.is_bound else self.initial.get("technician")
        if not isinstance(technician, Artist):
            technician = session.technician if session.technician_id else None
        if self.is_bound:
            scheduled_at = data.get("scheduled_at") or session.scheduled_at
            status = data.get("status") or session.status
        else:
            scheduled_at = self.initial.get("scheduled_at") or session.scheduled_at
            status = self.initial.get("status") or session.status
        return {
            "scheduled_at": scheduled_at,
            "status": status,
            "technician": technician,
            "wavelength_nm": session.wavelength_nm,
            "zones": self.zone_ids_proposed(),
        }


class CorrectionSessionForm(SessionFormBase):
    step_kinds = NON_LASER_STEPS
    booking_kind = BookingKind.CORRECTION
    person_field = "artist"
    override_rules = (OverrideRule.ZONE_INTERVAL,)
    range_hints = {**SessionFormBase.range_hints, "duration_minutes": {"min": 1, "max": 600}}

    class Meta:
        model = CorrectionSession
        fields = [
            "kind",
            "scheduled_at",
            "status",
            "artist",
            "plan_step",
            "pigment",
            "needle",
            "saline_solution",
            "duration_minutes",
            "zones",
            "pain_score",
            "aftercare_given",
            "aftercare_notes",
            "notes_for_client",
            "internal_notes",
        ]
        widgets = NOTES_WIDGETS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.read_choices_together("artist", "room", "zones")
        self.fields["duration_minutes"].label = "Duration (minutes)"
        self.helper = _helper(
            _fieldset(
                "When and who",
                (_col("kind", 4), _col("scheduled_at", 4), _col("status", 4)),
                (_col("artist", 4), _col("room", 4), _col("minutes", 4)),
                "plan_step",
            ),
            _fieldset(
                "Work done",
                (_col("pigment", 4), _col("needle", 4), _col("saline_solution", 4)),
                (_col("duration_minutes", 4), _col("pain_score", 4)),
                "zones",
            ),
            _fieldset(
                "Aftercare and notes", "aftercare_given", "aftercare_notes", "notes_for_client", "internal_notes"
            ),
        )

    def prefill(self) -> PlanStep | None:
        """Also the kind and zones of the next planned non-laser step."""
        step = super().prefill()
        if step is not None:
            self.initial["kind"] = KIND_OF_STEP[step.kind]
            zones = list(step.zones.all())
            if zones:
                self.initial["zones"] = zones
        return step

    def proposal(self) -> dict:
        session = self.instance
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        source = data if self.is_bound else self.initial
        return {
            "kind": source.get("kind") or session.kind,
            "scheduled_at": source.get("scheduled_at") or session.scheduled_at,
            "status": source.get("status") or session.status,
            "zones": self.zone_ids_proposed(),
        }


def new_laser_session(case: Case) -> tuple[LaserSession, LaserSession | None]:
    """A new laser session, now, with the laser settings of the case's latest laser session
    that took place (returned so the page can say so); the form's `prefill` does the rest."""
    previous = LaserSession.objects.previous_for(case)
    session = LaserSession(case=case, scheduled_at=now_to_the_minute(), status=SessionStatus.SCHEDULED)
    if previous is not None:
        for field in LASER_SETTINGS:
            setattr(session, field, getattr(previous, field))
    return session, previous


def new_correction_session(case: Case) -> CorrectionSession:
    return CorrectionSession(case=case, scheduled_at=now_to_the_minute(), status=SessionStatus.SCHEDULED)
