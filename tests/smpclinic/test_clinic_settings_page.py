"""The clinic's Settings page: managers change the clinic's details and rule values in the
app, every change is kept with who made it, and a stale form overwrites nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from smpclinic.models import ClinicSettings
from tests import factories
from tests.formdata import form_data
from tests.signin import signed_in

URL = reverse("clinic_settings")


def page_form(http, **changes):
    response = http.get(URL)
    assert response.status_code == 200
    return form_data(response.content, **changes)


def test_a_manager_changes_a_rule_value_and_the_clinic_uses_it_at_once(as_manager, manager_user):
    data = page_form(as_manager, min_laser_interval_weeks="8", plan_approval_four_eyes=[])

    response = as_manager.post(URL, data, follow=True)

    assert response.redirect_chain == [(URL, 302)]
    assert "The clinic settings are saved." in response.content.decode()
    stored = ClinicSettings.load()
    assert stored.min_laser_interval_weeks == 8
    assert stored.plan_approval_four_eyes is False
    assert ClinicSettings.cached().min_laser_interval_weeks == 8  # no wait for the cache
    latest = ClinicSettings.history.latest("history_date")
    assert latest.history_user == manager_user


def test_the_page_says_who_changed_which_value(as_manager, manager_user):
    as_manager.post(URL, page_form(as_manager, plan_approval_four_eyes=[]))
    html = as_manager.get(URL).content.decode()

    recent = html.split("Recent changes", 1)[1]
    assert manager_user.get_full_name() in recent
    assert "A plan is approved by a manager other than the one who submitted it" in recent
    assert "Minimum weeks between laser sessions" not in recent  # unchanged values are not listed


def test_saving_an_unchanged_address_as_a_browser_sends_it_changes_nothing(as_manager):
    stored = ClinicSettings.load()
    stored.address = "14 Northbridge Street\nLeeds LS1 6NB"
    stored.save()
    data = page_form(as_manager, address="14 Northbridge Street\r\nLeeds LS1 6NB", phone="0113 496 0001")

    as_manager.post(URL, data)

    latest, before = ClinicSettings.history.order_by("-history_date", "-history_id")[:2]
    assert latest.diff_against(before).changed_fields == ["phone"]
    assert ClinicSettings.load().address == "14 Northbridge Street\nLeeds LS1 6NB"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("currency", "12", "Three letters"),
        ("time_zone", "Mars/Olympus_Mons", "time zone"),
        ("min_laser_interval_weeks", "0", "greater than or equal to 1"),
        ("reminder_lead_days", "15", "less than or equal to 14"),
        ("name", "", "required"),
    ],
)
def test_a_bad_value_is_shown_on_its_field_and_nothing_is_saved(as_manager, field, value, message):
    before = ClinicSettings.load()

    response = as_manager.post(URL, page_form(as_manager, **{field: value}))

    assert response.status_code == 200
    assert message.lower() in str(response.context["form"].errors[field]).lower()
    after = ClinicSettings.load()
    assert (after.lock_version, getattr(after, field)) == (before.lock_version, getattr(before, field))


def test_a_form_opened_before_someone_elses_save_is_refused_and_shows_their_change(as_manager):
    stale = page_form(as_manager, reminder_lead_days="3")
    other = signed_in(factories.ManagerUserFactory(username="other-manager"))
    other.post(URL, page_form(other, min_laser_interval_weeks="10"))

    response = as_manager.post(URL, stale)

    assert response.status_code == 200
    errors = " ".join(response.context["form"].non_field_errors())
    assert "min" in errors.lower() or "changed" in errors.lower()
    stored = ClinicSettings.load()
    assert stored.min_laser_interval_weeks == 10  # the other manager's change is kept
    assert stored.reminder_lead_days == 2  # and this one is not saved blind
    # The form comes back with their value, so saving again keeps both.
    assert response.context["form"]["min_laser_interval_weeks"].value() in (10, "10")


def test_staff_cannot_post_the_settings(as_staff):
    """(That staff cannot open the page is tests/test_url_permissions.py's walk.)"""
    assert as_staff.post(URL, {"name": "Taken over"}).status_code == 403
    assert ClinicSettings.load().name != "Taken over"


def test_the_menu_shows_settings_to_whoever_may_change_them(as_manager, as_staff):
    assert f'href="{URL}"' in as_manager.get(reverse("cases:home")).content.decode()
    assert f'href="{URL}"' not in as_staff.get(reverse("cases:home")).content.decode()


def test_one_person_given_the_right_may_change_settings_without_being_a_manager(db):
    coordinator = factories.StaffUserFactory(username="coordinator")
    coordinator.user_permissions.add(Permission.objects.get(codename="change_clinicsettings"))
    http = signed_in(coordinator)

    http.post(URL, page_form(http, phone="0113 496 0000"))

    assert ClinicSettings.load().phone == "0113 496 0000"


@pytest.mark.parametrize("changes", [1, 12])
def test_the_page_reads_a_fixed_number_of_queries_however_long_the_history(
    as_manager, changes, django_assert_max_num_queries
):
    for weeks in range(changes):
        stored = ClinicSettings.load()
        stored.min_laser_interval_weeks = 6 + weeks % 3
        stored.save()
    with django_assert_max_num_queries(14):
        assert as_manager.get(URL).status_code == 200


def test_the_number_inputs_offer_the_range_the_clinic_record_accepts(as_manager):
    """A diary length of 0 minutes is refused on saving: the input says so before, too."""
    import re

    html = as_manager.get(URL).content.decode()

    def input_of(name: str) -> str:
        return re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)

    assert 'min="5"' in input_of("laser_minutes") and 'max="600"' in input_of("laser_minutes")
    assert 'min="5"' in input_of("idle_logout_minutes") and 'max="480"' in input_of("idle_logout_minutes")
    assert 'min="0"' in input_of("laser_check_days") and 'max="60"' in input_of("laser_check_days")
