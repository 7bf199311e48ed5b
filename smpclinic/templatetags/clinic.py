"""Template filters every page may use (registered as a builtin in settings)."""

from django import template

register = template.Library()


@register.filter
def person(user, empty="—"):
    """A user's full name, falling back to the username; ``empty`` when there is none."""
    if user is None or user == "":
        return empty
    return user.get_full_name() or user.get_username()
