"""Documents as PDF, rendered on the server with WeasyPrint; nothing is fetched.

WeasyPrint switches Pillow's ``ImageFile.LOAD_TRUNCATED_IMAGES`` on for the whole
process when it is imported. The photo pipeline relies on Pillow refusing cut-off
files (cases/imaging.py), and our PDFs hold no images, so the flag is put back at once.
"""

from __future__ import annotations

from PIL import ImageFile

_pillow_strict = ImageFile.LOAD_TRUNCATED_IMAGES
from weasyprint import HTML  # noqa: E402
from weasyprint.urls import URLFetcher  # noqa: E402

ImageFile.LOAD_TRUNCATED_IMAGES = _pillow_strict


class NoFetching(URLFetcher):
    """The PDF needs nothing from outside: system fonts, styles inside the HTML.

    Refusing every URL means a value in a record (or a mistake in a template) can never
    make the server fetch a network or file resource while rendering."""

    def fetch(self, url, headers=None):
        raise ValueError(f"The PDF fetches no resources ({url[:40]}).")


def render(html: str) -> bytes:
    """The PDF of a self-contained HTML document."""
    return HTML(string=html, base_url=None, url_fetcher=NoFetching()).write_pdf()
