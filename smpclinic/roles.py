"""Who may do what: the three groups, their permissions, and the checks views use.

Staff run the clinic day to day; Managers can do all Staff can plus approve plans,
review follow-ups, override safety warnings, keep certifications and settings;
Clients have no model permissions at all: the portal shows them their own records
through `visible_to(user)` QuerySet methods, never through a permission.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

STAFF = "Staff"
MANAGERS = "Managers"
CLIENTS = "Clients"
ROLES = (STAFF, MANAGERS, CLIENTS)

_CLINICAL = [
    "cases.client",
    "cases.case",
    "cases.consultation",
    "cases.issue",
    "cases.treatmentplan",
    "cases.planstep",
    "cases.lasersession",
    "cases.correctionsession",
    "cases.followup",
    "cases.photo",
    "cases.consent",
    "cases.ruleoverride",
]


def _perms(models: list[str], actions: tuple[str, ...]) -> set[str]:
    out = set()
    for dotted in models:
        app, model = dotted.split(".")
        out |= {f"{app}.{action}_{model}" for action in actions}
    return out


# No role gets delete_*: clinical records are archived, never deleted.
STAFF_PERMISSIONS = (
    _perms(_CLINICAL, ("view", "add", "change"))
    | _perms(["cases.consenttext", "cases.laserdevice", "artists.artist", "artists.studio"], ("view",))
    | _perms(["artists.studio"], ("add", "change"))
    | _perms(["artists.certification"], ("view",))
    | _perms(["smpclinic.clinicsettings"], ("view",))
)
MANAGER_PERMISSIONS = (
    STAFF_PERMISSIONS
    | _perms(["cases.consenttext", "cases.laserdevice", "artists.artist", "artists.certification"], ("add", "change"))
    | _perms(["smpclinic.clinicsettings"], ("change",))
    | {
        "cases.approve_treatmentplan",
        "cases.review_followup",
        "cases.override_contraindication",
        "cases.archive_record",
        "cases.view_reports",
    }
)
CLIENT_PERMISSIONS: set[str] = set()

GROUP_PERMISSIONS: dict[str, set[str]] = {
    STAFF: STAFF_PERMISSIONS,
    MANAGERS: MANAGER_PERMISSIONS,
    CLIENTS: CLIENT_PERMISSIONS,
}


def sync_groups(apps=None) -> None:
    """Create the three groups and set exactly the permissions above (idempotent).

    Used by the roles data migration (with historical `apps`) and after every migrate,
    so a test flush or a new permission never leaves a group behind.
    """
    if apps is None:
        from django.apps import apps
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        perms = []
        for dotted in sorted(wanted):
            app_label, codename = dotted.split(".")
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm is not None:
                perms.append(perm)
        group.permissions.set(perms)


def _groups(user) -> set[str]:
    if not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_role_groups", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._role_groups = cached
    return cached


def is_manager(user) -> bool:
    return user.is_authenticated and (user.is_superuser or MANAGERS in _groups(user))


def is_clinic_user(user) -> bool:
    """Staff or manager (or a superuser): sees every active clinical record."""
    return user.is_authenticated and (user.is_superuser or bool(_groups(user) & {STAFF, MANAGERS}))


def is_client(user) -> bool:
    return user.is_authenticated and not is_clinic_user(user) and CLIENTS in _groups(user)


def _role_required(check: Callable):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


staff_required = _role_required(is_clinic_user)
manager_required = _role_required(is_manager)
client_required = _role_required(is_client)
