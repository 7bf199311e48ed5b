"""Client portal: appointments, photos, consents, aftercare (issue 6)."""

ROLES: dict[str, tuple[str, str]] = {}

WORLD_KEYS: dict[str, dict[str, str]] = {}
