"""The session's user is read with their permissions in one query (smpclinic.auth_backends),
and what that query finds is what Django's own backend would: their own permissions and
their groups', nothing for someone inactive, every permission for a superuser."""

from __future__ import annotations

import pytest
from django.contrib.auth import backends as django_backends
from django.contrib.auth.models import Permission, User

from smpclinic.auth_backends import ModelBackend
from tests import factories


def _as_django_reads_them(user) -> set[str]:
    return django_backends.ModelBackend().get_all_permissions(User.objects.get(pk=user.pk))


@pytest.mark.parametrize(
    "factory", [factories.StaffUserFactory, factories.ManagerUserFactory, factories.ClientUserFactory]
)
def test_a_users_permissions_are_their_groups_as_django_reads_them(factory, db, django_assert_num_queries):
    user = factory()

    with django_assert_num_queries(1):
        loaded = ModelBackend().get_user(str(user.pk))  # the session keeps the id as text
        permissions = loaded.get_all_permissions()

    assert loaded == user
    assert permissions == _as_django_reads_them(user)
    assert permissions  # every role holds some


def test_a_permission_given_to_the_person_is_added_to_their_groups(db):
    user = factories.StaffUserFactory()
    user.user_permissions.add(Permission.objects.get(codename="approve_treatmentplan"))

    loaded = ModelBackend().get_user(user.pk)

    assert "cases.approve_treatmentplan" in loaded.get_all_permissions()
    assert loaded.get_all_permissions() == _as_django_reads_them(user)


def test_each_user_gets_their_own_permissions_not_the_last_users(db):
    staff, client = factories.StaffUserFactory(), factories.ClientUserFactory()
    backend = ModelBackend()

    assert backend.get_user(staff.pk).get_all_permissions() == _as_django_reads_them(staff)
    assert backend.get_user(client.pk).get_all_permissions() == _as_django_reads_them(client)
    assert _as_django_reads_them(staff) != _as_django_reads_them(client)


def test_a_user_without_permissions_has_none(db):
    user = factories.UserFactory()

    assert ModelBackend().get_user(user.pk).get_all_permissions() == set()


def test_an_unknown_or_inactive_user_is_nobody(db):
    inactive = factories.StaffUserFactory(is_active=False)

    assert ModelBackend().get_user(inactive.pk) is None
    assert ModelBackend().get_user(inactive.pk + 1000) is None


def test_a_superuser_holds_every_permission(db):
    admin = User.objects.create_superuser("root", "root@example.com", "pw-for-tests")

    loaded = ModelBackend().get_user(admin.pk)

    assert loaded.has_perm("cases.approve_treatmentplan")
    assert loaded.get_all_permissions() == _as_django_reads_them(admin)
