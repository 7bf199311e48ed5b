from smpclinic import roles
from smpclinic.models import ClinicSettings


def user_roles(request):
    user = request.user
    return {
        "is_clinic_user": roles.is_clinic_user(user),
        "is_manager": roles.is_manager(user),
        "is_client": roles.is_client(user),
    }


def clinic(request):
    """The clinic's own name for the header and page titles (Clinic settings), read from
    the cached settings every request already loads, so no query of its own."""
    return {"clinic_name": ClinicSettings.cached().name}
