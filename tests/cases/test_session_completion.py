"""A session is completed or not attended only once its time has passed, in the clinic's
time zone; the model and the service refuse it, the form shows their message. A session
that did not take place is judged by no rule, and the next laser form copies its settings
only from a completed session in the past."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cases.choices import CorrectionKind, SessionStatus, Zone
from cases.forms.sessions import CorrectionSessionForm, LaserSessionForm
from cases.models import CorrectionSession, FollowUp, LaserSession, RuleOverride, ZoneLookup
from cases.services.sessions import correction_session_save, laser_session_save
from smpclinic.forms import DateTimeInput
from smpclinic.models import ClinicSettings
from tests import factories
from tests.helpers import frozen_at

NOW = datetime.datetime(2026, 11, 25, 17, 0, tzinfo=datetime.UTC)  # 17:00 in London
REFUSED = "only once its time has passed"


frozen_clock = frozen_at(NOW)


def hours(n: float) -> datetime.datetime:
    return NOW + datetime.timedelta(hours=n)


@pytest.fixture
def case(db):
    case = factories.CaseFactory()
    factories.ConsentFactory(client=case.client)
    return case


@pytest.fixture
def technician(db):
    return factories.TechnicianFactory()


def zones(code: str = Zone.FRONTAL_HAIRLINE) -> list[ZoneLookup]:
    return list(ZoneLookup.objects.filter(code=code))


def laser(case, technician, when, status=SessionStatus.COMPLETED, **fields) -> LaserSession:
    values = {
        "case": case,
        "technician": technician,
        "scheduled_at": when,
        "status": status,
        "wavelength_nm": 1064,
        "fluence_j_cm2": Decimal("3.00"),
        "spot_size_mm": Decimal("4.0"),
        "passes": 1,
    }
    return LaserSession(**{**values, **fields})


def use_time_zone(name: str) -> None:
    clinic = ClinicSettings.load()
    clinic.time_zone = name
    clinic.save()


def laser_post(technician, **changes) -> dict:
    data = {
        "scheduled_at": "2026-11-25T16:30",
        "status": "completed",
        "technician": technician.pk,
        "wavelength_choice": "1064",
        "spot_size_mm": "4",
        "fluence_j_cm2": "3.5",
        "passes": "1",
        "zones": [zones()[0].pk],
    }
    return {**data, **changes}


# --- the model and the service refuse it ----------------------------------------------------------


@pytest.mark.parametrize("status", [SessionStatus.COMPLETED, SessionStatus.NOT_ATTENDED])
def test_the_laser_service_refuses_a_session_that_has_not_happened_yet(case, technician, staff_user, status):
    with pytest.raises(ValidationError) as caught:
        laser_session_save(session=laser(case, technician, hours(1), status), zones=zones(), by=staff_user)
    label = SessionStatus(status).label.lower()
    assert caught.value.message_dict["status"] == [
        f"A session can be recorded as {label} only once its time has passed: this one is on 25 Nov 2026 at 18:00. "
        "Keep it scheduled until then."
    ]
    assert not LaserSession.objects.exists()


@pytest.mark.parametrize("status", [SessionStatus.COMPLETED, SessionStatus.NOT_ATTENDED])
def test_the_correction_service_refuses_it_too(case, staff_user, status):
    session = CorrectionSession(
        case=case,
        kind=CorrectionKind.SMP_CORRECTION,
        artist=factories.ArtistFactory(),
        scheduled_at=hours(24),
        status=status,
    )
    with pytest.raises(ValidationError, match=REFUSED):
        correction_session_save(session=session, zones=zones(), by=staff_user)
    assert not CorrectionSession.objects.exists()


def test_the_model_refuses_it_whoever_saves_it(case, technician):
    """full_clean() is what the admin and every service run: the rule is on the model."""
    with pytest.raises(ValidationError) as caught:
        laser(case, technician, hours(0.5)).full_clean()
    assert REFUSED in caught.value.message_dict["status"][0]
    laser(case, technician, hours(-0.5)).full_clean()
    laser(case, technician, hours(5), SessionStatus.SCHEDULED).full_clean()


def test_a_session_whose_time_has_come_can_be_completed(case, technician, staff_user):
    saved = laser_session_save(session=laser(case, technician, NOW), zones=zones(), by=staff_user)
    assert saved.session.status == SessionStatus.COMPLETED


def test_moving_a_completed_session_into_the_future_is_refused(case, technician, staff_user):
    session = laser_session_save(session=laser(case, technician, hours(-3)), zones=zones(), by=staff_user).session
    session.scheduled_at = hours(48)
    with pytest.raises(ValidationError, match=REFUSED):
        laser_session_save(session=session, zones=zones(), by=staff_user)
    session.refresh_from_db()
    assert session.scheduled_at == hours(-3)


# --- the clinic's time zone -----------------------------------------------------------------------------


def test_the_form_reads_the_time_in_the_clinics_zone(as_staff, case, technician):
    """17:00 in London is 06:00 the next morning in Auckland: 05:30 there has passed,
    06:30 has not, whatever the server's own zone."""
    use_time_zone("Pacific/Auckland")
    url = reverse("cases:laser_session_create", kwargs={"case_id": case.public_id})
    response = as_staff.post(url, laser_post(technician, scheduled_at="2026-11-26T06:30"))
    assert response.status_code == 200
    assert response.context["form"].errors["status"] == [
        "A session can be recorded as completed only once its time has passed: this one is on 26 Nov 2026 at "
        "06:30. Keep it scheduled until then."
    ]
    assert not LaserSession.objects.exists()
    response = as_staff.post(url, laser_post(technician, scheduled_at="2026-11-26T05:30"))
    assert response.status_code == 302
    assert LaserSession.objects.get().scheduled_at == datetime.datetime(2026, 11, 25, 16, 30, tzinfo=datetime.UTC)


def test_the_service_names_the_time_in_the_clinics_zone_outside_a_request(case, technician, staff_user):
    use_time_zone("Asia/Tokyo")
    assert timezone.get_current_timezone_name() == "Europe/London"  # no request: the server's zone
    with pytest.raises(ValidationError) as caught:
        laser_session_save(session=laser(case, technician, hours(2)), zones=zones(), by=staff_user)
    assert "this one is on 26 Nov 2026 at 04:00" in caught.value.message_dict["status"][0]


# --- through the pages -----------------------------------------------------------------------------------


def test_the_form_shows_the_models_message_under_status(as_staff, case, technician):
    url = reverse("cases:laser_session_create", kwargs={"case_id": case.public_id})
    response = as_staff.post(url, laser_post(technician, scheduled_at="2026-11-26T10:00"))
    assert response.status_code == 200
    assert REFUSED in response.context["form"].errors["status"][0]
    assert not LaserSession.objects.exists()


def test_a_booked_session_is_marked_not_attended_once_its_time_has_passed(as_staff, case, technician):
    session = factories.LaserSessionFactory(
        case=case, technician=technician, status=SessionStatus.SCHEDULED, scheduled_at=hours(-26)
    )
    form = as_staff.get(reverse("cases:laser_session_edit", kwargs={"session_id": session.public_id})).context["form"]
    assert (SessionStatus.NOT_ATTENDED, "Not attended") in form.fields["status"].choices
    data = {
        **laser_post(technician, status="not_attended", scheduled_at="2026-11-24T15:00", wavelength_choice=""),
        "lock_version": session.lock_version,
    }
    response = as_staff.post(reverse("cases:laser_session_edit", kwargs={"session_id": session.public_id}), data)
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.NOT_ATTENDED
    assert not FollowUp.objects.exists()  # nothing to check after a session that did not happen


def test_a_future_booking_cannot_be_marked_not_attended(as_staff, case, technician):
    session = factories.LaserSessionFactory(
        case=case, technician=technician, status=SessionStatus.SCHEDULED, scheduled_at=hours(20)
    )
    url = reverse("cases:laser_session_edit", kwargs={"session_id": session.public_id})
    when = timezone.localtime(session.scheduled_at).strftime("%Y-%m-%dT%H:%M")
    data = {**laser_post(technician, status="not_attended", scheduled_at=when), "lock_version": session.lock_version}
    response = as_staff.post(url, data)
    assert response.status_code == 200
    assert "recorded as not attended only once its time has passed" in response.context["form"].errors["status"][0]
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED


def test_a_new_session_is_offered_scheduled_or_completed_only(case, staff_user):
    for form_class in (LaserSessionForm, CorrectionSessionForm):
        form = form_class(instance=form_class._meta.model(case=case), case=case, user=staff_user)
        assert [value for value, _ in form.fields["status"].choices] == ["scheduled", "completed"]


def test_every_session_form_uses_the_one_date_and_time_widget(case, staff_user):
    for form_class in (LaserSessionForm, CorrectionSessionForm):
        form = form_class(instance=form_class._meta.model(case=case), case=case, user=staff_user)
        assert type(form.fields["scheduled_at"].widget) is DateTimeInput


# --- sessions that did not take place are judged by no rule -------------------------------------------------


def test_marking_a_missed_session_is_not_judged_by_the_laser_rules(case, technician, staff_user):
    """The client's consent was withdrawn and an infection noted after the booking: the
    record of a missed appointment must still be writable, without an override."""
    session = factories.LaserSessionFactory(
        case=case, technician=technician, status=SessionStatus.SCHEDULED, scheduled_at=hours(-5)
    )
    case.client.consents.update(withdrawn_at=hours(-30))
    case.client.active_infection = True
    case.client.save()
    session.refresh_from_db()
    session.status = SessionStatus.NOT_ATTENDED
    laser_session_save(session=session, zones=zones(), by=staff_user)
    assert LaserSession.objects.get().status == SessionStatus.NOT_ATTENDED
    assert not RuleOverride.objects.exists()


def test_a_missed_session_does_not_count_for_the_interval(case, technician, staff_user):
    factories.LaserSessionFactory(case=case, status=SessionStatus.NOT_ATTENDED, scheduled_at=hours(-24 * 21))
    saved = laser_session_save(session=laser(case, technician, hours(-1)), zones=zones(), by=staff_user)
    assert saved.overrides == [] and LaserSession.objects.count() == 2


# --- the next form copies settings only from what took place -----------------------------------------------


def test_the_next_form_copies_the_latest_completed_session_in_the_past(as_staff, case):
    taken = factories.LaserSessionFactory(case=case, scheduled_at=hours(-24 * 50), fluence_j_cm2=Decimal("3.20"))
    # Rows written before the rule (or by hand): a "completed" one dated tomorrow, a
    # booking, a missed and a cancelled session, all later than the one that took place.
    factories.LaserSessionFactory(case=case, scheduled_at=hours(24), fluence_j_cm2=Decimal("9.90"))
    factories.LaserSessionFactory(case=case, scheduled_at=hours(-24 * 10), status=SessionStatus.NOT_ATTENDED)
    factories.LaserSessionFactory(case=case, scheduled_at=hours(-24 * 5), status=SessionStatus.SCHEDULED)
    factories.LaserSessionFactory(case=case, scheduled_at=hours(-24 * 3), status=SessionStatus.CANCELLED)
    response = as_staff.get(reverse("cases:laser_session_create", kwargs={"case_id": case.public_id}))
    assert response.context["previous"] == taken
    assert response.context["form"].initial["fluence_j_cm2"] == Decimal("3.20")
    assert f"copied from the session of {taken.scheduled_at.day} Oct 2026" in response.content.decode()


def test_nothing_is_copied_from_a_booking_alone(as_staff, case):
    factories.LaserSessionFactory(case=case, scheduled_at=hours(-24 * 5), status=SessionStatus.SCHEDULED)
    response = as_staff.get(reverse("cases:laser_session_create", kwargs={"case_id": case.public_id}))
    assert response.context["previous"] is None
    assert response.context["form"].initial.get("fluence_j_cm2") is None
    assert "copied from the session" not in response.content.decode()
