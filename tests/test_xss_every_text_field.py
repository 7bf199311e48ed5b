"""Stored XSS: every text field of every model of the cases, artists and smpclinic apps
holds markup and template syntax, and every page, chart, PDF and e-mail that shows them
renders them inert.

One data set (a client with a whole case, the team, the clinic, the audit logs) has each
of its text fields overwritten with the payloads below, bypassing validation as someone
with write access to the database, an import or an admin page might; history rows too,
since the workspace shows the latest changes. Then each surface is rendered once: the
tests are parametrised by page, not by field × page.

Fields that cannot hold free text are excluded by name, each with its reason, and
`test_every_text_field_is_filled_or_excluded_on_purpose` fails when a model gains a text
field that is in neither list.
"""

from __future__ import annotations

import datetime
import re

import pytest
from axes.models import AccessAttempt
from django.apps import apps
from django.core import mail
from django.core.cache import cache
from django.db import models
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from cases import reminders
from cases.choices import OverrideRule, SessionStatus
from cases.models import AccessEvent, Booking, BookingKind, Client, RuleOverride, SentReminder
from cases.portal.views import plan_pdf_html
from cases.reporting.reports import REPORTS
from smpclinic.models import ClinicSettings, Closure, LoginEvent, OpeningHours, Room
from tests import factories
from tests.helpers import kept_for_the_module

pytestmark = pytest.mark.django_db

# The three payloads, in one value where the field is long enough. `{{7*7}}` comes first,
# so if any template engine ever evaluated it, "49" would stand right before `"><img`.
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
TEMPLATE = "{{7*7}}"
LONG = TEMPLATE + IMG + SCRIPT
SHORT = TEMPLATE + IMG  # for the few 40-character fields (phone numbers)

APPS = ("cases", "artists", "smpclinic")
CHOICES = "one of a fixed list of choices; pages show the choice's label"
ADDRESS = "an e-mail or web address, validated as one on every form (mail is sent to it, links point at it)"
CODE = "written by the code, never typed by a person"
# "app.Model": {field: why it cannot hold free text}. A historical model (simple-history)
# excludes what its model excludes, plus its `history_type` (choices).
NOT_FREE_TEXT = {
    "cases.AccessEvent": {"action": CHOICES},
    "cases.Client": {"email": ADDRESS, "fitzpatrick_type": CHOICES, "norwood_stage": CHOICES},
    "cases.ZoneLookup": {"code": CHOICES},
    "cases.RegretReason": {"code": CHOICES},
    "cases.CorrectionOption": {"code": CHOICES},
    "cases.AdverseEventKind": {"code": CHOICES},
    "cases.Case": {"reference": CODE + " (SMP-year-number, unique)", "status": CHOICES, "outcome": CHOICES},
    "cases.Consultation": {"kind": CHOICES},
    "cases.Issue": {"kind": CHOICES, "zone": CHOICES},
    "cases.ConsentText": {"kind": CHOICES},
    "cases.TreatmentPlan": {"status": CHOICES},
    "cases.PlanStep": {"kind": CHOICES, "status": CHOICES},
    "cases.LaserDevice": {"laser_type": CHOICES},
    "cases.LaserSession": {
        "status": CHOICES,
        "laser_type": CHOICES,
        "pulse_domain": CHOICES,
        "immediate_response": CHOICES,
        "fitzpatrick_type": CHOICES + " (the client's, copied by the code)",
    },
    "cases.CorrectionSession": {"status": CHOICES, "kind": CHOICES},
    "cases.RuleOverride": {"rule": CHOICES},
    "cases.FollowUp": {"kind": CHOICES, "status": CHOICES, "healing": CHOICES},
    "cases.PortalInvitation": {"token_hash": CODE + " (a hash of the link's token)", "sent_to": ADDRESS},
    "cases.Photo": {
        "kind": CHOICES,
        "angle": CHOICES,
        "zone": CHOICES,
        "source_format": CODE + " (the decoder's format name)",
        "sha256": CODE + " (the hash of the uploaded file)",
    },
    "cases.SentReminder": {"kind": CHOICES, "recipient": ADDRESS},
    "cases.Booking": {"kind": CHOICES, "status": CHOICES},
    "cases.CalendarFeed": {"token": CODE + " (the feed's random key)"},
    "artists.Specialisation": {"code": CHOICES},
    "artists.Studio": {"website": ADDRESS},
    "artists.Artist": {"kind": CHOICES, "email": ADDRESS},
    "artists.Certification": {"kind": CHOICES},
    "smpclinic.ClinicSettings": {
        "email": ADDRESS,
        "website": ADDRESS,
        "time_zone": "a time zone name, validated; every date the clinic shows is computed with it",
        "currency": "a three-letter ISO code, validated",
    },
    "smpclinic.LoginEvent": {"kind": CHOICES},
}


def _label(model) -> str:
    return f"{model._meta.app_label}.{model.__name__}"


def _history_of(model):
    """The model a simple-history model records (None for other models, and for the
    tables that record many-to-many changes, which hold no text)."""
    is_history = any(f.name == "history_type" for f in model._meta.concrete_fields)
    return model.instance_type if is_history else None


def _text_fields(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if isinstance(f, models.CharField | models.TextField)]


def _excluded(model) -> dict[str, str]:
    base = _history_of(model)
    if base is not None:
        return {**NOT_FREE_TEXT.get(_label(base), {}), "history_type": CHOICES}
    return NOT_FREE_TEXT.get(_label(model), {})


def _free_text_fields(model) -> list[models.Field]:
    excluded = _excluded(model)
    return [f for f in _text_fields(model) if f.name not in excluded]


def _payloads(model) -> dict[str, str]:
    values = {}
    for field in _free_text_fields(model):
        value = LONG if not field.max_length or field.max_length >= len(LONG) else SHORT
        assert len(value) <= (field.max_length or len(value)), f"{_label(model)}.{field.name} is too short"
        values[field.name] = value
    return values


def _poison(record) -> None:
    """Fill every free-text field of `record` and of its history rows."""
    model = type(record)
    model._base_manager.filter(pk=record.pk).update(**_payloads(model))
    history = getattr(model, "history", None)
    if history is not None:
        history.filter(id=record.pk).update(**_payloads(history.model))


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """One client's whole story, the team, the clinic and the audit logs, every text poisoned.

    Made once for the module (the tests only read it) and rolled back at its end; what a
    test writes itself (the access log of a page, an invitation) is undone after it. Its
    photos are kept in a folder of the module's, and each row's history holds its creation
    (the history pages show those texts too)."""
    with (
        override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("xss-media")),
        kept_for_the_module(django_db_blocker),
        factories.history_recorded(),
    ):
        yield _poisoned_world()


@pytest.fixture
def _private_media():
    """The world's photos stay in the module's folder (see `world`)."""


@pytest.fixture
def client_a(world):
    return world["client_a"]


@pytest.fixture
def staff_user(world):
    return world["staff_user"]


@pytest.fixture
def manager_user(world):
    return world["manager_user"]


def _poisoned_world() -> dict:
    client_a = factories.ClientFactory(
        user=factories.ClientUserFactory(username="client-a"), first_name="Alice", last_name="Able"
    )
    staff_user = factories.StaffUserFactory(username="staff")
    manager_user = factories.ManagerUserFactory(username="manager")
    clinic = ClinicSettings.load()
    studio = factories.StudioFactory()
    original_artist = factories.ExternalArtistFactory(studio=studio)
    case = factories.CaseFactory(client=client_a, original_studio=studio, original_artist=original_artist)
    plan = factories.AcceptedPlanFactory(case=case)
    step = factories.PlanStepFactory(plan=plan, order=1)
    laser = factories.LaserSessionFactory(case=case, plan_step=step)
    upcoming = factories.LaserSessionFactory(
        case=case,
        status=SessionStatus.SCHEDULED,
        scheduled_at=timezone.now() + datetime.timedelta(days=2),
        technician=laser.technician,
        device=laser.device,
    )
    room = Room.objects.create(name="Room 1")
    booking = Booking.objects.create(
        case=case,
        kind=BookingKind.LASER,
        laser_session=upcoming,
        starts_at=upcoming.scheduled_at,
        ends_at=upcoming.scheduled_at + datetime.timedelta(minutes=45),
        person=laser.technician,
        room=room,
        device=laser.device,
    )
    correction = factories.CorrectionSessionFactory(case=case)
    done = factories.CompletedFollowUpFactory(case=case, laser_session=laser)
    due = factories.FollowUpFactory(case=case, assignee=staff_user, due_on=timezone.localdate())
    consent = factories.ConsentFactory(client=client_a)
    records = [
        clinic,
        client_a,
        case,
        plan,
        step,
        laser,
        upcoming,
        correction,
        done,
        due,
        consent,
        consent.text,
        factories.ConsultationFactory(case=case),
        factories.IssueFactory(case=case),
        factories.PhotoFactory(case=case, shared_with_client=True, copies_made=True),
        RuleOverride.objects.create(
            case=case,
            laser_session=laser,
            rule=OverrideRule.choices[0][0],
            message="m",
            reason="r",
            overridden_by=manager_user,
        ),  # fmt: skip
        SentReminder.objects.create(kind=SentReminder._meta.get_field("kind").choices[0][0], key="k", subject="s"),
        studio,
        original_artist,
        case.lead_artist,
        correction.artist,
        laser.technician,
        laser.technician.certifications.get(),
        laser.device,
        room,
        OpeningHours.objects.create(weekday=0, opens=datetime.time(9), closes=datetime.time(18)),
        Closure.objects.create(day=timezone.localdate() + datetime.timedelta(days=40), reason="r"),
        booking,
    ]
    for record in records:
        _poison(record)
    Client.objects.filter(pk=client_a.pk).update(reminders_opt_in=True, email="alice@example.com")
    # The audit logs are append-only: their rows are written with the payloads.
    LoginEvent.objects.create(kind=LoginEvent.Kind.FAILED, **_payloads(LoginEvent))
    AccessEvent.objects.create(action=AccessEvent.Action.VIEWED, client=client_a, **_payloads(AccessEvent))
    # A username typed at the login page, as the lockout list shows it.
    AccessAttempt.objects.create(username=LONG, ip_address="203.0.113.9", failures_since_start=5, user_agent=LONG)
    cache.clear()  # the Clinic settings as poisoned, not as cached before
    return {
        "client_a": client_a,
        "staff_user": staff_user,
        "manager_user": manager_user,
        "case": case,
        "plan": plan,
        "laser": laser,
        "correction": correction,
        "due": due,
        "consent": consent,
        "booking": booking,
    }


def test_every_text_field_is_filled_or_excluded_on_purpose(world):
    text_fields, filled = set(), set()
    for app in APPS:
        for model in apps.get_app_config(app).get_models():
            for field in _text_fields(model):
                text_fields.add(f"{_label(model)}.{field.name}")
            excluded = _excluded(model)
            for name, why in excluded.items():
                assert name in {f.name for f in _text_fields(model)}, f"{_label(model)}.{name} is not a text field"
                if why == CHOICES:
                    assert model._meta.get_field(name).choices or model.__name__.endswith(
                        ("Lookup", "Reason", "Option", "Kind", "Specialisation")
                    ), f"{_label(model)}.{name} has no choices"
            stored = model._base_manager.values(*[f.name for f in _free_text_fields(model)])
            for row in stored:
                filled |= {f"{_label(model)}.{name}" for name, value in row.items() if value in (LONG, SHORT)}
    excluded = {
        f"{_label(model)}.{name}"
        for app in APPS
        for model in apps.get_app_config(app).get_models()
        for name in _excluded(model)
        if name in {f.name for f in _text_fields(model)}
    }
    assert not filled & excluded
    assert text_fields - excluded - filled == set(), "a text field neither filled nor excluded"


# ------------------------------------------------------------------------ checks


SHOWN = re.compile(r"\{\{7\*7\}\}(?:&quot;|&#34;|&#x22;|\")&gt;&lt;img src=x")
EVALUATED = re.compile(r"49(?:&quot;|&#34;|&#x22;|\")(?:&gt;&lt;|><)img")


def assert_inert(html: str, where: str) -> None:
    assert "<script>alert" not in html.lower(), f"a <script> payload is live in {where}"
    assert "<img src=x" not in html.lower(), f"an <img onerror> payload is live in {where}"
    assert not EVALUATED.search(html), f"{{{{7*7}}}} was evaluated in {where}"
    assert SHOWN.search(html), f"{where} shows none of the poisoned text (so proves nothing)"


# ------------------------------------------------------------------------ pages


def _case(w):
    return w["case"].public_id


PAGES = {
    # name: (who, URL from the world)
    "home": ("staff", lambda w: reverse("cases:home")),
    "client list": ("staff", lambda w: reverse("cases:client_list")),
    "client list search": ("staff", lambda w: reverse("cases:client_list") + "?q=%7B%7B7"),
    "client": ("staff", lambda w: reverse("cases:client_detail", args=[w["case"].client.public_id])),
    "client edit": ("staff", lambda w: reverse("cases:client_edit", args=[w["case"].client.public_id])),
    "consent record": ("staff", lambda w: reverse("cases:consent_record", args=[w["case"].client.public_id])),
    "case workspace": ("staff", lambda w: reverse("cases:case_detail", args=[_case(w)])),
    "case edit": ("staff", lambda w: reverse("cases:case_edit", args=[_case(w)])),
    "case status": ("staff", lambda w: reverse("cases:case_status", args=[_case(w)])),
    "plan": ("staff", lambda w: reverse("cases:plan_detail", args=[w["plan"].public_id])),
    "laser session": ("staff", lambda w: reverse("cases:laser_session_edit", args=[w["laser"].public_id])),
    "correction session": (
        "staff",
        lambda w: reverse("cases:correction_session_edit", args=[w["correction"].public_id]),
    ),
    "follow-up": ("staff", lambda w: reverse("cases:followup_complete", args=[w["due"].public_id])),
    "photo gallery": ("staff", lambda w: reverse("cases:photo_gallery", args=[_case(w)])),
    "photo compare": ("staff", lambda w: reverse("cases:photo_compare", args=[_case(w)])),
    "team": ("manager", lambda w: reverse("artists:team")),
    "diary day": (
        "staff",
        lambda w: reverse("cases:diary") + f"?day={timezone.localtime(w['booking'].starts_at):%Y-%m-%d}",
    ),
    "diary week": (
        "staff",
        lambda w: (
            reverse("cases:diary_week")
            + f"?person={w['booking'].person.public_id}&day={timezone.localtime(w['booking'].starts_at):%Y-%m-%d}"
        ),
    ),
    "booking move": ("staff", lambda w: reverse("cases:booking_reschedule", args=[w["booking"].public_id])),
    "diary settings": ("manager", lambda w: reverse("diary_settings")),
    "review queue": ("manager", lambda w: reverse("cases:review_queue")),
    "reports": ("manager", lambda w: reverse("cases:reports")),
    **{
        f"report: {report.name}": (
            "manager",
            lambda w, report=report: reverse(report.url_name) + f"?from={timezone.localdate().year - 1}-01-01",
        )
        for report in REPORTS.values()
    },
    "access log": ("manager", lambda w: reverse("cases:access_log")),
    "sign-in log": ("manager", lambda w: reverse("cases:sign_in_log")),
    "lockouts": ("manager", lambda w: reverse("lockouts")),
    "portal plan": ("client", lambda w: reverse("cases:portal_plan")),
    "portal appointments": ("client", lambda w: reverse("cases:portal_appointments")),
    "portal photos": ("client", lambda w: reverse("cases:portal_photos")),
    "portal photo compare": ("client", lambda w: reverse("cases:portal_photo_compare")),
    "portal consents": ("client", lambda w: reverse("cases:portal_consents")),
    "portal consent": ("client", lambda w: reverse("cases:portal_consent_detail", args=[w["consent"].public_id])),
    "portal aftercare": ("client", lambda w: reverse("cases:portal_aftercare")),
}
PERSONAS = {"staff": "as_staff", "manager": "as_manager", "client": "as_client_a"}


@pytest.mark.parametrize("page_name", PAGES, ids=list(PAGES))
def test_the_page_shows_every_text_inert(page_name, world, request):
    who, url_of = PAGES[page_name]
    http = request.getfixturevalue(PERSONAS[who])
    response = http.get(url_of(world))
    assert response.status_code == 200, (page_name, response.get("Location"))
    assert_inert(response.content.decode(), page_name)


def test_the_report_charts_show_their_labels_inert(world, as_manager):
    """Charts are built as SVG on the server: the poisoned studio, artist and device names
    reach their labels and titles, escaped."""
    charts = []
    for report in REPORTS.values():
        html = as_manager.get(reverse(report.url_name), {"from": f"{timezone.localdate().year - 1}-01-01"})
        charts += re.findall(r"<svg.*?</svg>", html.content.decode(), re.S)
    assert any(SHOWN.search(svg) for svg in charts), "no chart label carries the poisoned text"
    for svg in charts:
        assert "<script" not in svg.lower() and "<img" not in svg.lower(), "markup inside a chart"
        assert not EVALUATED.search(svg)


# ------------------------------------------------------------------ PDF, e-mails


def _reminder(kind: str, world, manager_user, staff_user):
    clinic = ClinicSettings.load()
    today = reminders.clinic_today(clinic)
    if kind == "session reminder":
        return reminders.session_email(type(world["laser"]).objects.get(status=SessionStatus.SCHEDULED), clinic)
    if kind == "follow-up reminder":
        return reminders.follow_up_email(type(world["due"]).objects.get(pk=world["due"].pk), clinic)
    if kind == "staff digest":
        return reminders.staff_digest_email(staff_user, [type(world["due"]).objects.get(pk=world["due"].pk)], today)
    return reminders.manager_summary_email(manager_user, today, reminders.weekly_figures(today, clinic))


EMAILS = ["session reminder", "follow-up reminder", "staff digest", "manager summary"]


@pytest.mark.parametrize("kind", EMAILS)
def test_the_reminder_email_carries_every_text_inert(kind, world, manager_user, staff_user):
    message = _reminder(kind, world, manager_user, staff_user).render(ClinicSettings.load())
    (html, _type), *_ = message.alternatives
    assert_inert(html, kind)
    assert not EVALUATED.search(message.body)  # the text part shows the text as typed
    assert "\n" not in message.subject and not EVALUATED.search(message.subject)


def test_the_invitation_email_carries_every_text_inert(world, as_staff, client_a):
    response = as_staff.post(reverse("cases:client_invite", args=[client_a.public_id]))
    assert response.status_code == 302
    (message,) = mail.outbox
    (html, _type), *_ = message.alternatives
    assert_inert(html, "the invitation")
    assert not EVALUATED.search(message.body)


def test_the_portal_plan_pdf_shows_every_text_inert(world, client_a):
    assert_inert(plan_pdf_html(client_a.user), "the plan PDF")
