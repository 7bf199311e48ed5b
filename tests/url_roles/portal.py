"""Client portal pages and the invitation link (issue 6)."""

from tests.url_roles import PORTAL  # noqa: F401

ROLES: dict[str, tuple[str, str]] = {}

WORLD_KEYS: dict[str, dict[str, str]] = {}
