"""Every clinical field is in the history, many-to-many included, and the case's history page shows it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import AdverseEventKind, LaserSession, RegretReason
from tests import factories

pytestmark = pytest.mark.django_db


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
