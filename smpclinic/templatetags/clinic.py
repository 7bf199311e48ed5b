"""Template filters every page may use (registered as a builtin in settings)."""

from decimal import Decimal, InvalidOperation

from django import template

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
