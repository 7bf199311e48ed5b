"""cases/imaging.py (the processing function) and the upload service, on real files made here.

Every file is built with Pillow (and pillow-heif for HEIC) in the test; nothing is mocked.
"""

from __future__ import annotations

import datetime
import io
import struct
import zlib
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageCms, ImageOps

from cases.choices import PhotoAngle, PhotoKind
from cases.imaging import LOSSLESS, REENCODED, SCREEN_BOX, THUMBNAIL_BOX, PhotoRejected, process_photo
from cases.models import Photo
from cases.services.photos import photo_upload
from tests import factories

RED, BLUE = (255, 0, 0), (0, 0, 255)
GPS_IFD, EXIF_IFD = 0x8825, 0x8769
# A camera date within the factories' cases (opened 120 days before factories.TODAY).
CAMERA_DAY = factories.TODAY - datetime.timedelta(days=10)
CAMERA_TIME = CAMERA_DAY.strftime("%Y:%m:%d 10:11:12")


# ----------------------------------------------------------------------------- files


def two_tone(size=(80, 40)) -> Image.Image:
    """Top half red, bottom half blue: shows which way up a stored photo is."""
    image = Image.new("RGB", size, RED)
    image.paste(BLUE, (0, size[1] // 2, size[0], size[1]))
    return image


def phone_exif(orientation: int = 6, taken: str | None = CAMERA_TIME) -> Image.Exif:
    """EXIF as a phone writes it: orientation, GPS position, camera make, capture time."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Model X"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 40.0)})
    if taken:
        exif.get_ifd(EXIF_IFD)[36867] = taken
    return exif


def jpeg_bytes(image: Image.Image | None = None, **save_options) -> bytes:
    buffer = io.BytesIO()
    (image or two_tone()).save(buffer, "JPEG", quality=95, **save_options)
    return buffer.getvalue()


# Made once: a profile records when it was created, so two made a second apart differ, and
# so would two "identical" files (the duplicate tests upload the same photo twice).
SRGB_ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def phone_jpeg(orientation: int = 6, taken: str | None = CAMERA_TIME, size=(80, 40)) -> bytes:
    """A JPEG carrying everything that must not be kept: EXIF with GPS, comment, XMP, ICC."""
    return jpeg_bytes(
        two_tone(size),
        exif=phone_exif(orientation, taken).tobytes(),
        comment=b"Client Jane Doe, 12 High Street",
        xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF>secret-xmp</rdf:RDF></x:xmpmeta>",
        icc_profile=SRGB_ICC,
    )


def encoded(fmt: str, image: Image.Image | None = None, **options) -> bytes:
    buffer = io.BytesIO()
    (image or two_tone()).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def png_with_header_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width × height: a decompression bomb's first step."""
    data = bytearray(encoded("PNG", Image.new("L", (8, 8))))
    # IHDR starts at byte 8 (after the signature): length(4) type(4) width(4) height(4)...
    data[16:24] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF
    data[29:33] = struct.pack(">I", crc)
    return bytes(data)


def noisy_jpeg(size=(400, 300)) -> bytes:
    """A JPEG with real entropy-coded data, so cutting it off leaves a truncated stream."""
    noise = Image.effect_noise(size, 60)
    return jpeg_bytes(Image.merge("RGB", (noise, noise.rotate(90, expand=False), noise)))


SVG = (
    b'<?xml version="1.0"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'
)
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def upload(data: bytes, name: str = "IMG_0001.JPG", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def shown(data: bytes) -> Image.Image:
    """The photo as a browser or an image viewer shows it: its EXIF orientation applied."""
    return ImageOps.exif_transpose(opened(data))


def orientation_only_exif(orientation: int) -> bytes:
    """The whole EXIF of a photo stored by the lossless path (written out here by hand, not
    by the code under test): a TIFF header and one IFD with one entry, the Orientation."""
    ifd = struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    return b"Exif\x00\x00" + b"MM\x00\x2a" + struct.pack(">I", 8) + ifd


def assert_no_metadata(data: bytes, orientation: int = 1) -> None:
    """No metadata at all, except that a photo stored by the lossless path with an
    orientation other than 1 carries an EXIF segment holding exactly that tag."""
    image = opened(data)
    assert image.format == "JPEG"
    assert dict(image.getexif()) == ({} if orientation == 1 else {0x0112: orientation})
    assert image.getexif().get_ifd(GPS_IFD) == {}
    assert image.getexif().get_ifd(EXIF_IFD) == {}
    assert image.info.get("exif") == (None if orientation == 1 else orientation_only_exif(orientation))
    assert data.count(b"Exif\x00") == (0 if orientation == 1 else 1)
    for key in ("comment", "xmp", "icc_profile", "XML:com.adobe.xmp", "photoshop", "adobe"):
        assert key not in image.info, key
    for marker in (b"PhoneMaker", b"Jane Doe", b"secret-xmp", b"ICC_PROFILE", b"http://ns.adobe.com"):
        assert marker not in data, marker


def assert_close(pixel, colour, tolerance=40) -> None:
    assert all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True)), (pixel, colour)


# ------------------------------------------------------------------ process_photo


@pytest.mark.parametrize("draft", [True, False])
def test_phone_jpeg_is_stored_upright_with_no_metadata(draft):
    result = process_photo(phone_jpeg(orientation=6), name="IMG_0001.JPG", draft=draft)

    # Orientation 6 = turn 90° clockwise to view: 80 × 40 becomes 40 × 80 …
    assert (result.width, result.height) == (40, 80)
    # The stored photo keeps the camera's pixels (80 × 40) and only the orientation …
    assert result.stored_as == LOSSLESS
    assert opened(result.image).size == (80, 40)
    assert_no_metadata(result.image, orientation=6)
    for image in (shown(result.image), opened(result.screen), opened(result.thumbnail)):
        assert image.size == (40, 80)
        # … and the red top half is now on the right, the blue bottom half on the left.
        assert_close(image.getpixel((30, 40)), RED)
        assert_close(image.getpixel((9, 40)), BLUE)
    # The copies are upright pixels with no EXIF at all (a viewer must not turn them again).
    for data in (result.screen, result.thumbnail):
        assert_no_metadata(data)
    assert result.taken_on == CAMERA_DAY
    assert result.source_format == "JPEG"
    assert len(result.sha256) == 64


def test_every_orientation_is_applied():
    for orientation, upright_size in {1: (80, 40), 3: (80, 40), 6: (40, 80), 8: (40, 80)}.items():
        result = process_photo(phone_jpeg(orientation=orientation))
        image = shown(result.image)
        assert image.size == upright_size == opened(result.screen).size
        # Whatever the camera did, red must end up where the photographer saw it: on top
        # for 1, at the bottom for 3 (upside down), on the right for 6, left for 8.
        probes = {1: ((40, 5), (40, 35)), 3: ((40, 35), (40, 5)), 6: ((35, 40), (4, 40)), 8: ((4, 40), (35, 40))}
        red_at, blue_at = probes[orientation]
        assert_close(image.getpixel(red_at), RED)
        assert_close(image.getpixel(blue_at), BLUE)


def test_heic_from_a_phone_is_accepted_and_cleaned():
    heic = encoded("HEIF", two_tone(), exif=phone_exif(orientation=6).tobytes(), quality=90)
    assert opened(heic).format == "HEIF"

    result = process_photo(heic, name="IMG_0002.HEIC")

    assert result.source_format == "HEIF"
    assert result.stored_as == REENCODED
    assert (result.width, result.height) == (40, 80)
    assert_close(opened(result.image).getpixel((30, 40)), RED)
    assert result.taken_on == CAMERA_DAY
    for data in (result.image, result.screen, result.thumbnail):
        assert_no_metadata(data)


def test_png_transparency_is_flattened_onto_white():
    image = Image.new("RGBA", (40, 20), (0, 0, 0, 0))
    image.paste((0, 128, 0, 255), (0, 0, 20, 20))
    result = process_photo(encoded("PNG", image), name="scalp.png")
    stored = opened(result.image)
    assert result.source_format == "PNG"
    assert stored.mode == "RGB"
    assert_close(stored.getpixel((30, 10)), (255, 255, 255))
    assert_close(stored.getpixel((5, 10)), (0, 128, 0))


def test_webp_is_accepted():
    result = process_photo(encoded("WEBP", two_tone(), quality=90), name="crown.webp")
    assert result.source_format == "WEBP"
    assert (result.width, result.height) == (80, 40)
    assert_no_metadata(result.image)


def test_a_png_named_jpg_is_accepted_as_the_png_it_is():
    result = process_photo(encoded("PNG"), name="renamed.jpg")
    assert result.source_format == "PNG"


@pytest.mark.parametrize(
    ("image", "fmt"),
    [
        (Image.new("I;16", (30, 20), 40000), "PNG"),
        (Image.new("P", (30, 20), 3), "PNG"),
        (Image.new("L", (30, 20), 90), "JPEG"),
        (Image.new("CMYK", (30, 20), (0, 255, 255, 0)), "JPEG"),
    ],
    ids=["16-bit grey PNG", "palette PNG", "greyscale JPEG", "CMYK JPEG"],
)
def test_unusual_pixel_formats_become_plain_jpegs(image, fmt):
    result = process_photo(encoded(fmt, image))
    assert opened(result.image).mode in ("RGB", "L")
    assert (result.width, result.height) == (30, 20)


def test_16_bit_grey_keeps_its_brightness():
    result = process_photo(encoded("PNG", Image.new("I;16", (30, 20), 32768)))
    assert 120 <= opened(result.image).getpixel((5, 5)) <= 136


@pytest.mark.parametrize("draft", [True, False])
def test_screen_copy_and_thumbnail_fit_their_boxes(draft):
    result = process_photo(jpeg_bytes(two_tone((3200, 1600))), draft=draft)
    assert (result.width, result.height) == (3200, 1600)
    assert opened(result.screen).size == (SCREEN_BOX[0], 800)
    assert opened(result.thumbnail).size == (THUMBNAIL_BOX[0], 160)
    assert_close(opened(result.thumbnail).getpixel((160, 10)), RED)


def test_a_small_photo_is_not_enlarged():
    result = process_photo(jpeg_bytes(two_tone((100, 50))))
    assert opened(result.screen).size == opened(result.thumbnail).size == (100, 50)


def test_the_hash_is_of_the_uploaded_bytes():
    import hashlib

    data = phone_jpeg()
    assert process_photo(data).sha256 == hashlib.sha256(data).hexdigest()


def test_without_a_camera_date_there_is_no_taken_on():
    assert process_photo(phone_jpeg(taken=None)).taken_on is None


LIMIT = "the limit is 50 megapixels"
REFUSALS = {
    "text file named .jpg": (b"Patient list\nJane Doe, 12 High Street\n" * 20, "not_an_image", "is not a JPEG"),
    "SVG": (SVG, "markup", "text document (SVG, HTML or XML)"),
    "HTML": (HTML, "markup", "text document (SVG, HTML or XML)"),
    "GIF": (encoded("GIF", Image.new("P", (10, 10))), "not_an_image", "is not a JPEG"),
    "truncated JPEG": (noisy_jpeg()[:6000], "damaged", "damaged or incomplete"),
    "empty file": (b"", "empty", "is empty"),
    "bomb over 2x Pillow's limit": (
        png_with_header_size(20000, 20000),
        "too_many_pixels",
        "the limit is 50 megapixels",
    ),
    "bomb over Pillow's warning": (png_with_header_size(10000, 10000), "too_many_pixels", LIMIT),
    "over the clinic's pixel cap": (png_with_header_size(8000, 7000), "too_many_pixels", "8000 × 7000 pixels"),
}


@pytest.mark.parametrize("draft", [True, False])
@pytest.mark.parametrize("label", list(REFUSALS))
def test_refusals_say_why(label, draft):
    data, code, message = REFUSALS[label]
    with pytest.raises(PhotoRejected) as refused:
        process_photo(data, name="upload.jpg", draft=draft)
    assert refused.value.code == code
    assert message in refused.value.messages[0]
    assert "“upload.jpg”" in refused.value.messages[0]


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(settings):
    settings.SMP_PHOTO_MAX_BYTES = 10_000
    data = noisy_jpeg()
    assert len(data) > 10_000
    file = upload(data)
    with pytest.raises(PhotoRejected) as refused:
        process_photo(file, name=file.name)
    assert refused.value.code == "too_large"
    assert "a photo can be at most 9.8\xa0KB" in refused.value.messages[0]
    assert file.tell() == 0  # nothing was read
    with pytest.raises(PhotoRejected, match="over 9.8"):
        process_photo(data)  # raw bytes: checked after reading


def test_the_pixel_cap_is_a_setting(settings):
    settings.SMP_PHOTO_MAX_PIXELS = 1_000
    with pytest.raises(PhotoRejected) as refused:
        process_photo(jpeg_bytes(two_tone((50, 40))))
    assert "the limit is 0.001 megapixels" in refused.value.messages[0]


def test_html_appended_to_a_png_is_removed_by_re_encoding():
    result = process_photo(encoded("PNG") + HTML)
    for data in (result.image, result.screen, result.thumbnail):
        assert b"<script>" not in data


# --------------------------------------------------------------- upload service


@pytest.fixture
def case(db):
    return factories.CaseFactory()


def _upload(case, files, **options):
    fields = {"kind": PhotoKind.BEFORE, "angle": PhotoAngle.FRONT, "uploaded_by": None, **options}
    return photo_upload(case=case, files=files, **fields)


def test_service_stores_each_file_under_a_random_name_with_its_facts(
    case, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the copies' task, after the commit
        result = _upload(case, [upload(phone_jpeg(), name="Jane Doe front.jpg"), upload(encoded("PNG"), "top.png")])

    assert [p.pk for p in result.photos] == list(Photo.objects.order_by("id").values_list("pk", flat=True))
    first = Photo.objects.get(pk=result.photos[0].pk)
    assert (first.width, first.height) == (40, 80)
    assert first.byte_size == first.image.size
    assert first.source_format == "JPEG"
    assert first.taken_on == CAMERA_DAY  # the camera's date
    second = Photo.objects.get(pk=result.photos[1].pk)
    assert second.taken_on == timezone.localdate()  # no camera date: today
    for photo in (first, second):
        for file in (photo.image, photo.screen, photo.thumbnail):
            folder, filename = file.name.rsplit("/", 1)
            assert folder == f"photos/{case.public_id}"
            assert len(filename) == len("0" * 32 + ".jpg") and filename.endswith(".jpg")
            assert "Jane" not in file.name and "top" not in file.name
            # The JPEG's original keeps its orientation (6); the PNG's was re-encoded upright.
            assert_no_metadata(file.read(), orientation=6 if file is first.image else 1)
    assert len(stored_files(settings)) == 6


def test_a_date_given_for_the_batch_wins_over_the_camera(case):
    result = _upload(case, [upload(phone_jpeg())], taken_on=datetime.date(2026, 5, 1))
    assert result.photos[0].taken_on == datetime.date(2026, 5, 1)


REFUSED_FILES = {
    "decompression bomb": png_with_header_size(20000, 20000),
    "text file named .jpg": b"just some text, not a photo",
    "SVG": SVG,
    "HTML": HTML,
    "truncated JPEG": noisy_jpeg()[:6000],
}


@pytest.mark.parametrize("label", list(REFUSED_FILES))
def test_a_refused_file_leaves_no_row_and_no_file(case, settings, label):
    with pytest.raises(ValidationError) as refused:
        _upload(case, [upload(REFUSED_FILES[label], name="evil.jpg")])
    assert "“evil.jpg”" in refused.value.messages[0]
    assert Photo.objects.count() == 0
    assert stored_files(settings) == []


def test_an_oversize_file_leaves_no_row_and_no_file(case, settings):
    settings.SMP_PHOTO_MAX_BYTES = 5_000
    with pytest.raises(ValidationError, match="a photo can be at most"):
        _upload(case, [upload(noisy_jpeg(), name="huge.jpg")])
    assert Photo.objects.count() == 0
    assert stored_files(settings) == []


def test_one_bad_file_refuses_the_whole_batch_and_cleans_up(case, settings):
    good = [upload(phone_jpeg(), name=f"good-{n}.jpg") for n in range(2)]
    with pytest.raises(ValidationError) as refused:
        _upload(case, [*good, upload(SVG, name="drawing.svg"), upload(b"text", name="notes.jpg")])
    # Every problem is reported, not just the first.
    assert len(refused.value.messages) == 2
    assert "“drawing.svg”" in refused.value.messages[0] and "“notes.jpg”" in refused.value.messages[1]
    # The good files had been written to storage; they are gone again.
    assert Photo.objects.count() == 0
    assert stored_files(settings) == []


def test_a_camera_date_in_the_future_refuses_the_batch_after_files_were_stored(case, settings):
    future = (timezone.localdate() + datetime.timedelta(days=30)).strftime("%Y:%m:%d 09:00:00")
    files = [upload(phone_jpeg(), name="fine.jpg"), upload(phone_jpeg(taken=future), name="wrong-clock.jpg")]
    with pytest.raises(ValidationError) as refused:
        _upload(case, files)
    assert "“wrong-clock.jpg”" in refused.value.messages[0]
    assert "in the future: enter the date taken" in refused.value.messages[0]
    assert Photo.objects.count() == 0
    assert stored_files(settings) == []


def test_a_link_to_another_cases_record_is_refused_before_any_file_is_read(case, settings):
    other_issue = factories.IssueFactory()
    with pytest.raises(ValidationError) as refused:
        _upload(case, [upload(phone_jpeg())], issue=other_issue)
    assert refused.value.message_dict == {"issue": ["This issue belongs to another case."]}
    assert stored_files(settings) == []


def test_links_to_the_cases_own_records_are_kept(case):
    session = factories.LaserSessionFactory(case=case)
    follow_up = factories.FollowUpFactory(case=case)
    result = _upload(case, [upload(phone_jpeg())], laser_session=session, follow_up=follow_up)
    photo = Photo.objects.get(pk=result.photos[0].pk)
    assert (photo.laser_session, photo.follow_up) == (session, follow_up)


def test_a_duplicate_within_the_case_is_stored_and_reported(case):
    first = _upload(case, [upload(phone_jpeg(), name="a.jpg")]).photos[0]
    again = _upload(case, [upload(phone_jpeg(), name="a-again.jpg"), upload(encoded("PNG"), "new.png")])

    assert Photo.objects.count() == 3
    assert [(name, original) for name, _photo, original in again.duplicates] == [("a-again.jpg", first)]
    assert Photo.objects.get(pk=again.photos[0].pk).duplicate_of == first
    assert Photo.objects.get(pk=again.photos[1].pk).duplicate_of is None


def test_the_same_file_twice_in_one_batch_is_a_duplicate_of_the_first(case):
    result = _upload(case, [upload(phone_jpeg(), name="one.jpg"), upload(phone_jpeg(), name="two.jpg")])
    assert [name for name, _photo, _original in result.duplicates] == ["two.jpg"]
    assert Photo.objects.get(pk=result.photos[1].pk).duplicate_of_id == result.photos[0].pk


def test_the_same_file_in_another_case_is_not_a_duplicate(case):
    _upload(factories.CaseFactory(), [upload(phone_jpeg())])
    assert _upload(case, [upload(phone_jpeg())]).duplicates == []


def test_a_batch_needs_at_least_one_file(case):
    with pytest.raises(ValidationError, match="Choose at least one photo"):
        _upload(case, [])
