"""A multi-file upload is stored whole or not at all: no rows and no files left behind.

Real files through the upload page (the last one fails), a database failure injected
after the files were written (Django's `execute_wrapper`, the database refusing the last
row), and an upload wrapped in an outer transaction that would roll back after it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from cases.choices import PhotoAngle, PhotoKind
from cases.models import Photo
from cases.services.photos import photo_upload
from tests import factories
from tests.cases.test_photo_processing import (
    HTML,
    encoded,
    noisy_jpeg,
    phone_jpeg,
    png_with_header_size,
    stored_files,
)

LAST_FILES = {
    "not an image": ("notes.jpg", b"Client list: Jane Doe, 12 High Street\n" * 40, "is not a JPEG, PNG, WebP or HEIC"),
    "HTML named .png": ("page.png", HTML, "is a text document (SVG, HTML or XML), not a photo"),
    "decompression bomb": ("bomb.png", png_with_header_size(20000, 20000), "the limit is 50 megapixels"),
    "truncated JPEG": ("cut.jpg", noisy_jpeg()[:6000], "is damaged or incomplete"),
}


@pytest.fixture
def case(client_a):
    return factories.CaseFactory(client=client_a)


def good_files() -> list[SimpleUploadedFile]:
    return [
        SimpleUploadedFile("front-1.jpg", phone_jpeg(orientation=1), content_type="image/jpeg"),
        SimpleUploadedFile("front-2.jpg", phone_jpeg(orientation=6, size=(90, 30)), content_type="image/jpeg"),
        SimpleUploadedFile("front-3.png", encoded("PNG"), content_type="image/png"),
    ]


def files_now(settings) -> set[Path]:
    return set(stored_files(settings))


@pytest.mark.parametrize("label", list(LAST_FILES))
def test_an_upload_whose_last_file_fails_stores_nothing(label, case, as_staff, settings):
    earlier = factories.PhotoFactory(case=case)  # a photo already in the case keeps its file
    before = files_now(settings)
    assert before  # the earlier photo's file
    name, data, reason = LAST_FILES[label]

    response = as_staff.post(
        reverse("cases:photo_upload", kwargs={"case_id": case.public_id}),
        {
            "images": [*good_files(), SimpleUploadedFile(name, data, content_type="image/jpeg")],
            "kind": PhotoKind.BEFORE,
            "angle": PhotoAngle.FRONT,
            "taken_on": "",
        },
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert f"“{name}” " in html and reason in html
    assert "Nothing was uploaded" in html
    for good in ("front-1.jpg", "front-2.jpg", "front-3.png"):
        assert good not in html  # only the bad file is named
    assert list(Photo.objects.all()) == [earlier]
    assert Photo.history.filter(id__gt=earlier.id).count() == 0
    assert files_now(settings) == before


class RefuseTheLastPhotoRow:
    """Lets the database refuse the INSERT of the n-th photo row, as a full disk or a
    lost connection would, after every file of the batch was written."""

    def __init__(self, nth: int):
        self.nth, self.seen = nth, 0

    def __call__(self, execute, sql, params, many, context):
        if sql.lstrip().upper().startswith('INSERT INTO "CASES_PHOTO"'):
            self.seen += 1
            if self.seen == self.nth:
                raise DatabaseError("disk full")
        return execute(sql, params, many, context)


def test_a_database_failure_after_the_files_were_written_removes_them(case, settings):
    refuse = RefuseTheLastPhotoRow(nth=3)
    with connection.execute_wrapper(refuse), pytest.raises(DatabaseError, match="disk full"):
        photo_upload(case=case, files=good_files(), kind=PhotoKind.BEFORE, angle=PhotoAngle.FRONT, uploaded_by=None)
    assert refuse.seen == 3  # two rows were saved before the failure, then rolled back
    assert Photo.objects.count() == 0
    assert Photo.history.count() == 0
    assert files_now(settings) == set()


def test_an_upload_cannot_run_inside_a_transaction_that_may_roll_back_later(case, settings):
    """Files written for rows that an outer rollback removes would be orphans: the upload
    refuses to run inside another transaction, and leaves no file behind."""
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        photo_upload(case=case, files=good_files(), kind=PhotoKind.BEFORE, angle=PhotoAngle.FRONT, uploaded_by=None)
    assert Photo.objects.count() == 0
    assert files_now(settings) == set()


def test_a_whole_good_batch_is_stored(case, as_staff, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the copies' task, after the commit
        response = as_staff.post(
            reverse("cases:photo_upload", kwargs={"case_id": case.public_id}),
            {"images": good_files(), "kind": PhotoKind.BEFORE, "angle": PhotoAngle.FRONT, "taken_on": ""},
        )
    assert response.status_code == 302
    assert Photo.objects.count() == 3
    assert len(files_now(settings)) == 9
