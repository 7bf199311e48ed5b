"""smpclinic/forms_renderer.py draws each widget exactly as Django's widget templates do:
every kind of widget with awkward values here, and every widget of every page a manager
opens in the form fuzzing test (tests/test_fuzz_forms.py), compared character for
character with Django's renderer."""

from __future__ import annotations

import contextlib
import datetime
from decimal import Decimal

import pytest
from django import forms
from django.forms import widgets
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from cases.forms.sessions import DeviceSelect
from smpclinic import forms_renderer as renderer_module
from smpclinic.forms import DateInput, DateTimeInput
from smpclinic.forms_renderer import INPUT_TEMPLATES, SELECT, TEXTAREA, FormRenderer

TEMPLATES = DjangoTemplates()


class EveryWidget(forms.Form):
    name = forms.CharField(max_length=40, help_text="Given name.")
    email = forms.EmailField(required=False)
    website = forms.URLField(required=False, assume_scheme="https")
    phone = forms.CharField(widget=forms.TelInput(attrs={"autocomplete": "tel"}))
    secret = forms.CharField(widget=forms.PasswordInput(render_value=True), required=False)
    count = forms.IntegerField(min_value=0, max_value=10, required=False)
    fluence = forms.DecimalField(max_digits=5, decimal_places=2, required=False)
    day = forms.DateField(widget=DateInput, required=False)
    when = forms.DateTimeField(widget=DateTimeInput, required=False)
    at = forms.TimeField(widget=forms.TimeInput(attrs={"step": 60}), required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    agreed = forms.BooleanField(required=False)
    token = forms.CharField(widget=forms.HiddenInput, required=False)
    query = forms.CharField(widget=forms.SearchInput(attrs={"disabled": True, "hidden": False}))
    colour = forms.CharField(widget=forms.ColorInput, required=False)
    plain = forms.CharField(widget=widgets.Input(attrs={"type": "text"}), required=False)
    kind = forms.ChoiceField(
        choices=[
            ("", "—"),
            ("a", "A & B <i>"),
            ("c", gettext_lazy("Crown")),
            ("s", mark_safe("<b>safe</b>")),
            (mark_safe("x&y"), "A safe value"),
        ]
    )
    grouped = forms.ChoiceField(
        choices=[("Laser", [("pico", "Pico"), ("q", "Q-switched")]), ("Other", [("saline", "Saline")]), ("x", "Loose")]
    )
    numbers = forms.TypedChoiceField(choices=[(1, 1), (2, 2), (1500, 1500)], coerce=int, required=False)
    many = forms.MultipleChoiceField(choices=[("crown", "Crown"), ("nape", "Nape"), ("temple", "Temple")])
    device = forms.ChoiceField(
        choices=[("", "---"), ("1", "Pico 1")], widget=DeviceSelect(attrs={"data-note": 'say "hi"'})
    )
    photo = forms.FileField(required=False)
    upload = forms.FileField(widget=forms.FileInput(attrs={"accept": "image/*"}), required=False)


ODD = {
    "name": '<script>alert("x")</script> & “quotes” ’',
    "email": "a@example.com",
    "phone": "07700 900123",
    "secret": "p&ss<word>",
    "count": "0",
    "fluence": "2.50",
    "day": "2026-02-30",
    "when": "2026-03-08T09:30",
    "at": "9:5",
    "notes": "line one\nline <two> & three",
    "agreed": "on",
    "token": "0",
    "query": "",
    "kind": "a",
    "grouped": "q",
    "numbers": "1500",
    "many": ["crown", "temple"],
    "device": "1",
}


def _both(bound_field) -> tuple[str, str]:
    form = bound_field.form
    drawn = []
    for renderer in (FormRenderer(), TEMPLATES):
        form.renderer = renderer
        drawn.append(str(bound_field))
    return drawn[0], drawn[1]


@pytest.mark.parametrize(
    "data, initial",
    [
        (None, None),
        (None, {"name": "Ann", "count": 0, "fluence": Decimal("2.5"), "when": datetime.datetime(2026, 3, 8, 9, 30)}),
        (ODD, None),
        ({"name": "", "kind": "zz", "many": ["nowhere"], "count": "-1"}, None),
    ],
    ids=["blank", "initial", "odd values", "errors"],
)
def test_every_kind_of_widget_is_drawn_as_the_templates_draw_it(data, initial):
    form = EveryWidget(data, initial=initial)
    form.is_valid()
    drawn = 0
    for bound_field in form:
        python, template = _both(bound_field)
        assert python == template, bound_field.name
        drawn += 1
    assert drawn == len(EveryWidget.base_fields)


def test_the_form_above_has_every_widget_the_renderer_draws_itself():
    drawn = {field.widget.template_name for field in EveryWidget.base_fields.values()}
    assert INPUT_TEMPLATES | {SELECT, TEXTAREA} <= drawn


def test_a_widget_with_templates_of_its_own_is_drawn_by_them(settings, tmp_path):
    """An option template of a widget's own (or any template but the plain ones) is used."""

    class Starred(forms.Select):
        option_template_name = "django/forms/widgets/input_option.html"

    field = forms.ChoiceField(choices=[("a", "A")], widget=Starred)
    form = forms.Form()
    form.fields["pick"] = field
    python, template = _both(form["pick"])
    assert python == template
    assert "<input" in python  # the widget's own option template, not an <option>


@contextlib.contextmanager
def compared_with_the_templates():
    """Within it, every widget the renderer draws is drawn by Django's templates too, and
    each pair must be the same characters. The form fuzzing test opens every page a
    manager can open inside it (tests/test_fuzz_forms.py)."""
    draw = FormRenderer.render
    differences = []

    def render_and_compare(self, template_name, context, request=None):
        html = draw(self, template_name, context, request=request)
        if isinstance(context, dict) and isinstance(context.get("widget"), dict):
            template = TEMPLATES.render(template_name, context, request=request)
            if html != template:
                differences.append((template_name, html, template))
        return html

    FormRenderer.render = render_and_compare
    try:
        yield differences
    finally:
        FormRenderer.render = draw


def test_the_comparison_reports_a_difference(monkeypatch):
    form = EveryWidget()
    form.renderer = FormRenderer()
    with compared_with_the_templates() as differences:
        str(form["name"])
        assert differences == []
        monkeypatch.setattr(renderer_module, "_attrs", lambda attrs: "")  # a renderer that loses attributes
        str(form["name"])
    assert [name for name, *_ in differences] == ["django/forms/widgets/text.html"]
