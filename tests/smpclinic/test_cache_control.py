"""No browser or proxy keeps a copy of what a signed-in person saw: every answer to a
signed-in user (pages, photo files and thumbnails, PDFs, CSV files, redirects, refusals)
says `Cache-Control: private, no-store`. Public pages may be cached as usual.

Every URL with every signed-in persona is checked by the permission walk
(tests/test_url_permissions.py), in the same requests: a new URL is covered as soon as it
is listed there. Here: public pages, photo files, and a view's own stricter header.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.cache import get_max_age
from django.views.decorators.cache import cache_control

from tests import factories
from tests.test_url_permissions import ROLE_BY_URL, assert_not_stored, cache_directives
from tests.url_roles import PUBLIC


# (The login page is marked never-cache by Django itself.)
@pytest.mark.parametrize("name", ["password_reset", "password_reset_done", "password_reset_complete"])
def test_public_pages_are_not_marked_private_for_anonymous_visitors(name, anonymous):
    response = anonymous.get(reverse(name))

    assert response.status_code == 200
    assert "no-store" not in cache_directives(response)
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
        assert_not_stored(response, name)


def test_a_stricter_header_set_by_a_view_is_kept(rf, staff_user):
    from smpclinic.middleware import NoStoreForSignedInMiddleware

    @cache_control(no_cache=True, must_revalidate=True, max_age=0, public=True)
    def view(request):
        from django.http import HttpResponse

        return HttpResponse("ok")

    request = rf.get("/")
    request.user = staff_user
    response = NoStoreForSignedInMiddleware(view)(request)

    assert cache_directives(response) == {"private", "no-store", "no-cache", "must-revalidate", "max-age"}
    assert get_max_age(response) == 0
