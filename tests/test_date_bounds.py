"""Every clinical date is bounded on the model itself: nothing before 1900, nothing that
records what happened dated in the future (the clinic's today), no booking years ahead.
Forms, services (full_clean) and the admin therefore refuse the same dates alike."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from smpclinic.dates import clinic_today
from tests import factories
from tests.formdata import form_data

pytestmark = pytest.mark.django_db

OLD = datetime.date(1899, 12, 31)
DAY = datetime.timedelta(days=1)


def _at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


# (factory, field, "past" or "booking"): every bounded date of the clinical models.
BOUNDED = [
    (factories.CaseFactory, "opened_on", "past"),
    (factories.CaseFactory, "original_date", "past"),
    (factories.CaseFactory, "expectations_discussed_on", "past"),
    (factories.IssueFactory, "identified_on", "past"),
    (factories.ClientFactory, "isotretinoin_last_dose", "past"),
    (factories.ClientFactory, "immunosuppression_last", "past"),
    (factories.PhotoFactory, "taken_on", "past"),
    (factories.ConsentFactory, "signed_at", "past"),
    (factories.CertificationFactory, "issued_on", "past"),
    (factories.LaserDeviceFactory, "last_serviced_on", "past"),
    (factories.ConsultationFactory, "held_at", "booking"),
    (factories.ConsentTextFactory, "effective_from", "booking"),
]


@pytest.mark.parametrize(
    ("factory", "field", "kind"), BOUNDED, ids=[f"{f._meta.model.__name__}.{n}" for f, n, _ in BOUNDED]
)
def test_the_model_refuses_dates_out_of_bounds(factory, field, kind):
    record = factory()
    is_time = record._meta.get_field(field).get_internal_type() == "DateTimeField"
    today = clinic_today()
    too_late = today + DAY if kind == "past" else today.replace(year=today.year + 6)
    for day in (OLD, too_late):
        setattr(record, field, _at(day) if is_time else day)
        with pytest.raises(ValidationError) as refused:
            record.full_clean()
        assert field in refused.value.message_dict, (field, day)
    setattr(record, field, _at(today) if is_time else today)
    record.full_clean(exclude=[f.name for f in record._meta.fields if f.name != field])  # today is fine


def test_the_case_form_shows_the_bound_under_the_field_and_saves_nothing(as_staff):
    case = factories.CaseFactory(original_date=None)
    url = reverse("cases:case_edit", args=[case.public_id])
    data = form_data(as_staff.get(url).content)
    response = as_staff.post(url, {**data, "original_date": "1850-06-01"})
    assert response.status_code == 200
    assert response.context["form"].errors["original_date"] == ["Choose a date from 1 Jan 1900 on."]
    case.refresh_from_db()
    assert case.original_date is None


def test_a_future_date_for_something_that_happened_is_refused_in_the_clinics_time_zone(as_staff):
    case = factories.CaseFactory(original_date=None)
    url = reverse("cases:case_edit", args=[case.public_id])
    data = form_data(as_staff.get(url).content)
    tomorrow = (clinic_today() + DAY).isoformat()
    response = as_staff.post(url, {**data, "original_date": tomorrow})
    assert "cannot be in the future" in str(response.context["form"].errors.get("original_date"))
    case.refresh_from_db()
    assert case.original_date is None
