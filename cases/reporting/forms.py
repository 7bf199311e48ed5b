"""The date-range filter every report shares (GET ?from=YYYY-MM-DD&to=YYYY-MM-DD)."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone

from cases.reporting.reports import MAX_PERIOD_DAYS, Period
from smpclinic.dates import EARLIEST, latest_booking
from smpclinic.forms import DateInput


class ReportPeriodForm(forms.Form):
    """From and to, both inclusive; either left out falls back to the last 12 months."""

    def __init__(self, data=None, *, today: datetime.date | None = None):
        self.today = today or timezone.localdate()
        self.default = Period.default(self.today)
        if data is not None and not (data.get("from") or data.get("to")):
            data = None  # a plain visit: show the default period
        if data is not None:
            data = {
                "from": data.get("from") or self.default.start.isoformat(),
                "to": data.get("to") or self.default.end.isoformat(),
            }
        super().__init__(data, initial={"from": self.default.start, "to": self.default.end})
        # "from" is a Python keyword, so the fields are added here rather than declared.
        # Not required: a missing end was filled with the default above.
        self.fields["from"] = forms.DateField(label="From", widget=DateInput, required=False)
        self.fields["to"] = forms.DateField(label="To", widget=DateInput, required=False)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("from"), cleaned.get("to")
        # Reports cover what happened and what is booked: nothing before 1900, nothing
        # further ahead than a booking may be (and no date arithmetic at the calendar's ends).
        latest = latest_booking(self.today)
        for name, day in (("from", start), ("to", end)):
            if day and not EARLIEST <= day <= latest:
                self.add_error(name, f"Choose a date between 1 Jan 1900 and {latest.day} {latest:%b %Y}.")
                cleaned.pop(name, None)
        start, end = cleaned.get("from"), cleaned.get("to")
        if start and end:
            if start > end:
                raise forms.ValidationError("The start of the period must be on or before its end.")
            if (end - start).days > MAX_PERIOD_DAYS:
                raise forms.ValidationError("Choose a period of at most ten years.")
        return cleaned

    def period(self) -> Period | None:
        """The chosen period, or None while the form has errors."""
        if not self.is_bound:
            return self.default
        if not self.is_valid():
            return None
        return Period(self.cleaned_data["from"], self.cleaned_data["to"])
