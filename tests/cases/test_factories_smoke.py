from cases.models import LaserSession, Photo
from tests import factories


def test_every_factory_builds_a_valid_row(db):
    session = factories.LaserSessionFactory()
    session.full_clean()
    assert session.zones.count() == 1
    plan = factories.AcceptedPlanFactory(case=session.case)
    assert plan.kd_total == 8
    factories.PlanStepFactory(plan=plan)
    factories.CorrectionSessionFactory(case=session.case)
    factories.FollowUpFactory(case=session.case)
    factories.ConsentFactory(client=session.case.client)
    factories.ConsultationFactory(case=session.case)
    factories.IssueFactory(case=session.case)
    photo = factories.PhotoFactory(case=session.case)
    assert Photo.objects.get().image.name.startswith(f"photos/{session.case.public_id}/")
    assert photo.image.name.endswith(".jpg") and "photo" not in photo.image.name.rsplit("/", 1)[1]
    assert session.technician.has_valid_laser_certification(session.day)
    assert LaserSession.objects.count() == 1
    assert session.case.reference.startswith("SMP-2026-")
