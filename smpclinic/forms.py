"""Form helpers every area's views share."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.forms import BaseForm

from smpclinic.concurrency import StaleEdit, new_token
from smpclinic.models import ClinicSettings


class DateInput(forms.DateInput):
    """The browser's date picker; the value in the ISO form it expects."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    """The browser's date-and-time picker (local time, to the minute) in the form it expects."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


def add_service_errors(form: BaseForm, error: ValidationError, *, elsewhere: str | None = None) -> None:
    """Show a service's refusal on the form that asked for it.

    An error naming a field the form has goes under that field; anything else goes to
    `elsewhere` (a field name), or above the form. Django's own ``add_error(None, error)``
    raises when the service names a field the form does not show.
    """
    if isinstance(error, StaleEdit):
        _take_their_changes(form, error)
        form.add_error(elsewhere, error.messages)
        return
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else elsewhere, errors)
    else:
        form.add_error(elsewhere, error)


class RendersHiddenFields:
    """Crispy layouts render only the fields they name; the hidden fields these mixins
    add must reach the page whatever the layout, so any helper a form sets renders them."""

    @property
    def helper(self) -> FormHelper:
        helper = self.__dict__.get("_helper")
        if helper is None:
            helper = self.__dict__["_helper"] = FormHelper()
            helper.render_hidden_fields = True
        return helper

    @helper.setter
    def helper(self, value: FormHelper) -> None:
        value.render_hidden_fields = True
        self.__dict__["_helper"] = value


class PlainNewlines:
    """A textarea's lines as records store them. Browsers send them with CRLF; kept so,
    text saved unchanged (typed or imported with LF) would count as a change in the
    record's history and in a stale-form comparison."""

    def clean(self):
        cleaned = super().clean()
        for name, value in cleaned.items():
            field = self.fields.get(name)
            if isinstance(value, str) and field is not None and isinstance(field.widget, forms.Textarea):
                cleaned[name] = value.replace("\r\n", "\n")
        return cleaned


class VersionedFormMixin(PlainNewlines, RendersHiddenFields):
    """For a ModelForm of a `Versioned` record: a hidden field carries the version the
    form was opened on, and validation hands it to the instance, so the service that
    saves it refuses a stale copy (smpclinic.concurrency)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = getattr(self, "instance", None)
        editing = instance is not None and instance.pk is not None
        # Required when editing: a page that forgot to send it would save blind.
        self.fields["lock_version"] = forms.IntegerField(
            widget=forms.HiddenInput,
            required=editing,
            min_value=1,
            initial=instance.lock_version if editing else None,
            error_messages={"required": "This form is out of date: open the record again to edit it."},
        )

    def _post_clean(self):
        super()._post_clean()
        # Out of cleaned_data, so views can keep passing it whole to a service.
        version = self.cleaned_data.pop("lock_version", None)
        if version and self.instance.pk:
            self.instance.lock_version = version


def expected_version(form: BaseForm, record) -> None:
    """For a plain Form that edits `record`: give the record the version the form carries."""
    version = form.cleaned_data.get("lock_version")
    if version:
        record.lock_version = version


def version_field(record) -> forms.IntegerField:
    """The hidden version field for a plain (non-model) Form that edits `record`."""
    return forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, initial=record.lock_version)


class SubmitOnceFormMixin(PlainNewlines, RendersHiddenFields):
    """A create form with a random token: a second submit of the same page is answered
    with the record the first one made (smpclinic.concurrency.create_once)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["submission_token"] = forms.UUIDField(widget=forms.HiddenInput, required=False, initial=new_token)

    submission_token = None

    def _post_clean(self):
        super()._post_clean()
        # Out of cleaned_data, so views can keep passing it whole to a service.
        self.submission_token = self.cleaned_data.pop("submission_token", None)


def _as_data(field: forms.Field, value: Any) -> list[str] | None:
    """A stored value as the strings a browser would post for `field` (None: leave out)."""
    if isinstance(field, forms.BooleanField):
        return ["on"] if value else []
    if isinstance(field, forms.ModelMultipleChoiceField):
        return [str(pk) for pk in value or ()]
    if isinstance(field.widget, forms.MultiWidget):
        return None  # split widgets post several keys: the message names the change instead
    if value is None:
        return [""]
    prepared = field.prepare_value(value)
    formatted = field.widget.format_value(prepared) if hasattr(field.widget, "format_value") else prepared
    return ["" if formatted is None else str(formatted)]


def _take_their_changes(form: BaseForm, error: StaleEdit) -> None:
    """Put the other person's changes into the bound form (where this user did not change
    the same field) and move its version on, so saving again keeps both sets of edits."""
    if not form.is_bound or error.current is None:
        return
    data = form.data.copy()
    mine = getattr(form, "cleaned_data", {})
    # Without a known base every difference may be this user's own edit: the form keeps
    # them all and the message lists the stored values beside them.
    for change in error.changes if error.base_known else ():
        field = form.fields.get(change.field)
        if field is None:
            continue
        value = mine.get(change.field)
        if isinstance(field, forms.ModelMultipleChoiceField):
            value = {obj.pk for obj in value or ()}
        elif isinstance(field, forms.ModelChoiceField):
            value = getattr(value, "pk", value)
        if value != change.before and change.field in mine:
            continue  # both changed it: keep this user's value, the message shows theirs
        posted = _as_data(field, change.after)
        if posted is not None:
            data.setlist(form.add_prefix(change.field), posted)
    if "lock_version" in form.fields:
        data[form.add_prefix("lock_version")] = str(error.current.lock_version)
    form.data = data


class FittingIdsMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A multi-select whose ids must fit the database's integers: SQLite cannot even
    compare a larger one, so such a choice is refused like any unknown one."""

    def _check_values(self, value):
        try:
            return super()._check_values(value)
        except OverflowError:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": "that choice"}
            ) from None


class FittingChoiceIdsMixin:
    """For a form with multi-selects: each refuses an id too large for the database
    (FittingIdsMultipleChoiceField) instead of failing the request."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if type(field) is forms.ModelMultipleChoiceField:
                # The subclass only adds a check: the field's own state stays as it was built.
                field.__class__ = FittingIdsMultipleChoiceField


CLINIC_FIELDS = ["name", "address", "phone", "email", "website", "time_zone", "currency"]
RULE_FIELDS = [
    "min_laser_interval_weeks",
    "min_saline_interval_weeks",
    "isotretinoin_washout_months",
    "laser_check_days",
    "correction_check_days",
    "reminder_lead_days",
]
SECURITY_FIELDS = ["plan_approval_four_eyes", "two_factor_for_staff", "idle_logout_minutes"]
DIARY_FIELDS = ["laser_minutes", "correction_minutes", "follow_up_minutes"]


class ClinicSettingsForm(VersionedFormMixin, forms.ModelForm):
    """The Settings page: the clinic's details, the safety-rule values and the sign-in rules."""

    class Meta:
        model = ClinicSettings
        fields = CLINIC_FIELDS + RULE_FIELDS + DIARY_FIELDS + SECURITY_FIELDS
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].help_text = "An IANA name such as Europe/London: dates and the day's diary follow it."
        # The number inputs offer the model's own range (min 5 minutes, not the 0 a
        # positive integer field would give them).
        for name, field in self.fields.items():
            if isinstance(field, forms.IntegerField):
                for validator in ClinicSettings._meta.get_field(name).validators:
                    if isinstance(validator, MinValueValidator):
                        field.widget.attrs["min"] = validator.limit_value
                    elif isinstance(validator, MaxValueValidator):
                        field.widget.attrs["max"] = validator.limit_value
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset("Clinic", *CLINIC_FIELDS),
            Fieldset("Safety rules and follow-ups", *RULE_FIELDS),
            Fieldset("Diary: how long each booking takes", *DIARY_FIELDS),
            Fieldset("Approval and sign-in", *SECURITY_FIELDS),
        )

    def clean_currency(self) -> str:
        code = self.cleaned_data["currency"].strip().upper()
        if not (len(code) == 3 and code.isascii() and code.isalpha()):
            raise ValidationError("Three letters, as in GBP or EUR.")
        return code


TIME_ATTRS = {"type": "time", "class": "form-control form-control-sm"}


class OpeningHoursForm(forms.Form):
    """One weekday of the diary's opening hours: open or not, and from when to when."""

    is_open = forms.BooleanField(
        required=False, label="Open", widget=forms.CheckboxInput(attrs={"class": "form-check-input"})
    )
    opens = forms.TimeField(required=False, widget=forms.TimeInput(attrs=TIME_ATTRS, format="%H:%M"))
    closes = forms.TimeField(required=False, widget=forms.TimeInput(attrs=TIME_ATTRS, format="%H:%M"))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("is_open"):
            opens, closes = cleaned.get("opens"), cleaned.get("closes")
            if opens is None or closes is None:
                raise ValidationError("Give the time the clinic opens and the time it closes.")
            if closes <= opens:
                raise ValidationError("The clinic closes after it opens.")
        return cleaned

    def hours(self):
        data = self.cleaned_data
        return (data["opens"], data["closes"]) if data.get("is_open") else None


class RoomForm(forms.Form):
    name = forms.CharField(max_length=100, label="New room")
    position = forms.IntegerField(min_value=0, max_value=999, initial=0, label="Column order")


class ClosureForm(forms.Form):
    day = forms.DateField(widget=DateInput(), label="Closed on")
    reason = forms.CharField(max_length=200, label="Why", help_text="e.g. Bank holiday, staff training.")
