"""seed_demo: a deterministic demo clinic showing every state the screens and reports need.

The clinic is seeded once for the module; runs of the command on an empty database
(the same seed twice, `--if-empty`, references) are in test_seed_demo_command.py."""

from __future__ import annotations

import datetime
import hashlib
import io
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.http import HttpRequest
from django.test import Client as HttpClient
from django.utils import timezone
from PIL import Image

from artists.models import Artist, Certification, Studio
from cases import demo
from cases.choices import (
    CaseStatus,
    ConsentKind,
    ConsultationKind,
    CorrectionKind,
    Fitzpatrick,
    FollowUpKind,
    FollowUpStatus,
    IssueKind,
    PlanStatus,
    SessionStatus,
    Zone,
)
from cases.demo import vocabulary
from cases.models import (
    Case,
    Client,
    Consent,
    ConsentText,
    Consultation,
    CorrectionSession,
    FollowUp,
    Issue,
    LaserDevice,
    LaserSession,
    Photo,
    PlanStep,
    TreatmentPlan,
)
from smpclinic import roles
from smpclinic.models import ClinicSettings
from tests.helpers import kept_for_the_module

PASSWORD = demo.DEFAULT_PASSWORD
SMALL = {"clients": 20, "seed": 1}  # the hand-laid first clients plus a few random ones


def seed_demo(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded_once(django_db_setup, django_db_blocker) -> Iterator[str]:
    """The small demo clinic, seeded once for the module (tests/test_seed_demo_command.py
    seeds on an empty database)."""
    with kept_for_the_module(django_db_blocker), pytest.MonkeyPatch.context() as patch:
        patch.delenv("DEMO_PASSWORD", raising=False)
        yield seed_demo(**SMALL)


@pytest.fixture
def seeded(seeded_once, db) -> str:
    return seeded_once


@pytest.fixture
def _private_media():
    """The demo's photos stay where the module's seeding wrote them."""


def values(model, field: str) -> set:
    return set(model.objects.values_list(field, flat=True))


def test_every_status_kind_and_zone_appears(seeded):
    assert values(Case, "status") == set(CaseStatus.values)
    assert values(Issue, "kind") == set(IssueKind.values)
    assert values(Issue, "zone") == set(Zone.values)
    assert values(Consultation, "kind") == set(ConsultationKind.values)
    assert values(FollowUp, "kind") == set(FollowUpKind.values)
    assert values(FollowUp, "status") == set(FollowUpStatus.values)
    assert values(CorrectionSession, "kind") == set(CorrectionKind.values)
    assert values(LaserSession, "status") == set(SessionStatus.values)
    assert values(ConsentText, "kind") == set(ConsentKind.values)


def test_closed_and_withdrawn_cases_are_complete(seeded):
    for case in Case.objects.filter(status=CaseStatus.CLOSED):
        assert case.outcome and case.satisfaction and case.closed_on >= case.opened_on
    for case in Case.objects.filter(status=CaseStatus.WITHDRAWN):
        assert case.withdrawn_reason and case.closed_on
    cases = Case.objects.all()
    assert all(case.regret_reasons.exists() for case in cases)
    assert cases.filter(original_studio__isnull=False, original_artist__kind=Artist.Kind.EXTERNAL).exists()
    assert cases.filter(expectations_discussed_on__isnull=False, expectations_agreed__gt="").exists()


def test_plans_in_every_stage_with_kirby_desai_and_steps(seeded):
    plans = TreatmentPlan.objects
    assert plans.filter(status=PlanStatus.DRAFT, submitted_at__isnull=True).exists()
    assert plans.filter(status=PlanStatus.PROPOSED, submitted_at__isnull=False, approved_at__isnull=True).exists()
    assert plans.filter(status=PlanStatus.PROPOSED, approved_at__isnull=False, accepted_at__isnull=True).exists()
    for status in (PlanStatus.ACCEPTED, PlanStatus.IN_PROGRESS, PlanStatus.COMPLETED):
        assert plans.filter(status=status, approved_at__isnull=False, accepted_at__isnull=False).exists()
    assert plans.filter(status=PlanStatus.CANCELLED).exists()
    revised = plans.filter(status=PlanStatus.SUPERSEDED)
    assert revised.filter(case__status=CaseStatus.PLANNING).exists()
    for plan in revised:  # a revision keeps the earlier version
        assert (plan.version, plan.next_version.version) == (1, 2)
    # Approvals are a manager's; the treatment stages only follow an agreed plan.
    assert not plans.approved().exclude(approved_by__groups__name=roles.MANAGERS).exists()
    for case in Case.objects.filter(status__in=[CaseStatus.IN_TREATMENT, CaseStatus.FOLLOW_UP, CaseStatus.CLOSED]):
        assert case.plans.current().get().status in PlanStatus.agreed()
    assert set(Case.objects.filter(status=CaseStatus.PLANNING).values_list("plans__status", flat=True)) <= {
        PlanStatus.DRAFT,
        PlanStatus.PROPOSED,
        PlanStatus.SUPERSEDED,
    }

    with_kd = plans.filter(kd_total__isnull=False)
    assert with_kd.exists()
    for plan in with_kd:
        assert plan.kd_location == 1  # head and neck
        assert plan.kd_total == plan.kirby_desai().total
        assert plan.kd_skin_type == list(Fitzpatrick.values).index(plan.case.client.fitzpatrick_type) + 1
    steps = PlanStep.objects.filter(plan__status=PlanStatus.IN_PROGRESS)
    assert steps.filter(zones__isnull=False).exists()
    assert steps.filter(status="done").exists() and steps.filter(status="planned").exists()


def test_step_dates_and_statuses_are_what_the_plan_services_would_derive(seeded):
    """The seeded steps agree with the rule the app keeps: a step with an interval is due
    that many weeks after the previous step's actual day or target date, and a step is
    done exactly when a linked session was completed (checks and reviews, which have no
    sessions, are marked done by hand)."""
    plan_ids = TreatmentPlan.objects.values_list("pk", flat=True)
    checked = 0
    for plan_id in plan_ids:
        previous = None
        for step in PlanStep.objects.filter(plan_id=plan_id).with_done_at().order_by("order"):
            if step.interval_weeks and previous is not None:
                base = previous.done_on or previous.target_date
                assert step.target_date == base + datetime.timedelta(weeks=step.interval_weeks), step
                checked += 1
            has_completed = step.laser_done_at is not None or step.correction_done_at is not None
            if has_completed:
                assert step.status == "done", step
            elif step.kind not in ("healing_check", "review"):  # steps without sessions are marked by hand
                assert step.status != "done", step
            previous = step
    assert checked > 20


def test_surnames_of_two_words_stay_whole(seeded):
    assert "de Vries" in vocabulary.LAST
    assert set(Client.objects.values_list("last_name", flat=True)) <= set(vocabulary.LAST)


def test_laser_sessions_follow_the_clinic_rules(seeded):
    sessions = list(LaserSession.objects.select_related("case__client", "technician").prefetch_related("zones"))
    assert sessions
    for session in sessions:
        # A technician certified on the day, and a laser consent signed before it.
        assert session.technician.has_valid_laser_certification(session.day), session
        assert Consent.objects.filter(
            client=session.case.client,
            text__kind=ConsentKind.LASER_TREATMENT,
            signed_at__lte=session.scheduled_at,
            withdrawn_at__isnull=True,
        ).exists()
        # Recorded with the client's skin type, as laser_session_save records it.
        assert session.fitzpatrick_type == session.case.client.fitzpatrick_type, session
        if session.status in SessionStatus.freeing():
            continue
        assert not any(c.blocks_laser for c in session.case.client.contraindications(on=session.day))
        if session.case.client.fitzpatrick_type in Fitzpatrick.darker():
            assert session.wavelength_nm == 1064
        if session.status == SessionStatus.COMPLETED:
            assert Decimal("1.5") <= session.fluence_j_cm2 <= 8
            assert 2 <= session.spot_size_mm <= 6
            assert 1 <= session.repetition_rate_hz <= 10
            assert session.passes == 1
    assert sum(s.wavelength_nm == 1064 for s in sessions) > len(sessions) * 0.7

    # Sessions on the same zone at least 6 weeks apart; clearance rising.
    by_zone = defaultdict(list)
    for session in sessions:
        if session.status not in SessionStatus.freeing():  # cancelled and missed sessions do not count
            for zone in session.zones.all():
                by_zone[(session.case_id, zone.code)].append(session.scheduled_at)
    for times in by_zone.values():
        times.sort()
        assert all(b - a >= datetime.timedelta(weeks=6) for a, b in zip(times, times[1:], strict=False))
    by_case = defaultdict(list)
    for session in sorted(sessions, key=lambda s: s.scheduled_at):
        if session.status == SessionStatus.COMPLETED and not session.test_spot:
            by_case[session.case_id].append(session.estimated_clearance_pct)
    assert any(len(c) > 1 for c in by_case.values())
    assert all(c == sorted(c) for c in by_case.values())
    assert LaserSession.objects.filter(adverse_events__isnull=False).exists()
    assert LaserSession.objects.filter(test_spot=True).exists()
    assert LaserSession.objects.filter(status=SessionStatus.SCHEDULED, scheduled_at__gt=timezone.now()).exists()
    for case in Case.objects.filter(status=CaseStatus.IN_TREATMENT):
        upcoming = [*case.lasersessions.scheduled(), *case.correctionsessions.scheduled()]
        assert upcoming and all(s.scheduled_at > timezone.now() for s in upcoming)


def test_follow_up_queues_and_certifications(seeded):
    today = timezone.localdate()
    assert FollowUp.objects.overdue().exists()
    assert FollowUp.objects.due_within(7).exists()
    assert FollowUp.objects.awaiting_review().filter(status=FollowUpStatus.COMPLETED).exists()
    assert FollowUp.objects.filter(reviewed_at__isnull=False, reviewed_by__groups__name=roles.MANAGERS).exists()
    assert Certification.objects.expiring_within(today, 60).exists()
    assert Certification.objects.expired_on(today).count() == 1
    kinds = values(Certification, "kind")
    assert {Certification.Kind.LASER_SAFETY, Certification.Kind.SMP_TRAINING} <= kinds
    assert Certification.Kind.BLOODBORNE_PATHOGENS in kinds
    assert LaserDevice.objects.active().count() >= 3
    assert Studio.objects.filter(is_own_clinic=False).count() >= 10


def test_clients_with_varied_types_and_contraindications(seeded):
    clients = Client.objects.all()
    assert len(values(Client, "fitzpatrick_type")) >= 4
    assert len(values(Client, "norwood_stage")) >= 5
    within_washout = timezone.localdate() - datetime.timedelta(days=180)
    assert clients.filter(isotretinoin_last_dose__gt=within_washout).exists()
    assert clients.filter(active_infection=True).exists()
    assert clients.filter(keloid_history=True).exists()
    assert clients.filter(pregnant_or_breastfeeding=True).exists()
    settings = ClinicSettings.load()
    assert settings.name == "Northbridge SMP Correction Clinic" and settings.phone and settings.email


def test_photos_are_real_images_for_a_few_cases(seeded):
    photos = Photo.objects.select_related("case")
    assert photos.exists()
    assert 1 < photos.values("case").distinct().count() <= 10
    assert values(Photo, "kind") == {"before", "progress", "after"}
    assert photos.filter(shared_with_client=True).exists() and photos.filter(shared_with_client=False).exists()
    for photo in photos:
        assert photo.image.name.startswith(f"photos/{photo.case.public_id}/")
        with default_storage.open(photo.image.name) as handle:
            data = handle.read()
        assert len(data) == photo.byte_size
        assert hashlib.sha256(data).hexdigest() == photo.sha256
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            assert image.format == "JPEG" and image.size == (photo.width, photo.height)
        with default_storage.open(photo.thumbnail.name) as handle, Image.open(handle) as thumb:
            assert max(thumb.size) <= 240


def test_every_seeded_row_passes_model_validation(seeded):
    for model in (
        ClinicSettings,
        Studio,
        Artist,
        Certification,
        LaserDevice,
        ConsentText,
        Client,
        Case,
        Issue,
        Consultation,
        TreatmentPlan,
        PlanStep,
        LaserSession,
        CorrectionSession,
        FollowUp,
        Consent,
        Photo,
    ):
        rows = list(model.objects.all())
        assert rows, model
        for row in rows:
            row.full_clean()


def test_demo_logins(seeded):
    admin, manager, staff, client_user = (
        User.objects.get(username=name) for name in ("demo-admin", "demo-manager", "demo-staff", "demo-client")
    )
    assert admin.is_superuser and admin.is_staff
    assert set(manager.groups.values_list("name", flat=True)) == {roles.MANAGERS}
    assert manager.artist.kind == Artist.Kind.INTERNAL
    assert set(staff.groups.values_list("name", flat=True)) == {roles.STAFF}
    assert staff.artist.has_valid_laser_certification(timezone.localdate())
    assert staff.artist.laser_sessions.filter(status=SessionStatus.COMPLETED).exists()
    assert set(client_user.groups.values_list("name", flat=True)) == {roles.CLIENTS}
    for user in (admin, manager, staff, client_user):
        assert user.check_password(PASSWORD)
        assert HttpClient().login(request=HttpRequest(), username=user.username, password=PASSWORD)
    for name in ("demo-admin", "demo-manager", "demo-staff", "demo-client", f"Password for all of them: {PASSWORD}"):
        assert name in seeded


def test_demo_client_sees_a_plan_in_treatment(seeded):
    user = User.objects.get(username="demo-client")
    case = Case.objects.visible_to(user).get()
    assert case.status == CaseStatus.IN_TREATMENT and case.client == user.client
    plan = TreatmentPlan.objects.visible_to(user).current().get()
    assert plan.approved_at and plan.approved_by.groups.filter(name=roles.MANAGERS).exists()
    assert plan.accepted_at and plan.accepted_by == user and not plan.accepted_in_clinic
    assert Consent.objects.visible_to(user).in_force(ConsentKind.LASER_TREATMENT).exists()
    assert Photo.objects.visible_to(user).exists()
    now = timezone.now()
    assert LaserSession.objects.visible_to(user).scheduled().filter(scheduled_at__gt=now).exists()
    assert FollowUp.objects.visible_to(user).open().filter(due_on__gte=timezone.localdate()).exists()
    assert not user.client.contraindications()


def test_postgresql_gets_planner_statistics_after_seeding(seeded):
    """A bulk load leaves PostgreSQL without statistics; seed_demo gathers them. SQLite is
    left without (its heuristics planned these reports better: as `make bench` measured)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = 'cases_client'")
            (rows,) = cursor.fetchone()
            assert rows > 0
        else:
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            assert cursor.fetchone() == (0,)


def test_the_diary_has_rooms_hours_and_a_week_of_bookings_that_never_overlap(seeded):
    """The coming week's appointments are in the diary, each person, room and laser held
    by one booking at a time, within opening hours, and each session at its booking's time."""
    from cases.models import Booking
    from smpclinic.models import Closure, OpeningHours, Room

    assert Room.objects.count() >= 5 and OpeningHours.objects.count() == 6 and Closure.objects.exists()
    held = list(Booking.objects.holding().select_related("laser_session", "correction_session", "follow_up"))
    assert len(held) >= 3
    assert {b.kind for b in held} >= {"laser", "correction"}
    for resource in ("person_id", "room_id", "device_id"):
        by_resource = defaultdict(list)
        for booking in held:
            if getattr(booking, resource) is not None:
                by_resource[getattr(booking, resource)].append((booking.starts_at, booking.ends_at))
        for spans in by_resource.values():
            spans.sort()
            assert all(end <= start for (_, end), (start, _) in zip(spans, spans[1:], strict=False)), resource
    hours = {row.weekday: row for row in OpeningHours.objects.all()}
    for booking in held:
        start, end = timezone.localtime(booking.starts_at), timezone.localtime(booking.ends_at)
        day = hours[start.weekday()]
        assert day.opens <= start.time() and end.time() <= day.closes and end.date() == start.date()
        appointment = booking.appointment
        if booking.kind == "follow_up":
            assert appointment.due_on == start.date()
        else:
            assert appointment.scheduled_at == booking.starts_at
