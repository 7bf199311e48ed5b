"""Forms of the client portal (my plan). Nothing here saves: cases.services.plans does."""

from __future__ import annotations

from django import forms
from django.utils.html import format_html, format_html_join

from cases.models import Client


class PortalPlanAcceptForm(forms.Form):
    """The client's typed-name signature; the service compares it with the client's name."""

    understood = forms.BooleanField(
        label=(
            "I have read this plan. I understand that the number of sessions and the price are estimates "
            "and that results differ from person to person."
        ),
        error_messages={"required": "Please confirm that you have read the plan."},
    )
    name = forms.CharField(
        label="Type your full name to sign",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    def __init__(self, *args, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].help_text = name_help_text(client)


def name_help_text(client: Client) -> str:
    """The signing client's own name as the clinic has it, so they know what to type.

    Escaped here: form templates (Django's and crispy's) print help text unescaped.
    """
    names = [client.full_name]
    preferred = client.preferred_name.strip()
    if preferred and preferred.casefold() != client.first_name.strip().casefold():
        names.append(f"{preferred} {client.last_name}")
    return format_html(
        "Your first and last name as the clinic has them: {}.",
        format_html_join(" or ", "“{}”", ((name,) for name in names)),
    )
