"""Pages that keep the record true, used in a browser: choosing a laser device fills the
session's laser settings, a form opened before someone else's save is shown again with
both sets of changes instead of undoing theirs, and a missing zone is said where it is
seen."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases import choices
from cases.models import Client
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def test_choosing_a_device_fills_laser_type_pulse_and_wavelength(page, live_server, log_in, staff):
    case = factories.CaseFactory()
    factories.LaserDeviceFactory(name="Alex room", laser_type=choices.LaserType.PICO_ALEXANDRITE, wavelengths="755")
    factories.LaserDeviceFactory(name="QS room", laser_type=choices.LaserType.QS_ND_YAG, wavelengths="532, 1064")
    log_in(staff)
    page.goto(live_server.url + reverse("cases:laser_session_create", args=[case.public_id]))

    form = page.locator("form", has=page.locator("select[name=device]"))
    form.locator("select[name=device]").select_option(label="Alex room")
    assert form.locator("select[name=laser_type]").input_value() == choices.LaserType.PICO_ALEXANDRITE
    assert form.locator("select[name=pulse_domain]").input_value() == choices.PulseDomain.PICOSECOND
    assert form.locator("select[name=wavelength_choice]").input_value() == "755"

    form.locator("select[name=device]").select_option(label="QS room")
    assert form.locator("select[name=laser_type]").input_value() == choices.LaserType.QS_ND_YAG
    assert form.locator("select[name=pulse_domain]").input_value() == choices.PulseDomain.NANOSECOND
    assert form.locator("select[name=wavelength_choice]").input_value() == "1064"


@pytest.mark.history  # the form names what changed since it was opened, from the client's history
def test_a_stale_client_form_is_shown_again_with_both_changes(browser, live_server, log_in, staff):
    manager = factories.ManagerUserFactory(username="e2e-manager", first_name="Dana", last_name="Reed")
    client = factories.ClientFactory(active_infection=False, address="1 High Street")
    url = live_server.url + reverse("cases:client_edit", args=[client.public_id])
    staff_page = log_in(staff, at=browser.new_context().new_page())
    manager_page = log_in(manager, at=browser.new_context().new_page())
    staff_page.goto(url)
    manager_page.goto(url)  # opened before the staff member saves

    staff_page.get_by_label("Active infection", exact=False).check()
    staff_page.get_by_role("button", name="Save").click()
    staff_page.wait_for_load_state()

    manager_page.get_by_label("Address").fill("2 New Road")
    manager_page.get_by_role("button", name="Save").click()
    manager_page.wait_for_load_state()

    alert = manager_page.locator(".alert-danger, .alert-block")
    assert "Sam Staff saved this client" in alert.inner_text()
    assert "nothing was saved" in alert.inner_text()
    assert manager_page.get_by_label("Active infection", exact=False).is_checked()
    assert manager_page.get_by_label("Address").input_value() == "2 New Road"
    client.refresh_from_db()
    assert (client.active_infection, client.address) == (True, "1 High Street")

    manager_page.get_by_role("button", name="Save").click()
    manager_page.wait_for_load_state()
    client = Client.objects.get(pk=client.pk)
    assert (client.active_infection, client.address) == (True, "2 New Road")


def test_a_missing_zone_is_said_under_the_whole_group_of_zones(page, live_server, log_in, staff):
    """The zones sit in columns; their error is written in the group's last box, and the
    page's style puts it under all the columns rather than at the foot of the last one."""
    case = factories.CaseFactory()
    log_in(staff)
    page.goto(live_server.url + reverse("cases:laser_session_create", args=[case.public_id]))
    form = page.locator("form", has=page.locator("select[name=device]"))
    form.evaluate("form => { form.noValidate = true; }")  # the server's errors, not the browser's
    form.get_by_role("button", name="Save session").click()
    page.wait_for_load_state()

    group = page.locator("#div_id_zones fieldset > div")
    error = page.locator("#id_zones_error")
    assert error.is_visible(), page.locator("main").inner_text()[:800]
    group_box, error_box = group.bounding_box(), error.bounding_box()
    assert abs(error_box["x"] - group_box["x"]) < 2, (group_box, error_box)
    assert error_box["width"] > 0.9 * group_box["width"], (group_box, error_box)
    assert error_box["y"] >= max(label.bounding_box()["y"] for label in group.locator("label").all())
