"""Forms of the team pages: a new certification, and the renewal of one."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone

from artists.models import Certification
from smpclinic.forms import DateInput


class CertificationForm(forms.ModelForm):
    """The same checks as the service, so a mistake is shown next to its field."""

    class Meta:
        model = Certification
        fields = ["kind", "issuer", "number", "issued_on", "expires_on", "notes"]
        widgets = {
            "issued_on": DateInput(),
            "expires_on": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def clean_issued_on(self) -> datetime.date:
        issued_on = self.cleaned_data["issued_on"]
        if issued_on > timezone.localdate():
            raise forms.ValidationError("A certification cannot be issued in the future.")
        return issued_on

    def clean(self):
        cleaned = super().clean()
        issued_on, expires_on = cleaned.get("issued_on"), cleaned.get("expires_on")
        if issued_on and expires_on and expires_on <= issued_on:
            self.add_error("expires_on", "A certification must expire after it was issued.")
        return cleaned


class RenewalForm(CertificationForm):
    """A renewal keeps the kind of the certification it renews."""

    class Meta(CertificationForm.Meta):
        fields = ["issuer", "number", "issued_on", "expires_on", "notes"]

    def __init__(self, *args, renews: Certification, **kwargs):
        super().__init__(*args, **kwargs)
        self.renews = renews

    def clean_issued_on(self) -> datetime.date:
        issued_on = super().clean_issued_on()
        if issued_on <= self.renews.issued_on:
            raise forms.ValidationError(
                "A renewal must be issued after the certification it renews "
                f"(issued {self.renews.issued_on:%-d %b %Y})."
            )
        return issued_on


def renewal_initial(certification: Certification) -> dict:
    """Same issuer; issued today; the same term as before when the old one had an expiry."""
    today = timezone.localdate()
    initial = {"issuer": certification.issuer, "issued_on": today}
    if certification.expires_on:
        initial["expires_on"] = _same_term(certification.issued_on, certification.expires_on, today)
    return initial


def _same_term(issued_on: datetime.date, expires_on: datetime.date, start: datetime.date) -> datetime.date:
    """`start` plus the old term: whole years stay whole years (leap days aside), else the same days."""
    years = expires_on.year - issued_on.year
    if years > 0 and (expires_on.month, expires_on.day) == (issued_on.month, issued_on.day):
        try:
            return start.replace(year=start.year + years)
        except ValueError:  # 29 February
            return start.replace(year=start.year + years, day=28)
    return start + (expires_on - issued_on)
