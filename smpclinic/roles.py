"""Who may do what: the actions, the three roles that hold them, and the one way to check.

Every check is a Django permission (`user.has_perm`). The three groups merely grant
them, as the table below says, so a clinic can give one person a single extra right in
the admin (a senior technician who approves plans: add "Can approve or send back a
proposed plan" to that user) without making them a manager.

                                       Staff   Managers   Clients
    work on client records               ✓        ✓
    use the client portal                                    ✓   (own records only)
    approve plans                                 ✓
    review follow-ups                             ✓
    override a manager-only safety rule           ✓
    archive records                               ✓
    see reports                                   ✓
    read the audit logs                           ✓
    export a client's record                      ✓
    anonymise a client                            ✓
    keep the team's certifications                ✓
    change clinic settings                        ✓
    unlock sign-ins, reset a second factor        ✓

`MATRIX` below is that table; the URL test reads it to know what each persona may open.
Views use `required(action)` (or `staff_required` / `client_required`); services that
enforce a role call `check(user, action)`; templates read `can.<action>`. Superusers hold
every action. Clients see their own records through `visible_to(user)` QuerySet methods,
never through a model permission.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

STAFF = "Staff"
MANAGERS = "Managers"
CLIENTS = "Clients"
ROLES = (STAFF, MANAGERS, CLIENTS)


@dataclass(frozen=True)
class Action:
    name: str  # templates: `can.<name>`
    permission: str  # "app_label.codename"
    label: str
    roles: frozenset[str]


def _action(name: str, permission: str, label: str, *roles: str) -> Action:
    return Action(name, permission, label, frozenset(roles))


WORK = _action("work", "cases.view_case", "Work on client records", STAFF, MANAGERS)
PORTAL = _action("portal", "cases.use_portal", "Use the client portal (own records only)", CLIENTS)
APPROVE_PLANS = _action("approve_plans", "cases.approve_treatmentplan", "Approve plans", MANAGERS)
REVIEW_FOLLOW_UPS = _action("review_follow_ups", "cases.review_followup", "Review follow-ups", MANAGERS)
OVERRIDE_RULES = _action(
    "override_rules", "cases.override_contraindication", "Override a manager-only safety rule", MANAGERS
)
ARCHIVE = _action("archive", "cases.archive_record", "Archive records", MANAGERS)
VIEW_REPORTS = _action("view_reports", "cases.view_reports", "See reports", MANAGERS)
READ_AUDIT_LOG = _action("read_audit_log", "cases.view_accessevent", "Read the audit logs", MANAGERS)
EXPORT_CLIENT = _action("export_client", "cases.export_client", "Export a client's record", MANAGERS)
ANONYMISE_CLIENT = _action("anonymise_client", "cases.anonymise_client", "Anonymise a client", MANAGERS)
MANAGE_TEAM = _action("manage_team", "artists.change_certification", "Keep the team's certifications", MANAGERS)
CHANGE_SETTINGS = _action("change_settings", "smpclinic.change_clinicsettings", "Change clinic settings", MANAGERS)
MANAGE_SIGN_INS = _action(
    "manage_sign_ins", "smpclinic.manage_sign_ins", "Unlock sign-ins, reset a second factor", MANAGERS
)

MATRIX: tuple[Action, ...] = (
    WORK,
    PORTAL,
    APPROVE_PLANS,
    REVIEW_FOLLOW_UPS,
    OVERRIDE_RULES,
    ARCHIVE,
    VIEW_REPORTS,
    READ_AUDIT_LOG,
    EXPORT_CLIENT,
    ANONYMISE_CLIENT,
    MANAGE_TEAM,
    CHANGE_SETTINGS,
    MANAGE_SIGN_INS,
)
BY_NAME = {action.name: action for action in MATRIX}
MANAGER_ONLY = tuple(action for action in MATRIX if MANAGERS in action.roles and STAFF not in action.roles)

# Model permissions, for the Django admin and for `has_perm` checks on a model. The
# records themselves are worked on through the staff pages; no role gets delete_*:
# clinical records are archived, never deleted.
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


def _actions_of(role: str) -> set[str]:
    return {action.permission for action in MATRIX if role in action.roles}


STAFF_PERMISSIONS = (
    _actions_of(STAFF)
    | _perms(_CLINICAL, ("view", "add", "change"))
    | _perms(["cases.consenttext", "cases.laserdevice", "artists.artist", "artists.studio"], ("view",))
    | _perms(["artists.studio"], ("add", "change"))
    | _perms(["artists.certification"], ("view",))
    | _perms(["smpclinic.clinicsettings"], ("view",))
)
MANAGER_PERMISSIONS = (
    STAFF_PERMISSIONS
    | _actions_of(MANAGERS)
    | _perms(["cases.consenttext", "cases.laserdevice", "artists.artist", "artists.certification"], ("add", "change"))
    | _perms(["smpclinic.loginevent"], ("view",))
)
CLIENT_PERMISSIONS = _actions_of(CLIENTS)

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
    # Every permission named above, in one query rather than one each (~100 queries at
    # each migrate and each test flush); in the model's order, the first of a name kept.
    codenames = {dotted.split(".")[1] for wanted in GROUP_PERMISSIONS.values() for dotted in wanted}
    by_name: dict = {}
    for perm in Permission.objects.filter(codename__in=codenames).select_related("content_type"):
        by_name.setdefault(f"{perm.content_type.app_label}.{perm.codename}", perm)
    for name, wanted in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set([by_name[dotted] for dotted in sorted(wanted) if dotted in by_name])


# The checks. `has_perm` reads a user's permissions once per request (one query, see
# smpclinic.auth_backends) and short-circuits for active superusers.


def may(user, action: Action) -> bool:
    """Whether `user` holds `action`'s permission. The answer is kept on the user object,
    as Django keeps the permissions themselves: `has_perm` loads every authentication
    backend afresh on each call, and a page asks about a dozen actions for its menu."""
    if not getattr(user, "is_authenticated", False):
        return False
    answers = user.__dict__.setdefault("_smp_may", {})
    if action.permission not in answers:
        answers[action.permission] = user.has_perm(action.permission)
    return answers[action.permission]


def check(user, action: Action) -> None:
    """For services: refuse a user who does not hold the action, whoever called."""
    if not may(user, action):
        raise PermissionDenied(f"You may not {action.label[0].lower()}{action.label[1:]}.")


def is_clinic_user(user) -> bool:
    """Staff or manager (or a superuser): sees every active clinical record."""
    return may(user, WORK)


def is_client(user) -> bool:
    """A client of the clinic, limited to their own records. Clinic access wins: a member
    of staff who is also a client sees every record, so is never limited to 'own'."""
    return may(user, PORTAL) and not may(user, WORK)


def is_elevated(user) -> bool:
    """Holds any right beyond the staff's (a manager, a superuser, or someone given one
    manager's right): such a person always signs in with a second factor."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.is_superuser or any(may(user, action) for action in MANAGER_ONLY)


def holders(action: Action, *, superusers: bool = False):
    """The active users granted an action, through a group or their own permissions, and
    with `superusers` every active superuser too."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    app_label, codename = action.permission.split(".")
    perms = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    granted = Q(user_permissions__in=perms) | Q(groups__permissions__in=perms)
    if superusers:
        granted |= Q(is_superuser=True)
    return get_user_model().objects.filter(granted, is_active=True).distinct()


class Abilities:
    """`can` in templates: `{% if can.approve_plans %}`; each answer is a permission check."""

    def __init__(self, user):
        self._user = user

    def __getattr__(self, name: str) -> bool:
        try:
            action = BY_NAME[name]
        except KeyError:
            raise AttributeError(name) from None
        return may(self._user, action)

    @property
    def elevated(self) -> bool:
        return is_elevated(self._user)


def _required(test: Callable) -> Callable:
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not test(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def required(action: Action) -> Callable:
    """A view for holders of `action`: anonymous users are sent to sign in, others get 403."""
    return _required(lambda user: may(user, action))


staff_required = _required(is_clinic_user)
client_required = _required(is_client)
