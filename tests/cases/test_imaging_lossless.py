"""The lossless path of cases/imaging.py: a JPEG upload is stored with the camera's own
compressed data, byte for byte, in a file rebuilt from the segments a decoder needs; the
metadata is dropped, except an EXIF segment holding only the orientation.

Every file is made here with Pillow (segments added or changed by hand where Pillow cannot
write them) and read back with Pillow and with the small JPEG reader below, which is
written for these tests and shares nothing with the code under test.
"""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image, ImageCms, ImageOps

from cases.imaging import LOSSLESS, REENCODED, SCREEN_BOX, THUMBNAIL_BOX, PhotoRejected, make_copies, process_photo
from tests.cases.test_photo_orientation import ORIENTATIONS, assert_upright, camera_file
from tests.cases.test_photo_processing import (
    BLUE,
    EXIF_IFD,
    GPS_IFD,
    RED,
    SRGB_ICC,
    assert_close,
    assert_no_metadata,
    opened,
    orientation_only_exif,
    phone_exif,
    shown,
    two_tone,
)

SOI, EOI = b"\xff\xd8", b"\xff\xd9"
APP0, APP1, APP2, APP3, APP13, APP14, COM = 0xE0, 0xE1, 0xE2, 0xE3, 0xED, 0xEE, 0xFE
DQT, DHT, DRI, SOF0, SOF2, SOS = 0xDB, 0xC4, 0xDD, 0xC0, 0xC2, 0xDA


# ------------------------------------------------------------------ a JPEG reader


def read_jpeg(data: bytes) -> tuple[list[tuple[int, bytes]], list[bytes], bytes]:
    """(the segments before and between the scans as (marker, body), each scan's SOS segment
    with its entropy-coded data, what follows the first EOI). Byte by byte: slow, plain."""
    assert data[:2] == SOI
    segments: list[tuple[int, bytes]] = []
    scans: list[bytes] = []
    at = 2
    while True:
        assert data[at] == 0xFF, at
        while data[at] == 0xFF:
            at += 1
        marker = data[at]
        at += 1
        if marker == 0xD9:
            return segments, scans, data[at:]
        (length,) = struct.unpack(">H", data[at : at + 2])
        body = data[at + 2 : at + length]
        if marker != SOS:
            segments.append((marker, body))
            at += length
            continue
        end = at + length
        # The scan's data ends at the first 0xFF followed by anything but 0x00 (stuffing),
        # a restart marker (0xD0…0xD7) or 0xFF (fill).
        while not (data[end] == 0xFF and data[end + 1] not in (0x00, 0xFF, *range(0xD0, 0xD8))):
            end += 1
        scans.append(data[at - 2 : end])
        at = end


def markers(data: bytes) -> list[int]:
    return [marker for marker, _body in read_jpeg(data)[0]]


def jpeg(image: Image.Image | None = None, **options) -> bytes:
    buffer = io.BytesIO()
    (image or two_tone()).save(buffer, "JPEG", quality=90, **options)
    return buffer.getvalue()


def with_segments(data: bytes, *segments: tuple[int, bytes]) -> bytes:
    """`data` with these segments inserted right after its SOI."""
    raw = b"".join(bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body for marker, body in segments)
    return data[:2] + raw + data[2:]


def without(data: bytes, marker: int, starting: bytes = b"") -> bytes:
    """`data` with every segment `marker` whose body starts with `starting` removed."""
    out, at = bytearray(data[:2]), 2
    while data[at + 1] != SOS:
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        segment = data[at : at + 2 + length]
        if not (segment[1] == marker and segment[4:].startswith(starting)):
            out += segment
        at += 2 + length
    return bytes(out + data[at:])


def noisy(size=(640, 480)) -> Image.Image:
    """Real detail, so the entropy-coded data is long and varied (0xFF bytes included)."""
    noise = Image.effect_noise(size, 60)
    return Image.merge("RGB", (noise, noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT), two_tone(size).getchannel(0)))


def ifd0_entries(exif_body: bytes) -> list[int]:
    """The tags of IFD0 of an APP1 EXIF body, read by hand; asserts there is no next IFD."""
    assert exif_body[:6] == b"Exif\x00\x00"
    tiff = exif_body[6:]
    order = {b"MM": ">", b"II": "<"}[tiff[:2]]
    (offset,) = struct.unpack(order + "I", tiff[4:8])
    (count,) = struct.unpack(order + "H", tiff[offset : offset + 2])
    tags = [struct.unpack(order + "H", tiff[offset + 2 + 12 * n : offset + 4 + 12 * n])[0] for n in range(count)]
    (next_ifd,) = struct.unpack(order + "I", tiff[offset + 2 + 12 * count : offset + 6 + 12 * count])
    assert next_ifd == 0
    return tags


def icc_profile(description: str, colorants: dict[bytes, tuple[float, float, float]]) -> bytes:
    """A minimal ICC v2 RGB display profile (matrix and gamma 2.2 curves), written out here."""

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x, y, z) -> bytes:
        return b"XYZ \x00\x00\x00\x00" + s15(x) + s15(y) + s15(z)

    text = description.encode("ascii") + b"\x00"
    tags = {
        b"desc": b"desc\x00\x00\x00\x00" + struct.pack(">I", len(text)) + text + b"\x00" * 12 + b"\x00" * 67,
        b"cprt": b"text\x00\x00\x00\x00No copyright\x00",
        b"wtpt": xyz(0.9642, 1.0, 0.8249),
        **{name: xyz(*value) for name, value in colorants.items()},
        **{
            name: b"curv\x00\x00\x00\x00" + struct.pack(">IH", 1, 0x0233) + b"\x00\x00"
            for name in (b"rTRC", b"gTRC", b"bTRC")
        },
    }
    table_size = 4 + 12 * len(tags)
    offset, table, body = 128 + table_size, b"", b""
    for name, value in tags.items():
        value += b"\x00" * (-len(value) % 4)
        table += name + struct.pack(">II", offset + len(body), len(value))
        body += value
    size = 128 + table_size + len(body)
    header = struct.pack(">I", size) + b"\x00" * 4 + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
    header += b"\x00" * 12 + b"acsp" + b"\x00" * 24 + struct.pack(">I", 0) + s15(0.9642) + s15(1.0) + s15(0.8249)
    header += b"\x00" * (128 - len(header))
    return header + struct.pack(">I", len(tags)) + table + body


# sRGB's colorants (adapted to D50), and a "wide" profile that swaps its red and blue: a
# pixel stored as red in it is blue in sRGB, so converting it cannot go unnoticed.
SRGB_COLORANTS = {
    b"rXYZ": (0.4361, 0.2225, 0.0139),
    b"gXYZ": (0.3851, 0.7169, 0.0971),
    b"bXYZ": (0.1431, 0.0606, 0.7141),
}
SWAPPED = icc_profile(
    "Swapped Wide RGB",
    {b"rXYZ": SRGB_COLORANTS[b"bXYZ"], b"gXYZ": SRGB_COLORANTS[b"gXYZ"], b"bXYZ": SRGB_COLORANTS[b"rXYZ"]},
)
SRGB_BY_HAND = icc_profile("sRGB IEC61966-2.1", SRGB_COLORANTS)


def everything_a_phone_writes(image: Image.Image | None = None, orientation: int = 6) -> bytes:
    """A JPEG with EXIF (GPS, camera, time), XMP, a comment, an sRGB ICC profile, a camera
    maker's segment and a Photoshop one, bytes hidden after its EOI and a second JPEG after
    those (where a multi-picture file keeps its other images)."""
    primary = jpeg(
        image or two_tone((160, 80)),
        exif=phone_exif(orientation).tobytes(),
        comment=b"Client Jane Doe, 12 High Street",
        xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF>secret-xmp</rdf:RDF></x:xmpmeta>",
        icc_profile=SRGB_ICC,
    )
    primary = with_segments(
        primary,
        (APP3, b"META\x00camera-vendor-data"),
        (APP13, b"Photoshop 3.0\x008BIM\x04\x04secret-iptc"),
    )
    second = jpeg(Image.new("RGB", (32, 16), (0, 255, 0)), comment=b"second-image")
    return primary + b"hidden payload <script>alert(1)</script>" + second


# ------------------------------------------------------------- what is kept, dropped


def test_only_the_tables_frame_scans_and_the_orientation_are_stored():
    upload = everything_a_phone_writes()
    for marker in (b"Exif\x00", b"ICC_PROFILE", b"secret-iptc", b"secret-xmp", b"Jane Doe", b"hidden payload"):
        assert marker in upload  # the test file has them all

    result = process_photo(upload, name="IMG_0001.JPG", copies=False)

    stored = result.image
    assert result.stored_as == LOSSLESS and result.why_reencoded == ""
    segments, scans, after_eoi = read_jpeg(stored)
    assert after_eoi == b""  # nothing after the EOI: no payload, no second image
    assert stored.count(SOI) == 1 and stored.count(EOI) == 1
    kinds = [marker for marker, _body in segments]
    # A fresh JFIF header, the orientation-only EXIF, then only what a decoder needs.
    assert kinds[:2] == [APP0, APP1]
    assert set(kinds[2:]) <= {DQT, DHT, DRI, SOF0} and SOF0 in kinds
    assert COM not in kinds and not any(0xE2 <= kind <= 0xEF for kind in kinds)
    assert segments[0][1] == b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    assert segments[1][1] == orientation_only_exif(6)
    assert ifd0_entries(segments[1][1]) == [0x0112]  # one entry: no GPS IFD, no EXIF IFD
    assert stored.count(b"Exif\x00") == 1
    for secret in (b"GPS", b"PhoneMaker", b"Model X", b"secret", b"Jane Doe", b"ICC_PROFILE", b"vendor", b"script"):
        assert secret not in stored, secret
    assert_no_metadata(stored, orientation=6)
    # Pillow reads exactly that back: the orientation and nothing else.
    exif = opened(stored).getexif()
    assert dict(exif) == {0x0112: 6} and exif.get_ifd(GPS_IFD) == {} and exif.get_ifd(EXIF_IFD) == {}
    # The facts of the upload are still read from it: the camera's date, the hash.
    assert result.taken_on is not None


def test_the_compressed_data_is_the_uploads_byte_for_byte_and_decodes_to_the_same_pixels():
    upload = everything_a_phone_writes(noisy())
    result = process_photo(upload, copies=False)

    up_segments, up_scans, _ = read_jpeg(upload)
    stored_segments, stored_scans, _ = read_jpeg(result.image)
    assert stored_scans == up_scans and len(b"".join(stored_scans)) > 100_000
    tables = {DQT, DHT, DRI, SOF0, SOF2}
    assert [s for s in stored_segments if s[0] in tables] == [s for s in up_segments if s[0] in tables]
    # No generation loss: every pixel is what the camera's file decodes to.
    assert opened(result.image).tobytes() == opened(upload).tobytes()
    # The stored file is the upload less its metadata.
    assert len(result.image) < len(upload)


def test_a_multi_picture_jpeg_keeps_its_first_picture_only():
    """An MPO (a JPEG, an MPF segment indexing the pictures appended after its EOI), as
    some phones write with a depth map or a preview: the photo is kept, the rest dropped."""
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    second = Image.new("RGB", (40, 20), (0, 255, 0))
    noisy((160, 80)).save(buffer, "MPO", save_all=True, append_images=[second], exif=exif.tobytes(), quality=90)
    upload = buffer.getvalue()
    assert Image.open(io.BytesIO(upload)).format == "MPO" and upload.count(SOI) == 2

    result = process_photo(upload)

    assert (result.source_format, result.stored_as) == ("JPEG", LOSSLESS)
    assert result.image.count(SOI) == 1 and b"MPF\x00" not in result.image
    assert read_jpeg(result.image)[2] == b""
    assert read_jpeg(result.image)[1] == read_jpeg(upload)[1]
    assert (result.width, result.height) == shown(result.image).size == opened(result.screen).size == (80, 160)


def test_a_jpeg_with_nothing_to_drop_and_orientation_1_has_no_exif_at_all():
    upload = jpeg(noisy((200, 100)))
    result = process_photo(upload)
    assert result.stored_as == LOSSLESS
    assert b"Exif" not in result.image
    assert markers(result.image)[0] == APP0 and APP1 not in markers(result.image)
    assert read_jpeg(result.image)[1] == read_jpeg(upload)[1]
    assert (result.width, result.height) == (200, 100)
    assert_no_metadata(result.image)


def test_a_progressive_jpeg_keeps_all_its_scans():
    upload = jpeg(noisy(), progressive=True, exif=phone_exif(8).tobytes())
    assert len(read_jpeg(upload)[1]) > 1

    result = process_photo(upload)

    assert result.stored_as == LOSSLESS
    assert SOF2 in markers(result.image)
    assert read_jpeg(result.image)[1] == read_jpeg(upload)[1]
    assert opened(result.image).tobytes() == opened(upload).tobytes()
    assert (result.width, result.height) == (480, 640)
    assert shown(result.image).size == opened(result.screen).size == (480, 640)


def test_restart_markers_are_kept_with_their_interval():
    upload = jpeg(noisy(), restart_marker_blocks=2, exif=phone_exif(3).tobytes())
    assert sum(upload.count(bytes([0xFF, 0xD0 + n])) for n in range(8)) > 100

    result = process_photo(upload)

    segments, scans, _ = read_jpeg(result.image)
    assert [body for marker, body in segments if marker == DRI] == [b"\x00\x02"]
    assert scans == read_jpeg(upload)[1]
    assert opened(result.image).tobytes() == opened(upload).tobytes()
    assert_close(opened(result.screen).getpixel((320, 470)), (255, 128, 128), tolerance=200)  # red half: bottom


def test_a_greyscale_jpeg_is_kept():
    upload = jpeg(noisy().convert("L"), exif=phone_exif(6).tobytes())
    result = process_photo(upload)
    assert result.stored_as == LOSSLESS
    assert opened(result.image).mode == "L"
    assert opened(result.image).tobytes() == opened(upload).tobytes()
    assert (result.width, result.height) == opened(result.screen).size == (480, 640)


def test_an_srgb_profile_is_dropped_whoever_wrote_it():
    for profile in (SRGB_ICC, SRGB_BY_HAND):
        assert ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(profile))).startswith("sRGB")
        result = process_photo(jpeg(two_tone(), icc_profile=profile))
        assert result.stored_as == LOSSLESS
        assert b"ICC_PROFILE" not in result.image


# ---------------------------------------------------------------- the orientation


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_each_orientation_is_kept_and_the_copies_made_later_are_upright(orientation):
    """As the upload request and the copies' task do it: copies=False, then make_copies."""
    size = (SCREEN_BOX[0] + 400, SCREEN_BOX[0] // 2)  # over the screen box: a draft decode
    result = process_photo(camera_file(orientation, "JPEG", size), copies=False)
    assert result.stored_as == LOSSLESS
    assert (result.width, result.height) == size  # the upright size
    assert result.screen == result.thumbnail == b""
    assert_upright(result.image, size, f"stored, orientation {orientation}", orientation=orientation)
    for draft in (True, False):
        screen, thumbnail = make_copies(result.image, draft=draft)
        assert opened(screen).width == SCREEN_BOX[0] and opened(thumbnail).width == THUMBNAIL_BOX[0]
        for label, data in (("screen", screen), ("thumbnail", thumbnail)):
            assert_upright(data, size, f"{label} of orientation {orientation}, draft {draft}")  # no EXIF


def test_a_photo_stored_re_encoded_before_is_not_turned_again():
    """Photos stored before the lossless path (and every PNG, WebP, HEIC) are upright
    pixels with no EXIF: their copies are made as they are."""
    upright = two_tone((400, 200))
    screen, thumbnail = make_copies(jpeg(upright))
    assert opened(screen).size == (400, 200)
    assert_close(opened(thumbnail).getpixel((160, 10)), RED)
    assert_close(opened(thumbnail).getpixel((160, 150)), BLUE)


# ---------------------------------------------------------- checked all the same


@pytest.mark.parametrize("copies", [True, False])
@pytest.mark.parametrize("cut", [0.3, 0.6, 0.99])
def test_a_truncated_jpeg_is_refused(cut, copies):
    upload = jpeg(noisy(), exif=phone_exif(6).tobytes())
    with pytest.raises(PhotoRejected) as refused:
        process_photo(upload[: int(len(upload) * cut)], name="cut.jpg", copies=copies)
    assert refused.value.code == "damaged"


@pytest.mark.parametrize("copies", [True, False])
def test_a_jpeg_whose_kept_segments_do_not_decode_is_refused(copies):
    """Its segments are all in order (the lossless path takes it), but its quantisation
    tables are missing: the decode of the rebuilt file fails, and the upload is refused."""
    upload = without(jpeg(noisy()), DQT)
    assert DQT not in markers(upload)
    with pytest.raises(PhotoRejected) as refused:
        process_photo(upload, name="broken.jpg", copies=copies)
    assert refused.value.code == "damaged"


def test_the_pixel_cap_still_applies(settings):
    settings.SMP_PHOTO_MAX_PIXELS = 10_000
    with pytest.raises(PhotoRejected) as refused:
        process_photo(jpeg(noisy((200, 100))), copies=False)
    assert refused.value.code == "too_many_pixels"


# ------------------------------------------------------------------- re-encoded


def test_a_cmyk_jpeg_is_re_encoded():
    upload = jpeg(Image.new("CMYK", (40, 20), (0, 255, 255, 0)), exif=phone_exif(6).tobytes())
    result = process_photo(upload)
    assert result.stored_as == REENCODED
    assert "CMYK" in result.why_reencoded
    stored = opened(result.image)
    assert stored.mode == "RGB" and stored.size == (20, 40)  # upright pixels
    assert_no_metadata(result.image)


def test_a_jpeg_with_another_colour_profile_is_converted_to_srgb_and_re_encoded():
    upload = jpeg(two_tone(), icc_profile=SWAPPED, exif=phone_exif(1).tobytes())
    result = process_photo(upload)
    assert result.stored_as == REENCODED
    assert "ICC" in result.why_reencoded
    assert_no_metadata(result.image)
    # Red in the swapped profile is sRGB blue, and blue red: the colours were converted.
    stored = opened(result.image)
    assert_close(stored.getpixel((40, 5)), BLUE, tolerance=60)
    assert_close(stored.getpixel((40, 35)), RED, tolerance=60)


def test_a_jpeg_of_rgb_components_is_re_encoded():
    """An Adobe segment saying the components are RGB, not YCbCr (and no JFIF header): the
    JFIF header of the lossless path would make decoders read them as YCbCr."""
    upload = with_segments(without(jpeg(two_tone()), APP0), (APP14, b"Adobe\x00\x64\x00\x00\x00\x00\x00"))
    assert APP0 not in markers(upload)
    result = process_photo(upload)
    assert result.stored_as == REENCODED
    assert "RGB" in result.why_reencoded
    # What is stored is what Pillow decoded from the upload, not the kept data read as YCbCr.
    reference = opened(upload).convert("RGB")
    for probe in ((40, 5), (40, 35)):
        assert_close(opened(result.image).getpixel(probe), reference.getpixel(probe), tolerance=12)


def test_an_arithmetic_coded_frame_is_never_kept():
    upload = bytearray(jpeg(noisy((64, 48))))
    upload[upload.index(b"\xff\xc0") + 1] = 0xC9  # SOF9: arithmetic coding
    try:
        result = process_photo(bytes(upload))
    except PhotoRejected:
        return  # refused: fine too
    assert result.stored_as == REENCODED and "0xC9" in result.why_reencoded


def test_bytes_between_segments_make_it_re_encoded():
    upload = jpeg(two_tone(), exif=phone_exif(6).tobytes())
    jfif_end = 2 + 2 + struct.unpack(">H", upload[4:6])[0]
    upload = upload[:jfif_end] + b"\x00\x00" + upload[jfif_end:]  # not a marker: a parse anomaly
    result = process_photo(upload)
    assert result.stored_as == REENCODED and "no marker" in result.why_reencoded
    assert_no_metadata(result.image)
    assert ImageOps.exif_transpose(opened(result.image)).size == (40, 80)
