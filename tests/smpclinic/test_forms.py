from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from smpclinic.forms import add_service_errors


class NameForm(forms.Form):
    name = forms.CharField()
    images = forms.CharField(required=False)


def bound() -> NameForm:
    form = NameForm({"name": "Ann"})
    assert form.is_valid()
    return form


def test_an_error_on_a_shown_field_goes_under_it():
    form = bound()
    add_service_errors(form, ValidationError({"name": "Already taken."}))
    assert form.errors == {"name": ["Already taken."]}


def test_an_error_on_a_field_the_form_does_not_show_goes_above_the_form():
    """Django's add_error(None, …) raises ValueError here; the clinic's forms must not."""
    form = bound()
    add_service_errors(form, ValidationError({"technician": "No valid laser certification.", "name": "Too short."}))
    assert form.errors == {NON_FIELD_ERRORS: ["No valid laser certification."], "name": ["Too short."]}


def test_a_plain_error_goes_above_the_form_or_where_asked():
    form = bound()
    add_service_errors(form, ValidationError("The case is closed."))
    assert form.non_field_errors() == ["The case is closed."]
    other = bound()
    add_service_errors(other, ValidationError("Not a photo."), elsewhere="images")
    assert other.errors == {"images": ["Not a photo."]}
