"""The diary's forms: which day and whose columns, booking an appointment, moving and
cancelling one. Parsing only; the booking service says what cannot be booked."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone

from artists.models import Artist
from cases.choices import CorrectionKind, FollowUpKind, PlanStepKind
from cases.models import BookingKind, LaserDevice, PlanStep, ZoneLookup
from smpclinic.forms import DateInput, DateTimeInput, SubmitOnceFormMixin
from smpclinic.models import Room

MINUTES_MIN, MINUTES_MAX = 5, 600

# What can be booked, one choice each: "laser", "correction:<kind>", "follow_up:<kind>".
IN_CLINIC_FOLLOW_UPS = (FollowUpKind.HEALING_CHECK, FollowUpKind.POST_LASER_CHECK, FollowUpKind.TEST_SPOT_RECHECK)
WHAT_CHOICES = [
    ("laser", "Laser session"),
    *[(f"correction:{kind.value}", f"{kind.label} session") for kind in CorrectionKind],
    *[(f"follow_up:{kind.value}", kind.label) for kind in IN_CLINIC_FOLLOW_UPS],
]
# The booking a plan step asks for (book this step).
WHAT_OF_STEP = {
    PlanStepKind.LASER_SESSION: "laser",
    PlanStepKind.SALINE_SESSION: f"correction:{CorrectionKind.SALINE_REMOVAL}",
    PlanStepKind.SMP_SESSION: f"correction:{CorrectionKind.SMP_CORRECTION}",
    PlanStepKind.COLOUR_CORRECTION: f"correction:{CorrectionKind.COLOUR_CORRECTION}",
    PlanStepKind.SCAR_CAMOUFLAGE: f"correction:{CorrectionKind.SCAR_CAMOUFLAGE}",
    PlanStepKind.HEALING_CHECK: f"follow_up:{FollowUpKind.HEALING_CHECK}",
    PlanStepKind.REVIEW: f"follow_up:{FollowUpKind.HEALING_CHECK}",
}


def split_what(what: str) -> dict:
    """ "correction:saline_removal" → the booking service's kind and sub-kind arguments."""
    kind, _, sub = what.partition(":")
    if kind == "laser":
        return {"kind": BookingKind.LASER}
    if kind == "correction":
        return {"kind": BookingKind.CORRECTION, "correction_kind": sub}
    return {"kind": BookingKind.FOLLOW_UP, "follow_up_kind": sub}


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Artist) -> str:
        return obj.full_name


def people():
    return Artist.objects.active().internal().order_by("last_name", "first_name", "pk")


def rooms():
    return Room.objects.active()


class DiaryFilterForm(forms.Form):
    """The diary's day, column layout and filters (a GET form: the address says it all)."""

    day = forms.DateField(required=False, widget=DateInput())
    by = forms.ChoiceField(choices=[("room", "Rooms"), ("person", "People")], required=False, label="Columns")
    person = forms.ModelChoiceField(queryset=None, required=False, to_field_name="public_id", empty_label="Everyone")
    room = forms.ModelChoiceField(queryset=None, required=False, to_field_name="public_id", empty_label="Every room")
    kind = forms.ChoiceField(choices=[("", "Every kind"), *BookingKind.choices], required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people()
        self.fields["person"].label_from_instance = lambda obj: obj.full_name
        self.fields["room"].queryset = rooms()
        for name, field in self.fields.items():
            kind = "form-control" if name == "day" else "form-select"
            field.widget.attrs["class"] = f"{kind} {kind}-sm"

    def value(self, name: str, default=None):
        if self.is_valid():
            return self.cleaned_data.get(name) or default
        return default


def _minutes_field() -> forms.IntegerField:
    return forms.IntegerField(
        min_value=MINUTES_MIN,
        max_value=MINUTES_MAX,
        required=False,
        label="Length (minutes)",
        help_text="Empty: the clinic's usual length for this kind (Clinic settings).",
    )


def _hours_override_field() -> forms.CharField:
    return forms.CharField(
        max_length=500,
        required=False,
        label="Reason to book outside opening hours",
        help_text="Managers only, when the clinic is closed at that time.",
    )


def require_room(form: forms.Form, cleaned: dict, message: str) -> None:
    """An appointment still to come holds a room in the diary: `message` on the form's
    `room` field when none is chosen, unless the clinic has set up no room yet (none on
    its Diary settings page), when there is none to choose."""
    if cleaned.get("room") is None and "room" not in form.errors and form.fields["room"].queryset.exists():
        form.add_error("room", message)


class BookingForm(SubmitOnceFormMixin, forms.Form):
    what = forms.ChoiceField(choices=WHAT_CHOICES, label="Appointment")
    starts_at = forms.DateTimeField(widget=DateTimeInput(), label="Starts")
    minutes = _minutes_field()
    person = PersonChoiceField(queryset=None, to_field_name="public_id", label="With")
    room = forms.ModelChoiceField(queryset=None, to_field_name="public_id", required=False)
    device = forms.ModelChoiceField(
        queryset=None, to_field_name="public_id", required=False, label="Laser", help_text="Laser sessions only."
    )
    zones = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple, label="Scalp zones"
    )
    plan_step = forms.ModelChoiceField(
        queryset=None, to_field_name="public_id", required=False, widget=forms.HiddenInput
    )
    hours_override = _hours_override_field()

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.case = case
        self.fields["person"].queryset = people()
        self.fields["room"].queryset = rooms()
        self.fields["device"].queryset = LaserDevice.objects.active()
        self.fields["zones"].queryset = ZoneLookup.objects.all()
        self.fields["plan_step"].queryset = PlanStep.objects.filter(plan__case=case)

    def clean_starts_at(self):
        value = self.cleaned_data["starts_at"]
        return value.replace(second=0, microsecond=0) if value else value

    def clean(self):
        cleaned = super().clean()
        what = cleaned.get("what", "")
        if what and what != "laser" and cleaned.get("device"):
            self.add_error("device", "Only a laser session books a laser.")
        if what.startswith(("laser", "correction")) and not cleaned.get("zones"):
            self.add_error("zones", "Choose at least one scalp zone.")
        require_room(self, cleaned, "Choose the room: the appointment holds one in the diary.")
        return cleaned

    def booking_fields(self) -> dict:
        data = self.cleaned_data
        return {
            **split_what(data["what"]),
            "case": self.case,
            "starts_at": data["starts_at"],
            "minutes": data.get("minutes"),
            "person": data["person"],
            "room": data.get("room"),
            "device": data.get("device"),
            "zones": list(data.get("zones") or []),
            "plan_step": data.get("plan_step"),
            "hours_override": data.get("hours_override", ""),
        }


class RescheduleForm(forms.Form):
    starts_at = forms.DateTimeField(widget=DateTimeInput(), label="New start")
    minutes = _minutes_field()
    person = PersonChoiceField(queryset=None, to_field_name="public_id", label="With")
    room = forms.ModelChoiceField(queryset=None, to_field_name="public_id", required=False)
    reason = forms.CharField(max_length=500, label="Why it moves", widget=forms.TextInput())
    hours_override = _hours_override_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people()
        self.fields["room"].queryset = rooms()
        self.fields["minutes"].help_text = "Empty: as long as it is now."

    def clean_starts_at(self):
        value = self.cleaned_data["starts_at"]
        if value and value < timezone.now() - datetime.timedelta(minutes=1):
            raise forms.ValidationError("Move it to a time still to come.")
        return value.replace(second=0, microsecond=0) if value else value


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=500, label="Why it is cancelled", widget=forms.TextInput())


class FreeSlotForm(forms.Form):
    """'Find the next free slot': what, with whom, from when (a GET form on the booking page)."""

    what = forms.ChoiceField(choices=WHAT_CHOICES, label="Appointment")
    person = PersonChoiceField(queryset=None, to_field_name="public_id", label="With")
    device = forms.ModelChoiceField(queryset=None, to_field_name="public_id", required=False, label="Laser")
    room = forms.ModelChoiceField(queryset=None, to_field_name="public_id", required=False)
    zones = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple, label="Scalp zones"
    )
    after = forms.DateField(widget=DateInput(), required=False, label="From")
    minutes = _minutes_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people()
        self.fields["room"].queryset = rooms()
        self.fields["device"].queryset = LaserDevice.objects.active()
        self.fields["zones"].queryset = ZoneLookup.objects.all()
