"""Reports for managers: the index, one page and one CSV download per report."""

from tests.url_roles import MANAGER

ROLES: dict[str, tuple[str, str]] = {
    "cases:reports": (MANAGER, "get"),
    "cases:report_cases": (MANAGER, "get"),
    "cases:report_cases_csv": (MANAGER, "get"),
    "cases:report_issues": (MANAGER, "get"),
    "cases:report_issues_csv": (MANAGER, "get"),
    "cases:report_origins": (MANAGER, "get"),
    "cases:report_origins_csv": (MANAGER, "get"),
    "cases:report_laser_sessions": (MANAGER, "get"),
    "cases:report_laser_sessions_csv": (MANAGER, "get"),
    "cases:report_adverse_events": (MANAGER, "get"),
    "cases:report_adverse_events_csv": (MANAGER, "get"),
    "cases:report_follow_ups": (MANAGER, "get"),
    "cases:report_follow_ups_csv": (MANAGER, "get"),
    "cases:report_satisfaction": (MANAGER, "get"),
    "cases:report_satisfaction_csv": (MANAGER, "get"),
}

WORLD_KEYS: dict[str, dict[str, str]] = {}
