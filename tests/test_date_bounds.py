"""Every clinical date is bounded on the model itself: nothing before 1900, nothing that
records what happened dated in the future (the clinic's today), no booking years ahead.
Forms, services (full_clean) and the admin therefore refuse the same dates alike."""

from __future__ import annotations

import datetime
from functools import partial

import pytest
import time_machine
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from artists import services as artist_services
from artists.models import Certification
from cases.choices import Healing, IssueKind, PhotoAngle, PhotoKind, Zone
from cases.services import cases, clients, followups, photos
from smpclinic.dates import clinic_today
from tests import factories
from tests.cases.test_photo_processing import stored_files
from tests.cases.test_photo_views import jpeg_file
from tests.formdata import form_data

pytestmark = pytest.mark.django_db

OLD = datetime.date(1899, 12, 31)
DAY = datetime.timedelta(days=1)


def _at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


# (factory, field, kind): every bounded date of the clinical models. "past": what
# happened (1900 to today); "booking": what is booked or in force from a day (1900 to
# five years ahead); "from_1900": an expiry, which may be any time later.
BOUNDED = [
    (factories.CaseFactory, "opened_on", "past"),
    (factories.CaseFactory, "closed_on", "past"),
    (factories.CaseFactory, "original_date", "past"),
    (factories.CaseFactory, "expectations_discussed_on", "past"),
    (factories.IssueFactory, "identified_on", "past"),
    (factories.IssueFactory, "resolved_on", "past"),
    (factories.ClientFactory, "date_of_birth", "past"),
    (factories.ClientFactory, "isotretinoin_last_dose", "past"),
    (factories.ClientFactory, "immunosuppression_last", "past"),
    (factories.PhotoFactory, "taken_on", "past"),
    (factories.ConsentFactory, "signed_at", "past"),
    (factories.ConsentFactory, "withdrawn_at", "past"),
    (factories.CompletedFollowUpFactory, "completed_on", "past"),
    (factories.CertificationFactory, "issued_on", "past"),
    (factories.CertificationFactory, "expires_on", "from_1900"),
    (factories.LaserDeviceFactory, "last_serviced_on", "past"),
    (factories.ConsultationFactory, "held_at", "booking"),
    (factories.ConsentTextFactory, "effective_from", "booking"),
    (factories.ConsentTextFactory, "retired_on", "booking"),
]


@pytest.mark.parametrize(
    ("factory", "field", "kind"), BOUNDED, ids=[f"{f._meta.model.__name__}.{n}" for f, n, _ in BOUNDED]
)
def test_the_model_refuses_dates_out_of_bounds(factory, field, kind):
    record = factory()
    is_time = record._meta.get_field(field).get_internal_type() == "DateTimeField"
    today = clinic_today()
    refused = [OLD]
    if kind == "past":
        refused.append(today + DAY)
    elif kind == "booking":
        refused.append(today.replace(year=today.year + 6))
    for day in refused:
        setattr(record, field, _at(day) if is_time else day)
        with pytest.raises(ValidationError) as refusal:
            record.full_clean()
        assert field in refusal.value.message_dict, (field, day)
    setattr(record, field, _at(today) if is_time else today)
    record.full_clean(exclude=[f.name for f in record._meta.fields if f.name != field])  # today is fine


def test_every_date_of_the_clinical_models_is_bounded_or_set_by_the_code():
    """A new date field on a clinical model gets a bound here, or is added to the list of
    dates only the code writes (timestamps, sign-off times, invitation expiry)."""
    set_by_the_code = {
        "AccessEvent.at", "FollowUp.due_on", "FollowUp.reviewed_at", "TreatmentPlan.submitted_at",
        "TreatmentPlan.approved_at", "TreatmentPlan.accepted_at", "PlanStep.target_date",
        "LaserSession.scheduled_at", "CorrectionSession.scheduled_at", "PortalInvitation.expires_at",
        "PortalInvitation.used_at", "PortalInvitation.revoked_at", "SentReminder.claimed_at",
        "SentReminder.sent_at", "Booking.starts_at", "Booking.ends_at", "CalendarFeed.revoked_at",
    }  # fmt: skip
    # FollowUp.due_on, PlanStep.target_date and the sessions' times are bookings bounded
    # by their services and SessionBase.clean (tests/test_malformed_input.py); a booking's
    # times are its session's time (or a follow-up's day) and the length the form bounds.
    dates = {
        f"{model.__name__}.{field.name}"
        for app in ("cases", "artists")
        for model in apps.get_app_config(app).get_models()
        if not model.__name__.startswith("Historical")
        for field in model._meta.concrete_fields
        if isinstance(field, models.DateField)  # DateTimeField included
        and field.name not in ("created_at", "updated_at", "archived_at")
    }
    bounded = {f"{factory._meta.model.__name__}.{field}" for factory, field, _ in BOUNDED}
    assert dates == bounded | set_by_the_code


def _snapshot(record) -> dict:
    stored = type(record)._base_manager.get(pk=record.pk)
    return {f.attname: getattr(stored, f.attname) for f in stored._meta.concrete_fields}


def _row_counts() -> dict:
    """Rows of every clinical model and history table; not the access log, which records
    the request itself."""
    return {
        model.__name__: model._base_manager.count()
        for app in ("cases", "artists")
        for model in apps.get_app_config(app).get_models()
        if model.__name__ != "AccessEvent"
    }


def _case():
    case = factories.CaseFactory(original_date=None, expectations_discussed_on=None)
    return reverse("cases:case_edit", args=[case.public_id]), case, {}


def _issue_new():
    case = factories.CaseFactory()
    return reverse("cases:issue_create", args=[case.public_id]), None, {}


def _consultation_new():
    case = factories.CaseFactory()
    return reverse("cases:consultation_create", args=[case.public_id]), None, {}


def _client():
    client = factories.ClientFactory()
    return reverse("cases:client_edit", args=[client.public_id]), client, {}


def _certification_new():
    artist = factories.ArtistFactory()
    return (
        reverse("artists:certification_add", args=[artist.public_id]),
        None,
        {"kind": "laser_safety", "issuer": "Board"},
    )


def _followup_done():
    followup = factories.FollowUpFactory(due_on=clinic_today() - DAY)
    return reverse("cases:followup_complete", args=[followup.public_id]), followup, {"healing": Healing.AS_EXPECTED}


def _six_years_ahead() -> datetime.datetime:
    today = clinic_today()
    return _at(today.replace(year=today.year + 6))


# name: (staff -> the service call, its records made first; the field it names). The
# services refuse too, for any caller (an import, a task, the shell), and store nothing.
SERVICE_CASES = {
    "case_open in 1899": (
        lambda staff: partial(cases.case_open, client=factories.ClientFactory(), opened_on=OLD),
        "opened_on",
    ),
    "case_update original SMP tomorrow": (
        lambda staff: partial(
            cases.case_update, case=factories.CaseFactory(), by=staff, original_date=clinic_today() + DAY
        ),
        "original_date",
    ),
    "consultation_create six years ahead": (
        lambda staff: partial(
            cases.consultation_create, case=factories.CaseFactory(), staff=staff, held_at=_six_years_ahead()
        ),
        "held_at",
    ),
    "issue_create in 1899": (
        lambda staff: partial(
            cases.issue_create,
            case=factories.CaseFactory(),
            by=staff,
            kind=IssueKind.UNNATURAL_HAIRLINE,
            zone=Zone.FRONTAL_HAIRLINE,
            severity=2,
            identified_on=OLD,
        ),
        "identified_on",
    ),
    "client_update born in 1899": (
        lambda staff: partial(clients.client_update, client=factories.ClientFactory(), date_of_birth=OLD),
        "date_of_birth",
    ),
    "followup_complete tomorrow": (
        lambda staff: partial(
            followups.followup_complete,
            followup=factories.FollowUpFactory(due_on=clinic_today() - DAY),
            completed_on=clinic_today() + DAY,
            healing=Healing.AS_EXPECTED,
            by=staff,
        ),
        "completed_on",
    ),
    "photo_upload taken tomorrow": (
        lambda staff: partial(
            photos.photo_upload,
            case=factories.CaseFactory(),
            files=[jpeg_file()],
            kind=PhotoKind.BEFORE,
            angle=PhotoAngle.FRONT,
            taken_on=clinic_today() + DAY,
            uploaded_by=staff,
        ),
        "taken_on",
    ),
    "certification_add in 1899": (
        lambda staff: partial(
            artist_services.certification_add,
            artist=factories.ArtistFactory(),
            kind=Certification.Kind.LASER_SAFETY,
            issuer="Board",
            issued_on=OLD,
            by=factories.ManagerUserFactory(),
        ),
        "issued_on",
    ),
}


@pytest.mark.parametrize("case", SERVICE_CASES.values(), ids=SERVICE_CASES.keys())
def test_the_services_refuse_the_same_dates_and_store_nothing(case, staff_user, settings):
    make, field = case
    call = make(staff_user)
    counts = _row_counts()
    with pytest.raises(ValidationError) as refusal:
        call()
    assert field in refusal.value.message_dict, refusal.value.message_dict
    assert _row_counts() == counts
    assert stored_files(settings) == []  # no photo file either


def _photo_upload():
    case = factories.CaseFactory()
    return reverse("cases:photo_upload", args=[case.public_id]), None, {"images": [jpeg_file()]}


TOMORROW = "tomorrow"
FAR_AHEAD = "in six years"
FUTURE = "cannot be in the future"
BEFORE_1900 = "Choose a date from 1 Jan 1900 on."

# (page, field, value, words of the refusal): each form shows the model's or service's
# refusal under the field and saves nothing.
FORM_CASES = [
    (_case, "original_date", "1850-06-01", BEFORE_1900),
    (_case, "original_date", TOMORROW, FUTURE),
    (_case, "expectations_discussed_on", TOMORROW, "future"),
    (_issue_new, "identified_on", "1899-12-31", BEFORE_1900),
    (_issue_new, "resolved_on", TOMORROW, "future"),
    (_consultation_new, "held_at", FAR_AHEAD, "at most 5 years ahead"),
    (_client, "date_of_birth", TOMORROW, "future"),
    (_client, "date_of_birth", "1850-01-01", "1900"),
    (_certification_new, "issued_on", TOMORROW, "future"),
    (_certification_new, "expires_on", "1850-01-01", BEFORE_1900),
    (_followup_done, "completed_on", TOMORROW, "future"),
    (_photo_upload, "taken_on", TOMORROW, "future"),
]


def _value(value: str, field_html: str) -> str:
    today = clinic_today()
    day = {TOMORROW: today + DAY, FAR_AHEAD: today.replace(year=today.year + 6)}.get(value)
    if day is None:
        return value
    return f"{day.isoformat()}T10:00" if "datetime" in field_html else day.isoformat()


@pytest.mark.parametrize(
    ("open_page", "field", "value", "words"),
    FORM_CASES,
    ids=[f"{open_page.__name__.strip('_')}.{field}={value}" for open_page, field, value, _ in FORM_CASES],
)
def test_each_form_shows_the_bound_under_the_field_and_saves_nothing(
    open_page, field, value, words, as_staff, as_manager
):
    http = as_manager if open_page is _certification_new else as_staff
    url, record, extra = open_page()
    form_page = http.get(url)
    assert form_page.status_code == 200
    html = form_page.content.decode()
    # The page's form that has the field (a page may have a second one, e.g. "missed").
    data = next(d for i in range(html.count("<form")) if field in (d := form_data(html, i)))
    around = html[html.index(f'name="{field}"') - 200 : html.index(f'name="{field}"') + 200]
    data.update(extra, **{field: _value(value, around)})
    counts = _row_counts()
    before = _snapshot(record) if record is not None else None

    response = http.post(url, data)

    assert response.status_code == 200, response.get("Location")
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert words in errors, response.context["form"].errors
    assert escape(errors.split(".")[0]) in response.content.decode()  # shown on the page
    assert _row_counts() == counts  # no row added, history included
    if record is not None:
        assert _snapshot(record) == before


@pytest.mark.parametrize(
    ("zone", "clinic_day"),
    [("Pacific/Kiritimati", datetime.date(2026, 6, 2)), ("Pacific/Pago_Pago", datetime.date(2026, 6, 1))],
)
def test_a_future_date_for_something_that_happened_is_refused_in_the_clinics_time_zone(zone, clinic_day):
    """At 12:00 UTC on 1 June it is already 2 June at UTC+14 and still 1 June at UTC-11:
    "today" is the clinic's, whatever zone the server runs in (a task, the admin, a shell)."""
    from smpclinic.models import ClinicSettings

    clinic = ClinicSettings.load()
    clinic.time_zone = zone
    clinic.save()
    certification = factories.CertificationFactory()
    with time_machine.travel(datetime.datetime(2026, 6, 1, 12, tzinfo=datetime.UTC), tick=False):
        certification.issued_on = clinic_day
        certification.full_clean()
        certification.issued_on = clinic_day + DAY
        with pytest.raises(ValidationError) as refusal:
            certification.full_clean()
    assert refusal.value.message_dict == {
        "issued_on": ["This records something that happened: it cannot be in the future."]
    }
