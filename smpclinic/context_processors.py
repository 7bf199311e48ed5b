from django.urls import reverse

from smpclinic import roles
from smpclinic.models import ClinicSettings


def user_roles(request):
    """`can.<action>` (smpclinic.roles) for menus and buttons, checked only where a
    template asks; `is_clinic_user` and `is_client` choose the staff or the portal menu."""
    user = request.user
    return {
        "can": roles.Abilities(user),
        "is_clinic_user": roles.is_clinic_user(user),
        "is_client": roles.is_client(user),
    }


def clinic(request):
    """The clinic's own name for the header and page titles and its logo's URL ("" without
    one), read from the cached settings every request already loads, so no query of its own."""
    settings = ClinicSettings.cached()
    logo_url = f"{reverse('cases:clinic_logo')}?v={settings.logo_version}" if settings.logo else ""
    return {"clinic_name": settings.name, "clinic_logo_url": logo_url}
