"""Reports for managers (issue 5)."""

ROLES: dict[str, tuple[str, str]] = {}

WORLD_KEYS: dict[str, dict[str, str]] = {}
