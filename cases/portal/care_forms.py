"""Client portal forms: signing and withdrawing a consent."""

from __future__ import annotations

from django import forms

from cases.models import Consent
from cases.services.consents import REASON_MAX
from smpclinic.forms import version_field


class ConsentSignForm(forms.Form):
    # Named as the consent's field, so the signing service's message lands under it.
    signed_name = forms.CharField(
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
    """Withdraw one consent; it carries the consent's version, so a form opened before the
    consent changed is refused rather than acting on what the client did not see."""

    reason = forms.CharField(
        label="Reason (optional)",
        required=False,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="You do not have to give a reason. The clinic sees your withdrawal straight away.",
    )

    def __init__(self, *args, consent: Consent, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lock_version"] = version_field(consent)
