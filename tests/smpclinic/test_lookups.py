"""Choice fields whose options are read once: several in one query (ChoiceRows), or a
field's own queryset shared with code that picks a default among its rows (read_once)."""

from __future__ import annotations

import pytest
from django import forms
from django.db.models import Q

from artists.models import Artist
from cases.models import AdverseEventKind, LaserDevice, ZoneLookup
from smpclinic.lookups import ChoiceRows, offered_rows, read_once
from smpclinic.models import Room
from tests import factories
from tests.helpers import recorded_sql


def _querysets():
    return {
        "person": Artist.objects.internal().filter(archived_at__isnull=True).order_by("first_name", "last_name"),
        "room": Room.objects.all(),
        "device": LaserDevice.objects.all(),
        "zones": ZoneLookup.objects.all(),
        "events": AdverseEventKind.objects.all(),
    }


class ChoicesForm(forms.Form):
    person = forms.ModelChoiceField(queryset=Artist.objects.none())
    room = forms.ModelChoiceField(queryset=Room.objects.none(), required=False)
    device = forms.ModelChoiceField(queryset=LaserDevice.objects.none(), required=False)
    zones = forms.ModelMultipleChoiceField(queryset=ZoneLookup.objects.none(), required=False)
    events = forms.ModelMultipleChoiceField(queryset=AdverseEventKind.objects.none(), required=False)

    def __init__(self, *args, together: bool, **kwargs):
        super().__init__(*args, **kwargs)
        for name, queryset in _querysets().items():
            self.fields[name].queryset = queryset
        if together:
            columns = {"person": ("user_id", "first_name", "last_name"), "room": ("name",), "device": ("name",)}
            ChoiceRows(dict(self.fields), columns)


@pytest.fixture
def offered(db):
    # Names whose order differs by first name, last name and primary key; rooms ordered by
    # position before name; an archived artist, who is not offered.
    for first, last in [("Zed", "Alpha"), ("Anna", "Zulu"), ("Anna", "Baker"), ("Anna", "Baker")]:
        factories.TechnicianFactory(first_name=first, last_name=last)
    factories.ArtistFactory(first_name="Old", last_name="Gone", archived_at="2026-01-01T00:00:00Z")
    Room.objects.create(name="B room", position=1)
    Room.objects.create(name="A room", position=2)
    Room.objects.create(name="C room", position=1)
    factories.LaserDeviceFactory(name="Pico")
    factories.LaserDeviceFactory(name="Alex")


def _options(form) -> dict[str, list[tuple[str, str]]]:
    return {name: [(str(value), label) for value, label in form.fields[name].choices] for name in form.fields}


def test_several_fields_offer_what_their_own_queries_would_in_one_query(offered):
    stock = _options(ChoicesForm(together=False))
    form = ChoicesForm(together=True)
    with recorded_sql() as sql:
        together = _options(form)
        again = _options(form)
    assert together == again
    # The same options as each field's own query (two people of one name may come in
    # either order from that query; here by primary key).
    assert {**together, "person": sorted(together["person"])} == {**stock, "person": sorted(stock["person"])}
    assert [label for _, label in together["person"]] == [
        "---------",
        "Anna Baker",
        "Anna Baker",
        "Anna Zulu",
        "Zed Alpha",
    ]
    bakers = [int(value) for value, label in together["person"] if label == "Anna Baker"]
    assert bakers == sorted(bakers)  # ties in the queryset's order go by primary key
    assert [label for _, label in together["room"]] == ["---------", "B room", "C room", "A room"]
    assert len(sql) == 1


def test_nothing_is_read_until_the_options_are_needed_and_a_post_is_checked_against_the_table(offered):
    room = Room.objects.get(name="A room")
    gone = Artist.objects.get(last_name="Gone")
    with recorded_sql() as sql:
        form = ChoicesForm(together=True)
    assert sql == []
    posted = ChoicesForm({"person": str(gone.pk), "room": str(room.pk)}, together=True)
    assert not posted.is_valid()
    assert "person" in posted.errors  # the archived artist is not among the queryset's rows
    assert posted.cleaned_data["room"] == room
    assert posted.cleaned_data["room"].position == 2  # the whole row, from the table
    assert offered_rows(form.fields["room"])[0].name == "B room"


def test_a_field_read_once_shows_the_rows_code_already_picked_from(offered):
    field = forms.ModelChoiceField(queryset=Room.objects.filter(Q(name__startswith="A") | Q(name__startswith="B")))
    read_once(field)
    with recorded_sql() as sql:
        first = offered_rows(field)[0]
        labels = [label for _, label in field.choices]
    assert (first.name, labels) == ("B room", ["---------", "B room", "A room"])
    assert len(sql) == 1
