"""A laser session records the client's Fitzpatrick skin type it was booked and treated
with: the type the laser rules judged, kept once the session is completed, and the type
the adverse events report groups it by."""

from __future__ import annotations

import datetime
import importlib
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps

from cases.choices import Fitzpatrick, SessionStatus, Zone
from cases.models import AdverseEventKind, Client, LaserSession, ZoneLookup
from cases.services.sessions import laser_session_save
from tests import factories
from tests.helpers import frozen_at

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 25, 17, 0, tzinfo=datetime.UTC)

frozen_clock = frozen_at(NOW)


@pytest.fixture
def case(db):
    case = factories.CaseFactory(client=factories.ClientFactory(fitzpatrick_type=Fitzpatrick.II))
    factories.ConsentFactory(client=case.client)
    return case


def zones() -> list[ZoneLookup]:
    return list(ZoneLookup.objects.filter(code=Zone.FRONTAL_HAIRLINE))


def retype(client, skin: str) -> None:
    Client.objects.filter(pk=client.pk).update(fitzpatrick_type=skin)


def test_a_session_records_the_skin_type_it_is_treated_with_and_keeps_it(case, staff_user):
    booked = LaserSession(
        case=case,
        technician=factories.TechnicianFactory(),
        scheduled_at=NOW + datetime.timedelta(days=2),
        status=SessionStatus.SCHEDULED,
    )
    session = laser_session_save(session=booked, zones=zones(), by=staff_user).session
    session.refresh_from_db()
    assert session.fitzpatrick_type == Fitzpatrick.II

    # Assessed again before the treatment: the session is treated, and recorded, with type IV.
    retype(case.client, Fitzpatrick.IV)
    with time_machine.travel(NOW + datetime.timedelta(days=3), tick=False):
        session.refresh_from_db()
        session.status = SessionStatus.COMPLETED
        session.wavelength_nm, session.fluence_j_cm2, session.spot_size_mm, session.passes = 1064, Decimal(3), 4, 1
        laser_session_save(session=session, zones=zones(), by=staff_user)
    session.refresh_from_db()
    assert session.fitzpatrick_type == Fitzpatrick.IV

    # A later change of the client's type leaves the completed session as it was treated,
    # also when the session is edited afterwards (an adverse event noted at the check).
    retype(case.client, Fitzpatrick.V)
    with time_machine.travel(NOW + datetime.timedelta(days=10), tick=False):
        session.refresh_from_db()
        session.adverse_event_notes = "Blistering seen at the check."
        blistering = AdverseEventKind.objects.filter(code="blistering")
        laser_session_save(session=session, zones=zones(), adverse_events=blistering, by=staff_user)
    session.refresh_from_db()
    assert session.fitzpatrick_type == Fitzpatrick.IV
    assert session.history.latest().fitzpatrick_type == Fitzpatrick.IV


def test_sessions_recorded_before_the_field_take_their_clients_type():
    """The migration that added the field filled it from each session's client."""
    record_skin_types = importlib.import_module("cases.migrations.0016_laser_session_skin_type").record_skin_types
    light = factories.LaserSessionFactory(case__client__fitzpatrick_type=Fitzpatrick.I, fitzpatrick_type="")
    dark = factories.LaserSessionFactory(case__client__fitzpatrick_type=Fitzpatrick.VI, fitzpatrick_type="")

    record_skin_types(apps, None)

    assert LaserSession.objects.get(pk=light.pk).fitzpatrick_type == Fitzpatrick.I
    assert LaserSession.objects.get(pk=dark.pk).fitzpatrick_type == Fitzpatrick.VI
