"""Documents as PDF, rendered on the server with WeasyPrint; nothing is fetched.

WeasyPrint switches Pillow's ``ImageFile.LOAD_TRUNCATED_IMAGES`` on for the whole
process when it is imported. The photo pipeline relies on Pillow refusing cut-off
files (cases/imaging.py), and the only image a PDF holds is the clinic's logo, a PNG this
app encoded itself, so the flag is put back at once.
"""

from __future__ import annotations

import base64

from PIL import ImageFile

_pillow_strict = ImageFile.LOAD_TRUNCATED_IMAGES
from weasyprint import HTML  # noqa: E402
from weasyprint.urls import URLFetcher  # noqa: E402

ImageFile.LOAD_TRUNCATED_IMAGES = _pillow_strict


LOGO_DATA_PREFIX = "data:image/png;base64,"


class NoFetching(URLFetcher):
    """The PDF needs nothing from outside: system fonts, styles inside the HTML, the logo
    inside the HTML as a data: URL.

    Refusing every other URL means a value in a record (or a mistake in a template) can
    never make the server fetch a network or file resource while rendering."""

    def __init__(self):
        super().__init__(allowed_protocols=("data",))

    def fetch(self, url, headers=None):
        if url.startswith(LOGO_DATA_PREFIX):
            return super().fetch(url, headers)
        raise ValueError(f"The PDF fetches no resources ({url[:40]}).")


def logo_data_url(clinic) -> str:
    """The clinic's logo (a PNG, cases.imaging.process_logo) as a data: URL, "" without one."""
    logo = clinic.logo_png()
    return LOGO_DATA_PREFIX + base64.b64encode(logo).decode("ascii") if logo else ""


def render(html: str) -> bytes:
    """The PDF of a self-contained HTML document."""
    return HTML(string=html, base_url=None, url_fetcher=NoFetching()).write_pdf()
