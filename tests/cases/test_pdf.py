"""WeasyPrint sets Pillow's LOAD_TRUNCATED_IMAGES when imported; the photo pipeline must
still refuse a cut-off upload in a process that renders PDFs (found by the full suite:
the truncated-JPEG tests failed after the PDF tests had run in the same worker)."""

from __future__ import annotations

import http.server
import io
import threading

import pytest
from PIL import Image, ImageFile

from cases import pdf
from cases.imaging import PhotoRejected, process_photo


def cut_off_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((400, 300), 80).convert("RGB").save(buffer, "JPEG", quality=95)
    return buffer.getvalue()[:6000]


def test_rendering_a_pdf_leaves_pillow_strict():
    assert pdf.render("<h1>Plan</h1>").startswith(b"%PDF")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_a_cut_off_photo_is_refused_after_a_pdf_was_made():
    pdf.render("<p>x</p>")
    with pytest.raises(PhotoRejected, match="damaged or incomplete"):
        process_photo(cut_off_jpeg(), name="cut.jpg")


def test_a_cut_off_photo_is_refused_even_if_something_set_the_flag(monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(PhotoRejected, match="damaged or incomplete"):
        process_photo(cut_off_jpeg(), name="cut.jpg")


def test_the_pdf_fetches_nothing():
    """An image, a style sheet and a font named in the HTML: the local server hears nothing."""
    asked = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        document = pdf.render(
            f'<link rel="stylesheet" href="{base}/a.css"><style>@font-face {{ font-family: x; '
            f'src: url({base}/f.woff) }}</style><img src="{base}/x.png"><img src="file:///etc/passwd"><p>ok</p>'
        )
    finally:
        server.shutdown()
    assert document.startswith(b"%PDF")
    assert asked == []
    with pytest.raises(ValueError, match="fetches no resources"):
        pdf.NoFetching().fetch("https://example.org/x.png")
