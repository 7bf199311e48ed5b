"""Every EXIF orientation, mirrored ones included, comes out upright and un-mirrored.

Each test file is built here: an upright reference with four coloured quadrants is turned
into the pixels a camera would store for an orientation, the EXIF Orientation tag is set,
and every derivative (the stored photo, the screen copy, the thumbnail) is checked pixel
by pixel against the upright reference, not only by its size.

A JPEG's stored photo keeps the camera's pixels and an EXIF segment with only the
orientation (the lossless path, cases/imaging.py), so it is checked as a browser or image
viewer shows it: with its EXIF orientation applied. Every other derivative must be upright
pixels with no orientation of its own, or a viewer would turn it a second time.
"""

from __future__ import annotations

import functools
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageOps

from cases import imaging
from cases.choices import PhotoAngle, PhotoKind
from cases.imaging import LOSSLESS, REENCODED, SCREEN_BOX, THUMBNAIL_BOX, process_photo
from cases.models import Photo
from tests import factories

RED, GREEN, BLUE, YELLOW = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)
# Quadrants of the upright reference: (column, row) → colour.
QUADRANTS = {(0, 0): RED, (1, 0): GREEN, (0, 1): BLUE, (1, 1): YELLOW}

# The EXIF specification (CIPA DC-008, tag 0x0112) says where the stored image's first row
# and first column are when the photo is viewed upright. Stored pixel (x, y) of a stored
# image `sw` × `sh` shows upright pixel:
SPEC = {
    1: lambda x, y, sw, sh: (x, y),  # row 0 at the top, column 0 on the left
    2: lambda x, y, sw, sh: (sw - 1 - x, y),  # top, right: mirrored left-right
    3: lambda x, y, sw, sh: (sw - 1 - x, sh - 1 - y),  # bottom, right: upside down
    4: lambda x, y, sw, sh: (x, sh - 1 - y),  # bottom, left: mirrored top-bottom
    5: lambda x, y, sw, sh: (y, x),  # left, top: transposed
    6: lambda x, y, sw, sh: (sh - 1 - y, x),  # right, top: turn 90° clockwise to view
    7: lambda x, y, sw, sh: (sh - 1 - y, sw - 1 - x),  # right, bottom: transversed
    8: lambda x, y, sw, sh: (y, sw - 1 - x),  # left, bottom: turn 90° anticlockwise to view
}
# The same, as whole-image operations (fast enough for multi-megapixel test files);
# test_the_test_files_follow_the_exif_specification checks them against SPEC.
AS_STORED = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}
ORIENTATIONS = list(SPEC)


def upright(size: tuple[int, int]) -> Image.Image:
    width, height = size
    image = Image.new("RGB", size)
    for (column, row), colour in QUADRANTS.items():
        box = (column * width // 2, row * height // 2, (column + 1) * width // 2, (row + 1) * height // 2)
        image.paste(colour, box)
    return image


def as_stored(image: Image.Image, orientation: int) -> Image.Image:
    """The pixels a camera stores for `orientation` when the scene looks like `image`."""
    operation = AS_STORED[orientation]
    return image.copy() if operation is None else image.transpose(operation)


@functools.cache  # the same bytes for the same arguments: made once per run
def camera_file(orientation: int, fmt: str = "JPEG", size: tuple[int, int] = (120, 60)) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    options = {} if fmt == "PNG" else {"quality": 95}
    as_stored(upright(size), orientation).save(buffer, format=fmt, exif=exif.tobytes(), **options)
    return buffer.getvalue()


def assert_upright(data: bytes, size: tuple[int, int], label: str, *, orientation: int = 1) -> None:
    """`data`, shown as a browser shows it (EXIF orientation applied), is the upright
    reference: its proportions and each quadrant's colour. Its own EXIF orientation must be
    `orientation` (1: none)."""
    image = Image.open(io.BytesIO(data))
    assert image.getexif().get(0x0112, 1) == orientation, (label, dict(image.getexif()))
    image = ImageOps.exif_transpose(image).convert("RGB")
    width, height = image.size
    assert (width > height) == (size[0] > size[1]), (label, image.size)
    for (column, row), colour in QUADRANTS.items():
        # The middle of each quadrant, well away from the edges JPEG blurs.
        probe = (int((column + 0.5) * width / 2), int((row + 0.5) * height / 2))
        pixel = image.getpixel(probe)
        assert all(abs(a - b) <= 60 for a, b in zip(pixel, colour, strict=True)), (label, probe, pixel, colour)


# ----------------------------------------------------------------- the test files


def test_the_test_files_follow_the_exif_specification():
    reference = Image.new("RGB", (5, 3))
    reference.putdata([(x * 40, y * 80, 7) for y in range(3) for x in range(5)])
    for orientation, shown in SPEC.items():
        stored = as_stored(reference, orientation)
        sw, sh = stored.size
        for y in range(sh):
            for x in range(sw):
                assert stored.getpixel((x, y)) == reference.getpixel(shown(x, y, sw, sh)), (orientation, x, y)


# ------------------------------------------------------------------ process_photo


@pytest.mark.parametrize("orientation", ORIENTATIONS)
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_each_orientation_is_upright_in_every_derivative(fmt, orientation):
    size = (120, 60)
    result = process_photo(camera_file(orientation, fmt, size), name=f"o{orientation}.{fmt.lower()}")
    assert (result.width, result.height) == size
    # A JPEG keeps the camera's pixels and says how to turn them; other formats are upright.
    assert result.stored_as == (LOSSLESS if fmt == "JPEG" else REENCODED)
    kept = orientation if fmt == "JPEG" else 1
    assert_upright(result.image, size, f"{fmt} orientation {orientation} image", orientation=kept)
    for variant in ("screen", "thumbnail"):
        assert_upright(getattr(result, variant), size, f"{fmt} orientation {orientation} {variant}")


@pytest.mark.parametrize("lossless", [True, False], ids=["kept", "re-encoded"])
@pytest.mark.parametrize("draft", [True, False], ids=["draft decode", "full decode"])
@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_each_orientation_is_upright_from_a_large_jpeg(orientation, draft, lossless, monkeypatch):
    # Over twice the screen box, so the draft path decodes at reduced scale and shrinks
    # (thumbnail with a tight box) before the orientation is applied. The boxes are a
    # third of the clinic's, so the file is 0.7 rather than 5.8 megapixels: the same
    # paths, with quadrants still far wider than JPEG's blocks.
    screen_box, thumbnail_box = (SCREEN_BOX[0] * 3 // 10, SCREEN_BOX[1] * 3 // 10), (THUMBNAIL_BOX[0] // 2,) * 2
    monkeypatch.setattr(imaging, "SCREEN_BOX", screen_box)
    monkeypatch.setattr(imaging, "THUMBNAIL_BOX", thumbnail_box)
    size = (screen_box[0] * 2 + 200, screen_box[0] + 100)
    result = process_photo(camera_file(orientation, "JPEG", size), draft=draft, lossless=lossless)
    assert (result.width, result.height) == size
    screen = Image.open(io.BytesIO(result.screen))
    thumbnail = Image.open(io.BytesIO(result.thumbnail))
    assert screen.width == screen_box[0] and thumbnail.width == thumbnail_box[0]
    assert result.stored_as == (LOSSLESS if lossless else REENCODED)
    kept = orientation if lossless else 1  # re-encoded: upright pixels, no EXIF
    assert_upright(result.image, size, f"orientation {orientation} image", orientation=kept)
    for variant in ("screen", "thumbnail"):
        assert_upright(getattr(result, variant), size, f"orientation {orientation} {variant}")


# ------------------------------------------------------------ through the upload page


def test_an_upload_of_all_eight_orientations_is_stored_and_served_upright(
    client_a, as_staff, settings, django_capture_on_commit_callbacks
):
    case = factories.CaseFactory(client=client_a)
    files = [
        SimpleUploadedFile(f"orientation-{n}.jpg", camera_file(n, size=(160, 80)), content_type="image/jpeg")
        for n in ORIENTATIONS
    ]
    with django_capture_on_commit_callbacks(execute=True):  # the copies' task, after the commit
        response = as_staff.post(
            reverse("cases:photo_upload", kwargs={"case_id": case.public_id}),
            {"images": files, "kind": PhotoKind.BEFORE, "angle": PhotoAngle.LEFT, "taken_on": ""},
        )
    assert response.status_code == 302, response.context["form"].errors
    photos = list(Photo.objects.order_by("id"))
    assert len(photos) == 8
    for orientation, photo in zip(ORIENTATIONS, photos, strict=True):
        assert (photo.width, photo.height) == (160, 80)
        for field, view in (("image", "photo_file"), ("screen", "photo_screen"), ("thumbnail", "photo_thumb")):
            kept = orientation if field == "image" else 1  # the original keeps the camera's
            with getattr(photo, field).open("rb") as stored:
                label = f"stored {field} of orientation {orientation}"
                assert_upright(stored.read(), (160, 80), label, orientation=kept)
            served = as_staff.get(reverse(f"cases:{view}", kwargs={"photo_id": photo.public_id}))
            content = b"".join(served.streaming_content)
            assert_upright(content, (160, 80), f"{view} of orientation {orientation}", orientation=kept)
