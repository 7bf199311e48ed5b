"""Follow-up forms: scheduling one on a case, and recording how it went."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone

from cases.choices import FollowUpKind, Healing, Satisfaction
from cases.models import AdverseEventKind, Case, CorrectionSession, FollowUp, LaserSession
from smpclinic import roles
from smpclinic.forms import DateInput, FittingChoiceIdsMixin, RendersHiddenFields, SubmitOnceFormMixin, version_field
from smpclinic.models import ClinicSettings

# After laser, a healing check at 1–2 weeks: the form suggests the clinic's post-laser
# check period (Clinic settings), or two weeks when the clinic books none automatically.
HEALING_CHECK_AFTER_DAYS = 14
LASER_PREFIX, CORRECTION_PREFIX = "laser-", "correction-"


def clinic_users():
    """Who a follow-up can be assigned to: active staff, managers and superusers."""
    return roles.holders(roles.WORK, superusers=True).order_by("first_name", "last_name", "username")


class AssigneeField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.username


def session_key(session: LaserSession | CorrectionSession) -> str:
    prefix = LASER_PREFIX if isinstance(session, LaserSession) else CORRECTION_PREFIX
    return f"{prefix}{session.public_id}"


class FollowUpForm(SubmitOnceFormMixin, forms.ModelForm):
    """Schedule a follow-up; the due date's rules are the service's (services.followups)."""

    session = forms.ChoiceField(label="About session", required=False)
    assignee = AssigneeField(queryset=clinic_users(), required=False, empty_label="— nobody yet —", label="Assigned to")

    class Meta:
        model = FollowUp
        fields = ["kind", "due_on", "assignee"]
        widgets = {"due_on": DateInput()}

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        self.case = case
        self.fields["assignee"].queryset = clinic_users()
        self.fields["due_on"].help_text = "A healing check is usually 1–2 weeks after the session."
        laser = list(LaserSession.objects.active().filter(case=case).latest_first())
        correction = list(CorrectionSession.objects.active().filter(case=case).latest_first())
        self._sessions = {session_key(s): s for s in (*laser, *correction)}
        choices: list = [("", "— not about one session —")]
        if laser:
            choices.append(("Laser sessions", [(session_key(s), str(s)) for s in laser]))
        if correction:
            choices.append(("Correction sessions", [(session_key(s), str(s)) for s in correction]))
        self.fields["session"].choices = choices

    def linked_sessions(self) -> dict:
        """{"laser_session": …, "correction_session": …} for the chosen session (offered
        choices are this case's sessions only, so nothing else validates)."""
        session = self._sessions.get(self.cleaned_data.get("session") or "")
        return {
            "laser_session": session if isinstance(session, LaserSession) else None,
            "correction_session": session if isinstance(session, CorrectionSession) else None,
        }


def followup_initial(user, session_key_value: str = "") -> dict:
    initial = {
        "kind": FollowUpKind.HEALING_CHECK,
        "due_on": timezone.localdate()
        + datetime.timedelta(days=ClinicSettings.cached().laser_check_days or HEALING_CHECK_AFTER_DAYS),
        "assignee": user,
    }
    if session_key_value:
        initial["session"] = session_key_value
    return initial


class FollowUpActionForm(FittingChoiceIdsMixin, RendersHiddenFields, forms.Form):
    """A form acting on one follow-up: it carries the version of the follow-up the page was
    opened on and, once valid, gives it to the follow-up, so the service refuses to save
    over someone else's change made since."""

    def __init__(self, *args, followup: FollowUp, **kwargs):
        super().__init__(*args, **kwargs)
        self.followup = followup
        self.fields["lock_version"] = version_field(followup)

    def _post_clean(self):
        super()._post_clean()
        version = self.cleaned_data.pop("lock_version", None)
        if version:
            self.followup.lock_version = version


class FollowUpCompleteForm(FollowUpActionForm):
    """Record a follow-up as done. Its date rules are the service's; the hidden version
    makes a form opened before someone else's change refuse to save over it."""

    completed_on = forms.DateField(label="Seen on", widget=DateInput())
    healing = forms.ChoiceField(choices=[("", "—"), *Healing.choices])
    side_effects = forms.ModelMultipleChoiceField(
        queryset=AdverseEventKind.objects.all(),
        widget=forms.CheckboxSelectMultiple(),
        required=False,
        label="Side effects",
    )
    satisfaction = forms.TypedChoiceField(
        choices=[("", "—"), *Satisfaction.choices],
        coerce=int,
        empty_value=None,
        required=False,
        label="Satisfaction (1–5)",
    )
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, help_text="Internal: never shown to the client."
    )

    def outcome(self) -> dict:
        """The service's arguments."""
        return dict(self.cleaned_data)


class FollowUpMissedForm(FollowUpActionForm):
    """The one-click "missed" button: only the version the page was opened on."""
