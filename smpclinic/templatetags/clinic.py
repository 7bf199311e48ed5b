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
