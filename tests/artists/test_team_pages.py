"""Team pages (managers only): artists with their certifications highlighted by expiry,
adding and renewing a certification, permissions and a query cap at two data sizes."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from artists.models import Certification
from artists.services import certification_add, certification_renew
from artists.views import EXPIRED, EXPIRING, VALID, certification_state
from tests import factories
from tests.helpers import assert_queries_hold, frozen_at, messages_of, sql_of_get

NOW = datetime.datetime(2026, 11, 25, 9, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()
DAY = datetime.timedelta(days=1)
TEAM_URL = reverse("artists:team")
# 1 session, 2 user, 3 the user's groups (role check), 4 artists (with their login),
# 5 their specialisations, 6 their certifications, 7 the two-factor device of the verified
# session. The same whatever the size of the team.
QUERY_CAP = 7
LASER = Certification.Kind.LASER_SAFETY


frozen_clock = frozen_at(NOW)


@pytest.fixture
def artist(db):
    return factories.ArtistFactory(first_name="Ada", last_name="Artist")


def add_url(artist) -> str:
    return reverse("artists:certification_add", kwargs={"artist_id": artist.public_id})


def renew_url(certification) -> str:
    return reverse("artists:certification_renew", kwargs={"certification_id": certification.public_id})


def card(response, artist) -> str:
    html = response.content.decode()
    match = re.search(rf'<section id="artist-{artist.public_id}".*?</section>', html, re.S)
    assert match, f"no card for {artist}"
    return match.group(0)


def row_of(html: str, certification) -> str:
    match = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{re.escape(certification.issuer)}.*?</tr>", html, re.S)
    assert match, f"no row for {certification}"
    return match.group(0)


def cert_data(**overrides) -> dict:
    data = {
        "kind": "bloodborne_pathogens",
        "issuer": "Health Board",
        "number": "BBP-1",
        "issued_on": "2026-11-01",
        "expires_on": "2027-11-01",
        "notes": "",
    }
    data.update(overrides)
    return data


# --- permissions ---------------------------------------------------------------------------------------
# Who may open these pages is tests/test_url_permissions.py's walk; here, what it does not
# check: refused posts save nothing, the services' own check, who is on the team.


@pytest.fixture
def certification(artist):
    return factories.CertificationFactory(artist=artist, issuer="Laser Board")


def test_staff_and_clients_posting_are_refused_and_nothing_is_saved(as_staff, as_client_a, artist, certification):
    for http in (as_staff, as_client_a):
        assert http.post(add_url(artist), cert_data()).status_code == 403
        assert http.post(renew_url(certification), cert_data()).status_code == 403
    assert Certification.objects.count() == 1


def test_services_refuse_staff(staff_user, artist, certification):
    with pytest.raises(PermissionDenied):
        certification_add(artist=artist, kind=LASER, issuer="X", issued_on=TODAY, by=staff_user)
    with pytest.raises(PermissionDenied):
        certification_renew(certification=certification, issuer="X", issued_on=TODAY, by=staff_user)


def test_managers_and_superusers_see_the_team(as_manager, as_admin, artist):
    for http in (as_manager, as_admin):
        response = http.get(TEAM_URL)
        assert response.status_code == 200
        assert "Ada Artist" in response.content.decode()


def test_external_and_archived_artists_are_not_on_the_team(as_manager, manager_user, artist):
    external = factories.ExternalArtistFactory(first_name="Otto", last_name="Outside")
    gone = factories.ArtistFactory(first_name="Gina", last_name="Gone")
    gone.archive(by=manager_user, reason="Left the clinic")

    html = as_manager.get(TEAM_URL).content.decode()

    assert "Ada Artist" in html
    assert "Otto Outside" not in html and "Gina Gone" not in html
    assert as_manager.get(add_url(external)).status_code == 404
    assert as_manager.get(add_url(gone)).status_code == 404


# --- highlighting ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expires_on", "state"),
    [
        (TODAY - DAY, EXPIRED),
        (TODAY, EXPIRING),
        (TODAY + 60 * DAY, EXPIRING),
        (TODAY + 61 * DAY, VALID),
        (None, VALID),
    ],
    ids=["yesterday", "today", "in-60-days", "in-61-days", "never"],
)
def test_state_boundaries_match_the_queryset_methods(artist, expires_on, state):
    certification = factories.CertificationFactory(artist=artist, issued_on=TODAY - 400 * DAY, expires_on=expires_on)

    assert certification_state(certification, TODAY) == state
    assert Certification.objects.expired_on(TODAY).filter(pk=certification.pk).exists() is (state == EXPIRED)
    assert Certification.objects.expiring_within(TODAY, 60).filter(pk=certification.pk).exists() is (state == EXPIRING)


def test_expiring_and_expired_certifications_are_highlighted(as_manager, artist):
    expiring = factories.CertificationFactory(
        artist=artist, kind=Certification.Kind.FIRST_AID, issuer="Red Cross", expires_on=TODAY + 30 * DAY
    )
    expired = factories.CertificationFactory(
        artist=artist, kind=Certification.Kind.LICENCE, issuer="City Council", expires_on=TODAY - 10 * DAY
    )
    fine = factories.CertificationFactory(artist=artist, issuer="Laser Board", expires_on=TODAY + 400 * DAY)

    response = as_manager.get(TEAM_URL)
    html = card(response, artist)

    assert 'class="table-warning"' in row_of(html, expiring)
    assert "in 30 days" in row_of(html, expiring)
    assert 'class="table-danger"' in row_of(html, expired)
    assert "10 days ago" in row_of(html, expired)
    assert 'class=""' in row_of(html, fine) and "badge text-bg-success" in row_of(html, fine)
    summary = re.search(r'id="team-summary".*?</div>', response.content.decode(), re.S).group(0)
    assert "1 certification expired." in summary
    assert "1 certification expiring within 60 days." in summary


@pytest.mark.parametrize(
    ("certs", "badge"),
    [
        ([{"expires_on": TODAY + 400 * DAY}], 'text-bg-success">Laser: certified until 30 Dec 2027'),
        ([{"expires_on": None}], 'text-bg-success">Laser: certified</span>'),
        ([{"expires_on": TODAY + 20 * DAY}], 'text-bg-warning">Laser: certified until 15 Dec 2026'),
        ([{"expires_on": TODAY - DAY}], 'text-bg-danger">Laser: certification expired'),
        ([{"kind": Certification.Kind.SMP_TRAINING}], 'text-bg-secondary">Laser: not certified'),
        ([], 'text-bg-secondary">Laser: not certified'),
    ],
    ids=["valid", "no-expiry", "expiring", "expired", "other-kind-only", "none"],
)
def test_laser_certification_status_is_visible(as_manager, artist, certs, badge):
    for overrides in certs:
        factories.CertificationFactory(artist=artist, **overrides)

    assert badge in card(as_manager.get(TEAM_URL), artist)


def test_a_renewed_certification_is_history_not_a_warning(as_manager, artist):
    old = factories.CertificationFactory(
        artist=artist, issuer="Old Board", issued_on=datetime.date(2024, 11, 1), expires_on=TODAY - 5 * DAY
    )
    new = factories.CertificationFactory(
        artist=artist, issuer="New Board", issued_on=TODAY - 10 * DAY, expires_on=TODAY + 700 * DAY
    )

    response = as_manager.get(TEAM_URL)
    html = card(response, artist)

    assert "table-danger" not in html
    assert "earlier" in row_of(html, old) and "renewed" in row_of(html, old)
    assert renew_url(old) not in html
    assert renew_url(new) in html
    assert 'text-bg-success">Laser: certified until' in html
    assert 'id="team-summary"' not in response.content.decode()


# --- adding ----------------------------------------------------------------------------------------------


def test_add_form(as_manager, artist):
    response = as_manager.get(add_url(artist), {"kind": "first_aid"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Add a certification · Ada Artist" in html
    assert '<option value="first_aid" selected>' in html


def test_add_a_certification(as_manager, manager_user, artist):
    response = as_manager.post(add_url(artist), cert_data())

    assert response.status_code == 302
    assert response["Location"] == f"{TEAM_URL}#artist-{artist.public_id}"
    certification = artist.certifications.get()
    assert certification.kind == Certification.Kind.BLOODBORNE_PATHOGENS
    assert certification.issuer == "Health Board" and certification.number == "BBP-1"
    assert certification.issued_on == datetime.date(2026, 11, 1)
    assert certification.expires_on == datetime.date(2027, 11, 1)
    assert messages_of(response) == ["Bloodborne pathogens added for Ada Artist."]
    assert certification.history.first().history_user == manager_user


def test_a_certification_without_expiry(as_manager, artist):
    response = as_manager.post(add_url(artist), cert_data(expires_on=""))
    assert response.status_code == 302
    assert artist.certifications.get().expires_on is None


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"expires_on": "2026-10-01"}, "expires_on", "A certification must expire after it was issued."),
        ({"expires_on": "2026-11-01"}, "expires_on", "A certification must expire after it was issued."),
        ({"issued_on": "2026-11-26"}, "issued_on", "A certification cannot be issued in the future."),
        ({"issuer": ""}, "issuer", "This field is required."),
        ({"issued_on": ""}, "issued_on", "This field is required."),
        ({"kind": "wizardry"}, "kind", "Select a valid choice."),
    ],
    ids=["expires-before-issued", "expires-on-issue-day", "issued-in-future", "no-issuer", "no-date", "bad-kind"],
)
def test_add_validation_errors_are_shown(as_manager, artist, overrides, field, message):
    response = as_manager.post(add_url(artist), cert_data(**overrides))

    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    assert message in response.content.decode()
    assert 'value="Health Board"' in response.content.decode() or field == "issuer", "entries are kept"
    assert not artist.certifications.exists()


def test_add_service_checks_dates_too(manager_user, artist):
    with pytest.raises(ValidationError, match="expire after"):
        certification_add(
            artist=artist, kind=LASER, issuer="X", issued_on=TODAY, expires_on=TODAY - DAY, by=manager_user
        )


# --- renewing --------------------------------------------------------------------------------------------


@pytest.fixture
def expiring(artist):
    return factories.CertificationFactory(
        artist=artist,
        issuer="Laser Board",
        issued_on=datetime.date(2024, 12, 10),
        expires_on=datetime.date(2026, 12, 10),
    )


def test_renew_form_is_prefilled(as_manager, expiring):
    response = as_manager.get(renew_url(expiring))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Renew laser safety · Ada Artist" in html
    assert 'value="Laser Board"' in html
    assert 'value="2026-11-25"' in html, "issued today"
    assert 'value="2028-11-25"' in html, "for the same two-year term"
    assert 'name="kind"' not in html, "a renewal keeps its kind"


def test_renew_adds_a_new_row_and_leaves_the_old_one(as_manager, artist, expiring):
    response = as_manager.post(
        renew_url(expiring),
        {"issuer": "Laser Board", "number": "LS-2", "issued_on": "2026-11-20", "expires_on": "2028-11-20"},
    )

    assert response.status_code == 302
    assert response["Location"] == f"{TEAM_URL}#artist-{artist.public_id}"
    assert messages_of(response) == ["Laser safety renewed for Ada Artist until 20 Nov 2028."]
    renewal = artist.certifications.exclude(pk=expiring.pk).get()
    assert renewal.kind == LASER
    assert (renewal.issued_on, renewal.expires_on, renewal.number) == (
        datetime.date(2026, 11, 20),
        datetime.date(2028, 11, 20),
        "LS-2",
    )
    expiring.refresh_from_db()
    assert expiring.archived_at is None and expiring.expires_on == datetime.date(2026, 12, 10), "old one untouched"
    # Laser work done under the old certificate still passes the rule on its day.
    assert artist.has_valid_laser_certification(datetime.date(2025, 6, 1))
    assert artist.has_valid_laser_certification(datetime.date(2028, 1, 1))
    html = card(as_manager.get(TEAM_URL), artist)
    assert "table-warning" not in html, "the renewal is current, no warning left"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"issued_on": "2024-12-10", "expires_on": "2027-01-01"},
            "issued_on",
            "A renewal must be issued after the certification it renews (issued 10 Dec 2024).",
        ),
        ({"issued_on": "2026-11-20", "expires_on": "2026-11-19"}, "expires_on", "must expire after it was issued"),
        ({"issued_on": "2026-12-01", "expires_on": "2028-12-01"}, "issued_on", "cannot be issued in the future"),
    ],
    ids=["not-after-old", "expires-before-issued", "future"],
)
def test_renew_validation_errors_are_shown(as_manager, artist, expiring, data, field, message):
    response = as_manager.post(renew_url(expiring), {"issuer": "Laser Board", **data})

    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    assert artist.certifications.count() == 1


def test_only_the_latest_can_be_renewed(as_manager, manager_user, artist, expiring):
    certification_renew(
        certification=expiring, issuer="Laser Board", issued_on=TODAY, expires_on=TODAY + 700 * DAY, by=manager_user
    )

    for method in ("get", "post"):
        response = getattr(as_manager, method)(renew_url(expiring), {"issuer": "X", "issued_on": "2026-11-25"})
        assert response.status_code == 302
        assert (
            messages_of(response)[-1]
            == "This certification was already renewed on 25 Nov 2026; renew the latest one instead."
        )
    assert artist.certifications.count() == 2
    with pytest.raises(ValidationError, match="already renewed"):
        certification_renew(certification=expiring, issuer="X", issued_on=TODAY, by=manager_user)


def test_renewing_an_archived_certification_is_404(as_manager, manager_user, expiring):
    expiring.archive(by=manager_user, reason="Entered for the wrong artist")
    assert as_manager.get(renew_url(expiring)).status_code == 404


# --- query cap ---------------------------------------------------------------------------------------------


def _team(n: int) -> None:
    for i in range(n):
        artist = factories.ArtistFactory()
        factories.CertificationFactory(artist=artist, expires_on=TODAY + (i * 20) * DAY)
        factories.CertificationFactory(
            artist=artist, issued_on=datetime.date(2023, 1, 1), expires_on=datetime.date(2024, 1, 1)
        )
        factories.CertificationFactory(artist=artist, kind=Certification.Kind.FIRST_AID, expires_on=TODAY - DAY)


def test_team_query_count_is_capped_and_does_not_grow(as_manager):
    _team(3)
    small = sql_of_get(as_manager, TEAM_URL)
    _team(27)
    large = sql_of_get(as_manager, TEAM_URL)

    assert_queries_hold(small, large, at_most=QUERY_CAP)
    assert Certification.objects.count() == 90
