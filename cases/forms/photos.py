"""Forms for before/after photos: a batch upload, the comparison picker, archiving."""

from __future__ import annotations

import uuid

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row
from django import forms
from django.utils import timezone

from cases.choices import PhotoAngle, PhotoKind, Zone
from cases.imaging import ACCEPT
from cases.models import Case, CorrectionSession, FollowUp, Issue, LaserSession, Photo
from cases.models.photos import PhotoPair
from smpclinic.forms import DateInput

MAX_FILES_PER_UPLOAD = 20
LINK_FIELDS = ("issue", "laser_session", "correction_session", "follow_up")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Django 5.2's documented pattern: one input, several files, cleaned one by one."""

    def __init__(self, *args, max_files: int = MAX_FILES_PER_UPLOAD, **kwargs):
        self.max_files = max_files
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in data if f] if isinstance(data, list | tuple) else ([data] if data else [])
        if not files:
            return [super().clean(None, initial)]  # raises "required"
        if len(files) > self.max_files:
            raise forms.ValidationError(f"Upload at most {self.max_files} photos at a time; you chose {len(files)}.")
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


def _session_label(session) -> str:
    return f"{session} ({session.get_status_display().lower()})"


class PhotoUploadForm(forms.Form):
    """One batch: the files share kind, angle, zone, date, links and caption."""

    images = MultipleFileField(
        label="Photos",
        help_text=(
            f"Up to {MAX_FILES_PER_UPLOAD} JPEG, PNG, WebP or HEIC photos. Location and camera data are removed."
        ),
    )
    kind = forms.ChoiceField(choices=PhotoKind.choices)
    angle = forms.ChoiceField(choices=PhotoAngle.choices, help_text="The same angles at every visit.")
    zone = forms.ChoiceField(choices=[("", "—")] + Zone.choices, required=False)
    taken_on = forms.DateField(
        label="Date taken",
        required=False,
        widget=DateInput(),
        help_text=(
            "Leave empty to use the date the camera recorded, or today if it recorded none. "
            "A camera date in the future or long before the case opened is queried first."
        ),
    )
    # Offered once the service has queried a camera date (see `helper`): ticking it in
    # advance would wave every doubtful date through unseen.
    use_camera_date = forms.BooleanField(
        label="Use the camera dates",
        required=False,
        help_text=(
            "Tick only if the dates queried above are right (for example an older photo the client brought). "
            "Photos from before the case opened are compared only when chosen."
        ),
    )
    issue = forms.ModelChoiceField(queryset=Issue.objects.none(), required=False, to_field_name="public_id")
    laser_session = forms.ModelChoiceField(
        queryset=LaserSession.objects.none(), required=False, to_field_name="public_id"
    )
    correction_session = forms.ModelChoiceField(
        queryset=CorrectionSession.objects.none(), required=False, to_field_name="public_id"
    )
    follow_up = forms.ModelChoiceField(
        label="Follow-up", queryset=FollowUp.objects.none(), required=False, to_field_name="public_id"
    )
    caption = forms.CharField(max_length=300, required=False, help_text="Shown under every photo of this batch.")
    shared_with_client = forms.BooleanField(
        label="Share with the client in the portal",
        required=False,
        help_text="Only photos shared here are visible to the client.",
    )

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        self.case = case
        for name in LINK_FIELDS:
            self.fields[name].empty_label = "—"
        # Only the case's own records can be linked: anything else is "not one of the choices".
        self.fields["issue"].queryset = Issue.objects.active().filter(case=case)
        self.fields["laser_session"].queryset = LaserSession.objects.active().filter(case=case)
        self.fields["laser_session"].label_from_instance = _session_label
        self.fields["correction_session"].queryset = CorrectionSession.objects.active().filter(case=case)
        self.fields["correction_session"].label_from_instance = _session_label
        self.fields["follow_up"].queryset = FollowUp.objects.active().filter(case=case)

    @property
    def helper(self) -> FormHelper:
        """The layout, with "Use the camera dates" only once a camera date was queried
        (or the box was ticked on the previous try, so it does not vanish)."""
        helper = FormHelper()
        helper.form_tag = False
        helper.disable_csrf = True  # the page's <form> has its own token
        queried = self.is_bound and ("use_camera_date" in self.errors or bool(self.data.get("use_camera_date")))
        helper.layout = Layout(
            "images",
            Row(Column("kind"), Column("angle"), Column("zone"), Column("taken_on"), css_class="row-cols-md-4"),
            *(["use_camera_date"] if queried else []),
            Fieldset(
                "Linked to (optional)",
                Row(Column("issue"), Column("laser_session"), Column("correction_session"), Column("follow_up")),
            ),
            "caption",
            "shared_with_client",
        )
        return helper

    @classmethod
    def initial_from_query(cls, params) -> dict:
        """`?laser_session=<uuid>` (or issue, correction_session, follow_up) preselects a link.

        Only well-formed UUIDs are passed on; the field's queryset still decides whether
        the record belongs to this case.
        """
        initial = {}
        for name in LINK_FIELDS:
            value = params.get(name, "")
            try:
                initial[name] = str(uuid.UUID(value))
            except ValueError:
                continue
        for name, choices in (("kind", PhotoKind), ("angle", PhotoAngle)):
            if params.get(name) in choices.values:
                initial[name] = params[name]
        return initial

    def clean_taken_on(self):
        taken_on = self.cleaned_data["taken_on"]
        if taken_on and taken_on > timezone.localdate():
            raise forms.ValidationError("The date taken cannot be in the future.")
        return taken_on


def _choice_label(photo: Photo) -> str:
    label = f"{photo.get_angle_display()} · {photo.get_kind_display()} · {photo.taken_on:%-d %b %Y}"
    return label if photo.within_case else f"{label} (before the case opened)"


class PhotoCompareForm(forms.Form):
    """GET parameters of the comparison page: an angle, or two photos of the case.

    The choices are the case's photos already fetched for the page, so validating and
    rendering the pickers costs no query.
    """

    angle = forms.ChoiceField(choices=[("", "—")] + PhotoAngle.choices, required=False)
    a = forms.ChoiceField(label="Left photo", required=False)
    b = forms.ChoiceField(label="Right photo", required=False)

    def __init__(self, *args, photos: list[Photo], **kwargs):
        super().__init__(*args, **kwargs)
        self.photos = {str(photo.public_id): photo for photo in photos}
        choices = [("", "—")] + [(key, _choice_label(photo)) for key, photo in self.photos.items()]
        self.fields["a"].choices = choices
        self.fields["b"].choices = choices

    def clean_a(self) -> Photo | None:
        return self.photos.get(self.cleaned_data["a"])

    def clean_b(self) -> Photo | None:
        return self.photos.get(self.cleaned_data["b"])

    def chosen(self) -> dict:
        """What the visitor asked for, as `PhotoPair.choose` takes it (empty when unbound)."""
        data = self.cleaned_data if self.is_bound else {}
        return {"angle": data.get("angle") or "", "a": data.get("a"), "b": data.get("b")}

    @classmethod
    def showing(cls, pair: PhotoPair, *, photos: list[Photo]) -> PhotoCompareForm:
        """The picker, preset to the pair on the page."""
        initial = {"angle": pair.angle, "a": pair.a and str(pair.a.public_id), "b": pair.b and str(pair.b.public_id)}
        return cls(initial=initial, photos=photos)


class PhotoArchiveForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why this photo leaves the gallery (e.g. “wrong client”, “blurred, retaken”). The file is kept.",
    )
