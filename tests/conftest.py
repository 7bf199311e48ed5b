"""Personas and shared fixtures: anonymous, client A, client B, staff, manager, admin."""

from __future__ import annotations

import shutil

import pytest
from django.test import Client as HttpClient

from tests import factories
from tests.signin import signed_in


@pytest.fixture(autouse=True)
def _fresh_cache(request):
    """No cached Clinic settings carried from one test to the next, and for tests that use
    the database, the settings already cached as they are in a running server: query
    counts then measure the page itself, not a cold cache."""
    from django.core.cache import cache

    from smpclinic.models import ClinicSettings

    cache.clear()
    for db_fixture in ("transactional_db", "db"):
        if db_fixture in request.fixturenames:
            request.getfixturevalue(db_fixture)
            ClinicSettings.cached()
            break
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    """Each test writes photos to its own folder; nothing leaks between tests."""
    settings.MEDIA_ROOT = tmp_path / "media"
    yield
    shutil.rmtree(tmp_path / "media", ignore_errors=True)


@pytest.fixture
def staff_user(db):
    return factories.StaffUserFactory(username="staff")


@pytest.fixture
def manager_user(db):
    return factories.ManagerUserFactory(username="manager")


@pytest.fixture
def admin_user(db):
    from django.contrib.auth.models import User

    return User.objects.create_superuser("admin", "admin@example.com", "pw-for-tests")


@pytest.fixture
def client_a(db):
    """Client A: a portal user with a case of their own."""
    user = factories.ClientUserFactory(username="client-a")
    return factories.ClientFactory(user=user, first_name="Alice", last_name="Able")


@pytest.fixture
def client_b(db):
    user = factories.ClientUserFactory(username="client-b")
    return factories.ClientFactory(user=user, first_name="Bob", last_name="Baker")


def _logged_in(user) -> HttpClient:
    return signed_in(user)


@pytest.fixture
def as_staff(staff_user):
    return _logged_in(staff_user)


@pytest.fixture
def as_manager(manager_user):
    return _logged_in(manager_user)


@pytest.fixture
def as_admin(admin_user):
    return _logged_in(admin_user)


@pytest.fixture
def as_client_a(client_a):
    return _logged_in(client_a.user)


@pytest.fixture
def as_client_b(client_b):
    return _logged_in(client_b.user)


@pytest.fixture
def anonymous(db):
    return HttpClient()


PERSONA_FIXTURES = {"as_staff", "as_manager", "as_admin", "as_client_a", "as_client_b", "anonymous"}


def pytest_collection_modifyitems(items):
    """A test that takes its persona by name (`request.getfixturevalue(persona)`) asks for
    the database only once it runs, and pytest-django then sets up no test database for it:
    it would run against the development one. Such tests are marked as database tests here."""
    for item in items:
        params = getattr(item, "callspec", None)
        if params and PERSONA_FIXTURES & {str(v) for v in params.params.values()}:
            item.add_marker(pytest.mark.django_db)
