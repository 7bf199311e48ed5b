"""Forms of the clients area: the client record, the list filters, a consent signed in clinic."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Fieldset, Layout
from django import forms
from django.utils import timezone

from artists.models import Artist
from cases.choices import CaseStatus, Fitzpatrick
from cases.models import Client, ConsentText
from cases.services.clients import CONTRAINDICATION_FIELDS, EDITABLE_FIELD_ORDER, EDITABLE_FIELDS
from smpclinic.forms import DateInput, SubmitOnceFormMixin, VersionedFormMixin
from smpclinic.lookups import read_once

CONTRAINDICATION_DATES = ("isotretinoin_last_dose", "immunosuppression_last")


class ClientForm(VersionedFormMixin, forms.ModelForm):
    """The client record; `save_anyway` is shown only next to a possible-duplicate warning."""

    save_anyway = forms.BooleanField(
        required=False,
        label="Save anyway: I checked, this is a different person",
    )

    class Meta:
        model = Client
        fields = EDITABLE_FIELD_ORDER
        widgets = {
            "date_of_birth": DateInput(),
            "isotretinoin_last_dose": DateInput(),
            "immunosuppression_last": DateInput(),
            "address": forms.Textarea(attrs={"rows": 2}),
            "allergies": forms.Textarea(attrs={"rows": 2}),
            "medications": forms.Textarea(attrs={"rows": 2}),
            "internal_notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date_of_birth"].widget.attrs["max"] = timezone.localdate().isoformat()
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(
                "Identity",
                Div(
                    Div("first_name", css_class="col-md-4"),
                    Div("last_name", css_class="col-md-4"),
                    Div("preferred_name", css_class="col-md-4"),
                    css_class="row",
                ),
                Div(Div("date_of_birth", css_class="col-md-4"), css_class="row"),
            ),
            Fieldset(
                "Contact",
                Div(Div("email", css_class="col-md-6"), Div("phone", css_class="col-md-6"), css_class="row"),
                "address",
                "reminders_opt_in",
            ),
            Fieldset(
                "Skin and hair",
                Div(
                    Div("fitzpatrick_type", css_class="col-md-6"),
                    Div("norwood_stage", css_class="col-md-6"),
                    css_class="row",
                ),
            ),
            Fieldset(
                "Contraindications for laser work",
                *(name for name in CONTRAINDICATION_FIELDS if name not in CONTRAINDICATION_DATES),
                Div(*(Div(name, css_class="col-md-6") for name in CONTRAINDICATION_DATES), css_class="row"),
            ),
            Fieldset("Medical notes", "allergies", "medications", "internal_notes"),
        )

    def clean_first_name(self) -> str:
        return " ".join(self.cleaned_data["first_name"].split())

    def clean_last_name(self) -> str:
        return " ".join(self.cleaned_data["last_name"].split())

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def client_fields(self) -> dict:
        """The cleaned values, as keyword arguments for client_create / client_update."""
        return {name: value for name, value in self.cleaned_data.items() if name in EDITABLE_FIELDS}


class ClientFilterForm(forms.Form):
    """Search and filters of the client list (GET); every field optional."""

    YES, NO = "yes", "no"

    q = forms.CharField(
        label="Search", required=False, max_length=200, help_text="Name, e-mail, phone or case reference."
    )
    status = forms.ChoiceField(label="Case status", required=False, choices=[("", "Any")] + CaseStatus.choices)
    lead_artist = forms.ModelChoiceField(
        label="Lead artist",
        required=False,
        # What an option shows (the name) and sends (the public id), and only that.
        queryset=Artist.objects.active().internal().only("public_id", "first_name", "last_name"),
        empty_label="Any",
        to_field_name="public_id",
    )
    fitzpatrick = forms.ChoiceField(
        label="Fitzpatrick type", required=False, choices=[("", "Any")] + Fitzpatrick.choices
    )
    contraindication = forms.ChoiceField(
        label="Contraindication",
        required=False,
        choices=[("", "Any"), (YES, "Has a contraindication"), (NO, "None")],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The list writes these fields itself (the `filter_field` tag), not through
        # crispy-forms: a search is the most frequent page a receptionist opens.
        self.fields["q"].widget.attrs["class"] = "form-control"
        read_once(self.fields["lead_artist"])

    def filter(self, clients, clinic=None):
        """Apply the valid filters to a Client queryset (invalid values are ignored, with errors shown)."""
        data = self.cleaned_data if self.is_valid() else {}
        if "q" in self.errors:
            self.fields["q"].widget.attrs["class"] += " is-invalid"
        if data.get("q"):
            clients = clients.search(data["q"])
        if data.get("status") or data.get("lead_artist"):
            case_filter = {}
            if data.get("status"):
                case_filter["status"] = data["status"]
            if data.get("lead_artist"):
                case_filter["lead_artist"] = data["lead_artist"]
            clients = clients.with_case(**case_filter)
        if data.get("fitzpatrick"):
            clients = clients.filter(fitzpatrick_type=data["fitzpatrick"])
        if data.get("contraindication") == self.YES:
            clients = clients.with_contraindication(clinic=clinic)
        elif data.get("contraindication") == self.NO:
            clients = clients.without_contraindication(clinic=clinic)
        return clients


class ConsentRecordForm(SubmitOnceFormMixin, forms.Form):
    """A consent the client signed in the clinic; the rules (current version, the typed
    name, one signature in force) are `cases.services.consents.consent_sign`'s."""

    text = forms.ModelChoiceField(
        label="Consent form",
        queryset=ConsentText.objects.none(),
        empty_label="Choose the consent the client signed",
        help_text="Only the current version of each consent can be signed.",
    )
    signed_name = forms.CharField(
        label="Client's typed name",
        max_length=200,
        help_text="The client types their first and last name, as in their record, to sign.",
    )
    signed_in_clinic = forms.BooleanField(
        label="The client signed this in the clinic, in my presence",
        required=True,
        error_messages={"required": "Confirm the client signed in the clinic, in your presence."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"].queryset = ConsentText.objects.current().order_by("kind")
