"""Subject access export: a manager downloads one zip with everything held about a client.

Two clients with records of every kind, written the same way, so a query that forgot to
start from the client would put the other one's rows in the zip and fail here.
"""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader

from cases.choices import AdverseEventChoice, CorrectionOptionChoice, Fitzpatrick, OverrideRule, PhotoAngle, PhotoKind
from cases.models import AccessEvent, AdverseEventKind, CorrectionOption, Photo, RuleOverride
from cases.services import clients as client_services
from cases.services import privacy
from tests import factories


def client_with_everything(*, first: str, last: str, email: str, marker: str, colour=(120, 90, 60)):
    """A client with a portal login and one record of every kind, an archived case and an
    archived photo among them, and a change in the history. `marker` goes into free text
    of every record, so an export can be searched for it."""
    user = factories.ClientUserFactory(username=email, email=email, first_name=first, last_name=last)
    client = factories.ClientFactory(
        user=user,
        first_name=first,
        last_name=last,
        email=email,
        address=f"1 {marker} Street, Leeds",
        internal_notes=f"{marker} prefers mornings",
    )
    client = client_services.client_update(client=client, phone=f"07700 {len(marker):06d}")
    case = factories.CaseFactory(client=client, goal=f"{marker} goal: a softer hairline")
    archived_case = factories.CaseFactory(client=client, goal=f"{marker} earlier case")
    manager = factories.ManagerUserFactory()
    archived_case.archive(by=manager, reason="opened twice")
    factories.ConsultationFactory(case=case, findings=f"{marker} findings")
    factories.IssueFactory(case=case, description=f"{marker} issue")
    plan = factories.AcceptedPlanFactory(case=case, summary=f"{marker} plan", accepted_name=f"{first} {last}")
    plan.options.set(CorrectionOption.objects.filter(code=CorrectionOptionChoice.LASER_REMOVAL))
    factories.PlanStepFactory(plan=plan, description=f"{marker} step")
    laser = factories.LaserSessionFactory(case=case, fluence_j_cm2=Decimal("3.25"), internal_notes=f"{marker} laser")
    laser.adverse_events.set(AdverseEventKind.objects.filter(code=AdverseEventChoice.BLISTERING))
    RuleOverride.objects.create(
        case=case,
        laser_session=laser,
        rule=OverrideRule.ZONE_INTERVAL,
        message="Within 6 weeks",
        reason=f"{marker} override",
        overridden_by=manager,
    )
    factories.CorrectionSessionFactory(case=case, pigment=f"{marker} pigment")
    factories.CompletedFollowUpFactory(case=case, notes=f"{marker} follow-up")
    factories.ConsentFactory(client=client)
    photos = [
        factories.PhotoFactory(
            case=case,
            kind=PhotoKind.BEFORE,
            angle=PhotoAngle.FRONT,
            image=ContentFile(factories.jpeg_bytes(colour=colour), name="p.jpg"),
            screen=ContentFile(factories.jpeg_bytes(size=(32, 24)), name="s.jpg"),
            thumbnail=ContentFile(factories.jpeg_bytes(size=(16, 12)), name="t.jpg"),
            caption=f"{marker} caption",
        ),
        factories.PhotoFactory(case=case, kind=PhotoKind.BEFORE, angle=PhotoAngle.FRONT),  # same day, kind, angle
        factories.PhotoFactory(case=archived_case, kind=PhotoKind.AFTER, angle=PhotoAngle.TOP),
    ]
    photos[1].archive(by=manager, reason="blurred")
    client.refresh_from_db()
    return client


@pytest.fixture
def alice(db):
    return client_with_everything(first="Alice", last="Able", email="alice@example.com", marker="Aardvark")


@pytest.fixture
def bob(db):
    return client_with_everything(
        first="Bobzebedee", last="Bumblebee-Baker", email="bob@example.com", marker="Bumblebee", colour=(10, 200, 10)
    )


def export(http, client) -> zipfile.ZipFile:
    response = http.post(reverse("cases:client_export", kwargs={"client_id": client.public_id}))
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_zip_holds_this_clients_records_and_none_of_another_clients(alice, bob, as_manager):
    archive = export(as_manager, alice)
    record = json.loads(archive.read("record.json"))
    text = json.dumps(record, ensure_ascii=False)

    assert record["client"]["first_name"] == "Alice"
    assert record["client"]["email"] == "alice@example.com"
    assert record["client"]["fitzpatrick_type"] == {"code": "III", "label": str(Fitzpatrick.III.label)}
    assert record["portal_login"]["username"] == "alice@example.com"
    references = {case.reference for case in alice.cases.all()}
    assert {case["reference"] for case in record["cases"]} == references
    case = next(c for c in record["cases"] if c["archived_at"] is None)
    assert [c["findings"] for c in case["consultations"]] == ["Aardvark findings"]
    assert [i["description"] for i in case["issues"]] == ["Aardvark issue"]
    (plan,) = case["plans"]
    assert plan["options"] == [{"code": "laser_removal", "label": "Laser removal"}]
    assert [s["description"] for s in plan["steps"]] == ["Aardvark step"]
    (laser,) = case["laser_sessions"]
    assert laser["fluence_j_cm2"] == "3.25"
    assert laser["wavelength_nm"] == 1064
    assert laser["zones"] == [{"code": "frontal_hairline", "label": "Frontal hairline"}]
    assert laser["adverse_events"] == [{"code": "blistering", "label": "Blistering"}]
    assert [o["reason"] for o in laser["overrides"]] == ["Aardvark override"]
    assert laser["overrides"][0]["rule"]["code"] == "zone_interval"
    assert [c["pigment"] for c in case["correction_sessions"]] == ["Aardvark pigment"]
    assert [f["notes"] for f in case["follow_ups"]] == ["Aardvark follow-up"]
    (consent,) = record["consents"]
    assert consent["text"]["body"].startswith("I understand the risks of laser treatment")
    assert consent["signed_name"] == "Alice Able"
    datetime.datetime.fromisoformat(consent["signed_at"])  # ISO dates
    datetime.date.fromisoformat(record["client"]["date_of_birth"])

    # Names no random staff name can take (the factories draw staff names at random).
    markers = (
        "Bobzebedee",
        "Bumblebee",
        "bob@example.com",
        str(bob.public_id),
        *(c.reference for c in bob.cases.all()),
    )
    for marker in markers:
        assert marker not in text
        assert marker not in pdf_text(archive.read("summary.pdf"))
    assert "Aardvark" in text


def test_archived_records_of_the_client_are_included(alice, as_manager):
    record = json.loads(export(as_manager, alice).read("record.json"))
    archived_cases = [c for c in record["cases"] if c["archived_at"]]
    assert [c["goal"] for c in archived_cases] == ["Aardvark earlier case"]
    assert archived_cases[0]["archive_reason"] == "opened twice"
    photos = [p for c in record["cases"] for p in c["photos"]]
    assert len(photos) == 3
    assert [p["archive_reason"] for p in photos if p["archived_at"]] == ["blurred"]


def test_photos_are_the_stored_originals_and_open_with_pillow(alice, bob, as_manager):
    archive = export(as_manager, alice)
    names = sorted(name for name in archive.namelist() if name.startswith("photos/"))
    case = alice.cases.active().get()
    earlier = alice.cases.archived().get()
    taken = (factories.TODAY - datetime.timedelta(days=100)).isoformat()
    assert names == sorted(
        [
            f"photos/{case.reference}/{taken}-before-front.jpg",
            f"photos/{case.reference}/{taken}-before-front-2.jpg",
            f"photos/{earlier.reference}/{taken}-after-top.jpg",
        ]
    )
    stored = {p.image.read() for p in Photo.objects.filter(case__client=alice)}
    for name in names:
        data = archive.read(name)
        assert data in stored
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            assert image.format == "JPEG"
    # Alice's front photo is brown; Bob's green one is not there.
    with Image.open(io.BytesIO(archive.read(f"photos/{case.reference}/{taken}-before-front.jpg"))) as image:
        red, green, _blue = image.convert("RGB").getpixel((10, 10))
        assert red > green
    record = json.loads(archive.read("record.json"))
    assert sorted(p["file"] for c in record["cases"] for p in c["photos"]) == names


def test_the_summary_is_a_readable_pdf(alice, as_manager):
    data = export(as_manager, alice).read("summary.pdf")
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert "Alice Able" in text
    for case in alice.cases.all():
        assert case.reference in text


@pytest.mark.history
def test_the_history_of_changes_is_included(alice, as_manager):
    record = json.loads(export(as_manager, alice).read("record.json"))
    client_history = [h for h in record["history"] if h["record"] == "client"]
    assert client_history[0]["action"] == "Created"
    assert client_history[0]["values"]["first_name"] == "Alice"
    changed = [h for h in client_history if "phone" in h.get("changes", {})]
    assert changed and changed[0]["changes"]["phone"]["to"] == "07700 000008"
    laser_history = [h for h in record["history"] if h["record"] == "laser session"]
    assert laser_history and laser_history[0]["values"]["fluence_j_cm2"] == "3.25"


def test_every_export_is_audited(alice, as_manager, manager_user):
    export(as_manager, alice)
    (event,) = AccessEvent.objects.filter(action=AccessEvent.Action.EXPORTED)
    assert event.user == manager_user
    assert event.client == alice
    assert event.object_id == str(alice.public_id)
    assert event.what == "subject access export"
    assert event.path == reverse("cases:client_export", kwargs={"client_id": alice.public_id})
    assert event.status == 200
    assert event.ip == "127.0.0.1"


def test_only_managers_may_export(alice, anonymous, as_staff, as_client_a):
    url = reverse("cases:client_export", kwargs={"client_id": alice.public_id})
    assert as_staff.post(url).status_code == 403
    assert as_client_a.post(url).status_code == 403
    response = anonymous.post(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not AccessEvent.objects.filter(action=AccessEvent.Action.EXPORTED).exists()


def test_the_export_is_a_post_never_a_link(alice, as_manager):
    url = reverse("cases:client_export", kwargs={"client_id": alice.public_id})
    assert as_manager.get(url).status_code == 405
    assert not AccessEvent.objects.filter(action=AccessEvent.Action.EXPORTED).exists()


def test_a_manager_can_export_an_archived_client(alice, as_manager, manager_user):
    alice.archive(by=manager_user, reason="moved away")
    record = json.loads(export(as_manager, alice).read("record.json"))
    assert record["client"]["archive_reason"] == "moved away"


def test_the_client_page_offers_export_and_anonymise_to_managers_only(alice, as_manager, as_staff):
    detail = reverse("cases:client_detail", kwargs={"client_id": alice.public_id})
    export_url = reverse("cases:client_export", kwargs={"client_id": alice.public_id})
    anonymise_url = reverse("cases:client_anonymise", kwargs={"client_id": alice.public_id})
    page = as_manager.get(detail).content.decode()
    assert "Export this client&#x27;s record" in page or "Export this client's record" in page
    assert export_url in page and anonymise_url in page
    page = as_staff.get(detail).content.decode()
    assert export_url not in page and anonymise_url not in page


def test_a_photo_missing_from_storage_is_listed_without_a_file(alice, as_manager):
    photo = Photo.objects.filter(case__client=alice, archived_at__isnull=True).first()
    photo.image.storage.delete(photo.image.name)
    archive = export(as_manager, alice)
    record = json.loads(archive.read("record.json"))
    listed = next(p for c in record["cases"] for p in c["photos"] if p["id"] == str(photo.public_id))
    assert listed["file"] is None
    assert len([n for n in archive.namelist() if n.startswith("photos/")]) == 2


def test_the_export_is_built_in_a_temporary_file(alice):
    archive = privacy.subject_access_export(client=alice)
    try:
        assert not isinstance(archive, io.BytesIO)
        assert archive.tell() == 0
        assert zipfile.ZipFile(archive).testzip() is None
    finally:
        archive.close()
