"""Client portal forms: signing and withdrawing a consent."""

from __future__ import annotations

from django import forms

from cases.services.consents import REASON_MAX


class ConsentSignForm(forms.Form):
    typed_name = forms.CharField(
        label="Type your full name to sign",
        max_length=200,
        help_text="Your first and last name. Typing your name here is your signature.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    agree = forms.BooleanField(
        label="I have read this consent, I understand it, and I agree to it",
        required=True,
        error_messages={"required": "Tick the box to confirm you read and agree to this consent."},
    )


class ConsentWithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Reason (optional)",
        required=False,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="You do not have to give a reason. The clinic sees your withdrawal straight away.",
    )
