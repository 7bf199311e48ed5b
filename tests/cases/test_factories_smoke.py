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


def test_a_maker_builds_what_the_factory_builds_with_its_own_public_ids(db):
    case = factories.CaseFactory()
    technician, device = factories.TechnicianFactory(), factories.LaserDeviceFactory()
    session = factories.maker(factories.LaserSessionFactory, case=case, technician=technician, device=device)

    made = [session(wavelength_nm=532), session()]
    built = factories.LaserSessionFactory.build(case=case, technician=technician, device=device)

    skipped = {"id", "public_id", "scheduled_at"}  # the factory's scheduled_at is "now" less 60 days
    fields = [field.attname for field in LaserSession._meta.concrete_fields if field.attname not in skipped]
    assert {name: getattr(made[1], name) for name in fields} == {name: getattr(built, name) for name in fields}
    assert made[0].wavelength_nm == 532 and made[1].wavelength_nm == built.wavelength_nm == 1064
    assert len({made[0].public_id, made[1].public_id, built.public_id}) == 3
    LaserSession.objects.bulk_create(made)
    assert LaserSession.objects.filter(case=case).count() == 2
