"""The form renderer: the common widgets drawn in Python, with the markup of Django's own
widget templates.

A text input drawn by Django's templates is three templates (`text.html` includes
`input.html`, which includes `attrs.html`), and a select is two more for each option; a
laser session form draws about 40 fields and 150 options that way. This renderer writes
the same characters for the widgets whose templates are Django's plain ones (inputs,
selects and their options, text areas) and hands every other template to Django's
renderer, so a widget given a template of its own is drawn by that template.
tests/smpclinic/test_forms_renderer.py compares the two on every kind of widget, and
tests/test_fuzz_forms.py on every widget of every page a manager opens.
"""

from __future__ import annotations

from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

WIDGETS = "django/forms/widgets/"
# Templates that only include input.html.
INPUT_TEMPLATES = {
    f"{WIDGETS}{name}.html"
    for name in (
        "input",
        "text",
        "number",
        "email",
        "url",
        "tel",
        "password",
        "hidden",
        "date",
        "datetime",
        "time",
        "search",
        "color",
        "checkbox",
        "file",
    )
}
SELECT = f"{WIDGETS}select.html"
OPTION = f"{WIDGETS}select_option.html"
TEXTAREA = f"{WIDGETS}textarea.html"


def _text(value) -> str:
    """`{{ value }}`: localized, then escaped unless already safe."""
    return conditional_escape(localize(value))


def _string(value) -> str:
    """`{{ value|stringformat:'s' }}`: the value as text ("%s" and `str` agree, a safe
    string staying safe), escaped unless safe."""
    return conditional_escape(str(value))


def _attrs(attrs: dict) -> str:
    """attrs.html: `False` leaves the attribute out, `True` writes its name alone."""
    return "".join(
        f" {_text(name)}" if value is True else f' {_text(name)}="{_string(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget: dict) -> str:
    value = "" if widget["value"] is None else f' value="{_string(widget["value"])}"'
    return f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{value}{_attrs(widget["attrs"])}>'


def _option(option: dict) -> str:
    # select_option.html, with the line end its file ends with.
    return f'<option value="{_string(option["value"])}"{_attrs(option["attrs"])}>{_text(option["label"])}</option>\n'


def _select(widget: dict) -> str | None:
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in group_choices:
            if option["template_name"] != OPTION:
                return None  # an option template of the widget's own
            parts.append(f"\n  {_option(option)}")
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _textarea(widget: dict) -> str:
    value = _text(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>'


class FormRenderer(DjangoTemplates):
    """Django's default renderer, with the plain widgets drawn without their templates."""

    def render(self, template_name, context, request=None):
        widget = context.get("widget") if isinstance(context, dict) else None
        html = None
        if isinstance(widget, dict):
            if template_name in INPUT_TEMPLATES:
                html = _input(widget)
            elif template_name == SELECT:
                html = _select(widget)
            elif template_name == TEXTAREA:
                html = _textarea(widget)
        if html is None:
            return super().render(template_name, context, request=request)
        # The template renderer strips the text it returns; these have nothing to strip.
        return mark_safe(html)  # nosec B308 B703  # every value in it was escaped above
