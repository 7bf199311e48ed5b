"""Forms of the client portal (my plan). Nothing here saves: cases.services.plans does."""

from __future__ import annotations

from django import forms


class PortalPlanAcceptForm(forms.Form):
    """The client's typed-name signature; the service compares it with the client's name."""

    understood = forms.BooleanField(
        label=(
            "I have read this plan. I understand that the number of sessions and the price are estimates "
            "and that results differ from person to person."
        ),
        error_messages={"required": "Please confirm that you have read the plan."},
    )
    name = forms.CharField(
        label="Type your full name to sign",
        max_length=200,
        help_text="As the clinic has it on record, for example “Alice Able”.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
