"""`manage.py verify_photos`: a missing or altered original is reported with its photo and
case; photos stored before hashes were kept are recorded on request; files removed by an
anonymisation are not a problem."""

from __future__ import annotations

import hashlib
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from cases.choices import PhotoAngle, PhotoKind
from cases.models import Photo
from cases.services.photos import photo_upload
from cases.services.privacy import PHOTO_ARCHIVE_REASON
from tests import factories
from tests.cases.test_photo_processing import phone_jpeg

pytestmark = pytest.mark.django_db


def verify(*args: str) -> str:
    out = StringIO()
    call_command("verify_photos", *args, stdout=out)
    return out.getvalue()


def stored_path(photo: Photo) -> Path:
    return Path(default_storage.path(photo.image.name))


def test_an_upload_records_the_hash_of_the_file_it_stored():
    case = factories.CaseFactory()
    upload = SimpleUploadedFile("scalp.jpg", phone_jpeg(), content_type="image/jpeg")

    photo_upload(case=case, files=[upload], kind=PhotoKind.BEFORE, angle=PhotoAngle.TOP, uploaded_by=None)

    photo = Photo.objects.get(case=case)
    stored = stored_path(photo).read_bytes()
    assert photo.file_sha256 == hashlib.sha256(stored).hexdigest()
    assert photo.sha256 == hashlib.sha256(phone_jpeg()).hexdigest() != photo.file_sha256  # cleaned on the way in
    assert verify() == "Checked 1 photo: 0 with a problem.\n"


def test_a_flipped_byte_is_reported_with_the_photo_and_case():
    good = factories.PhotoFactory()
    damaged = factories.PhotoFactory()
    path = stored_path(damaged)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))

    with pytest.raises(CommandError) as failure:
        verify()

    message = str(failure.value)
    assert message.startswith(f"photo {damaged.public_id} of case {damaged.case.reference}: file changed in storage")
    assert str(good.public_id) not in message


def test_a_missing_file_is_reported_and_the_others_still_checked():
    first, gone, last = factories.PhotoFactory(), factories.PhotoFactory(), factories.PhotoFactory()
    stored_path(gone).unlink()
    out = StringIO()

    with pytest.raises(CommandError) as failure:
        call_command("verify_photos", stdout=out)

    assert out.getvalue() == "Checked 3 photos: 1 with a problem.\n"
    assert str(failure.value) == (
        f"photo {gone.public_id} of case {gone.case.reference}: file missing from storage ({gone.image.name})"
    )
    assert first.pk < gone.pk < last.pk


def test_older_photos_are_recorded_on_request_and_then_checked():
    legacy = factories.PhotoFactory(file_sha256="")

    with pytest.raises(CommandError, match="no recorded hash"):
        verify()
    assert verify("--record-missing") == "Recorded the hash of 1 photo.\nChecked 1 photo: 0 with a problem.\n"

    legacy.refresh_from_db()
    assert legacy.file_sha256 == hashlib.sha256(stored_path(legacy).read_bytes()).hexdigest()
    assert verify("--record-missing") == "Recorded the hash of 0 photos.\nChecked 1 photo: 0 with a problem.\n"


def test_files_an_anonymisation_removed_are_not_a_problem():
    photo = factories.PhotoFactory()
    Photo.objects.filter(pk=photo.pk).update(archived_at=photo.created_at, archive_reason=PHOTO_ARCHIVE_REASON)
    stored_path(photo).unlink()

    assert verify() == "Checked 1 photo: 0 with a problem.\n"


def test_an_archived_photo_is_checked_too():
    photo = factories.PhotoFactory()
    Photo.objects.filter(pk=photo.pk).update(archived_at=photo.created_at, archive_reason="wrong client")
    stored_path(photo).write_bytes(b"not the photo")

    with pytest.raises(CommandError, match=f"photo {photo.public_id} of case"):
        verify()
