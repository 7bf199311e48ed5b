"""Every page carries the strict Content Security Policy and refuses to be framed."""

from __future__ import annotations

from django.test import override_settings
from django.urls import reverse


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in policy.split("; ")}


def test_login_page_policy(db, client):
    policy = directives(client.get(reverse("login")))
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in str(policy)


def test_staff_pages_carry_it_too(as_staff):
    response = as_staff.get(reverse("cases:client_list"))
    assert response.status_code == 200
    assert directives(response)["img-src"] == "'self' data:"
    assert response["X-Frame-Options"] == "DENY"


def test_photo_storage_origin_is_allowed_for_images_only():
    import importlib
    import os

    from smpclinic import settings as project_settings

    env = {
        "DJANGO_PHOTO_STORAGE": "s3",
        "AWS_STORAGE_BUCKET_NAME": "photos",
        "AWS_S3_ENDPOINT_URL": "https://s3.example.org/",
    }
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        reloaded = importlib.reload(project_settings)
        directives_ = reloaded.CONTENT_SECURITY_POLICY["DIRECTIVES"]
        assert directives_["img-src"][-1] == "https://s3.example.org"
        assert "https://s3.example.org" not in directives_["script-src"]
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        importlib.reload(project_settings)


@override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"default-src": ["'self'"]}})
def test_the_policy_comes_from_settings(db, client):
    assert client.get(reverse("login"))["Content-Security-Policy"] == "default-src 'self'"
