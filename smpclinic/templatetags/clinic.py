"""Template filters every page may use (registered as a builtin in settings)."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def person(user, empty="—"):
    """A user's full name, falling back to the username; ``empty`` when there is none."""
    if user is None or user == "":
        return empty
    return user.get_full_name() or user.get_username()


@register.filter
def money(amount, currency=""):
    """An amount as staff and clients both read it: "GBP 2,450.00" (ISO code, thousands
    separated, two decimals, whatever the locale); empty for no amount."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return ""
    shown = f"{value:,.2f}"
    return f"{currency} {shown}" if currency else shown


@register.filter
def options(bound_field) -> list[tuple[str, str, bool]]:
    """(value, label, selected) of each option of a select field, for a select written out
    in the template. Django draws a select through a template for the select and two
    more for each of its options: on a page with a few filters, a few milliseconds of
    every view for markup that never changes."""
    current = bound_field.value()
    chosen = {str(value) for value in current} if isinstance(current, list | tuple) else {str(current or "")}
    return [(str(value), str(label), str(value) in chosen) for value, label in bound_field.field.choices]


@register.simple_tag
def filter_field(bound_field):
    """One filter of a list page (the client list, the review queue): its label, its
    control, its help and its errors, in Bootstrap's markup. A select is written out here
    with its `options`; another control is drawn by its widget. Written here rather than
    by an included template, which cost these pages about as much as their rows."""
    field_id = escape(bound_field.id_for_label)
    errors = bound_field.errors
    html = f'<label for="{field_id}" class="form-label">{escape(bound_field.label)}</label>\n'
    if bound_field.widget_type == "select":
        invalid = f' aria-invalid="true" aria-describedby="{escape(bound_field.auto_id)}_error"' if errors else ""
        choices = "".join(
            f'<option value="{escape(value)}"{" selected" if selected else ""}>{escape(label)}</option>'
            for value, label, selected in options(bound_field)
        )
        html += (
            f'<select class="form-select{" is-invalid" if errors else ""}" name="{escape(bound_field.html_name)}"'
            f' id="{field_id}"{invalid}>{choices}</select>\n'
        )
    else:
        html += f"{conditional_escape(bound_field)}\n"
    if bound_field.help_text:
        html += (
            f'<div id="{escape(bound_field.auto_id)}_helptext" class="form-text">'
            f"{conditional_escape(bound_field.help_text)}</div>\n"
        )
    if errors:
        shown = "".join(f"{escape(error)} " for error in errors)
        html += f'<div id="{escape(bound_field.auto_id)}_error" class="invalid-feedback d-block">{shown}</div>\n'
    # Safe: every text above is escaped; the widget's markup is Django's own.
    return mark_safe(html)  # nosec B308 B703
