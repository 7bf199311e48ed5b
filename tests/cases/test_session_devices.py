"""A session's laser type, wavelength and pulse domain agree with its device: the form
offers each device's values to static/js/laser_device.js, the server fills what was left
empty, and the model (so the service and the admin) refuses a contradiction, naming both."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cases.choices import LaserType, PulseDomain, SessionStatus, Zone
from cases.models import LaserDevice, LaserSession, ZoneLookup
from cases.services.sessions import laser_session_save
from tests import factories
from tests.helpers import frozen_at

NOW = datetime.datetime(2026, 11, 25, 17, 0, tzinfo=datetime.UTC)  # 17:00 in London
CONTRADICTION = (
    "Pico room 2 is a picosecond alexandrite laser (755 nm); this session records Q-switched Nd:YAG 1064 nm."
)


frozen_clock = frozen_at(NOW)


@pytest.fixture
def case(db):
    case = factories.CaseFactory()
    factories.ConsentFactory(client=case.client)
    return case


@pytest.fixture
def technician(db):
    return factories.TechnicianFactory()


@pytest.fixture
def pico_alex(db):
    return factories.LaserDeviceFactory(name="Pico room 2", laser_type=LaserType.PICO_ALEXANDRITE, wavelengths="755")


@pytest.fixture
def pico_yag(db):
    return factories.LaserDeviceFactory(name="Pico room 1", laser_type=LaserType.PICO_ND_YAG, wavelengths="532, 1064")


def zones() -> list[ZoneLookup]:
    return list(ZoneLookup.objects.filter(code=Zone.FRONTAL_HAIRLINE))


def session(case, technician, device, **fields) -> LaserSession:
    values = {
        "case": case,
        "technician": technician,
        "device": device,
        "scheduled_at": NOW - datetime.timedelta(hours=2),
        "status": SessionStatus.COMPLETED,
        "laser_type": LaserType.QS_ND_YAG,
        "wavelength_nm": 1064,
        "fluence_j_cm2": Decimal("3.00"),
        "spot_size_mm": Decimal("4.0"),
        "passes": 1,
    }
    return LaserSession(**{**values, **fields})


def refusal(case, technician, device, staff_user, **fields) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        laser_session_save(session=session(case, technician, device, **fields), zones=zones(), by=staff_user)
    assert not LaserSession.objects.exists()
    return caught.value.message_dict


def test_the_service_refuses_a_laser_type_the_device_is_not(case, technician, pico_alex, staff_user):
    errors = refusal(case, technician, pico_alex, staff_user)
    assert errors["device"] == [CONTRADICTION]


def test_the_service_refuses_a_wavelength_the_device_does_not_have(case, technician, pico_yag, staff_user):
    errors = refusal(case, technician, pico_yag, staff_user, laser_type=LaserType.PICO_ND_YAG, wavelength_nm=755)
    assert errors["device"] == [
        "Pico room 1 is a picosecond Nd:YAG laser (532, 1064 nm); this session records Picosecond Nd:YAG 755 nm."
    ]


def test_a_device_that_lists_no_wavelengths_is_judged_on_its_type_only(case, technician, staff_user):
    device = factories.LaserDeviceFactory(name="Loan laser", laser_type=LaserType.QS_ND_YAG, wavelengths="")
    laser_session_save(session=session(case, technician, device, wavelength_nm=532), zones=zones(), by=staff_user)
    assert LaserSession.objects.get().wavelength_nm == 532


def test_an_agreeing_session_is_saved(case, technician, pico_yag, staff_user):
    saved = laser_session_save(
        session=session(case, technician, pico_yag, laser_type=LaserType.PICO_ND_YAG, wavelength_nm=532),
        zones=zones(),
        by=staff_user,
    )
    assert saved.session.pulse_domain == PulseDomain.PICOSECOND  # filled from the laser type


def test_the_model_refuses_it_for_the_admin_too(case, technician, pico_alex):
    with pytest.raises(ValidationError) as caught:
        session(case, technician, pico_alex).full_clean()
    assert caught.value.message_dict["device"] == [CONTRADICTION]


def test_a_pulse_domain_that_contradicts_the_laser_type_is_refused(case, technician, pico_yag, staff_user):
    errors = refusal(
        case,
        technician,
        pico_yag,
        staff_user,
        laser_type=LaserType.PICO_ND_YAG,
        pulse_domain=PulseDomain.NANOSECOND,
    )
    assert errors["pulse_domain"] == [
        "Picosecond Nd:YAG lasers pulse in picoseconds: choose “Picoseconds” as the pulse domain."
    ]


def test_without_javascript_the_server_fills_the_type_and_pulse_domain_from_the_device(
    case, technician, pico_alex, staff_user
):
    saved = laser_session_save(
        session=session(case, technician, pico_alex, laser_type="", pulse_domain="", wavelength_nm=755),
        zones=zones(),
        by=staff_user,
    )
    stored = LaserSession.objects.get(pk=saved.session.pk)
    assert (stored.laser_type, stored.pulse_domain) == (LaserType.PICO_ALEXANDRITE, PulseDomain.PICOSECOND)


def test_a_devices_wavelengths_must_be_a_list_of_nm(db):
    device = LaserDevice(name="New laser", laser_type=LaserType.QS_RUBY, wavelengths="694")
    device.full_clean()
    assert device.wavelength_list == [694]
    for wrong in ("about 1064", "1064, 2000"):
        device.wavelengths = wrong
        with pytest.raises(ValidationError) as caught:
            device.full_clean()
        assert "List the device's wavelengths in nm" in caught.value.message_dict["wavelengths"][0]
    device.wavelengths = "532 nm / 1064 nm"
    assert device.wavelength_list == [532, 1064]


# --- the page ----------------------------------------------------------------------------------------------


def test_the_device_options_carry_their_values_for_the_script(as_staff, case, pico_alex, pico_yag):
    html = as_staff.get(reverse("cases:laser_session_create", kwargs={"case_id": case.public_id})).content.decode()
    select = re.search(r'<select name="device".*?</select>', html, re.S).group(0)
    assert "data-laser-device" in select
    option = re.search(rf'<option value="{pico_alex.pk}"[^>]*>', select).group(0)
    assert 'data-laser-type="pico_alexandrite"' in option
    assert 'data-wavelengths="755"' in option and 'data-pulse-domain="ps"' in option
    option = re.search(rf'<option value="{pico_yag.pk}"[^>]*>', select).group(0)
    assert 'data-wavelengths="532,1064"' in option
    # The script is a file (strict CSP: no inline script), loaded after the form.
    assert re.search(r'<script src="/static/js/laser_device\.js" defer></script>', html)
    assert html.index('name="device"') < html.index("laser_device.js")
    assert "<script>" not in html


def test_the_form_shows_the_contradiction_under_the_device(as_staff, case, technician, pico_alex):
    data = {
        "scheduled_at": "2026-11-25T10:30",
        "status": "completed",
        "technician": technician.pk,
        "device": pico_alex.pk,
        "laser_type": LaserType.QS_ND_YAG,
        "wavelength_choice": "1064",
        "spot_size_mm": "4",
        "fluence_j_cm2": "3.5",
        "passes": "1",
        "zones": [zones()[0].pk],
    }
    response = as_staff.post(reverse("cases:laser_session_create", kwargs={"case_id": case.public_id}), data)
    assert response.status_code == 200
    assert response.context["form"].errors["device"] == [CONTRADICTION]
    assert not LaserSession.objects.exists()
