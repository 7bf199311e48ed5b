"""The image painter: the demo's photos, drawn with Pillow.

`scalp_jpeg` draws a head in the client's skin tone seen from the photo's angle, with
SMP dots that show the photo's kind (before, progress, after), different for every
photo, and returns the JPEG and its thumbnail.
"""

from __future__ import annotations

import io
import math
import random

from PIL import Image, ImageDraw, ImageFont

from cases.choices import PhotoAngle, PhotoKind, Zone

SKIN_TONES = ((244, 214, 190), (232, 190, 160), (210, 165, 130), (176, 128, 92), (130, 90, 60), (92, 62, 44))
ANGLE_ZONE = {
    PhotoAngle.HAIRLINE: Zone.FRONTAL_HAIRLINE,
    PhotoAngle.CROWN: Zone.CROWN,
    PhotoAngle.BACK: Zone.NAPE,
    PhotoAngle.LEFT: Zone.LEFT_TEMPLE,
    PhotoAngle.RIGHT: Zone.RIGHT_TEMPLE,
}
IMAGE_SIZE = (480, 360)


def scalp_jpeg(
    rng: random.Random, kind: str, angle: str, tone: tuple[int, int, int], label: str
) -> tuple[bytes, bytes]:
    """A 480×360 JPEG and its 240×180 thumbnail: a head in the client's skin tone seen
    from `angle`, with SMP dots.

    Before: dark, large, merging dots below a hard line; progress: fewer, faded dots;
    after: fine dots with a soft, irregular hairline.
    """
    width, height = IMAGE_SIZE
    image = Image.new("RGB", IMAGE_SIZE, (206, 212, 218))
    draw = ImageDraw.Draw(image)
    cx, cy = width // 2, height // 2 + 20
    shade = tuple(max(0, c - 30) for c in tone)
    close_up = angle in (PhotoAngle.CROWN, PhotoAngle.HAIRLINE)

    if angle in (PhotoAngle.TOP, PhotoAngle.CROWN):
        radius = 200 if close_up else 140
        draw.ellipse((cx - radius, cy - 20 - radius, cx + radius, cy - 20 + radius), fill=tone, outline=shade, width=3)

        def on_scalp(x: int, y: int) -> bool:
            return (x - cx) ** 2 + (y - cy + 20) ** 2 < (radius - 8) ** 2

        bbox = (cx - radius, cy - 20 - radius, cx + radius, cy - 20 + radius)

    elif angle == PhotoAngle.HAIRLINE:
        draw.rectangle((0, 0, width, height), fill=tone)
        phase = rng.random() * 6
        edge = [height // 2 + int(25 * math.sin(x / 60 + phase)) for x in range(width)]
        draw.line([(x, edge[x] + 6) for x in range(0, width, 4)], fill=shade, width=2)

        def on_scalp(x: int, y: int) -> bool:
            return y < edge[x] - (rng.random() * 20 if kind == PhotoKind.AFTER else 0)

        bbox = (0, 0, width - 1, height // 2 + 25)  # x stays inside `edge`

    else:
        ox = {PhotoAngle.LEFT: -30, PhotoAngle.RIGHT: 30}.get(angle, 0)
        if angle == PhotoAngle.BACK:
            draw.rectangle((cx - 60, cy + 60, cx + 60, height), fill=shade)
        draw.ellipse((cx - 120 + ox, cy - 150, cx + 120 + ox, cy + 130), fill=tone, outline=shade, width=3)
        if angle in (PhotoAngle.LEFT, PhotoAngle.RIGHT):
            ear = cx - ox * 2
            draw.ellipse((ear - 14, cy - 10, ear + 14, cy + 40), fill=shade)
        if angle == PhotoAngle.FRONT:
            draw.line((cx - 50, cy + 20, cx - 20, cy + 20), fill=shade, width=4)
            draw.line((cx + 20, cy + 20, cx + 50, cy + 20), fill=shade, width=4)
        # Seen from the back the scalp goes down to the nape; otherwise to the hairline.
        hairline = (cy + 50 if angle == PhotoAngle.BACK else cy - 60) + rng.randint(-10, 10)

        def on_scalp(x: int, y: int) -> bool:
            inside = ((x - cx - ox) / 116) ** 2 + ((y - cy + 10) / 136) ** 2 < 1
            return inside and y < hairline + 12 * math.sin((x - cx) / 40)

        bbox = (cx - 120 + ox, cy - 150, cx + 120 + ox, hairline + 12)

    count, sizes, colour, blobs = {
        PhotoKind.BEFORE: (500, (2, 5), (40, 46, 62), 16),
        PhotoKind.PROGRESS: (320, (2, 4), (95, 98, 108), 6),
        PhotoKind.AFTER: (650, (1, 2), (58, 52, 50), 0),
    }[kind]
    if close_up:
        sizes = (sizes[0] + 1, sizes[1] + 2)
    left, top, right, bottom = bbox
    span_x, span_y, span_d = right - left, bottom - top, sizes[1] - sizes[0] + 1
    random_ = rng.random
    for n in range(count + blobs):
        x, y = int(left + random_() * span_x), int(top + random_() * span_y)
        if on_scalp(x, y):
            d = sizes[0] + int(random_() * span_d) if n < count else 8 + int(random_() * 10)
            draw.ellipse((x, y, x + d, y + d), fill=colour)
    draw.text((10, height - 22), f"{label} / {kind} / {angle}", fill=(40, 40, 40), font=ImageFont.load_default())
    return _jpeg(image, 82), _jpeg(image.reduce(2), 80)


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
