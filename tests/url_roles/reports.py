"""Reports for managers: the index, one page and one CSV download per report."""

from smpclinic import roles

ROLES: dict[str, tuple[str, str]] = {
    "cases:reports": (roles.VIEW_REPORTS, "get"),
    "cases:report_cases": (roles.VIEW_REPORTS, "get"),
    "cases:report_cases_csv": (roles.VIEW_REPORTS, "get"),
    "cases:report_issues": (roles.VIEW_REPORTS, "get"),
    "cases:report_issues_csv": (roles.VIEW_REPORTS, "get"),
    "cases:report_origins": (roles.VIEW_REPORTS, "get"),
    "cases:report_origins_csv": (roles.VIEW_REPORTS, "get"),
    "cases:report_laser_sessions": (roles.VIEW_REPORTS, "get"),
    "cases:report_laser_sessions_csv": (roles.VIEW_REPORTS, "get"),
    "cases:report_adverse_events": (roles.VIEW_REPORTS, "get"),
    "cases:report_adverse_events_csv": (roles.VIEW_REPORTS, "get"),
    "cases:report_follow_ups": (roles.VIEW_REPORTS, "get"),
    "cases:report_follow_ups_csv": (roles.VIEW_REPORTS, "get"),
    "cases:report_satisfaction": (roles.VIEW_REPORTS, "get"),
    "cases:report_satisfaction_csv": (roles.VIEW_REPORTS, "get"),
}

WORLD_KEYS: dict[str, dict[str, str]] = {}
