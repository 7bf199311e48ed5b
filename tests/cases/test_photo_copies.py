"""An upload stores only the cleaned originals; the screen copy and thumbnail are made by
a background task enqueued once the upload is committed. Until then the pages show a
"processing" tile and every photo URL still answers (with the original). A batch is
capped by its total pixels."""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult
from PIL import Image

from cases.models import Photo
from cases.services.photos import photo_make_copies
from cases.tasks import make_photo_copies
from tests import factories
from tests.cases.test_photo_processing import SVG, encoded, opened, shown, stored_files
from tests.cases.test_photo_views import jpeg_file, upload_data, url

pytestmark = pytest.mark.django_db

PROCESSING = "Processing: the preview appears in a moment."


@pytest.fixture
def queued(settings):
    """Tasks wait in the database queue, as with a worker in production."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def case(client_a):
    return factories.CaseFactory(client=client_a)


def big_png(name: str, size=(2400, 1800)) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, encoded("PNG", Image.new("RGB", size, (120, 90, 60))), content_type="image/png")


def served(response) -> Image.Image:
    return opened(b"".join(response.streaming_content))


def copy_sizes(photo: Photo) -> tuple[tuple[int, int], tuple[int, int]]:
    photo.refresh_from_db()
    screen, thumbnail = opened(photo.screen.read()), opened(photo.thumbnail.read())
    assert screen.format == thumbnail.format == "JPEG"
    return screen.size, thumbnail.size


def run_the_queue() -> list:
    """Each queued task, called with the arguments stored in the queue, as a worker would
    (`manage.py db_worker` itself closes the test's database connection)."""
    return [
        import_string(queued.task_path).call(*queued.args_kwargs["args"], **queued.args_kwargs["kwargs"])
        for queued in DBTaskResult.objects.order_by("enqueued_at")
    ]


def test_the_upload_stores_the_original_and_queues_the_copies_once_committed(
    queued, case, as_staff, django_capture_on_commit_callbacks
):
    # A 3000 × 1500 camera JPEG turned upright (EXIF orientation 6), and a 2400 × 1800 scan.
    files = [jpeg_file(size=(3000, 1500)), big_png("scan.png")]
    with django_capture_on_commit_callbacks(execute=False) as committed:
        response = as_staff.post(url("photo_upload", case), upload_data(*files))
        assert response.status_code == 302
        assert not DBTaskResult.objects.exists()  # nothing queued before the commit
    photos = list(Photo.objects.order_by("pk"))
    assert [(p.width, p.height) for p in photos] == [(1500, 3000), (2400, 1800)]
    assert all(p.image and not p.screen and not p.thumbnail and p.is_processing for p in photos)
    for callback in committed:
        callback()
    tasks = list(DBTaskResult.objects.order_by("enqueued_at"))
    assert [(t.task_path, t.args_kwargs["args"]) for t in tasks] == [
        ("cases.tasks.make_photo_copies", [photo.pk]) for photo in photos
    ]

    # Meanwhile the gallery shows a "processing" tile, not the original as a thumbnail…
    gallery = as_staff.get(url("photo_gallery", case)).content.decode()
    assert gallery.count(PROCESSING) == 2
    assert all(url("photo_thumb", photo) not in gallery for photo in photos)
    # …and the copies' URLs answer with the original rather than 404 (the JPEG's as the
    # camera stored it, shown upright by its EXIF orientation).
    assert served(as_staff.get(url("photo_thumb", photos[1]))).size == (2400, 1800)
    assert shown(b"".join(as_staff.get(url("photo_screen", photos[0])).streaming_content)).size == (1500, 3000)

    assert run_the_queue() == [True, True]
    assert [copy_sizes(photo) for photo in photos] == [((800, 1600), (160, 320)), ((1600, 1200), (320, 240))]
    gallery = as_staff.get(url("photo_gallery", case)).content.decode()
    assert PROCESSING not in gallery
    assert all(url("photo_thumb", photo) in gallery for photo in photos)
    assert served(as_staff.get(url("photo_thumb", photos[1]))).size == (320, 240)


def test_a_backend_that_runs_tasks_at_once_leaves_the_copies_made(case, as_staff, django_capture_on_commit_callbacks):
    """The tests' and `make run`'s immediate backend: the copies exist once the upload's
    transaction has committed."""
    with django_capture_on_commit_callbacks(execute=True):
        as_staff.post(url("photo_upload", case), upload_data(big_png("scan.png", size=(4000, 1000))))
    photo = Photo.objects.get()
    assert not photo.is_processing
    assert copy_sizes(photo) == ((1600, 400), (320, 80))


def test_the_portal_shows_a_processing_tile_too(case, as_staff, as_client_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        as_staff.post(url("photo_upload", case), upload_data(big_png("scan.png"), shared_with_client="on"))
    photo = Photo.objects.get()
    page = as_client_a.get("/portal/photos/").content.decode()
    assert PROCESSING in page and url("photo_thumb", photo) not in page
    assert served(as_client_a.get(url("photo_thumb", photo))).size == (2400, 1800)


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


def test_two_workers_on_one_photo_keep_one_set_of_copies(queued, case, as_staff, settings):
    """Both read the photo before either stored its copies (the task enqueued twice, or the
    command run while a worker catches up): the second keeps nothing of its own."""
    as_staff.post(url("photo_upload", case), upload_data(jpeg_file()))
    first, second = Photo.objects.get(), Photo.objects.get()
    assert photo_make_copies(first) is True
    files = sorted(stored_files(settings))
    assert photo_make_copies(second) is False
    assert sorted(stored_files(settings)) == files
    assert (second.screen.name, second.thumbnail.name) == (first.screen.name, first.thumbnail.name)


def test_the_command_makes_the_copies_a_stopped_worker_left(queued, case, as_staff):
    as_staff.post(url("photo_upload", case), upload_data(jpeg_file(), jpeg_file("IMG_0002.JPG")))
    out = io.StringIO()
    call_command("make_photo_copies", stdout=out)
    assert out.getvalue().strip() == "Made the copies of 2 photos."
    assert not Photo.objects.filter(screen="").exists()
    assert not any(photo.is_processing for photo in Photo.objects.all())
    out = io.StringIO()
    call_command("make_photo_copies", stdout=out)
    assert out.getvalue().strip() == "Made the copies of 0 photos."


def test_the_command_reports_an_unreadable_original_and_goes_on(queued, case, as_staff):
    as_staff.post(url("photo_upload", case), upload_data(jpeg_file(), jpeg_file("IMG_0002.JPG")))
    lost, kept = Photo.objects.order_by("pk")
    lost.image.storage.delete(lost.image.name)
    out = io.StringIO()
    with pytest.raises(CommandError, match=f"photo {lost.public_id}"):
        call_command("make_photo_copies", stdout=out)
    assert out.getvalue().strip() == "Made the copies of 1 photo."
    kept.refresh_from_db()
    assert not kept.is_processing


def test_only_the_missing_copy_is_made(case, settings):
    """A photo with a thumbnail and no screen copy (the demo's) gets a screen copy; its
    thumbnail is kept."""
    photo = factories.PhotoFactory(
        case=case, thumbnail=ContentFile(factories.jpeg_bytes(size=(32, 24)), name="photo.jpg")
    )
    thumbnail = photo.thumbnail.name
    assert not photo.is_processing
    assert photo_make_copies(photo) is True
    photo.refresh_from_db()
    assert photo.thumbnail.name == thumbnail and opened(photo.screen.read()).size == (64, 48)
    assert len(stored_files(settings)) == 3


def test_no_copies_for_an_archived_photo(queued, case, as_staff, manager_user, settings):
    """An archived photo is shown nowhere, and an anonymisation deletes its files: a task
    that reaches it (even one that read it just before) stores nothing."""
    as_staff.post(url("photo_upload", case), upload_data(jpeg_file()))
    read_before = Photo.objects.get()
    archived = Photo.objects.get()
    archived.archive(by=manager_user, reason="Anonymised")
    archived.save()
    assert make_photo_copies.call(archived.pk) is False
    assert photo_make_copies(read_before) is False  # its claim sees the archiving
    assert len(stored_files(settings)) == 1
    out = io.StringIO()
    call_command("make_photo_copies", stdout=out)
    assert out.getvalue().strip() == "Made the copies of 0 photos."


def test_a_batch_over_the_pixel_cap_is_refused_with_the_figures_and_stores_nothing(
    queued, case, as_staff, settings, django_capture_on_commit_callbacks
):
    settings.SMP_PHOTO_MAX_BATCH_PIXELS = 10_000_000
    files = [big_png(f"scan{n}.png", size=(2500, 2000)) for n in range(3)]  # 3 × 5 MP
    with django_capture_on_commit_callbacks(execute=True) as committed:
        response = as_staff.post(url("photo_upload", case), upload_data(*files))
    assert response.status_code == 200
    assert response.context["form"].errors["images"] == [
        "These 3 photos add up to 15 megapixels; upload at most 10 megapixels at once (send the rest in another batch)."
    ]
    assert "Nothing was uploaded" in response.content.decode()
    assert not Photo.objects.exists()
    assert stored_files(settings) == []
    assert committed == [] and not DBTaskResult.objects.exists()


def test_a_refused_batch_queues_nothing(queued, case, as_staff, settings, django_capture_on_commit_callbacks):
    svg = SimpleUploadedFile("IMG_0002.JPG", SVG, content_type="image/jpeg")
    with django_capture_on_commit_callbacks(execute=True) as committed:
        response = as_staff.post(url("photo_upload", case), upload_data(jpeg_file(), svg))
    assert response.status_code == 200
    assert committed == [] and not DBTaskResult.objects.exists()
    assert not Photo.objects.exists() and stored_files(settings) == []


@pytest.mark.parametrize(("size", "decoded"), [((4000, 3000), (2000, 1500)), ((3000, 4000), (1500, 2000))])
def test_the_screen_copy_of_a_large_photo_is_decoded_at_a_reduced_scale(size, decoded):
    """A 12 MP JPEG decodes at half scale for its 1600 px copy, landscape or portrait (the
    square 1600 × 1600 box would have kept it at full scale), and the copy still fits it."""
    from cases.imaging import SCREEN_BOX, draft_to_fit, make_copies

    buffer = io.BytesIO()
    Image.new("RGB", size, (120, 90, 60)).save(buffer, "JPEG", quality=80)
    with Image.open(io.BytesIO(buffer.getvalue())) as image:
        draft_to_fit(image, SCREEN_BOX, "RGB")
        assert image.size == decoded

    screen, thumbnail = make_copies(buffer.getvalue())
    assert max(Image.open(io.BytesIO(screen)).size) == SCREEN_BOX[0]
    assert max(Image.open(io.BytesIO(thumbnail)).size) <= 320
