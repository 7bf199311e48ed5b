"""Client portal: appointments, shared photos, consents and aftercare pages.

Isolation (client B with client A's ids → 404), internal fields never rendered, query
counts flat, and every page with a title, headings in order and labelled fields. Who may
open each page (clients only; staff, managers and admins get 403, anonymous visitors go
to sign in) is tests/test_url_permissions.py's walk.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from cases.choices import (
    ConsentKind,
    CorrectionKind,
    FollowUpKind,
    FollowUpStatus,
    PhotoAngle,
    PhotoKind,
    SessionStatus,
)
from cases.models import Client
from tests import factories
from tests.helpers import assert_queries_hold, kept_for_the_module, sql_of_get

MARK = "ZZ-INTERNAL-MARKER-7Q"
HIDDEN_FLUENCE = "7.77"
SHARED_FLUENCE = "6.66"


def _days(n: int) -> datetime.datetime:
    """Now plus `n` days, on the whole minute: a page's `<time datetime="…">` then shows no
    seconds and microseconds, in which the fluence kept from the client ("7.77") could
    otherwise appear by chance (at hh:mm:07.77…)."""
    return timezone.now().replace(second=0, microsecond=0) + datetime.timedelta(days=n)


@pytest.fixture(scope="module")
def care(django_db_setup, django_db_blocker, tmp_path_factory):
    """Client A's records with a marker in every internal field.

    Made once for the module (the tests read them) and rolled back at its end; what a test
    writes itself is undone after it. The photos' files are kept in a folder of the module's."""
    with (
        override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("portal-care-media")),
        kept_for_the_module(django_db_blocker),
    ):
        client_a = factories.ClientFactory(
            user=factories.ClientUserFactory(username="client-a"), first_name="Alice", last_name="Able"
        )
        manager_user = factories.ManagerUserFactory(username="manager")
        yield {"client": client_a, "manager": manager_user, **_care_records(client_a, manager_user)}


@pytest.fixture
def _private_media():
    """The photos of `care` stay in the module's folder."""


@pytest.fixture
def client_a(care, db):
    """Client A as stored: a copy of its own for each test, so a test that changes it
    (archiving them) changes no other test's."""
    return Client.objects.get(pk=care["client"].pk)


@pytest.fixture
def manager_user(care):
    return care["manager"]


def _care_records(client_a, manager_user) -> dict:
    client_a.internal_notes = MARK
    client_a.medications = MARK
    client_a.save()
    case = factories.CaseFactory(
        client=client_a,
        internal_notes=MARK,
        regret_notes=MARK,
        outcome_notes=MARK,
        original_pigment=MARK,
        # On the day of the first photo below, so the photos are taken within the case.
        opened_on=datetime.date(2026, 1, 5),
    )
    factories.ApprovedPlanFactory(
        case=case, internal_notes=MARK, review_note=MARK, aftercare="PLAN AFTERCARE TEXT", approved_by=manager_user
    )
    factories.ConsultationFactory(case=case, concerns=MARK, findings=MARK, recommendations=MARK, internal_notes=MARK)
    factories.IssueFactory(case=case, description=MARK)
    tech = factories.TechnicianFactory(first_name="Tessa", last_name=MARK)
    hidden = factories.LaserSessionFactory(
        case=case,
        technician=tech,
        device=factories.LaserDeviceFactory(name=MARK),
        scheduled_at=_days(-30),
        fluence_j_cm2=Decimal(HIDDEN_FLUENCE),
        internal_notes=MARK,
        adverse_event_notes=MARK,
        notes_for_client="LASER NOTE FOR CLIENT",
        aftercare_notes="LASER AFTERCARE NOTE",
    )
    shared = factories.LaserSessionFactory(
        case=case,
        technician=tech,
        scheduled_at=_days(-2),
        fluence_j_cm2=Decimal(SHARED_FLUENCE),
        parameters_shared=True,
        internal_notes=MARK,
        adverse_event_notes=MARK,
    )
    booked = factories.CorrectionSessionFactory(
        case=case,
        artist=factories.ArtistFactory(first_name="Arlo", last_name=MARK),
        kind=CorrectionKind.SALINE_REMOVAL,
        scheduled_at=_days(20),
        status=SessionStatus.SCHEDULED,
        pigment=MARK,
        needle=MARK,
        saline_solution=MARK,
        internal_notes=MARK,
        notes_for_client="BRING A HAT",
    )
    cancelled = factories.CorrectionSessionFactory(
        case=case, scheduled_at=_days(10), status=SessionStatus.CANCELLED, internal_notes=MARK
    )
    follow_up = factories.FollowUpFactory(
        case=case,
        kind=FollowUpKind.POST_LASER_CHECK,
        due_on=timezone.localdate() + datetime.timedelta(days=5),
        assignee=factories.StaffUserFactory(first_name="Sam", last_name=MARK),
        notes=MARK,
    )
    factories.FollowUpFactory(
        case=case,
        due_on=timezone.localdate() - datetime.timedelta(days=20),
        status=FollowUpStatus.COMPLETED,
        completed_on=timezone.localdate() - datetime.timedelta(days=20),
        notes=MARK,
        review_note=MARK,
        reviewed_at=timezone.now(),
        reviewed_by=manager_user,
    )
    before = factories.PhotoFactory(
        case=case, shared_with_client=True, kind=PhotoKind.BEFORE, taken_on=datetime.date(2026, 1, 5), caption=MARK
    )
    after = factories.PhotoFactory(
        case=case,
        shared_with_client=True,
        kind=PhotoKind.AFTER,
        taken_on=datetime.date(2026, 6, 5),
        caption=MARK,
        copies_made=True,
    )
    unshared = factories.PhotoFactory(case=case, shared_with_client=False, angle=PhotoAngle.TOP)
    archived_photo = factories.PhotoFactory(case=case, shared_with_client=True, angle=PhotoAngle.CROWN)
    archived_photo.archive(by=manager_user, reason="blurred")
    archived_photo.save()
    archived_case = factories.CaseFactory(client=client_a)
    hidden_case_photo = factories.PhotoFactory(case=archived_case, shared_with_client=True, angle=PhotoAngle.LEFT)
    factories.LaserSessionFactory(case=archived_case, notes_for_client="ARCHIVED CASE NOTE")
    archived_case.archive(by=manager_user, reason="opened by mistake")
    archived_case.save()
    text = factories.ConsentTextFactory(kind=ConsentKind.LASER_TREATMENT, version=1)
    factories.ConsentTextFactory(kind=ConsentKind.PHOTO_CLINICAL, version=1, body="PHOTO CONSENT TEXT")
    consent = factories.ConsentFactory(client=client_a, text=text)
    return {
        "case": case,
        "hidden": hidden,
        "shared": shared,
        "booked": booked,
        "cancelled": cancelled,
        "follow_up": follow_up,
        "before": before,
        "after": after,
        "unshared": unshared,
        "archived_photo": archived_photo,
        "hidden_case_photo": hidden_case_photo,
        "consent": consent,
        "text": text,
    }


def _pages(care) -> list[str]:
    """Every portal_care page, with client A's ids where a page takes one."""
    consent_id = care["consent"].public_id
    compare = reverse("cases:portal_photo_compare")
    return [
        reverse("cases:portal_appointments"),
        reverse("cases:portal_photos"),
        compare,
        f"{compare}?a={care['before'].public_id}&b={care['after'].public_id}",
        f"{compare}?angle=front",
        reverse("cases:portal_consents"),
        reverse("cases:portal_consent_sign"),
        f"{reverse('cases:portal_consent_sign')}?text={care['text'].pk}",
        reverse("cases:portal_consent_detail", kwargs={"consent_id": consent_id}),
        reverse("cases:portal_consent_withdraw", kwargs={"consent_id": consent_id}),
        reverse("cases:portal_aftercare"),
    ]


# ---------------------------------------------------------------- appointments


def test_appointments_show_date_kind_who_and_client_notes(as_client_a, care):
    response = as_client_a.get(reverse("cases:portal_appointments"))
    assert response.status_code == 200
    html = response.content.decode()
    for expected in (
        "Laser session",
        "Saline removal",
        "Check-up after laser",
        "with Tessa",
        "with Arlo",
        "with Sam",
        "LASER NOTE FOR CLIENT",
        "BRING A HAT",
        "Cancelled",
        "Booked",
        "Done",
    ):
        assert expected in html, expected
    assert f"{SHARED_FLUENCE} J/cm²" in html  # the session marked `parameters_shared`
    assert HIDDEN_FLUENCE not in html
    assert "ARCHIVED CASE NOTE" not in html
    upcoming, past = html.split('id="past-heading"')
    assert "BRING A HAT" in upcoming and "Check-up after laser" in upcoming
    assert "LASER NOTE FOR CLIENT" in past
    # Upcoming soonest first: the follow-up in 5 days before the booking in 20.
    assert upcoming.index("Check-up after laser") < upcoming.index("BRING A HAT")


def test_appointments_of_other_clients_never_appear(as_client_b, care):
    html = as_client_b.get(reverse("cases:portal_appointments")).content.decode()
    assert "LASER NOTE FOR CLIENT" not in html and "BRING A HAT" not in html and "Tessa" not in html
    assert "Nothing booked yet" in html


# ---------------------------------------------------------------- photos


def test_photos_only_shared_own_active(as_client_a, care):
    html = as_client_a.get(reverse("cases:portal_photos")).content.decode()
    for key in ("before", "after"):
        assert str(care[key].public_id) in html
    for key in ("unshared", "archived_photo", "hidden_case_photo"):
        assert str(care[key].public_id) not in html, key
    # Before/after pair of the front angle, served through the permission-checked views.
    assert reverse("cases:photo_screen", kwargs={"photo_id": care["before"].public_id}) in html
    assert reverse("cases:photo_thumb", kwargs={"photo_id": care["after"].public_id}) in html
    assert "data-photo-compare" in html
    assert "js/compare.js" in html


def test_compare_takes_own_shared_ids(as_client_a, care):
    url = reverse("cases:portal_photo_compare")
    response = as_client_a.get(url, {"a": care["before"].public_id, "b": care["after"].public_id})
    assert response.status_code == 200
    assert response.context["a"] == care["before"] and response.context["b"] == care["after"]
    assert "151 days apart" in response.content.decode()
    # One id only: compared with the latest photo of its angle.
    response = as_client_a.get(url, {"a": care["before"].public_id})
    assert response.context["b"] == care["after"]
    # No ids: the default pair of the first angle.
    response = as_client_a.get(url)
    assert (response.context["a"], response.context["b"]) == (care["before"], care["after"])


@pytest.mark.parametrize("key", ["unshared", "archived_photo", "hidden_case_photo"])
def test_compare_refuses_photos_not_shared_or_archived(as_client_a, care, key):
    url = reverse("cases:portal_photo_compare")
    assert as_client_a.get(url, {"a": care[key].public_id}).status_code == 404
    assert as_client_a.get(url, {"a": care["before"].public_id, "b": care[key].public_id}).status_code == 404
    assert as_client_a.get(url, {"a": "not-a-uuid"}).status_code == 404


def test_no_photos_yet(as_client_b):
    html = as_client_b.get(reverse("cases:portal_photos")).content.decode()
    assert "has not shared any photos" in html
    assert as_client_b.get(reverse("cases:portal_photo_compare")).status_code == 200


# ---------------------------------------------------------------- isolation and roles


def test_client_b_gets_404_with_client_a_ids(as_client_b, care):
    consent_id = care["consent"].public_id
    compare = reverse("cases:portal_photo_compare")
    urls = [
        f"{compare}?a={care['before'].public_id}",
        f"{compare}?b={care['after'].public_id}",
        f"{compare}?a={care['before'].public_id}&b={care['after'].public_id}",
        reverse("cases:portal_consent_detail", kwargs={"consent_id": consent_id}),
        reverse("cases:portal_consent_withdraw", kwargs={"consent_id": consent_id}),
    ] + [
        reverse(name, kwargs={"photo_id": care[key].public_id})
        for name in ("cases:photo_thumb", "cases:photo_screen", "cases:photo_file")
        for key in ("before", "after")
    ]
    for url in urls:
        assert as_client_b.get(url).status_code == 404, url
    # Client B's list pages carry none of client A's records.
    for url in _pages(care):
        if "consents/" in url and url.count("/") > 4:
            continue  # client A's consent pages, checked above
        html = as_client_b.get(url).content.decode()
        assert str(care["before"].public_id) not in html, url
        assert str(consent_id) not in html, url


def test_archived_client_sees_nothing(as_client_a, client_a, care, manager_user):
    client_a.archive(by=manager_user, reason="left")
    client_a.save()
    for url in _pages(care):
        assert as_client_a.get(url).status_code == 404, url


# ---------------------------------------------------------------- internal notes


def test_internal_fields_never_rendered(as_client_a, care):
    for url in _pages(care):
        response = as_client_a.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert MARK not in html, url
        assert HIDDEN_FLUENCE not in html, url


# ---------------------------------------------------------------- accessibility basics


class _Outline(HTMLParser):
    def __init__(self):
        super().__init__()
        self.title = ""
        self.in_title = False
        self.headings: list[int] = []
        self.fields: list[dict] = []
        self.labels: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "title":
            self.in_title = True
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.headings.append(int(tag[1]))
        elif tag == "label" and attrs.get("for"):
            self.labels.add(attrs["for"])
        elif tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit", "button"):
            self.fields.append(attrs)

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False

    def handle_data(self, data):
        if self.in_title:
            self.title += data


def test_every_page_has_title_ordered_headings_and_labelled_fields(as_client_a, care):
    for url in _pages(care):
        outline = _Outline()
        outline.feed(as_client_a.get(url).content.decode())
        assert outline.title.split("·")[0].strip(), url
        assert outline.headings and outline.headings[0] == 1, (url, outline.headings)
        assert outline.headings.count(1) == 1, url
        for previous, current in zip(outline.headings, outline.headings[1:], strict=False):
            assert current <= previous + 1, (url, outline.headings)
        for attrs in outline.fields:
            assert attrs.get("id") in outline.labels or attrs.get("aria-label"), (url, attrs)


def test_pages_have_viewport_and_no_inline_styles(as_client_a, care):
    for url in _pages(care):
        html = as_client_a.get(url).content.decode()
        assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
        assert "style=" not in html, url
        assert "<script>" not in html, url


# ---------------------------------------------------------------- query counts


def _add_appointments(case, n):
    tech, artist = factories.TechnicianFactory(), factories.ArtistFactory()
    for i in range(n):
        factories.LaserSessionFactory(case=case, technician=tech, scheduled_at=_days(-100 - i), parameters_shared=i % 2)
        factories.CorrectionSessionFactory(
            case=case, artist=artist, scheduled_at=_days(30 + i), status=SessionStatus.SCHEDULED
        )
        factories.FollowUpFactory(case=case, due_on=timezone.localdate() + datetime.timedelta(days=i))


def _add_photos(case, n):
    angles = PhotoAngle.values
    for i in range(n):
        factories.PhotoFactory(
            case=case,
            shared_with_client=True,
            angle=angles[i % len(angles)],
            taken_on=datetime.date(2026, 1, 1) + datetime.timedelta(days=i),
        )


@pytest.mark.parametrize(
    ("url_name", "add", "cap"),
    [
        # session, user, user's groups (role check), own client record, then laser sessions
        # (+ technician), their zones, correction sessions (+ artist), their zones,
        # follow-ups (+ assignee); the access log's insert.
        ("cases:portal_appointments", _add_appointments, 10),
        # session, user, user's groups, own client record, shared photos, the access log.
        ("cases:portal_photos", _add_photos, 6),
    ],
)
def test_query_count_is_flat(as_client_a, client_a, url_name, add, cap):
    case = factories.CaseFactory(client=client_a)
    url = reverse(url_name)
    add(case, 5)
    small = sql_of_get(as_client_a, url)
    add(case, 45)
    large = sql_of_get(as_client_a, url)
    assert_queries_hold(small, large, at_most=cap)
