"""The diary (tests/cases/test_diary_pages.py): staff pages, the portal's calendar files
and the private calendar feeds."""

from tests.url_roles import PORTAL, STAFF
from tests.url_roles.portal import PUBLIC_TOKEN

ROLES: dict[str, tuple[str, str]] = {
    "cases:diary": (STAFF, "get"),
    "cases:diary_week": (STAFF, "get"),
    "cases:booking_create": (STAFF, "get"),
    "cases:booking_reschedule": (STAFF, "get"),
    "cases:booking_cancel": (STAFF, "get"),
    # Staff without a diary of their own are sent back with a message (302).
    "cases:staff_feed_manage": (STAFF, "post"),
    "cases:portal_appointment_ics": (PORTAL, "get"),
    "cases:portal_calendar_feed_manage": (PORTAL, "get"),
    # A calendar app has no sign-in: the token is the key, and a made-up one gets 404.
    "cases:staff_calendar_feed": (PUBLIC_TOKEN, "get"),
    "cases:client_calendar_feed": (PUBLIC_TOKEN, "get"),
}

WORLD_KEYS: dict[str, dict[str, str]] = {
    "cases:staff_calendar_feed": {"token": "case_id"},
    "cases:client_calendar_feed": {"token": "case_id"},
}
