"""No browser or proxy keeps a copy of what a signed-in person saw: every answer to a
signed-in user (pages, photo files and thumbnails, PDFs, CSV files, redirects, refusals)
says `Cache-Control: private, no-store`. Public pages may be cached as usual.

The walk reuses the URL table and the personas and records of tests/test_url_permissions.py
(made once for this module), so a new URL is covered as soon as it is listed there.
"""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils.cache import get_max_age
from django.views.decorators.cache import cache_control

from tests import factories
from tests import test_url_permissions as permissions
from tests.signin import signed_in
from tests.test_url_permissions import ROLE_BY_URL, _expected, _kwargs_for
from tests.url_roles import PUBLIC
from tests.url_roles import portal as portal_urls


def _directives(response) -> set[str]:
    return {part.strip().split("=")[0] for part in response.get("Cache-Control", "").split(",") if part.strip()}


def _assert_not_stored(response, where):
    directives = _directives(response)
    assert {"private", "no-store"} <= directives, (where, response.status_code, response.get("Cache-Control"))
    assert "public" not in directives, where


# The permission walk's personas and records, made once for this module.
walk = permissions.walk
_private_media = permissions._private_media

# Logging out ends the session: its answer goes to someone no longer signed in.
SIGNED_OUT_BY = {"logout"}


@pytest.mark.parametrize("name", sorted(set(ROLE_BY_URL) - SIGNED_OUT_BY))
def test_every_answer_to_a_signed_in_user_is_not_stored(name, walk, db):
    role, method = ROLE_BY_URL[name]
    url = reverse(name, kwargs=_kwargs_for(name, walk["world"]))
    seen_ok = False
    # A page reached only by a one-time link answers "not valid" (404) to the walk's made-up token.
    expects_ok = role != portal_urls.PUBLIC_TOKEN
    for persona in ("client", "staff", "manager", "admin"):
        user = walk["users"][persona]
        http = HttpClient()
        signed_in(user, http)
        response = getattr(http, method)(url)
        _assert_not_stored(response, (name, persona))
        seen_ok |= response.status_code in (200, 302) and _expected(role, persona, method) in (200, 302)
    # Each URL was answered in full to at least one person allowed to see it.
    assert seen_ok or not expects_ok, name


# (The login page is marked never-cache by Django itself.)
@pytest.mark.parametrize("name", ["password_reset", "password_reset_done", "password_reset_complete"])
def test_public_pages_are_not_marked_private_for_anonymous_visitors(name, anonymous):
    response = anonymous.get(reverse(name))

    assert response.status_code == 200
    assert "no-store" not in _directives(response)
    assert ROLE_BY_URL[name][0] == PUBLIC


def test_favicon_keeps_its_public_cache_lifetime(anonymous):
    response = anonymous.get(reverse("favicon"))

    assert response.status_code == 200
    assert get_max_age(response)


def test_photo_file_of_a_signed_in_user_keeps_no_store_whatever_the_view_sets(as_staff):
    photo = factories.PhotoFactory()

    for name in ("cases:photo_file", "cases:photo_thumb", "cases:photo_screen"):
        response = as_staff.get(reverse(name, kwargs={"photo_id": photo.public_id}))
        assert response.status_code == 200
        _assert_not_stored(response, name)


def test_a_stricter_header_set_by_a_view_is_kept(rf, staff_user):
    from smpclinic.middleware import NoStoreForSignedInMiddleware

    @cache_control(no_cache=True, must_revalidate=True, max_age=0, public=True)
    def view(request):
        from django.http import HttpResponse

        return HttpResponse("ok")

    request = rf.get("/")
    request.user = staff_user
    response = NoStoreForSignedInMiddleware(view)(request)

    assert _directives(response) == {"private", "no-store", "no-cache", "must-revalidate", "max-age"}
    assert get_max_age(response) == 0
