"""Stored XSS: every free-text field of every model holds markup and template syntax, and
every page, chart, PDF and e-mail that shows them renders them inert.

One data set (a client with a whole case, a team member, the clinic) has each of its
text fields overwritten, bypassing validation as an attacker with write access might,
with one of the payloads below; then each surface is rendered once."""

from __future__ import annotations

import itertools

import pytest
from django.apps import apps
from django.core import mail
from django.db import models
from django.urls import reverse
from django.utils import timezone

from cases.views.portal import plan_pdf_html
from tests import factories

pytestmark = pytest.mark.django_db

PAYLOADS = ('"><img src=x onerror=alert(1)>', "<script>alert(1)</script>", "{{7*7}}")
RAW = ("<script>alert(1)", "<img src=x")

# Text fields that cannot hold free text: identifiers, hashes and formats the code writes,
# and addresses validated as such (e-mail, web address).
NOT_FREE_TEXT = {
    "reference",
    "submission_token",
    "sha256",
    "token_hash",
    "source_format",
    "password",
    "username",
    "key",
    "time_zone",
    "currency",
    "object_id",
    "path",
    "task_path",
}


def free_text_fields(model) -> list[models.Field]:
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField)
        and not isinstance(f, models.EmailField | models.URLField | models.GenericIPAddressField)
        and not f.choices
        and f.name not in NOT_FREE_TEXT
        and not f.name.endswith("_id")
    ]


def poison(record) -> list[str]:
    """Fill every free-text field of `record` with a payload that fits; the field names."""
    cycle = itertools.cycle(PAYLOADS)
    values = {}
    for field in free_text_fields(type(record)):
        payload = next(cycle)
        if field.max_length and len(payload) > field.max_length:
            payload = PAYLOADS[2]
        values[field.name] = payload
    type(record)._base_manager.filter(pk=record.pk).update(**values)
    return [f"{type(record).__name__}.{name}" for name in values]


@pytest.fixture
def world(client_a):
    case = factories.CaseFactory(client=client_a)
    plan = factories.AcceptedPlanFactory(case=case)
    step = factories.PlanStepFactory(plan=plan, order=1)
    laser = factories.LaserSessionFactory(case=case, plan_step=step)
    correction = factories.CorrectionSessionFactory(case=case)
    followup = factories.CompletedFollowUpFactory(case=case, laser_session=laser)
    records = [
        client_a,
        case,
        plan,
        step,
        laser,
        correction,
        followup,
        factories.ConsultationFactory(case=case),
        factories.IssueFactory(case=case),
        factories.ConsentFactory(client=client_a),
        factories.PhotoFactory(case=case, shared_with_client=True),
        laser.technician,
        correction.artist,
        laser.device,
        case.original_studio or factories.StudioFactory(),
    ]
    filled = [name for record in records for name in poison(record)]
    return {
        "case": case,
        "plan": plan,
        "laser": laser,
        "correction": correction,
        "followup": followup,
        "filled": filled,
    }


def test_every_free_text_field_of_the_clinical_models_is_filled(world):
    """The data set covers the text fields of every model people write into (the others:
    lookups, counters, logs and messages the code writes itself)."""
    covered = {name.split(".")[0] for name in world["filled"]}
    people_write = {
        "Client", "Case", "TreatmentPlan", "PlanStep", "LaserSession", "CorrectionSession", "FollowUp",
        "Consultation", "Issue", "Consent", "Photo", "Artist", "LaserDevice", "Studio",
    }  # fmt: skip
    assert people_write <= covered
    for name in people_write:
        model = apps.get_model("artists" if name in ("Artist", "Studio") else "cases", name)
        fields = {f"{name}.{f.name}" for f in free_text_fields(model)}
        assert fields <= set(world["filled"]), fields - set(world["filled"])


def assert_inert(html: str, where: str) -> None:
    for raw in RAW:
        assert raw not in html, f"{raw!r} unescaped in {where}"


def test_staff_pages_show_the_text_inert(world, as_staff, as_manager):
    case, plan = world["case"], world["plan"]
    pages = [
        reverse("cases:client_detail", args=[case.client.public_id]),
        reverse("cases:client_list") + "?q=Able",
        reverse("cases:case_detail", args=[case.public_id]),
        reverse("cases:plan_detail", args=[plan.public_id]),
        reverse("cases:laser_session_edit", args=[world["laser"].public_id]),
        reverse("cases:correction_session_edit", args=[world["correction"].public_id]),
        reverse("cases:photo_gallery", args=[case.public_id]),
        reverse("cases:home"),
    ]
    for path in pages:
        response = as_staff.get(path)
        assert response.status_code == 200, path
        assert_inert(response.content.decode(), path)
    workspace = as_staff.get(pages[2]).content.decode()
    assert "{{7*7}}" in workspace or "{{7*7}}" in as_staff.get(pages[0]).content.decode()  # shown, not run
    for path in [reverse("cases:review_queue"), reverse("cases:access_log")]:
        assert_inert(as_manager.get(path).content.decode(), path)


def test_reports_and_their_svg_charts_show_the_text_inert(world, as_manager):
    today = timezone.localdate()
    query = {"from": f"{today.year - 1}-01-01", "to": today.isoformat()}
    from cases.views.reports import REPORTS

    charts = 0
    for report in REPORTS.values():
        path = reverse(f"cases:{report.name}")
        response = as_manager.get(path, query)
        assert response.status_code == 200, path
        html = response.content.decode()
        charts += html.count("<svg")
        assert_inert(html, path)
    assert charts > 0  # the charts' labels and titles were among what was checked


def test_portal_pages_and_the_plan_pdf_show_the_text_inert(world, as_client_a, client_a):
    for name in (
        "cases:portal_plan",
        "cases:portal_appointments",
        "cases:portal_photos",
        "cases:portal_aftercare",
        "cases:portal_consents",
    ):
        response = as_client_a.get(reverse(name))
        assert response.status_code == 200, name
        assert_inert(response.content.decode(), name)
    assert_inert(plan_pdf_html(client_a.user), "the plan PDF")


def test_emails_carry_the_text_inert(world, as_staff, client_a):
    from cases.models import Client

    Client.objects.filter(pk=client_a.pk).update(email="alice@example.com")
    response = as_staff.post(reverse("cases:client_invite", args=[client_a.public_id]))
    assert response.status_code in (200, 302)
    assert mail.outbox, "the invitation was sent"
    html_parts = [alt.content for m in mail.outbox for alt in getattr(m, "alternatives", [])]
    assert html_parts, "the invitation has an HTML part"
    for body in html_parts:
        assert_inert(body, "an HTML e-mail")
    assert any("&lt;" in body or "&quot;&gt;" in body for body in html_parts)  # the name, escaped
