from django.urls import get_script_prefix, reverse
from django.utils.functional import SimpleLazyObject

from smpclinic import roles, twofactor
from smpclinic.models import ClinicSettings

# The header's menu: (label, URL name, who sees it, when it is the page shown). Who:
# "clinic" staff and managers, "client" a client in the portal, "superuser", or an
# action of smpclinic.roles. When: "exact" on that very page, "within" on any page under
# its address, or another path part the address holds.
MENU = [
    ("Today", "cases:home", "clinic", "exact"),
    ("Clients", "cases:client_list", "clinic", "within"),
    ("Diary", "cases:diary", "clinic", "within"),
    ("Review", "cases:review_queue", "review_follow_ups", "within"),
    ("Reports", "cases:reports", "view_reports", "within"),
    ("Team", "artists:team", "manage_team", "within"),
    ("Audit", "cases:access_log", "read_audit_log", "/audit/"),
    ("Settings", "clinic_settings", "change_settings", "exact"),
    ("My plan", "cases:portal_plan", "client", "exact"),
    ("Appointments", "cases:portal_appointments", "client", "exact"),
    ("Photos", "cases:portal_photos", "client", "exact"),
    ("Consents", "cases:portal_consents", "client", "exact"),
    ("Aftercare", "cases:portal_aftercare", "client", "exact"),
    ("Admin", "admin:index", "superuser", ""),
]
# Each script prefix's menu addresses, reversed once per process rather than at every page.
_addresses: dict[str, list[str]] = {}


def _menu_addresses() -> list[str]:
    prefix = get_script_prefix()
    if prefix not in _addresses:
        _addresses[prefix] = [reverse(name) for _, name, _, _ in MENU]
    return _addresses[prefix]


def menu(request) -> list[dict]:
    """The menu items the signed-in person may open, the page shown marked active."""
    user, path = request.user, request.path
    # Between the password and the code, every item would lead back to the code page.
    if not user.is_authenticated or twofactor.pending_step(request):
        return []
    sees = {
        "clinic": roles.is_clinic_user(user),
        "client": roles.is_client(user),
        "superuser": user.is_superuser,
    }
    items = []
    for (label, _, who, when), url in zip(MENU, _menu_addresses(), strict=True):
        if not (sees[who] if who in sees else roles.may(user, roles.BY_NAME[who])):
            continue
        if when == "exact":
            active = path == url
        elif when == "within":
            active = url in path
        else:
            active = bool(when) and when in path
        items.append({"label": label, "url": url, "active": active})
    return items


def user_roles(request):
    """`can.<action>` (smpclinic.roles) for menus and buttons, checked only where a
    template asks; `is_clinic_user` and `is_client` choose the staff or the portal menu."""
    user = request.user
    return {
        "can": roles.Abilities(user),
        "is_clinic_user": roles.is_clinic_user(user),
        "is_client": roles.is_client(user),
        # Worked out only on a page that draws the header.
        "menu": SimpleLazyObject(lambda: menu(request)),
    }


def clinic(request):
    """The clinic's own name for the header and page titles and its logo's URL ("" without
    one), read from the cached settings every request already loads, so no query of its own."""
    settings = ClinicSettings.cached()
    logo_url = f"{reverse('cases:clinic_logo')}?v={settings.logo_version}" if settings.logo else ""
    return {"clinic_name": settings.name, "clinic_logo_url": logo_url}
