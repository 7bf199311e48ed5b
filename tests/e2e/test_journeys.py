"""A correction case from first visit to the client's portal, in a browser, on the demo
clinic: every page visited passes tests/e2e/quality.py (axe at 1280 and 390 px, no console
errors, failed requests or CSP violations, no sideways scroll at 768 px for staff and
390 px for the portal).

The journeys follow each other (the plan journey 1 drafts is the one journey 2 approves),
so one test walks them in order, a step per function, each named after its journey.
"""

from __future__ import annotations

import datetime
import io
import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from cases import demo
from cases.models import Case, Client, Consent, FollowUp, LaserSession, Photo, RuleOverride, TreatmentPlan
from tests.e2e.actors import Cast
from tests.e2e.keyboard import Keyboard

pytestmark = pytest.mark.django_db(transaction=True)

LAST = "Journeyman"
FULL_NAME = f"Jordan {LAST}"


@pytest.fixture
def clinic(transactional_db):
    call_command("seed_demo", clients=8, seed=1, verbosity=0)
    return {role: User.objects.get(username=name) for role, name in demo.DEMO_USERNAMES.items()}


@pytest.fixture
def cast(browser, live_server, log_in):
    cast = Cast(browser, live_server.url, log_in)
    yield cast
    cast.close()


def open_day(days_ago: int) -> datetime.date:
    """A weekday `days_ago` days back (or the Monday after): the demo clinic opens 09:00–18:00.
    The sessions are in the past (only then can they be recorded as completed) but recent: the
    post-laser check falls 14 days later, which may not be before the case opened today."""
    day = timezone.localdate() - datetime.timedelta(days=days_ago)
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    return day


# Late in the day, after the demo diary's own appointments (it books them from 09:00 to about 16:45).
SESSION_TIME, CHECK_TIME = "17:00", "17:15"


def mirrored_jpeg(width: int = 120, height: int = 60, orientation: int = 6) -> bytes:
    """A landscape JPEG whose EXIF says "rotate 90°": shown upright it is portrait."""
    image = Image.new("RGB", (width, height), (150, 110, 80))
    for x in range(width // 2):
        for y in range(height):
            image.putpixel((x, y), (30, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def plain_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (100, 80), (90, 70, 60)).save(out, format="JPEG")
    return out.getvalue()


def errors(page) -> list[str]:
    """The messages a form shows after a refused save (for an assertion's message)."""
    return page.locator(".invalid-feedback, .errorlist, .alert").all_inner_texts()


def open_section(page, heading: str) -> None:
    """Unfold the case page's section under `heading` if it is folded (a <details>)."""
    details = page.locator("details", has=page.get_by_role("heading", name=heading, exact=True))
    if details.count() and not details.first.evaluate("d => d.open"):
        details.first.locator("summary").first.click()


def choose(select, pattern: str) -> None:
    """Pick the first option of `select` whose text matches `pattern`."""
    texts = select.locator("option").all_inner_texts()
    select.select_option(label=next(text.strip() for text in texts if re.search(pattern, text)))


# Journey 1 --------------------------------------------------------------------------------


def journey_1_staff_drafts_a_plan(staff) -> str:
    """Registers a client with contraindications, opens a case, consultation and three
    issues, drafts a plan with Kirby–Desai inputs and a laser step, submits it."""
    page = staff.page
    staff.go("/")
    staff.check("staff home")
    staff.click_and_wait(page.get_by_role("link", name="Clients", exact=True).first)
    staff.check("client list")
    staff.go("/clients/new/")
    staff.check("register a client")
    page.get_by_label("First name").fill("Jordan")
    page.get_by_label("Last name").fill(LAST)
    page.get_by_label("Date of birth").fill("1984-05-17")
    page.get_by_label("Email").fill("jordan.journeyman@example.com")
    page.get_by_label("Fitzpatrick skin type").select_option(label="II – usually burns, tans minimally")
    page.get_by_label("Keloid history").check()
    page.get_by_label("Recent sunburn or tan").check()
    staff.click_and_wait(page.get_by_role("button", name="Register client"))
    assert page.get_by_role("heading", name=FULL_NAME, level=1).is_visible()
    client = Client.objects.get(last_name=LAST)
    assert (client.keloid_history, client.recent_sunburn_or_tan, client.ink_allergy) == (True, True, False)
    staff.check("client page")

    staff.click_and_wait(page.get_by_role("link", name="Open a new case"))
    staff.check("new case")
    page.get_by_label("Client's goal").fill("A softer, natural hairline")
    page.get_by_label("Lead artist").select_option(label="Priya Natarajan")
    page.get_by_label("Suboptimal result").check()
    staff.click_and_wait(page.get_by_role("button", name="Open case"))
    case_path = page.url.removeprefix(staff.base_url)
    staff.check("case workspace")

    open_section(page, "Consultations")
    staff.click_and_wait(page.get_by_role("link", name="Add consultation"))
    staff.check("new consultation")
    page.get_by_label("Kind").select_option(label="Initial")
    page.get_by_label("Client's concerns").fill("Hairline too low and sharp; patchy crown.")
    page.get_by_label("Findings").fill("Blown-out dots at the hairline and the left temple.")
    staff.click_and_wait(page.get_by_role("button", name="Save consultation"))

    issues = (
        ("Unnatural hairline", "Frontal hairline", "4"),
        ("Pigment migration / blowout", "Left temple", "3"),
        ("Uneven pigmentation / patchy density", "Crown (vertex)", "2"),
    )
    for number, (kind, zone, severity) in enumerate(issues):
        open_section(page, "Issues")
        staff.click_and_wait(page.get_by_role("link", name="Add issue"))
        if number == 0:
            staff.check("new issue")
        page.get_by_label("Kind").select_option(label=kind)
        page.get_by_label("Zone").select_option(label=zone)
        page.get_by_label("Severity").fill(severity)
        staff.click_and_wait(page.get_by_role("button", name="Save issue"))
    case = Case.objects.get(client__last_name=LAST)
    assert sorted(case.issues.values_list("zone", flat=True).distinct()).__len__() == 3
    assert case.consultations.count() == 1

    open_section(page, "Treatment plan")
    staff.click_and_wait(page.get_by_role("link", name="Create a plan"))
    staff.check("new plan")
    page.get_by_label("Laser removal").check()
    page.get_by_label("Hairline redesign").check()
    page.get_by_label("Plan in plain language").fill("Lighten the hairline and left temple with laser, then redesign.")
    page.get_by_label("Price estimate").fill("1200")
    for label, option in (
        ("Skin type", "Fitzpatrick II"),
        ("Location", "Head and neck"),
        ("Colour", "Black only"),
        ("Amount of ink", "Moderate"),
        ("Scarring / tissue change", "Minimal"),
        ("Layering", "None"),
    ):
        page.get_by_label(label, exact=True).select_option(label=option)
    page.get_by_label("Clinician's estimate").fill("3")
    staff.click_and_wait(page.get_by_role("button", name="Save draft"))
    assert page.get_by_text("8 sessions").first.is_visible()  # 2 + 1 + 1 + 3 + 1 + 0
    staff.check("plan (draft)")

    staff.click_and_wait(page.get_by_role("link", name="Add a step"))
    staff.check("new plan step")
    page.get_by_label("Kind").select_option(label="Laser session")
    page.get_by_label("Description").fill("Lighten the hairline and left temple")
    for zone in ("Frontal hairline", "Left temple"):
        page.get_by_label(zone).check()
    page.get_by_label("Crown (vertex)").uncheck()
    staff.click_and_wait(page.get_by_role("button", name="Save step"))
    staff.click_and_wait(page.get_by_role("button", name="Submit for manager approval"))
    assert page.get_by_text("submitted").first.is_visible()
    plan = TreatmentPlan.objects.get(case=case)
    assert plan.status == "proposed" or plan.submitted_at is not None
    assert (plan.kd_skin_type, plan.clinician_estimate_sessions) == (2, 3)
    return case_path


# Journey 2 --------------------------------------------------------------------------------


def journey_2_manager_approves(manager) -> None:
    page = manager.page
    manager.go("/")
    manager.check("manager home")
    manager.click_and_wait(page.get_by_role("link", name=re.compile(f"Review plan version 1 of .* for {FULL_NAME}")))
    manager.check("plan review")
    page.get_by_label("Manager's note").fill("Agreed: laser first.")
    manager.click_and_wait(page.get_by_role("button", name="Approve"))
    assert page.get_by_text("Plan approved").is_visible()
    plan = TreatmentPlan.objects.get(case__client__last_name=LAST)
    assert plan.approved_by.username == demo.DEMO_USERNAMES["manager"]


# Journey 3 --------------------------------------------------------------------------------


def fill_laser_settings(page, *, when: str) -> None:
    page.get_by_label("Date and time").fill(when)
    page.get_by_label("Status").select_option(label="Completed")
    page.get_by_label("Technician").select_option(label="Priya Natarajan")
    page.get_by_label("Device").select_option(label="Pico room 1")
    page.get_by_label("Laser type").select_option(label="Picosecond Nd:YAG")
    page.get_by_label("Pulse domain").select_option(label="Picoseconds")
    page.get_by_label("Wavelength (nm)", exact=True).select_option(label="1064 nm")
    page.get_by_label("Spot size (mm)").fill("4")
    page.get_by_label("Fluence (J/cm²)").fill("2.5")
    page.get_by_label("Repetition rate (Hz)").fill("5")
    page.get_by_label("Passes").fill("1")
    page.get_by_label("Immediate response").select_option(label="Whitening (frosting), no significant bleeding")
    page.get_by_label("Pain (0–10)").fill("3")


def journey_3_consent_session_photos_check(staff, case_path: str, first_day: datetime.date, tmp_path) -> None:
    page = staff.page
    client = Client.objects.get(last_name=LAST)
    staff.go(case_path)
    staff.click_and_wait(page.get_by_role("link", name="Record a consent").first)
    staff.check("record a consent")
    choose(page.get_by_label("Consent form"), "Laser treatment")
    page.get_by_label("Client's typed name").fill(FULL_NAME)
    page.get_by_label("The client signed this in the clinic").check()
    staff.click_and_wait(page.get_by_role("button", name="Record consent"))
    assert Consent.objects.filter(client=client, signed_in_clinic=True).count() == 1

    # Book the plan's step, then record the booked session.
    plan = TreatmentPlan.objects.get(case__client=client)
    staff.go(f"/plans/{plan.public_id}/")
    staff.check("plan (approved)")
    staff.click_and_wait(page.get_by_role("link", name=re.compile("Book this step")))
    staff.check("book an appointment")
    page.get_by_label("With").select_option(label="Priya Natarajan")
    page.get_by_label("Room", exact=True).select_option(label="Laser room 1")
    page.get_by_label("Laser", exact=True).select_option(label="Pico room 1")
    page.get_by_label("Starts").fill(f"{first_day:%Y-%m-%d}T{SESSION_TIME}")
    staff.click_and_wait(page.get_by_role("button", name="Book", exact=True))
    assert page.get_by_text("Laser session booked").is_visible()
    staff.check("diary")
    session = LaserSession.objects.get(case__client=client)
    assert session.plan_step is not None

    staff.go(case_path)
    open_section(page, "Sessions")
    staff.click_and_wait(page.get_by_role("link", name=re.compile("laser session of")).first)
    fill_laser_settings(page, when=f"{first_day:%Y-%m-%d}T{SESSION_TIME}")
    page.get_by_label("Estimated clearance (%)").fill("20")
    page.get_by_label("Erythema (redness)").check()
    page.get_by_label("Aftercare given").check()
    page.get_by_label("Notes for client").fill("Some redness is normal for a few days.")
    staff.check("laser form (recording the booked session)")
    staff.click_and_wait(page.get_by_role("button", name="Save changes"))
    session.refresh_from_db()
    assert session.status == "completed", errors(page)

    # Two photos through the browser's file chooser: one plain, one with EXIF orientation 6.
    upright = tmp_path / "upright.jpg"
    upright.write_bytes(plain_jpeg())
    rotated = tmp_path / "rotated-exif-6.jpg"
    rotated.write_bytes(mirrored_jpeg())
    staff.go(case_path)
    staff.click_and_wait(page.get_by_role("link", name="Photos").first)
    staff.check("photo gallery (empty)")
    staff.click_and_wait(page.get_by_role("link", name=re.compile("Upload")).first)
    staff.check("photo upload")
    with page.expect_file_chooser() as chooser:
        page.get_by_label("Photos").click()
    chooser.value.set_files([str(upright), str(rotated)])
    page.get_by_label("Kind").select_option(label="Before")
    page.get_by_label("Angle").select_option(index=1)
    page.get_by_label("Share with the client in the portal").check()
    staff.click_and_wait(page.get_by_role("button", name=re.compile("Upload")))
    assert Photo.objects.filter(case__client=client).count() == 2
    staff.check("photo gallery")
    # The EXIF-6 photo (120×60 stored sideways) shows upright: taller than wide.
    shown = page.locator("main img").evaluate_all(
        "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.naturalHeight, i.alt || ''])"
    )
    assert len(shown) == 2 and all(complete for complete, *_ in shown), shown
    # The plain 100×80 photo stays landscape; the EXIF-6 one (stored 120×60) turns portrait.
    assert sorted("portrait" if height > width else "landscape" for _, width, height, _ in shown) == [
        "landscape",
        "portrait",
    ], shown

    # A healing check after the session.
    staff.go(case_path)
    open_section(page, "Follow-ups")
    staff.click_and_wait(page.get_by_role("link", name="Add follow-up"))
    staff.check("new follow-up")
    page.get_by_label("Kind").select_option(label="Healing check")
    page.get_by_label("Due on").fill(f"{timezone.localdate() + datetime.timedelta(days=3):%Y-%m-%d}")
    choose(page.get_by_label("Assigned to"), "Priya")
    staff.click_and_wait(page.get_by_role("button", name=re.compile("Save|Schedule|Add")).first)
    assert FollowUp.objects.filter(case__client=client, kind="healing_check").exists(), errors(page)

    # The healing check in the diary: an appointment the client can put in a calendar.
    staff.go(case_path)
    open_section(page, "Sessions")
    staff.click_and_wait(page.get_by_role("link", name="Book in the diary"))
    choose(page.get_by_label("Appointment"), "Healing check")
    page.get_by_label("With").select_option(label="Priya Natarajan")
    page.get_by_label("Room", exact=True).select_option(label="Consultation room")
    page.get_by_label("Starts").fill(f"{open_day(-4):%Y-%m-%d}T{CHECK_TIME}")
    staff.click_and_wait(page.get_by_role("button", name="Book", exact=True))
    assert page.get_by_text("booked").first.is_visible(), errors(page)


# Journey 4 --------------------------------------------------------------------------------


def journey_4_too_soon_then_override(staff, case_path: str, second_day: datetime.date) -> None:
    page = staff.page
    client = Client.objects.get(last_name=LAST)
    staff.go(case_path)
    open_section(page, "Sessions")
    staff.click_and_wait(page.get_by_role("link", name="Add laser session"))
    # The previous session's settings are offered.
    assert page.get_by_label("Fluence (J/cm²)").input_value() in ("2.5", "2.50")
    fill_laser_settings(page, when=f"{second_day:%Y-%m-%d}T{SESSION_TIME}")
    page.get_by_label("Frontal hairline").check()
    staff.click_and_wait(page.get_by_role("button", name=re.compile("Save")).first)
    assert LaserSession.objects.filter(case__client=client).count() == 1
    refusal = page.locator("section", has=page.get_by_role("heading", name="Overrides"))
    assert refusal.is_visible(), errors(page)
    shown = refusal.inner_text()
    staff.check("laser form with a warning")

    tick = page.get_by_role("checkbox", name=re.compile("^Override: .*interval", re.I))
    tick.check()
    page.get_by_label("Reason for the override").fill("Client travels abroad; small test area only.")
    staff.click_and_wait(page.get_by_role("button", name=re.compile("Save")).first)
    assert LaserSession.objects.filter(case__client=client).count() == 2
    override = RuleOverride.objects.get(case__client=client)
    assert override.reason.startswith("Client travels abroad")
    assert override.message in shown, (override.message, shown)  # the rule's message, as shown


# Journey 5 --------------------------------------------------------------------------------


def journey_5_review_and_reports(staff, manager, case_path: str, issues_before: str) -> None:
    page = staff.page
    staff.go(case_path)
    open_section(page, "Follow-ups")
    staff.click_and_wait(page.get_by_role("link", name=re.compile("^Complete healing check")).first)
    staff.check("complete a follow-up")
    page.get_by_label("Seen on").fill(f"{timezone.localdate():%Y-%m-%d}")
    page.get_by_role("combobox", name=re.compile("^Healing")).select_option(label="Healing as expected")
    page.get_by_label("Crusting / scabbing").check()
    staff.click_and_wait(page.get_by_role("button", name="Record as completed"))
    completed = FollowUp.objects.filter(case__client__last_name=LAST, kind="healing_check", completed_on__isnull=False)
    assert completed.count() == 1, page.locator("main").inner_text()[:1500]
    followup = completed.get()

    page = manager.page
    manager.go("/review/")
    manager.check("review queue")
    page.get_by_label(re.compile(f"^Review healing check due .* for {FULL_NAME}")).check()
    page.get_by_label("Note", exact=False).fill("Healing well.")
    manager.click_and_wait(page.get_by_role("button", name="Mark ticked as reviewed"))
    followup.refresh_from_db()
    assert followup.review_note == "Healing well."

    manager.go("/reports/")
    manager.check("reports")
    manager.click_and_wait(page.get_by_role("link", name="Issues", exact=True))
    manager.check("issues report")
    assert page.locator("main").inner_text() != issues_before, "the three new issues are counted"


# Journey 6 --------------------------------------------------------------------------------


def journey_6_client_portal_on_a_phone(staff, cast, tmp_path):
    page = staff.page
    client = Client.objects.get(last_name=LAST)
    staff.go(f"/clients/{client.public_id}/")
    mail.outbox.clear()
    staff.click_and_wait(page.get_by_role("button", name="Invite to the portal"))
    [message] = mail.outbox
    link = re.search(r"(/invite/[^/\s]+/)", message.body).group(1)

    phone = cast.new(phone=True)
    page = phone.page
    phone.go(link)
    phone.check("invitation: set a password")
    page.get_by_label("New password").first.fill("a-long-client-passphrase-42")
    page.get_by_label("New password confirmation").fill("a-long-client-passphrase-42")
    phone.click_and_wait(page.get_by_role("button", name="Set my password"))
    assert "/portal/" in page.url
    assert page.get_by_text("Lighten the hairline and left temple").first.is_visible()
    phone.check("portal plan")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download my plan (PDF)").click()
    pdf = tmp_path / "plan.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")

    phone.go("/portal/consents/")
    phone.check("portal consents")
    phone.click_and_wait(page.get_by_role("link", name="Read and sign", exact=False).first)
    phone.check("portal consent to sign")
    page.get_by_label("Type your full name", exact=False).fill(FULL_NAME)
    page.get_by_label("I have read this consent", exact=False).check()
    phone.click_and_wait(page.get_by_role("button", name="Sign this consent"))
    assert Consent.objects.filter(client=client, signed_in_clinic=False).count() == 1, errors(page)

    phone.go("/portal/photos/")
    phone.check("portal photos")
    phone.go("/portal/photos/compare/")
    page.get_by_role("button", name="Overlay with slider").click()
    slider = page.get_by_role("slider")
    before = slider.get_attribute("aria-valuetext") or slider.input_value()
    slider.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    assert slider.input_value() == "60"
    assert (slider.get_attribute("aria-valuetext") or "") != before
    phone.check("portal photo comparison")

    phone.go("/portal/appointments/")
    phone.check("portal appointments")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Add to my calendar")).first.click()
    ics = tmp_path / "appointment.ics"
    download.value.save_as(ics)
    text = ics.read_text()
    assert text.startswith("BEGIN:VCALENDAR") and "BEGIN:VEVENT" in text and "END:VCALENDAR" in text
    phone.go("/portal/aftercare/")
    phone.check("portal aftercare")
    return phone


# Journey 7 --------------------------------------------------------------------------------


def journey_7_client_refused_elsewhere(phone, case_path: str) -> None:
    phone.watch.expect_status(403, 404)
    other = Case.objects.exclude(client__last_name=LAST).first()
    staff_paths = ("/clients/", "/diary/", case_path, "/review/", "/reports/", f"/clients/{other.client.public_id}/")
    for path in (*staff_paths, f"/cases/{other.public_id}/"):
        response = phone.go(path)
        assert response.status in (403, 404), (path, response.status)
        shown = phone.page.locator("body").inner_text()
        assert other.client.last_name not in shown and other.reference not in shown, path
    phone.check("refused page")


# The walk ----------------------------------------------------------------------------------


def test_journeys(clinic, cast, tmp_path):
    first_day = open_day(12)
    second_day = open_day(5)
    staff = cast.signed_in(clinic["staff"])
    manager = cast.signed_in(clinic["manager"])
    manager.go("/reports/issues/")
    issues_before = manager.page.locator("main").inner_text()
    case_path = journey_1_staff_drafts_a_plan(staff)
    journey_2_manager_approves(manager)
    journey_3_consent_session_photos_check(staff, case_path, first_day, tmp_path)
    journey_4_too_soon_then_override(staff, case_path, second_day)
    journey_5_review_and_reports(staff, manager, case_path, issues_before)
    phone = journey_6_client_portal_on_a_phone(staff, cast, tmp_path)
    journey_7_client_refused_elsewhere(phone, case_path)
    cast.assert_clean()


# Journey 8 --------------------------------------------------------------------------------


def test_journey_1_by_keyboard_alone(clinic, cast, live_server):
    """Journey 1 with Tab, Enter, Space, arrow keys and typing only; at every Tab stop the
    focused element shows an outline or a box-shadow."""
    staff = cast.new()
    page = staff.page
    kb = Keyboard(page)
    user = clinic["staff"]
    user.set_password("keyboard-only-1")
    user.save(update_fields=["password"])
    staff.go("/login/")
    kb.type_into("Username", user.username)
    kb.type_into("Password", "keyboard-only-1")
    kb.activate("Log in", tag="BUTTON")
    assert page.url == live_server.url + "/"

    staff.go("/clients/new/")
    kb.type_into("First name", "Kim")
    kb.type_into("Last name", "Keyboard")
    kb.type_into("Date of birth", "03141990")  # month, day, year: the browser's date field
    kb.choose("Fitzpatrick skin type", "III")
    kb.tick("Keloid history")
    kb.activate("Register client", tag="BUTTON")
    client = Client.objects.get(last_name="Keyboard")
    assert client.date_of_birth == datetime.date(1990, 3, 14) and client.keloid_history

    kb.activate("Open a new case")
    kb.type_into("Client's goal", "Lighter temples")
    kb.activate("Open case", tag="BUTTON")
    case = Case.objects.get(client=client)

    if _folded(page, "Consultations"):
        kb.activate("Consultations", tag="SUMMARY", navigates=False)
    kb.activate("Add consultation")
    kb.type_into("Client's concerns", "Temples too dark.")
    kb.activate("Save consultation", tag="BUTTON")
    for zone in ("Frontal hairline", "Left temple", "Right temple"):
        kb.activate("Add issue")
        kb.choose("Kind", "Pigment migration")
        kb.choose("Zone", zone)
        kb.type_into("Severity", "3")
        kb.activate("Save issue", tag="BUTTON")
    assert case.issues.count() == 3

    kb.activate("Create a plan")
    kb.tick("Laser removal")
    kb.type_into("Plan in plain language", "Lighten the temples with laser.")
    for label, option in (
        ("Skin type", "Fitzpatrick III"),
        ("Location", "Head and neck"),
        ("Colour", "Black only"),
        ("Amount of ink", "Minimal"),
        ("Scarring / tissue change", "None"),
        ("Layering", "None"),
    ):
        kb.choose(label, option)
    kb.activate("Save draft", tag="BUTTON")
    kb.activate("Add a step")
    kb.choose("Kind", "Laser session")
    kb.activate("Save step", tag="BUTTON")
    kb.activate("Submit for manager approval", tag="BUTTON")
    plan = TreatmentPlan.objects.get(case=case)
    assert plan.submitted_at is not None and plan.kd_total == 3 + 1 + 1 + 2 + 0 + 0
    assert kb.stops > 50
    cast.assert_clean()


def _folded(page, heading: str) -> bool:
    details = page.locator("details", has=page.get_by_role("heading", name=heading, exact=True))
    return bool(details.count()) and not details.first.evaluate("d => d.open")
