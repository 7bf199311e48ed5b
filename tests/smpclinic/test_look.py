"""The look (docs/look.md): colours that keep 4.5:1 where they are used, overdue rows
included; one frame for staff pages, a wide column for forms, one portal column; tables
that scroll in their own box or stack; the header's menu that folds; the case page's
summary and folding sections; the laser form's five sections."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from cases.choices import IssueKind, Zone
from tests import factories

ROOT = Path(settings.BASE_DIR)
CSS = (ROOT / "static/css/app.css").read_text()
TEMPLATES = ROOT / "templates"


def variables() -> dict[str, str]:
    root = re.search(r":root\s*\{(.*?)\n\}", CSS, re.S).group(1)
    return dict(re.findall(r"--(smp-[a-z0-9-]+):\s*(#[0-9a-f]{6})", root))


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# (text colour, background) pairs the CSS puts together.
TEXT_ON = [
    (text, background)
    for text in ("smp-ink", "smp-muted", "smp-primary", "smp-primary-hover", "smp-danger")
    for background in ("smp-surface", "smp-page-bg", "smp-row-danger", "smp-row-warning")
] + [("#ffffff", name) for name in ("smp-primary", "smp-primary-hover", "smp-danger", "smp-muted", "smp-header-bg")]


@pytest.mark.parametrize(("text", "background"), TEXT_ON)
def test_text_colours_keep_4_5_to_1_on_every_background_they_meet(text, background):
    colours = variables()
    fg = colours.get(text, text)
    bg = colours[background]
    assert contrast(fg, bg) >= 4.5, (text, background, round(contrast(fg, bg), 2))


def test_form_controls_are_outlined_at_3_to_1():
    assert contrast(variables()["smp-control-line"], "#ffffff") >= 3


def test_links_and_buttons_on_overdue_and_adverse_rows_use_the_checked_colours():
    # Bootstrap's own link blue is 3.6:1 on its red row tint: the rows set their own.
    assert re.search(r"\.table-danger a:not\(\.btn\)[^{]*\{ color: var\(--smp-primary-hover\); \}", CSS)
    assert ".table-warning a:not(.btn)" in CSS and ".list-group-item-danger a:not(.btn)" in CSS
    for button in ("btn-outline-primary", "btn-outline-danger", "btn-outline-secondary"):
        rule = re.search(rf"\.{button} \{{(.*?)\}}", CSS, re.S).group(1)
        assert "--bs-btn-color: var(--smp-" in rule, button
    assert "--bs-secondary-color: var(--smp-muted);" in CSS  # muted text on the tints too


def test_the_widths_are_the_variables(as_staff):
    colours_and_sizes = re.search(r":root\s*\{(.*?)\n\}", CSS, re.S).group(1)
    assert "--smp-frame: 90rem;" in colours_and_sizes
    assert "--smp-form: 68rem;" in colours_and_sizes
    assert "--smp-portal: 48rem;" in colours_and_sizes
    html = as_staff.get(reverse("cases:client_list")).content.decode()
    assert '<main id="main" class="smp-frame page-staff">' in html


# ---------------------------------------------------------------- the header


def test_the_header_menu_folds_below_1200_px_with_an_account_menu(as_manager):
    html = as_manager.get(reverse("cases:home")).content.decode()
    nav = re.search(r'<nav class="navbar.*?</nav>', html, re.S).group(0)
    assert "navbar-expand-xl" in nav  # Bootstrap's collapse below 1200 px
    assert 'data-bs-toggle="collapse" data-bs-target="#main-nav"' in nav
    account = re.search(r'<details class="smp-account">.*?</details>', nav, re.S).group(0)
    for label in (">Password<", ">Two-factor<", ">Log out<"):
        assert label in account
    assert "btn-outline-light" not in nav  # the three buttons that crowded the bar are in the menu


# ---------------------------------------------------------------- page widths


PORTAL_PAGES = [
    "cases:portal_plan",
    "cases:portal_appointments",
    "cases:portal_photos",
    "cases:portal_consents",
    "cases:portal_aftercare",
]


@pytest.mark.parametrize("name", PORTAL_PAGES)
def test_every_portal_page_is_the_same_column(as_client_a, client_a, name):
    factories.ApprovedPlanFactory(case=factories.CaseFactory(client=client_a))
    html = as_client_a.get(reverse(name)).content.decode()
    assert '<main id="main" class="smp-frame page-portal">' in html, name
    assert "justify-content-center" not in html, name  # no page centres a narrower column of its own


def test_no_portal_template_narrows_its_own_column():
    for template in sorted((TEMPLATES / "portal").glob("*.html")):
        text = template.read_text()
        if "{% block content %}" in text:
            assert "{% block page_class %}page-portal{% endblock %}" in text, template.name
            assert not re.search(r'class="[^"]*\bcol-(sm|md|lg|xl)-\d+[^"]*portal-page', text), template.name


FORM_TEMPLATES = [
    "cases/case/form.html",
    "cases/case/issue_form.html",
    "cases/case/consultation_form.html",
    "cases/clients/form.html",
    "cases/followups/followup_form.html",
    "cases/plans/plan_form.html",
    "cases/plans/step_form.html",
    "cases/sessions/laser_session_form.html",
    "cases/sessions/correction_session_form.html",
    "smpclinic/settings.html",
    "smpclinic/clinic_logo.html",
]


@pytest.mark.parametrize("template", FORM_TEMPLATES)
def test_form_pages_use_the_wide_form_column(template):
    text = (TEMPLATES / template).read_text()
    assert "{% block page_class %}page-form{% endblock %}" in text
    assert '<form method="post" class="col-lg-8">' not in text


# ---------------------------------------------------------------- tables


def test_every_staff_table_scrolls_in_its_own_box():
    """A table wider than a tablet scrolls inside .table-scroll (app.js adds the hint),
    never the page; the diary has its own scrolling box. E-mails and PDFs are not pages."""
    unboxed = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        relative = template.relative_to(TEMPLATES).as_posix()
        if relative.startswith("emails/") or relative.endswith("_pdf.html"):
            continue
        text = template.read_text()
        for match in re.finditer(r"<table\b", text):
            before = text[: match.start()]
            opened = max(before.rfind('class="table-scroll"'), before.rfind("diary-scroll"))
            if opened == -1 or before.rfind("</table>") > opened:
                unboxed.append(relative)
    assert unboxed == []


def test_the_scroll_hint_shows_only_when_a_table_overflows():
    script = (ROOT / "static/js/app.js").read_text()
    assert 'document.querySelectorAll(".table-scroll")' in script
    assert "var fits = pair[0].scrollWidth <= pair[0].clientWidth + 1;" in script
    assert "pair[1].hidden = fits;" in script and "pair[0].tabIndex = 0;" in script  # keyboard-scrollable
    assert 'window.addEventListener("resize", sync);' in script


def test_review_queue_rows_stack_with_a_label_on_every_cell(as_manager):
    factories.FollowUpFactory(due_on=timezone.localdate() - datetime.timedelta(days=5))  # an overdue row
    html = as_manager.get(reverse("cases:review_queue")).content.decode()
    tables = re.findall(r'<table class="[^"]*table-stack[^"]*">.*?</table>', html, re.S)
    assert tables
    for table in tables:
        for row in re.findall(r"<tbody>.*?</tbody>", table, re.S):
            for cell in re.findall(r"<td\b[^>]*>", row):
                assert "data-label=" in cell or cell == "<td>", cell
    assert "@media (max-width: 991.98px)" in CSS and ".table-stack td[data-label]::before" in CSS


def test_per_zone_issue_tables_share_fixed_column_widths(as_staff):
    case = factories.CaseFactory()
    factories.IssueFactory(case=case, zone=Zone.FRONTAL_HAIRLINE, kind=IssueKind.UNNATURAL_HAIRLINE)
    factories.IssueFactory(case=case, zone=Zone.CROWN, kind=IssueKind.TOO_DARK, description="x " * 80)
    html = as_staff.get(reverse("cases:case_detail", kwargs={"case_id": case.public_id})).content.decode()
    opening = r'<table class="table table-sm align-middle table-fixed table-issues">\s*<colgroup>(.*?)</colgroup>'
    tables = re.findall(opening, html)
    assert len(tables) == 2 and len(set(tables)) == 1  # one table per zone, the same columns
    assert ".table-fixed { table-layout: fixed;" in CSS


# ---------------------------------------------------------------- the case page and the laser form


def test_the_case_page_starts_with_the_next_action_and_its_sections_fold(as_staff):
    case = factories.CaseFactory()
    html = as_staff.get(reverse("cases:case_detail", kwargs={"case_id": case.public_id})).content.decode()
    summary = html.index('class="case-summary')
    assert summary < html.index(">Next action<") < html.index('id="next-step"') < html.index('class="case-section"')
    assert 'class="nav nav-pills' not in html  # no anchor tabs
    assert html.count('<details class="case-section-details"') == html.count('class="case-section"') >= 7


def test_the_laser_form_is_in_five_sections(as_staff):
    case = factories.CaseFactory()
    html = as_staff.get(reverse("cases:laser_session_create", kwargs={"case_id": case.public_id})).content.decode()
    legends = [re.sub(r"\s+", " ", legend).strip() for legend in re.findall(r"<legend>(.*?)</legend>", html, re.S)]
    assert legends == [
        "Contraindications and safety checks",
        "When and who",
        "Device & settings",
        "Zones & response",
        "Aftercare and notes",
    ]
    # The contraindications are inside the first section, before any field.
    assert html.index("Contraindications and safety checks") < html.index('id="contraindications-heading"')
    assert html.index('id="contraindications-heading"') < html.index('name="scheduled_at"')
