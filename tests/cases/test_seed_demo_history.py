"""seed_demo --history-years: a clinic ten years old, the volume the benchmark measures.

The clinic's rules still hold for every row (the rule tests of test_seed_demo.py run
again here on this clinic); on top, the earlier courses are closed and back to back,
their clients were adults, the long case has its twenty sessions and thirty photos,
and every photo has files of its own."""

from __future__ import annotations

import datetime
import errno
import hashlib
import io
import os
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from artists.models import Certification
from cases.choices import CaseStatus, PhotoKind
from cases.demo.timeline import FORCED, OLDEST_CASE_DAYS
from cases.models import (
    Case,
    Client,
    Consent,
    ConsentText,
    Consultation,
    CorrectionSession,
    FollowUp,
    Issue,
    LaserSession,
    Photo,
    PlanStep,
    ReferenceCounter,
    TreatmentPlan,
)
from tests.cases.test_seed_demo import (
    seed_demo,
    test_closed_and_withdrawn_cases_are_complete,
    test_laser_sessions_follow_the_clinic_rules,
    test_step_dates_and_statuses_are_what_the_plan_services_would_derive,
)
from tests.helpers import kept_for_the_module

# Run again on the clinic with history: collected in this module, they use its `seeded`.
__all__ = [
    "test_closed_and_withdrawn_cases_are_complete",
    "test_laser_sessions_follow_the_clinic_rules",
    "test_step_dates_and_statuses_are_what_the_plan_services_would_derive",
]

YEARS = 10
CLIENTS = len(FORCED) + 40  # the hand-laid clients, the long case's, and a few random ones


@pytest.fixture(scope="module")
def seeded_once(django_db_setup, django_db_blocker) -> Iterator[str]:
    with kept_for_the_module(django_db_blocker), pytest.MonkeyPatch.context() as patch:
        patch.delenv("DEMO_PASSWORD", raising=False)
        yield seed_demo(clients=CLIENTS, seed=1, history_years=YEARS)


@pytest.fixture
def seeded(seeded_once, db) -> str:
    return seeded_once


@pytest.fixture
def _private_media():
    """The photos stay where the module's seeding wrote them."""


def window_start() -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=OLDEST_CASE_DAYS)


def test_a_fifth_of_the_rows_pass_model_validation(seeded):
    """Every row, as test_seed_demo.py checks, would take ten seconds here."""
    models = (Certification, ConsentText, Client, Case, Issue, Consultation, TreatmentPlan, PlanStep)
    for model in (*models, LaserSession, CorrectionSession, FollowUp, Consent, Photo):
        for row in list(model.objects.order_by("pk"))[::5]:
            row.full_clean()


def test_clients_have_earlier_courses_closed_back_to_back(seeded):
    oldest = timezone.localdate() - datetime.timedelta(days=YEARS * 365)
    earlier = Case.objects.filter(opened_on__lt=window_start())
    assert Case.objects.count() >= 2 * CLIENTS  # a client had two or three courses on average
    assert set(earlier.values_list("status", flat=True)) == {CaseStatus.CLOSED}
    assert earlier.filter(opened_on__lt=oldest).count() == 0
    assert earlier.filter(opened_on__lt=oldest + datetime.timedelta(days=3 * 365)).exists()
    by_client = defaultdict(list)
    for case in Case.objects.order_by("opened_on"):
        by_client[case.client_id].append(case)
    for cases in by_client.values():
        for before, after in zip(cases, cases[1:], strict=False):
            assert before.closed_on is not None and before.closed_on < after.opened_on, (before, after)


def test_clients_were_adults_at_their_first_course(seeded):
    for client in Client.objects.all():
        first = client.cases.order_by("opened_on").first().opened_on
        eighteenth = client.date_of_birth.replace(year=client.date_of_birth.year + 18)
        assert eighteenth <= first, client


def test_the_volume_is_a_chain_clinics(seeded):
    """About eleven sessions and three photos per client, as the benchmark's large clinic
    needs (its figures are in bench/README.md); follow-ups come with the sessions (a
    check after each laser session)."""
    sessions = LaserSession.objects.count() + CorrectionSession.objects.count()
    assert 7 * CLIENTS <= sessions <= 16 * CLIENTS
    assert 2 * CLIENTS <= Photo.objects.count() <= 6 * CLIENTS
    assert FollowUp.objects.count() > sessions / 2


def long_case() -> Case:
    client = Client.objects.order_by("pk")[len(FORCED)]
    return client.cases.get(opened_on__gte=window_start())


def test_one_case_has_twenty_sessions_and_thirty_photos(seeded):
    case = long_case()
    assert case.status == CaseStatus.FOLLOW_UP
    assert case.lasersessions.count() + case.correctionsessions.count() == 20
    assert case.lasersessions.filter(test_spot=True).count() == 1
    photos = list(case.photos.all())
    assert len(photos) == 30
    assert {p.kind for p in photos} == {PhotoKind.BEFORE, PhotoKind.PROGRESS, PhotoKind.AFTER}
    progress = [p for p in photos if p.kind == PhotoKind.PROGRESS]
    assert len({p.laser_session_id or p.correction_session_id for p in progress}) == 19  # all but the test spot
    assert len({p.image.name for p in photos}) == 30
    for photo in photos[:3]:
        with default_storage.open(photo.image.name) as handle, Image.open(handle) as image:
            assert image.size == (photo.width, photo.height)


def test_every_earlier_photo_has_files_of_its_own(seeded):
    """The earlier courses' photos share a few painted pictures, each photo under its own
    names (hard links here): removing one photo's files, as anonymising does, leaves the
    others whole."""
    photos = list(Photo.objects.filter(case__opened_on__lt=window_start()).order_by("pk"))
    assert len(photos) > CLIENTS
    names = [p.image.name for p in photos] + [p.thumbnail.name for p in photos]
    assert len(set(names)) == len(names)
    for photo in photos:
        assert photo.image.name.startswith(f"photos/{photo.case.public_id}/")
    same = defaultdict(list)
    for photo in photos:
        same[photo.sha256].append(photo)
    first, second = next(group for group in same.values() if len(group) > 1)[:2]
    assert os.stat(default_storage.path(first.image.name)).st_nlink > 2  # the painted file and its links
    default_storage.delete(first.image.name)
    with default_storage.open(second.image.name) as handle:
        data = handle.read()
    assert hashlib.sha256(data).hexdigest() == second.sha256 == second.file_sha256
    assert len(data) == second.byte_size
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.format == "JPEG"


def test_references_are_numbered_through_every_year(seeded):
    today = timezone.localdate()
    counters = dict(ReferenceCounter.objects.values_list("year", "last_number"))
    assert min(counters) <= today.year - YEARS and max(counters) == today.year
    numbers = defaultdict(list)
    for reference, opened in Case.objects.order_by("opened_on", "pk").values_list("reference", "opened_on"):
        _, year, number = reference.split("-")
        assert int(year) == opened.year, reference
        numbers[int(year)].append(int(number))
    for year, found in numbers.items():
        assert found == list(range(1, len(found) + 1)), year  # in opening order, none missing
        assert counters[year] == len(found)


def test_the_benchmark_opens_the_case_workspace_on_the_long_case(seeded, settings):
    from bench.pages import pick

    picks = pick(Path(settings.MEDIA_ROOT))
    assert picks.case == long_case()
    assert picks.photo is not None and picks.photo.case == picks.case
    assert "13 laser and 7 correction sessions, 30 photos" in picks.notes[0]


def test_a_painted_file_linked_as_often_as_the_filesystem_allows_is_copied_first(seeded, monkeypatch):
    """ext4 allows 65,000 links to a file; the large clinic has more photos of one kind,
    angle and skin tone than that. The limit itself is the filesystem's, so it is raised
    here for the first link."""
    from cases.demo.generator import _linked

    painted = Photo.objects.filter(case__opened_on__lt=window_start()).first().image.name
    real_link, tried = os.link, []

    def link(source, target):
        tried.append(source)
        if len(tried) == 1:
            raise OSError(errno.EMLINK, "Too many links")
        real_link(source, target)

    monkeypatch.setattr(os, "link", link)
    source, saved_files = {"image": painted}, []
    target = f"photos/elsewhere/{uuid.uuid4().hex}.jpg"
    assert _linked(source, "image", target, saved_files) == target
    assert source["image"] != painted and saved_files == [source["image"]]
    assert str(tried[1]) == default_storage.path(source["image"])
    with default_storage.open(painted) as old, default_storage.open(target) as new:
        assert old.read() == new.read()
