"""Anonymising a client: identity and contact gone everywhere they were stored, the
clinical history kept, photo files deleted only when asked and only after the commit."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from cases.choices import ReminderKind
from cases.models import (
    AccessEvent,
    Case,
    Client,
    Consent,
    Consultation,
    CorrectionSession,
    FollowUp,
    Issue,
    LaserSession,
    Photo,
    PlanStep,
    PortalInvitation,
    RuleOverride,
    SentReminder,
    TreatmentPlan,
)
from cases.services import privacy
from tests.cases.test_subject_access_export import client_with_everything
from tests.helpers import messages_of
from tests.signin import signed_in

# The client's first name is one the factories never give anyone: they name the staff
# from Faker's lists, and a nurse called "Alice" in the export would read as a leak.
FIRST_NAME = "Alizon"
IDENTITY = (FIRST_NAME, "Able", "alice@example.com", "Aardvark", "07700 000008", "07700 900")


def test_no_identity_word_is_part_of_a_name_the_factories_give_others():
    from faker.providers.person.en_US import Provider

    names = set(Provider.first_names) | set(Provider.last_names)
    assert [(word, name) for word in IDENTITY for name in names if word in name] == []


@pytest.fixture
def alice(db):
    client = client_with_everything(first=FIRST_NAME, last="Able", email="alice@example.com", marker="Aardvark")
    PortalInvitation.objects.create(
        client=client,
        token_hash="a" * 64,
        sent_to="alice@example.com",
        expires_at=timezone.now() + datetime.timedelta(days=2),
    )
    plan = TreatmentPlan.objects.get(case__client=client)
    TreatmentPlan.objects.filter(pk=plan.pk).update(accepted_ip="203.0.113.9", accepted_user_agent="AliceBrowser/1")
    Consent.objects.filter(client=client).update(signed_ip="203.0.113.9", signed_user_agent="AliceBrowser/1")
    SentReminder.objects.create(
        kind=ReminderKind.CLIENT_FOLLOW_UP,
        key=f"client_follow_up:{client.public_id}:test",
        recipient="alice@example.com",
        client=client,
        subject="Reminder: your healing check",
        error="SMTPRecipientsRefused: {'alice@example.com': (550, b'mailbox full')}",
    )
    return client


@pytest.fixture
def bob(db):
    return client_with_everything(first="Bob", last="Baker", email="bob@example.com", marker="Bumblebee")


def url(client) -> str:
    return reverse("cases:client_anonymise", kwargs={"client_id": client.public_id})


def form(client, **fields) -> dict:
    return {"reason": "Client asked to be forgotten", "confirmation": privacy.client_reference(client), **fields}


def stored_files(client) -> list[tuple]:
    return [
        (f.storage, f.name)
        for photo in Photo.objects.filter(case__client=client)
        for f in (photo.image, photo.screen, photo.thumbnail)
        if f.name
    ]


CLINICAL = (Case, Consultation, Issue, TreatmentPlan, PlanStep, LaserSession, CorrectionSession, FollowUp, Consent)


def clinical_counts() -> dict:
    return {
        model.__name__: model.objects.count() for model in (*CLINICAL, Photo, RuleOverride, Client, PortalInvitation)
    }


@pytest.mark.history
def test_identity_is_gone_from_the_client_its_history_and_its_portal_login(
    alice, as_manager, manager_user, django_capture_on_commit_callbacks
):
    reference = privacy.client_reference(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = as_manager.post(url(alice), form(alice))
    assert response.status_code == 302
    assert "cannot be undone" in messages_of(response)[0]

    client = Client.objects.get(pk=alice.pk)
    assert client.full_name == f"Anonymised client {reference}"
    assert client.date_of_birth == datetime.date(1985, 1, 1)
    for field in ("preferred_name", "email", "phone", "address", "internal_notes"):
        assert getattr(client, field) == ""
    assert client.reminders_opt_in is False
    assert client.archived_by == manager_user
    assert client.archive_reason == "Anonymised: Client asked to be forgotten"

    history = list(Client.history.filter(id=client.pk).values())
    assert len(history) >= 3
    for row in history:
        assert row["first_name"] == "Anonymised client"
        assert row["date_of_birth"] == datetime.date(1985, 1, 1)
        for value in row.values():
            assert not any(word in str(value) for word in IDENTITY), row

    user = client.user
    user.refresh_from_db()
    assert user.is_active is False
    assert not user.has_usable_password()
    assert (user.first_name, user.last_name, user.email) == ("", "", "")
    assert "alice" not in user.username.lower()

    invitation = PortalInvitation.objects.get(client=client)
    assert invitation.revoked_at is not None and invitation.sent_to == ""
    reminder = SentReminder.objects.get(client=client)
    assert (reminder.recipient, reminder.error) == ("", "")

    consent = Consent.objects.get(client=client)
    assert consent.signed_name == client.full_name
    assert consent.signed_ip is None and consent.signed_user_agent == ""
    plan = TreatmentPlan.objects.get(case__client=client)
    assert plan.accepted_name == client.full_name and plan.accepted_ip is None


def test_nothing_of_the_old_identity_is_left_anywhere_the_export_reads(alice, manager_user):
    privacy.client_anonymise(
        client=alice, by=manager_user, reason="asked", confirmation=privacy.client_reference(alice), remove_photos=True
    )
    record = json.dumps(privacy.subject_access_record(Client.objects.get(pk=alice.pk)), cls=DjangoJSONEncoder)
    leaked = [word for word in IDENTITY if word in record]
    # "Aardvark" was also written in clinical free text (goal, findings…), kept on purpose;
    # everywhere else it and the identity are gone.
    clinical = {"Aardvark"}
    assert [word for word in leaked if word not in clinical] == []
    assert "Aardvark Street" not in record
    assert "Aardvark prefers mornings" not in record
    assert "Aardvark caption" not in record
    assert "203.0.113.9" not in record and "AliceBrowser" not in record


def test_the_clinical_history_is_kept(alice, bob, manager_user):
    before = clinical_counts()
    laser = LaserSession.objects.get(case__client=alice)
    privacy.client_anonymise(
        client=alice, by=manager_user, reason="asked", confirmation=privacy.client_reference(alice), remove_photos=True
    )
    assert clinical_counts() == before
    kept = LaserSession.objects.get(pk=laser.pk)
    for field in ("wavelength_nm", "fluence_j_cm2", "spot_size_mm", "passes", "scheduled_at", "status"):
        assert getattr(kept, field) == getattr(laser, field)
    assert list(kept.zones.values_list("code", flat=True)) == ["frontal_hairline"]
    assert list(kept.adverse_events.values_list("code", flat=True)) == ["blistering"]
    consent = Consent.objects.get(client=alice)
    assert consent.signed_at and consent.text.kind == "laser_treatment"
    assert Case.objects.filter(client=alice, goal="Aardvark goal: a softer hairline").exists()
    assert Client.objects.get(pk=alice.pk).fitzpatrick_type == "III"


def test_photo_files_are_deleted_after_the_commit_when_chosen(
    alice, bob, manager_user, django_capture_on_commit_callbacks
):
    files = stored_files(alice)
    assert len(files) == 5 and all(storage.exists(name) for storage, name in files)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        privacy.client_anonymise(
            client=alice,
            by=manager_user,
            reason="asked",
            confirmation=privacy.client_reference(alice),
            remove_photos=True,
        )
    assert all(storage.exists(name) for storage, name in files)  # not before the commit
    for callback in callbacks:
        callback()
    assert not any(storage.exists(name) for storage, name in files)
    photos = Photo.objects.filter(case__client=alice)
    assert photos.count() == 3
    assert all(photo.archived_at is not None for photo in photos)
    assert sorted(photo.archive_reason for photo in photos) == ["anonymised", "anonymised", "blurred"]
    assert not Photo.history.filter(case_id__in=alice.cases.values("pk"), caption__contains="Aardvark").exists()
    assert all(storage.exists(name) for storage, name in stored_files(bob))


def test_photo_files_are_kept_when_not_chosen(alice, manager_user, django_capture_on_commit_callbacks):
    files = stored_files(alice)
    with django_capture_on_commit_callbacks(execute=True):
        privacy.client_anonymise(
            client=alice,
            by=manager_user,
            reason="asked",
            confirmation=privacy.client_reference(alice),
            remove_photos=False,
        )
    assert all(storage.exists(name) for storage, name in files)
    assert Photo.objects.filter(case__client=alice, archived_at__isnull=True).count() == 2


def test_a_rolled_back_anonymisation_deletes_no_file(alice, manager_user, django_capture_on_commit_callbacks):
    files = stored_files(alice)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        privacy.client_anonymise(
            client=alice,
            by=manager_user,
            reason="asked",
            confirmation=privacy.client_reference(alice),
            remove_photos=True,
        )
        raise RuntimeError("something after it failed")
    assert all(storage.exists(name) for storage, name in files)
    assert Client.objects.get(pk=alice.pk).first_name == FIRST_NAME


def test_only_managers_may_anonymise(alice, anonymous, as_staff, as_client_a):
    for http in (as_staff, as_client_a):
        assert http.post(url(alice), form(alice)).status_code == 403
    response = anonymous.post(url(alice), form(alice))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert Client.objects.get(pk=alice.pk).first_name == FIRST_NAME


def test_the_page_shows_the_reference_and_says_it_is_irreversible(alice, as_manager):
    page = as_manager.get(url(alice)).content.decode()
    assert privacy.client_reference(alice) in page
    assert "cannot be undone" in page
    assert "Remove photos too" in page


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"confirmation": "wrong"}, "{reference}, to confirm"),
        ({"confirmation": ""}, "This field is required"),
        ({"reason": "   "}, "This field is required"),
    ],
)
def test_refused_without_the_confirmation_and_a_reason(alice, as_manager, fields, message):
    response = as_manager.post(url(alice), form(alice, **fields))
    assert response.status_code == 200
    assert message.format(reference=privacy.client_reference(alice)) in response.content.decode()
    client = Client.objects.get(pk=alice.pk)
    assert (client.first_name, client.email, client.archived_at) == (FIRST_NAME, "alice@example.com", None)


def test_a_second_attempt_gets_a_clear_message(alice, as_manager, manager_user):
    assert as_manager.post(url(alice), form(alice)).status_code == 302
    anonymised = Client.objects.get(pk=alice.pk)

    page = as_manager.get(url(alice)).content.decode()
    assert "already anonymised" in page
    response = as_manager.post(url(alice), form(alice))
    assert response.status_code == 200
    assert "already anonymised" in response.content.decode()
    again = Client.objects.get(pk=alice.pk)
    assert (again.archived_at, again.lock_version) == (anonymised.archived_at, anonymised.lock_version)


def test_another_client_is_untouched(alice, bob, manager_user):
    privacy.client_anonymise(
        client=alice, by=manager_user, reason="asked", confirmation=privacy.client_reference(alice), remove_photos=True
    )
    bob = Client.objects.get(pk=bob.pk)
    assert (bob.full_name, bob.email, bob.archived_at) == ("Bob Baker", "bob@example.com", None)
    assert bob.user.is_active and bob.user.email == "bob@example.com"
    assert Consent.objects.get(client=bob).signed_name == "Bob Baker"
    assert Client.history.filter(id=bob.pk, first_name="Bob").count() == Client.history.filter(id=bob.pk).count()
    assert Photo.objects.filter(case__client=bob, archived_at__isnull=True).count() == 2


def test_an_archived_client_can_be_anonymised(alice, manager_user):
    alice.archive(by=manager_user, reason="moved away")
    client = privacy.client_anonymise(
        client=Client.objects.get(pk=alice.pk),
        by=manager_user,
        reason="asked by letter",
        confirmation=privacy.client_reference(alice).upper(),
        remove_photos=False,
    )
    assert client.archive_reason == "Anonymised: asked by letter"
    assert Client.history.filter(id=alice.pk, archive_reason="moved away").exists()


def test_the_clients_portal_session_stops_working(alice, as_manager):
    portal = HttpClient()
    signed_in(alice.user, portal)
    assert portal.get(reverse("cases:portal_plan")).status_code == 200
    as_manager.post(url(alice), form(alice))
    response = portal.get(reverse("cases:portal_plan"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_page_and_the_anonymisation_are_in_the_access_log(alice, as_manager, manager_user):
    as_manager.get(url(alice))
    as_manager.post(url(alice), form(alice))
    events = AccessEvent.objects.filter(client=alice, what="client anonymisation").order_by("at", "pk")
    assert [(e.user, e.action, e.status, e.path) for e in events] == [
        (manager_user, AccessEvent.Action.VIEWED, 200, url(alice)),
        (manager_user, AccessEvent.Action.VIEWED, 302, url(alice)),
    ]
