"""The three roles (smpclinic.roles): their groups, their permissions, the checks views use."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

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


def test_clients_have_no_permissions(db):
    assert held(Group.objects.get(name=roles.CLIENTS)) == set()


def test_sync_groups_is_idempotent_and_repairs(db):
    staff = Group.objects.get(name=roles.STAFF)
    staff.permissions.add(Permission.objects.get(codename="delete_case"))
    Group.objects.get(name=roles.CLIENTS).delete()

    roles.sync_groups()
    roles.sync_groups()

    every_group_matches_the_table()


PERSONAS = [
    # fixture, is_clinic_user, is_manager, is_client
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
    assert roles.is_manager(user) is manager
    assert roles.is_client(user) is client


def test_anonymous_has_no_role():
    anonymous = AnonymousUser()
    assert not roles.is_clinic_user(anonymous)
    assert not roles.is_manager(anonymous)
    assert not roles.is_client(anonymous)


def test_user_in_no_group_has_no_role(db):
    user = factories.UserFactory()
    assert (roles.is_clinic_user(user), roles.is_manager(user), roles.is_client(user)) == (False, False, False)


def test_staff_who_is_also_a_client_is_treated_as_staff(db):
    """Clinic access wins: such a user sees every record, so is never limited to 'own'."""
    user = factories.StaffUserFactory()
    user.groups.add(Group.objects.get(name=roles.CLIENTS))
    user = type(user).objects.get(pk=user.pk)  # drop the cached group names
    assert roles.is_clinic_user(user)
    assert not roles.is_client(user)


@pytest.mark.django_db(transaction=True)
def test_roles_migration_reverses_and_reapplies():
    executor = MigrationExecutor(connection)
    executor.migrate([("smpclinic", "0001_initial")])
    assert not Group.objects.filter(name__in=roles.ROLES).exists()
    # As on a fresh database, where permissions are made only after all migrations ran:
    # the migration must create them itself, without help from the post_migrate hook.
    Permission.objects.all().delete()

    executor.loader.build_graph()  # the plan is read from the graph: reload after a change
    executor.migrate([("smpclinic", "0002_roles")])

    every_group_matches_the_table()
    # Back to the latest schema: later tests in this process share the database.
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    executor.loader.build_graph()
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
