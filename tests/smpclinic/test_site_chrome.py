"""What every page shares: the clinic's own name in the header and the title (no query of
its own per request), a favicon that answers, and the case page's headings said once."""

from __future__ import annotations

import re

from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import RegretReason
from smpclinic.models import ClinicSettings
from tests import factories


def _brand_and_title(html: str) -> tuple[str, str]:
    brand = re.search(r'class="navbar-brand"[^>]*>([^<]*)</a>', html).group(1)
    title = re.search(r"<title>([^<]*)</title>", html).group(1)
    return brand.strip(), title.strip()


def test_header_and_title_say_the_clinics_own_name(as_staff, as_client_a, anonymous):
    clinic = ClinicSettings.load()
    clinic.name = "Northbridge Scalp Clinic"
    clinic.save()
    pages = [
        (as_staff, reverse("cases:client_list")),
        (as_client_a, reverse("cases:portal_aftercare")),
        (anonymous, reverse("login")),
    ]
    for http, url in pages:
        html = http.get(url).content.decode()
        brand, title = _brand_and_title(html)
        assert brand == "Northbridge Scalp Clinic", url
        assert title.endswith("· Northbridge Scalp Clinic"), (url, title)
        assert "SMP Clinic<" not in html and "· SMP Clinic" not in html, url


def test_a_new_name_shows_on_the_next_page(as_staff):
    clinic = ClinicSettings.load()
    clinic.name = "First Name Clinic"
    clinic.save()
    assert "First Name Clinic" in as_staff.get(reverse("cases:client_list")).content.decode()
    clinic.name = "Renamed Clinic"
    clinic.save()
    assert _brand_and_title(as_staff.get(reverse("cases:client_list")).content.decode())[0] == "Renamed Clinic"


def test_the_name_costs_no_query_once_cached(as_staff, as_client_a):
    ClinicSettings.load()
    ClinicSettings.cached()
    for http, url in ((as_staff, reverse("password_change")), (as_client_a, reverse("cases:portal_aftercare"))):
        with CaptureQueriesContext(connection) as captured:
            html = http.get(url).content.decode()
        assert "SMP Correction Clinic" in html  # the default name
        assert not [q["sql"] for q in captured if "clinicsettings" in q["sql"]], url


# ---------------------------------------------------------------- favicon


def test_favicon_answers_without_login(anonymous):
    response = anonymous.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content).startswith(b"\x00\x00\x01\x00")  # an ICO file
    assert "max-age" in response["Cache-Control"]


def test_every_page_links_the_favicon(anonymous):
    html = anonymous.get(reverse("login")).content.decode()
    assert '<link rel="icon" href="/static/favicon.ico" sizes="32x32">' in html
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    assert finders.find("favicon.ico") and finders.find("favicon.svg")
    assert anonymous.get("/static/favicon.svg").status_code == 200


# ---------------------------------------------------------------- the case page


def test_reasons_for_regret_is_said_once_on_the_case_page(as_staff):
    case = factories.CaseFactory(regret_notes="Looks like a helmet.")
    case.regret_reasons.set(RegretReason.objects.filter(code="unrealistic_expectations"))
    html = as_staff.get(reverse("cases:case_detail", kwargs={"case_id": case.public_id})).content.decode()
    assert html.lower().count("reasons for regret") == 1
    assert "Unrealistic expectations" in html and "Looks like a helmet." in html
