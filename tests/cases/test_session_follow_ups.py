"""Completing a session schedules its check: a post-laser check after a laser session, a
healing check after a correction session, the Clinic settings' number of days after the
session's day (in the clinic's time zone), assigned to the technician's or artist's login,
in the managers' review queue, and never twice for one session."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient
from django.urls import reverse

from cases.choices import CorrectionKind, FollowUpKind, FollowUpStatus, SessionStatus, Zone
from cases.models import CorrectionSession, FollowUp, LaserSession, ZoneLookup
from cases.services.sessions import correction_session_save, laser_session_save
from smpclinic.models import ClinicSettings
from tests import factories
from tests.helpers import frozen_at, messages_of
from tests.signin import signed_in

NOW = datetime.datetime(2026, 11, 25, 17, 0, tzinfo=datetime.UTC)  # 17:00 in London


frozen_clock = frozen_at(NOW)


@pytest.fixture
def case(db):
    case = factories.CaseFactory()
    factories.ConsentFactory(client=case.client)
    return case


@pytest.fixture
def technician(db):
    return factories.TechnicianFactory(first_name="Tess", last_name="Tech")


def zones() -> list[ZoneLookup]:
    return list(ZoneLookup.objects.filter(code=Zone.FRONTAL_HAIRLINE))


def settings(**values) -> None:
    clinic = ClinicSettings.load()
    for name, value in values.items():
        setattr(clinic, name, value)
    clinic.save()


def laser(case, technician, *, when=None, status=SessionStatus.COMPLETED) -> LaserSession:
    return LaserSession(
        case=case,
        technician=technician,
        scheduled_at=when or NOW - datetime.timedelta(hours=2),
        status=status,
        wavelength_nm=1064,
        fluence_j_cm2=Decimal("3.00"),
        spot_size_mm=Decimal("4.0"),
        passes=1,
    )


def correction(case, artist, *, status=SessionStatus.COMPLETED) -> CorrectionSession:
    return CorrectionSession(
        case=case,
        kind=CorrectionKind.SMP_CORRECTION,
        artist=artist,
        scheduled_at=NOW - datetime.timedelta(hours=3),
        status=status,
    )


def laser_post(technician, **changes) -> dict:
    data = {
        "scheduled_at": "2026-11-25T10:30",
        "status": "completed",
        "technician": technician.pk,
        "wavelength_choice": "1064",
        "spot_size_mm": "4",
        "fluence_j_cm2": "3.5",
        "passes": "1",
        "zones": [zones()[0].pk],
    }
    return {**data, **changes}


# --- laser: a post-laser check ---------------------------------------------------------------------------


def test_recording_a_completed_laser_session_schedules_a_post_laser_check(as_staff, case, technician):
    url = reverse("cases:laser_session_create", kwargs={"case_id": case.public_id})
    response = as_staff.post(url, laser_post(technician))
    assert response.status_code == 302
    session = LaserSession.objects.get()
    check = FollowUp.objects.get()
    assert (check.kind, check.status, check.case, check.laser_session) == (
        FollowUpKind.POST_LASER_CHECK,
        FollowUpStatus.SCHEDULED,
        case,
        session,
    )
    assert check.due_on == datetime.date(2026, 12, 9)  # 14 days, the default
    assert check.assignee == technician.user
    assert messages_of(response)[0] == "Laser session saved. Post-laser check scheduled for 9 Dec 2026."


def test_the_clinics_number_of_days_is_used(case, technician, staff_user):
    settings(laser_check_days=10)
    saved = laser_session_save(session=laser(case, technician), zones=zones(), by=staff_user)
    assert saved.follow_up.due_on == datetime.date(2026, 12, 5)
    assert FollowUp.objects.get() == saved.follow_up


def test_zero_days_schedules_none(case, technician, staff_user):
    settings(laser_check_days=0, correction_check_days=0)
    assert laser_session_save(session=laser(case, technician), zones=zones(), by=staff_user).follow_up is None
    artist = factories.ArtistFactory()
    assert correction_session_save(session=correction(case, artist), zones=zones(), by=staff_user).follow_up is None
    assert not FollowUp.objects.exists()


def test_a_booking_schedules_nothing_until_it_is_completed(as_staff, case, technician, staff_user):
    booked = laser(case, technician, when=NOW + datetime.timedelta(days=2), status=SessionStatus.SCHEDULED)
    session = laser_session_save(session=booked, zones=zones(), by=staff_user).session
    assert not FollowUp.objects.exists()
    with time_machine.travel(NOW + datetime.timedelta(days=3), tick=False):
        session.refresh_from_db()
        session.status = SessionStatus.COMPLETED
        saved = laser_session_save(session=session, zones=zones(), by=staff_user)
    assert saved.follow_up.due_on == datetime.date(2026, 12, 11)  # 27 Nov + 14
    assert FollowUp.objects.get().laser_session == session


def test_editing_or_completing_again_never_makes_a_second_check(as_staff, case, technician, staff_user):
    session = laser_session_save(session=laser(case, technician), zones=zones(), by=staff_user).session
    check = FollowUp.objects.get()
    url = reverse("cases:laser_session_edit", kwargs={"session_id": session.public_id})

    def post(**changes) -> str:
        session.refresh_from_db()
        data = laser_post(technician, scheduled_at="2026-11-25T15:00", lock_version=session.lock_version, **changes)
        response = as_staff.post(url, data, follow=True)  # follow: the page shows (and uses up) the messages
        assert response.redirect_chain, response.context["form"].errors
        return " ".join(str(m) for m in response.context["messages"])

    assert "check scheduled" not in post(internal_notes="Tolerated well.")
    check.status = FollowUpStatus.CANCELLED  # whatever became of it
    check.save()
    assert "check scheduled" not in post(status="scheduled", wavelength_choice="")
    again = post(status="completed")
    assert "Laser session updated." in again and "check scheduled" not in again
    assert FollowUp.objects.get() == check


def test_a_technician_without_a_login_leaves_it_unassigned(case, staff_user):
    no_login = factories.TechnicianFactory(user=None)
    saved = laser_session_save(session=laser(case, no_login), zones=zones(), by=staff_user)
    assert saved.follow_up.assignee is None


def test_due_from_the_sessions_day_in_the_clinics_time_zone(case, technician, staff_user):
    """20:00 on 25 Nov in London is 09:00 on 26 Nov in Auckland: the check is due 14 days
    after the 26th, even where no request activated the clinic's zone."""
    settings(time_zone="Pacific/Auckland")
    with time_machine.travel(NOW + datetime.timedelta(hours=4), tick=False):
        session = laser(case, technician, when=datetime.datetime(2026, 11, 25, 20, 0, tzinfo=datetime.UTC))
        saved = laser_session_save(session=session, zones=zones(), by=staff_user)
    assert saved.follow_up.due_on == datetime.date(2026, 12, 10)


def test_the_check_is_in_the_managers_review_queue(as_staff, manager_user, case, technician):
    url = reverse("cases:laser_session_create", kwargs={"case_id": case.public_id})
    assert as_staff.post(url, laser_post(technician)).status_code == 302
    with time_machine.travel(NOW + datetime.timedelta(days=10), tick=False):
        manager = HttpClient()
        signed_in(manager_user, manager)  # signed in that day (idle sessions end)
        html = manager.get(reverse("cases:review_queue")).content.decode()
    due_soon = re.search(r'<section id="due-soon".*?</section>', html, re.S).group(0)
    assert case.reference in due_soon and "Post-laser check" in due_soon


def test_the_check_is_saved_with_the_session_or_not_at_all(case, technician, staff_user):
    """One transaction: when the check cannot be scheduled (here: it would be due before
    the case opened), the session is not saved either."""
    before_opening = datetime.datetime.combine(case.opened_on, datetime.time(10), tzinfo=datetime.UTC)
    session = laser(case, technician, when=before_opening - datetime.timedelta(days=30))
    with pytest.raises(ValidationError):
        laser_session_save(session=session, zones=zones(), by=staff_user)
    assert not LaserSession.objects.exists() and not FollowUp.objects.exists()


# --- correction: a healing check -----------------------------------------------------------------------------


def test_a_completed_correction_session_schedules_a_healing_check(as_staff, case):
    artist = factories.ArtistFactory(user=factories.StaffUserFactory())
    settings(correction_check_days=7)
    data = {
        "kind": CorrectionKind.SALINE_REMOVAL,
        "scheduled_at": "2026-11-25T09:00",
        "status": "completed",
        "artist": artist.pk,
        "saline_solution": "20% NaCl",
        "zones": [zones()[0].pk],
    }
    response = as_staff.post(reverse("cases:correction_session_create", kwargs={"case_id": case.public_id}), data)
    assert response.status_code == 302
    check = FollowUp.objects.get()
    assert (check.kind, check.due_on, check.assignee) == (
        FollowUpKind.HEALING_CHECK,
        datetime.date(2026, 12, 2),
        artist.user,
    )
    assert check.correction_session == CorrectionSession.objects.get() and check.laser_session is None
    assert messages_of(response) == ["Correction session saved. Healing check scheduled for 2 Dec 2026."]


def test_a_booked_or_cancelled_correction_session_schedules_none(case, staff_user):
    artist = factories.ArtistFactory()
    session = correction(case, artist, status=SessionStatus.SCHEDULED)
    session = correction_session_save(session=session, zones=zones(), by=staff_user).session
    session.refresh_from_db()
    session.status = SessionStatus.CANCELLED
    correction_session_save(session=session, zones=zones(), by=staff_user)
    assert not FollowUp.objects.exists()
