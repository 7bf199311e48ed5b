"""Certifications and who may do laser work on a day (docs/domain.md#safety-rules)."""

from __future__ import annotations

import datetime

import pytest

from artists.models import Certification
from tests import factories

ISSUED = datetime.date(2025, 1, 1)
EXPIRES = datetime.date(2026, 1, 1)
DAY = datetime.timedelta(days=1)


@pytest.fixture
def artist(db):
    return factories.ArtistFactory()


@pytest.fixture
def laser_cert(artist):
    return factories.CertificationFactory(artist=artist, issued_on=ISSUED, expires_on=EXPIRES)


@pytest.mark.parametrize(
    ("day", "valid"),
    [
        (ISSUED - DAY, False),
        (ISSUED, True),
        (datetime.date(2025, 6, 30), True),
        (EXPIRES, True),
        (EXPIRES + DAY, False),
    ],
    ids=["day-before-issue", "issue-date", "mid-term", "expiry-date", "day-after-expiry"],
)
def test_laser_certification_validity(artist, laser_cert, day, valid):
    assert artist.has_valid_laser_certification(day) is valid
    assert Certification.objects.valid_on(day).filter(pk=laser_cert.pk).exists() is valid
    assert laser_cert.is_valid_on(day) is valid


def test_certification_without_expiry_stays_valid(artist):
    factories.CertificationFactory(artist=artist, issued_on=ISSUED, expires_on=None)
    assert artist.has_valid_laser_certification(datetime.date(2060, 1, 1))
    assert not Certification.objects.expired_on(datetime.date(2060, 1, 1)).exists()
    assert not Certification.objects.expiring_within(datetime.date(2060, 1, 1), 365).exists()


@pytest.mark.parametrize(
    "kind",
    [Certification.Kind.SMP_TRAINING, Certification.Kind.DEVICE_TRAINING, Certification.Kind.BLOODBORNE_PATHOGENS],
)
def test_other_kinds_do_not_certify_laser_work(artist, kind):
    factories.CertificationFactory(artist=artist, kind=kind, issued_on=ISSUED, expires_on=EXPIRES)
    day = datetime.date(2025, 6, 1)

    assert not artist.has_valid_laser_certification(day)
    assert Certification.objects.valid_on(day).filter(artist=artist, kind=kind).exists()


def test_archived_certification_does_not_count(artist, laser_cert, manager_user):
    day = datetime.date(2025, 6, 1)
    assert artist.has_valid_laser_certification(day)

    laser_cert.archive(by=manager_user, reason="Entered for the wrong artist.")

    assert not artist.has_valid_laser_certification(day)
    assert not Certification.objects.valid_on(day).exists()


def test_archived_certification_is_not_valid_on_the_instance_either(artist, laser_cert, manager_user):
    """`is_valid_on` must agree with `valid_on`: an archived certificate proves nothing.

    Fails until Certification.is_valid_on also checks `archived_at is None`.
    """
    laser_cert.archive(by=manager_user, reason="Entered for the wrong artist.")
    assert not laser_cert.is_valid_on(datetime.date(2025, 6, 1))


def test_another_artists_certification_does_not_count(artist, laser_cert):
    other = factories.ArtistFactory()
    day = datetime.date(2025, 6, 1)
    assert not other.has_valid_laser_certification(day)
    assert artist.has_valid_laser_certification(day)


def test_renewed_certification_continues_cover(artist, laser_cert):
    factories.CertificationFactory(artist=artist, issued_on=EXPIRES, expires_on=datetime.date(2027, 1, 1))
    assert artist.has_valid_laser_certification(EXPIRES + DAY)


def test_expiring_within(artist, laser_cert):
    assert list(Certification.objects.expiring_within(EXPIRES - 30 * DAY, 30)) == [laser_cert]
    assert list(Certification.objects.expiring_within(EXPIRES, 0)) == [laser_cert]
    assert not Certification.objects.expiring_within(EXPIRES - 31 * DAY, 30).exists()
    assert not Certification.objects.expiring_within(EXPIRES + DAY, 30).exists()  # already expired


def test_expired_on(artist, laser_cert):
    assert not Certification.objects.expired_on(EXPIRES).exists()
    assert list(Certification.objects.expired_on(EXPIRES + DAY)) == [laser_cert]


def test_archived_certification_is_neither_expiring_nor_expired(artist, laser_cert, manager_user):
    laser_cert.archive(by=manager_user, reason="Replaced.")
    assert not Certification.objects.expiring_within(EXPIRES - DAY, 30).exists()
    assert not Certification.objects.expired_on(EXPIRES + DAY).exists()


def test_technician_factory_is_certified_today(db):
    technician = factories.TechnicianFactory()
    assert technician.has_valid_laser_certification(factories.TODAY)
