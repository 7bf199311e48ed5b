"""factory_boy factories for every model; one place for the whole suite."""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import io
from collections.abc import Iterator
from decimal import Decimal

import factory
import factory.fuzzy
from django.contrib.auth.models import Group, User
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Subquery
from django.utils import timezone
from faker.providers.person.en_US import Provider as PersonProvider
from PIL import Image

from artists.models import Artist, Certification, Studio
from cases import choices
from cases.models import (
    Case,
    Client,
    Consent,
    ConsentText,
    Consultation,
    CorrectionSession,
    FollowUp,
    Issue,
    LaserDevice,
    LaserSession,
    Photo,
    PlanStep,
    TreatmentPlan,
    ZoneLookup,
)
from smpclinic import roles

TODAY = datetime.date(2026, 11, 25)
# Faker's English names, drawn with equal chances: Faker's own draw weighs each of
# 1,700 names by its frequency at every call, a tenth of a millisecond a person.
FIRST_NAMES = tuple(PersonProvider.first_names)
LAST_NAMES = tuple(PersonProvider.last_names)


# Whether the factories record a row's creation in its history: off, except for tests
# marked `history` (tests/conftest.py); see ModelFactory.
_recording = {"history": False}


def record_history(on: bool) -> None:
    _recording["history"] = on


@contextlib.contextmanager
def history_recorded() -> Iterator[None]:
    """For a module's world: its rows are made with their creation in their history."""
    before = _recording["history"]
    _recording["history"] = True
    try:
        yield
    finally:
        _recording["history"] = before


class ModelFactory(factory.django.DjangoModelFactory):
    """A row a test sets up is the world as it already was: it is inserted without the
    history record ("created") that saving it through the app writes, and every later save
    records history as usual. Four in five of the suite's history rows were such records,
    and few tests read them. A test that reads a record's history from its creation on (a
    stale form naming what changed since, a history page, an export) is marked
    `@pytest.mark.history`; a module's world is made inside `history_recorded()`."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        if _recording["history"] or not hasattr(model_class, "history") or cls._meta.django_get_or_create:
            return super()._create(model_class, *args, **kwargs)
        obj = model_class(*args, **kwargs)
        obj.save_without_historical_record(force_insert=True, using=cls._get_manager(model_class).db)
        return obj


class UserFactory(ModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.fuzzy.FuzzyChoice(FIRST_NAMES)
    last_name = factory.fuzzy.FuzzyChoice(LAST_NAMES)
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-for-tests")

    @classmethod
    def _get_or_create(cls, model_class, *args, **kwargs):
        """A username a test chose may be taken already: inserted in a savepoint, and read
        only if the insert is refused (get_or_create reads first, which costs a query for
        the usual new user). One from the sequence never is taken (no test names a user
        "user<n>"), so it is inserted at once."""
        manager = cls._get_manager(model_class)
        username = kwargs.get("username", "")
        if username.startswith("user") and username[4:].isdigit():
            return manager.create(*args, **kwargs)
        try:
            with transaction.atomic(using=manager.db):
                return manager.create(*args, **kwargs)
        except IntegrityError:
            return manager.get(username=username)


def _in_group(name: str) -> factory.PostGeneration:
    def add(user, create, extracted, **kwargs):
        if create:
            # The row `user.groups.add(group)` writes, in one INSERT that finds the group
            # by name itself (`add` reads the group, then the user's groups, then inserts).
            group = Subquery(Group.objects.filter(name=extracted or name).values("pk"))
            User.groups.through.objects.create(user_id=user.pk, group_id=group)

    return factory.PostGeneration(add)


class StaffUserFactory(UserFactory):
    role = _in_group(roles.STAFF)


class ManagerUserFactory(UserFactory):
    role = _in_group(roles.MANAGERS)


class ClientUserFactory(UserFactory):
    role = _in_group(roles.CLIENTS)


class StudioFactory(ModelFactory):
    class Meta:
        model = Studio

    name = factory.Sequence(lambda n: f"Studio {n}")
    city = "Leeds"


class ArtistFactory(ModelFactory):
    class Meta:
        model = Artist

    kind = Artist.Kind.INTERNAL
    first_name = factory.fuzzy.FuzzyChoice(FIRST_NAMES)
    last_name = factory.fuzzy.FuzzyChoice(LAST_NAMES)
    years_experience = 5


class ExternalArtistFactory(ArtistFactory):
    kind = Artist.Kind.EXTERNAL
    studio = factory.SubFactory(StudioFactory)


class CertificationFactory(ModelFactory):
    class Meta:
        model = Certification

    artist = factory.SubFactory(ArtistFactory)
    kind = Certification.Kind.LASER_SAFETY
    issuer = "Laser Safety Board"
    number = factory.Sequence(lambda n: f"LS-{n:05d}")
    issued_on = datetime.date(2025, 1, 1)
    expires_on = datetime.date(2030, 1, 1)


class TechnicianFactory(ArtistFactory):
    """A clinic technician with a login and a laser certification valid for years."""

    class Meta:
        skip_postgeneration_save = True

    user = factory.SubFactory(StaffUserFactory)
    laser_certification = factory.RelatedFactory(CertificationFactory, factory_related_name="artist")


class ClientFactory(ModelFactory):
    class Meta:
        model = Client

    first_name = factory.fuzzy.FuzzyChoice(FIRST_NAMES)
    last_name = factory.fuzzy.FuzzyChoice(LAST_NAMES)
    date_of_birth = datetime.date(1985, 6, 15)
    email = factory.Sequence(lambda n: f"client{n}@example.com")
    phone = factory.Sequence(lambda n: f"07700 9{n:05d}")
    fitzpatrick_type = choices.Fitzpatrick.III
    norwood_stage = choices.NorwoodStage.IV


class CaseFactory(ModelFactory):
    class Meta:
        model = Case

    client = factory.SubFactory(ClientFactory)
    opened_on = TODAY - datetime.timedelta(days=120)
    # Not from the year's counter (cases.services.cases.next_reference, three queries): a
    # number of its own, far above any the counter reaches in a test, so that a case the
    # test opens through the service still gets the year's first reference.
    reference = factory.LazyAttributeSequence(lambda c, n: f"SMP-{c.opened_on.year}-{50000 + n}")
    status = choices.CaseStatus.ASSESSMENT
    lead_artist = factory.SubFactory(ArtistFactory)
    goal = "A natural, softer hairline."


class ConsultationFactory(ModelFactory):
    class Meta:
        model = Consultation

    case = factory.SubFactory(CaseFactory)
    staff = factory.SubFactory(StaffUserFactory)
    kind = choices.ConsultationKind.INITIAL
    concerns = "Hairline looks drawn on."
    findings = "Pigment too dark at the frontal hairline."


class IssueFactory(ModelFactory):
    class Meta:
        model = Issue

    case = factory.SubFactory(CaseFactory)
    kind = choices.IssueKind.UNNATURAL_HAIRLINE
    zone = choices.Zone.FRONTAL_HAIRLINE
    severity = 3
    identified_on = TODAY - datetime.timedelta(days=100)


class TreatmentPlanFactory(ModelFactory):
    class Meta:
        model = TreatmentPlan
        skip_postgeneration_save = True

    case = factory.SubFactory(CaseFactory)
    status = choices.PlanStatus.DRAFT
    summary = "Lighten the hairline with laser, then redesign it."
    aftercare = "Keep the scalp dry for 4 days."
    price_estimate = Decimal("1800.00")
    kd_skin_type = 3
    kd_location = 1
    kd_colour = 1
    kd_ink_amount = 3
    kd_scarring = 0
    kd_layering = 0


class ApprovedPlanFactory(TreatmentPlanFactory):
    status = choices.PlanStatus.PROPOSED
    submitted_at = factory.LazyFunction(timezone.now)
    approved_at = factory.LazyFunction(timezone.now)
    approved_by = factory.SubFactory(ManagerUserFactory)


class AcceptedPlanFactory(ApprovedPlanFactory):
    status = choices.PlanStatus.ACCEPTED
    accepted_at = factory.LazyFunction(timezone.now)
    accepted_name = "Test Client"


class PlanStepFactory(ModelFactory):
    class Meta:
        model = PlanStep

    plan = factory.SubFactory(TreatmentPlanFactory)
    order = factory.Sequence(lambda n: n + 1)
    kind = choices.PlanStepKind.LASER_SESSION
    interval_weeks = 6


def _zones(obj, create, extracted):
    if create:
        codes = extracted or [choices.Zone.FRONTAL_HAIRLINE]
        # The rows a new session's `zones.add()` would write, without its m2m_changed
        # signals: the history record of that change (a second record of a session a test
        # only sets up) is left out. Tests of that history change zones through the forms.
        through = type(obj).zones.through
        column = type(obj).zones.field.m2m_field_name()
        # One INSERT, each row finding its zone by code.
        through.objects.bulk_create(
            [
                through(**{column: obj, "zonelookup_id": Subquery(ZoneLookup.objects.filter(code=code).values("pk"))})
                for code in dict.fromkeys(codes)
            ]
        )


class LaserDeviceFactory(ModelFactory):
    class Meta:
        model = LaserDevice

    name = factory.Sequence(lambda n: f"Pico {n}")
    manufacturer = "Example Lasers"
    laser_type = choices.LaserType.PICO_ND_YAG
    wavelengths = "532, 1064"


class LaserSessionFactory(ModelFactory):
    class Meta:
        model = LaserSession
        skip_postgeneration_save = True

    case = factory.SubFactory(CaseFactory)
    scheduled_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=60))
    status = choices.SessionStatus.COMPLETED
    technician = factory.SubFactory(TechnicianFactory)
    device = factory.SubFactory(LaserDeviceFactory)
    laser_type = choices.LaserType.PICO_ND_YAG
    wavelength_nm = 1064
    pulse_domain = choices.PulseDomain.PICOSECOND
    pulse_width = Decimal("450")
    spot_size_mm = Decimal("4.0")
    fluence_j_cm2 = Decimal("2.50")
    repetition_rate_hz = Decimal("5.0")
    passes = 1
    immediate_response = choices.ImmediateResponse.FROSTING
    pain_score = 4
    estimated_clearance_pct = 30
    # What laser_session_save records: the client's skin type at the session.
    fitzpatrick_type = factory.LazyAttribute(lambda session: session.case.client.fitzpatrick_type)
    zones = factory.PostGeneration(_zones)


class CorrectionSessionFactory(ModelFactory):
    class Meta:
        model = CorrectionSession
        skip_postgeneration_save = True

    case = factory.SubFactory(CaseFactory)
    scheduled_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=20))
    status = choices.SessionStatus.COMPLETED
    kind = choices.CorrectionKind.SMP_CORRECTION
    artist = factory.SubFactory(ArtistFactory)
    pigment = "Carbon black, 30% dilution"
    needle = "3RL 0.25 mm"
    zones = factory.PostGeneration(_zones)


class FollowUpFactory(ModelFactory):
    class Meta:
        model = FollowUp

    case = factory.SubFactory(CaseFactory)
    kind = choices.FollowUpKind.HEALING_CHECK
    due_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=3))
    # Nobody in particular, as for most follow-ups a test makes (a member of staff for
    # each one cost a user, a group membership and their history); pass one to test it.
    assignee = None


class ConsentTextFactory(ModelFactory):
    class Meta:
        model = ConsentText
        django_get_or_create = ("kind", "version")

    kind = choices.ConsentKind.LASER_TREATMENT
    version = 1
    title = factory.LazyAttribute(lambda t: f"{choices.ConsentKind(t.kind).label} consent")
    body = "I understand the risks of laser treatment, including pigment change and scarring."
    effective_from = datetime.date(2025, 1, 1)


class ConsentFactory(ModelFactory):
    class Meta:
        model = Consent

    client = factory.SubFactory(ClientFactory)
    text = factory.SubFactory(ConsentTextFactory)
    signed_name = factory.LazyAttribute(lambda c: c.client.full_name)
    signed_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=90))
    signed_in_clinic = True


def content_of(file) -> bytes:
    """The bytes of a file not yet saved (a ContentFile), leaving it ready to be saved."""
    file.seek(0)
    data = file.read()
    file.seek(0)
    return data


def jpeg_bytes(size=(64, 48), colour=(120, 90, 60)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


class PhotoFactory(ModelFactory):
    """A stored photo row with a small real JPEG (the upload pipeline is tested on its own)."""

    class Meta:
        model = Photo

    case = factory.SubFactory(CaseFactory)
    kind = choices.PhotoKind.BEFORE
    angle = choices.PhotoAngle.FRONT
    taken_on = TODAY - datetime.timedelta(days=100)
    image = factory.LazyFunction(lambda: ContentFile(jpeg_bytes(), name="photo.jpg"))
    width = 64
    height = 48
    byte_size = factory.LazyAttribute(lambda p: p.image.size)
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    file_sha256 = factory.LazyAttribute(lambda p: hashlib.sha256(content_of(p.image)).hexdigest())

    class Params:
        # With its screen copy and thumbnail, as the background task leaves a photo soon
        # after its upload; without them (the default) the photo is still "processing".
        copies_made = factory.Trait(
            screen=factory.LazyFunction(lambda: ContentFile(jpeg_bytes(), name="photo.jpg")),
            thumbnail=factory.LazyFunction(lambda: ContentFile(jpeg_bytes(size=(32, 24)), name="photo.jpg")),
        )


class CompletedFollowUpFactory(FollowUpFactory):
    """A follow-up done (a few days ago, on time) and waiting for a manager's review."""

    due_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=5))
    status = choices.FollowUpStatus.COMPLETED
    completed_on = factory.LazyAttribute(lambda f: f.due_on)
    completed_by = factory.SelfAttribute("assignee")
    healing = choices.Healing.AS_EXPECTED
    satisfaction = 4


class MissedFollowUpFactory(FollowUpFactory):
    """A follow-up the client did not come to, waiting for review (and perhaps a new date)."""

    due_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=5))
    status = choices.FollowUpStatus.MISSED


class ClosedCaseFactory(CaseFactory):
    """A case closed with an outcome and the client's satisfaction (for the reports)."""

    opened_on = datetime.date(2025, 6, 1)
    status = choices.CaseStatus.CLOSED
    closed_on = datetime.date(2026, 2, 1)
    outcome = choices.Outcome.IMPROVED
    satisfaction = 4


def maker(factory_class, **common):
    """A function making unsaved instances as `factory_class.build(**common, **values)`
    would, for bulk_create, at about a tenth of the cost: the factory's values are worked out
    once, on one instance, and each call's `values` laid over them. So what the factory
    works out per instance (a sequence number, a random name, an attribute computed from
    another) is the first instance's in all of them unless the call gives it; a field's
    own default (a public id) is still made for each one."""
    template = factory_class.build(**common)
    model = type(template)
    declared = set(factory_class._meta.declarations) | set(common)
    base = {
        field.attname: getattr(template, field.attname)
        for field in model._meta.concrete_fields
        if not field.primary_key and (field.name in declared or not (field.has_default() and callable(field.default)))
    }

    def make(**values):
        row = dict(base)
        for name in values:
            row.pop(model._meta.get_field(name).attname, None)
        return model(**row, **values)

    return make
