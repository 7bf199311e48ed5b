"""/healthz and /readyz: public, cheap, no data in the answer, and a failing dependency
turns readiness (not liveness) into a 503 that names the check."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.test import Client as HttpClient
from django.test import override_settings

from tests import factories
from tests.cases.test_photo_storage_s3 import CREDENTIALS, moto_endpoint, s3  # noqa: F401  (fixtures)
from tests.signin import signed_in

REDIS_NOBODY_LISTENS = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
}


def test_liveness_answers_without_the_database():
    """No database fixture: any query (a session, the Clinic settings) would raise here."""
    cache.clear()
    response = HttpClient().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]
    assert "Set-Cookie" not in response.headers


def test_readiness_checks_database_cache_and_storage(db):
    response = HttpClient().get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "photo_storage": "ok"},
    }


def test_health_answers_any_host_over_plain_http(db, settings):
    """A probe asks by address and over HTTP, behind the proxy's TLS and host names."""
    settings.ALLOWED_HOSTS = ["clinic.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    http = HttpClient(HTTP_HOST="10.0.0.7:8000")

    assert http.get("/healthz").status_code == 200
    assert http.get("/readyz").status_code == 200
    assert http.get("/login/").status_code == 400  # any other page still checks the host


def test_a_signed_in_person_gets_the_same_answer(db):
    http = signed_in(factories.StaffUserFactory())
    assert http.get("/readyz").json()["status"] == "ok"


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_only_get_and_head(db, method):
    assert getattr(HttpClient(), method)("/readyz").status_code == 405


@override_settings(CACHES=REDIS_NOBODY_LISTENS)
def test_an_unreachable_cache_is_not_ready_but_alive(db, caplog):
    response = HttpClient().get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "cache": "failed", "photo_storage": "ok"},
    }
    assert "127.0.0.1:9" not in response.content.decode()  # the reason is in the log only
    assert "Readiness check cache failed" in caplog.text
    assert HttpClient().get("/healthz").status_code == 200


def test_unusable_photo_storage_is_not_ready(db, settings, tmp_path):
    blocker = tmp_path / "media"
    blocker.write_text("a file where the photo folder should be")
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    settings.MEDIA_ROOT = blocker

    response = HttpClient().get("/readyz")

    assert response.status_code == 503
    assert json.loads(response.content)["checks"]["photo_storage"] == "failed"


def test_unapplied_migrations_are_not_ready(db, monkeypatch):
    """A process started before `migrate` ran is not ready; once migrated it is.

    The migration table is what the check reads: the latest migration is struck from it
    (inside the test's transaction) rather than unapplied, which would rebuild much of
    the schema for the same answer."""
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    from smpclinic import health

    monkeypatch.setattr(health, "_migrated", False)
    recorder = MigrationRecorder(connection)
    latest = recorder.migration_qs.filter(app="smpclinic").latest("id")
    latest.delete()
    response = HttpClient().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "failed"

    recorder.record_applied(latest.app, latest.name)
    assert HttpClient().get("/readyz").status_code == 200


def s3_storage(endpoint: str, bucket: str) -> dict:
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {**CREDENTIALS, "bucket_name": bucket, "endpoint_url": endpoint, "signature_version": "s3v4"},
    }


@pytest.mark.usefixtures("s3")  # moto's server on 127.0.0.1, the bucket made, STORAGES on it
def test_photo_storage_on_s3_is_checked_through_its_bucket(db, settings):
    endpoint = settings.STORAGES["default"]["OPTIONS"]["endpoint_url"]
    assert HttpClient().get("/readyz").json()["checks"]["photo_storage"] == "ok"

    settings.STORAGES = {**settings.STORAGES, "default": s3_storage(endpoint, "no-such-bucket")}
    response = HttpClient().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "photo_storage": "failed"}
