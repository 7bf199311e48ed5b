"""The clinical safety rules for sessions (cases.rules), at the service and through the views.

docs/domain.md#safety-rules: laser consent, technician's laser certification on the day, minimum interval
between sessions on a zone (laser and saline), Fitzpatrick IV–VI away from 1064 nm, and
contraindications (isotretinoin and active infection: manager override only).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from artists.models import Certification
from cases import rules
from cases.choices import (
    CorrectionKind,
    Fitzpatrick,
    OverrideRule,
    SessionStatus,
    Zone,
)
from cases.models import CorrectionSession, LaserSession, RuleOverride, ZoneLookup
from cases.services.sessions import correction_session_save, laser_session_save
from smpclinic.models import ClinicSettings
from tests import factories
from tests.helpers import frozen_at

NOW = datetime.datetime(2026, 11, 25, 17, 0, tzinfo=datetime.UTC)  # 17:00 in London: the day's sessions are past
TODAY = NOW.date()


frozen_clock = frozen_at(NOW)


def at(days: int, hour: int = 12) -> datetime.datetime:
    """Noon (local time) `days` from today: whole calendar days apart, whatever the DST."""
    return timezone.make_aware(datetime.datetime.combine(TODAY + datetime.timedelta(days=days), datetime.time(hour)))


def zones(*codes: str) -> list[ZoneLookup]:
    return list(ZoneLookup.objects.filter(code__in=codes or [Zone.FRONTAL_HAIRLINE]))


@pytest.fixture
def case(db):
    return factories.CaseFactory(client__fitzpatrick_type=Fitzpatrick.III)


@pytest.fixture
def consent(case):
    return factories.ConsentFactory(client=case.client)


@pytest.fixture
def technician(db):
    return factories.TechnicianFactory()


def proposed(case, technician, *, when=None, **fields) -> LaserSession:
    values = {
        "case": case,
        "technician": technician,
        "scheduled_at": when or at(0),
        "status": SessionStatus.COMPLETED,
        "wavelength_nm": 1064,
        "fluence_j_cm2": Decimal("3.00"),
        "spot_size_mm": Decimal("4.0"),
        "passes": 1,
    }
    values.update(fields)
    return LaserSession(**values)


def save(session, by, *, zone_codes=(Zone.FRONTAL_HAIRLINE,), overrides=None):
    return laser_session_save(session=session, zones=zones(*zone_codes), adverse_events=[], by=by, overrides=overrides)


def earlier(case, days: int, *, zone_codes=(Zone.FRONTAL_HAIRLINE,), **fields) -> LaserSession:
    return factories.LaserSessionFactory(case=case, scheduled_at=at(days), zones=list(zone_codes), **fields)


def refused(session, by, **kwargs) -> str:
    with pytest.raises(ValidationError) as caught:
        save(session, by, **kwargs)
    return " ".join(caught.value.messages)


# --- rule 1: laser consent ---------------------------------------------------------------


def test_no_consent_refuses_the_session(case, technician, staff_user):
    message = refused(proposed(case, technician), staff_user)
    assert "no signed laser treatment consent in force" in message
    assert not LaserSession.objects.exists()


def test_a_scheduled_session_needs_the_consent_too(case, technician, staff_user):
    message = refused(proposed(case, technician, status=SessionStatus.SCHEDULED, when=at(7)), staff_user)
    assert "consent" in message


def test_withdrawn_consent_refuses_the_session(case, technician, staff_user):
    factories.ConsentFactory(client=case.client, withdrawn_at=NOW - datetime.timedelta(days=1))
    assert "consent" in refused(proposed(case, technician), staff_user)
    assert not LaserSession.objects.exists()


def test_consent_of_another_kind_or_another_client_does_not_count(case, technician, staff_user):
    photo_text = factories.ConsentTextFactory(kind="photo_clinical")
    factories.ConsentFactory(client=case.client, text=photo_text)
    factories.ConsentFactory()  # another client's laser consent
    assert "consent" in refused(proposed(case, technician), staff_user)


def test_consent_in_force_allows_the_session(case, consent, technician, staff_user):
    saved = save(proposed(case, technician), staff_user)
    assert LaserSession.objects.get() == saved.session
    assert saved.overrides == []


def test_consent_withdrawn_after_a_session_still_covers_that_session(case, technician, staff_user):
    factories.ConsentFactory(client=case.client, withdrawn_at=NOW - datetime.timedelta(days=2))
    save(proposed(case, technician, when=at(-10)), staff_user)
    assert LaserSession.objects.count() == 1
    # …but not a session after the withdrawal.
    booking = proposed(case, technician, when=at(7), status=SessionStatus.SCHEDULED)
    assert "consent" in refused(booking, staff_user)


# --- rule 2: technician's laser certification ----------------------------------------------------------


def test_expired_laser_certification_refuses_the_session(case, consent, staff_user):
    artist = factories.ArtistFactory()
    factories.CertificationFactory(
        artist=artist, issued_on=TODAY - datetime.timedelta(days=800), expires_on=TODAY - datetime.timedelta(days=1)
    )
    message = refused(proposed(case, artist), staff_user)
    assert f"{artist} holds no laser safety certification valid on 25 Nov 2026" in message
    assert not LaserSession.objects.exists()


def test_certification_valid_on_the_session_day_allows_it(case, consent, staff_user):
    artist = factories.ArtistFactory()
    # Expired today, but valid on the day of the session last month.
    factories.CertificationFactory(
        artist=artist, issued_on=TODAY - datetime.timedelta(days=400), expires_on=TODAY - datetime.timedelta(days=1)
    )
    save(proposed(case, artist, when=at(-30)), staff_user)
    assert LaserSession.objects.get().technician == artist
    # …and it still expires on its last day: the day after is refused.
    assert "certification" in refused(proposed(case, artist, when=at(0)), staff_user)


def test_a_non_laser_certification_does_not_count(case, consent, staff_user):
    artist = factories.ArtistFactory()
    factories.CertificationFactory(artist=artist, kind=Certification.Kind.SMP_TRAINING)
    assert "laser safety certification" in refused(proposed(case, artist), staff_user)


def test_all_hard_errors_are_reported_at_once(case, staff_user):
    message = refused(proposed(case, factories.ArtistFactory()), staff_user)
    assert "consent" in message and "certification" in message


# --- rule 3: minimum interval between sessions on a zone -------------------------------------------------


def test_laser_five_weeks_after_a_session_on_the_zone_is_refused(case, consent, technician, staff_user):
    earlier(case, -35)
    message = refused(proposed(case, technician), staff_user)
    assert "Frontal hairline on 21 Oct 2026 (5 weeks before this session)" in message
    assert "minimum between laser sessions on a zone is 6 weeks" in message
    assert "Tick the override and give a reason" in message
    assert LaserSession.objects.count() == 1
    assert not RuleOverride.objects.exists()


def test_interval_override_is_stored_with_its_reason(case, consent, technician, staff_user):
    earlier(case, -35)
    saved = save(
        proposed(case, technician), staff_user, overrides={OverrideRule.ZONE_INTERVAL: "  Agreed with Dr Lee. "}
    )
    override = RuleOverride.objects.get()
    assert saved.overrides == [override]
    assert override.rule == OverrideRule.ZONE_INTERVAL
    assert override.reason == "Agreed with Dr Lee."
    assert override.overridden_by == staff_user
    assert override.laser_session == saved.session and override.case == case
    assert override.message.startswith("Treated by laser too close to this session: Frontal hairline on 21 Oct 2026")


def test_interval_override_needs_a_reason(case, consent, technician, staff_user):
    earlier(case, -35)
    refused(proposed(case, technician), staff_user, overrides={OverrideRule.ZONE_INTERVAL: "   "})
    assert LaserSession.objects.count() == 1


def test_laser_exactly_six_weeks_later_is_allowed(case, consent, technician, staff_user):
    earlier(case, -42)
    save(proposed(case, technician), staff_user)
    assert LaserSession.objects.count() == 2


def test_a_completed_session_after_the_date_counts_too(case, consent, technician, staff_user):
    earlier(case, -10)
    message = refused(proposed(case, technician, when=at(-30)), staff_user)
    assert "(2 weeks and 6 days after this session)" in message


@pytest.mark.parametrize(
    "fields",
    [{"status": SessionStatus.CANCELLED}, {"status": SessionStatus.SCHEDULED}],
    ids=["cancelled", "only-scheduled"],
)
def test_sessions_that_did_not_take_place_are_ignored(case, consent, technician, staff_user, fields):
    earlier(case, -35, **fields)
    save(proposed(case, technician), staff_user)
    assert LaserSession.objects.count() == 2


def test_an_archived_session_is_ignored(case, consent, technician, staff_user):
    earlier(case, -35).archive(by=staff_user, reason="Entered on the wrong case")
    save(proposed(case, technician), staff_user)
    assert LaserSession.objects.count() == 2


def test_a_different_zone_is_ignored(case, consent, technician, staff_user):
    earlier(case, -35, zone_codes=[Zone.CROWN])
    save(proposed(case, technician), staff_user, zone_codes=[Zone.FRONTAL_HAIRLINE, Zone.LEFT_TEMPLE])
    assert LaserSession.objects.count() == 2


def test_a_session_of_another_case_is_ignored(case, consent, technician, staff_user):
    earlier(factories.CaseFactory(client=case.client), -35)
    save(proposed(case, technician), staff_user)
    assert LaserSession.objects.count() == 2


def test_one_shared_zone_is_enough_and_is_named(case, consent, technician, staff_user):
    earlier(case, -20, zone_codes=[Zone.CROWN, Zone.NAPE])
    message = refused(proposed(case, technician), staff_user, zone_codes=[Zone.CROWN, Zone.FRONTAL_HAIRLINE])
    assert "Crown (vertex) on 5 Nov 2026" in message
    assert "Nape" not in message


def test_the_clinic_interval_setting_is_used(case, consent, technician, staff_user):
    clinic = ClinicSettings.load()
    clinic.min_laser_interval_weeks = 8
    clinic.save()
    earlier(case, -49)
    assert "minimum between laser sessions on a zone is 8 weeks" in refused(proposed(case, technician), staff_user)


def test_editing_a_session_does_not_compare_it_with_itself(case, consent, technician, staff_user):
    session = save(proposed(case, technician), staff_user).session
    session.scheduled_at = at(0, hour=15)
    save(session, staff_user, zone_codes=[Zone.FRONTAL_HAIRLINE, Zone.CROWN])
    assert LaserSession.objects.get().zones.count() == 2


def test_an_override_carries_over_to_later_edits_of_the_same_session(case, consent, technician, staff_user):
    earlier(case, -35)
    session = save(proposed(case, technician), staff_user, overrides={OverrideRule.ZONE_INTERVAL: "Agreed"}).session
    session.internal_notes = "Tolerated well."
    session.scheduled_at = at(0, hour=14)  # a rule input changes, the finding stays the same
    saved = save(session, staff_user)
    assert saved.overrides == []
    assert RuleOverride.objects.count() == 1


def test_moving_an_overridden_session_needs_a_new_override(case, consent, technician, staff_user):
    earlier(case, -35)
    session = save(proposed(case, technician), staff_user, overrides={OverrideRule.ZONE_INTERVAL: "Agreed"}).session
    session.scheduled_at = at(-7)
    assert "4 weeks before this session" in refused(session, staff_user)
    save(session, staff_user, overrides={OverrideRule.ZONE_INTERVAL: "Moved, still agreed"})
    assert RuleOverride.objects.count() == 2


def test_saline_removal_within_the_saline_interval_is_refused_and_overridable(case, staff_user):
    artist = factories.ArtistFactory()
    factories.CorrectionSessionFactory(case=case, kind=CorrectionKind.SALINE_REMOVAL, scheduled_at=at(-21))

    def saline(**overrides):
        session = CorrectionSession(
            case=case, kind=CorrectionKind.SALINE_REMOVAL, artist=artist, scheduled_at=at(0), status="completed"
        )
        return correction_session_save(session=session, zones=zones(), by=staff_user, **overrides)

    with pytest.raises(ValidationError) as caught:
        saline()
    assert "minimum between saline removal sessions on a zone is 4 weeks" in " ".join(caught.value.messages)
    assert CorrectionSession.objects.count() == 1
    saved = saline(overrides={OverrideRule.ZONE_INTERVAL: "Small area only"})
    override = RuleOverride.objects.get()
    assert override.correction_session == saved.session and override.laser_session is None
    assert override.reason == "Small area only"


def test_saline_four_weeks_apart_and_other_correction_work_are_not_checked(case, staff_user):
    artist = factories.ArtistFactory()
    factories.CorrectionSessionFactory(case=case, kind=CorrectionKind.SALINE_REMOVAL, scheduled_at=at(-28))
    factories.CorrectionSessionFactory(case=case, kind=CorrectionKind.SMP_CORRECTION, scheduled_at=at(-3))
    # One after the other: the artist cannot be booked for both at once (the diary).
    for n, kind in enumerate((CorrectionKind.SALINE_REMOVAL, CorrectionKind.SMP_CORRECTION)):
        when = at(0, hour=9 + 3 * n)
        session = CorrectionSession(case=case, kind=kind, artist=artist, scheduled_at=when, status="completed")
        correction_session_save(session=session, zones=zones(), by=staff_user)
    assert CorrectionSession.objects.count() == 4
    assert not RuleOverride.objects.exists()


# --- rule 4: Fitzpatrick IV–VI away from 1064 nm -------------------------------------------------------


def test_fitzpatrick_v_at_755_nm_needs_an_override(case, consent, technician, staff_user):
    case.client.fitzpatrick_type = Fitzpatrick.V
    case.client.save()
    message = refused(proposed(case, technician, wavelength_nm=755), staff_user)
    assert "Fitzpatrick type V skin with 755 nm: 1064 nm is the usual wavelength" in message
    assert not LaserSession.objects.exists()
    save(proposed(case, technician, wavelength_nm=755), staff_user, overrides={"dark_skin_wavelength": "Test spot ok"})
    override = RuleOverride.objects.get()
    assert override.rule == OverrideRule.DARK_SKIN_WAVELENGTH and override.reason == "Test spot ok"


def test_fitzpatrick_v_at_1064_nm_is_fine(case, consent, technician, staff_user):
    case.client.fitzpatrick_type = Fitzpatrick.V
    case.client.save()
    save(proposed(case, technician, wavelength_nm=1064), staff_user)
    assert not RuleOverride.objects.exists()


def test_fitzpatrick_ii_at_755_nm_is_fine(case, consent, technician, staff_user):
    case.client.fitzpatrick_type = Fitzpatrick.II
    case.client.save()
    save(proposed(case, technician, wavelength_nm=755), staff_user)
    assert LaserSession.objects.get().wavelength_nm == 755


def test_a_booking_without_a_wavelength_yet_is_not_judged_on_it(case, consent, technician, staff_user):
    case.client.fitzpatrick_type = Fitzpatrick.VI
    case.client.save()
    session = proposed(case, technician, status=SessionStatus.SCHEDULED, when=at(7), wavelength_nm=None)
    save(session, staff_user)
    assert LaserSession.objects.get().status == SessionStatus.SCHEDULED


# --- rule 5: contraindications ----------------------------------------------------------------------


@pytest.fixture(params=["isotretinoin", "active_infection"])
def blocked_case(request, case, consent):
    client = case.client
    if request.param == "isotretinoin":
        client.isotretinoin_last_dose = TODAY - datetime.timedelta(days=60)  # washout is 6 months
    else:
        client.active_infection = True
    client.save()
    return case


def test_blocking_contraindication_is_refused_for_staff_even_with_an_override(blocked_case, technician, staff_user):
    message = refused(
        proposed(blocked_case, technician), staff_user, overrides={OverrideRule.CONTRAINDICATION: "Client insists"}
    )
    assert "only a manager can override it" in message
    assert not LaserSession.objects.exists()
    assert not RuleOverride.objects.exists()


def test_blocking_contraindication_is_allowed_for_a_manager_with_a_reason(blocked_case, technician, manager_user):
    assert "tick the override and give a reason" in refused(proposed(blocked_case, technician), manager_user)
    saved = save(
        proposed(blocked_case, technician), manager_user, overrides={OverrideRule.CONTRAINDICATION: "Dermatologist ok"}
    )
    override = RuleOverride.objects.get()
    assert saved.overrides == [override]
    assert override.rule == OverrideRule.CONTRAINDICATION and override.overridden_by == manager_user


def test_isotretinoin_outside_the_washout_is_no_contraindication(case, consent, technician, staff_user):
    case.client.isotretinoin_last_dose = TODAY - datetime.timedelta(days=250)
    case.client.save()
    save(proposed(case, technician), staff_user)
    assert LaserSession.objects.count() == 1


def test_keloid_history_is_only_a_warning(case, consent, technician, staff_user):
    case.client.keloid_history = True
    case.client.save()
    factories.AcceptedPlanFactory(case=case)
    findings = rules.laser_session_findings(
        case=case, scheduled_at=at(0), status="completed", technician=technician, wavelength_nm=1064, zones=zones()
    )
    assert [(f.code, f.severity) for f in findings] == [("keloid", rules.Severity.WARNING)]
    save(proposed(case, technician), staff_user)
    assert LaserSession.objects.count() == 1
    assert not RuleOverride.objects.exists()


def test_editing_notes_of_an_earlier_session_is_not_refused_by_flags_set_since(case, consent, technician, staff_user):
    session = save(proposed(case, technician, when=at(-14)), staff_user).session
    case.client.active_infection = True  # noted at the follow-up, after the session
    case.client.save()
    session.adverse_event_notes = "Infection at the crown, treated by GP."
    save(session, staff_user)
    # Changing what the rules judge (the zones) runs them again.
    assert "only a manager" in refused(session, staff_user, zone_codes=[Zone.CROWN])


def test_a_cancelled_session_is_not_judged(case, technician, staff_user):
    session = LaserSession.objects.get(pk=earlier(case, 3, status=SessionStatus.SCHEDULED).pk)
    session.status = SessionStatus.CANCELLED
    save(session, staff_user)  # no consent, yet cancelling works
    assert LaserSession.objects.get().status == SessionStatus.CANCELLED


# --- through the views --------------------------------------------------------------------------------


def form_data(technician, **overrides) -> dict:
    data = {
        "scheduled_at": "2026-11-25T10:30",
        "status": "completed",
        "technician": technician.pk,
        "wavelength_choice": "1064",
        "wavelength_other": "",
        "spot_size_mm": "4",
        "fluence_j_cm2": "3.5",
        "passes": "1",
        "zones": [ZoneLookup.objects.get(code=Zone.FRONTAL_HAIRLINE).pk],
    }
    data.update(overrides)
    return data


def create_url(case) -> str:
    return reverse("cases:laser_session_create", kwargs={"case_id": case.public_id})


def test_the_form_shows_contraindications_and_the_warnings(as_staff, case, consent, technician):
    case.client.keloid_history = True
    case.client.isotretinoin_last_dose = TODAY - datetime.timedelta(days=30)
    case.client.fitzpatrick_type = Fitzpatrick.V
    case.client.save()
    earlier(case, -35, wavelength_nm=755)  # the new form copies 755 nm from it
    response = as_staff.get(create_url(case))
    html = response.content.decode()
    assert response.status_code == 200
    top = html.index("Contraindications")
    assert top < html.index("Safety checks") < html.index('name="scheduled_at"')
    assert "Keloid history" in html and "Isotretinoin within 6 months (last dose 26 Oct 2026)" in html
    assert "blocks laser: manager override only" in html
    assert "Frontal hairline on 21 Oct 2026 (5 weeks before this session)" in html
    assert "Fitzpatrick type V skin with 755 nm" in html
    assert 'name="override_zone_interval"' in html and 'name="override_dark_skin_wavelength"' in html
    # Staff cannot override a blocking contraindication: no tick box, a clear note instead.
    assert 'name="override_contraindication"' not in html
    assert "Only a manager can override this contraindication." in html


def test_a_manager_is_offered_the_contraindication_override(as_manager, case, consent, technician):
    case.client.active_infection = True
    case.client.save()
    html = as_manager.get(create_url(case)).content.decode()
    assert 'name="override_contraindication"' in html
    assert 'data-reveal-when-checked="div_id_override_contraindication_reason"' in html


def test_post_without_the_override_saves_nothing(as_staff, case, consent, technician):
    earlier(case, -35)
    response = as_staff.post(create_url(case), form_data(technician))
    assert response.status_code == 200
    assert "Tick the override and give a reason to go ahead." in response.content.decode()
    assert LaserSession.objects.count() == 1
    assert not RuleOverride.objects.exists()


def test_post_with_the_override_saves_the_session_and_the_override(as_staff, staff_user, case, consent, technician):
    earlier(case, -35)
    data = form_data(technician, override_zone_interval="on", override_zone_interval_reason="Client flies home")
    response = as_staff.post(create_url(case), data, follow=False)
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:case_detail", kwargs={"case_id": case.public_id})
    session = LaserSession.objects.latest_first().first()
    override = RuleOverride.objects.get()
    assert (override.laser_session, override.reason, override.overridden_by) == (
        session,
        "Client flies home",
        staff_user,
    )
    message = str(list(response.wsgi_request._messages)[0])
    assert "Overrides recorded: Session on a zone within the minimum interval (reason: Client flies home)" in message


def test_ticking_an_override_without_a_reason_is_a_field_error(as_staff, case, consent, technician):
    earlier(case, -35)
    response = as_staff.post(create_url(case), form_data(technician, override_zone_interval="on"))
    assert response.status_code == 200
    assert response.context["form"].errors["override_zone_interval_reason"] == ["Give a reason for the override."]
    assert LaserSession.objects.count() == 1


def test_staff_posting_a_contraindication_override_is_refused(as_staff, case, consent, technician):
    case.client.active_infection = True
    case.client.save()
    data = form_data(technician, override_contraindication="on", override_contraindication_reason="Looks fine")
    response = as_staff.post(create_url(case), data)
    assert response.status_code == 200
    assert "only a manager can override it" in response.content.decode()
    assert not LaserSession.objects.exists()


def test_manager_posting_a_contraindication_override_saves(as_manager, manager_user, case, consent, technician):
    case.client.active_infection = True
    case.client.save()
    data = form_data(technician, override_contraindication="on", override_contraindication_reason="GP cleared it")
    assert as_manager.post(create_url(case), data).status_code == 302
    override = RuleOverride.objects.get()
    assert override.rule == OverrideRule.CONTRAINDICATION and override.overridden_by == manager_user
    assert override.message == "Active infection or herpes at or near the site."


def test_missing_consent_and_certification_are_shown_and_refuse_the_post(as_staff, case):
    uncertified = factories.ArtistFactory(first_name="Uma", last_name="Uncertified")
    html = as_staff.get(create_url(case)).content.decode()
    assert "no signed laser treatment consent in force" in html
    response = as_staff.post(create_url(case), form_data(uncertified))
    html = response.content.decode()
    assert response.status_code == 200
    assert "no signed laser treatment consent in force" in html
    assert "Uma Uncertified holds no laser safety certification valid on 25 Nov 2026" in html
    assert not LaserSession.objects.exists()


def test_edit_page_shows_the_recorded_overrides(as_staff, staff_user, case, consent, technician):
    earlier(case, -35)
    session = save(proposed(case, technician), staff_user, overrides={OverrideRule.ZONE_INTERVAL: "Agreed"}).session
    html = as_staff.get(reverse("cases:laser_session_edit", kwargs={"session_id": session.public_id})).content.decode()
    assert "Recorded overrides" in html and "Reason:</span> Agreed" in html
    # Overridden already for exactly this: no second override is asked for.
    assert 'name="override_zone_interval"' not in html


# --- rule 6: laser work without an agreed plan is a warning ------------------------------------------------


def test_a_case_without_an_agreed_plan_is_warned_about_not_blocked(as_staff, case, consent, technician):
    html = as_staff.get(create_url(case)).content.decode()
    safety = html[html.index("Safety checks") : html.index('name="scheduled_at"')]
    assert rules.NO_AGREED_PLAN in safety and ">warning</span>" in safety
    assert 'name="override_' not in html  # nothing to override: it never blocks
    booking = form_data(technician, status="scheduled", scheduled_at="2026-12-20T10:00")
    response = as_staff.post(create_url(case), booking)
    assert response.status_code == 302
    warnings = [str(m) for m in response.wsgi_request._messages if m.level_tag == "warning"]
    assert warnings == [rules.NO_AGREED_PLAN]
    assert LaserSession.objects.get().status == SessionStatus.SCHEDULED


def test_only_an_agreed_plan_silences_the_warning(case, consent, technician, staff_user):
    def warnings() -> list[str]:
        findings = rules.laser_session_findings(
            case=case, scheduled_at=at(0), status="completed", technician=technician, wavelength_nm=1064, zones=zones()
        )
        return [f.message for f in findings if f.severity == rules.Severity.WARNING]

    assert warnings() == [rules.NO_AGREED_PLAN]
    factories.TreatmentPlanFactory(case=case)
    factories.ApprovedPlanFactory(case=case, version=2)  # approved, not yet accepted by the client
    assert warnings() == [rules.NO_AGREED_PLAN]
    saved = save(proposed(case, technician), staff_user)
    assert saved.warnings == (rules.NO_AGREED_PLAN,)
    factories.AcceptedPlanFactory(case=case, version=3)
    assert warnings() == []
    assert save(proposed(case, technician, when=at(-50)), staff_user).warnings == ()


# --- one owner for overrides: what the form offers is what the service judges ------------------------------


def test_the_form_offers_exactly_the_overrides_the_service_judges(as_staff, staff_user, case, consent, technician):
    case.client.active_infection = True
    case.client.save()
    earlier(case, -35)
    response = as_staff.get(create_url(case))
    form = response.context["form"]
    findings = rules.laser_session_findings(case=case, **form.proposal())
    calls = rules.overrides_called_for(findings, by=staff_user)
    assert [(c.rule, c.allowed) for c in calls] == [
        (OverrideRule.ZONE_INTERVAL, True),
        (OverrideRule.CONTRAINDICATION, False),
    ]
    rows = response.context["override_rows"]
    assert [(r.rule, r.message, r.manager_only, r.allowed) for r in rows] == [
        (c.rule, c.message, c.manager_only, c.allowed) for c in calls
    ]
    # The service refuses by the same answer: staff's reason counts for the interval only.
    errors, to_record = rules.resolve(
        findings, overrides={OverrideRule.ZONE_INTERVAL: "Agreed", OverrideRule.CONTRAINDICATION: "Fine"}, by=staff_user
    )
    assert errors == [calls[1].refusal]
    assert to_record == {OverrideRule.ZONE_INTERVAL: calls[0].message}
