"""Nothing silently lost on sessions: a stale edit form is refused with what the other
person changed (and saving again keeps both), and a new session form saves once however
often or however fast it is posted.

The threaded tests commit (transaction=True): each thread has its own connection. On
PostgreSQL they race for real; SQLite's IMMEDIATE transactions take the writers one at a
time, and the same outcome must hold.
"""

from __future__ import annotations

import datetime

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from cases.choices import AdverseEventChoice, CorrectionKind, SessionStatus, Zone
from cases.models import AdverseEventKind, CorrectionSession, FollowUp, LaserSession, ZoneLookup
from cases.services.sessions import laser_session_save
from smpclinic.concurrency import StaleEdit
from tests import factories
from tests.formdata import form_data
from tests.helpers import frozen_at, messages_of
from tests.signin import signed_in
from tests.threads import race

# A stale form names what changed since it was opened, read from the record's history.
pytestmark = pytest.mark.history

NOW = datetime.datetime(2026, 11, 25, 17, 0, tzinfo=datetime.UTC)  # 17:00 in London


frozen_clock = frozen_at(NOW)


@pytest.fixture
def case(db):
    case = factories.CaseFactory()
    factories.ConsentFactory(client=case.client)
    return case


def laser_edit_url(session) -> str:
    return reverse("cases:laser_session_edit", kwargs={"session_id": session.public_id})


def errors_of(response) -> str:
    return " ".join(response.context["form"].non_field_errors())


def as_posted(form) -> dict[str, list[str]]:
    """A re-shown form's data, every value of every field, as the browser posts it again."""
    return dict(form.data.lists())


# --- stale edit forms, through the pages -----------------------------------------------------------------


def test_a_stale_laser_form_cannot_remove_an_adverse_event(as_staff, as_manager, case):
    session = factories.LaserSessionFactory(case=case, scheduled_at=NOW - datetime.timedelta(days=3))
    url = laser_edit_url(session)
    copy_a = form_data(as_staff.get(url).content)
    copy_b = form_data(as_manager.get(url).content)
    assert copy_a["lock_version"] == copy_b["lock_version"] == "1"
    assert "adverse_events" not in copy_a
    blistering = AdverseEventKind.objects.get(code=AdverseEventChoice.BLISTERING)

    assert as_staff.post(url, {**copy_a, "adverse_events": [str(blistering.pk)]}).status_code == 302
    response = as_manager.post(url, {**copy_b, "internal_notes": "Numbing cream helped."})

    assert response.status_code == 200
    refused = errors_of(response)
    assert "after you opened this form, so nothing was saved" in refused
    assert "Adverse events: (none) → Blistering" in refused
    session.refresh_from_db()
    assert list(session.adverse_events.all()) == [blistering]
    assert session.internal_notes == ""

    # The form now holds their adverse event and the manager's note: saving again keeps both.
    again = as_manager.post(url, as_posted(response.context["form"]))
    assert again.status_code == 302
    session.refresh_from_db()
    assert list(session.adverse_events.all()) == [blistering]
    assert session.internal_notes == "Numbing cream helped."
    assert session.lock_version == 3


def test_a_stale_correction_form_is_refused_and_both_changes_kept(as_staff, as_manager, case):
    session = factories.CorrectionSessionFactory(case=case, scheduled_at=NOW - datetime.timedelta(days=2))
    url = reverse("cases:correction_session_edit", kwargs={"session_id": session.public_id})
    copy_a = form_data(as_staff.get(url).content)
    copy_b = form_data(as_manager.get(url).content)

    assert as_staff.post(url, {**copy_a, "needle": "5RS"}).status_code == 302
    response = as_manager.post(url, {**copy_b, "pigment": "Warm grey 20%"})

    assert response.status_code == 200
    assert "Needle (configuration, size): 3RL 0.25 mm → 5RS" in errors_of(response)
    session.refresh_from_db()
    assert (session.needle, session.pigment) == ("5RS", "Carbon black, 30% dilution")
    assert as_manager.post(url, as_posted(response.context["form"])).status_code == 302
    session.refresh_from_db()
    assert (session.needle, session.pigment) == ("5RS", "Warm grey 20%")


def test_an_edit_without_the_version_it_was_opened_on_is_refused(as_staff, case):
    session = factories.LaserSessionFactory(case=case, scheduled_at=NOW - datetime.timedelta(days=3))
    data = form_data(as_staff.get(laser_edit_url(session)).content, internal_notes="Blind save", lock_version=None)
    response = as_staff.post(laser_edit_url(session), data)
    assert response.status_code == 200
    session.refresh_from_db()
    assert session.internal_notes == ""


# --- two saves at once -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_stale_copies_saved_at_once_one_wins_and_nothing_is_lost(staff_user):
    case = factories.CaseFactory()
    factories.ConsentFactory(client=case.client)
    session = factories.LaserSessionFactory(case=case, scheduled_at=NOW - datetime.timedelta(days=3))
    zones = list(ZoneLookup.objects.filter(code=Zone.FRONTAL_HAIRLINE))
    blistering = AdverseEventKind.objects.get(code=AdverseEventChoice.BLISTERING)
    copies = [LaserSession.objects.get(pk=session.pk) for _ in range(2)]  # both opened on version 1
    copies[1].internal_notes = "Numbing cream helped."

    results, errors = race(
        lambda: laser_session_save(session=copies[0], zones=zones, adverse_events=[blistering], by=staff_user),
        lambda: laser_session_save(session=copies[1], zones=zones, adverse_events=[], by=staff_user),
    )

    assert len(results) == 1, errors
    assert len(errors) == 1 and isinstance(errors[0], StaleEdit)
    session.refresh_from_db()
    assert session.lock_version == 2
    # The loser is told what the winner changed; the winner's change is all that is stored.
    if session.internal_notes:
        assert "Internal notes: (empty) → Numbing cream helped." in errors[0].messages[0]
        assert not session.adverse_events.exists()
    else:
        assert "Adverse events: (none) → Blistering" in errors[0].messages[0]
        assert list(session.adverse_events.all()) == [blistering]


# --- double submit ----------------------------------------------------------------------------------------


def test_posting_the_same_new_laser_session_twice_saves_it_once(as_staff, case):
    technician = factories.TechnicianFactory()
    url = reverse("cases:laser_session_create", kwargs={"case_id": case.public_id})
    data = form_data(
        as_staff.get(url).content,
        technician=str(technician.pk),
        scheduled_at="2026-12-10T10:00",
        zones=[str(ZoneLookup.objects.get(code=Zone.CROWN).pk)],
    )
    assert data["submission_token"] and data["status"] == SessionStatus.SCHEDULED

    first = as_staff.post(url, data, follow=True)
    second = as_staff.post(url, data, follow=True)

    assert LaserSession.objects.filter(case=case).count() == 1
    assert "Laser session booked." in messages_of(first)
    assert messages_of(second) == ["This laser session was already saved."]
    assert second.redirect_chain == first.redirect_chain
    assert form_data(as_staff.get(url).content)["submission_token"] != data["submission_token"]


def test_posting_the_same_new_correction_session_twice_saves_it_once(as_staff, case):
    artist = factories.ArtistFactory()
    url = reverse("cases:correction_session_create", kwargs={"case_id": case.public_id})
    data = form_data(
        as_staff.get(url).content,
        kind=CorrectionKind.SMP_CORRECTION,
        artist=str(artist.pk),
        status="completed",
        scheduled_at="2026-11-25T10:00",
        zones=[str(ZoneLookup.objects.get(code=Zone.CROWN).pk)],
    )
    as_staff.post(url, data)
    second = as_staff.post(url, data, follow=True)
    assert CorrectionSession.objects.filter(case=case).count() == 1
    assert FollowUp.objects.filter(case=case).count() == 1  # and one healing check
    assert messages_of(second)[-1] == "This correction session was already saved."


def test_an_edit_form_carries_no_submission_token(as_staff, case):
    session = factories.LaserSessionFactory(case=case)
    assert "submission_token" not in form_data(as_staff.get(laser_edit_url(session)).content)


@pytest.mark.django_db(transaction=True)
def test_parallel_posts_of_one_new_laser_session_form_save_one(staff_user):
    case = factories.CaseFactory()
    factories.ConsentFactory(client=case.client)
    technician = factories.TechnicianFactory()
    url = reverse("cases:laser_session_create", kwargs={"case_id": case.public_id})
    browsers = [HttpClient() for _ in range(4)]
    for browser in browsers:
        signed_in(staff_user, browser)
    data = form_data(
        browsers[0].get(url).content,
        technician=str(technician.pk),
        scheduled_at="2026-12-10T10:00",
        zones=[str(ZoneLookup.objects.get(code=Zone.CROWN).pk)],
    )

    results, errors = race(*[lambda b=b: b.post(url, data).status_code for b in browsers])

    assert errors == []
    assert results == [302] * 4
    assert LaserSession.objects.filter(case=case).count() == 1
