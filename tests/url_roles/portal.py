"""Client portal (issue 6): my plan, accepting it, the PDF; invitations and password reset."""

ROLES: dict[str, tuple[str, str]] = {}

WORLD_KEYS: dict[str, dict[str, str]] = {}
