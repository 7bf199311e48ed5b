"""The demo clinic itself: the rows every client refers to.

Its name and address, the demo logins, the staff with their certifications (as day
offsets from today), the studios the clients come from and their artists, the laser
devices. `create_clinic` writes these, the consent texts and the clinic settings
through the ORM and returns the `Clinic` the clients' rows refer to.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.utils import timezone

from artists.models import Artist, Certification, Specialisation, Specialty, Studio
from cases.choices import ConsentKind, LaserType
from cases.demo.vocabulary import CONSENT_BODY, FEMALE_FIRST, LASER_V2_ADDENDUM, LAST, MALE_FIRST, ascii_slug
from cases.demo.writer import BATCH
from cases.models import (
    AdverseEventKind,
    ConsentText,
    CorrectionOption,
    LaserDevice,
    RegretReason,
    ZoneLookup,
)
from smpclinic import roles
from smpclinic.models import ClinicSettings

DEMO_USERNAMES = {
    "admin": "demo-admin",
    "manager": "demo-manager",
    "staff": "demo-staff",
    "client": "demo-client",
}

CLINIC = {
    "name": "Northbridge SMP Correction Clinic",
    "address": "14 Northbridge Street\nLeeds LS1 6NB\nUnited Kingdom",
    "phone": "0113 496 0123",
    "email": "hello@northbridge-smp.example",
    "website": "https://northbridge-smp.example",
}


S = Specialty
C = Certification.Kind


@dataclass(frozen=True)
class StaffMember:
    key: str
    first: str
    last: str
    username: str
    group: str
    title: str
    specialisations: tuple[str, ...] = ()
    years: int | None = None
    # (kind, issuer, issued offset, expires offset or None)
    certifications: tuple[tuple[str, str, int, int | None], ...] = ()
    is_artist: bool = True


HYGIENE = "Clinical Hygiene Training UK"
LASER_BOARD = "Laser Protection Adviser Services"
LICENSING = "Leeds City Council – special treatment licence"
FIRST_AID = "First Aid Works"
ACADEMY = "Academy of Scalp Micropigmentation"

STAFF = (
    StaffMember(
        "morgan",
        "Morgan",
        "Hale",
        DEMO_USERNAMES["manager"],
        roles.MANAGERS,
        "Clinic director and lead SMP artist",
        (S.SMP, S.SMP_CORRECTION, S.HAIRLINE_DESIGN, S.SCAR_CAMOUFLAGE),
        14,
        (
            (C.SMP_TRAINING, ACADEMY, -3200, None),
            (C.BLOODBORNE_PATHOGENS, HYGIENE, -300, 65),
            (C.LICENCE, LICENSING, -200, 165),
            (C.FIRST_AID, FIRST_AID, -500, 595),
        ),
    ),
    StaffMember(
        "priya",
        "Priya",
        "Natarajan",
        DEMO_USERNAMES["staff"],
        roles.STAFF,
        "Senior laser technician",
        (S.LASER_REMOVAL,),
        9,
        (
            (C.LASER_SAFETY, LASER_BOARD, -1400, 700),
            (C.DEVICE_TRAINING, "Veralux Medical", -900, None),
            (C.BLOODBORNE_PATHOGENS, HYGIENE, -100, 265),
            (C.FIRST_AID, FIRST_AID, -400, 695),
        ),
    ),
    StaffMember(
        "tom",
        "Tom",
        "Brennan",
        "tom.brennan",
        roles.STAFF,
        "Laser technician",
        (S.LASER_REMOVAL,),
        5,
        (
            (C.LASER_SAFETY, LASER_BOARD, -1095, 45),  # expiring soon
            (C.DEVICE_TRAINING, "Northlight Systems", -1000, None),
            (C.BLOODBORNE_PATHOGENS, HYGIENE, -340, 25),  # expiring soon
        ),
    ),
    StaffMember(
        "sofia",
        "Sofia",
        "Marín",
        "sofia.marin",
        roles.STAFF,
        "SMP artist and laser technician",
        (S.SMP, S.SMP_CORRECTION, S.LASER_REMOVAL, S.SALINE_REMOVAL),
        8,
        (
            (C.LASER_SAFETY, LASER_BOARD, -1120, -20),  # expired: no laser work since
            (C.SMP_TRAINING, ACADEMY, -2500, None),
            (C.BLOODBORNE_PATHOGENS, HYGIENE, -200, 165),
            (C.LICENCE, LICENSING, -250, 115),
        ),
    ),
    StaffMember(
        "jamie",
        "Jamie",
        "Okafor",
        "jamie.okafor",
        roles.STAFF,
        "SMP artist, scar camouflage",
        (S.SMP, S.SMP_CORRECTION, S.SCAR_CAMOUFLAGE, S.HAIRLINE_DESIGN),
        11,
        (
            (C.SMP_TRAINING, ACADEMY, -1800, None),
            (C.BLOODBORNE_PATHOGENS, HYGIENE, -30, 335),
            (C.LICENCE, LICENSING, -150, 215),
            (C.FIRST_AID, FIRST_AID, -700, 395),
        ),
    ),
    StaffMember(
        "elena",
        "Elena",
        "Petrova",
        "elena.petrova",
        roles.STAFF,
        "SMP artist, colour correction and saline removal",
        (S.SMP, S.SMP_CORRECTION, S.COLOUR_CORRECTION, S.SALINE_REMOVAL),
        7,
        (
            (C.SMP_TRAINING, ACADEMY, -2200, None),
            (C.BLOODBORNE_PATHOGENS, HYGIENE, -120, 245),
            (C.LICENCE, LICENSING, -330, 35),  # expiring soon
        ),
    ),
    StaffMember("dana", "Dana", "Whitfield", "dana.whitfield", roles.MANAGERS, "Practice manager", is_artist=False),
    StaffMember("lucy", "Lucy", "Ford", "lucy.ford", roles.STAFF, "Clinic coordinator", is_artist=False),
)
LEAD_ARTISTS = (("morgan", 20), ("jamie", 30), ("elena", 30), ("sofia", 20))
TECHNICIAN_WEIGHTS = {"priya": 45, "tom": 35, "sofia": 20}
MANAGER_KEYS = ("morgan", "dana")

STUDIOS = (
    ("Inkline Scalp Studio", "Manchester", "United Kingdom"),
    ("Follicle & Co", "Birmingham", "United Kingdom"),
    ("Shadow Line SMP", "London", "United Kingdom"),
    ("Dotwork Scalp Clinic", "Glasgow", "United Kingdom"),
    ("HairPoint Pigmentation", "Bristol", "United Kingdom"),
    ("Crown Ink Studio", "Dublin", "Ireland"),
    ("Liverpool Scalp Design", "Liverpool", "United Kingdom"),
    ("Cardiff SMP Rooms", "Cardiff", "United Kingdom"),
    ("Tyne Hairline Studio", "Newcastle", "United Kingdom"),
    ("Skalp Atelier", "Berlin", "Germany"),
    ("Micro Capilar", "Madrid", "Spain"),
    ("Scalp Lab Lisboa", "Lisbon", "Portugal"),
    ("Dot & Line", "Amsterdam", "Netherlands"),
    ("Budget Scalp Express", "Istanbul", "Türkiye"),
)

# name, manufacturer, model, type, wavelengths, archived
DEVICES = (
    ("Pico room 1", "Veralux Medical", "PicoStar Duo", LaserType.PICO_ND_YAG, "532, 1064", False),
    ("Pico room 2", "Arcadia Lasers", "Alexa Pico", LaserType.PICO_ALEXANDRITE, "755", False),
    ("Q-switch room", "Northlight Systems", "QS-1064", LaserType.QS_ND_YAG, "532, 1064", False),
    ("Old ruby", "Northlight Systems", "Ruby 694", LaserType.QS_RUBY, "694", True),
)


@dataclass
class Clinic:
    """What the clients' rows refer to: staff, devices, lookups, consent texts."""

    today: datetime.date
    tz: datetime.tzinfo
    users: dict[str, User]
    artists: dict[str, Artist]
    laser_valid: dict[str, tuple[int, int]]  # technician key -> (issued, expires) offsets
    studios: list[Studio]
    externals: dict[int, list[Artist]]  # studio pk -> its external artists
    devices: dict[str, LaserDevice]
    zone_ids: dict[str, int]
    regret_ids: dict[str, int]
    option_ids: dict[str, int]
    adverse_ids: dict[str, int]
    consent_texts: dict[tuple[str, int], ConsentText]
    laser_v2_from: int
    client_user: User
    demo_client_name: str = ""
    demo_reference: str = ""


RENEWAL_DAYS = 3 * 365  # a laser-safety certificate's term, for the history's earlier ones


def create_clinic(rng: random.Random, today: datetime.date, password: str, history_days: int = 0) -> Clinic:
    """The clinic's own rows. With `history_days`, the clinic is that old: each laser
    technician's safety certification was renewed every three years before the current
    one, and the first consent texts were in force from the start."""

    def offset(day: int) -> datetime.date:
        return today + datetime.timedelta(days=day)

    settings_row = ClinicSettings.load()
    for name, value in CLINIC.items():
        setattr(settings_row, name, value)
    settings_row.save()
    tz = timezone.get_current_timezone()

    groups = {g.name: g for g in Group.objects.filter(name__in=roles.ROLES)}
    # One hash for every demo login: PBKDF2 is deliberately slow, and these share a printed password.
    password_hash = make_password(password)
    admin = User(
        username=DEMO_USERNAMES["admin"],
        email="admin@northbridge-smp.example",
        first_name="Alex",
        last_name="Admin",
        is_staff=True,
        is_superuser=True,
        password=password_hash,
    )
    admin.save()
    users: dict[str, User] = {"admin": admin}
    own = Studio.objects.create(
        name=CLINIC["name"], city="Leeds", country="United Kingdom", is_own_clinic=True, website=CLINIC["website"]
    )
    artists: dict[str, Artist] = {}
    certifications = []
    specialisations = {s.code: s.pk for s in Specialisation.objects.all()}
    through = Artist.specialisations.through
    for member in STAFF:
        user = User(
            username=member.username,
            first_name=member.first,
            last_name=member.last,
            email=f"{ascii_slug(member.first)}.{ascii_slug(member.last)}@northbridge-smp.example",
        )
        if member.username in DEMO_USERNAMES.values():
            user.password = password_hash
        else:
            user.set_unusable_password()
        user.save()
        user.groups.add(groups[member.group])
        users[member.key] = user
        if not member.is_artist:
            continue
        artist = Artist.objects.create(
            kind=Artist.Kind.INTERNAL,
            user=user,
            first_name=member.first,
            last_name=member.last,
            studio=own,
            years_experience=member.years,
            email=user.email,
            notes=member.title,
        )
        through.objects.bulk_create(
            [through(artist_id=artist.pk, specialisation_id=specialisations[s]) for s in member.specialisations]
        )
        artists[member.key] = artist
        for n, (kind, issuer, issued, expires) in enumerate(member.certifications, start=1):
            certifications.append(
                Certification(
                    artist=artist,
                    kind=kind,
                    issuer=issuer,
                    number=f"{kind[:3].upper()}-{rng.randint(10000, 99999)}-{n:02d}",
                    issued_on=offset(issued),
                    expires_on=offset(expires) if expires is not None else None,
                )
            )
    laser_valid = {}
    for member in STAFF:
        for kind, issuer, issued, expires in member.certifications:
            if kind == C.LASER_SAFETY:
                laser_valid[member.key] = (issued, expires)
                renewed, term = issued, 0
                while renewed > -history_days:
                    term += 1
                    renewed, until = renewed - RENEWAL_DAYS, renewed - 1
                    certifications.append(
                        Certification(
                            artist=artists[member.key],
                            kind=kind,
                            issuer=issuer,
                            number=f"{kind[:3].upper()}-{rng.randint(10000, 99999)}-R{term}",
                            issued_on=offset(renewed),
                            expires_on=offset(until),
                        )
                    )
                    laser_valid[member.key] = (renewed, expires)
    Certification.objects.bulk_create(certifications)

    client_user = User(username=DEMO_USERNAMES["client"], password=password_hash)
    client_user.save()
    client_user.groups.add(groups[roles.CLIENTS])
    users["client"] = client_user

    studios = Studio.objects.bulk_create(
        [Studio(name=name, city=city, country=country) for name, city, country in STUDIOS], batch_size=BATCH
    )
    externals: dict[int, list[Artist]] = {}
    external_rows = []
    for studio in studios:
        for _ in range(rng.choices((1, 2, 3), weights=(40, 40, 20))[0]):
            first, last = rng.choice(MALE_FIRST + FEMALE_FIRST), rng.choice(LAST)
            artist = Artist(
                kind=Artist.Kind.EXTERNAL,
                first_name=first,
                last_name=last,
                studio=studio,
                years_experience=rng.randint(1, 15),
            )
            external_rows.append(artist)
            externals.setdefault(studio.pk, []).append(artist)
    Artist.objects.bulk_create(external_rows, batch_size=BATCH)
    smp = specialisations[S.SMP]
    through.objects.bulk_create([through(artist_id=a.pk, specialisation_id=smp) for a in external_rows])

    devices = {}
    for name, manufacturer, model_name, laser_type, wavelengths, archived in DEVICES:
        device = LaserDevice(
            name=name,
            manufacturer=manufacturer,
            model_name=model_name,
            serial_number=f"{manufacturer[:3].upper()}-{rng.randint(10000, 99999)}",
            laser_type=laser_type,
            wavelengths=wavelengths,
            last_serviced_on=offset(-rng.randint(20, 170)),
        )
        if archived:
            device.archived_at = timezone.now()
            device.archived_by = admin
            device.archive_reason = "Decommissioned; replaced by the picosecond lasers."
        devices[name] = device
    LaserDevice.objects.bulk_create(devices.values())

    laser_v2_from = -200
    first_texts_from = offset(-max(1100, history_days + 30))
    texts = {}
    for kind in ConsentKind.values:
        title, body = CONSENT_BODY[kind]
        texts[(kind, 1)] = ConsentText(kind=kind, version=1, title=title, body=body, effective_from=first_texts_from)
    texts[(ConsentKind.LASER_TREATMENT, 1)].retired_on = offset(laser_v2_from - 1)
    title, body = CONSENT_BODY[ConsentKind.LASER_TREATMENT]
    texts[(ConsentKind.LASER_TREATMENT, 2)] = ConsentText(
        kind=ConsentKind.LASER_TREATMENT,
        version=2,
        title=title,
        body=body + LASER_V2_ADDENDUM,
        effective_from=offset(laser_v2_from),
    )
    ConsentText.objects.bulk_create(texts.values())

    return Clinic(
        today=today,
        tz=tz,
        users=users,
        artists=artists,
        laser_valid=laser_valid,
        studios=list(studios),
        externals=externals,
        devices=devices,
        zone_ids={z.code: z.pk for z in ZoneLookup.objects.all()},
        regret_ids={r.code: r.pk for r in RegretReason.objects.all()},
        option_ids={o.code: o.pk for o in CorrectionOption.objects.all()},
        adverse_ids={a.code: a.pk for a in AdverseEventKind.objects.all()},
        consent_texts=texts,
        laser_v2_from=laser_v2_from,
        client_user=client_user,
    )
