"""The strict Content Security Policy holds on real pages: nothing the browser refuses."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_and_admin_pages_break_no_policy_rule(page, live_server, log_in, staff):
    case = factories.CaseFactory()
    factories.PhotoFactory(case=case)
    factories.PhotoFactory(case=case)
    admin = User.objects.create_superuser("e2e-admin", "admin@example.com", "x")
    refused = []
    page.on("console", lambda message: "Content Security Policy" in message.text and refused.append(message.text))

    log_in(staff)
    paths = [
        reverse("cases:home"),
        reverse("cases:client_list"),
        reverse("cases:client_detail", args=[case.client.public_id]),
        reverse("cases:case_detail", args=[case.public_id]),
        reverse("cases:laser_session_create", args=[case.public_id]),
        reverse("cases:photo_gallery", args=[case.public_id]),
        reverse("cases:photo_compare", args=[case.public_id]),
        # A photo opened on its own: the browser's image viewer styles its page inline.
        reverse("cases:photo_file", args=[case.photos.first().public_id]),
        reverse("cases:photo_screen", args=[case.photos.first().public_id]),
    ]
    for path in paths:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"] or (
            "default-src 'none'" in response.headers["content-security-policy"]  # an image
        )
        page.wait_for_load_state("load")

    log_in(admin)
    for path in [reverse("admin:index"), reverse("admin:cases_case_change", args=[case.pk])]:
        assert page.goto(live_server.url + path).status == 200
        page.wait_for_load_state("load")

    assert refused == []
