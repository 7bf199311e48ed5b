"""Manager pages (issue 5): review queue, reports, team."""

from tests.url_roles import MANAGER  # noqa: F401

ROLES: dict[str, tuple[str, str]] = {}

WORLD_KEYS: dict[str, dict[str, str]] = {}
