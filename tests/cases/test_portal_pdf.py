"""Download my plan as PDF: WeasyPrint, no network, private, only the client's own approved plans."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from cases.choices import PlanStepKind
from cases.models import CorrectionOption
from cases.pdf import NoFetching, render
from cases.portal.views import plan_pdf_html
from smpclinic.models import ClinicSettings
from tests import factories

PDF = reverse("cases:portal_plan_pdf")


@pytest.fixture
def plan(client_a):
    case = factories.CaseFactory(client=client_a, expectations_agreed="Some dots may stay faintly visible.")
    plan = factories.ApprovedPlanFactory(case=case, summary="Two laser sessions, then a softer hairline.")
    plan.options.set(CorrectionOption.objects.filter(code="laser_removal"))
    factories.PlanStepFactory(plan=plan, order=1, target_date=datetime.date(2027, 3, 2))
    factories.PlanStepFactory(plan=plan, order=2, kind=PlanStepKind.HEALING_CHECK, interval_weeks=2)
    return plan


def test_pdf_is_a_private_attachment(as_client_a, plan):
    response = as_client_a.get(PDF)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response.content.rstrip().endswith(b"%%EOF")
    assert len(response.content) > 5000  # a page with text and an embedded font, not an empty shell
    assert response["Content-Disposition"] == 'attachment; filename="my-treatment-plan.pdf"'
    cache = response["Cache-Control"]
    assert "private" in cache and "no-store" in cache


def test_the_html_behind_the_pdf_holds_the_plan(client_a, plan):
    clinic = ClinicSettings.load()
    clinic.name = "Hairline Repair Clinic"
    clinic.save()
    html = plan_pdf_html(client_a.user)
    assert "Hairline Repair Clinic" in html
    assert client_a.full_name in html
    assert f"Plan for case {plan.case.reference}" in html
    assert "Two laser sessions, then a softer hairline." in html
    assert "Laser removal" in html
    assert "Target 2 Mar 2027" in html
    assert "2 weeks after the previous step" in html
    assert "Kirby–Desai scale estimate: <strong>8 sessions</strong> (about ±2.5)" in html
    assert "Some dots may stay faintly visible." in html
    assert "1,800.00" in html
    assert "Keep the scalp dry for 4 days." in html
    # Nothing the renderer could fetch: no links to stylesheets, scripts, images or fonts.
    for needle in ("<link", "<script", "<img", "url(", "@import", "http://", "https://"):
        assert needle not in html, needle


def test_pdf_shows_only_my_own_approved_plans(as_client_b, client_b, plan):
    assert as_client_b.get(PDF).status_code == 404  # B has no plan; A's is not B's
    other = factories.ApprovedPlanFactory(case=factories.CaseFactory(client=client_b), summary="Bob own plan.")
    html = plan_pdf_html(client_b.user)
    assert "Bob own plan." in html and other.case.reference in html
    assert "Two laser sessions" not in html
    assert as_client_b.get(PDF).content.startswith(b"%PDF")


def test_no_pdf_without_an_approved_plan(as_client_a, client_a):
    factories.TreatmentPlanFactory(case=factories.CaseFactory(client=client_a))  # a draft
    assert as_client_a.get(PDF).status_code == 404


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x.png", "https://example.com/font.woff", "file:///etc/passwd"])
def test_the_renderer_fetches_nothing(url):
    with pytest.raises(ValueError, match="fetches no resources"):
        NoFetching().fetch(url)
    # A resource URL slipping into the HTML is skipped, and the PDF is still made.
    pdf = render(f'<p>Plan</p><img src="{url}" alt="">')
    assert pdf.startswith(b"%PDF")
