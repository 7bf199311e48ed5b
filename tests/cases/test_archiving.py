"""Clinical records are archived, never deleted (smpclinic.models.Archivable)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from cases.models import Case, Client, LaserSession
from tests import factories


def test_client_with_a_case_cannot_be_deleted(db):
    case = factories.CaseFactory()
    client = case.client

    with pytest.raises(ProtectedError), transaction.atomic():
        client.delete()

    assert Client.objects.filter(pk=client.pk).exists()
    assert Case.objects.filter(pk=case.pk).exists()


def test_case_with_sessions_cannot_be_deleted(db):
    session = factories.LaserSessionFactory()
    case = session.case

    with pytest.raises(ProtectedError), transaction.atomic():
        case.delete()

    assert Case.objects.filter(pk=case.pk).exists()
    assert LaserSession.objects.filter(pk=session.pk).exists()


def test_case_with_a_correction_session_cannot_be_deleted(db):
    session = factories.CorrectionSessionFactory()

    with pytest.raises(ProtectedError), transaction.atomic():
        session.case.delete()

    assert Case.objects.filter(pk=session.case.pk).exists()


def test_archive_records_who_when_and_why(db, manager_user):
    case = factories.CaseFactory()
    before = timezone.now()

    case.archive(by=manager_user, reason="  Opened twice by mistake.  ")

    case.refresh_from_db()
    assert case.is_archived
    assert before <= case.archived_at <= timezone.now()
    assert case.archived_by == manager_user
    assert case.archive_reason == "Opened twice by mistake."


@pytest.mark.parametrize("reason", ["", "   "])
def test_archive_needs_a_reason(db, manager_user, reason):
    case = factories.CaseFactory()

    with pytest.raises(ValidationError, match="reason"):
        case.archive(by=manager_user, reason=reason)

    case.refresh_from_db()
    assert not case.is_archived
    assert case.archived_by is None
    assert Case.objects.active().filter(pk=case.pk).exists()


ARCHIVABLE_WITH_VISIBILITY = [
    pytest.param(factories.ClientFactory, id="client"),
    pytest.param(factories.CaseFactory, id="case"),
    pytest.param(factories.LaserSessionFactory, id="laser-session"),
    pytest.param(factories.CorrectionSessionFactory, id="correction-session"),
    pytest.param(factories.TreatmentPlanFactory, id="plan"),
    pytest.param(factories.FollowUpFactory, id="follow-up"),
    pytest.param(factories.PhotoFactory, id="photo"),
]


@pytest.mark.parametrize("factory", ARCHIVABLE_WITH_VISIBILITY)
def test_archived_record_leaves_working_lists_but_stays_on_file(db, staff_user, manager_user, factory):
    kept = factory()
    gone = factory()
    model = type(gone)

    gone.archive(by=manager_user, reason="Duplicate record.")

    assert list(model.objects.active().filter(pk__in=[kept.pk, gone.pk])) == [kept]
    assert list(model.objects.visible_to(staff_user).filter(pk__in=[kept.pk, gone.pk])) == [kept]
    assert list(model.objects.archived()) == [gone]
    assert model.objects.get(pk=gone.pk).archive_reason == "Duplicate record."


def test_archived_case_is_hidden_from_its_client(db, client_a):
    kept = factories.CaseFactory(client=client_a)
    gone = factories.CaseFactory(client=client_a)
    gone.archive(by=factories.ManagerUserFactory(), reason="Opened twice.")

    assert list(Case.objects.visible_to(client_a.user)) == [kept]


@pytest.mark.parametrize(
    "factory",
    [
        factories.IssueFactory,
        factories.ConsultationFactory,
        factories.LaserDeviceFactory,
        factories.StudioFactory,
        factories.ArtistFactory,
        factories.CertificationFactory,
    ],
    ids=["issue", "consultation", "laser-device", "studio", "artist", "certification"],
)
def test_every_archivable_model_has_active_and_archived(db, manager_user, factory):
    """Archivable promises `.active()` and `.archived()` on every archivable model.

    Artist and Certification replace the manager with their own QuerySet; unless it
    derives from ArchivableQuerySet, `.archived()` (and for Certification `.active()`)
    is missing.
    """
    kept = factory()
    gone = factory()
    gone.archive(by=manager_user, reason="Entered in error.")

    model = type(gone)
    assert list(model.objects.active().filter(pk__in=[kept.pk, gone.pk])) == [kept]
    assert list(model.objects.archived()) == [gone]
    assert model.objects.get(pk=gone.pk).archived_by == manager_user
