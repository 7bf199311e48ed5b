"""Manager pages: follow-up review queue, data-subject rights, audit logs, team."""

from smpclinic import roles

from . import PUBLIC, STAFF

ROLES: dict[str, tuple[str, str]] = {
    "cases:review_queue": (roles.REVIEW_FOLLOW_UPS, "get"),
    # Staff too: rebooking a missed follow-up is front-desk work (tests/cases/test_review_reschedule.py).
    # The world's follow-up is scheduled, so an empty POST is refused with a message (302).
    "cases:followup_reschedule": (STAFF, "post"),
    # Data subject rights (tests/cases/test_subject_access_export.py, tests/cases/test_anonymise.py).
    # An empty POST to the export is a full export (200); the anonymise page is a form.
    "cases:client_export": (roles.EXPORT_CLIENT, "post"),
    "cases:client_anonymise": (roles.ANONYMISE_CLIENT, "get"),
    # The audit logs (tests/test_audit_pages.py).
    "cases:access_log": (roles.READ_AUDIT_LOG, "get"),
    "cases:access_log_csv": (roles.READ_AUDIT_LOG, "get"),
    "cases:sign_in_log": (roles.READ_AUDIT_LOG, "get"),
    "cases:sign_in_log_csv": (roles.READ_AUDIT_LOG, "get"),
    "artists:team": (roles.MANAGE_TEAM, "get"),
    "artists:certification_add": (roles.MANAGE_TEAM, "get"),
    "artists:certification_renew": (roles.MANAGE_TEAM, "get"),
    # The clinic's logo (tests/smpclinic/test_clinic_logo.py): managers upload it; the image
    # answers anyone, the sign-in page shows it (the walk's clinic has one).
    "cases:clinic_logo_edit": (roles.CHANGE_SETTINGS, "get"),
    "cases:clinic_logo": (PUBLIC, "get"),
}

WORLD_KEYS: dict[str, dict[str, str]] = {}
