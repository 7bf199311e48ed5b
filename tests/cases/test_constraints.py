"""Every CheckConstraint refuses a bad value at the database, and model validation
explains the same bad value in words a person understands.

Each case in BAD starts from a valid row built by the factories and changes one thing.
The database check is exercised with a queryset `.update()` (no Python validation in the
way); the model check sets the same values on the instance and calls `full_clean()`.
Single-field ranges are reported under the field's name (its validators); rules that
span several fields are reported under `__all__` with the constraint's message.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import CheckConstraint
from django.forms import modelform_factory
from django.test.utils import CaptureQueriesContext

from cases.models import LaserSession, TreatmentPlan
from smpclinic.constraints import ChecksInOneQuery
from smpclinic.models import ClinicSettings
from tests import factories

MAKERS = {
    "laser": factories.LaserSessionFactory,
    "correction": factories.CorrectionSessionFactory,
    "case": factories.CaseFactory,
    "issue": factories.IssueFactory,
    "follow_up": factories.FollowUpFactory,
    "plan": factories.TreatmentPlanFactory,
    "step": factories.PlanStepFactory,
    "certification": factories.CertificationFactory,
    "consent": factories.ConsentFactory,
    "client": factories.ClientFactory,
    "settings": ClinicSettings.load,
}

DAY = datetime.timedelta(days=1)


def bad(maker: str, changes: dict, constraint: str, reported_on: str, id: str):
    """`changes` values may be callables of the row (for dates relative to it)."""
    return pytest.param(maker, changes, constraint, reported_on, id=id)


ALL = NON_FIELD_ERRORS

BAD = [
    # Laser parameters (docs/domain.md#laser-parameters).
    bad("laser", {"fluence_j_cm2": Decimal("0")}, "laser_fluence_range", "fluence_j_cm2", "fluence-0"),
    bad("laser", {"fluence_j_cm2": Decimal("-1")}, "laser_fluence_range", "fluence_j_cm2", "fluence-negative"),
    bad("laser", {"fluence_j_cm2": Decimal("20.01")}, "laser_fluence_range", "fluence_j_cm2", "fluence-20.01"),
    bad("laser", {"spot_size_mm": Decimal("0.9")}, "laser_spot_size_range", "spot_size_mm", "spot-0.9"),
    bad("laser", {"spot_size_mm": Decimal("10.1")}, "laser_spot_size_range", "spot_size_mm", "spot-10.1"),
    bad("laser", {"wavelength_nm": 399}, "laser_wavelength_range", "wavelength_nm", "wavelength-399"),
    bad("laser", {"wavelength_nm": 1201}, "laser_wavelength_range", "wavelength_nm", "wavelength-1201"),
    bad(
        "laser",
        {"repetition_rate_hz": Decimal("0.4")},
        "laser_repetition_rate_range",
        "repetition_rate_hz",
        "repetition-0.4",
    ),
    bad(
        "laser",
        {"repetition_rate_hz": Decimal("20.1")},
        "laser_repetition_rate_range",
        "repetition_rate_hz",
        "repetition-20.1",
    ),
    bad("laser", {"passes": 0}, "laser_passes_range", "passes", "passes-0"),
    bad("laser", {"passes": 7}, "laser_passes_range", "passes", "passes-7"),
    bad("laser", {"pain_score": 11}, "laser_pain_range", "pain_score", "laser-pain-11"),
    bad("laser", {"estimated_clearance_pct": 101}, "laser_clearance_range", "estimated_clearance_pct", "clearance-101"),
    bad("laser", {"pulse_width": Decimal("0")}, "laser_pulse_width_positive", "pulse_width", "pulse-width-0"),
    bad("laser", {"fluence_j_cm2": None}, "laser_completed_has_parameters", ALL, "completed-without-fluence"),
    bad("laser", {"wavelength_nm": None}, "laser_completed_has_parameters", ALL, "completed-without-wavelength"),
    bad("correction", {"pain_score": 11}, "correction_pain_range", "pain_score", "correction-pain-11"),
    bad("correction", {"duration_minutes": 601}, "correction_duration_range", "duration_minutes", "duration-601"),
    # Issues.
    bad("issue", {"severity": 0}, "issue_severity_range", "severity", "severity-0"),
    bad("issue", {"severity": 6}, "issue_severity_range", "severity", "severity-6"),
    bad(
        "issue",
        {"resolved_on": lambda issue: issue.identified_on - DAY},
        "issue_resolved_after_identified",
        ALL,
        "issue-resolved-before-identified",
    ),
    # Cases.
    bad("case", {"satisfaction": 0}, "case_satisfaction_range", "satisfaction", "case-satisfaction-0"),
    bad("case", {"satisfaction": 6}, "case_satisfaction_range", "satisfaction", "case-satisfaction-6"),
    bad("case", {"original_sessions": 21}, "case_original_sessions_range", "original_sessions", "original-sessions-21"),
    bad(
        "case",
        {"closed_on": lambda case: case.opened_on - DAY},
        "case_closes_after_opening",
        ALL,
        "case-closes-before-opening",
    ),
    bad(
        "case",
        {"status": "closed", "closed_on": factories.TODAY, "outcome": ""},
        "case_closed_has_outcome",
        ALL,
        "closed-without-outcome",
    ),
    bad(
        "case",
        {"status": "closed", "closed_on": None, "outcome": "improved"},
        "case_closed_has_outcome",
        ALL,
        "closed-without-date",
    ),
    bad(
        "case", {"status": "withdrawn", "withdrawn_reason": ""}, "case_withdrawn_has_reason", ALL, "withdrawn-no-reason"
    ),
    # Follow-ups.
    bad("follow_up", {"satisfaction": 0}, "followup_satisfaction_range", "satisfaction", "follow-up-satisfaction-0"),
    bad("follow_up", {"satisfaction": 6}, "followup_satisfaction_range", "satisfaction", "follow-up-satisfaction-6"),
    bad(
        "follow_up",
        {"status": "completed", "completed_on": None},
        "followup_completed_has_date",
        ALL,
        "follow-up-completed-without-date",
    ),
    # Plans: Kirby–Desai (the factory plan scores 3+1+1+3+0+0 = 8). The off-scale cases keep
    # the total equal to the sum so that only the sub-score constraint is in play.
    bad("plan", {"kd_scarring": 2, "kd_total": 10}, "plan_kirby_desai_subscores", "kd_scarring", "kd-scarring-2"),
    bad("plan", {"kd_layering": 1, "kd_total": 9}, "plan_kirby_desai_subscores", "kd_layering", "kd-layering-1"),
    bad("plan", {"kd_skin_type": 7, "kd_total": 12}, "plan_kirby_desai_subscores", "kd_skin_type", "kd-skin-type-7"),
    bad("plan", {"kd_layering": None}, "plan_kirby_desai_total", ALL, "kd-five-of-six-subscores"),
]

# Rows only the database can refuse: the model derives these values itself, so
# full_clean() puts them right instead of reporting them.
DERIVED = [
    bad("plan", {"kd_total": 9}, "plan_kirby_desai_total", ALL, "kd-total-not-the-sum"),
]

BAD += [
    bad("plan", {"status": "accepted"}, "plan_agreed_needs_approval_and_acceptance", ALL, "accepted-without-approval"),
    bad("plan", {"price_estimate": Decimal("-1")}, "plan_price_not_negative", "price_estimate", "negative-price"),
    bad("step", {"interval_weeks": 105}, "planstep_interval_range", "interval_weeks", "step-interval-105"),
    # Certifications and consents.
    bad(
        "certification",
        {"expires_on": lambda cert: cert.issued_on - DAY},
        "certification_expires_after_issued",
        ALL,
        "certification-expires-before-issue",
    ),
    bad(
        "certification",
        {"expires_on": lambda cert: cert.issued_on},
        "certification_expires_after_issued",
        ALL,
        "certification-expires-on-issue-date",
    ),
    bad(
        "consent",
        {"withdrawn_at": lambda consent: consent.signed_at - datetime.timedelta(minutes=1)},
        "consent_withdrawn_after_signed",
        ALL,
        "consent-withdrawn-before-signed",
    ),
    # Clients.
    bad(
        "client",
        {"date_of_birth": datetime.date(1899, 12, 31)},
        "client_date_of_birth_plausible",
        "date_of_birth",  # the model's clean() says it under the field; the constraint backs it
        "client-born-before-1900",
    ),
    # Clinic settings (one row, values within the ranges the rules make sense in).
    bad(
        "settings",
        {"min_laser_interval_weeks": 0},
        "clinicsettings_laser_interval_range",
        "min_laser_interval_weeks",
        "laser-interval-0",
    ),
    bad(
        "settings",
        {"min_laser_interval_weeks": 27},
        "clinicsettings_laser_interval_range",
        "min_laser_interval_weeks",
        "laser-interval-27",
    ),
    bad(
        "settings",
        {"min_saline_interval_weeks": 0},
        "clinicsettings_saline_interval_range",
        "min_saline_interval_weeks",
        "saline-interval-0",
    ),
    bad(
        "settings",
        {"isotretinoin_washout_months": 0},
        "clinicsettings_washout_range",
        "isotretinoin_washout_months",
        "washout-0",
    ),
    bad(
        "settings",
        {"isotretinoin_washout_months": 25},
        "clinicsettings_washout_range",
        "isotretinoin_washout_months",
        "washout-25",
    ),
    bad("settings", {"reminder_lead_days": 0}, "clinicsettings_reminder_range", "reminder_lead_days", "reminder-0"),
    bad("settings", {"reminder_lead_days": 15}, "clinicsettings_reminder_range", "reminder_lead_days", "reminder-15"),
    bad(
        "settings",
        {"idle_logout_minutes": 4},
        "clinicsettings_idle_logout_range",
        "idle_logout_minutes",
        "idle-logout-4",
    ),
    bad(
        "settings",
        {"idle_logout_minutes": 481},
        "clinicsettings_idle_logout_range",
        "idle_logout_minutes",
        "idle-logout-481",
    ),
]


def _resolve(row, changes: dict) -> dict:
    return {name: value(row) if callable(value) else value for name, value in changes.items()}


def _constraint(model, name: str):
    return next(c for c in model._meta.constraints if c.name == name)


@pytest.mark.parametrize(("maker", "changes", "constraint", "reported_on"), BAD + DERIVED)
def test_database_refuses(db, maker, changes, constraint, reported_on):
    row = MAKERS[maker]()
    values = _resolve(row, changes)
    model = type(row)
    before = {name: getattr(row, name) for name in values}

    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        model.objects.filter(pk=row.pk).update(**values)

    # SQLite ("CHECK constraint failed: <name>") and PostgreSQL ("violates check
    # constraint "<name>"") both name the constraint: the right rule fired.
    assert constraint in str(caught.value)
    row.refresh_from_db()
    assert {name: getattr(row, name) for name in values} == before


@pytest.mark.parametrize(("maker", "changes", "constraint", "reported_on"), BAD)
def test_model_validation_explains(db, maker, changes, constraint, reported_on):
    row = MAKERS[maker]()
    row.full_clean()  # the starting row is valid
    for name, value in _resolve(row, changes).items():
        setattr(row, name, value)

    with pytest.raises(ValidationError) as caught:
        row.full_clean()

    errors = caught.value.message_dict
    assert reported_on in errors, errors
    if reported_on == ALL:
        # Rules across fields speak through the constraint's own message.
        message = _constraint(type(row), constraint).violation_error_message
        assert "is violated" not in message  # a sentence for people, not Django's default
        assert message in errors[ALL]
    else:
        assert all(len(text) > 10 for text in errors[reported_on])


def _stock_errors(row, exclude=None) -> dict:
    """What Django's own validation (one query a constraint) reports for `row`."""
    try:
        models.Model.validate_constraints(row, exclude=exclude)
    except ValidationError as error:
        return error.message_dict
    return {}


def _our_errors(row, exclude=None) -> dict:
    try:
        row.validate_constraints(exclude=exclude)
    except ValidationError as error:
        return error.message_dict
    return {}


@pytest.mark.parametrize(("maker", "changes", "constraint", "reported_on"), BAD + DERIVED)
def test_checks_in_one_query_report_what_django_reports(db, maker, changes, constraint, reported_on):
    """The model's check constraints asked in one query (smpclinic.constraints) give
    the same messages as Django asking one at a time, with the fields in play validated
    or left out."""
    row = MAKERS[maker]()
    values = _resolve(row, changes)
    for name, value in values.items():
        setattr(row, name, value)
    if not isinstance(row, ChecksInOneQuery):
        return
    assert _our_errors(row) == _stock_errors(row)
    assert _our_errors(row) != {} or not any(
        c.name == constraint for c in type(row)._meta.constraints if isinstance(c, CheckConstraint)
    )
    assert _our_errors(row, exclude=set(values)) == _stock_errors(row, exclude=set(values))


def test_every_constraint_message_can_be_shown():
    """Django formats a violation message with `%`: a bare percent sign in one would turn
    the refusal into a server error."""
    for model in apps.get_models():
        for constraint in model._meta.constraints:
            assert constraint.get_violation_error_message().strip(), constraint.name


def test_every_model_with_several_check_constraints_asks_them_in_one_query():
    several = [
        model for model in apps.get_models() if sum(isinstance(c, CheckConstraint) for c in model._meta.constraints) > 1
    ]
    assert several and all(issubclass(model, ChecksInOneQuery) for model in several), [
        model.__name__ for model in several if not issubclass(model, ChecksInOneQuery)
    ]


def test_a_laser_sessions_nine_checks_are_one_round_trip(db):
    session = factories.LaserSessionFactory()
    session.fluence_j_cm2 = Decimal("25")
    session.spot_size_mm = Decimal("20")
    with CaptureQueriesContext(connection) as ours:
        mine = _our_errors(session)
    with CaptureQueriesContext(connection) as stock:
        theirs = _stock_errors(session)
    messages = {
        _constraint(LaserSession, name).violation_error_message
        for name in ("laser_fluence_range", "laser_spot_size_range")
    }
    assert mine == theirs and messages <= set(mine[ALL])
    reads = [q["sql"] for q in ours.captured_queries if q["sql"].startswith("SELECT")]
    assert len(reads) == 1 < len([q for q in stock.captured_queries if q["sql"].startswith("SELECT")])


def test_clean_derives_the_kirby_desai_total(db):
    plan = MAKERS["plan"]()
    plan.kd_total = 9
    plan.full_clean()
    assert plan.kd_total == plan.kirby_desai().total != 9


def test_save_is_refused_too(db):
    """The ORM's save() path hits the same database checks as update()."""
    session = factories.LaserSessionFactory()
    session.fluence_j_cm2 = Decimal("25")
    with pytest.raises(IntegrityError, match="laser_fluence_range"), transaction.atomic():
        session.save()


@pytest.mark.parametrize("fluence", [Decimal("20"), Decimal("20.00"), Decimal("19.99")])
def test_fluence_edges_accepted(db, fluence):
    session = factories.LaserSessionFactory()
    LaserSession.objects.filter(pk=session.pk).update(fluence_j_cm2=fluence)
    session.refresh_from_db()
    assert session.fluence_j_cm2 == fluence
    session.full_clean()


@pytest.mark.parametrize("field", ["fluence_j_cm2", "pulse_width"])
def test_smallest_positive_value_passes_validation(db, field):
    """0.01 is the smallest value these two-decimal fields hold, and it is above 0.

    The database accepts it; the model validator must too. `MinValueValidator(0.01)`
    compares Decimal("0.01") with the float 0.01, which is a hair above 0.01, so the
    value is refused with "greater than or equal to 0.01". Fails until the validators
    use Decimal("0.01").
    """
    session = factories.LaserSessionFactory()
    LaserSession.objects.filter(pk=session.pk).update(**{field: Decimal("0.01")})
    session.refresh_from_db()
    assert getattr(session, field) == Decimal("0.01")
    session.full_clean()


@pytest.mark.parametrize("wavelength", [532, 694, 755, 1064, 800, 400, 1200])
def test_wavelengths_accepted(db, wavelength):
    session = factories.LaserSessionFactory(device=None)  # any device also limits its wavelengths
    LaserSession.objects.filter(pk=session.pk).update(wavelength_nm=wavelength)
    session.refresh_from_db()
    assert session.wavelength_nm == wavelength
    session.full_clean()


@pytest.mark.parametrize(
    ("field", "value"),
    [("spot_size_mm", Decimal("1")), ("spot_size_mm", Decimal("10")), ("repetition_rate_hz", Decimal("0.5"))]
    + [("repetition_rate_hz", Decimal("20")), ("passes", 1), ("passes", 6), ("pain_score", 0), ("pain_score", 10)]
    + [("estimated_clearance_pct", 0), ("estimated_clearance_pct", 100)],
)
def test_range_edges_accepted(db, field, value):
    session = factories.LaserSessionFactory()
    LaserSession.objects.filter(pk=session.pk).update(**{field: value})
    session.refresh_from_db()
    assert getattr(session, field) == value
    session.full_clean()


def test_scheduled_laser_session_may_leave_parameters_empty(db):
    session = factories.LaserSessionFactory(
        status="scheduled", wavelength_nm=None, fluence_j_cm2=None, spot_size_mm=None, passes=None
    )
    session.full_clean()
    assert LaserSession.objects.filter(pk=session.pk, fluence_j_cm2__isnull=True).exists()


def test_plan_with_all_subscores_needs_a_total(db):
    """A plan holding six sub-scores and no total must be refused, like any other mismatch.

    The total constraint reads `(all null and total null) or (all set and total = sum)`;
    with a NULL total, `total = sum` is NULL, the whole check is NULL, and SQL lets a
    NULL check pass. Fails until `kd_total__isnull=False` joins the second branch.
    """
    plan = factories.TreatmentPlanFactory()
    assert plan.kd_total == 8
    with pytest.raises(IntegrityError, match="plan_kirby_desai_total"), transaction.atomic():
        TreatmentPlan.objects.filter(pk=plan.pk).update(kd_total=None)


def test_plan_without_any_kirby_desai_is_accepted(db):
    plan = factories.TreatmentPlanFactory(
        kd_skin_type=None, kd_location=None, kd_colour=None, kd_ink_amount=None, kd_scarring=None, kd_layering=None
    )
    plan.full_clean()
    assert plan.kd_total is None


def test_approved_plan_accepted_without_client_acceptance_is_refused(db):
    plan = factories.ApprovedPlanFactory()
    with pytest.raises(IntegrityError, match="plan_agreed_needs_approval_and_acceptance"), transaction.atomic():
        TreatmentPlan.objects.filter(pk=plan.pk).update(status="accepted")
    factories.AcceptedPlanFactory().full_clean()  # approved and accepted: fine


def test_second_clinic_settings_row_is_refused(db):
    ClinicSettings.load()
    with pytest.raises(IntegrityError, match="clinicsettings_single_row"), transaction.atomic():
        ClinicSettings.objects.bulk_create([ClinicSettings(pk=2)])
    assert ClinicSettings.objects.count() == 1


@pytest.mark.parametrize("fluence", ["0", "-1", "20.01", "25"])
def test_laser_form_shows_fluence_error(db, fluence):
    session = factories.LaserSessionFactory()
    Form = modelform_factory(LaserSession, fields=["fluence_j_cm2", "spot_size_mm", "passes"])
    form = Form(data={"fluence_j_cm2": fluence, "spot_size_mm": "4.0", "passes": "1"}, instance=session)

    assert not form.is_valid()
    assert list(form.errors) == ["fluence_j_cm2"]


def test_laser_form_accepts_fluence_in_range(db):
    session = factories.LaserSessionFactory()
    Form = modelform_factory(LaserSession, fields=["fluence_j_cm2", "spot_size_mm", "passes"])
    form = Form(data={"fluence_j_cm2": "7.5", "spot_size_mm": "4.0", "passes": "1"}, instance=session)

    assert form.is_valid(), form.errors
    form.save()
    session.refresh_from_db()
    assert session.fluence_j_cm2 == Decimal("7.50")
