"""Case reference codes: SMP-<year>-<number>, numbered per year, unique under concurrency."""

from __future__ import annotations

import datetime
import re
import threading

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from cases.choices import Zone
from cases.models import Case, ReferenceCounter, ZoneLookup
from cases.services.cases import case_open, next_reference
from smpclinic import roles
from tests import factories

REFERENCE = re.compile(r"^SMP-(\d{4})-(\d{4})$")


def test_reference_format_and_order(db):
    client = factories.ClientFactory()

    first = case_open(client=client, opened_on=datetime.date(2026, 2, 3))
    second = case_open(client=client, opened_on=datetime.date(2026, 5, 6))

    assert first.reference == "SMP-2026-0001"
    assert second.reference == "SMP-2026-0002"
    assert REFERENCE.match(first.reference)
    assert ReferenceCounter.objects.get(year=2026).last_number == 2
    assert Case.objects.get(pk=second.pk).reference == "SMP-2026-0002"


def test_numbering_restarts_each_year(db):
    assert next_reference(year=2026) == "SMP-2026-0001"
    assert next_reference(year=2026) == "SMP-2026-0002"
    assert next_reference(year=2027) == "SMP-2027-0001"
    assert next_reference(year=2026) == "SMP-2026-0003"
    assert dict(ReferenceCounter.objects.values_list("year", "last_number")) == {2026: 3, 2027: 1}


def test_case_year_follows_opening_date(db):
    client = factories.ClientFactory()
    case = case_open(client=client, opened_on=datetime.date(2025, 12, 31))
    assert case.reference == "SMP-2025-0001"


def test_number_past_9999_keeps_counting(db):
    ReferenceCounter.objects.create(year=2026, last_number=9999)
    assert next_reference(year=2026) == "SMP-2026-10000"


THREADS, CASES_PER_THREAD = 8, 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_case_opening_gives_unique_references():
    client = factories.ClientFactory()
    opened_on = datetime.date(2026, 3, 1)
    references: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def open_cases() -> None:
        try:
            start.wait(timeout=10)
            for _ in range(CASES_PER_THREAD):
                references.append(case_open(client=client, opened_on=opened_on).reference)
        except BaseException as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=open_cases) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    total = THREADS * CASES_PER_THREAD
    assert len(references) == total
    assert len(set(references)) == total
    assert sorted(references) == [f"SMP-2026-{n:04d}" for n in range(1, total + 1)]
    assert ReferenceCounter.objects.get(year=2026).last_number == total
    assert Case.objects.filter(client=client).count() == total


@pytest.mark.django_db(transaction=True)
def test_groups_and_lookups_come_back_after_a_flush(staff_user):
    """Runs after the threaded test above, whose teardown flushed every table.

    The post_migrate hook (smpclinic.apps) must rebuild the role groups with their
    permissions and the lookup rows, or every later test using personas breaks.
    """
    for name, wanted in roles.GROUP_PERMISSIONS.items():
        group = Group.objects.get(name=name)
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert held == wanted
    assert set(ZoneLookup.objects.values_list("code", flat=True)) == set(Zone.values)
    assert roles.is_clinic_user(staff_user)
    assert factories.LaserSessionFactory().zones.get().code == Zone.FRONTAL_HAIRLINE
