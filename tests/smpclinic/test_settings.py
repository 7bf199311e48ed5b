"""The clinic's settings record: one row, the domain's defaults."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from smpclinic.models import ClinicSettings


def test_load_creates_the_row_with_domain_defaults(db):
    assert not ClinicSettings.objects.exists()

    clinic = ClinicSettings.load()

    assert clinic.pk == 1
    assert clinic.min_laser_interval_weeks == 6
    assert clinic.isotretinoin_washout_months == 6
    assert clinic.reminder_lead_days == 2
    assert clinic.time_zone == "Europe/London"
    assert ClinicSettings.objects.count() == 1
    clinic.full_clean()


def test_load_returns_the_saved_row(db):
    clinic = ClinicSettings.load()
    clinic.name = "Leeds SMP Correction"
    clinic.isotretinoin_washout_months = 12
    clinic.save()

    again = ClinicSettings.load()

    assert (again.pk, again.name, again.isotretinoin_washout_months) == (1, "Leeds SMP Correction", 12)
    assert ClinicSettings.objects.count() == 1


def test_a_second_instance_overwrites_the_one_row(db):
    ClinicSettings.load()

    other = ClinicSettings(name="Another clinic", reminder_lead_days=5)
    other.save()

    assert other.pk == 1
    assert ClinicSettings.objects.count() == 1
    row = ClinicSettings.objects.get()
    assert (row.name, row.reminder_lead_days) == ("Another clinic", 5)


def test_an_instance_with_another_pk_is_saved_as_row_one(db):
    ClinicSettings(pk=7, name="Seven").save()
    assert list(ClinicSettings.objects.values_list("pk", "name")) == [(1, "Seven")]


@pytest.mark.parametrize("zone", ["Europe/Lundon", "GMT+25", "", "europe/london"])
def test_unknown_time_zone_is_refused(db, zone):
    clinic = ClinicSettings.load()
    clinic.time_zone = zone

    with pytest.raises(ValidationError) as caught:
        clinic.full_clean()

    [message] = caught.value.message_dict["time_zone"]
    assert "time zone" in message or "blank" in message


@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York", "Australia/Sydney", "UTC"])
def test_known_time_zone_is_accepted(db, zone):
    clinic = ClinicSettings.load()
    clinic.time_zone = zone
    clinic.full_clean()


@pytest.mark.parametrize("model", ["smpclinic.ClinicSettings", "artists.Studio"])
def test_a_website_typed_without_a_scheme_is_read_as_https(model):
    from django.apps import apps

    field = apps.get_model(model)._meta.get_field("website").formfield()
    assert field.clean("clinic.example") == "https://clinic.example"
    assert field.clean("http://old.example") == "http://old.example"  # a scheme given is kept
