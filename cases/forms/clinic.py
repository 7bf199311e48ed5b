"""The clinic's logo (Clinic settings → Logo): an upload checked and re-encoded here, or removal."""

from __future__ import annotations

from django import forms

from cases import imaging


class ClinicLogoForm(forms.Form):
    logo = forms.FileField(
        required=False,
        label="Logo",
        widget=forms.ClearableFileInput(attrs={"accept": imaging.LOGO_ACCEPT}),
        help_text=(
            "A PNG, JPEG or WebP image of at most 2 MB; a logo on a transparent or white background "
            f"works best. It is stored as a PNG of at most {imaging.LOGO_BOX[0]} × {imaging.LOGO_BOX[1]} pixels."
        ),
    )
    remove = forms.BooleanField(required=False, label="Remove the logo (the header shows the clinic's name only)")

    def __init__(self, *args, has_logo: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.png: bytes | None = None
        if not has_logo:
            del self.fields["remove"]

    def clean_logo(self):
        upload = self.cleaned_data.get("logo")
        if upload:
            try:
                self.png = imaging.process_logo(upload, name=upload.name)
            except imaging.LogoRejected as rejected:
                raise forms.ValidationError(rejected.messages, code=rejected.code) from rejected
        return upload

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if cleaned.get("remove") and cleaned.get("logo"):
            self.add_error("remove", "Either upload a new logo or remove the logo, not both.")
        elif not cleaned.get("remove") and not cleaned.get("logo"):
            self.add_error("logo", "Choose an image file to upload.")
        return cleaned
