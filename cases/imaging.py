"""Turn an uploaded file into the three JPEGs the clinic stores: photo, screen copy, thumbnail.

Verify it is an image Pillow can decode (size and pixel limits) → keep the camera's own
compressed data (a JPEG) or re-encode it upright (anything else) → drop all metadata
(GPS!) → store under a random name → derive an upright screen copy and thumbnail
(docs/domain.md#photos). This module does everything but the storing; it touches no
database and no storage, so it is tested directly and benchmarked by bench/photos.py.

Choices made here:

- What counts is the decoded content, never the file name or the browser's content type:
  a PNG named ``.jpg`` is accepted as a PNG; a text, HTML or SVG file named ``.jpg`` is
  refused. Only JPEG, PNG, WebP and HEIC/HEIF decoders are ever run on an upload
  (``Image.open(formats=…)``), so Pillow's other parsers (PSD, EPS, FITS…) never see it.
- A JPEG upload is stored without decoding and encoding it again (``stored_as`` is
  ``LOSSLESS``): the file is rebuilt from the segments a decoder needs, the quantisation
  and Huffman tables (DQT, DHT), the restart interval (DRI), the frame header (SOF0, SOF1
  or SOF2) and each scan (SOS) with its entropy-coded data copied byte for byte, between
  a new SOI, a fresh minimal JFIF header (APP0) and EOI. So the stored photo has exactly
  the camera's pixels: no second generation of JPEG loss over clinical detail (skin
  texture, pigment dots), and no full-size decode and encode in the upload request, which
  were nearly all of its time.
- Everything else in the JPEG is dropped: every APP segment (EXIF with GPS, camera, owner
  and times, and its embedded thumbnail; XMP; the ICC profile; MPF and the pictures it
  indexes; Photoshop/IPTC; maker data), comments, and anything after the first EOI (a
  phone's appended depth map or preview, a hidden payload). What a photo is kept for is
  its pixels.
- The EXIF orientation is kept, and only it: a new EXIF segment whose one IFD holds one
  entry, Orientation (none at all for orientation 1). Turning the pixels upright would
  mean decoding and re-encoding them; instead everything that shows the stored photo
  honours the tag: browsers do on ``<img>`` and when the file is opened on its own (CSS
  ``image-orientation: from-image`` is their default), as do the image viewers that open
  the subject-access export's copy of the file; ``make_copies`` turns the screen copy and
  thumbnail upright (they carry no EXIF), and the width and height recorded are the
  upright ones. The PDFs embed no photo.
- An sRGB ICC profile is dropped (untagged pixels are shown as sRGB anyway); a JPEG with
  any other profile takes the re-encode path below, which converts it to sRGB. The
  Adobe APP14 segment is dropped too: the new JFIF header tells decoders the three
  components are YCbCr, so a JPEG whose components are RGB (Adobe transform 0, or "RGB"
  component ids without a JFIF header) is re-encoded rather than kept with a header that
  would misdescribe it.
- The re-encode path (``stored_as`` is ``REENCODED``, ``why_reencoded`` says why for a
  JPEG) makes a fresh JPEG from pixels, upright, with an empty ``info``: no EXIF, comment,
  XMP or ICC profile, and a photo with an ICC profile (iPhone HEICs are Display P3) is
  first converted to sRGB. It is taken for PNG, WebP and HEIC, and for the JPEGs the
  lossless path does not keep: CMYK or YCCK (four components), RGB components, 12-bit
  samples, lossless, hierarchical or arithmetic-coded frames, a non-sRGB or unreadable
  ICC profile, and any departure from the JPEG syntax the rebuilding would have to guess
  about (bytes between segments, a scan that runs to the end of the file, unknown
  markers). A truncated file ends up here and is refused by its decode.
- A kept JPEG is checked as thoroughly as a re-encoded one: the rebuilt bytes (what is
  stored, not the upload) are decoded once, all of their compressed data, at 1/8 scale
  (a reduced-scale decode still reads every coefficient), so a truncated or corrupt file
  is refused. With the copies (``copies=True``), their decode is that check.
- Transparency (PNG, WebP) is flattened onto white: clinical photos have none, and one
  format for every stored file keeps serving and comparison simple.
- Animated WebP/PNG and multi-image HEIC or MPO files: the first (primary) image is kept.
- All eight EXIF orientations are honoured, the mirrored ones (2, 4, 5, 7) included, by
  the photo (its tag, or its re-encoded pixels), the screen copy and the thumbnail alike.
  A HEIC file's rotation and mirror are applied by libheif while decoding (pillow-heif
  then reports orientation 1), so they are never applied twice.
- The pixel cap (``SMP_PHOTO_MAX_PIXELS``, 50 MP) is checked from the header before any
  pixel is decoded, and Pillow's DecompressionBombWarning is turned into a refusal.
- ``sha256`` is the hash of the uploaded bytes, so the same file uploaded twice is
  recognised whatever is stored.
- ``make_copies`` decodes the stored JPEG at reduced scale (draft: 1/2…1/8), in its
  stored orientation, and turns the copies upright at their own size. bench/photos.py
  measures both paths.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import logging
import re
import struct
import warnings
import zlib
from dataclasses import dataclass
from typing import IO

import pillow_heif
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from PIL import Image, ImageCms, ImageFile, ImageOps

# Register before the allow-list is used: without it "HEIF" is not a format Pillow knows
# and every phone photo in HEIC would be refused.
pillow_heif.register_heif_opener()

logger = logging.getLogger(__name__)

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
ALLOWED_DESCRIPTION = "a JPEG, PNG, WebP or HEIC photo"
# The `accept` attribute of the upload field: a hint for the browser's file picker only.
ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif,.jpg,.jpeg,.png,.webp,.heic,.heif"

THUMBNAIL_BOX = (320, 320)
SCREEN_BOX = (1600, 1600)
QUALITY = {"image": 92, "screen": 85, "thumbnail": 80}

_ORIENTATION_TAG = 0x0112
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 36867
_DATETIME = 306
# What turns the stored pixels upright, for each EXIF orientation (the same table as
# ImageOps.exif_transpose). Orientation 2 maps to FLIP_LEFT_RIGHT, whose value is 0: look
# it up with `is not None`, never by truthiness.
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# What a corrupt or truncated file makes the decoders raise.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, RuntimeError, struct.error, zlib.error, IndexError)
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class PhotoRejected(ValidationError):
    """An upload that is not a photo the clinic can store; the message says why."""


# How the stored photo was made (ProcessedPhoto.stored_as).
LOSSLESS = "lossless"  # a JPEG's own compressed data, kept byte for byte in a rebuilt file
REENCODED = "re-encoded"  # decoded, turned upright, converted to sRGB and encoded afresh


@dataclass(frozen=True)
class ProcessedPhoto:
    image: bytes
    screen: bytes
    thumbnail: bytes
    width: int  # upright, as the photo is shown
    height: int
    sha256: str
    source_format: str
    taken_on: datetime.date | None  # the camera's date (EXIF), when there is one
    stored_as: str = REENCODED  # LOSSLESS or REENCODED
    why_reencoded: str = ""  # for a JPEG that was re-encoded: what ruled the lossless path out


def max_bytes() -> int:
    return settings.SMP_PHOTO_MAX_BYTES


def max_pixels() -> int:
    return settings.SMP_PHOTO_MAX_PIXELS


def _short(name: str) -> str:
    name = name or "The file"
    return name if len(name) <= 60 else f"{name[:40]}…{name[-15:]}"


def _read(upload: IO[bytes] | bytes, name: str, limit: int, *, what: str = "photo", refused=None) -> bytes:
    """The upload's bytes, refusing anything over the limit before reading it all (with
    `refused`, PhotoRejected unless given, naming `what` the file was meant to be)."""
    refused = refused or PhotoRejected
    if isinstance(upload, bytes):
        data = upload
    else:
        size = getattr(upload, "size", None)
        if size is not None and size > limit:
            raise refused(
                f"“{name}” is {filesizeformat(size)}; a {what} can be at most {filesizeformat(limit)}.",
                code="too_large",
            )
        if hasattr(upload, "seek"):
            upload.seek(0)
        data = upload.read(limit + 1)
    if len(data) > limit:
        raise refused(f"“{name}” is over {filesizeformat(limit)}, the most a {what} can be.", code="too_large")
    if not data:
        raise refused(f"“{name}” is empty.", code="empty")
    return data


def _looks_like_markup(data: bytes) -> bool:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<")


def _open(data: bytes, name: str, formats: tuple[str, ...] = ALLOWED_FORMATS) -> Image.Image:
    """Open the header with only the allowed decoders; refuse bombs before decoding."""
    try:
        image = Image.open(io.BytesIO(data), formats=list(formats))
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(name, None) from exc
    except Image.UnidentifiedImageError as exc:
        if _looks_like_markup(data):
            raise PhotoRejected(
                f"“{name}” is a text document (SVG, HTML or XML), not a photo. Upload {ALLOWED_DESCRIPTION}.",
                code="markup",
            ) from exc
        raise PhotoRejected(
            f"“{name}” is not {ALLOWED_DESCRIPTION}: its content is something else, whatever its name says.",
            code="not_an_image",
        ) from exc
    except _DECODE_ERRORS as exc:
        raise _damaged(name) from exc
    width, height = image.size
    if width <= 0 or height <= 0:
        raise _damaged(name)
    if width * height > max_pixels():
        raise _too_many_pixels(name, image.size)
    return image


def _too_many_pixels(name: str, size: tuple[int, int] | None) -> PhotoRejected:
    limit = f"{max_pixels() / 1_000_000:g} megapixels"
    if size:
        megapixels = size[0] * size[1] / 1_000_000
        detail = f"is {size[0]} × {size[1]} pixels ({megapixels:.0f} megapixels)"
    else:
        detail = "has far too many pixels"
    return PhotoRejected(
        f"“{name}” {detail}; the limit is {limit}. Export it at a smaller size.", code="too_many_pixels"
    )


def _damaged(name: str) -> PhotoRejected:
    return PhotoRejected(
        f"“{name}” is damaged or incomplete (its image data could not be read to the end). "
        "Upload the original file again.",
        code="damaged",
    )


def _camera_date(exif: Image.Exif) -> datetime.date | None:
    try:
        raw = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    except (*_DECODE_ERRORS, KeyError, TypeError):
        return None  # unreadable EXIF: no camera date, the photo itself is still fine
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", "ignore")
    if not isinstance(raw, str):
        return None
    try:
        return datetime.datetime.strptime(raw.strip("\x00 ")[:10], "%Y:%m:%d").date()
    except ValueError:
        return None


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """RGB or L pixels in sRGB, transparency flattened onto white, no metadata at all."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    if icc and image.mode in ("RGB", "CMYK"):
        try:
            image = ImageCms.profileToProfile(image, ImageCms.ImageCmsProfile(io.BytesIO(icc)), _SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            logger.info("Ignoring an unreadable ICC profile")
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.info = {}
    return image


def _encode(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    # No exif=, icc_profile=, comment= or xmp=, and image.info emptied (Pillow writes a
    # comment it finds there, and a copy made from a stored photo would carry its EXIF
    # orientation): nothing but pixels.
    image.info = {}
    image.save(buffer, format="JPEG", quality=quality, optimize=False)
    return buffer.getvalue()


def _decode(data: bytes, name: str, fmt: str, box: tuple[int, int] | None, orientation: int, icc) -> Image.Image:
    """Decode (at reduced scale when `box` is given) and turn upright, in sRGB."""
    image = _open(data, name, (fmt,))
    try:
        if box is not None:
            # Before the transpose, so that the scale applies to the stored orientation.
            draft_to_fit(image, box)
            image.thumbnail(box)
        image.load()  # a no-op after thumbnail() shrank it; decodes one that already fitted
    except _DECODE_ERRORS as exc:
        raise _damaged(name) from exc
    method = _TRANSPOSE.get(orientation)
    if method is not None:
        image = image.transpose(method)
    return _to_srgb(image, icc)


def draft_to_fit(image: Image.Image, box: tuple[int, int], mode: str | None = None) -> None:
    """Have a JPEG decode at 1/2, 1/4 or 1/8 scale (the smallest still at least the size
    that fits `box`) instead of at full size; it is resized from there. draft() needs the
    fitted size, not the square box: both sides must reach what is asked, so asking for
    1600 × 1600 leaves a 4000 × 3000 photo (2000 × 1500 at half scale) at full scale.
    Other formats ignore it."""
    image.draft(mode, _fitted(image.size, box))


def _fitted(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """`size` scaled down (never up) to fit `box`, keeping its aspect ratio."""
    ratio = min(1, box[0] / size[0], box[1] / size[1])
    return max(1, round(size[0] * ratio)), max(1, round(size[1] * ratio))


def _shrunk(image: Image.Image, box: tuple[int, int]) -> Image.Image:
    """A resized copy that fits `box` (the same image if it already fits)."""
    size = _fitted(image.size, box)
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)


def _encode_copies(screen: Image.Image) -> tuple[bytes, bytes]:
    """The screen copy and the thumbnail made from it, as JPEG bytes."""
    return _encode(screen, QUALITY["screen"]), _encode(_shrunk(screen, THUMBNAIL_BOX), QUALITY["thumbnail"])


# ---------------------------------------------------------------------------
# The lossless path: a JPEG's compressed data kept, its metadata segments rebuilt.
# ---------------------------------------------------------------------------

_SOI, _EOI, _SOS = b"\xff\xd8", b"\xff\xd9", 0xDA
# Huffman-coded 8-bit JPEG: baseline, extended sequential, progressive. The others
# (lossless, hierarchical, arithmetic-coded) are rare and less widely decoded: re-encoded.
_SOF_KEPT = {0xC0, 0xC1, 0xC2}
_SOF_OTHER = {0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_TABLES = {0xC4: "DHT", 0xDB: "DQT", 0xDD: "DRI"}  # the other segments that are kept
# The end of a scan's entropy-coded data: the first 0xFF that is not byte stuffing (FF 00),
# a restart marker (FF D0…D7, part of the data) or a fill byte before the next marker.
_END_OF_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
# A fresh JFIF header, version 1.01, no density unit (aspect ratio 1:1), no thumbnail. It
# also tells decoders that three components are YCbCr (the only ones kept).
_JFIF = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
_RGB_COMPONENT_IDS = b"RGB"


class _NotLossless(Exception):
    """Why a JPEG upload is re-encoded instead (the message is logged and recorded)."""


def _orientation_app1(orientation: int) -> bytes:
    """An EXIF segment holding the Orientation tag and nothing else: a big-endian TIFF
    header, IFD0 with one SHORT entry, no next IFD."""
    tiff = b"MM\x00\x2a" + struct.pack(">IH", 8, 1)
    tiff += struct.pack(">HHIHH", _ORIENTATION_TAG, 3, 1, orientation, 0) + struct.pack(">I", 0)
    body = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def _is_srgb(icc: bytes) -> bool:
    """An RGB profile whose description names sRGB ("sRGB IEC61966-2.1", "sRGB built-in"…):
    dropping it changes nothing, since untagged pixels are shown as sRGB."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = ImageCms.getProfileDescription(profile)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return False
    return profile.profile.xcolor_space == "RGB " and description.strip().lower().startswith("srgb")


def _kept_segments(data: bytes) -> list[memoryview]:
    """The segments of a JPEG that a decoder needs, in their order, each scan's entropy-coded
    data with its SOS: DQT, DHT, DRI, SOF0/1/2, SOS. APP0…APP15 and COM are dropped, and
    everything after the first EOI. Raises _NotLossless for anything else: an unsupported
    frame type, 12-bit samples, four components (CMYK, YCCK), RGB rather than YCbCr, or a
    file that does not follow the JPEG syntax (truncated, bytes between segments…)."""
    view, size = memoryview(data), len(data)
    if not data.startswith(_SOI):
        raise _NotLossless("no start-of-image marker")
    kept: list[memoryview] = []
    frame: bytes | None = None
    scans = 0
    jfif = False
    adobe_transform: int | None = None
    position = 2
    while True:
        if position >= size or data[position] != 0xFF:
            raise _NotLossless(f"no marker where one was expected (byte {position})")
        while position < size and data[position] == 0xFF:  # fill bytes before a marker
            position += 1
        if position >= size:
            raise _NotLossless("the file ends inside a marker")
        marker = data[position]
        position += 1
        if marker == 0xD9:  # EOI: anything after it (an appended file, a payload) is dropped
            break
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # TEM, RSTn outside a scan, a second SOI
            raise _NotLossless(f"marker 0x{marker:02X} out of place")
        if position + 2 > size:
            raise _NotLossless("the file ends inside a segment")
        (length,) = struct.unpack_from(">H", data, position)
        end = position + length
        if length < 2 or end > size:
            raise _NotLossless(f"segment 0x{marker:02X} runs past the end of the file")
        body = data[position + 2 : end]
        segment = view[position - 2 : end]  # from the marker on, without fill bytes
        if marker == _SOS:
            if frame is None:
                raise _NotLossless("a scan before the frame header")
            found = _END_OF_SCAN.search(data, end)
            if found is None:
                raise _NotLossless("the scan data runs to the end of the file (no end-of-image)")
            kept.append(view[position - 2 : found.start()])
            scans += 1
            position = found.start()
            continue
        if marker in _SOF_KEPT:
            if frame is not None:
                raise _NotLossless("two frame headers")
            frame = body
        elif marker in _SOF_OTHER or marker == 0xCC:  # 0xCC: arithmetic-coding conditioning
            raise _NotLossless(f"frame type 0x{marker:02X} (lossless, hierarchical or arithmetic-coded)")
        elif marker in _TABLES:
            pass
        elif marker == 0xE0 and body.startswith(b"JFIF\x00"):
            jfif = True
            segment = None
        elif marker == 0xEE and body.startswith(b"Adobe") and len(body) >= 12:
            adobe_transform = body[11]
            segment = None
        elif 0xE0 <= marker <= 0xEF or marker == 0xFE:  # APPn (EXIF, XMP, ICC, MPF…), COM
            segment = None
        else:
            raise _NotLossless(f"marker 0x{marker:02X}")
        if segment is not None:
            kept.append(segment)
        position = end
    if frame is None or not scans:
        raise _NotLossless("no frame header or no scan")
    if len(frame) < 6 or frame[0] != 8:
        raise _NotLossless("not 8 bits per sample")
    components = frame[5]
    if components not in (1, 3) or len(frame) != 6 + 3 * components:
        raise _NotLossless(f"{components} colour components (CMYK or YCCK)" if components == 4 else "colour components")
    if components == 3:
        # What the components mean is said by the segments dropped here; the new JFIF
        # header says YCbCr, so only a file decoders already read as YCbCr is kept.
        ids = bytes(frame[6 + 3 * n] for n in range(3))
        if adobe_transform not in (None, 1) or (not jfif and adobe_transform is None and ids == _RGB_COMPONENT_IDS):
            raise _NotLossless("RGB components rather than YCbCr")
    return kept


def _lossless_jpeg(data: bytes, orientation: int, icc: bytes | None) -> bytes:
    """The uploaded JPEG rebuilt from the segments kept: SOI, a fresh JFIF header, an EXIF
    segment with only the orientation (when it is not 1), the tables, frame and scans with
    their entropy-coded data byte for byte, EOI. Raises _NotLossless when the file must be
    re-encoded instead."""
    if icc and not _is_srgb(icc):
        raise _NotLossless("an ICC profile other than sRGB")
    kept = _kept_segments(data)
    head = [_SOI, _JFIF]
    if _TRANSPOSE.get(orientation) is not None:
        head.append(_orientation_app1(orientation))
    return b"".join([*head, *kept, _EOI])


def _verify_whole(jpeg: bytes, name: str) -> None:
    """Decode all of a JPEG's compressed data, at 1/8 scale (a draft decode still reads
    every coefficient): a truncated or corrupt file raises PhotoRejected."""
    image = _open(jpeg, name, ("JPEG",))
    try:
        image.draft(None, (1, 1))
        image.load()
    except _DECODE_ERRORS as exc:
        raise _damaged(name) from exc
    finally:
        image.close()


def _stored_orientation(image: Image.Image) -> int:
    """The EXIF orientation of a stored photo: 1 for one stored re-encoded (upright, no
    EXIF), the camera's for one stored by the lossless path."""
    try:
        orientation = image.getexif().get(_ORIENTATION_TAG, 1)
    except _DECODE_ERRORS:
        return 1
    return orientation if _TRANSPOSE.get(orientation) is not None else 1


def pixel_count(upload: IO[bytes], *, name: str = "") -> int:
    """Width × height from the file's header, without decoding it (0 when it cannot be
    read: `process_photo` then says why). The upload is left at its start."""
    data = _read(upload, _short(name), max_bytes())
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            header = _open(data, _short(name))
            width, height = header.size
            header.close()
    except (ValidationError, *_DECODE_ERRORS):
        return 0
    return width * height


def make_copies(image_jpeg: bytes, *, draft: bool = True) -> tuple[bytes, bytes]:
    """The screen copy and thumbnail of a stored (already cleaned) photo, upright; made by
    a background task so a batch of large photos does not hold the upload request.

    A photo stored by the lossless path keeps the camera's pixels and says in its EXIF
    orientation how to show them: the copies are made in the stored orientation (decoded
    at reduced scale) and turned upright at their own size. Photos stored re-encoded are
    upright already (no EXIF). `draft=False` decodes at full size (for tests).
    """
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    with Image.open(io.BytesIO(image_jpeg), formats=["JPEG"]) as stored:  # what process_photo stored
        orientation = _stored_orientation(stored)
        # The box in the stored orientation: a quarter turn swaps its sides.
        box = SCREEN_BOX[::-1] if orientation in (5, 6, 7, 8) else SCREEN_BOX
        if draft:
            draft_to_fit(stored, box, "RGB")
        screen = _shrunk(stored.convert("RGB"), box)
    method = _TRANSPOSE.get(orientation)
    if method is not None:
        screen = screen.transpose(method)
    return _encode_copies(screen)


def process_photo(
    upload: IO[bytes] | bytes, *, name: str = "", draft: bool = True, copies: bool = True, lossless: bool = True
) -> ProcessedPhoto:
    """Check an uploaded file is a photo and return its cleaned JPEGs; raise PhotoRejected.

    `name` is the uploaded file name, used in messages only. `draft=False` makes a JPEG's
    screen copy and thumbnail from the full-size decode instead of a reduced-scale one;
    it exists so that tests can compare the two. `copies=False` leaves the screen
    copy and thumbnail empty (`make_copies` makes them later, in a task). `lossless=False`
    re-encodes a JPEG that the lossless path would keep: for bench/photos.py and tests.
    """
    name = _short(name)
    data = _read(upload, name, max_bytes())
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            header = _open(data, name)
        except Image.DecompressionBombWarning as exc:
            raise _too_many_pixels(name, None) from exc
        # A multi-picture JPEG (MPO: a phone's depth map or preview appended after the
        # photo) opens as "MPO", a format that cannot be asked for by name: its first
        # image is an ordinary JPEG, and only that is kept.
        fmt = "JPEG" if header.format == "MPO" else header.format
        try:
            exif = header.getexif()
        except _DECODE_ERRORS:
            exif = Image.Exif()
        orientation = exif.get(_ORIENTATION_TAG, 1)
        if not isinstance(orientation, int):  # a malformed tag: shown as stored
            orientation = 1
        taken_on = _camera_date(exif)
        icc = header.info.get("icc_profile")
        header_size = header.size
        header.close()

        # Pillow refuses truncated data unless ImageFile.LOAD_TRUNCATED_IMAGES is set: a
        # cut-off upload must be refused, not padded grey. The flag is process-wide and a
        # library may turn it on when imported (WeasyPrint does: cases/pdf.py), so the
        # pipeline does not trust it and turns it off itself.
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        why_reencoded = "" if lossless or fmt != "JPEG" else "lossless=False"
        if fmt == "JPEG" and lossless:
            try:
                stored = _lossless_jpeg(data, orientation, icc)
            except _NotLossless as exc:
                why_reencoded = str(exc)
                logger.info("Re-encoding a JPEG upload: %s", why_reencoded)
            else:
                return _stored_lossless(
                    data, stored, name, header_size, orientation, taken_on, copies=copies, draft=draft
                )
        if not copies:
            full = _decode(data, name, fmt, None, orientation, icc)
            screen_jpeg = thumbnail_jpeg = b""
        elif draft and fmt == "JPEG":
            # Screen copy first, from a reduced-scale decode: it reads the whole file (so
            # a damaged one is refused before the expensive part) and is what the
            # thumbnail is made from. Encoded at once, so only the bytes stay in memory
            # while the full-size image is decoded.
            screen = _decode(data, name, fmt, SCREEN_BOX, orientation, icc)
            screen_jpeg, thumbnail_jpeg = _encode_copies(screen)
            del screen
            full = _decode(data, name, fmt, None, orientation, icc)
        else:
            full = _decode(data, name, fmt, None, orientation, icc)
            screen_jpeg, thumbnail_jpeg = _encode_copies(_shrunk(full, SCREEN_BOX))
        width, height = full.size
        image_jpeg = _encode(full, QUALITY["image"])
        del full

    return ProcessedPhoto(
        image=image_jpeg,
        screen=screen_jpeg,
        thumbnail=thumbnail_jpeg,
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
        source_format=fmt,
        taken_on=taken_on,
        stored_as=REENCODED,
        why_reencoded=why_reencoded,
    )


def _stored_lossless(
    data: bytes,
    stored: bytes,
    name: str,
    size: tuple[int, int],
    orientation: int,
    taken_on: datetime.date | None,
    *,
    copies: bool,
    draft: bool,
) -> ProcessedPhoto:
    """The ProcessedPhoto of a JPEG rebuilt by `_lossless_jpeg`, once all of the stored
    file's compressed data has been decoded (what is stored is what was verified)."""
    try:
        if copies:
            # The copies' decode reads all the data: it is the verification.
            screen_jpeg, thumbnail_jpeg = make_copies(stored, draft=draft)
        else:
            _verify_whole(stored, name)
            screen_jpeg = thumbnail_jpeg = b""
    except _DECODE_ERRORS as exc:
        raise _damaged(name) from exc
    width, height = size[::-1] if orientation in (5, 6, 7, 8) else size
    return ProcessedPhoto(
        image=stored,
        screen=screen_jpeg,
        thumbnail=thumbnail_jpeg,
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
        source_format="JPEG",
        taken_on=taken_on,
        stored_as=LOSSLESS,
    )


# ---------------------------------------------------------------------------
# The clinic's logo (Clinic settings → Logo): shown in the header, the plan PDF.
# ---------------------------------------------------------------------------

LOGO_MAX_BYTES = 2 * 1024 * 1024  # the upload
LOGO_MAX_PIXELS = 16_000_000  # the upload's header, checked before decoding
LOGO_BOX = (600, 200)  # the stored PNG fits in it
LOGO_STORED_MAX_BYTES = 512 * 1024  # the stored PNG
LOGO_FORMATS = ("PNG", "JPEG", "WEBP")
LOGO_ACCEPT = "image/png,image/jpeg,image/webp,.png,.jpg,.jpeg,.webp"


class LogoRejected(ValidationError):
    """An upload that cannot be the clinic's logo; the message says why."""


def process_logo(upload: IO[bytes] | bytes, *, name: str = "") -> bytes:
    """Check an uploaded logo and return it as a fresh PNG of at most LOGO_BOX pixels.

    Like a photo: the content decides (PNG, JPEG or WebP; SVG and other text refused),
    the pixel count is checked from the header and a decompression bomb is refused before
    anything is decoded, and the stored file is re-encoded from pixels with no metadata.
    Transparency is kept (a logo may have a transparent background).
    """
    name = _short(name or "The logo")
    data = _read(upload, name, LOGO_MAX_BYTES, what="logo", refused=LogoRejected)
    if _looks_like_markup(data):
        raise LogoRejected(
            f"“{name}” is a text document (SVG, HTML or XML). Upload the logo as a PNG, JPEG or WebP image.",
            code="markup",
        )
    too_many = LogoRejected(
        f"“{name}” has too many pixels for a logo (at most {LOGO_MAX_PIXELS / 1_000_000:g} megapixels). "
        "Export it at a smaller size.",
        code="too_many_pixels",
    )
    ImageFile.LOAD_TRUNCATED_IMAGES = False  # see process_photo
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=list(LOGO_FORMATS))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise too_many from exc
        except Image.UnidentifiedImageError as exc:
            raise LogoRejected(
                f"“{name}” is not an image: upload the logo as a PNG, JPEG or WebP file.", code="not_an_image"
            ) from exc
        except _DECODE_ERRORS as exc:
            raise LogoRejected(
                f"“{name}” is damaged or incomplete. Upload the original file again.", code="damaged"
            ) from exc
        with image:
            width, height = image.size
            if width <= 0 or height <= 0 or width * height > LOGO_MAX_PIXELS:
                raise too_many
            try:
                image.draft("RGB", LOGO_BOX)  # a large JPEG decodes at reduced scale
                image = ImageOps.exif_transpose(image)
                pixels = image.convert("RGBA" if _has_alpha(image) else "RGB")
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                raise too_many from exc
            except _DECODE_ERRORS as exc:
                raise LogoRejected(
                    f"“{name}” is damaged or incomplete. Upload the original file again.", code="damaged"
                ) from exc
    pixels.thumbnail(LOGO_BOX, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    pixels.save(out, format="PNG", optimize=True)
    png = out.getvalue()
    if len(png) > LOGO_STORED_MAX_BYTES:
        raise LogoRejected(
            f"“{name}” makes a logo of {filesizeformat(len(png))} even at {LOGO_BOX[0]} × {LOGO_BOX[1]} pixels; "
            f"the most is {filesizeformat(LOGO_STORED_MAX_BYTES)}. Use a simpler image (a logo on a plain background).",
            code="too_large",
        )
    return png


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
