"""Filters of the audit pages: who saw a client's record, what a user saw, who signed in."""

from __future__ import annotations

import datetime

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from cases.models import AccessEvent, Client
from smpclinic.dates import EARLIEST
from smpclinic.forms import DateInput
from smpclinic.models import LoginEvent


class _PeriodForm(forms.Form):
    """Shared date range: both inclusive, local days; left empty, no bound."""

    since = forms.DateField(label="From", widget=DateInput, required=False)
    until = forms.DateField(label="To", widget=DateInput, required=False)

    def clean(self):
        cleaned = super().clean()
        today = timezone.localdate()
        for name in ("since", "until"):
            day = cleaned.get(name)
            if day and not EARLIEST <= day <= today:
                self.add_error(name, f"Choose a date between 1 Jan 1900 and today ({today:%-d %b %Y}).")
        if cleaned.get("since") and cleaned.get("until") and cleaned["since"] > cleaned["until"]:
            self.add_error("until", "The end comes before the start.")
        return cleaned

    def _bounds(self, rows: QuerySet) -> QuerySet:
        data = self.cleaned_data
        if data.get("since"):
            rows = rows.filter(at__gte=_local_midnight(data["since"]))
        if data.get("until"):
            rows = rows.filter(at__lt=_local_midnight(data["until"] + datetime.timedelta(days=1)))
        return rows


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class AccessLogFilterForm(_PeriodForm):
    client = forms.UUIDField(required=False, widget=forms.HiddenInput)
    who = forms.CharField(label="Client (name or case reference)", required=False, max_length=100)
    user = forms.CharField(label="User (username)", required=False, max_length=150)
    action = forms.ChoiceField(label="Action", required=False, choices=[("", "Any"), *AccessEvent.Action.choices])

    def events(self) -> QuerySet[AccessEvent]:
        """The events matching the filters, newest first (the indexes on at, (client, at)
        and (user, at) serve each filter)."""
        rows = AccessEvent.objects.select_related("user", "client")
        data = self.cleaned_data
        if data.get("client"):
            rows = rows.filter(client__public_id=data["client"])
        if data.get("who"):
            rows = rows.filter(client__in=_clients_matching(data["who"]))
        if data.get("user"):
            rows = rows.filter(user__username=data["user"].strip())
        if data.get("action"):
            rows = rows.filter(action=data["action"])
        return self._bounds(rows).order_by("-at", "-pk")


def _clients_matching(text: str) -> QuerySet[Client]:
    words = text.split()
    query = Q(cases__reference__iexact=text.strip())
    if words:
        names = Q()
        for word in words:
            names &= Q(first_name__istartswith=word) | Q(last_name__istartswith=word)
        query |= names
    return Client.objects.filter(query).values("pk")


class SignInLogFilterForm(_PeriodForm):
    user = forms.CharField(label="Username", required=False, max_length=254)
    kind = forms.ChoiceField(label="Event", required=False, choices=[("", "Any"), *LoginEvent.Kind.choices])

    def events(self) -> QuerySet[LoginEvent]:
        rows = LoginEvent.objects.select_related("user", "by")
        data = self.cleaned_data
        if data.get("user"):
            typed = data["user"].strip()
            rows = rows.filter(Q(user__username=typed) | Q(username=typed))
        if data.get("kind"):
            rows = rows.filter(kind=data["kind"])
        return self._bounds(rows).order_by("-at", "-pk")
