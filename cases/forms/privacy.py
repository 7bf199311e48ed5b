"""The anonymise confirmation: a reason, the typed reference, and whether photos go too.

The form only parses; whether the typed reference is right is decided by
`cases.services.privacy.client_anonymise`, so the rule holds for any caller."""

from __future__ import annotations

from django import forms


class AnonymiseForm(forms.Form):
    reason = forms.CharField(
        max_length=450,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept with the record, e.g. “client asked to be forgotten by e-mail of 3 March”.",
    )
    remove_photos = forms.BooleanField(
        label="Remove photos too",
        required=False,
        help_text="Deletes every photo file of this client (originals, screen copies, thumbnails). "
        "The photo records stay, archived, with their dates and angles.",
    )
    confirmation = forms.CharField(
        label="Type the client's reference to confirm",
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
