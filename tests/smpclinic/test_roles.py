"""The three roles (smpclinic.roles): their groups, their permissions, the checks views use."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.special import RunPython
from django.urls import reverse

from smpclinic import roles
from tests import factories


def held(group: Group) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def every_group_matches_the_table() -> None:
    assert set(Group.objects.filter(name__in=roles.ROLES).values_list("name", flat=True)) == set(roles.ROLES)
    for name, wanted in roles.GROUP_PERMISSIONS.items():
        assert held(Group.objects.get(name=name)) == wanted, name


def test_groups_hold_exactly_the_listed_permissions(db):
    every_group_matches_the_table()


def test_every_listed_permission_exists(db):
    """A typo in GROUP_PERMISSIONS would be skipped silently by sync_groups."""
    existing = {f"{app}.{code}" for app, code in Permission.objects.values_list("content_type__app_label", "codename")}
    for name, wanted in roles.GROUP_PERMISSIONS.items():
        assert wanted <= existing, (name, wanted - existing)


def test_no_group_may_delete(db):
    deleting = Permission.objects.filter(group__name__in=roles.ROLES, codename__startswith="delete_")
    assert list(deleting) == []
    assert not any(p.split(".")[1].startswith("delete_") for p in set().union(*roles.GROUP_PERMISSIONS.values()))


def test_managers_can_do_all_staff_can_and_more(db):
    staff = held(Group.objects.get(name=roles.STAFF))
    managers = held(Group.objects.get(name=roles.MANAGERS))
    assert staff < managers
    assert {
        "cases.approve_treatmentplan",
        "cases.override_contraindication",
        "cases.archive_record",
        "smpclinic.change_clinicsettings",
        "artists.change_certification",
    } <= managers - staff


def test_clients_hold_only_the_portal(db):
    """Clients see their own records through `visible_to(user)`, never a model permission."""
    assert held(Group.objects.get(name=roles.CLIENTS)) == {"cases.use_portal"}


def test_each_group_holds_exactly_the_actions_the_matrix_gives_its_role(db):
    for role in roles.ROLES:
        granted = held(Group.objects.get(name=role))
        for action in roles.MATRIX:
            assert (action.permission in granted) is (role in action.roles), (role, action.name)


def test_every_action_is_a_distinct_permission_that_exists(db):
    existing = {f"{app}.{code}" for app, code in Permission.objects.values_list("content_type__app_label", "codename")}
    permissions = [action.permission for action in roles.MATRIX]
    assert len(set(permissions)) == len(permissions)
    assert set(permissions) <= existing


def test_sync_groups_is_idempotent_and_repairs(db):
    staff = Group.objects.get(name=roles.STAFF)
    staff.permissions.add(Permission.objects.get(codename="delete_case"))
    Group.objects.get(name=roles.CLIENTS).delete()

    roles.sync_groups()
    roles.sync_groups()

    every_group_matches_the_table()


PERSONAS = [
    # fixture, is_clinic_user, is_elevated, is_client
    ("staff_user", True, False, False),
    ("manager_user", True, True, False),
    ("admin_user", True, True, False),
    ("client_a", False, False, True),
]


@pytest.mark.parametrize(("persona", "clinic", "manager", "client"), PERSONAS)
def test_role_checks_for_each_persona(request, persona, clinic, manager, client):
    user = request.getfixturevalue(persona)
    user = getattr(user, "user", user)  # client_a is a Client; the login is its user

    assert roles.is_clinic_user(user) is clinic
    assert roles.is_elevated(user) is manager
    assert roles.is_client(user) is client


def test_anonymous_has_no_role():
    anonymous = AnonymousUser()
    assert not roles.is_clinic_user(anonymous)
    assert not roles.is_elevated(anonymous)
    assert not roles.is_client(anonymous)


def test_user_in_no_group_has_no_role(db):
    user = factories.UserFactory()
    assert (roles.is_clinic_user(user), roles.is_elevated(user), roles.is_client(user)) == (False, False, False)


def test_staff_who_is_also_a_client_is_treated_as_staff(db):
    """Clinic access wins: such a user sees every record, so is never limited to 'own'."""
    user = factories.StaffUserFactory()
    user.groups.add(Group.objects.get(name=roles.CLIENTS))
    user = type(user).objects.get(pk=user.pk)  # drop the cached group names
    assert roles.is_clinic_user(user)
    assert not roles.is_client(user)


def _data_step(loader: MigrationLoader, app_label: str, name: str) -> RunPython:
    (step,) = (op for op in loader.get_migration(app_label, name).operations if isinstance(op, RunPython))
    return step


def test_roles_migration_makes_its_groups_on_a_fresh_database_and_reverses(db):
    """The data steps of the role migrations run as `migrate` runs them: with the models as
    they were at each migration, on a database with no permissions yet. (Permissions are
    normally made only after all migrations ran, so each migration must create them
    itself, without help from the post_migrate hook.) The schema is not rebuilt around
    them: the steps write rows only, inside the test's transaction."""
    loader = MigrationLoader(connection)
    roles_step = _data_step(loader, "smpclinic", "0002_roles")
    at_roles = loader.project_state(("smpclinic", "0002_roles")).apps
    Group.objects.filter(name__in=roles.ROLES).delete()
    Permission.objects.all().delete()

    roles_step.code(at_roles, None)
    assert Group.objects.filter(name__in=roles.ROLES).count() == len(roles.ROLES)
    roles_step.reverse_code(at_roles, None)
    assert not Group.objects.filter(name__in=roles.ROLES).exists()

    # Forward again, then the later migration that adds the action permissions and
    # grants them: the groups match the table at once.
    roles_step.code(at_roles, None)
    grant_step = _data_step(loader, "smpclinic", "0006_action_permissions")
    grant_step.code(loader.project_state(("smpclinic", "0006_action_permissions")).apps, None)
    every_group_matches_the_table()


def test_one_right_given_to_one_person_makes_them_hold_that_action_and_no_other(db):
    """The Django way: a senior technician given "approve plans" in the admin approves
    plans, and is not thereby a manager in anything else."""
    user = factories.StaffUserFactory()
    user.user_permissions.add(Permission.objects.get(codename="approve_treatmentplan"))
    user = type(user).objects.get(pk=user.pk)  # permissions are cached on the object

    assert roles.may(user, roles.APPROVE_PLANS)
    assert not roles.may(user, roles.VIEW_REPORTS)
    assert roles.is_elevated(user)  # so they sign in with a second factor
    assert user in roles.holders(roles.APPROVE_PLANS)
    assert user not in roles.holders(roles.REVIEW_FOLLOW_UPS)


def test_holders_counts_superusers_only_when_asked(db, admin_user, manager_user):
    assert admin_user not in roles.holders(roles.REVIEW_FOLLOW_UPS)
    assert admin_user in roles.holders(roles.REVIEW_FOLLOW_UPS, superusers=True)
    assert list(roles.holders(roles.REVIEW_FOLLOW_UPS)) == [manager_user]


def test_an_inactive_user_holds_nothing(db, manager_user):
    manager_user.is_active = False
    manager_user.save()
    manager_user = type(manager_user).objects.get(pk=manager_user.pk)
    assert not any(roles.may(manager_user, action) for action in roles.MATRIX)
    assert manager_user not in roles.holders(roles.APPROVE_PLANS)


def test_a_users_permissions_are_read_in_one_query(db, staff_user, django_assert_num_queries):
    user = type(staff_user).objects.get(pk=staff_user.pk)
    with django_assert_num_queries(1):
        assert roles.is_clinic_user(user)
        assert not roles.is_client(user)
        assert not roles.is_elevated(user)
        assert not roles.may(user, roles.APPROVE_PLANS)


def test_services_refuse_whoever_lacks_the_action(db, staff_user):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied, match="approve plans"):
        roles.check(staff_user, roles.APPROVE_PLANS)
    roles.check(staff_user, roles.WORK)


def test_a_right_taken_away_holds_from_the_persons_next_request(db, manager_user, as_manager):
    assert as_manager.get(reverse("lockouts")).status_code == 200

    manager_user.groups.clear()

    assert as_manager.get(reverse("lockouts")).status_code == 403
    assert not roles.may(type(manager_user).objects.get(pk=manager_user.pk), roles.MANAGE_SIGN_INS)
