"""Client portal: my plan, accepting it, the PDF; invitations and password reset."""

from . import PORTAL, PUBLIC, STAFF

# The staff home sends a client on to the portal (302) instead of refusing them.
STAFF_HOME = "staff home"
# A public page reached through a one-time token: the walk has no real token, so every
# persona gets the "link not valid" page with 404.
PUBLIC_TOKEN = "public token"

ROLES: dict[str, tuple[str, str]] = {
    "cases:home": (STAFF_HOME, "get"),
    "cases:portal_plan": (PORTAL, "get"),
    "cases:portal_plan_pdf": (PORTAL, "get"),
    "cases:portal_plan_accept": (PORTAL, "get"),
    "cases:client_invite": (STAFF, "post"),
    "invitation_accept": (PUBLIC_TOKEN, "get"),
    "password_reset": (PUBLIC, "get"),
    "password_reset_done": (PUBLIC, "get"),
    "password_reset_confirm": (PUBLIC, "get"),  # an unknown link shows "cannot be used" (200)
    "password_reset_complete": (PUBLIC, "get"),
}

WORLD_KEYS: dict[str, dict[str, str]] = {
    "cases:portal_plan_accept": {"plan_id": "approved_plan_id"},
    "invitation_accept": {"token": "case_id"},
    "password_reset_confirm": {"uidb64": "client_id", "token": "case_id"},
}
