"""The history manager made once per model still reads each record's own history."""

from __future__ import annotations

import pytest

from cases.models import Client
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_history_manager_class_is_made_once_per_model():
    assert type(Client.history) is type(Client.history)


@pytest.mark.history
def test_a_records_history_is_its_own_and_the_models_is_everyones():
    ann, bob = factories.ClientFactory(first_name="Ann"), factories.ClientFactory(first_name="Bob")
    ann.first_name = "Anne"
    ann.save()

    assert [h.first_name for h in ann.history.order_by("history_date", "history_id")] == ["Ann", "Anne"]
    assert [h.first_name for h in bob.history.all()] == ["Bob"]
    assert Client.history.filter(id__in=[ann.pk, bob.pk]).count() == 3
