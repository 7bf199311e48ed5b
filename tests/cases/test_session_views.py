"""Laser and correction session pages (staff): defaults, field errors, permissions, query caps.

The safety rules themselves are tested in test_laser_rules.py.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.choices import (
    AdverseEventChoice,
    CorrectionKind,
    PlanStepKind,
    SessionStatus,
    StepStatus,
    Zone,
)
from cases.models import AdverseEventKind, Booking, CorrectionSession, LaserSession, RuleOverride, ZoneLookup
from smpclinic.models import ClinicSettings, Room
from tests import factories
from tests.helpers import assert_queries_hold, frozen_at, messages_of, sql_of_get
from tests.signin import signed_in

NOW = datetime.datetime(2026, 11, 25, 17, 0, tzinfo=datetime.UTC)  # 17:00 in London: the day's sessions are past
TODAY = NOW.date()
# What each form page reads, in queries, middleware included (docs/performance.md, "The
# session forms"). The laser pages: the session (with its zones, adverse events, booking
# and technician, on an edit) or the case, the previous session (new) or the recorded
# overrides (edit), the plan steps with their zones, every other select's options in one
# query, the clinic's rules, three rule facts in one query, the zone interval, the history.
QUERY_CAP = {"laser_create": 11, "laser_edit": 11, "correction_create": 6, "correction_edit": 7}
NO_PLAN = "This case has no agreed treatment plan: laser work is normally done under an approved, accepted plan."


frozen_clock = frozen_at(NOW)


def at(days: int, hour: int = 12) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(TODAY + datetime.timedelta(days=days), datetime.time(hour)))


def zone_pk(code: str = Zone.FRONTAL_HAIRLINE) -> int:
    return ZoneLookup.objects.get(code=code).pk


@pytest.fixture
def case(db):
    case = factories.CaseFactory()
    factories.ConsentFactory(client=case.client)
    return case


@pytest.fixture
def technician(db):
    return factories.TechnicianFactory(first_name="Tess", last_name="Tech")


def laser_create_url(case) -> str:
    return reverse("cases:laser_session_create", kwargs={"case_id": case.public_id})


def laser_edit_url(session) -> str:
    return reverse("cases:laser_session_edit", kwargs={"session_id": session.public_id})


def correction_create_url(case) -> str:
    return reverse("cases:correction_session_create", kwargs={"case_id": case.public_id})


def correction_edit_url(session) -> str:
    return reverse("cases:correction_session_edit", kwargs={"session_id": session.public_id})


def detail_url(case) -> str:
    return reverse("cases:case_detail", kwargs={"case_id": case.public_id})


def laser_data(tech, **overrides) -> dict:
    data = {
        "scheduled_at": "2026-11-25T10:30",
        "status": "completed",
        "technician": tech.pk,
        "wavelength_choice": "1064",
        "wavelength_other": "",
        "pulse_domain": "ps",
        "pulse_width": "450",
        "spot_size_mm": "4",
        "fluence_j_cm2": "3.5",
        "repetition_rate_hz": "5",
        "passes": "1",
        "zones": [zone_pk()],
        "pain_score": "4",
        "estimated_clearance_pct": "30",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def correction_data(artist, **overrides) -> dict:
    data = {
        "kind": CorrectionKind.SMP_CORRECTION,
        "scheduled_at": "2026-11-25T10:30",
        "status": "completed",
        "artist": artist.pk,
        "pigment": "Carbon black 30%",
        "needle": "3RL",
        "zones": [zone_pk()],
        "duration_minutes": "90",
        "pain_score": "3",
    }
    data.update(overrides)
    return data


def opened(session, data: dict) -> dict:
    """`data` as posted from the session's edit form: with the version it was opened on."""
    return {**data, "lock_version": str(session.lock_version)}


# --- permissions ---------------------------------------------------------------------------------------


@pytest.fixture
def pages(case):
    laser = factories.LaserSessionFactory(case=case)
    correction = factories.CorrectionSessionFactory(case=case)
    return [laser_create_url(case), laser_edit_url(laser), correction_create_url(case), correction_edit_url(correction)]


def test_anonymous_is_sent_to_login(anonymous, pages):
    for url in pages:
        for method in ("get", "post"):
            response = getattr(anonymous, method)(url)
            assert response.status_code == 302
            assert response["Location"].startswith("/login/")
    assert LaserSession.objects.count() == 1


def test_a_client_is_refused(as_client_a, client_a, pages):
    for url in pages:
        assert as_client_a.get(url).status_code == 403
        assert as_client_a.post(url, {}).status_code == 403
    assert LaserSession.objects.count() == 1


@pytest.mark.parametrize("persona", ["as_staff", "as_manager"])
def test_staff_and_managers_get_every_page(request, persona, pages):
    http = request.getfixturevalue(persona)
    for url in pages:
        response = http.get(url)
        assert response.status_code == 200
        assert response.context["form"] is not None


def test_unknown_or_archived_records_are_404(as_staff, staff_user, case):
    session = factories.LaserSessionFactory(case=case)
    correction = factories.CorrectionSessionFactory(case=case)
    session.archive(by=staff_user, reason="Wrong case")
    correction.archive(by=staff_user, reason="Wrong case")
    assert as_staff.get(laser_edit_url(session)).status_code == 404
    assert as_staff.get(correction_edit_url(correction)).status_code == 404
    case.archive(by=staff_user, reason="Duplicate")
    assert as_staff.get(laser_create_url(case)).status_code == 404
    assert as_staff.get(correction_create_url(case)).status_code == 404


def test_delete_and_put_are_not_allowed(as_staff, case):
    assert as_staff.delete(laser_create_url(case)).status_code == 405


# --- laser session: happy paths and defaults ------------------------------------------------------


def test_create_saves_the_session_and_redirects_to_the_case(as_staff, case, technician):
    device = factories.LaserDeviceFactory()
    erythema = AdverseEventKind.objects.get(code=AdverseEventChoice.ERYTHEMA)
    data = laser_data(
        technician,
        device=device.pk,
        laser_type="pico_nd_yag",
        zones=[zone_pk(), zone_pk(Zone.CROWN)],
        adverse_events=[erythema.pk],
        immediate_response="frosting",
        test_spot="on",
        aftercare_given="on",
        aftercare_notes="Keep dry 4 days.",
        notes_for_client="See you in 6 weeks.",
        internal_notes="Tolerated well.",
        parameters_shared="on",
    )
    response = as_staff.post(laser_create_url(case), data)
    assert response.status_code == 302
    assert response["Location"] == detail_url(case)
    session = LaserSession.objects.get()
    assert session.case == case and session.technician == technician and session.device == device
    assert session.status == SessionStatus.COMPLETED
    assert timezone.localtime(session.scheduled_at).strftime("%Y-%m-%d %H:%M") == "2026-11-25 10:30"
    assert (session.wavelength_nm, session.fluence_j_cm2, session.spot_size_mm, session.passes) == (
        1064,
        Decimal("3.50"),
        Decimal("4.0"),
        1,
    )
    assert {z.code for z in session.zones.all()} == {Zone.FRONTAL_HAIRLINE, Zone.CROWN}
    assert list(session.adverse_events.all()) == [erythema]
    assert session.test_spot and session.aftercare_given and session.parameters_shared
    assert session.internal_notes == "Tolerated well."
    assert messages_of(response) == ["Laser session saved. Post-laser check scheduled for 9 Dec 2026.", NO_PLAN]


def test_a_booking_needs_no_parameters_yet(as_staff, case, technician):
    data = laser_data(
        technician,
        status="scheduled",
        scheduled_at="2026-12-10T10:00",
        wavelength_choice="",
        fluence_j_cm2="",
        spot_size_mm="",
        passes="",
        pain_score="",
        estimated_clearance_pct="",
    )
    response = as_staff.post(laser_create_url(case), data)
    assert response.status_code == 302
    session = LaserSession.objects.get()
    assert session.status == SessionStatus.SCHEDULED and session.wavelength_nm is None
    assert messages_of(response) == ["Laser session booked.", NO_PLAN]


def test_create_form_defaults_to_now_my_artist_and_the_plan_steps_zones(as_staff, staff_user, case):
    me = factories.TechnicianFactory(user=staff_user)
    plan = factories.TreatmentPlanFactory(case=case)
    factories.PlanStepFactory(plan=plan, order=1, kind=PlanStepKind.LASER_SESSION, status=StepStatus.DONE)
    step = factories.PlanStepFactory(plan=plan, order=2, kind=PlanStepKind.LASER_SESSION)
    step.zones.set(ZoneLookup.objects.filter(code__in=[Zone.CROWN, Zone.NAPE]))
    factories.LaserSessionFactory(case=case, zones=[Zone.FRONTAL_HAIRLINE])
    form = as_staff.get(laser_create_url(case)).context["form"]
    assert form.initial["technician"] == me
    assert form.initial["plan_step"] == step
    assert {z.code for z in form.initial["zones"]} == {Zone.CROWN, Zone.NAPE}
    assert form.initial["scheduled_at"] == NOW
    assert form.initial["status"] == SessionStatus.SCHEDULED


def test_create_form_falls_back_to_the_last_sessions_zones_and_copies_its_settings(as_staff, case):
    device = factories.LaserDeviceFactory(name="Pico room 2")
    factories.LaserSessionFactory(case=case, scheduled_at=at(-90), zones=[Zone.NAPE], fluence_j_cm2=Decimal("2"))
    factories.LaserSessionFactory(
        case=case,
        scheduled_at=at(-45),
        zones=[Zone.LEFT_TEMPLE],
        device=device,
        laser_type="qs_alexandrite",
        wavelength_nm=755,
        pulse_domain="ns",
        pulse_width=Decimal("60"),
        spot_size_mm=Decimal("3.0"),
        fluence_j_cm2=Decimal("6.50"),
        repetition_rate_hz=Decimal("2.0"),
        passes=2,
    )
    factories.LaserSessionFactory(case=case, scheduled_at=at(-20), status=SessionStatus.CANCELLED, passes=5)
    response = as_staff.get(laser_create_url(case))
    form = response.context["form"]
    assert [z.code for z in form.initial["zones"]] == [Zone.LEFT_TEMPLE]
    assert form.initial["device"] == device.pk
    assert (form.initial["laser_type"], form.initial["pulse_domain"]) == ("qs_alexandrite", "ns")
    assert form.initial["wavelength_choice"] == "755"
    assert (form.initial["spot_size_mm"], form.initial["fluence_j_cm2"]) == (Decimal("3.0"), Decimal("6.50"))
    assert (form.initial["repetition_rate_hz"], form.initial["passes"]) == (Decimal("2.0"), 2)
    assert form.initial["technician"] is None  # the staff user has no artist record
    assert "copied from the session of 11 Oct 2026" in response.content.decode()


def test_an_other_wavelength_is_copied_into_the_other_field(as_staff, case):
    factories.LaserSessionFactory(case=case, wavelength_nm=810)
    form = as_staff.get(laser_create_url(case)).context["form"]
    assert (form.initial["wavelength_choice"], form.initial["wavelength_other"]) == ("other", 810)


def test_first_session_has_no_copy_note(as_staff, case):
    response = as_staff.get(laser_create_url(case))
    html = response.content.decode()
    assert "copied from the session" not in html
    assert response.context["form"].initial["zones"] == []
    # Without JavaScript both wavelength fields show; app.js hides "other" until chosen.
    assert 'data-reveal-when-value="div_id_wavelength_other:other"' in html
    assert 'name="wavelength_other"' in html


def test_an_edit_keeps_the_plan_step_of_a_superseded_plan(as_staff, case, technician):
    step = factories.PlanStepFactory(plan=factories.TreatmentPlanFactory(case=case, status="superseded"))
    session = factories.LaserSessionFactory(case=case, technician=technician, plan_step=step, scheduled_at=at(-3))
    assert step not in as_staff.get(laser_create_url(case)).context["form"].fields["plan_step"].queryset
    data = laser_data(technician, scheduled_at=timezone.localtime(session.scheduled_at).strftime("%Y-%m-%dT%H:%M"))
    data.update(plan_step=step.pk, internal_notes="Checked.")
    assert as_staff.post(laser_edit_url(session), opened(session, data)).status_code == 302
    session.refresh_from_db()
    assert (session.plan_step, session.internal_notes) == (step, "Checked.")


def test_edit_updates_the_session(as_staff, case, technician):
    session = factories.LaserSessionFactory(case=case, technician=technician, scheduled_at=at(-1, hour=10))
    data = laser_data(technician, scheduled_at="2026-11-24T10:00", internal_notes="Client asked for numbing.")
    response = as_staff.post(laser_edit_url(session), opened(session, data))
    assert response.status_code == 302
    assert messages_of(response) == ["Laser session updated."]
    session.refresh_from_db()
    assert session.internal_notes == "Client asked for numbing."
    assert session.fluence_j_cm2 == Decimal("3.50")


def test_edit_form_shows_the_stored_values(as_staff, case):
    session = factories.LaserSessionFactory(case=case, wavelength_nm=532)
    response = as_staff.get(laser_edit_url(session))
    assert response.context["form"].initial["wavelength_choice"] == "532"
    assert "copied from the session" not in response.content.decode()
    choices = [value for value, _label in response.context["form"].fields["status"].choices]
    assert choices == ["scheduled", "completed", "not_attended", "cancelled"]


def test_a_booked_session_can_be_cancelled(as_staff, case, technician):
    session = factories.LaserSessionFactory(case=case, status=SessionStatus.SCHEDULED, scheduled_at=at(5))
    data = laser_data(technician, status="cancelled", scheduled_at="2026-11-30T12:00")
    assert as_staff.post(laser_edit_url(session), opened(session, data)).status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.CANCELLED


def test_a_new_session_cannot_be_entered_as_cancelled(as_staff, case, technician):
    response = as_staff.post(laser_create_url(case), laser_data(technician, status="cancelled"))
    assert response.status_code == 200
    assert "status" in response.context["form"].errors
    assert not LaserSession.objects.exists()


def test_other_wavelength_is_saved(as_staff, case, technician):
    response = as_staff.post(
        laser_create_url(case), laser_data(technician, wavelength_choice="other", wavelength_other="810")
    )
    assert response.status_code == 302
    assert LaserSession.objects.get().wavelength_nm == 810


# --- laser session: field errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("fluence_j_cm2", "0"),
        ("fluence_j_cm2", "20.5"),
        ("spot_size_mm", "0.5"),
        ("spot_size_mm", "11"),
        ("repetition_rate_hz", "0.4"),
        ("repetition_rate_hz", "21"),
        ("passes", "0"),
        ("passes", "7"),
        ("pain_score", "11"),
        ("estimated_clearance_pct", "101"),
        ("wavelength_other", "1300"),
        ("wavelength_other", "350"),
        ("scheduled_at", "not a date"),
        ("zones", []),
        ("technician", "999999"),
    ],
)
def test_out_of_range_values_are_field_errors_and_save_nothing(as_staff, case, technician, field, value):
    extra = {"wavelength_choice": "other"} if field == "wavelength_other" else {}
    response = as_staff.post(laser_create_url(case), laser_data(technician, **{field: value, **extra}))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not LaserSession.objects.exists()


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("wavelength_choice", "A completed session records the wavelength."),
        ("fluence_j_cm2", "A completed session records the fluence."),
        ("spot_size_mm", "A completed session records the spot size."),
        ("passes", "A completed session records the passes."),
    ],
)
def test_a_completed_session_needs_its_parameters(as_staff, case, technician, field, message):
    response = as_staff.post(laser_create_url(case), laser_data(technician, **{field: ""}))
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert not LaserSession.objects.exists()


def test_other_wavelength_needs_its_value_and_only_with_other(as_staff, case, technician):
    response = as_staff.post(laser_create_url(case), laser_data(technician, wavelength_choice="other"))
    assert response.context["form"].errors["wavelength_other"] == ["Give the wavelength (400–1200 nm)."]
    response = as_staff.post(laser_create_url(case), laser_data(technician, wavelength_other="810"))
    assert response.context["form"].errors["wavelength_other"] == [
        "Leave this empty unless the wavelength is “Other…”."
    ]
    response = as_staff.post(
        laser_create_url(case), laser_data(technician, wavelength_choice="", wavelength_other="810")
    )
    assert "wavelength_choice" in response.context["form"].errors
    assert not LaserSession.objects.exists()


def test_external_artists_and_other_cases_plan_steps_are_not_accepted(as_staff, case, technician):
    external = factories.ExternalArtistFactory()
    other_step = factories.PlanStepFactory()  # a plan of another case
    response = as_staff.post(laser_create_url(case), laser_data(technician, plan_step=other_step.pk))
    assert "plan_step" in response.context["form"].errors
    response = as_staff.post(laser_create_url(case), laser_data(external))
    assert "technician" in response.context["form"].errors
    assert not LaserSession.objects.exists()


def test_an_archived_technician_is_not_offered_for_a_new_session(as_staff, staff_user, case, technician):
    technician.archive(by=staff_user, reason="Left the clinic")
    form = as_staff.get(laser_create_url(case)).context["form"]
    assert technician not in form.fields["technician"].queryset
    # …but stays on the sessions they did, which can still be edited.
    session = factories.LaserSessionFactory(case=case, technician=technician, scheduled_at=at(-100))
    data = laser_data(technician, scheduled_at=timezone.localtime(session.scheduled_at).strftime("%Y-%m-%dT%H:%M"))
    data["zones"] = [zone_pk()]
    data["notes_for_client"] = "Healed well."
    assert as_staff.post(laser_edit_url(session), opened(session, data)).status_code == 302


# --- correction sessions --------------------------------------------------------------------------------


def test_correction_create_saves_and_redirects(as_staff, case):
    artist = factories.ArtistFactory()
    response = as_staff.post(correction_create_url(case), correction_data(artist, internal_notes="Soft edge."))
    assert response.status_code == 302
    assert response["Location"] == detail_url(case)
    session = CorrectionSession.objects.get()
    assert (session.kind, session.artist, session.duration_minutes, session.pigment) == (
        CorrectionKind.SMP_CORRECTION,
        artist,
        90,
        "Carbon black 30%",
    )
    assert [z.code for z in session.zones.all()] == [Zone.FRONTAL_HAIRLINE]
    assert messages_of(response) == ["Correction session saved. Healing check scheduled for 9 Dec 2026."]


def test_correction_create_defaults_from_the_next_planned_step(as_staff, staff_user, case):
    me = factories.ArtistFactory(user=staff_user)
    step = factories.PlanStepFactory(plan=factories.TreatmentPlanFactory(case=case), kind=PlanStepKind.SALINE_SESSION)
    step.zones.set(ZoneLookup.objects.filter(code=Zone.SCAR))
    form = as_staff.get(correction_create_url(case)).context["form"]
    assert (form.initial["artist"], form.initial["plan_step"]) == (me, step)
    assert form.initial["kind"] == CorrectionKind.SALINE_REMOVAL
    assert [z.code for z in form.initial["zones"]] == [Zone.SCAR]


@pytest.mark.parametrize(
    ("field", "value"),
    [("pain_score", "11"), ("duration_minutes", "0"), ("duration_minutes", "601"), ("kind", "tattoo"), ("zones", [])],
)
def test_correction_field_errors_save_nothing(as_staff, case, field, value):
    response = as_staff.post(correction_create_url(case), correction_data(factories.ArtistFactory(), **{field: value}))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not CorrectionSession.objects.exists()


def test_correction_saline_interval_through_the_view(as_staff, staff_user, case):
    artist = factories.ArtistFactory()
    factories.CorrectionSessionFactory(case=case, kind=CorrectionKind.SALINE_REMOVAL, scheduled_at=at(-14))
    data = correction_data(artist, kind=CorrectionKind.SALINE_REMOVAL, saline_solution="20% NaCl")
    response = as_staff.post(correction_create_url(case), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Treated by saline removal too close to this session" in html
    assert 'name="override_zone_interval"' in html
    assert CorrectionSession.objects.count() == 1
    data.update(override_zone_interval="on", override_zone_interval_reason="Single dot only")
    response = as_staff.post(correction_create_url(case), data)
    assert response.status_code == 302
    override = RuleOverride.objects.get()
    assert override.correction_session.saline_solution == "20% NaCl"
    assert override.overridden_by == staff_user
    assert "Overrides recorded" in messages_of(response)[0]


def test_correction_edit_updates(as_staff, case):
    session = factories.CorrectionSessionFactory(case=case, scheduled_at=at(-2))
    data = correction_data(session.artist, scheduled_at="2026-11-23T12:00", needle="5RS")
    assert as_staff.post(correction_edit_url(session), opened(session, data)).status_code == 302
    session.refresh_from_db()
    assert session.needle == "5RS"


# --- the session's slot in the diary: room and length --------------------------------------------------


@pytest.fixture
def rooms(db):
    return Room.objects.create(name="Room 1", position=1), Room.objects.create(name="Room 2", position=2)


def booking_of(session) -> Booking:
    return Booking.objects.select_related("room").get(
        **{session._meta.model_name.replace("session", "_session"): session}
    )


def upcoming_laser(technician, in_room, **overrides) -> dict:
    """A laser session still to come, booked in `in_room`, as its form posts it."""
    data = {"status": "scheduled", "scheduled_at": "2026-12-10T10:00", "wavelength_choice": "", "room": in_room.pk}
    return laser_data(technician, **{**data, **overrides})


def test_the_laser_form_books_the_room_and_length_it_is_given(as_staff, case, technician, rooms):
    form = as_staff.get(laser_create_url(case)).context["form"]
    assert form.initial["minutes"] == ClinicSettings.load().laser_minutes
    assert [room.name for room in form.fields["room"].queryset] == ["Room 1", "Room 2"]
    response = as_staff.post(laser_create_url(case), upcoming_laser(technician, rooms[1], minutes="60"))
    assert response.status_code == 302
    booking = booking_of(LaserSession.objects.get())
    assert (booking.room, booking.minutes, booking.person) == (rooms[1], 60, technician)
    assert timezone.localtime(booking.starts_at).strftime("%Y-%m-%d %H:%M") == "2026-12-10 10:00"


def test_the_correction_form_books_the_room_and_length_it_is_given(as_staff, case, rooms):
    artist = factories.ArtistFactory()
    form = as_staff.get(correction_create_url(case)).context["form"]
    assert form.initial["minutes"] == ClinicSettings.load().correction_minutes
    data = correction_data(artist, status="scheduled", scheduled_at="2026-12-10T10:00", room=rooms[0].pk, minutes="150")
    response = as_staff.post(correction_create_url(case), data)
    assert response.status_code == 302
    booking = booking_of(CorrectionSession.objects.get())
    assert (booking.room, booking.minutes, booking.person) == (rooms[0], 150, artist)


def test_a_session_still_to_come_needs_a_room(as_staff, case, technician, rooms):
    response = as_staff.post(laser_create_url(case), upcoming_laser(technician, rooms[0], room=""))
    assert response.status_code == 200
    assert response.context["form"].errors["room"] == [
        "Choose the room: a session still to come holds one in the diary."
    ]
    assert not LaserSession.objects.exists() and not Booking.objects.exists()


def test_a_session_recorded_after_the_fact_may_leave_the_room_empty(as_staff, case, technician, rooms):
    response = as_staff.post(laser_create_url(case), laser_data(technician, minutes="30"))
    assert response.status_code == 302
    booking = booking_of(LaserSession.objects.get())
    assert (booking.room, booking.minutes) == (None, 30)


def test_a_room_taken_at_that_time_is_refused_on_the_laser_form_and_nothing_is_saved(as_staff, case, technician, rooms):
    other_case = factories.CaseFactory()
    factories.ConsentFactory(client=other_case.client)
    colleague = factories.TechnicianFactory(first_name="Colm", last_name="Colleague")
    assert as_staff.post(laser_create_url(other_case), upcoming_laser(colleague, rooms[1])).status_code == 302
    response = as_staff.post(
        laser_create_url(case), upcoming_laser(technician, rooms[1], scheduled_at="2026-12-10T10:30")
    )
    assert response.status_code == 200
    assert "Room 2 is booked 10:00–10:45 with another client." in response.context["form"].non_field_errors()
    assert not LaserSession.objects.filter(case=case).exists()
    assert Booking.objects.count() == 1


def test_an_edit_moves_the_sessions_booking(as_staff, case, technician, rooms):
    assert as_staff.post(laser_create_url(case), upcoming_laser(technician, rooms[0])).status_code == 302
    session = LaserSession.objects.get()
    before = booking_of(session)
    form = as_staff.get(laser_edit_url(session)).context["form"]
    assert (form.initial["room"], form.initial["minutes"]) == (rooms[0].pk, 45)
    data = upcoming_laser(technician, rooms[1], scheduled_at="2026-12-11T14:00", minutes="60")
    assert as_staff.post(laser_edit_url(session), opened(session, data)).status_code == 302
    after = booking_of(session)
    assert after.pk == before.pk
    assert (after.room, after.minutes) == (rooms[1], 60)
    assert timezone.localtime(after.starts_at).strftime("%Y-%m-%d %H:%M") == "2026-12-11 14:00"


def test_a_correction_edit_keeps_its_booking_in_step(as_staff, case, rooms):
    artist = factories.ArtistFactory()
    data = correction_data(artist, status="scheduled", scheduled_at="2026-12-10T10:00", room=rooms[0].pk, minutes="120")
    assert as_staff.post(correction_create_url(case), data).status_code == 302
    session = CorrectionSession.objects.get()
    assert (booking_of(session).room, booking_of(session).minutes) == (rooms[0], 120)
    data.update(scheduled_at="2026-12-12T09:00", room=rooms[1].pk, minutes="90")
    assert as_staff.post(correction_edit_url(session), opened(session, data)).status_code == 302
    booking = booking_of(session)
    assert (booking.room, booking.minutes) == (rooms[1], 90)
    assert timezone.localtime(booking.starts_at).strftime("%Y-%m-%d %H:%M") == "2026-12-12 09:00"


def test_a_past_session_from_before_the_diary_stays_out_of_it_when_edited_on_its_form(
    as_staff, case, technician, rooms
):
    session = factories.LaserSessionFactory(case=case, technician=technician, scheduled_at=at(-1, hour=10))
    data = laser_data(technician, scheduled_at="2026-11-24T10:00", room=rooms[0].pk, internal_notes="Checked.")
    assert as_staff.post(laser_edit_url(session), opened(session, data)).status_code == 302
    session.refresh_from_db()
    assert session.internal_notes == "Checked."
    assert not Booking.objects.exists()


# --- query caps -----------------------------------------------------------------------------------------------


def _with_sessions(case, count: int) -> None:
    """`count` earlier laser and correction sessions, and as many of everything the forms
    offer: technicians, rooms, devices, plan steps (each with zones)."""
    technician = factories.TechnicianFactory()
    device = factories.LaserDeviceFactory()
    plan = factories.AcceptedPlanFactory(case=case)
    for n in range(count):
        factories.LaserSessionFactory(
            case=case, technician=technician, device=device, scheduled_at=at(-7 * (n + 1)), zones=[Zone.CROWN]
        )
        factories.CorrectionSessionFactory(case=case, artist=technician, scheduled_at=at(-7 * n - 3))
        factories.TechnicianFactory()
        factories.LaserDeviceFactory()
        Room.objects.create(name=f"Room {case.pk}-{n}", position=n)
        for kind in (PlanStepKind.LASER_SESSION, PlanStepKind.SMP_SESSION):
            step = factories.PlanStepFactory(plan=plan, kind=kind)
            step.zones.set(ZoneLookup.objects.filter(code__in=[Zone.CROWN, Zone.FRONTAL_HAIRLINE]))


FORM_PAGES = ("laser_create", "laser_edit", "correction_create", "correction_edit")


def test_form_pages_make_the_same_queries_with_5_or_50_earlier_sessions(db):
    """At both sizes each form page (FORM_PAGES) is opened by a technician, whose own
    record, the plan's next step and its zones, the previous session's settings and every
    rule are all in play. The four pages are read on the same two worlds, made once."""
    ClinicSettings.load()  # created once, on the first page any clinic ever shows
    own = factories.TechnicianFactory()
    http = signed_in(own.user)
    sql = {url_of: [] for url_of in FORM_PAGES}
    for count in (5, 50):
        case = factories.CaseFactory()
        factories.ConsentFactory(client=case.client)
        _with_sessions(case, count)
        laser = LaserSession.objects.filter(case=case).latest_first().first()
        correction = CorrectionSession.objects.filter(case=case).latest_first().first()
        urls = {
            "laser_create": laser_create_url(case),
            "laser_edit": laser_edit_url(laser),
            "correction_create": correction_create_url(case),
            "correction_edit": correction_edit_url(correction),
        }
        for url_of, url in urls.items():
            sql[url_of].append(sql_of_get(http, url))
            form = http.get(url).context["form"]
            if url_of.endswith("create"):
                # The defaults came from the rows the form offers.
                assert form.initial[form.person_field] == own, url_of
                assert form.initial["plan_step"] == form.next_planned_step() is not None, url_of
    for url_of in FORM_PAGES:
        assert len(sql[url_of][0]) == len(sql[url_of][1]), url_of
        assert_queries_hold(*sql[url_of], at_most=QUERY_CAP[url_of])
