from smpclinic import roles


def user_roles(request):
    user = request.user
    return {
        "is_clinic_user": roles.is_clinic_user(user),
        "is_manager": roles.is_manager(user),
        "is_client": roles.is_client(user),
    }
