"""Photos on S3-compatible object storage, against moto's server on 127.0.0.1 (real HTTP).

STORAGES is overridden the way settings.py sets it for DJANGO_PHOTO_STORAGE=s3; Django
rebuilds default_storage when the setting changes. moto checks signatures only loosely,
so these tests check the URL's shape and the round trip, not that a forged URL fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection
from django.test import TestCase
from django.urls import reverse
from moto.server import ThreadedMotoServer

from cases.choices import PhotoAngle, PhotoKind
from cases.models import Photo
from cases.services.photos import photo_upload
from tests import factories
from tests.cases.test_photo_atomic import RefuseTheLastPhotoRow
from tests.cases.test_photo_processing import SVG, assert_no_metadata, phone_jpeg, shown

BUCKET = "clinic-photos"
CREDENTIALS = {"access_key": "testing-key", "secret_key": "testing-secret", "region_name": "eu-west-2"}


@pytest.fixture(scope="module")
def moto_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(moto_endpoint, settings):
    client = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        aws_access_key_id=CREDENTIALS["access_key"],
        aws_secret_access_key=CREDENTIALS["secret_key"],
        region_name=CREDENTIALS["region_name"],
    )
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                **CREDENTIALS,
                "bucket_name": BUCKET,
                "endpoint_url": moto_endpoint,
                "signature_version": "s3v4",
                "querystring_auth": True,
                "querystring_expire": 60,
                "default_acl": None,
                "file_overwrite": False,
            },
        },
    }
    yield client
    keys = [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    for key in keys:
        client.delete_object(Bucket=BUCKET, Key=key)
    client.delete_bucket(Bucket=BUCKET)


def keys(client) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def post_upload(http, case, *files, **fields):
    """The upload, and the task that makes the copies once it is committed."""
    data = {"images": list(files), "kind": PhotoKind.BEFORE, "angle": PhotoAngle.FRONT, **fields}
    with TestCase.captureOnCommitCallbacks(execute=True):
        return http.post(reverse("cases:photo_upload", kwargs={"case_id": case.public_id}), data)


def jpeg_file(name="IMG_0001.JPG") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, phone_jpeg(), content_type="image/jpeg")


@pytest.fixture
def case(client_a):
    return factories.CaseFactory(client=client_a)


def test_settings_switch_photos_to_s3_from_the_environment():
    """DJANGO_PHOTO_STORAGE=s3 and the AWS_* variables give the STORAGES these tests use."""
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "x",
        "DJANGO_PHOTO_STORAGE": "s3",
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
        "AWS_ACCESS_KEY_ID": "key",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_S3_REGION_NAME": "eu-west-2",
    }
    script = "import json; from smpclinic import settings; print(json.dumps(settings.STORAGES['default']))"
    output = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(output) == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": BUCKET,
            "endpoint_url": "http://127.0.0.1:9000",
            "access_key": "key",
            "secret_key": "secret",
            "region_name": "eu-west-2",
            "signature_version": "s3v4",
            "querystring_auth": True,
            "querystring_expire": 60,
            "default_acl": None,
            "file_overwrite": False,
        },
    }


def test_upload_writes_three_private_objects_under_random_keys(s3, case, as_staff):
    response = post_upload(as_staff, case, jpeg_file("Jane Doe.jpg"))
    assert response.status_code == 302
    photo = Photo.objects.get()
    stored = keys(s3)
    assert stored == sorted([photo.image.name, photo.screen.name, photo.thumbnail.name])
    for key in stored:
        assert key.startswith(f"photos/{case.public_id}/") and "Jane" not in key
        grants = s3.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]
        assert all("URI" not in grant["Grantee"] for grant in grants)  # no AllUsers / AuthenticatedUsers
    body = s3.get_object(Bucket=BUCKET, Key=photo.image.name)["Body"].read()
    assert shown(body).size == (40, 80)
    assert_no_metadata(body, orientation=6)  # the camera's pixels; EXIF with the orientation only


@pytest.mark.parametrize(
    ("name", "field"), [("photo_file", "image"), ("photo_screen", "screen"), ("photo_thumb", "thumbnail")]
)
def test_serving_redirects_to_a_short_lived_signed_url(s3, case, as_staff, name, field):
    post_upload(as_staff, case, jpeg_file())
    photo = Photo.objects.get()

    response = as_staff.get(reverse(f"cases:{name}", kwargs={"photo_id": photo.public_id}))

    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    location = urlsplit(response["Location"])
    query = parse_qs(location.query)
    assert location.path == f"/{BUCKET}/{getattr(photo, field).name}"
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["60"]
    assert "X-Amz-Signature" in query and "X-Amz-Credential" in query
    assert query["response-content-disposition"][0].startswith("inline;")
    assert query["response-content-type"] == ["image/jpeg"]

    with urllib.request.urlopen(response["Location"], timeout=10) as fetched:  # moto on 127.0.0.1
        assert fetched.status == 200
        assert fetched.headers["Content-Type"] == "image/jpeg"
        assert fetched.read() == s3.get_object(Bucket=BUCKET, Key=getattr(photo, field).name)["Body"].read()


def test_no_signed_url_for_someone_who_may_not_see_the_photo(s3, case, as_staff, as_client_a, as_client_b, anonymous):
    post_upload(as_staff, case, jpeg_file())
    photo = Photo.objects.get()
    path = reverse("cases:photo_file", kwargs={"photo_id": photo.public_id})
    assert as_client_a.get(path).status_code == 404  # not shared
    photo.shared_with_client = True
    photo.save(update_fields=["shared_with_client"])
    assert as_client_a.get(path).status_code == 302  # shared with them now
    assert as_client_b.get(path).status_code == 404
    response = anonymous.get(path)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_refused_batch_leaves_no_object_behind(s3, case, as_staff):
    svg = SimpleUploadedFile("drawing.jpg", SVG, content_type="image/jpeg")
    response = post_upload(as_staff, case, jpeg_file("first.jpg"), jpeg_file("second.jpg"), svg)
    assert response.status_code == 200
    assert "“drawing.jpg” is a text document" in response.content.decode()
    assert Photo.objects.count() == 0
    assert keys(s3) == []  # the two good photos had been written, and were deleted again


def test_a_batch_whose_rows_fail_leaves_no_object_behind(s3, case):
    refuse = RefuseTheLastPhotoRow(nth=2)
    files = [jpeg_file("first.jpg"), jpeg_file("second.jpg")]
    with connection.execute_wrapper(refuse), pytest.raises(DatabaseError):
        photo_upload(case=case, files=files, kind=PhotoKind.BEFORE, angle=PhotoAngle.FRONT, uploaded_by=None)
    assert refuse.seen == 2
    assert Photo.objects.count() == 0
    assert keys(s3) == []  # all six objects had been written before the rows failed
