"""Documents as PDF, rendered on the server with WeasyPrint; nothing is fetched.

WeasyPrint is imported at the first PDF, not with the URLs: loading it (Pango through
cffi, its CSS tables, fontTools) costs about half a second of CPU, which every process
that loads the URLs paid, the ones that never make a PDF too (each `manage.py` command,
each gunicorn worker as it starts or is replaced after `max_requests`, the test workers).

WeasyPrint switches Pillow's ``ImageFile.LOAD_TRUNCATED_IMAGES`` on for the whole
process when it is imported. The photo pipeline relies on Pillow refusing cut-off
files (cases/imaging.py, which also turns the flag off itself before each decode), and
the only image a PDF holds is the clinic's logo, a PNG this app encoded itself, so the
flag is put back at once.
"""

from __future__ import annotations

import base64
import functools

from PIL import ImageFile

LOGO_DATA_PREFIX = "data:image/png;base64,"


@functools.cache
def _weasyprint():
    """(HTML, NoFetching), WeasyPrint imported once, Pillow's flag as it was before."""
    pillow_strict = ImageFile.LOAD_TRUNCATED_IMAGES
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = pillow_strict

    class NoFetching(URLFetcher):
        """The PDF needs nothing from outside: system fonts, styles inside the HTML, the
        logo inside the HTML as a data: URL.

        Refusing every other URL means a value in a record (or a mistake in a template)
        can never make the server fetch a network or file resource while rendering."""

        __module__ = __name__

        def __init__(self):
            super().__init__(allowed_protocols=("data",))

        def fetch(self, url, headers=None):
            if url.startswith(LOGO_DATA_PREFIX):
                return super().fetch(url, headers)
            raise ValueError(f"The PDF fetches no resources ({url[:40]}).")

    return HTML, NoFetching


def __getattr__(name: str):
    """`cases.pdf.NoFetching`, made (with WeasyPrint's import) when first asked for."""
    if name == "NoFetching":
        return _weasyprint()[1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def logo_data_url(clinic) -> str:
    """The clinic's logo (a PNG, cases.imaging.process_logo) as a data: URL, "" without one."""
    logo = clinic.logo_png()
    return LOGO_DATA_PREFIX + base64.b64encode(logo).decode("ascii") if logo else ""


def render(html: str) -> bytes:
    """The PDF of a self-contained HTML document."""
    html_document, no_fetching = _weasyprint()
    return html_document(string=html, base_url=None, url_fetcher=no_fetching()).write_pdf()
