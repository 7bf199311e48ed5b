"""Every clinical field is in the history, many-to-many included, and the case's history page shows it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import AdverseEventKind, LaserSession, RegretReason
from tests import factories

# Each record's history from its creation on.
pytestmark = [pytest.mark.django_db, pytest.mark.history]


def _events(entry) -> set[str]:
    return set(entry.adverse_events.values_list("adverseeventkind__code", flat=True))


def test_a_removed_adverse_event_can_be_recovered_from_history():
    session = factories.LaserSessionFactory()
    blistering, crusting = AdverseEventKind.objects.filter(code__in=["blistering", "crusting"])
    session.adverse_events.set([blistering, crusting])
    session.adverse_events.set([crusting])  # a later save dropped blistering

    versions = list(LaserSession.history.filter(id=session.pk).order_by("history_date", "history_id"))

    assert [_events(v) for v in versions][-2:] == [{"blistering", "crusting"}, {"crusting"}]
    assert _events(versions[0]) == set()


def test_the_record_of_an_insert_reads_no_many_to_many_rows_and_the_next_one_holds_them():
    case = factories.CaseFactory()
    through = LaserSession.adverse_events.through._meta.db_table

    with CaptureQueriesContext(connection) as queries:
        session = factories.LaserSessionFactory.build(case=case, technician=None, device=None)
        session.technician = factories.TechnicianFactory()
        session.device = factories.LaserDeviceFactory()
        session.save()

    assert not [q for q in queries if through in q["sql"]]
    session.adverse_events.set(AdverseEventKind.objects.filter(code="crusting"))
    first, second = LaserSession.history.filter(id=session.pk).order_by("history_date", "history_id")
    assert (first.history_type, _events(first)) == ("+", set())
    assert (second.history_type, _events(second)) == ("~", {"crusting"})


def test_the_case_history_names_adverse_events_zones_and_regret_reasons_that_changed(as_staff):
    case = factories.CaseFactory()
    session = factories.LaserSessionFactory(case=case)
    session.adverse_events.set(AdverseEventKind.objects.filter(code__in=["blistering"]))
    case.regret_reasons.set(RegretReason.objects.filter(code="suboptimal_result"))

    html = as_staff.get(reverse("cases:case_history", kwargs={"case_id": case.public_id})).content.decode()

    assert "adverse events: + Blistering" in html
    assert "regret reasons: + Suboptimal result (pigment, technique, healing)" in html


def test_one_change_is_not_called_the_latest_1_changes(as_staff):
    case = factories.CaseFactory()

    html = as_staff.get(reverse("cases:case_history", kwargs={"case_id": case.public_id})).content.decode()

    assert "The latest 1 changes" not in html
    assert "One change recorded." in html
