"""One "live case" rule: once a case or its client is archived, none of the case's records
(plans, steps, sessions, follow-ups, consultations, issues, photos) can be seen or changed."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, Consultation, CorrectionSession, FollowUp, Issue, LaserSession, Photo, TreatmentPlan
from tests import factories

pytestmark = pytest.mark.django_db


def _records(case):
    plan = factories.TreatmentPlanFactory(case=case)
    step = factories.PlanStepFactory(plan=plan)
    return {
        "plan_detail": plan,
        "plan_edit": plan,
        "step_edit": step,
        "laser_session_edit": factories.LaserSessionFactory(case=case),
        "correction_session_edit": factories.CorrectionSessionFactory(case=case),
        "followup_complete": factories.FollowUpFactory(case=case),
        "consultation_edit": factories.ConsultationFactory(case=case),
        "issue_edit": factories.IssueFactory(case=case),
        "photo_file": factories.PhotoFactory(case=case),
        "photo_thumb": factories.PhotoFactory(case=case),
    }


@pytest.mark.parametrize("archived", ["client", "case"])
def test_records_of_an_archived_case_or_client_answer_404(as_staff, archived):
    case = factories.CaseFactory()
    records = _records(case)
    for name, record in records.items():
        assert as_staff.get(reverse(f"cases:{name}", args=[record.public_id])).status_code == 200, name

    archived_row = case.client if archived == "client" else case
    type(archived_row).objects.filter(pk=archived_row.pk).update(archived_at=timezone.now())

    for name, record in records.items():
        url = reverse(f"cases:{name}", args=[record.public_id])
        assert as_staff.get(url).status_code == 404, name
        assert as_staff.post(url, {}).status_code in (404, 405), name


@pytest.mark.parametrize(
    "model", [TreatmentPlan, LaserSession, CorrectionSession, FollowUp, Consultation, Issue, Photo]
)
def test_every_record_of_a_case_uses_the_one_live_case_rule(staff_user, model):
    live, archived_client = factories.CaseFactory(), factories.CaseFactory()
    Case.objects.filter(pk=archived_client.pk).update(archived_at=None)
    archived_client.client.archived_at = timezone.now()
    archived_client.client.save(update_fields=["archived_at"])
    for case in (live, archived_client):
        _records(case)

    seen = model.objects.visible_to(staff_user)

    assert set(seen.values_list("case_id", flat=True)) == {live.pk}
