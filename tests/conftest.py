"""Personas and shared fixtures: anonymous, client A, client B, staff, manager, admin."""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest
from django.test import Client as HttpClient
from django.test import override_settings

from smpclinic import collector
from tests import factories
from tests.signin import signed_in


def pytest_configure(config):
    """Python's cycle collector, less often, as in the server (smpclinic/collector.py): at
    its defaults it took about a seventh of the suite's CPU time."""
    collector.relax()


def pytest_collection_finish(session):
    """What is loaded by now (Django, the apps, the collected tests) lives for the whole
    run: frozen, the full collections no longer walk it each time."""
    collector.freeze_loaded()


def _schema_copy_path(settings_dict) -> Path | None:
    """Where a migrated, empty SQLite test database is kept for the next run: named by a
    hash of every migration file (the project's and the installed packages') and of the
    Django version, so that any change to a migration builds the database afresh."""
    if settings_dict["ENGINE"] != "django.db.backends.sqlite3":
        return None
    import django
    from django.db.migrations.loader import MigrationLoader

    digest = hashlib.sha256(django.get_version().encode())
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for key in sorted(loader.disk_migrations):
        module = sys.modules[loader.disk_migrations[key].__module__]
        digest.update(repr(key).encode())
        digest.update(Path(module.__file__).read_bytes())
    name = Path(settings_dict["TEST"]["NAME"])
    return name.with_name(f".test-db-schema-{digest.hexdigest()[:16]}.sqlite3")


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker, django_db_modify_db_settings):
    """pytest-django's database set-up, made cheaper on SQLite: running the ~70 migrations
    costs each worker many seconds, so the migrated empty database is kept (see
    `_schema_copy_path`) and copied at the next run. `migrate` still runs on the copy:
    it finds nothing to apply and sends post_migrate, which rebuilds the lookup rows, role
    groups and permissions from the code as it is now."""
    from django.db import connections
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.fixtures import _get_databases_for_setup

    settings_dict = connections["default"].settings_dict
    copy = _schema_copy_path(settings_dict)
    test_name = settings_dict["TEST"]["NAME"]
    reused = copy is not None and copy.exists()
    if reused:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{test_name}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(copy, test_name)
    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    verbosity = request.config.option.verbose
    with django_db_blocker.unblock():
        db_cfg = setup_databases(
            verbosity=verbosity,
            interactive=False,
            aliases=aliases,
            serialized_aliases=serialized_aliases,
            keepdb=reused,
        )
        if copy is not None and not reused:
            # SQLite's backup copies a consistent database whatever is still in the WAL;
            # the rename makes the copy appear whole to a worker starting meanwhile.
            for old in copy.parent.glob(".test-db-schema-*.sqlite3"):
                if old != copy:  # a copy for migrations that are no longer the ones here
                    old.unlink(missing_ok=True)
            partial = copy.with_suffix(f".{os.getpid()}.partial")
            source, target = sqlite3.connect(settings_dict["NAME"]), sqlite3.connect(partial)
            with target:
                source.backup(target)
            source.close()
            target.close()
            os.replace(partial, copy)
    yield
    with django_db_blocker.unblock():
        teardown_databases(db_cfg, verbosity=verbosity)


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


@pytest.fixture(scope="session")
def _media_root(tmp_path_factory) -> Path:
    """The photo folder of this process's tests (each xdist worker has its own)."""
    return tmp_path_factory.mktemp("private-media") / "media"


@pytest.fixture(autouse=True)
def _private_media(_media_root):
    """Each test writes photos to a folder that is empty when it starts and removed when it
    ends; nothing leaks between tests. (One folder per process, not a `tmp_path` per test:
    making a temporary folder for each of the ~3,000 tests cost more than the photos.)"""
    with override_settings(MEDIA_ROOT=_media_root):
        yield
    shutil.rmtree(_media_root, ignore_errors=True)


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


def _frame_stack_room(slots: int):
    """A function that calls `function(**kwargs)` from a frame of `slots` local variables:
    see `pytest_pyfunc_call`."""
    names = " = ".join(f"_{i}" for i in range(slots))
    source = (
        "def call(function, /, **kwargs):\n"
        "    if function is None:  # never: the names only make the frame's size\n"
        f"        {names} = None\n"
        "    return function(**kwargs)\n"
    )
    namespace: dict = {}
    exec(compile(source, "<tests/conftest.py: frame stack room>", "exec"), namespace)
    return namespace["call"]


# CPython 3.11 keeps Python frames on a stack of 16 KiB chunks, each mmap'ed when the stack
# grows past the one before and munmap'ed as soon as it shrinks back: a request through the
# test client that goes up and down across a chunk's end pays two system calls and fresh
# zeroed pages each time, thousands of times per test (a third of the suite's system time).
# Called from a frame of 3,100 slots (24 KiB), the test gets a 64 KiB chunk of its own
# (CPython asks for 1,000 slots to spare) and 40 KiB of room in it, which a request's
# deepest stack does not reach. The test runs exactly as it would; only where its frames
# sit in memory changes.
_call_with_room = _frame_stack_room(3100)


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    function = pyfuncitem.obj
    pyfuncitem.obj = functools.partial(_call_with_room, function)
    try:
        return (yield)
    finally:
        pyfuncitem.obj = function


def pytest_runtest_setup(item):
    """Factories record the creation of the rows they make for tests marked `history`
    only (tests.factories.ModelFactory)."""
    factories.record_history(item.get_closest_marker("history") is not None)


PERSONA_FIXTURES = {"as_staff", "as_manager", "as_admin", "as_client_a", "as_client_b", "anonymous"}


def pytest_collection_modifyitems(items):
    """A test that takes its persona by name (`request.getfixturevalue(persona)`) asks for
    the database only once it runs, and pytest-django then sets up no test database for it:
    it would run against the development one. Such tests are marked as database tests here."""
    for item in items:
        params = getattr(item, "callspec", None)
        if params and PERSONA_FIXTURES & {str(v) for v in params.params.values()}:
            item.add_marker(pytest.mark.django_db)
