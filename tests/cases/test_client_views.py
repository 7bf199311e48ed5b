"""Clients (staff): list, register, edit, detail, consent signed in clinic; and their services."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cases.choices import CaseStatus, ConsentKind, Fitzpatrick
from cases.models import Client, Consent, ConsentText
from cases.services.clients import PossibleDuplicateClient, client_create, client_update
from cases.services.consents import consent_sign
from smpclinic.models import ClinicSettings
from tests import factories
from tests.helpers import assert_queries_hold, frozen_at, sql_of_get

NOW = datetime.datetime(2026, 11, 25, 9, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()
LIST = reverse("cases:client_list")
CREATE = reverse("cases:client_create")


frozen_clock = frozen_at(NOW)


def detail_url(client) -> str:
    return reverse("cases:client_detail", kwargs={"client_id": client.public_id})


def edit_url(client) -> str:
    return reverse("cases:client_edit", kwargs={"client_id": client.public_id})


def consent_url(client) -> str:
    return reverse("cases:consent_record", kwargs={"client_id": client.public_id})


def names_listed(response) -> list[str]:
    return [client.full_name for client in response.context["page"]]


def form_data(**overrides) -> dict:
    data = {
        "lock_version": "1",  # the version an edit form of a new client carries
        "first_name": "Dara",
        "last_name": "Quinn",
        "preferred_name": "",
        "date_of_birth": "1980-03-04",
        "email": "dara@example.com",
        "phone": "07700 900123",
        "address": "1 High Street",
        "fitzpatrick_type": "IV",
        "norwood_stage": "III",
        "allergies": "",
        "medications": "",
        "internal_notes": "Prefers mornings.",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# Permissions ---------------------------------------------------------------------------
# Who may open these pages is tests/test_url_permissions.py's walk; here, what it does not
# check: the exact page a signed-out visitor comes back to, archived clients, refused posts.


def _url(page_name: str, client) -> str:
    return {
        "detail": detail_url(client),
        "edit": edit_url(client),
        "consent": consent_url(client),
    }[page_name]


def test_anonymous_is_sent_to_login(anonymous, client_a):
    url = detail_url(client_a)
    response = anonymous.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize("page_name", ["detail", "edit", "consent"])
def test_archived_client_is_not_found(page_name, as_staff):
    archived = factories.ClientFactory(archived_at=timezone.now())
    assert as_staff.get(_url(page_name, archived)).status_code == 404


def test_client_posting_is_refused_and_saves_nothing(as_client_a, client_a):
    assert as_client_a.post(CREATE, form_data()).status_code == 403
    assert as_client_a.post(edit_url(client_a), form_data()).status_code == 403
    assert not Client.objects.filter(last_name="Quinn").exists()


# Contraindication QuerySet ---------------------------------------------------------------

FLAG_CASES = [
    {"pregnant_or_breastfeeding": True},
    {"photosensitising_medication": True},
    {"gold_therapy": True},
    {"active_infection": True},
    {"open_wounds": True},
    {"recent_sunburn_or_tan": True},
    {"keloid_history": True},
    {"ink_allergy": True},
    {"isotretinoin_last_dose": TODAY - datetime.timedelta(days=30)},
    {"isotretinoin_last_dose": TODAY - datetime.timedelta(days=300)},  # outside 6 months
    {"immunosuppression_last": TODAY - datetime.timedelta(days=60)},
    {"immunosuppression_last": TODAY - datetime.timedelta(days=400)},  # outside 6 months
    {},
]


@pytest.mark.parametrize("fields", FLAG_CASES)
def test_has_contraindication_agrees_with_the_model_method(fields, as_staff):
    client = factories.ClientFactory(**fields)
    expected = bool(client.contraindications())
    assert Client.objects.with_contraindication().filter(pk=client.pk).exists() is expected
    assert Client.objects.without_contraindication().filter(pk=client.pk).exists() is not expected
    listed = re.search(rf'href="[^"]*{client.public_id}/".*?</tr>', as_staff.get(LIST).content.decode(), re.S).group(0)
    assert ('badge text-bg-danger">Contraindication<' in listed) is expected


def test_isotretinoin_uses_the_clinic_washout(db):
    client = factories.ClientFactory(isotretinoin_last_dose=TODAY - datetime.timedelta(days=250))
    assert not Client.objects.with_contraindication().filter(pk=client.pk).exists()  # default 6 months
    clinic = ClinicSettings.load()
    clinic.isotretinoin_washout_months = 12
    clinic.save()
    assert Client.objects.with_contraindication().filter(pk=client.pk).exists()
    assert client.contraindications(clinic=clinic)


# Client list --------------------------------------------------------------------------------


def test_list_shows_active_clients_with_their_columns(as_staff):
    alice = factories.ClientFactory(
        first_name="Alice",
        last_name="Able",
        preferred_name="Al",
        date_of_birth=datetime.date(1990, 12, 1),
        keloid_history=True,
        fitzpatrick_type=Fitzpatrick.V,
    )
    factories.CaseFactory.create_batch(2, client=alice, status=CaseStatus.IN_TREATMENT)
    factories.CaseFactory(client=alice, status=CaseStatus.WITHDRAWN, withdrawn_reason="Moved away")
    factories.CaseFactory(client=alice, archived_at=timezone.now())
    factories.ClientFactory(first_name="Zed", last_name="Gone", archived_at=timezone.now())

    response = as_staff.get(LIST)

    html = response.content.decode()
    assert names_listed(response) == ["Alice Able"]
    pattern = rf"<tr>\s*<td><a href=\"{detail_url(alice)}\">Able, Alice</a>.*?</tr>"
    row = re.search(pattern, html, re.S).group(0)
    assert '</a> <span class="text-body-secondary">(Al)</span></td>' in row
    assert "1 Dec 1990 (35)" in row
    assert "<td>V</td>" in row
    assert '<td class="num">2</td>' in row  # withdrawn and archived cases are not open
    assert "Contraindication" in row
    assert "Gone" not in html


def test_the_list_and_a_search_order_names_whatever_their_letter_case(as_staff):
    for last_name in ["Walker", "de Vries", "Collins", "van Dijk", "Green"]:
        factories.ClientFactory(first_name="Ann", last_name=last_name)
    in_order = ["Collins", "de Vries", "Green", "van Dijk", "Walker"]

    def surnames(response):
        return [name.split(" ", 1)[1] for name in names_listed(response)]

    assert surnames(as_staff.get(LIST)) == in_order
    assert surnames(as_staff.get(LIST, {"q": "ann"})) == in_order


@pytest.mark.parametrize(
    "query", ["alice", "ABLE", "alice.able@example.com", "07700 111222", "SMP-2026-0001", "smp-2026-0001", "alice able"]
)
def test_search_by_name_email_phone_or_case_reference(query, as_staff):
    alice = factories.ClientFactory(
        first_name="Alice", last_name="Able", email="alice.able@example.com", phone="07700 111222"
    )
    factories.CaseFactory(client=alice, reference="SMP-2026-0001")
    factories.ClientFactory(first_name="Bob", last_name="Baker")

    response = as_staff.get(LIST, {"q": query})

    assert names_listed(response) == ["Alice Able"]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("lopez", ["Iñés López", "Marta Lopez"]),  # typed without its accents
        ("LÓPEZ", ["Iñés López", "Marta Lopez"]),  # or with them, either spelling found
        ("ines", ["Iñés López"]),
        ("wisniewski", ["Zoë Wiśniewski"]),
        ("Zoe", ["Zoë Wiśniewski"]),
        ("strasse", ["Jörg Straße"]),  # ß written out
        ("Orsted", ["Søren Ørsted"]),  # letters that are not a letter and a mark
        ("jorg", ["Jörg Straße"]),
        ("marta", ["Marta Lopez"]),
    ],
)
def test_names_are_found_whatever_their_accents(query, found, as_staff):
    for first, last in [("Iñés", "López"), ("Marta", "Lopez"), ("Zoë", "Wiśniewski"), ("Jörg", "Straße")]:
        factories.ClientFactory(first_name=first, last_name=last)
    factories.ClientFactory(first_name="Søren", last_name="Ørsted")

    assert sorted(names_listed(as_staff.get(LIST, {"q": query}))) == found


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("Ann.Smith@Example.COM", ["Ann Smith"]),  # a whole address: its owner, in any letter case
        ("ann.smith@example.co", []),  # not an address anyone has
        ("smith@example", ["Ann Smith", "Joann Smith"]),  # part of one: every address holding it
        ("example.com", ["Ann Smith", "Joann Smith"]),
    ],
)
def test_a_whole_email_address_finds_its_owner_and_part_of_one_every_match(query, found, as_staff):
    factories.ClientFactory(first_name="Ann", last_name="Smith", email="ann.smith@example.com")
    factories.ClientFactory(first_name="Joann", last_name="Smith", email="joann.smith@example.com")

    assert names_listed(as_staff.get(LIST, {"q": query})) == found


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("SMP-2026-12", ["Alice Able", "Bob Baker"]),  # the start of a reference
        ("smp-2026-123", ["Alice Able", "Bob Baker"]),  # in any letter case
        ("2026-1234", ["Alice Able"]),
        ("1234", ["Alice Able"]),  # the number alone, as a client reads it out
        ("1239", ["Bob Baker"]),
        ("0777", ["Carol Cole"]),  # digits still find phone numbers
        ("SMP-2026-99", []),
    ],
)
def test_part_of_a_case_reference_finds_its_client(query, found, as_staff):
    alice = factories.ClientFactory(first_name="Alice", last_name="Able", phone="07700 111222")
    bob = factories.ClientFactory(first_name="Bob", last_name="Baker", phone="07700 333444")
    factories.ClientFactory(first_name="Carol", last_name="Cole", phone="07770 555666")
    factories.CaseFactory(client=alice, reference="SMP-2026-1234")
    factories.CaseFactory(client=bob, reference="SMP-2026-1239")

    response = as_staff.get(LIST, {"q": query})

    assert names_listed(response) == found


def test_a_client_with_several_cases_is_listed_once_whatever_matched(as_staff):
    alice = factories.ClientFactory(first_name="Alice", last_name="Able")
    first, second = factories.CaseFactory(client=alice), factories.CaseFactory(client=alice)

    for query in ("able", first.reference, f"{second.reference} alice"):
        response = as_staff.get(LIST, {"q": query})
        assert names_listed(response) == ["Alice Able"], query
    assert names_listed(as_staff.get(LIST, {"q": f"{first.reference} bob"})) == []


def test_filter_by_case_status_and_lead_artist_on_the_same_case(as_staff):
    artist = factories.ArtistFactory()
    both = factories.CaseFactory(status=CaseStatus.PLANNING, lead_artist=artist).client
    status_only = factories.CaseFactory(status=CaseStatus.PLANNING).client
    artist_only = factories.CaseFactory(status=CaseStatus.ASSESSMENT, lead_artist=artist).client
    split = factories.ClientFactory()  # planning with someone else, assessment with the artist
    factories.CaseFactory(client=split, status=CaseStatus.PLANNING)
    factories.CaseFactory(client=split, status=CaseStatus.ASSESSMENT, lead_artist=artist)

    by_status = as_staff.get(LIST, {"status": "planning"})
    by_artist = as_staff.get(LIST, {"lead_artist": str(artist.public_id)})
    by_both = as_staff.get(LIST, {"status": "planning", "lead_artist": str(artist.public_id)})

    assert set(names_listed(by_status)) == {both.full_name, status_only.full_name, split.full_name}
    assert set(names_listed(by_artist)) == {both.full_name, artist_only.full_name, split.full_name}
    assert names_listed(by_both) == [both.full_name]


def test_filter_by_fitzpatrick_and_contraindication(as_staff):
    dark_flagged = factories.ClientFactory(fitzpatrick_type=Fitzpatrick.VI, active_infection=True)
    dark_clear = factories.ClientFactory(fitzpatrick_type=Fitzpatrick.VI)
    light_flagged = factories.ClientFactory(
        fitzpatrick_type=Fitzpatrick.II, isotretinoin_last_dose=TODAY - datetime.timedelta(days=10)
    )

    assert set(names_listed(as_staff.get(LIST, {"fitzpatrick": "VI"}))) == {
        dark_flagged.full_name,
        dark_clear.full_name,
    }
    assert set(names_listed(as_staff.get(LIST, {"contraindication": "yes"}))) == {
        dark_flagged.full_name,
        light_flagged.full_name,
    }
    assert names_listed(as_staff.get(LIST, {"contraindication": "no"})) == [dark_clear.full_name]
    assert names_listed(as_staff.get(LIST, {"fitzpatrick": "VI", "contraindication": "no"})) == [dark_clear.full_name]


def test_invalid_filter_value_is_reported_and_ignored(as_staff):
    factories.ClientFactory(first_name="Alice")
    response = as_staff.get(LIST, {"status": "lost", "fitzpatrick": "IX"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert names_listed(response) != []


def test_the_filters_are_labelled_described_and_marked_when_refused(as_staff):
    html = as_staff.get(LIST, {"status": "lost", "q": "ann"}).content.decode()

    search = re.search(r"<input[^>]*name=\"q\"[^>]*>", html)[0]
    assert '<label for="id_q" class="form-label">Search</label>' in html
    assert 'aria-describedby="id_q_helptext"' in search and 'class="form-control"' in search
    assert '<div id="id_q_helptext" class="form-text">Name, e-mail, phone or case reference.</div>' in html
    status = re.search(r"<select[^>]*name=\"status\"[^>]*>", html)[0]
    assert 'class="form-select is-invalid"' in status and 'aria-invalid="true"' in status
    assert re.search(r'class="invalid-feedback d-block">Select a valid choice\. lost is not', html)


def test_the_lead_artist_filter_reads_the_artists_once(as_staff, django_assert_num_queries):
    from cases.forms.clients import ClientFilterForm

    artist = factories.ArtistFactory(first_name="Nadia", last_name="Rahman")
    form = ClientFilterForm()
    with django_assert_num_queries(1):
        first, second = str(form["lead_artist"]), str(form["lead_artist"])
    assert first == second and f'value="{artist.public_id}"' in first and "Nadia Rahman" in first


def test_no_match_message(as_staff):
    factories.ClientFactory(first_name="Alice")
    response = as_staff.get(LIST, {"q": "nobody-like-this"})
    assert "No client matches this search." in response.content.decode()


def test_paginated_by_25_keeping_the_filters(as_staff):
    for i in range(30):
        factories.ClientFactory(last_name=f"Keller{i:02d}", fitzpatrick_type=Fitzpatrick.IV)
    factories.ClientFactory(last_name="Other", fitzpatrick_type=Fitzpatrick.I)

    first = as_staff.get(LIST, {"q": "keller", "fitzpatrick": "IV"})
    second = as_staff.get(LIST, {"q": "keller", "fitzpatrick": "IV", "page": 2})

    assert len(names_listed(first)) == 25
    assert len(names_listed(second)) == 5
    assert set(names_listed(first)).isdisjoint(names_listed(second))
    assert 'href="?q=keller&amp;fitzpatrick=IV&amp;page=2"' in first.content.decode()
    assert 'href="?q=keller&amp;fitzpatrick=IV&amp;page=1"' in second.content.decode()
    assert "Page 2 of 2" in second.content.decode()


def test_search_results_are_in_name_order_whatever_the_case_of_the_letters(as_staff):
    for last, first in [("van Dijk", "Zoe"), ("Vance", "Adam"), ("VANCE", "Bea"), ("Avanzi", "Carla")]:
        factories.ClientFactory(last_name=last, first_name=first)
    factories.ClientFactory(last_name="Other", first_name="Ann")

    response = as_staff.get(LIST, {"q": "van"})

    assert names_listed(response) == ["Carla Avanzi", "Zoe van Dijk", "Adam Vance", "Bea VANCE"]


def test_a_search_matching_more_than_a_few_clients_is_paged_by_the_database(as_staff, monkeypatch):
    """Past FEW_MATCHES the list is sorted and counted by the database instead: the same
    pages (the database's order may differ only between names that differ in case)."""
    from cases.views import clients as views

    for i in range(30):
        factories.ClientFactory(last_name=f"Keller{i:02d}")
    few = [names_listed(as_staff.get(LIST, {"q": "keller", "page": n})) for n in (1, 2)]
    monkeypatch.setattr(views, "FEW_MATCHES", 10)
    many = [names_listed(as_staff.get(LIST, {"q": "keller", "page": n})) for n in (1, 2)]

    surnames = [[name.split()[-1] for name in page] for page in few]
    assert few == many
    assert surnames == [[f"Keller{i:02d}" for i in range(25)], [f"Keller{i:02d}" for i in range(25, 30)]]


def _list_rows(n: int, artist):
    for _ in range(n):
        client = factories.ClientFactory(keloid_history=True)
        factories.CaseFactory(client=client, lead_artist=artist, status=CaseStatus.IN_TREATMENT)


def test_list_query_count_does_not_grow(as_staff):
    artist = factories.ArtistFactory()
    _list_rows(5, artist)
    url = f"{LIST}?contraindication=yes&lead_artist={artist.public_id}"
    as_staff.get(url)  # warm up: session, clinic settings
    with_5 = sql_of_get(as_staff, url)
    _list_rows(45, artist)
    with_50 = sql_of_get(as_staff, url)
    # session, user, groups, clinic settings, lead-artist choice, count, page, artists for the select
    assert_queries_hold(with_5, with_50, at_most=10)


# Create --------------------------------------------------------------------------------------


def test_create_form_has_labelled_date_fields(as_staff):
    html = " ".join(as_staff.get(CREATE).content.decode().split())
    assert '<label for="id_date_of_birth"' in html
    assert re.search(r'<input type="date" name="date_of_birth"[^>]*max="2026-11-25"', html)
    assert 'type="date" name="isotretinoin_last_dose"' in html
    assert "save_anyway" not in html  # only offered next to a duplicate warning


def test_create_saves_and_redirects_to_the_client(as_staff):
    response = as_staff.post(CREATE, form_data(email="Dara@Example.com", first_name="  Dara "))
    client = Client.objects.get(last_name="Quinn")
    assert response.status_code == 302
    assert response["Location"] == detail_url(client)
    assert client.first_name == "Dara"
    assert client.email == "dara@example.com"
    assert client.fitzpatrick_type == "IV"
    assert client.date_of_birth == datetime.date(1980, 3, 4)
    follow = as_staff.get(response["Location"])
    assert "Dara Quinn is registered." in follow.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"date_of_birth": "2026-11-26"}, "date_of_birth", "Date of birth cannot be in the future."),
        ({"date_of_birth": "1899-12-31"}, "date_of_birth", "Date of birth must be after 1900."),
        ({"date_of_birth": "04/03/80x"}, "date_of_birth", "Enter a valid date."),
        ({"date_of_birth": None}, "date_of_birth", "This field is required."),
        ({"first_name": ""}, "first_name", "This field is required."),
        ({"last_name": "   "}, "last_name", "This field is required."),
        ({"fitzpatrick_type": ""}, "fitzpatrick_type", "This field is required."),
        ({"fitzpatrick_type": "VII"}, "fitzpatrick_type", "Select a valid choice."),
        ({"norwood_stage": "IX"}, "norwood_stage", "Select a valid choice."),
        ({"email": "not-an-address"}, "email", "Enter a valid email address."),
        ({"isotretinoin_last_dose": "2026-12-01"}, "isotretinoin_last_dose", "This date cannot be in the future."),
        ({"immunosuppression_last": "2027-01-01"}, "immunosuppression_last", "This date cannot be in the future."),
    ],
)
def test_create_refuses_bad_input(overrides, field, message, as_staff):
    response = as_staff.post(CREATE, form_data(**overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    assert any(message in error for error in errors), errors
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not Client.objects.exists()


def test_duplicate_by_name_and_birth_date_warns_and_saves_nothing(as_staff):
    existing = factories.ClientFactory(
        first_name="dara", last_name="QUINN", date_of_birth=datetime.date(1980, 3, 4), email="other@example.com"
    )

    response = as_staff.post(CREATE, form_data())

    html = response.content.decode()
    assert response.status_code == 200
    assert "This client may already be registered" in html
    assert f'href="{detail_url(existing)}"' in html
    assert 'name="save_anyway"' in html
    assert Client.objects.count() == 1


def test_duplicate_by_email_ignoring_case(as_staff):
    existing = factories.ClientFactory(first_name="Other", email="DARA@example.com")
    response = as_staff.post(CREATE, form_data())
    assert response.context["duplicates"] == [existing]
    assert Client.objects.count() == 1


def test_duplicate_confirmed_saves(as_staff):
    factories.ClientFactory(first_name="Dara", last_name="Quinn", date_of_birth=datetime.date(1980, 3, 4))
    response = as_staff.post(CREATE, form_data(save_anyway="on"))
    assert response.status_code == 302
    assert Client.objects.filter(first_name="Dara", last_name="Quinn").count() == 2


@pytest.mark.parametrize(
    "other",
    [
        {"first_name": "Dara", "last_name": "Quinn", "date_of_birth": datetime.date(1981, 3, 4)},
        {"first_name": "Dara", "last_name": "Quinn", "date_of_birth": datetime.date(1980, 3, 4), "archived": True},
    ],
)
def test_no_warning_for_different_birth_date_or_archived_client(other, as_staff):
    archived = other.pop("archived", False)
    factories.ClientFactory(**other, archived_at=timezone.now() if archived else None)
    response = as_staff.post(CREATE, form_data())
    assert response.status_code == 302


# Edit ------------------------------------------------------------------------------------------


def test_edit_form_is_prefilled(as_staff):
    client = factories.ClientFactory(first_name="Erin", date_of_birth=datetime.date(1979, 1, 2))
    html = as_staff.get(edit_url(client)).content.decode()
    assert 'value="Erin"' in html
    assert 'value="1979-01-02"' in html
    assert "Edit Erin" in html


@pytest.mark.history
def test_edit_saves(as_staff):
    client = factories.ClientFactory(first_name="Erin", last_name="Old")
    response = as_staff.post(edit_url(client), form_data(first_name="Erin", last_name="New", keloid_history="on"))
    client.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == detail_url(client)
    assert client.last_name == "New"
    assert client.keloid_history is True
    assert client.history.count() == 2


def test_edit_refuses_bad_input(as_staff):
    client = factories.ClientFactory(first_name="Erin", last_name="Old")
    response = as_staff.post(edit_url(client), form_data(last_name="New", date_of_birth="2030-01-01"))
    assert response.status_code == 200
    assert "Date of birth cannot be in the future." in response.content.decode()
    assert "Edit Erin Old" in response.content.decode()
    client.refresh_from_db()
    assert client.last_name == "Old"


def test_edit_warns_when_the_change_makes_a_duplicate(as_staff):
    existing = factories.ClientFactory(email="taken@example.com")
    client = factories.ClientFactory(first_name="Erin", email="erin@example.com")

    response = as_staff.post(edit_url(client), form_data(first_name="Erin", email="Taken@example.com"))

    assert response.context["duplicates"] == [existing]
    client.refresh_from_db()
    assert client.email == "erin@example.com"
    confirmed = as_staff.post(
        edit_url(client), form_data(first_name="Erin", email="taken@example.com", save_anyway="on")
    )
    assert confirmed.status_code == 302
    client.refresh_from_db()
    assert client.email == "taken@example.com"


def test_edit_of_a_confirmed_duplicate_does_not_ask_again(as_staff):
    factories.ClientFactory(first_name="Dara", last_name="Quinn", date_of_birth=datetime.date(1980, 3, 4))
    twin = factories.ClientFactory(
        first_name="Dara", last_name="Quinn", date_of_birth=datetime.date(1980, 3, 4), email="dara@example.com"
    )
    response = as_staff.post(edit_url(twin), form_data(phone="07700 000000"))
    assert response.status_code == 302
    twin.refresh_from_db()
    assert twin.phone == "07700 000000"


# Services ----------------------------------------------------------------------------------------


def test_client_create_service_refuses_duplicates_until_allowed(db):
    first = client_create(
        first_name="Ann", last_name="Lee", date_of_birth=datetime.date(1970, 1, 1), fitzpatrick_type="I"
    )
    with pytest.raises(PossibleDuplicateClient) as raised:
        client_create(first_name="ANN", last_name="lee", date_of_birth=datetime.date(1970, 1, 1), fitzpatrick_type="I")
    assert raised.value.duplicates == [first]
    client_create(
        first_name="Ann",
        last_name="Lee",
        date_of_birth=datetime.date(1970, 1, 1),
        fitzpatrick_type="I",
        allow_duplicate=True,
    )
    assert Client.objects.count() == 2


def test_client_services_refuse_bad_values_and_unknown_fields(db):
    with pytest.raises(ValidationError) as raised:
        client_create(first_name="Ann", last_name="Lee", date_of_birth=datetime.date(2027, 1, 1), fitzpatrick_type="I")
    assert "Date of birth cannot be in the future." in str(raised.value)
    client = factories.ClientFactory()
    with pytest.raises(ValidationError, match="cannot be set here"):
        client_update(client=client, user=None)
    archived = factories.ClientFactory(archived_at=timezone.now())
    with pytest.raises(ValidationError, match="archived"):
        client_update(client=archived, phone="1")
    assert not Client.objects.filter(date_of_birth=datetime.date(2027, 1, 1)).exists()


# Detail ------------------------------------------------------------------------------------------


def test_detail_shows_contraindications_at_the_top_blocking_in_red(as_staff):
    client = factories.ClientFactory(
        active_infection=True, keloid_history=True, isotretinoin_last_dose=TODAY - datetime.timedelta(days=20)
    )
    html = as_staff.get(detail_url(client)).content.decode()
    panel = re.search(r'<section class="card contraindications.*?</section>', html, re.S).group(0)
    assert html.index("contraindications-heading") < html.index("cases-heading")
    blocking = re.findall(r'<li class="text-danger fw-bold">(.*?)</li>', panel, re.S)
    assert len(blocking) == 2
    assert any("Isotretinoin within 6 months" in item for item in blocking)
    assert any("Active infection" in item for item in blocking)
    assert "Caution</span>Keloid history" in panel


def test_detail_without_contraindications(as_staff):
    client = factories.ClientFactory()
    assert "No contraindications for laser work recorded." in as_staff.get(detail_url(client)).content.decode()


def test_detail_shows_contact_notes_consents_cases_and_actions(as_staff, staff_user):
    client = factories.ClientFactory(
        email="erin@example.com",
        phone="07700 123456",
        allergies="Latex",
        medications="Minoxidil",
        internal_notes="Nervous about lasers.",
    )
    open_case = factories.CaseFactory(client=client, status=CaseStatus.PLANNING)
    archived_case = factories.CaseFactory(client=client, archived_at=timezone.now())
    signed = factories.ConsentFactory(
        client=client,
        text=factories.ConsentTextFactory(kind=ConsentKind.LASER_TREATMENT, version=2),
        witnessed_by=staff_user,
    )
    factories.ConsentFactory(
        client=client,
        text=factories.ConsentTextFactory(kind=ConsentKind.PHOTO_TEACHING),
        withdrawn_at=timezone.now(),
        withdrawn_reason="Changed my mind",
    )

    html = as_staff.get(detail_url(client)).content.decode()

    for text in ("erin@example.com", "07700 123456", "Latex", "Minoxidil", "Nervous about lasers."):
        assert text in html
    assert f'href="{reverse("cases:case_detail", kwargs={"case_id": open_case.public_id})}"' in html
    assert "Planning" in html
    assert archived_case.reference not in html
    consents = re.search(r'aria-labelledby="consents-heading".*?</section>', html, re.S).group(0)
    assert "Laser treatment" in consents and "v2" in consents and "Signed" in consents
    assert signed.signed_name in consents and "in clinic" in consents
    assert "Withdrawn 25 Nov 2026" in consents and "Changed my mind" in consents
    assert reverse("cases:case_create", kwargs={"client_id": client.public_id}) in html
    assert edit_url(client) in html
    assert consent_url(client) in html


def _detail_rows(client, n: int, staff_user):
    for _ in range(n):
        factories.CaseFactory(client=client)
        text = factories.ConsentTextFactory(kind=ConsentKind.DATA_PROCESSING, version=ConsentText.objects.count() + 1)
        factories.ConsentFactory(client=client, text=text, witnessed_by=staff_user)


def test_detail_query_count_does_not_grow(as_staff, staff_user):
    client = factories.ClientFactory(keloid_history=True)
    _detail_rows(client, 5, staff_user)
    url = detail_url(client)
    as_staff.get(url)  # warm up: session, clinic settings
    with_5 = sql_of_get(as_staff, url)
    _detail_rows(client, 45, staff_user)
    with_50 = sql_of_get(as_staff, url)
    # session, user, groups, client, clinic settings, cases, consents
    assert_queries_hold(with_5, with_50, at_most=9)  # +1: the access log's one insert


# Consent signed in clinic ----------------------------------------------------------------------


@pytest.fixture
def texts(db):
    return {
        "laser_v1": factories.ConsentTextFactory(kind=ConsentKind.LASER_TREATMENT, version=1),
        "laser_v2": factories.ConsentTextFactory(kind=ConsentKind.LASER_TREATMENT, version=2, title="Laser v2"),
        "retired": factories.ConsentTextFactory(
            kind=ConsentKind.PHOTO_TEACHING, version=1, retired_on=TODAY - datetime.timedelta(days=1)
        ),
        "future": factories.ConsentTextFactory(
            kind=ConsentKind.DATA_PROCESSING, version=1, effective_from=TODAY + datetime.timedelta(days=5)
        ),
        "data": factories.ConsentTextFactory(kind=ConsentKind.SMP_CORRECTION, version=1, title="SMP correction"),
    }


def test_only_current_versions_are_offered(as_staff, client_a, texts):
    response = as_staff.get(consent_url(client_a))
    offered = list(response.context["form"].fields["text"].queryset)
    assert set(offered) == {texts["laser_v2"], texts["data"]}
    assert set(ConsentText.objects.current()) == {texts["laser_v2"], texts["data"]}
    html = " ".join(response.content.decode().split())
    assert '<label for="id_signed_name"' in html
    assert "<details" in html and texts["laser_v2"].body in html


def test_record_consent(as_staff, staff_user, client_a, texts):
    response = as_staff.post(
        consent_url(client_a),
        {"text": texts["laser_v2"].pk, "signed_name": "  Alice   Able ", "signed_in_clinic": "on"},
        HTTP_USER_AGENT="Clinic tablet",
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 302
    assert response["Location"] == detail_url(client_a)
    consent = Consent.objects.get()
    assert consent.client == client_a
    assert consent.text == texts["laser_v2"]
    assert consent.signed_name == "Alice Able"
    assert consent.signed_in_clinic is True
    assert consent.witnessed_by == staff_user
    assert consent.signed_ip == "10.1.2.3"
    assert consent.signed_user_agent == "Clinic tablet"
    assert consent.signed_at == NOW
    assert "signed by Alice Able is recorded" in as_staff.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"signed_in_clinic": ""}, "signed_in_clinic", "Confirm the client signed in the clinic"),
        ({"signed_name": "   "}, "signed_name", "This field is required."),
        ({"text": ""}, "text", "This field is required."),
        ({"text": "old"}, "text", "Select a valid choice."),
        ({"text": "retired"}, "text", "Select a valid choice."),
    ],
)
def test_record_consent_refuses_bad_input(data, field, message, as_staff, client_a, texts):
    post = {"text": texts["laser_v2"].pk, "signed_name": "Alice Able", "signed_in_clinic": "on"}
    post.update(data)
    if post["text"] in ("old", "retired"):
        post["text"] = texts["laser_v1" if post["text"] == "old" else "retired"].pk
    response = as_staff.post(consent_url(client_a), {k: v for k, v in post.items() if v != ""})
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert not Consent.objects.exists()


def test_a_version_already_in_force_is_not_signed_twice(as_staff, client_a, texts):
    factories.ConsentFactory(client=client_a, text=texts["laser_v2"])
    response = as_staff.post(
        consent_url(client_a), {"text": texts["laser_v2"].pk, "signed_name": "Alice Able", "signed_in_clinic": "on"}
    )
    assert response.status_code == 200
    assert "has already signed" in response.content.decode()
    assert Consent.objects.count() == 1


def test_a_withdrawn_consent_can_be_signed_again(as_staff, client_a, texts):
    factories.ConsentFactory(client=client_a, text=texts["laser_v2"], withdrawn_at=timezone.now())
    response = as_staff.post(
        consent_url(client_a), {"text": texts["laser_v2"].pk, "signed_name": "Alice Able", "signed_in_clinic": "on"}
    )
    assert response.status_code == 302
    assert Consent.objects.in_force().filter(client=client_a).count() == 1


def test_no_current_text_is_explained(as_staff, client_a):
    html = as_staff.get(consent_url(client_a)).content.decode()
    assert "There is no current consent text to sign." in html


def test_consent_service_refuses_a_superseded_version_and_archived_clients(db, staff_user, client_a, texts):
    with pytest.raises(ValidationError, match="not the current version"):
        consent_sign(
            client=client_a,
            text=texts["laser_v1"],
            typed_name="Alice Able",
            witnessed_by=staff_user,
            ip=None,
            user_agent="",
        )
    archived = factories.ClientFactory(archived_at=timezone.now())
    with pytest.raises(ValidationError, match="archived"):
        consent_sign(
            client=archived, text=texts["laser_v2"], typed_name="X", witnessed_by=staff_user, ip=None, user_agent=""
        )
    assert not Consent.objects.exists()
