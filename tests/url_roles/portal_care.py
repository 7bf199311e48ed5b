"""Client portal: appointments, photos, consents, aftercare."""

from tests.url_roles import PORTAL

ROLES: dict[str, tuple[str, str]] = {
    "cases:portal_appointments": (PORTAL, "get"),
    "cases:portal_photos": (PORTAL, "get"),
    "cases:portal_photo_compare": (PORTAL, "get"),
    "cases:portal_consents": (PORTAL, "get"),
    "cases:portal_consent_sign": (PORTAL, "get"),
    "cases:portal_consent_detail": (PORTAL, "get"),
    "cases:portal_consent_withdraw": (PORTAL, "get"),
    "cases:portal_aftercare": (PORTAL, "get"),
}

# The consent pages take client A's signed consent: the `world` key has the same name.
WORLD_KEYS: dict[str, dict[str, str]] = {}
