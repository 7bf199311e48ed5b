"""An upload stores only the cleaned originals; the screen copy and thumbnail are made by
a background task. Until then the pages say "processing" and every photo URL still
answers (with the original). A batch is capped by its total pixels."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult
from PIL import Image

from cases.models import Photo
from cases.photos import SCREEN_BOX, THUMBNAIL_BOX
from cases.tasks import make_photo_copies
from tests import factories
from tests.cases.test_photo_processing import encoded, opened, stored_files
from tests.cases.test_photo_views import jpeg_file, upload_data, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(settings):
    """Tasks wait in the database queue, as with a worker in production."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def case(client_a):
    return factories.CaseFactory(client=client_a)


def big_png(name: str, size=(2400, 1800)):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, encoded("PNG", Image.new("RGB", size, (120, 90, 60))), content_type="image/png")


def test_the_upload_stores_the_original_and_queues_the_copies(queued, case, as_staff):
    response = as_staff.post(url("photo_upload", case), upload_data(jpeg_file(), big_png("scan.png")))
    assert response.status_code == 302
    photos = list(Photo.objects.order_by("pk"))
    assert all(p.image and not p.screen and not p.thumbnail for p in photos)
    queued_ids = [t.args_kwargs["args"][0] for t in DBTaskResult.objects.order_by("enqueued_at")]
    assert queued_ids == [p.pk for p in photos]
    assert [t.task_path for t in DBTaskResult.objects.all()] == ["cases.tasks.make_photo_copies"] * 2

    # Meanwhile: "processing" in the gallery, and the thumbnail URL serves the original.
    gallery = as_staff.get(url("photo_gallery", case)).content.decode()
    assert gallery.count("Processing: the preview appears in a moment.") == 2
    thumb = as_staff.get(url("photo_thumb", photos[1]))
    assert opened(b"".join(thumb.streaming_content)).size == (2400, 1800)

    # The worker runs the tasks: real copies, within their boxes, from the stored photo.
    assert [make_photo_copies.call(p.pk) for p in photos] == [True, True]
    for photo in Photo.objects.all():
        screen, thumbnail = opened(photo.screen.read()), opened(photo.thumbnail.read())
        assert screen.size[0] <= SCREEN_BOX[0] and screen.size[1] <= SCREEN_BOX[1]
        assert thumbnail.size[0] <= THUMBNAIL_BOX[0] and thumbnail.size[1] <= THUMBNAIL_BOX[1]
        assert screen.format == thumbnail.format == "JPEG"
    assert "Processing" not in as_staff.get(url("photo_gallery", case)).content.decode()


def test_making_the_copies_twice_changes_nothing_and_leaves_no_stray_file(queued, case, as_staff, settings):
    as_staff.post(url("photo_upload", case), upload_data(jpeg_file()))
    photo = Photo.objects.get()
    assert make_photo_copies.call(photo.pk) is True
    files = sorted(stored_files(settings))
    photo.refresh_from_db()
    first = (photo.screen.name, photo.thumbnail.name)

    assert make_photo_copies.call(photo.pk) is False
    photo.refresh_from_db()
    assert (photo.screen.name, photo.thumbnail.name) == first
    assert sorted(stored_files(settings)) == files
    assert make_photo_copies.call(999_999) is False  # a photo gone meanwhile


def test_the_command_makes_the_copies_a_stopped_worker_left(queued, case, as_staff):
    as_staff.post(url("photo_upload", case), upload_data(jpeg_file(), jpeg_file("IMG_0002.JPG")))
    out = io.StringIO()
    call_command("make_photo_copies", stdout=out)
    assert out.getvalue().strip() == "Made the copies of 2 photos."
    assert not Photo.objects.filter(screen="").exists()


def test_a_batch_over_the_pixel_cap_is_refused_with_the_figures_and_stores_nothing(case, as_staff, settings):
    settings.SMP_PHOTO_MAX_BATCH_PIXELS = 10_000_000
    files = [big_png(f"scan{n}.png") for n in range(3)]  # 3 × 4.32 MP
    response = as_staff.post(url("photo_upload", case), upload_data(*files))
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["images"])
    assert "These 3 photos add up to 13.0 megapixels; upload at most 10.0 megapixels at once" in errors
    assert not Photo.objects.exists()
    assert stored_files(settings) == []
