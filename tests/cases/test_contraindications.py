"""Laser contraindications on the client (docs/domain.md#contraindications)."""

from __future__ import annotations

import datetime

import pytest

from cases.models import Contraindication
from cases.models.clients import months_before
from smpclinic.models import ClinicSettings
from tests import factories

ON = datetime.date(2026, 11, 25)


def codes(found: list[Contraindication]) -> set[str]:
    return {c.code for c in found}


def test_client_without_flags_has_none(db):
    assert factories.ClientFactory().contraindications(on=ON) == []


def test_isotretinoin_five_months_ago_blocks_laser(db):
    client = factories.ClientFactory(isotretinoin_last_dose=datetime.date(2026, 6, 25))

    [found] = client.contraindications(on=ON)

    assert found.code == "isotretinoin"
    assert found.blocks_laser
    assert "6 months" in found.label and "25 Jun 2026" in found.label


def test_isotretinoin_seven_months_ago_is_past_the_default_washout(db):
    client = factories.ClientFactory(isotretinoin_last_dose=datetime.date(2026, 4, 25))
    assert ClinicSettings.load().isotretinoin_washout_months == 6
    assert client.contraindications(on=ON) == []


@pytest.mark.parametrize(
    ("last_dose", "flagged"),
    [
        (datetime.date(2026, 5, 24), False),
        (datetime.date(2026, 5, 25), False),  # exactly six months: the washout is complete
        (datetime.date(2026, 5, 26), True),
        (ON, True),
    ],
)
def test_isotretinoin_washout_boundary(db, last_dose, flagged):
    client = factories.ClientFactory(isotretinoin_last_dose=last_dose)
    assert ("isotretinoin" in codes(client.contraindications(on=ON))) is flagged


def test_clinic_with_a_twelve_month_washout_flags_seven_months(db):
    settings = ClinicSettings.load()
    settings.isotretinoin_washout_months = 12
    settings.save()
    client = factories.ClientFactory(isotretinoin_last_dose=datetime.date(2026, 4, 25))

    [found] = client.contraindications(on=ON)

    assert found.code == "isotretinoin" and found.blocks_laser
    assert "12 months" in found.label
    # Thirteen months ago is clear of it.
    client.isotretinoin_last_dose = datetime.date(2025, 10, 25)
    assert client.contraindications(on=ON) == []


def test_settings_can_be_passed_in(db):
    client = factories.ClientFactory(isotretinoin_last_dose=datetime.date(2026, 4, 25))
    assert codes(client.contraindications(on=ON, clinic=ClinicSettings(isotretinoin_washout_months=12))) == {
        "isotretinoin"
    }


def test_active_infection_blocks_laser(db):
    [found] = factories.ClientFactory(active_infection=True).contraindications(on=ON)
    assert found.code == "active_infection"
    assert found.blocks_laser


@pytest.mark.parametrize(
    ("flag", "code"),
    [
        ("pregnant_or_breastfeeding", "pregnancy"),
        ("photosensitising_medication", "photosensitising"),
        ("gold_therapy", "gold_therapy"),
        ("open_wounds", "open_wounds"),
        ("recent_sunburn_or_tan", "sunburn"),
        ("keloid_history", "keloid"),
        ("ink_allergy", "ink_allergy"),
    ],
)
def test_warnings_do_not_block(db, flag, code):
    [found] = factories.ClientFactory(**{flag: True}).contraindications(on=ON)
    assert found.code == code
    assert not found.blocks_laser
    assert found.label


@pytest.mark.parametrize(
    ("last", "flagged"),
    [(datetime.date(2026, 8, 1), True), (datetime.date(2026, 5, 25), False), (datetime.date(2026, 5, 26), True)],
)
def test_immunosuppression_in_the_last_six_months_warns(db, last, flagged):
    found = factories.ClientFactory(immunosuppression_last=last).contraindications(on=ON)
    assert ("immunosuppression" in codes(found)) is flagged
    assert not any(c.blocks_laser for c in found)


def test_everything_at_once(db):
    client = factories.ClientFactory(
        pregnant_or_breastfeeding=True,
        isotretinoin_last_dose=datetime.date(2026, 10, 1),
        active_infection=True,
        keloid_history=True,
    )
    found = client.contraindications(on=ON)
    assert codes(found) == {"pregnancy", "isotretinoin", "active_infection", "keloid"}
    assert {c.code for c in found if c.blocks_laser} == {"isotretinoin", "active_infection"}


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (datetime.date(2026, 3, 31), 1, datetime.date(2026, 2, 28)),
        (datetime.date(2028, 3, 31), 1, datetime.date(2028, 2, 29)),  # leap year
        (datetime.date(2026, 5, 31), 1, datetime.date(2026, 4, 30)),
        (datetime.date(2026, 1, 15), 1, datetime.date(2025, 12, 15)),
        (datetime.date(2026, 11, 25), 6, datetime.date(2026, 5, 25)),
        (datetime.date(2026, 11, 25), 12, datetime.date(2025, 11, 25)),
        (datetime.date(2026, 8, 31), 6, datetime.date(2026, 2, 28)),
        (datetime.date(2024, 2, 29), 12, datetime.date(2023, 2, 28)),
        (datetime.date(2026, 3, 1), 0, datetime.date(2026, 3, 1)),
        (datetime.date(2026, 1, 31), 24, datetime.date(2024, 1, 31)),
    ],
)
def test_months_before(day, months, expected):
    assert months_before(day, months) == expected
