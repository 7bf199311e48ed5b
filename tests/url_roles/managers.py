"""Manager pages (issue 5): follow-up review queue and team (artists, certifications)."""

ROLES: dict[str, tuple[str, str]] = {}

WORLD_KEYS: dict[str, dict[str, str]] = {}
