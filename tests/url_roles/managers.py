"""Manager pages: follow-up review queue and team (artists, certifications)."""

from . import MANAGER, STAFF

ROLES: dict[str, tuple[str, str]] = {
    "cases:review_queue": (MANAGER, "get"),
    # Staff too: rebooking a missed follow-up is front-desk work (tests/cases/test_review_reschedule.py).
    # The world's follow-up is scheduled, so an empty POST is refused with a message (302).
    "cases:followup_reschedule": (STAFF, "post"),
    # Data subject rights (tests/cases/test_subject_access_export.py, tests/cases/test_anonymise.py).
    # An empty POST to the export is a full export (200); the anonymise page is a form.
    "cases:client_export": (MANAGER, "post"),
    "cases:client_anonymise": (MANAGER, "get"),
    # The audit logs (tests/test_audit_pages.py).
    "cases:access_log": (MANAGER, "get"),
    "cases:access_log_csv": (MANAGER, "get"),
    "cases:sign_in_log": (MANAGER, "get"),
    "cases:sign_in_log_csv": (MANAGER, "get"),
    "artists:team": (MANAGER, "get"),
    "artists:certification_add": (MANAGER, "get"),
    "artists:certification_renew": (MANAGER, "get"),
}

WORLD_KEYS: dict[str, dict[str, str]] = {}
