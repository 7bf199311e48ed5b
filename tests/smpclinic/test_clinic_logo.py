"""The clinic's logo: uploaded by managers (checked through Pillow, re-encoded as PNG, size
limited), served as image/png with safe headers, shown in the header, the plan PDF and
inside the e-mails."""

from __future__ import annotations

import base64
import datetime
import io
import re
import struct
import zlib

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from cases import imaging
from cases.pdf import NoFetching, render
from cases.portal.views import plan_pdf_html
from smpclinic import services
from smpclinic.models import ClinicSettings
from tests import factories
from tests.helpers import assert_queries_hold, messages_of

EDIT = reverse("cases:clinic_logo_edit")
LOGO = reverse("cases:clinic_logo")


def image_bytes(fmt: str = "PNG", size=(900, 300), mode: str = "RGBA", colour=(10, 79, 106, 255)) -> bytes:
    out = io.BytesIO()
    fill = {"RGBA": colour, "RGB": colour[:3], "L": colour[0]}[mode]
    Image.new(mode, size, fill).save(out, format=fmt)
    return out.getvalue()


def png_with_header_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width × height: a decompression bomb's first step."""
    data = bytearray(image_bytes(size=(8, 8), mode="L"))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    return bytes(data)


def upload(data: bytes, name: str = "logo.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def stored_logo() -> bytes:
    clinic = ClinicSettings.load()
    with clinic.logo.open("rb") as handle:
        return handle.read()


# ---------------------------------------------------------------- process_logo


def test_a_logo_is_re_encoded_as_a_png_inside_the_box_keeping_transparency():
    png = imaging.process_logo(image_bytes("PNG", (1800, 300), "RGBA", (200, 0, 0, 0)), name="wide.png")
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        assert image.size == (600, 100)  # fitted into LOGO_BOX, proportions kept
        assert image.mode == "RGBA" and image.getpixel((0, 0))[3] == 0
        assert not {key for key in image.info if key not in ("dpi",)}  # no text chunks, no EXIF


def test_a_jpeg_logo_becomes_a_png():
    png = imaging.process_logo(image_bytes("JPEG", (300, 100), "RGB"), name="logo.jpg")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (300, 100) and image.mode == "RGB"


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        (b"just some text, not an image", "not_an_image", "is not an image"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "markup", "SVG"),
        (png_with_header_size(20_000, 20_000), "too_many_pixels", "too many pixels"),
        (image_bytes()[:60], "damaged", "damaged or incomplete"),
        (b"", "empty", "is empty"),
    ],
)
def test_what_is_not_a_logo_is_refused_with_a_reason(data, code, words):
    with pytest.raises(imaging.LogoRejected) as refused:
        imaging.process_logo(data, name="upload.png")
    assert refused.value.code == code
    assert words in refused.value.messages[0]


def test_a_file_over_the_size_limit_is_refused_before_it_is_read():
    big = upload(b"\x89PNG" + b"0" * imaging.LOGO_MAX_BYTES, name="huge.png")
    with pytest.raises(imaging.LogoRejected) as refused:
        imaging.process_logo(big, name="huge.png")
    assert refused.value.code == "too_large"
    assert "a logo can be at most 2.0\xa0MB" in refused.value.messages[0]


def test_a_real_decompression_bomb_is_refused():
    # Past Pillow's own limit (MAX_IMAGE_PIXELS): refused at the header, nothing decoded.
    with pytest.raises(imaging.LogoRejected, match="too many pixels"):
        imaging.process_logo(png_with_header_size(Image.MAX_IMAGE_PIXELS // 1000, 2001), name="bomb.png")


# ---------------------------------------------------------------- the page


def test_a_manager_uploads_a_logo_and_the_header_shows_it(as_manager, as_staff):
    response = as_manager.post(EDIT, {"logo": upload(image_bytes())})
    assert response.status_code == 302
    assert messages_of(as_manager.get(EDIT)) == ["The new logo is saved."]
    clinic = ClinicSettings.load()
    assert re.fullmatch(r"clinic/logo-[0-9a-f]{12}\.png", clinic.logo.name)
    with Image.open(io.BytesIO(stored_logo())) as image:
        assert image.format == "PNG" and image.size == (600, 200)

    html = as_staff.get(reverse("cases:client_list")).content.decode()
    brand = re.search(r'<a class="navbar-brand"[^>]*>(.*?)</a>', html, re.S).group(1)
    assert f'<img class="smp-logo" src="{LOGO}?v={clinic.logo_version}" alt="">' in brand
    assert brand.endswith(clinic.name)  # the name stays, the logo is decoration beside it


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"%PDF-1.4 not an image", "brochure.png", "“brochure.png” is not an image"),
        (b"<svg/>", "logo.svg", "“logo.svg” is a text document (SVG, HTML or XML)"),
        (png_with_header_size(20_000, 20_000), "bomb.png", "“bomb.png” has too many pixels for a logo"),
    ],
)
def test_a_bad_upload_shows_why_on_the_field_and_changes_nothing(as_manager, data, name, message):
    services.clinic_logo_set(png=image_bytes(size=(60, 20)), by=factories.ManagerUserFactory())
    before = ClinicSettings.load().logo.name
    files_before = default_storage.listdir("clinic")[1]

    response = as_manager.post(EDIT, {"logo": upload(data, name=name)})

    assert response.status_code == 200
    assert message in response.context["form"].errors["logo"][0]
    assert message in response.content.decode().replace("&ldquo;", "“").replace("&rdquo;", "”")
    assert ClinicSettings.load().logo.name == before
    assert default_storage.listdir("clinic")[1] == files_before


def test_an_empty_post_asks_for_a_file(as_manager):
    response = as_manager.post(EDIT, {})
    assert response.status_code == 200
    assert response.context["form"].errors["logo"] == ["Choose an image file to upload."]
    assert not ClinicSettings.load().logo


def test_a_new_logo_replaces_the_old_file_and_removing_deletes_it(as_manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        as_manager.post(EDIT, {"logo": upload(image_bytes(colour=(0, 0, 0, 255)))})
    first = ClinicSettings.load().logo.name
    with django_capture_on_commit_callbacks(execute=True):
        as_manager.post(EDIT, {"logo": upload(image_bytes(colour=(255, 0, 0, 255)))})
    second = ClinicSettings.load().logo.name
    assert second != first
    assert not default_storage.exists(first) and default_storage.exists(second)

    with django_capture_on_commit_callbacks(execute=True):
        response = as_manager.post(EDIT, {"remove": "on"})
    assert response.status_code == 302
    assert not ClinicSettings.load().logo
    assert not default_storage.exists(second)
    assert as_manager.get(LOGO).status_code == 404
    assert 'class="smp-logo"' not in as_manager.get(reverse("cases:home")).content.decode()


def test_only_managers_change_the_logo(as_staff, as_client_a, staff_user):
    assert as_staff.post(EDIT, {"logo": upload(image_bytes())}).status_code == 403
    assert as_client_a.post(EDIT, {"logo": upload(image_bytes())}).status_code == 403
    assert not ClinicSettings.load().logo
    with pytest.raises(PermissionDenied):
        services.clinic_logo_set(png=image_bytes(), by=staff_user)


# ---------------------------------------------------------------- serving


def test_the_logo_is_served_as_png_with_safe_headers_whatever_was_uploaded(anonymous, as_manager):
    as_manager.post(EDIT, {"logo": upload(image_bytes("JPEG", (120, 40), "RGB"), "x.html", "text/html")})
    response = anonymous.get(LOGO)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'inline; filename="logo.png"'
    assert "sandbox" in response["Content-Security-Policy"]
    assert "max-age=86400" in response["Cache-Control"]
    assert response.content == stored_logo() and response.content.startswith(b"\x89PNG")
    # To someone signed in, like every answer: not kept by a shared cache.
    signed_in = as_manager.get(LOGO)
    assert "private" in signed_in["Cache-Control"] and "no-store" in signed_in["Cache-Control"]


def test_no_logo_answers_404(anonymous):
    assert anonymous.get(LOGO).status_code == 404


def test_the_logo_costs_no_query_once_the_settings_are_cached(anonymous, as_staff):
    services.clinic_logo_set(png=image_bytes(size=(60, 20)), by=factories.ManagerUserFactory())
    ClinicSettings.cached()
    with CaptureQueriesContext(connection) as captured:
        assert anonymous.get(LOGO).status_code == 200
    assert not [q["sql"] for q in captured if "clinicsettings" in q["sql"]]


def test_the_logo_page_reads_the_same_queries_with_a_logo_or_without(as_manager):
    ClinicSettings.load()  # the row exists, as in any clinic that has opened its settings
    with CaptureQueriesContext(connection) as without:
        assert as_manager.get(EDIT).status_code == 200
    services.clinic_logo_set(png=image_bytes(size=(60, 20)), by=factories.ManagerUserFactory())
    with CaptureQueriesContext(connection) as with_logo:
        assert as_manager.get(EDIT).status_code == 200
    assert_queries_hold([q["sql"] for q in without], [q["sql"] for q in with_logo], at_most=12)


# ---------------------------------------------------------------- the plan PDF


def test_the_plan_pdf_embeds_the_logo_as_a_data_url_and_fetches_nothing(client_a):
    plan = factories.ApprovedPlanFactory(case=factories.CaseFactory(client=client_a))
    factories.PlanStepFactory(plan=plan, order=1, target_date=datetime.date(2027, 3, 2))
    services.clinic_logo_set(png=image_bytes(size=(300, 100)), by=factories.ManagerUserFactory())

    html = plan_pdf_html(client_a.user)
    (src,) = re.findall(r'<img class="logo" src="([^"]+)"', html)
    assert src == "data:image/png;base64," + base64.b64encode(stored_logo()).decode()
    pdf = render(html)
    assert pdf.startswith(b"%PDF") and b"/Subtype /Image" in pdf  # the logo is in the document
    # Only a PNG data: URL is let through; anything else is still refused.
    for url in ("data:text/html;base64,PGI+", "http://127.0.0.1:9/logo.png", "/clinic/logo.png"):
        with pytest.raises(ValueError, match="fetches no resources"):
            NoFetching().fetch(url)


def test_the_plan_pdf_without_a_logo_has_no_image(client_a):
    factories.ApprovedPlanFactory(case=factories.CaseFactory(client=client_a))
    assert "<img" not in plan_pdf_html(client_a.user)


def test_the_settings_page_lists_a_logo_change_with_who_made_it(as_manager, manager_user):
    as_manager.post(EDIT, {"logo": upload(image_bytes(size=(60, 20)))})
    html = as_manager.get(reverse("clinic_settings")).content.decode()
    (latest,) = re.findall(r'<li class="mb-2">(.*?)</li>', html, re.S)[:1]
    assert manager_user.get_full_name() in latest and "Logo" in latest
    assert f'href="{EDIT}"' in html  # the settings page leads to the logo page


# ---------------------------------------------------------------- e-mails


def _inline_images(message) -> list:
    """The image parts inside the message as it would leave (related to its HTML)."""
    return [part for part in message.message().walk() if part.get_content_maintype() == "image"]


def test_e_mails_carry_the_logo_inside_them_when_the_clinic_has_one(db, as_staff, mailoutbox):
    from cases.reminders import ReminderEmail

    services.clinic_logo_set(png=image_bytes(size=(300, 100)), by=factories.ManagerUserFactory())
    clinic = ClinicSettings.load()
    client = factories.ClientFactory(email="logo.reader@example.com")
    assert as_staff.post(reverse("cases:client_invite", kwargs={"client_id": client.public_id})).status_code == 302
    reminder = ReminderEmail(
        kind="client_session",
        key="test:logo",
        recipient="logo.reader@example.com",
        template="client_follow_up",
        context={"name": "Logo", "what": "healing check", "day": datetime.date(2026, 12, 9), "time": "10:00"},
    ).render(clinic, clinic.logo_png())

    for message in (mailoutbox[-1], reminder):
        [(html, _)] = message.alternatives
        assert f'<img src="cid:clinic-logo" alt="{clinic.name}" height="60">' in html
        [image] = _inline_images(message)
        assert image["Content-ID"] == "<clinic-logo>"
        assert image.get_content_type() == "image/png"
        assert image.get_payload(decode=True) == stored_logo()
        assert "http" not in html.split("cid:clinic-logo")[0].rsplit("<img", 1)[-1]  # nothing to fetch


def test_e_mails_without_a_logo_have_no_image(db, as_staff, mailoutbox):
    client = factories.ClientFactory(email="plain.reader@example.com")
    assert as_staff.post(reverse("cases:client_invite", kwargs={"client_id": client.public_id})).status_code == 302

    [message] = mailoutbox
    [(html, _)] = message.alternatives
    assert "<img" not in html
    assert _inline_images(message) == []
    assert ClinicSettings.load().name in html
