"""Forms of the managers' follow-up review queue: the filters, the review, a reschedule."""

from __future__ import annotations

import datetime

from crispy_forms.helper import FormHelper
from django import forms
from django.utils import timezone

from cases.choices import CaseStatus, FollowUpKind
from cases.forms.followups import FollowUpActionForm, clinic_users
from cases.models import FollowUp
from cases.services.followups import REVIEW_NOTE_MAX
from smpclinic.forms import DateInput, FittingChoiceIdsMixin

# A missed follow-up is booked again a week later unless someone picks another day.
RESCHEDULE_AFTER_DAYS = 7
UNASSIGNED = "-"


class ReviewFilterForm(forms.Form):
    """The queue's filters (GET). Assignees are named by username: users have no public id,
    and a username in a manager-only URL tells nothing a manager does not already see."""

    assignee = forms.ChoiceField(label="Assigned to", required=False)
    kind = forms.ChoiceField(label="Kind", required=False, choices=[("", "Any kind"), *FollowUpKind.choices])
    case_status = forms.ChoiceField(
        label="Case status", required=False, choices=[("", "Any case status"), *CaseStatus.choices]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        people = [(user.username, user.get_full_name() or user.username) for user in clinic_users()]
        self.fields["assignee"].choices = [("", "Anyone"), (UNASSIGNED, "Nobody yet"), *people]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    @property
    def filtered(self) -> bool:
        return self.is_valid() and any(self.cleaned_data.values())

    def filter(self, followups):
        """Apply the valid filters to a FollowUp queryset; an unknown value is shown as an error and ignored."""
        if not self.is_valid():
            return followups
        data = self.cleaned_data
        if data["assignee"] == UNASSIGNED:
            followups = followups.filter(assignee__isnull=True)
        elif data["assignee"]:
            followups = followups.filter(assignee__username=data["assignee"])
        if data["kind"]:
            followups = followups.filter(kind=data["kind"])
        if data["case_status"]:
            followups = followups.filter(case__status=data["case_status"])
        return followups


def version_key(followup: FollowUp) -> str:
    """The name of the hidden input carrying the version of one row the page showed."""
    return f"version-{followup.public_id}"


class ReviewForm(FittingChoiceIdsMixin, forms.Form):
    """Sign off follow-ups awaiting review: several ticked rows with one note (the bulk
    form), or one row with an adverse finding and its own note (`single`, a form per row).

    Which rows may be reviewed how is the service's rule; this form only parses. Each
    row posts the version the page showed (`version-<id>`), so a row changed since is
    refused rather than signed off unseen. The choices are every follow-up the manager
    can see, not only those awaiting review, so a row reviewed by someone else a moment
    ago gets the service's clear refusal rather than "not one of the available choices".
    """

    followups = forms.ModelMultipleChoiceField(
        queryset=FollowUp.objects.none(),
        to_field_name="public_id",
        error_messages={"required": "Tick at least one follow-up to review."},
    )
    note = forms.CharField(
        label="Review note",
        required=False,
        max_length=REVIEW_NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Applies to every ticked follow-up. Internal: never shown to the client.",
    )
    single = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["followups"].queryset = FollowUp.objects.visible_to(user).on_live_cases()

    def clean_followups(self) -> list[FollowUp]:
        followups = list(self.cleaned_data["followups"])
        for followup in followups:
            try:
                followup.lock_version = int(self.data.get(version_key(followup), followup.lock_version))
            except ValueError:
                raise forms.ValidationError("The page sent a broken version number: reload it.") from None
        return followups

    @property
    def is_single(self) -> bool:
        """A one-row review (a row with an adverse finding), rather than the bulk form."""
        return self.is_bound and self.data.get("single") in ("True", "true", "1", "on")

    def selected(self) -> set[str]:
        """The public ids ticked in the submitted form, to tick them again when it is re-shown."""
        return set(self.data.getlist("followups")) if self.is_bound else set()


def reschedule_initial() -> dict:
    return {"due_on": timezone.localdate() + datetime.timedelta(days=RESCHEDULE_AFTER_DAYS)}


class RescheduleForm(FollowUpActionForm):
    """A new date for a missed follow-up; its rules are the service's. The hidden version
    refuses a form opened before someone else changed the missed follow-up."""

    due_on = forms.DateField(label="New due date", widget=DateInput())
    next = forms.CharField(required=False, widget=forms.HiddenInput())
