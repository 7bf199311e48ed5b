"""templates/bootstrap5/field.html, the project's cut-down copy of crispy-bootstrap5's field
template, draws the same markup as the package's own (whitespace aside), for every kind of
field the project's forms have, blank and with errors, through a helper's layout, the
`as_crispy_field` filter and the `crispy` filter (which leave different settings in the
context). When an upgrade of the package changes its template, this fails."""

from __future__ import annotations

import copy
import re

import pytest
from crispy_forms import utils
from crispy_forms.helper import FormHelper
from crispy_forms.templatetags import crispy_forms_filters, crispy_forms_tags
from django import forms
from django.conf import settings
from django.template import engines
from django.test import override_settings


class EveryKind(forms.Form):
    name = forms.CharField(help_text="Given <b>and</b> family name.")
    notes = forms.CharField(widget=forms.Textarea, required=False)
    when = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    kind = forms.ChoiceField(choices=[("", "—"), ("a", "A & B"), ("c", "C")])
    agreed = forms.BooleanField(help_text="Tick to agree.")
    optional_tick = forms.BooleanField(required=False)
    zones = forms.MultipleChoiceField(
        choices=[("crown", "Crown"), ("nape", "Nape")], widget=forms.CheckboxSelectMultiple, help_text="Where."
    )
    side = forms.ChoiceField(choices=[("l", "Left"), ("r", "Right")], widget=forms.RadioSelect)
    photo = forms.FileField(required=False, help_text="A JPEG.")
    token = forms.CharField(widget=forms.HiddenInput, required=False)
    count = forms.IntegerField(min_value=0, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


WAYS = {
    "helper layout": "{% crispy form %}",
    "as_crispy_field": "{% for field in form %}{{ field|as_crispy_field }}{% endfor %}",
    "crispy filter": "{{ form|crispy }}",
}
BAD = {"name": "", "when": "not a time", "kind": "zz", "count": "-1", "zones": ["nowhere"]}


def _forget_templates():
    """crispy-forms keeps the field and form templates it loaded; settings changes do not reach them."""
    utils.default_field_template.cache_clear()
    crispy_forms_filters.uni_form_template.cache_clear()
    crispy_forms_filters.uni_formset_template.cache_clear()
    crispy_forms_tags.whole_uni_form_template.cache_clear()
    crispy_forms_tags.whole_uni_formset_template.cache_clear()


def _render(source: str, form: forms.Form) -> str:
    _forget_templates()
    try:
        html = engines["django"].from_string("{% load crispy_forms_tags %}" + source).render({"form": form})
    finally:
        _forget_templates()
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", html)).strip()


def _package_only():
    """The settings' templates without the project's own folder: crispy-bootstrap5's field.html."""
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = []
    return override_settings(TEMPLATES=templates)


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("data", [None, BAD], ids=["blank", "with errors"])
def test_the_field_template_draws_what_the_package_draws(way, data):
    form = EveryKind(data)
    if data is not None:
        assert not form.is_valid()
    ours = _render(WAYS[way], form)
    with _package_only():
        theirs = _render(WAYS[way], form)

    # The project's own addition: the summary of errors at the form's top (below).
    summary = re.search(r'<div class="alert alert-block alert-danger" role="alert">.*?</div>', ours)
    assert (summary is not None) is (data is not None and way != "as_crispy_field")
    if summary:
        ours = ours.replace(summary.group(0), "")
    assert ours == theirs
    # Both drew the fields, not an empty form or an error page.
    assert 'id="div_id_zones"' in ours and 'class="form-check-input' in ours and "asteriskField" in ours
    if data is not None:
        assert "invalid-feedback" in ours and "is-invalid" in ours


def test_a_form_with_errors_lists_them_at_its_top_linked_to_their_fields():
    """A long form (the clinic's settings, a laser session) has its first problem far
    down the page: the top of the form says what is wrong and where."""
    form = EveryKind(BAD)
    assert not form.is_valid()
    html = _render("{% crispy form %}", form)
    summary = re.search(r'<div class="alert alert-block alert-danger" role="alert">(.*?)</div>', html).group(1)
    for name in ("name", "when", "kind", "count", "zones"):
        field = form[name]
        assert f'<a href="#{field.id_for_label}">{field.label}</a>: {field.errors[0]}' in summary, name
    assert summary.index("#id_name") < summary.index("#id_count")  # in the form's order
    assert "#id_token" not in summary and "#id_notes" not in summary
