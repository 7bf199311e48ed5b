"""Forms of the case workspace: the case itself, status changes, consultations, issues."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils import timezone

from artists.models import Artist, Studio
from cases.choices import CaseStatus, Outcome, Satisfaction
from cases.models import Case, Consultation, Issue, RegretReason
from cases.services.cases import CASE_EDITABLE_FIELDS, issue_date_errors
from smpclinic.forms import DateInput, DateTimeInput, FittingChoiceIdsMixin, SubmitOnceFormMixin, VersionedFormMixin


def _active_or_current(queryset, current_id):
    """Active rows to choose from, plus the one already chosen even if it was archived since."""
    return queryset.filter(Q(archived_at__isnull=True) | Q(pk=current_id))


class CaseForm(FittingChoiceIdsMixin, VersionedFormMixin, forms.ModelForm):
    """Open or edit a case; its status changes only through CaseStatusForm."""

    class Meta:
        model = Case
        fields = [*CASE_EDITABLE_FIELDS, "regret_reasons"]
        widgets = {
            "goal": forms.Textarea(attrs={"rows": 3}),
            "regret_reasons": forms.CheckboxSelectMultiple,
            "regret_notes": forms.Textarea(attrs={"rows": 3}),
            "original_date": DateInput,
            "expectations_discussed_on": DateInput,
            "expectations_agreed": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {
            "lead_artist": "Lead artist",
            "regret_reasons": "Reasons for regret",
            "original_studio": "Studio of the original SMP",
            "original_artist": "Artist of the original SMP",
            "expectations_discussed_on": "Realistic expectations discussed on",
        }
        help_texts = {
            "expectations_discussed_on": "You are recorded as the person who discussed them.",
        }

    # The reasons for regret come right after the lead artist; the rest keep Meta.fields' order.
    field_order = ["goal", "lead_artist", "regret_reasons"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        case = self.instance
        self.fields["goal"].required = True
        self.fields["lead_artist"].queryset = _active_or_current(Artist.objects.internal(), case.lead_artist_id)
        self.fields["original_artist"].queryset = _active_or_current(
            Artist.objects.external().select_related("studio"), case.original_artist_id
        )
        self.fields["original_studio"].queryset = _active_or_current(Studio.objects.all(), case.original_studio_id)
        self.fields["regret_reasons"].queryset = RegretReason.objects.all()

    def clean(self):
        data = super().clean()
        discussed_on = data.get("expectations_discussed_on")
        if discussed_on and discussed_on > timezone.localdate():
            self.add_error("expectations_discussed_on", "Expectations cannot be discussed in the future.")
        if data.get("expectations_agreed", "").strip() and not discussed_on and "expectations_discussed_on" in data:
            self.add_error("expectations_discussed_on", "Give the day realistic expectations were discussed.")
        return data


class CaseStatusForm(forms.Form):
    """What a status change asks for: closing needs an outcome and satisfaction,
    withdrawing a reason; the other moves need nothing but the click."""

    def __init__(self, *args, to: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.to = to
        if to == CaseStatus.CLOSED:
            self.fields["outcome"] = forms.ChoiceField(choices=[("", "---------"), *Outcome.choices])
            self.fields["satisfaction"] = forms.TypedChoiceField(
                label="Client's satisfaction",
                choices=Satisfaction.choices,
                coerce=int,
                widget=forms.RadioSelect,
            )
            self.fields["outcome_notes"] = forms.CharField(
                label="Notes on the outcome", required=False, widget=forms.Textarea(attrs={"rows": 3})
            )
            self.fields["closed_on"] = forms.DateField(label="Closed on", initial=timezone.localdate, widget=DateInput)
        elif to == CaseStatus.WITHDRAWN:
            self.fields["withdrawn_reason"] = forms.CharField(
                label="Why was the case withdrawn?", widget=forms.Textarea(attrs={"rows": 3})
            )

    def service_arguments(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}


class ConsultationForm(VersionedFormMixin, SubmitOnceFormMixin, forms.ModelForm):
    class Meta:
        model = Consultation
        fields = ["held_at", "kind", "concerns", "findings", "recommendations", "internal_notes"]
        widgets = {
            "held_at": DateTimeInput,
            "concerns": forms.Textarea(attrs={"rows": 3}),
            "findings": forms.Textarea(attrs={"rows": 3}),
            "recommendations": forms.Textarea(attrs={"rows": 3}),
            "internal_notes": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {"held_at": "Held at", "internal_notes": "Internal notes (staff only)"}


class IssueForm(VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = Issue
        fields = ["kind", "zone", "severity", "description", "identified_on", "resolved_on"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "identified_on": DateInput,
            "resolved_on": DateInput,
        }
        help_texts = {"resolved_on": "Leave empty while the issue is open."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["severity"].widget.attrs.update({"min": 1, "max": 5})

    def clean(self):
        data = super().clean()
        errors = issue_date_errors(identified_on=data.get("identified_on"), resolved_on=data.get("resolved_on"))
        for field, message in errors.items():
            self.add_error(field, message)
        return data
