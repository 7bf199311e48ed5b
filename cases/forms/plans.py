"""Forms for treatment plans, their steps, the manager's review and acceptance in clinic.

The forms validate input; the services in cases.services.plans enforce the rules and
write. Nothing here saves.
"""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Fieldset, Layout, Row
from django import forms

from cases.kirby_desai import FITZPATRICK_POINTS, LocationPoints
from cases.models import Case, Client, CorrectionOption, PlanStep, TreatmentPlan, ZoneLookup
from cases.models.plans import KD_FIELDS
from cases.services.plans import PLAN_FIELDS
from smpclinic.forms import DateInput, FittingChoiceIdsMixin, VersionedFormMixin, version_field

# The clinic's starting aftercare text (docs/domain.md#aftercare), edited per plan.
AFTERCARE_SMP = (
    "After SMP work: keep the scalp dry for about 4 days and avoid heavy sweating for about 5 days. "
    "No swimming, sauna or steam, and no sun on the scalp, for about 28 days; after that, "
    "protect the scalp with sunscreen SPF 30–50."
)
AFTERCARE_LASER = (
    "After each laser session: we check healing 1–2 weeks later, and assess the next session "
    "once the interval between sessions has passed."
)
DEFAULT_AFTERCARE = f"{AFTERCARE_SMP}\n\n{AFTERCARE_LASER}"


class PlanForm(FittingChoiceIdsMixin, VersionedFormMixin, forms.ModelForm):
    """The plan's content, its Kirby–Desai sub-scores (all six or none) and the
    clinician's own estimate of laser sessions."""

    class Meta:
        model = TreatmentPlan
        fields = ["options", *PLAN_FIELDS]
        widgets = {
            "options": forms.CheckboxSelectMultiple,
            "summary": forms.Textarea(attrs={"rows": 4}),
            "aftercare": forms.Textarea(attrs={"rows": 5}),
            "internal_notes": forms.Textarea(attrs={"rows": 3}),
        }
        error_messages = {"price_estimate": {"min_value": "The price estimate cannot be negative."}}
        help_texts = {
            "summary": "Plain language: what will be done and why. Shown to the client.",
            "options": "At least one is needed before the plan is submitted.",
            "clinician_estimate_sessions": (
                "Your own estimate (0–30). The client sees it beside the Kirby–Desai scale's estimate, "
                "each labelled, so say here what your plan text says."
            ),
        }

    def __init__(self, *args: Any, case: Case, currency: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["options"].required = False
        self.fields["options"].queryset = CorrectionOption.objects.all()
        if currency:
            self.fields["price_estimate"].label = f"Price estimate ({currency})"
        # Pre-filled sub-scores: skin type from the client's Fitzpatrick type, and location
        # "head and neck" (SMP always is). Only for a plan not scored yet.
        self.prefilled: dict[str, int] = {}
        if self.instance.kd_total is None and all(getattr(self.instance, f) is None for f in KD_FIELDS):
            skin = FITZPATRICK_POINTS.get(case.client.fitzpatrick_type)
            if skin is not None:
                self.prefilled["kd_skin_type"] = skin
            self.prefilled["kd_location"] = int(LocationPoints.HEAD_NECK)
            self.initial.update(self.prefilled)
        if self.instance.pk is None and not self.initial.get("aftercare"):
            self.initial["aftercare"] = DEFAULT_AFTERCARE
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the template's <form> has its own token
        self.helper.layout = Layout(
            Fieldset("The plan", "options", "summary", "aftercare", "price_estimate", "internal_notes"),
            Fieldset(
                "Kirby–Desai estimate of laser sessions (give all six sub-scores, or none)",
                HTML(
                    '<p class="form-text">Skin type (from the client\'s Fitzpatrick type) and location are '
                    "pre-filled; they are kept only when the other four are scored too.</p>"
                ),
                Row(Column("kd_skin_type"), Column("kd_location"), Column("kd_colour")),
                Row(Column("kd_ink_amount"), Column("kd_scarring"), Column("kd_layering")),
            ),
            Fieldset("The clinician's estimate", "clinician_estimate_sessions"),
        )

    def clean(self) -> dict[str, Any]:
        """Kirby–Desai (2009) adds six sub-scores: a partial score is refused.

        Skin type and location pre-filled and left as they were, with the other four
        empty, count as "not scored" rather than as a partial score.
        """
        data = super().clean()
        given = {f for f in KD_FIELDS if data.get(f) is not None}
        if given and len(given) < len(KD_FIELDS):
            untouched_prefill = all(f in self.prefilled and data.get(f) == self.prefilled[f] for f in given)
            if untouched_prefill:
                for f in given:
                    data[f] = None
            else:
                missing = [str(self.fields[f].label) for f in KD_FIELDS if f not in given]
                for f in KD_FIELDS:
                    if f not in given:
                        self.add_error(f, "Needed with the other Kirby–Desai sub-scores.")
                raise forms.ValidationError(
                    "Give all six Kirby–Desai sub-scores, or none. Missing: " + ", ".join(missing) + "."
                )
        return data

    def plan_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in PLAN_FIELDS}


class StepForm(FittingChoiceIdsMixin, VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = PlanStep
        fields = ["order", "kind", "description", "zones", "interval_weeks", "target_date", "status"]
        widgets = {"zones": forms.CheckboxSelectMultiple, "target_date": DateInput()}
        help_texts = {
            "order": "Leave empty to put the step last.",
            "zones": "Pre-ticked: the zones of the case's unresolved issues.",
            "interval_weeks": "The target date is then counted from the previous step: from the day it was done, "
            "or its target date until then.",
            "target_date": "For a step without “weeks after the previous step” (or the first step); "
            "a step with an interval gets its date from the previous step.",
            "status": "Steps become done when a linked session is completed.",
        }

    def __init__(self, *args: Any, next_order: int, default_zones: list[ZoneLookup], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["order"].required = False
        self.fields["order"].min_value = 1
        self.fields["order"].widget.attrs["min"] = 1
        self.fields["zones"].queryset = ZoneLookup.objects.all()
        self.fields["zones"].required = False
        if self.instance.pk is None:
            self.initial["order"] = next_order
            self.initial["zones"] = [z.pk for z in default_zones]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the template's <form> has its own token

    def clean_order(self) -> int | None:
        order = self.cleaned_data.get("order")
        if order is not None and order < 1:
            raise forms.ValidationError("Steps are numbered from 1.")
        return order

    def step_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class ReviewForm(forms.Form):
    """The manager's decision on the plan as the review page showed it (its version)."""

    APPROVE = "approve"
    SEND_BACK = "send_back"

    decision = forms.ChoiceField(choices=[(APPROVE, "Approve"), (SEND_BACK, "Send back to draft")])
    note = forms.CharField(
        label="Manager's note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Optional when approving; required when sending the plan back (say what must change).",
    )

    def __init__(self, *args: Any, plan: TreatmentPlan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lock_version"] = version_field(plan)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("decision") == self.SEND_BACK and not data.get("note", "").strip():
            self.add_error("note", "Say what needs to change before sending the plan back.")
        return data


class AcceptInClinicForm(forms.Form):
    name = forms.CharField(
        label="Client's full name, typed by the client",
        max_length=200,
        help_text="First (or preferred) and last name as on the client's record; capitals, spacing and accents "
        "do not matter.",
    )
    confirm = forms.BooleanField(
        label="The client has read the plan, the price estimate and the aftercare, and accepts the plan.",
    )

    def __init__(self, *args: Any, client: Client, plan: TreatmentPlan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = client
        self.fields["lock_version"] = version_field(plan)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the template's <form> has its own token
        self.helper.render_hidden_fields = True


class ReviseForm(forms.Form):
    """Why a new version is made; shown on the new version's page."""

    reason = forms.CharField(
        label="Why revise the plan?",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: the client asked for a softer hairline, or more laser sessions are needed. "
        "Shown to staff on the new version's page, not to the client.",
    )

    def __init__(self, *args: Any, plan: TreatmentPlan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lock_version"] = version_field(plan)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the template's <form> has its own token
        self.helper.render_hidden_fields = True


class PlanVersionForm(forms.Form):
    """A confirmation (submit, discard) of the plan as the page showed it: its version only."""

    def __init__(self, *args: Any, plan: TreatmentPlan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lock_version"] = version_field(plan)
