"""Filters of the audit pages: who saw a client's record, what a user saw, who signed in."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib.auth import get_user_model
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

    def clean(self):
        """The client and the user are looked up here, by their unique keys, so the log is
        then filtered on `client_id = <n>` and `user_id = <n>`: constants the database
        matches against the (client, at) and (user, at) indexes. Filtering through a join
        instead walks every event newest first until a page of theirs is found."""
        cleaned = super().clean()
        self.chosen_client = None
        if cleaned.get("client"):
            self.chosen_client = Client.objects.filter(public_id=cleaned["client"]).first()
        self.chosen_user_id = None
        if cleaned.get("user"):
            users = get_user_model()._default_manager.filter(username=cleaned["user"].strip())
            self.chosen_user_id = users.values_list("pk", flat=True).first()
        return cleaned

    def events(self) -> QuerySet[AccessEvent]:
        """The events matching the filters, newest first (the indexes on at, (client, at)
        and (user, at) serve each filter)."""
        rows = AccessEvent.objects.select_related("user", "client")
        data = self.cleaned_data
        if data.get("client"):
            rows = rows.filter(client_id=self.chosen_client.pk) if self.chosen_client else rows.none()
        if data.get("who"):
            rows = rows.filter(client_id__in=list(_clients_matching(data["who"]).values_list("pk", flat=True)))
        if data.get("user"):
            rows = rows.filter(user_id=self.chosen_user_id) if self.chosen_user_id else rows.none()
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
    return Client.objects.filter(query).distinct()


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
