"""Form helpers every area's views share."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BaseForm


class DateInput(forms.DateInput):
    """The browser's date picker; the value in the ISO form it expects."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def add_service_errors(form: BaseForm, error: ValidationError, *, elsewhere: str | None = None) -> None:
    """Show a service's refusal on the form that asked for it.

    An error naming a field the form has goes under that field; anything else goes to
    `elsewhere` (a field name), or above the form. Django's own ``add_error(None, error)``
    raises when the service names a field the form does not show.
    """
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else elsewhere, errors)
    else:
        form.add_error(elsewhere, error)
