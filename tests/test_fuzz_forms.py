"""Property-based: no form answers a server error, whatever is typed into it.

For every page a manager can open (the URL table of tests/test_url_permissions.py), every
form on it that posts is read as a browser would submit it (tests/formdata.py), and
Hypothesis posts it again with random values in any of its fields: huge numbers, dates at
the ends of the calendar, unicode, empty, very long text, odd choice ids. The answer may
refuse the input (200 with errors, 302 with a message, 400, 403, 404, 405, 409) but never 5xx.
Each page's widgets, as the page is first opened, must also be what Django's widget
templates draw (smpclinic/forms_renderer.py, tests/smpclinic/test_forms_renderer.py).

Fast by design: the four known troublemakers, then 8 examples per form (a button, with
nothing to type, is posted twice), derandomized (the same ones at every run) and with no
deadline; HYPOTHESIS_PROFILE=dev searches at random with 50 a form and shrinks what it
finds.
"""

from __future__ import annotations

import os
import re
from html import unescape

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from smpclinic import roles
from tests import test_url_permissions as permissions
from tests.formdata import form_data
from tests.smpclinic.test_forms_renderer import compared_with_the_templates
from tests.test_url_permissions import ROLE_BY_URL, _kwargs_for
from tests.url_roles import LOGGED_IN, PHOTO
from tests.url_roles import portal as portal_urls

settings.register_profile(
    "ci",
    max_examples=8,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: the first failure is reported as found
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "dev", parent=settings.get_profile("ci"), derandomize=False, max_examples=50, phases=list(Phase)
)
FUZZ = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# The permission walk's personas and records, made once for this module.
walk = permissions.walk
_private_media = permissions._private_media

# Pages a manager opens with GET: the walk's staff and manager pages.
MANAGER_PAGES = sorted(
    name
    for name, (role, method) in ROLE_BY_URL.items()
    if method == "get"
    and (
        isinstance(role, roles.Action)
        and roles.MANAGERS in role.roles
        or role in (PHOTO, LOGGED_IN, portal_urls.STAFF_HOME)
    )
)
# Forms that end the session or are not the app's own (the header's logout button).
SKIPPED_ACTIONS = {reverse("logout")}

HUGE_INTS = ["99999999999999999999999", "-99999999999999999999999", "9223372036854775808", "2147483648", "-1", "0"]
ODD_IDS = ["1.5", "1e309", "NaN", "-0", "0x1F", " 1", "[]", "{}", "null", "\u0661"]  # ١: an Arabic-Indic digit
FAR_DATES = [
    "0001-01-01",
    "9999-12-31",
    "1899-12-31",
    "2026-02-30",
    "10000-01-01",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "9999-12-31 23:59:59",
    "2026-13-01T25:61",
    "00:00",
]
values = st.one_of(
    st.sampled_from(HUGE_INTS + ODD_IDS + FAR_DATES + [""]),
    st.integers().map(str),
    st.text(max_size=40),
    st.text(min_size=1, max_size=8).map(lambda text: text * (5000 // len(text) + 1)),  # very long text
    st.dates().map(str),
)

_FORM_TAG = re.compile(r"<form\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(r'([a-zA-Z-]+)="([^"]*)"')


def _post_forms(html: str, page_url: str) -> list[tuple[str, dict]]:
    """(address it posts to, its fields) for each form on the page that posts."""
    forms = []
    for index, match in enumerate(_FORM_TAG.finditer(html)):
        attrs = {key.lower(): unescape(value) for key, value in _ATTR.findall(match.group(1))}
        if attrs.get("method", "get").lower() != "post":
            continue
        action = attrs.get("action") or page_url
        if action.split("?")[0] in SKIPPED_ACTIONS:
            continue
        forms.append((action, form_data(html, form_index=index)))
    return forms


@pytest.mark.parametrize("name", MANAGER_PAGES)
def test_no_form_answers_a_server_error(name, walk, db):
    http = permissions.client_as(walk, "manager")
    url = reverse(name, kwargs=_kwargs_for(name, walk["world"]))
    with compared_with_the_templates() as differences:
        page = http.get(url)
    assert page.status_code < 500, (name, page.status_code)
    assert differences == [], (name, differences[:1])  # the widgets as Django's templates draw them
    if page.status_code != 200 or not page.get("Content-Type", "").startswith("text/html"):
        return
    for action, fields in _post_forms(page.content.decode(), url):
        _fuzz(http, name, action, fields)


def _fuzz(http: HttpClient, name: str, action: str, fields: dict) -> None:
    if set(fields) <= {"csrfmiddlewaretoken"}:
        # A button (export, archive, reset): nothing to type, so every post would be the
        # same one. Posted twice, as a double click sends it.
        for _ in range(2):
            response = http.post(action, fields)
            assert response.status_code < 500, (name, action, response.status_code)
        return
    # First the known troublemakers in every field at once, then random mixes.
    for nasty in ("99999999999999999999999", "9999-12-31", "0001-01-01T00:00", "x" * 5000):
        every = {field: [nasty] if isinstance(original, list) else nasty for field, original in fields.items()}
        every.pop("csrfmiddlewaretoken", None)
        response = http.post(action, {**fields, **every})
        assert response.status_code < 500, (name, action, nasty, response.status_code)

    @FUZZ
    @given(data=st.data())
    def post_anything(data):
        changed = {}
        for field, original in fields.items():
            if field == "csrfmiddlewaretoken" or not data.draw(st.booleans(), label=f"change {field}"):
                continue
            if isinstance(original, list):
                changed[field] = data.draw(st.lists(values, max_size=3), label=field)
            else:
                changed[field] = data.draw(values, label=field)
        response = http.post(action, {**fields, **changed})
        assert response.status_code < 500, (name, action, changed, response.status_code)

    post_anything()
