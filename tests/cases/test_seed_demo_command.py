"""seed_demo run on an empty database: the same seed gives the same clinic, `--if-empty`,
and case references after the demo."""

from __future__ import annotations

import datetime

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from cases import demo
from cases.models import Case, Client, FollowUp, ReferenceCounter
from cases.models.followups import unexpected_side_effects
from cases.services.cases import case_open, next_reference
from tests import factories
from tests.cases.test_seed_demo import PASSWORD, SMALL, seed_demo, values


def counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models(include_auto_created=True)}


class Rollback(Exception):
    pass


def seed_and_count(**kwargs) -> tuple[dict[str, int], list[tuple]]:
    """Seed inside a savepoint, count every table, roll back: the next run starts empty."""
    try:
        with transaction.atomic():
            if kwargs.get("today"):
                demo.seed(password=PASSWORD, **kwargs)
            else:
                seed_demo(verbosity=0, **kwargs)
            found = counts()
            cases = list(Case.objects.order_by("reference").values_list("reference", "status", "client__last_name"))
            raise Rollback
    except Rollback:
        pass
    assert not Client.objects.exists()
    return found, cases


def test_same_seed_gives_the_same_clinic(db):
    first, first_cases = seed_and_count(**SMALL)
    again, again_cases = seed_and_count(**SMALL)
    assert first == again
    assert first_cases == again_cases
    assert first["cases.Case"] >= SMALL["clients"] and first["cases.LaserSession"] > 0

    # Another day gives the same rows (dates are offsets from today); another seed does not.
    # Only the diary's bookings may differ: they follow the weekdays' opening hours.
    other_day, _ = seed_and_count(clients=SMALL["clients"], seed=SMALL["seed"], today=datetime.date(2027, 1, 3))
    assert {k: v for k, v in other_day.items() if "Booking" not in k} == {
        k: v for k, v in first.items() if "Booking" not in k
    }
    _, other_cases = seed_and_count(clients=SMALL["clients"], seed=2)
    assert [c[2] for c in other_cases] != [c[2] for c in first_cases]


@pytest.mark.parametrize("years", [-1, 21])
def test_history_years_out_of_range_are_refused_before_anything_is_written(db, years):
    with pytest.raises(CommandError, match="--history-years must be between 0 and 20"):
        seed_demo(clients=5, history_years=years)
    assert not Client.objects.exists() and not User.objects.exists()


def test_if_empty_skips_a_clinic_with_clients(db):
    factories.ClientFactory()
    out = seed_demo(clients=5, if_empty=True)
    assert "nothing seeded" in out
    assert Client.objects.count() == 1 and not Case.objects.exists()
    with pytest.raises(CommandError, match="already has clients"):
        seed_demo(clients=5)


def test_if_empty_after_seeding_prints_the_logins(db, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "another-demo-secret")
    seed_demo(clients=1, seed=3)
    before = counts()
    out = seed_demo(clients=1, if_empty=True)
    assert counts() == before
    for name in ("demo-admin", "demo-manager", "demo-staff", "demo-client", "another-demo-secret"):
        assert name in out
    assert User.objects.get(username="demo-client").check_password("another-demo-secret")


def test_references_continue_after_the_demo(db):
    seed_demo(clients=30, seed=4)
    used = values(Case, "reference")
    today = timezone.localdate()
    assert all(ref.startswith("SMP-") and len(ref.split("-")) == 3 for ref in used)
    assert set(ReferenceCounter.objects.values_list("year", flat=True)) == set(range(today.year - 3, today.year + 1))
    # Numbered in opening order within each year.
    for year in {c.opened_on.year for c in Case.objects.all()}:
        ordered = Case.objects.filter(opened_on__year=year).order_by("opened_on", "reference")
        numbers = [int(c.reference.rsplit("-", 1)[1]) for c in ordered]
        assert numbers == sorted(numbers) == list(range(1, len(numbers) + 1))
    for year in range(today.year - 3, today.year + 1):
        assert next_reference(year=year) not in used
    case = case_open(client=Client.objects.first())
    assert case.reference not in used


def test_the_demos_follow_ups_flag_their_unexpected_side_effects(db):
    """The demo writes its rows without the signal that keeps the flag on every other
    path: it sets the flag itself, as the side effects it links say."""
    seed_demo(clients=30, seed=7)  # a demo whose follow-ups include one with an unexpected side effect
    rows = FollowUp.objects.annotate(found=unexpected_side_effects())
    assert set(rows.values_list("unexpected_side_effects", "found").distinct()) == {(False, False), (True, True)}
