"""A deterministic demo clinic for `manage.py seed_demo`.

Everything random comes from `random.Random(seed)`: the clinic (staff, studios, devices)
from the master generator, then one seed per client drawn from it. Every date is an
offset in days from today, and nothing that decides whether a row exists looks at the
calendar, so the same seed gives the same rows (and counts) on any day.

The work runs in two passes over the clients. The first builds each case's timeline
(status, plan, steps, dates) and keeps only the opening dates, so references can be
numbered in opening order per year (SMP-2026-0001 is the year's first case). The second
rebuilds the same timelines from the same per-client seeds, adds the details and writes
them a chunk of clients at a time, so 100 000 clients fit in memory and in a few
minutes. Those rows skip `save()` and signals, like `bulk_create` (see `Table` for why
not `bulk_create` itself): Kirby–Desai totals are computed here, and simple_history
records nothing for them (acceptable for demo data). The clinic's own rows (staff,
certifications, devices, consent texts, settings) and the photos go through the ORM.
Image files are made only for a handful of cases.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import math
import random
import unicodedata
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from artists.models import Artist, Certification, Specialisation, Specialty, Studio
from cases import kirby_desai
from cases.choices import (
    AdverseEventChoice,
    CaseStatus,
    ConsentKind,
    ConsultationKind,
    CorrectionKind,
    CorrectionOptionChoice,
    Fitzpatrick,
    FollowUpKind,
    FollowUpStatus,
    Healing,
    ImmediateResponse,
    IssueKind,
    LaserType,
    NorwoodStage,
    Outcome,
    PhotoAngle,
    PhotoKind,
    PlanStatus,
    PlanStepKind,
    PulseDomain,
    RegretReasonChoice,
    SessionStatus,
    StepStatus,
    Zone,
)
from cases.models import (
    AdverseEventKind,
    Case,
    Client,
    Consent,
    ConsentText,
    Consultation,
    CorrectionOption,
    CorrectionSession,
    FollowUp,
    Issue,
    LaserDevice,
    LaserSession,
    Photo,
    PlanStep,
    ReferenceCounter,
    RegretReason,
    TreatmentPlan,
    ZoneLookup,
)
from cases.models.photos import photo_upload_path
from smpclinic import roles
from smpclinic.lookups import sync_all_lookups
from smpclinic.models import ClinicSettings

DEFAULT_PASSWORD = "smpclinic-demo"  # nosec B105  # the demo clinic only; DEMO_PASSWORD overrides it
DEFAULT_CLIENTS = 200
CHUNK = 1000  # clients generated and inserted together
BATCH = 2000  # rows per executemany
OLDEST_CASE_DAYS = 1090  # every case opened in the last 3 years: 4 reference years

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


# --------------------------------------------------------------------------------------
# Clinic staff, their certifications (day offsets from today), studios, devices.
# --------------------------------------------------------------------------------------

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

# name, manufacturer, model, type, wavelengths, pulse width, archived
DEVICES = (
    ("Pico room 1", "Veralux Medical", "PicoStar Duo", LaserType.PICO_ND_YAG, "532, 1064", False),
    ("Pico room 2", "Arcadia Lasers", "Alexa Pico", LaserType.PICO_ALEXANDRITE, "755", False),
    ("Q-switch room", "Northlight Systems", "QS-1064", LaserType.QS_ND_YAG, "532, 1064", False),
    ("Old ruby", "Northlight Systems", "Ruby 694", LaserType.QS_RUBY, "694", True),
)

# --------------------------------------------------------------------------------------
# Words.
# --------------------------------------------------------------------------------------


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


MALE_FIRST = words(
    "James Oliver Harry Jack George Noah Charlie Jacob Alfie Freddie Oscar Leo Thomas Arthur Henry William Joshua "
    "Daniel Samuel Max Ethan Lucas Adam Mohammed Omar Yusuf Ibrahim Ali Hassan Ravi Arjun Sanjay Vikram Deepak "
    "Kwame Kofi Tunde Chinedu Emeka Marcus Andre Darnell Tyrone Luis Carlos Mateo Diego Javier Pablo Marco Luca "
    "Giorgio Piotr Tomasz Łukasz Mikhail Dmitri Andrei Stefan Lars Erik Sean Patrick Conor Liam Ryan Aaron Kieran "
    "Callum Connor Reece Jordan Nathan Ben Chris Paul Mark Steven Gareth Darren Wayne Lee Craig Stuart Grant Kenji "
    "Hiroshi Minh Wei Jun Tariq Bilal Imran Zain Kareem Nikos Yannis Matteo"
)
FEMALE_FIRST = words(
    "Amelia Olivia Isla Ava Emily Sophia Grace Mia Chloe Priya Aisha Fatima Zara Maria Elena Sofia Anna Hannah "
    "Laura Sarah Rachel Claire Nicola Joanne Kerry Tanya Ngozi Abena Yuki Mei"
)
LAST = words(
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Wright Robinson Thompson Evans Walker White "
    "Roberts Green Hall Thomas Clarke Jackson Wood Harris Edwards Turner Martin Cooper Hill Ward Hughes Moore "
    "Clark King Harrison Lewis Baker Lee Allen Morris Khan Scott Watson Davis Parker James Bennett Young Price "
    "Phillips Mitchell Kelly Collins Carter Begum Hussain Ahmed Ali Shah Singh Kaur Sharma Gupta Mensah Okoye "
    "Adeyemi Boateng Nwosu Campbell Stewart Murray Reid Fraser O'Brien Murphy Byrne Walsh Kowalski Nowak "
    "Wiśniewski Novak Horvat García Fernández López Rossi Russo Bianchi Müller Schmidt Fischer Dubois Laurent "
    "Moreau Jansen Andersson Nilsson Hansen Ivanov Popescu Papadopoulos Yilmaz Demir Nguyen Tran Chen "
    "Wang Li Zhang Tanaka Sato Kim Park Silva Santos Costa"
) + ("de Vries", "van Dijk")  # surnames with a space, which a split would break
STREETS = (
    "Park Road",
    "Church Street",
    "Victoria Road",
    "Station Road",
    "Mill Lane",
    "Queens Road",
    "Manor Road",
    "Green Lane",
    "Albert Street",
    "Chapel Street",
    "High Street",
    "Grove Road",
    "Springfield Road",
    "Richmond Road",
)
TOWNS = (
    ("Leeds", "LS"),
    ("Bradford", "BD"),
    ("Wakefield", "WF"),
    ("Harrogate", "HG"),
    ("York", "YO"),
    ("Huddersfield", "HD"),
    ("Halifax", "HX"),
    ("Sheffield", "S"),
    ("Manchester", "M"),
    ("Hull", "HU"),
)
ALLERGIES = ("Lidocaine", "Latex", "Nickel", "Penicillin", "Adhesive dressings", "Chlorhexidine")
MEDICATIONS = (
    "Finasteride 1 mg daily",
    "Minoxidil 5% foam, daily",
    "Dutasteride 0.5 mg daily",
    "Sertraline 50 mg daily",
    "Ramipril 5 mg daily",
    "Atorvastatin 20 mg daily",
    "Levothyroxine 75 micrograms daily",
)
PHOTOSENSITISING = ("Doxycycline 100 mg daily", "St John's wort", "Hydrochlorothiazide 25 mg daily")
PIGMENTS = (
    "Unknown",
    "Unknown – client was not told",
    "Carbon-black SMP pigment, brand unknown",
    "Carbon-black SMP pigment, 3 shades",
    "Body-art tattoo ink (black)",
    "Iron-oxide blend, warm brown",
    "Tattoo ink diluted with distilled water",
)
CORRECTION_PIGMENTS = (
    "Carbon black, 20% dilution",
    "Carbon black, 30% dilution",
    "Carbon black, 3-shade blend (light)",
    "Warm neutral, 25% dilution",
)
NEEDLES = ("1RL 0.18 mm", "1RL 0.25 mm", "3RL 0.25 mm", "3RL 0.30 mm")
SALINE = ("Hypertonic saline 20%", "Saline removal solution (NaCl 18%)")

GOALS = {
    "laser_smp": (
        "Lighten the old SMP, then have a softer, age-appropriate hairline redone.",
        "Get rid of the dark, blurred dots and start again with a natural look.",
        "Fix the 'helmet' look so it passes as a shaved head up close.",
    ),
    "laser_only": (
        "Remove the SMP completely; happy to keep a shaved head without pigment.",
        "Fade the pigment as far as possible; growing hair back with medication.",
    ),
    "saline": (
        "Take out the oversized dots along the hairline without laser.",
        "Remove a few rows of dots at the hairline so it can be redesigned.",
    ),
    "colour": (
        "Get rid of the blue tinge so the dots look like natural stubble again.",
        "Neutralise the green cast on the crown.",
    ),
    "scar": ("Hide the FUT strip scar at the back.", "Make the scar on the crown less visible."),
    "density": (
        "Top up faded areas so the density matches again.",
        "Extend the treatment to cover the new thinning at the crown.",
        "Even out the patchy density across the top.",
    ),
    None: (
        "Understand what can be done about the old SMP.",
        "Find out whether laser removal is possible.",
        "A natural result that nobody notices.",
    ),
}
REGRET_NOTES = {
    RegretReasonChoice.UNREALISTIC_EXPECTATIONS: "Expected the result to look like a full head of hair.",
    RegretReasonChoice.SUBOPTIMAL_RESULT: "Dots placed too deep and too large by the original artist.",
    RegretReasonChoice.CHANGE_OVER_TIME: "Pigment has faded unevenly and hair loss has progressed since.",
    RegretReasonChoice.SOCIAL_EMOTIONAL: "Feels self-conscious; partner and friends commented on the hairline.",
}
ISSUE_TEXT = {
    IssueKind.UNEVEN_PIGMENTATION: "Patchy density; lighter and darker areas side by side.",
    IssueKind.UNNATURAL_HAIRLINE: "Hairline too low, straight and sharp for the client's age.",
    IssueKind.VISIBLE_SCARRING: "Raised, pale scar line visible through the pigment.",
    IssueKind.COLOUR_SHIFT: "Dots have turned blue-grey; pigment placed too deep.",
    IssueKind.PIGMENT_MIGRATION: "Dots blurred and merged into solid patches ('helmet' look).",
    IssueKind.TOO_DARK: "Too dark and too dense against the client's own hair.",
    IssueKind.DOTS_TOO_LARGE: "Dots about 2 mm across; reads as 'dotty' at conversation distance.",
    IssueKind.FADED: "Pigment faded to a grey haze.",
    IssueKind.HAIR_LOSS_PROGRESSION: "Further hair loss has left the treated area out of place.",
    IssueKind.OTHER: "Client unhappy with the overall shape of the treated area.",
}
WITHDRAWN_REASONS = (
    "Client moved away and will continue treatment elsewhere.",
    "Client decided to live with the current result after the consultation.",
    "Cost: client could not commit to the full plan.",
    "Client did not want to wait out the interval between laser sessions.",
    "Client stopped responding to appointment reminders.",
    "Client chose hair transplant surgery instead.",
)
OUTCOME_NOTES = {
    Outcome.RESOLVED: "Correction achieved as planned; client very happy with the new look.",
    Outcome.IMPROVED: "Clearly improved; some faint shadowing remains, client content.",
    Outcome.PARTIAL: "Partly improved; residual pigment at the hairline, client considering more sessions later.",
    Outcome.UNCHANGED: "Little change after treatment; client decided to stop.",
    Outcome.WORSE: "Hypopigmented patches after laser; referred to dermatology, under review.",
}
EXPECTATIONS = {
    "laser_smp": "Laser lightens rather than always removes SMP: 2–4 sessions, 6–8 weeks apart; redesign only "
    "once healing is confirmed. The new hairline will be softer and higher than before.",
    "laser_only": "Aim is lightening as far as possible in 2–4 sessions; some shadow may remain. "
    "Pigment changes can take 6–12 months to settle.",
    "saline": "Saline lifts pigment from a small area per session; several sessions 4–8 weeks apart, "
    "then redesign. Not suitable for the whole scalp.",
    "colour": "Colour correction neutralises the blue tone; it will not reduce density.",
    "scar": "Camouflage reduces the contrast of the scar, it cannot remove it; 2–4 sessions.",
    "density": "Top-up matches density to the existing work; it will not change the hairline.",
}
PLAN_SUMMARY = {
    "laser_smp": "Lighten the existing SMP with picosecond 1064 nm laser, confirm healing, then redesign "
    "with finer, lighter dots.",
    "laser_only": "Laser removal of the existing SMP, sessions at least 6 weeks apart, then review.",
    "saline": "Saline removal of the oversized dots along the hairline, then a soft redesign.",
    "colour": "Colour correction to neutralise the blue cast, then review.",
    "scar": "Scar camouflage in 2–3 sessions with a diluted shade matched to the surrounding dots.",
    "density": "SMP top-up to restore even density in the faded or newly thinning areas.",
}
AFTERCARE_SMP = (
    "Keep the scalp dry for 4 days; no heavy sweating for 5 days; no swimming, sauna, steam or sun for "
    "28 days; then SPF 30–50 every day."
)
AFTERCARE_LASER = (
    "Expect redness and swelling for a day or two and crusting for up to 2 weeks: do not pick. Keep clean "
    "and dry, no sun on the area, SPF 30–50 once healed. Call us if blisters or signs of infection appear."
)
PLAN_AFTERCARE = {
    "laser_smp": AFTERCARE_LASER + " After the SMP sessions: " + AFTERCARE_SMP,
    "laser_only": AFTERCARE_LASER,
    "saline": "Let the scabs fall off on their own (about 2 weeks). " + AFTERCARE_SMP,
    "colour": AFTERCARE_SMP,
    "scar": AFTERCARE_SMP,
    "density": AFTERCARE_SMP,
}
CONSENT_BODY = {
    ConsentKind.LASER_TREATMENT: (
        "Laser treatment consent",
        "I understand that laser treatment lightens pigment over several sessions at least 6 weeks apart and "
        "may not remove it completely. Risks include redness, swelling, blistering, crusting, pigment change "
        "(lighter or darker skin), paradoxical darkening of some pigments, infection, scarring and damage to "
        "hair follicles. I have told the clinic about my medicines (including isotretinoin), pregnancy, "
        "infections and history of keloid scarring.",
    ),
    ConsentKind.SMP_CORRECTION: (
        "SMP correction consent",
        "I understand that scalp micropigmentation deposits pigment in the upper skin, usually over 2–3 "
        "sessions, that results vary and fade over years, and that I must follow the aftercare.",
    ),
    ConsentKind.PHOTO_CLINICAL: (
        "Clinical photographs",
        "I agree that the clinic takes photographs of my scalp for my clinical record. They are stored "
        "privately and seen only by the clinic team and, when shared, by me.",
    ),
    ConsentKind.PHOTO_TEACHING: (
        "Photographs for teaching and marketing",
        "I agree that photographs without my face may be used for teaching and marketing. I can withdraw "
        "this consent at any time; published material cannot be recalled.",
    ),
    ConsentKind.DATA_PROCESSING: (
        "Data processing",
        "I agree that the clinic keeps my personal and health information to provide and record my "
        "treatment, as described in the privacy notice.",
    ),
}
LASER_V2_ADDENDUM = (
    " Version 2: I understand that a small test spot may be done first and checked after 1–2 weeks, and "
    "that the clinic will not treat within 6 months of my last isotretinoin dose."
)
USER_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
)

# --------------------------------------------------------------------------------------
# Treatment shapes. A plan type decides the steps, the correction options and which
# issues it suits. Intervals follow docs/domain.md#laser-intervals: laser ≥ 6 weeks on a zone, saline 4–8
# weeks, SMP sessions 1–2 weeks apart, healing confirmed before redesign.
# --------------------------------------------------------------------------------------

LASER_PLANS = ("laser_smp", "laser_only")
PLAN_TYPES = ("laser_smp", "laser_only", "saline", "colour", "scar", "density")
PLAN_TYPE_WEIGHTS = (34, 12, 10, 10, 12, 22)
PLAN_ISSUES = {
    "laser_smp": (
        IssueKind.TOO_DARK,
        IssueKind.PIGMENT_MIGRATION,
        IssueKind.DOTS_TOO_LARGE,
        IssueKind.UNNATURAL_HAIRLINE,
        IssueKind.COLOUR_SHIFT,
        IssueKind.UNEVEN_PIGMENTATION,
    ),
    "laser_only": (IssueKind.TOO_DARK, IssueKind.PIGMENT_MIGRATION, IssueKind.COLOUR_SHIFT, IssueKind.OTHER),
    "saline": (IssueKind.DOTS_TOO_LARGE, IssueKind.UNNATURAL_HAIRLINE, IssueKind.TOO_DARK),
    "colour": (IssueKind.COLOUR_SHIFT,),
    "scar": (IssueKind.VISIBLE_SCARRING,),
    "density": (
        IssueKind.FADED,
        IssueKind.HAIR_LOSS_PROGRESSION,
        IssueKind.UNEVEN_PIGMENTATION,
        IssueKind.OTHER,
    ),
    None: tuple(IssueKind.values),
}
Z = Zone
KIND_ZONES = {
    IssueKind.UNNATURAL_HAIRLINE: (Z.FRONTAL_HAIRLINE, Z.LEFT_TEMPLE, Z.RIGHT_TEMPLE),
    IssueKind.VISIBLE_SCARRING: (Z.SCAR, Z.NAPE),
    IssueKind.HAIR_LOSS_PROGRESSION: (Z.CROWN, Z.MID_SCALP, Z.LEFT_TEMPLE, Z.RIGHT_TEMPLE),
    IssueKind.FADED: (Z.MID_SCALP, Z.CROWN, Z.FRONTAL_HAIRLINE, Z.NAPE),
    IssueKind.UNEVEN_PIGMENTATION: (Z.MID_SCALP, Z.CROWN, Z.FRONTAL_HAIRLINE, Z.LEFT_TEMPLE, Z.RIGHT_TEMPLE),
    IssueKind.COLOUR_SHIFT: (Z.FRONTAL_HAIRLINE, Z.MID_SCALP, Z.CROWN, Z.LEFT_TEMPLE, Z.RIGHT_TEMPLE),
    IssueKind.PIGMENT_MIGRATION: (Z.FRONTAL_HAIRLINE, Z.MID_SCALP, Z.CROWN),
    IssueKind.TOO_DARK: (Z.FRONTAL_HAIRLINE, Z.MID_SCALP, Z.CROWN, Z.LEFT_TEMPLE, Z.RIGHT_TEMPLE),
    IssueKind.DOTS_TOO_LARGE: (Z.FRONTAL_HAIRLINE, Z.LEFT_TEMPLE, Z.RIGHT_TEMPLE, Z.MID_SCALP),
    IssueKind.OTHER: (Z.NAPE, Z.MID_SCALP, Z.CROWN, Z.FRONTAL_HAIRLINE),
}
SMP_KINDS = (CorrectionKind.HAIRLINE_REDESIGN, CorrectionKind.DENSITY_ADJUSTMENT, CorrectionKind.SMP_CORRECTION)
SESSION_KIND = {  # skeleton session code -> CorrectionKind (laser is its own model)
    "saline": CorrectionKind.SALINE_REMOVAL,
    "colour": CorrectionKind.COLOUR_CORRECTION,
    "scar": CorrectionKind.SCAR_CAMOUFLAGE,
    "density": CorrectionKind.DENSITY_ADJUSTMENT,
}
STEP_TEXT = {
    PlanStepKind.LASER_SESSION: "Laser session, 1064 nm",
    PlanStepKind.SALINE_SESSION: "Saline removal, small area",
    PlanStepKind.HEALING_CHECK: "Confirm healing before the next stage",
    PlanStepKind.SMP_SESSION: "SMP session",
    PlanStepKind.COLOUR_CORRECTION: "Colour correction",
    PlanStepKind.SCAR_CAMOUFLAGE: "Scar camouflage",
    PlanStepKind.REVIEW: "Review and satisfaction check",
}

# Choices' `.values` builds a new list on every call: read them once.
FITZPATRICK = tuple(Fitzpatrick.values)
NORWOOD = tuple(NorwoodStage.values)
REGRET_REASONS = tuple(RegretReasonChoice.values)
ISSUE_KINDS = tuple(IssueKind.values)
OUTCOMES = tuple(Outcome.values)
RESPONSES = tuple(ImmediateResponse.values)
KD_COLOUR = tuple(kirby_desai.ColourPoints.values)
KD_INK = tuple(kirby_desai.InkAmountPoints.values)
KD_SCARRING = tuple(kirby_desai.ScarringPoints.values)

PLAN_OPTIONS = {
    "laser_smp": [CorrectionOptionChoice.LASER_REMOVAL],  # plus the option of the SMP step
    "laser_only": [CorrectionOptionChoice.LASER_REMOVAL],
    "saline": [CorrectionOptionChoice.SALINE_REMOVAL, CorrectionOptionChoice.HAIRLINE_REDESIGN],
    "colour": [CorrectionOptionChoice.COLOUR_CORRECTION],
    "scar": [CorrectionOptionChoice.SCAR_CAMOUFLAGE],
    "density": [CorrectionOptionChoice.DENSITY_ADJUSTMENT],
}
SMP_OPTION = {
    CorrectionKind.HAIRLINE_REDESIGN: CorrectionOptionChoice.HAIRLINE_REDESIGN,
    CorrectionKind.DENSITY_ADJUSTMENT: CorrectionOptionChoice.DENSITY_ADJUSTMENT,
    CorrectionKind.SMP_CORRECTION: CorrectionOptionChoice.DENSITY_ADJUSTMENT,
}
PLAN_STATUS = {
    "draft": PlanStatus.DRAFT,
    "proposed": PlanStatus.PROPOSED,
    "approved": PlanStatus.PROPOSED,  # approved by a manager, awaiting the client
    "accepted": PlanStatus.ACCEPTED,
    "in_progress": PlanStatus.IN_PROGRESS,
    "completed": PlanStatus.COMPLETED,
}
STEP_STATUS = {"done": StepStatus.DONE, "skipped": StepStatus.SKIPPED, "cancelled": StepStatus.SKIPPED}
SESSION_STATUS = {
    "done": SessionStatus.COMPLETED,
    "booked": SessionStatus.SCHEDULED,
    "cancelled": SessionStatus.CANCELLED,
    "missed": SessionStatus.NOT_ATTENDED,
}
# A client who missed a booked laser session: it was booked this many days after the
# session before (over the 6 weeks between sessions on a zone), and booked again this many
# days from today.
MISSED_AFTER, REBOOKED_IN = 43, 7
COMPLICATIONS = [a for a in AdverseEventChoice.values if a not in AdverseEventChoice.expected()]
HEALING_NOTES = {
    Healing.AS_EXPECTED: "Healed well; no crusts left.",
    Healing.DELAYED: "Some crusting still present; check again at the next visit.",
    Healing.COMPLICATION: "Complication documented with photos; manager informed.",
}
SATISFACTION_BY_OUTCOME = {
    Outcome.RESOLVED: (4, 5, 5),
    Outcome.IMPROVED: (3, 4, 4, 5),
    Outcome.PARTIAL: (2, 3, 3, 4),
    Outcome.UNCHANGED: (1, 2, 2, 3),
    Outcome.WORSE: (1, 1, 2),
}
INITIAL_CONCERNS = (
    "Feels the SMP looks painted on; avoids close contact.",
    "Hairline looks drawn on; people notice it.",
    "Dots have blurred together and look like a helmet.",
    "The old SMP no longer matches the hair-loss pattern.",
    "Blue tinge visible in daylight.",
)

# Three years of history: most cases are finished, the open ones are recent.
STATUS_WEIGHTS = {
    CaseStatus.CONSULTATION: 5,
    CaseStatus.ASSESSMENT: 6,
    CaseStatus.PLANNING: 9,
    CaseStatus.IN_TREATMENT: 22,
    CaseStatus.FOLLOW_UP: 13,
    CaseStatus.CLOSED: 35,
    CaseStatus.WITHDRAWN: 10,
}

# The first clients are laid out by hand, so that even an 18-client demo shows every
# status, plan stage, session kind and follow-up state; the rest are random.
CS = CaseStatus
FORCED: tuple[dict, ...] = (
    # The demo client: mid-way through laser, next session booked, post-laser check due.
    {
        "status": CS.IN_TREATMENT,
        "plan": "laser_smp",
        "n_laser": 3,
        "done": 2,
        "last_done": -9,
        "demo": True,
        "photos": True,
    },
    {"status": CS.CONSULTATION, "flag": "isotretinoin"},
    {"status": CS.ASSESSMENT, "flag": "active_infection", "photos": True},
    {"status": CS.PLANNING, "plan": "laser_smp", "stage": "draft", "test_spot": True},
    {"status": CS.PLANNING, "plan": "saline", "stage": "proposed", "flag": "pregnancy"},
    {"status": CS.PLANNING, "plan": "laser_only", "stage": "approved", "revision": True},
    {"status": CS.IN_TREATMENT, "plan": "density", "done": 0},
    {"status": CS.FOLLOW_UP, "plan": "laser_smp", "last_session": -20, "smp": "hairline_redesign", "photos": True},
    {"status": CS.CLOSED, "plan": "saline", "photos": True, "teaching": True},
    {"status": CS.CLOSED, "plan": "colour"},
    {"status": CS.FOLLOW_UP, "plan": "scar", "flag": "keloid", "photos": True, "last_session": -40},
    {"status": CS.WITHDRAWN, "plan": "laser_only", "withdraw": "mid", "n_laser": 3},
    {"status": CS.IN_TREATMENT, "plan": "laser_smp", "done": 1, "last_done": -25, "photos": True},
    {"status": CS.CLOSED, "plan": "laser_smp", "smp": "smp_correction", "photos": True, "test_spot": True},
    {"status": CS.WITHDRAWN, "withdraw": "pre"},
    {"status": CS.IN_TREATMENT, "plan": "scar", "done": 1, "revision": True},
    # Post-laser checks due in the last few weeks: the follow-up review queue.
    {"status": CS.IN_TREATMENT, "plan": "laser_only", "n_laser": 3, "done": 1, "last_done": -30},
    {"status": CS.IN_TREATMENT, "plan": "laser_smp", "n_laser": 3, "done": 2, "last_done": -35},
    # Did not come to the second laser session two weeks ago; booked again for next week.
    {"status": CS.IN_TREATMENT, "plan": "laser_only", "n_laser": 3, "done": 1, "last_done": -60, "no_show": True},
)


# --------------------------------------------------------------------------------------
# Small helpers.
# --------------------------------------------------------------------------------------


def weighted(rng: random.Random, options: dict):
    return rng.choices(list(options), weights=list(options.values()))[0]


class Coverage:
    """Picks each option once before picking by weight, so small demos show everything.

    Only used in the second pass, in a fixed order, so it stays deterministic.
    """

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.seen: dict[str, set] = defaultdict(set)

    def pick(self, key: str, options: Iterable, weights: Iterable[float] | None = None):
        options = list(options)
        seen = self.seen[key]
        for option in options:
            if option not in seen:
                seen.add(option)
                return option
        return self.rng.choices(options, weights=list(weights) if weights is not None else None)[0]


def ascii_slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


# --------------------------------------------------------------------------------------
# Pass one: a case's timeline, from the client's own random generator only.
# --------------------------------------------------------------------------------------


@dataclass
class Step:
    kind: str  # PlanStepKind
    session: str | None  # "laser", "smp", "saline", "colour", "scar", "density" or None
    s: int  # days after treatment start
    gap: int | None
    day: int = 0  # offset from today, once placed
    state: str = "planned"  # done, booked, planned, skipped, cancelled


@dataclass
class Skeleton:
    status: str
    plan_type: str | None
    forced: dict
    stage: str | None = None  # draft, proposed, approved, accepted, in_progress, completed, cancelled
    revision: bool = False
    opened: int = 0
    issues_day: int | None = None
    review_day: int | None = None
    test_spot_day: int | None = None
    prelaser_day: int | None = None
    v1_submit: int | None = None
    v1_approve: int | None = None
    submit_day: int | None = None
    approve_day: int | None = None
    accept_day: int | None = None
    steps: list[Step] = field(default_factory=list)
    closed: int | None = None  # closed_on, or the day a withdrawn case stopped
    withdraw: str | None = None  # "pre" or "mid"

    @property
    def laser(self) -> bool:
        return self.plan_type in LASER_PLANS


def treatment_steps(rng: random.Random, plan_type: str, n_laser: int | None = None) -> list[Step]:
    steps: list[Step] = []

    def add(kind: str, session: str | None, gap: int) -> None:
        s = steps[-1].s + gap if steps else 0
        steps.append(Step(kind, session, s, gap if steps else None))

    K = PlanStepKind
    if plan_type in LASER_PLANS:
        # 43 days or more: at least 6 weeks apart whatever the times of day (and DST).
        n = n_laser or rng.choices((1, 2, 3, 4), weights=(10, 35, 40, 15))[0]
        for _ in range(n):
            add(K.LASER_SESSION, "laser", rng.randint(43, 63))
        if plan_type == "laser_smp":
            add(K.HEALING_CHECK, None, rng.randint(14, 21))
            add(K.SMP_SESSION, "smp", rng.randint(42, 70))
            if rng.random() < 0.4:
                add(K.SMP_SESSION, "smp", rng.randint(10, 14))
    elif plan_type == "saline":
        for _ in range(rng.randint(2, 4)):
            add(K.SALINE_SESSION, "saline", rng.randint(35, 56))
        add(K.HEALING_CHECK, None, rng.randint(14, 21))
        add(K.SMP_SESSION, "smp", rng.randint(42, 70))
    elif plan_type == "colour":
        for _ in range(rng.randint(1, 2)):
            add(K.COLOUR_CORRECTION, "colour", rng.randint(28, 42))
    elif plan_type == "scar":
        for _ in range(rng.randint(2, 3)):
            add(K.SCAR_CAMOUFLAGE, "scar", rng.randint(21, 35))
    else:  # density
        for _ in range(rng.randint(2, 3)):
            add(K.SMP_SESSION, "density", rng.randint(10, 14))
    add(K.REVIEW, None, rng.randint(42, 56))
    return steps


def build_skeleton(rng: random.Random, forced: dict | None) -> Skeleton:
    """One case's status and timeline, in day offsets from today (negative = past)."""
    forced = forced or {}
    status = forced.get("status") or weighted(rng, STATUS_WEIGHTS)
    withdraw = None
    if status == CS.WITHDRAWN:
        withdraw = forced.get("withdraw") or rng.choice(("pre", "mid"))
    no_plan_yet = withdraw == "pre" and "plan" not in forced and rng.random() < 0.4
    if status in (CS.CONSULTATION, CS.ASSESSMENT) or no_plan_yet:
        plan_type = None
    else:
        plan_type = forced.get("plan") or rng.choices(PLAN_TYPES, weights=PLAN_TYPE_WEIGHTS)[0]
    sk = Skeleton(status=status, plan_type=plan_type, forced=forced, withdraw=withdraw)

    # Relative days (0 = opened): initial consultation, assessment, review, plan.
    r_issues = rng.randint(0, 3)
    r_review = r_issues + rng.randint(7, 21)
    test_spot = sk.laser and forced.get("test_spot", rng.random() < 0.33)
    r_ts = r_review + rng.randint(0, 3) if test_spot else None
    revision = plan_type is not None and forced.get("revision", rng.random() < 0.1)
    r_draft = r_review
    r_submit = r_review + rng.randint(1, 5)
    r_approve = r_submit + rng.randint(1, 4)
    v1 = None
    if revision:
        v1 = (r_submit, r_approve)
        r_revise = r_approve + rng.randint(2, 7)
        r_draft = r_revise
        r_submit = r_revise + rng.randint(1, 3)
        r_approve = r_submit + rng.randint(1, 3)
    r_accept = r_approve + rng.randint(1, 10)
    r_prelaser = r_ts if test_spot else (r_accept + rng.randint(0, 7) if sk.laser else None)
    r_start = r_accept + rng.randint(7, 21)
    if sk.laser:
        r_start = max(r_start, r_prelaser + 1)
    if test_spot:
        r_start = max(r_start, r_ts + rng.randint(43, 56))
    steps = treatment_steps(rng, plan_type, forced.get("n_laser")) if plan_type else []
    sessions = [i for i, step in enumerate(steps) if step.session]

    # Which events have happened, and where "today" falls.
    happened = {"issues": True, "review": True, "prelaser": False}
    stage = None
    if status == CS.CONSULTATION:
        happened.update(issues=False, review=False)
        opened = -rng.randint(1, 20)
    elif status == CS.ASSESSMENT:
        happened.update(review=False)
        opened = -(r_issues + rng.randint(2, 35))
    elif status == CS.PLANNING:
        stage = forced.get("stage") or rng.choices(("draft", "proposed", "approved"), weights=(35, 30, 35))[0]
        last = {"draft": r_draft, "proposed": r_submit, "approved": r_approve}[stage]
        if test_spot:
            happened["prelaser"] = True
            last = max(last, r_ts)
        opened = -(last + rng.randint(1, 14))
        start = rng.randint(14, 35)
        for step in steps:
            step.day = start + step.s
    elif status == CS.IN_TREATMENT:
        happened["prelaser"] = sk.laser
        k = forced["done"] if "done" in forced else rng.randint(0, len(sessions) - 1)
        anchor = sessions[k]
        if "last_done" in forced:
            x = forced["last_done"] + steps[anchor].s - steps[sessions[k - 1]].s
        else:
            prev_gap = steps[anchor].s - steps[anchor - 1].s if anchor else r_start - max(r_accept, r_prelaser or 0)
            x = rng.randint(2, max(2, min(40, prev_gap - 1)))
        opened = x - (r_start + steps[anchor].s)
        for i, step in enumerate(steps):
            step.state = "done" if i < anchor else ("booked" if i == anchor else "planned")
        stage = "accepted" if k == 0 else "in_progress"
    elif status in (CS.FOLLOW_UP, CS.CLOSED):
        happened["prelaser"] = sk.laser
        last = sessions[-1]
        if status == CS.FOLLOW_UP:
            last_day = forced.get("last_session") or -rng.randint(14, 150)
        else:  # as far back as the case's own timeline allows within the window
            last_day = -rng.randint(120, max(120, OLDEST_CASE_DAYS - (r_start + steps[last].s)))
        opened = last_day - (r_start + steps[last].s)
        laser_steps = [i for i in sessions if steps[i].session == "laser"]
        skip = None
        if plan_type == "laser_smp" and len(laser_steps) >= 3 and rng.random() < 0.15:
            skip = laser_steps[-1]  # clearance good enough: last laser session not needed
        for i, step in enumerate(steps):
            step.state = "skipped" if i == skip else ("done" if opened + r_start + step.s <= -1 else "planned")
        stage = "completed"
        if status == CS.CLOSED:
            sk.closed = opened + r_start + steps[-1].s + rng.randint(3, 30)
    else:  # withdrawn
        if withdraw == "mid" and len(sessions) >= 2:
            happened["prelaser"] = sk.laser
            k = rng.randint(1, len(sessions) - 1)
            anchor = sessions[k]
            stop = r_start + steps[anchor].s - rng.randint(1, 7)
            w_day = -rng.randint(1, max(1, OLDEST_CASE_DAYS - stop))
            opened = w_day - stop
            for i, step in enumerate(steps):
                step.state = "done" if i < anchor else ("cancelled" if i == anchor else "skipped")
            stage = "cancelled"
        else:
            withdraw = sk.withdraw = "pre"
            if plan_type is None:
                last = r_issues
                happened["review"] = False
                test_spot = False
            else:
                stage_pre = rng.choice(("draft", "proposed"))
                last = r_draft if stage_pre == "draft" else r_submit
                if test_spot:
                    happened["prelaser"] = True
                    last = max(last, r_ts)
                stage = "cancelled_" + stage_pre
            stop = last + rng.randint(5, 30)
            w_day = -rng.randint(1, max(1, OLDEST_CASE_DAYS - stop))
            opened = w_day - stop
            for step in steps:
                step.state = "skipped"
                step.day = opened + stop + 21 + step.s
        sk.closed = w_day

    sk.opened = opened
    if status != CS.PLANNING and withdraw != "pre":
        for step in steps:
            step.day = opened + r_start + step.s
    sk.steps = steps
    sk.stage = stage
    sk.revision = revision
    sk.issues_day = opened + r_issues if happened["issues"] else None
    sk.review_day = opened + r_review if happened["review"] else None
    sk.test_spot_day = opened + r_ts if test_spot else None
    sk.prelaser_day = opened + r_prelaser if happened["prelaser"] else None
    if plan_type:
        if v1:
            sk.v1_submit, sk.v1_approve = opened + v1[0], opened + v1[1]
        agreed = stage in ("accepted", "in_progress", "completed") or withdraw == "mid"
        if stage in ("proposed", "approved", "cancelled_proposed") or agreed:
            sk.submit_day = opened + r_submit
        if stage == "approved" or agreed:
            sk.approve_day = opened + r_approve
        if agreed:
            sk.accept_day = opened + r_accept
    if not -OLDEST_CASE_DAYS <= opened <= -1:
        raise AssertionError(f"case opened {opened} days from today")
    return sk


def client_skeletons(rng: random.Random, forced: dict | None) -> list[Skeleton]:
    """A client's cases, oldest first: usually one, sometimes an earlier closed one."""
    main = build_skeleton(rng, forced)
    cases = [main]
    if (
        forced is None
        and main.status in (CS.ASSESSMENT, CS.PLANNING, CS.IN_TREATMENT)
        and main.opened >= -400
        and rng.random() < 0.05
    ):
        old = build_skeleton(rng, {"status": CS.CLOSED, "plan": rng.choice(("density", "colour"))})
        shift = (main.opened - rng.randint(30, 150)) - old.closed
        if old.opened + shift >= -OLDEST_CASE_DAYS:
            _shift(old, shift)
            cases.insert(0, old)
    return cases


def _shift(sk: Skeleton, days: int) -> None:
    for name in (
        "opened",
        "issues_day",
        "review_day",
        "test_spot_day",
        "prelaser_day",
        "v1_submit",
        "v1_approve",
        "submit_day",
        "approve_day",
        "accept_day",
        "closed",
    ):
        value = getattr(sk, name)
        if value is not None:
            setattr(sk, name, value + days)
    for step in sk.steps:
        step.day += days


# --------------------------------------------------------------------------------------
# Pass two: rows.
# --------------------------------------------------------------------------------------


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


_STR_TYPES = {"CharField", "TextField", "SlugField"}
_INT_TYPES = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
    "ForeignKey",
    "OneToOneField",
}


def _as_str(value):
    return value if value.__class__ is str else str(value)  # TextChoices members -> their value


def _as_int(value):
    return value if value.__class__ is int else int(value)


def _memoised(field_: models.Field, connection) -> Callable:
    cache: dict = {}

    def convert(value):
        try:
            return cache[value]
        except KeyError:
            converted = cache[value] = field_.get_db_prep_save(value, connection)
            return converted

    return convert


class Table:
    """How to build and write rows of one model quickly.

    `bulk_create` spends most of its time preparing each value of each row (about
    140 µs a row on a slow machine); at three million rows that is minutes. Here rows
    are real model instances built through `Model.__init__`'s positional fast path,
    with primary keys allocated up front so children carry their parents' ids, and
    written with `executemany`. Only the columns that need it go through Django's own
    `get_db_prep_save` (dates, datetimes, UUIDs, decimals, IP addresses).
    """

    def __init__(self, model: type[models.Model], now: datetime.datetime, connection) -> None:
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.template: list = []
        self.index: dict[str, tuple[int, bool]] = {}
        self.uuid_at: list[int] = []
        self.convert: list[tuple[int, Callable]] = []
        for i, f in enumerate(self.fields):
            self.index[f.attname] = (i, False)
            self.index[f.name] = (i, f.is_relation)
            if f.primary_key:
                self.pk_at = i
                value = None
            elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = now
            elif isinstance(f, models.UUIDField):
                self.uuid_at.append(i)
                value = None
            else:
                value = f.get_default()  # callable defaults: once per run, e.g. today
            self.template.append(value)
            kind = f.get_internal_type()
            if kind in _STR_TYPES:
                self.convert.append((i, _as_str))
            elif kind in _INT_TYPES:
                self.convert.append((i, _as_int))
            elif kind in ("DateTimeField", "DateField"):
                self.convert.append((i, _memoised(f, connection)))  # few distinct values: "now", slots, days
            elif kind != "BooleanField":
                self.convert.append((i, lambda value, f=f: f.get_db_prep_save(value, connection)))
        self.attnames = [f.attname for f in self.fields]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in self.fields)
        placeholders = ", ".join(["%s"] * len(self.fields))
        self.sql = f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) VALUES ({placeholders})"  # nosec B608  # names from model meta, quoted; values are parameters

    def build(self, pk: int, values: dict) -> models.Model:
        args = self.template.copy()
        for name, value in values.items():
            i, related = self.index[name]
            args[i] = value.pk if related and value is not None else value
        args[self.pk_at] = pk
        for i in self.uuid_at:
            args[i] = uuid.uuid4()
        return self.model(*args)

    def rows(self, objs: list[models.Model]) -> list[list]:
        attnames = self.attnames
        rows = [[obj.__dict__[name] for name in attnames] for obj in objs]
        for i, convert in self.convert:
            for row in rows:
                if row[i] is not None:
                    row[i] = convert(row[i])
        return rows


class Rows:
    """Rows of one chunk of clients: created with their ids, written table by table."""

    ORDER = (
        Client,
        Case,
        Issue,
        Consultation,
        TreatmentPlan,
        PlanStep,
        LaserSession,
        CorrectionSession,
        FollowUp,
        Consent,
    )

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self.objs: dict[type[models.Model], list[models.Model]] = defaultdict(list)
        self.links: dict[models.ManyToManyField, list[tuple[int, int]]] = defaultdict(list)
        self.photo_jobs: list[Callable[[], list[Photo]]] = []

    def new(self, model: type[models.Model], **values) -> models.Model:
        """A model instance with its primary key already allocated (foreign keys by object)."""
        obj = self.writer.table(model).build(self.writer.allocate(model), values)
        self.objs[model].append(obj)
        return obj

    def link(self, field_: models.ManyToManyField, obj: models.Model, target_ids: Iterable[int]) -> None:
        self.links[field_].extend((obj.pk, target) for target in target_ids)

    def insert(self, counts: Counter) -> None:
        for model in self.ORDER:
            objs = self.objs.get(model)
            if objs:
                table = self.writer.table(model)
                self.writer.execute(table.sql, table.rows(objs))
                counts[model.__name__] += len(objs)
        for m2m, pairs in self.links.items():
            if pairs:
                self.writer.execute(self.writer.through_sql(m2m), pairs)
                counts[f"{m2m.model.__name__}.{m2m.name}"] += len(pairs)


class Writer:
    """Allocates primary keys and runs the INSERTs; resets sequences at the end.

    Keys continue after the highest one in each table, read inside the seeding
    transaction (SQLite's write lock keeps other writers out; on PostgreSQL the demo is
    meant for an otherwise idle database). Afterwards the sequences are moved past the
    new rows, as `loaddata` does.
    """

    def __init__(self, now: datetime.datetime) -> None:
        self.connection = connections[DEFAULT_DB_ALIAS]
        self.now = now
        self.tables: dict[type[models.Model], Table] = {}
        self.next_pk: dict[type[models.Model], int] = {}
        self.through: dict[models.ManyToManyField, str] = {}

    def table(self, model: type[models.Model]) -> Table:
        table = self.tables.get(model)
        if table is None:
            table = self.tables[model] = Table(model, self.now, self.connection)
        return table

    def allocate(self, model: type[models.Model]) -> int:
        pk = self.next_pk.get(model)
        if pk is None:
            pk = (model.objects.aggregate(last=models.Max("pk"))["last"] or 0) + 1
        self.next_pk[model] = pk + 1
        return pk

    def through_sql(self, m2m: models.ManyToManyField) -> str:
        sql = self.through.get(m2m)
        if sql is None:
            through = m2m.remote_field.through._meta
            quote = self.connection.ops.quote_name
            source = quote(through.get_field(m2m.m2m_field_name()).column)
            target = quote(through.get_field(m2m.m2m_reverse_field_name()).column)
            sql = self.through[m2m] = f"INSERT INTO {quote(through.db_table)} ({source}, {target}) VALUES (%s, %s)"  # nosec B608  # names from model meta, quoted; values are parameters
        return sql

    def execute(self, sql: str, rows: list) -> None:
        with self.connection.cursor() as cursor:
            for start in range(0, len(rows), BATCH):
                cursor.executemany(sql, rows[start : start + BATCH])

    def reset_sequences(self) -> None:
        statements = self.connection.ops.sequence_reset_sql(no_style(), list(self.tables))
        with self.connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


M2M = {
    "regret": Case._meta.get_field("regret_reasons"),
    "options": TreatmentPlan._meta.get_field("options"),
    "step_zones": PlanStep._meta.get_field("zones"),
    "laser_zones": LaserSession._meta.get_field("zones"),
    "adverse": LaserSession._meta.get_field("adverse_events"),
    "correction_zones": CorrectionSession._meta.get_field("zones"),
    "side_effects": FollowUp._meta.get_field("side_effects"),
}


class Generator:
    """Second pass: turns each client's timeline into rows, with the details."""

    def __init__(self, clinic: Clinic, master: random.Random) -> None:
        self.clinic = clinic
        self.cover = Coverage(random.Random(master.getrandbits(64)))  # nosec B311  # reproducible demo data, not a secret
        self._dates: dict[int, datetime.date] = {}

    # -- time -----------------------------------------------------------------------

    def date(self, offset: int) -> datetime.date:
        day = self._dates.get(offset)
        if day is None:
            day = self._dates[offset] = self.clinic.today + datetime.timedelta(days=offset)
        return day

    def at(self, offset: int, rng: random.Random, first_hour: int = 9, last_hour: int = 16) -> datetime.datetime:
        """A clinic-hours time on a day (half-hour slots, the clinic's time zone)."""
        hour = rng.randint(first_hour, last_hour)
        minute = rng.choice((0, 30))
        return datetime.datetime.combine(self.date(offset), datetime.time(hour, minute), tzinfo=self.clinic.tz)

    # -- people ---------------------------------------------------------------------

    def user(self, key: str) -> User:
        return self.clinic.users[key]

    def technician(self, day: int, rng: random.Random) -> str:
        """A technician whose laser-safety certification is valid on the day (docs/domain.md#safety-rules)."""
        valid = [
            (key, weight)
            for key, weight in TECHNICIAN_WEIGHTS.items()
            if self.clinic.laser_valid[key][0] <= day <= self.clinic.laser_valid[key][1]
        ]
        return rng.choices([k for k, _ in valid], weights=[w for _, w in valid])[0]

    # -- one client -----------------------------------------------------------------

    def client(self, rows: Rows, index: int, seed: int, references: list[str]) -> None:
        rng = random.Random(seed)  # nosec B311  # reproducible demo data, not a secret
        forced = FORCED[index] if index < len(FORCED) else None
        skeletons = client_skeletons(rng, forced)
        forced = forced or {}
        demo = forced.get("demo", False)
        has_laser = any(sk.laser and (sk.test_spot_day is not None or _any_session(sk, "laser")) for sk in skeletons)

        female = forced.get("flag") == "pregnancy" or rng.random() < 0.12
        first = rng.choice(FEMALE_FIRST if female else MALE_FIRST)
        last = rng.choice(LAST)
        age = rng.randint(22, 68)
        dob = self.clinic.today - datetime.timedelta(days=age * 365 + rng.randint(0, 364))
        town, postcode = rng.choice(TOWNS)
        client = rows.new(
            Client,
            first_name=first,
            last_name=last,
            date_of_birth=dob,
            email=f"{ascii_slug(first)}.{ascii_slug(last)}.{index + 1}@example.com",
            phone=f"07700 9{index % 100000:05d}",
            address=(
                f"{rng.randint(1, 180)} {rng.choice(STREETS)}\n{town} {postcode}{rng.randint(1, 28)} "
                f"{rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
            ),
            reminders_opt_in=demo or rng.random() < 0.6,
            fitzpatrick_type=rng.choices(FITZPATRICK, weights=(8, 20, 28, 20, 14, 10))[0],
            norwood_stage="" if female else rng.choices(NORWOOD, weights=(2, 4, 4, 8, 6, 8, 12, 10, 14, 10, 12, 10))[0],
        )
        if demo:
            user = self.clinic.client_user
            user.first_name, user.last_name, user.email = client.first_name, client.last_name, client.email
            user.save(update_fields=["first_name", "last_name", "email"])
            client.user = user
            client.reminders_opt_in = True
            self.clinic.demo_client_name = client.full_name
        self._contraindications(client, rng, forced, has_laser, female, skeletons[0].opened, demo)

        signatures: list[tuple[str, int, bool]] = []  # (consent kind, day, signed online)
        for number, sk in enumerate(skeletons):
            self.case(rows, rng, client, sk, references[number], signatures, demo)
        self._client_consents(rows, rng, client, skeletons, signatures, forced, demo)

    def _contraindications(self, client, rng, forced, has_laser, female, first_opened, demo) -> None:
        flag = forced.get("flag")
        if demo:
            return
        if not has_laser:
            # Laser contraindications only where no laser work has been done or booked.
            if flag == "isotretinoin" or rng.random() < 0.05:
                client.isotretinoin_last_dose = self.date(-rng.randint(20, 170))
                client.medications = "Isotretinoin 20 mg daily (stopped recently)"
            if flag == "active_infection" or rng.random() < 0.02:
                client.active_infection = True
                client.internal_notes = "Folliculitis on the crown at assessment; laser deferred."
            if female and (flag == "pregnancy" or rng.random() < 0.15):
                client.pregnant_or_breastfeeding = True
            if rng.random() < 0.03:
                client.photosensitising_medication = True
                client.medications = rng.choice(PHOTOSENSITISING)
            if rng.random() < 0.03:
                client.recent_sunburn_or_tan = True
            if rng.random() < 0.01:
                client.immunosuppression_last = self.date(-rng.randint(30, 400))
            if rng.random() < 0.005:
                client.gold_therapy = True
            if rng.random() < 0.01:
                client.open_wounds = True
        elif rng.random() < 0.04:
            # Isotretinoin long before the case: outside the washout for every session.
            client.isotretinoin_last_dose = self.date(first_opened - rng.randint(200, 700))
        if flag == "keloid" or rng.random() < 0.04:
            client.keloid_history = True
        if rng.random() < 0.01:
            client.ink_allergy = True
        if rng.random() < 0.1:
            client.allergies = rng.choice(ALLERGIES)
        if not client.medications and rng.random() < 0.25:
            client.medications = rng.choice(MEDICATIONS)

    # -- one case -------------------------------------------------------------------

    def case(self, rows: Rows, rng, client: Client, sk: Skeleton, reference: str, consents: list, demo: bool) -> None:
        clinic = self.clinic
        lead_key = rng.choices([k for k, _ in LEAD_ARTISTS], weights=[w for _, w in LEAD_ARTISTS])[0]
        lead_user = self.user(lead_key)
        studio = rng.choice(clinic.studios) if rng.random() < 0.85 else None
        original_artist = None
        if studio is not None and rng.random() < 0.75:
            original_artist = rng.choice(clinic.externals[studio.pk])
        how_many = rng.choices((1, 2, 3), weights=(55, 35, 10))[0]
        reasons = sorted(set(rng.choices(REGRET_REASONS, weights=(25, 45, 30, 15), k=how_many)))
        case = rows.new(
            Case,
            reference=reference,
            client=client,
            status=sk.status,
            opened_on=self.date(sk.opened),
            lead_artist=clinic.artists[lead_key],
            goal=rng.choice(GOALS[sk.plan_type]),
            regret_notes=" ".join(REGRET_NOTES[r] for r in reasons),
            original_studio=studio,
            original_artist=original_artist,
            original_date=self.date(sk.opened - rng.randint(180, 3000)) if rng.random() < 0.9 else None,
            original_sessions=rng.choices((1, 2, 3, 4, 5, 6), weights=(5, 20, 45, 20, 7, 3))[0],
            original_pigment=rng.choice(PIGMENTS),
        )
        if demo:
            clinic.demo_reference = reference
        rows.link(M2M["regret"], case, [clinic.regret_ids[r] for r in reasons])

        # Issues, and the zones the treatment targets (the main issue's, perhaps one more).
        issues: list[Issue] = []
        zones: list[str] = []
        if sk.issues_day is not None:
            for n in range(rng.choices((1, 2, 3), weights=(45, 40, 15))[0]):
                kind = self.cover.pick("issue_kind", PLAN_ISSUES[sk.plan_type] if n == 0 else ISSUE_KINDS)
                zone = self.cover.pick("zone", KIND_ZONES[kind])
                if n == 0 or (sk.plan_type != "scar" and zone not in zones and len(zones) < 2 and rng.random() < 0.5):
                    zones.append(zone)
                issue = rows.new(
                    Issue,
                    case=case,
                    kind=kind,
                    zone=zone,
                    severity=rng.choices((1, 2, 3, 4, 5), weights=(8, 22, 35, 25, 10))[0],
                    description=ISSUE_TEXT[kind],
                    identified_on=self.date(sk.issues_day),
                )
                if sk.status == CS.CLOSED and rng.random() < 0.7:
                    issue.resolved_on = self.date(sk.closed)
                issues.append(issue)
        zones = zones or [Zone.FRONTAL_HAIRLINE]
        ctx = _CaseContext(
            case=case,
            sk=sk,
            client=client,
            lead_key=lead_key,
            zone_ids=[clinic.zone_ids[z] for z in zones],
            demo=demo,
            primary=issues[0].kind if issues else None,
        )

        # Consultations, expectations, closing.
        self._consultation(rows, rng, ctx, sk.opened, ConsultationKind.INITIAL, lead_user)
        if sk.review_day is not None:
            self._consultation(rows, rng, ctx, sk.review_day, ConsultationKind.REVIEW, lead_user)
            case.expectations_discussed_on = self.date(sk.review_day)
            case.expectations_discussed_by = lead_user
            case.expectations_agreed = EXPECTATIONS.get(sk.plan_type, EXPECTATIONS["laser_smp"])
        if sk.status == CS.CLOSED:
            case.outcome = rng.choices(OUTCOMES, weights=(35, 35, 18, 8, 4))[0]
            case.outcome_notes = OUTCOME_NOTES[case.outcome]
            case.satisfaction = rng.choice(SATISFACTION_BY_OUTCOME[case.outcome])
            case.closed_on = self.date(sk.closed)
            self._consultation(rows, rng, ctx, sk.closed, ConsultationKind.REVIEW, lead_user, closing=True)
        elif sk.status == CS.WITHDRAWN:
            case.withdrawn_reason = rng.choice(WITHDRAWN_REASONS)
            case.closed_on = self.date(sk.closed)

        laser_sessions: list[LaserSession] = []
        correction_sessions: list[CorrectionSession] = []
        follow_ups: list[FollowUp] = []

        # Pre-laser evaluation and laser consent (every case with laser work has one),
        # then the optional test spot with its re-check 1–2 weeks later (docs/domain.md#side-effects).
        if sk.prelaser_day is not None:
            tech = self.technician(sk.prelaser_day, rng)
            self._consultation(rows, rng, ctx, sk.prelaser_day, ConsultationKind.PRE_LASER, self.user(tech))
            consents.append((ConsentKind.LASER_TREATMENT, sk.prelaser_day, demo))
            if sk.test_spot_day is not None:
                session = self._laser_session(rows, rng, ctx, None, sk.test_spot_day, "done", 0, 1, test_spot=True)
                laser_sessions.append(session)
                due = sk.test_spot_day + rng.randint(10, 14)
                follow_ups.append(
                    self._follow_up(
                        rows, rng, ctx, FollowUpKind.TEST_SPOT_RECHECK, due, ctx.tech_of[id(session)], laser=session
                    )
                )

        if sk.plan_type:
            smp_kind = sk.forced.get("smp") or rng.choices(SMP_KINDS, weights=(40, 35, 25))[0]
            if sk.plan_type == "saline":
                smp_kind = CorrectionKind.SMP_CORRECTION
            plan = self._plans(rows, rng, ctx, smp_kind)
            # Laser sessions are numbered from the test spot (0), if any, for rising
            # fluence and clearance.
            laser_done = 1 if sk.test_spot_day is not None else 0
            laser_total = laser_done + sum(1 for s in sk.steps if s.session == "laser")
            signed_smp = False
            last_laser_day = None
            for order, step in enumerate(sk.steps, start=1):
                plan_step = self._plan_step(rows, ctx, plan, step, order, smp_kind)
                has_session = step.session is not None and step.state in ("done", "booked", "cancelled")
                if has_session and step.session == "laser":
                    day = step.day
                    if step.state == "booked" and sk.forced.get("no_show") and last_laser_day is not None:
                        missed_day = last_laser_day + MISSED_AFTER
                        if missed_day >= 0:
                            raise AssertionError(f"a missed session {missed_day} days from today")
                        laser_sessions.append(
                            self._laser_session(rows, rng, ctx, plan_step, missed_day, "missed", 0, laser_total)
                        )
                        day = max(day, REBOOKED_IN)
                    session = self._laser_session(rows, rng, ctx, plan_step, day, step.state, laser_done, laser_total)
                    last_laser_day = day
                    laser_sessions.append(session)
                    if step.state == "done":
                        laser_done += 1
                        due = step.day + rng.randint(10, 14)
                        follow_ups.append(
                            self._follow_up(
                                rows,
                                rng,
                                ctx,
                                FollowUpKind.POST_LASER_CHECK,
                                due,
                                ctx.tech_of[id(session)],
                                laser=session,
                            )
                        )
                elif has_session:
                    kind = SESSION_KIND.get(step.session, smp_kind)
                    session = self._correction_session(rows, rng, ctx, plan_step, step, kind)
                    correction_sessions.append(session)
                    if not signed_smp:
                        consents.append((ConsentKind.SMP_CORRECTION, sk.accept_day, False))
                        signed_smp = True
                    if step.state == "done" and rng.random() < 0.6:
                        due = step.day + rng.randint(7, 14)
                        follow_ups.append(
                            self._follow_up(
                                rows,
                                rng,
                                ctx,
                                FollowUpKind.HEALING_CHECK,
                                due,
                                ctx.artist_of[id(session)],
                                correction=session,
                            )
                        )
                elif step.session is None and self._step_follow_up_due(sk, step):
                    if step.kind == PlanStepKind.HEALING_CHECK:
                        kind, owner = FollowUpKind.HEALING_CHECK, lead_key
                    else:
                        kind, owner = FollowUpKind.SATISFACTION, "dana"
                    follow_ups.append(self._follow_up(rows, rng, ctx, kind, step.day, owner))
            if sk.status == CS.FOLLOW_UP:
                last = max(s.day for s in sk.steps if s.session and s.state == "done")
                due = last + rng.randint(180, 365)
                follow_ups.append(self._follow_up(rows, rng, ctx, FollowUpKind.MAINTENANCE, due, lead_key))

        if sk.forced.get("photos"):
            photo_seed = rng.getrandbits(64)
            rows.photo_jobs.append(
                lambda: self._photos(ctx, photo_seed, issues, laser_sessions + correction_sessions, follow_ups)
            )

    # -- consultations, plans, steps --------------------------------------------------

    def _consultation(self, rows, rng, ctx: _CaseContext, day, kind, user, closing=False) -> None:
        findings = ISSUE_TEXT[ctx.primary] if ctx.primary else "Old SMP reviewed; full assessment booked."
        if kind == ConsultationKind.INITIAL:
            concerns = rng.choice(INITIAL_CONCERNS)
            recommendations = "Full assessment with the standard photo set; discuss laser and non-laser options."
        elif kind == ConsultationKind.PRE_LASER:
            concerns = "Questions about pain, downtime and the number of sessions."
            findings = "Contraindications checked with the client: none active. Skin intact, no recent tan."
            recommendations = "1064 nm, low fluence; test spot first where planned, re-check in 1–2 weeks."
        elif closing:
            concerns = "End-of-treatment review."
            findings = OUTCOME_NOTES[ctx.case.outcome]
            recommendations = "SMP top-up in 2–4 years if needed; SPF 30–50 on the scalp."
        else:
            concerns = "Wants to understand the options and the likely result."
            recommendations = PLAN_SUMMARY.get(ctx.sk.plan_type, "Assessment first.")
        rows.new(
            Consultation,
            case=ctx.case,
            held_at=self.at(day, rng),
            staff=user,
            kind=kind,
            concerns=concerns,
            findings=findings,
            recommendations=recommendations,
        )

    def _plans(self, rows, rng, ctx: _CaseContext, smp_kind: str) -> TreatmentPlan:
        """The current plan, and the superseded first version when the plan was revised."""
        sk, case, client = ctx.sk, ctx.case, ctx.client
        kd: dict[str, int] = {}
        if sk.laser:
            # Kirby–Desai (2009) with the real scale; SMP is always head and neck.
            colour = (30, 10, 35, 25) if ctx.primary == IssueKind.COLOUR_SHIFT else (82, 10, 6, 2)
            scarring = (10, 40, 40, 10) if client.keloid_history else (75, 20, 5, 0)
            layered = (case.original_sessions or 0) >= 4 or rng.random() < 0.15
            scores = {
                "skin_type": kirby_desai.FITZPATRICK_POINTS[client.fitzpatrick_type],
                "location": int(kirby_desai.LocationPoints.HEAD_NECK),
                "colour": rng.choices(KD_COLOUR, weights=colour)[0],
                "ink_amount": rng.choices(KD_INK, weights=(8, 30, 42, 20))[0],
                "scarring": rng.choices(KD_SCARRING, weights=scarring)[0],
                "layering": kirby_desai.LayeringPoints.LAYERED if layered else kirby_desai.LayeringPoints.NONE,
            }
            kd = {f"kd_{name}": int(value) for name, value in scores.items()}
            kd["kd_total"] = kirby_desai.kirby_desai_score(**scores).total  # bulk_create skips save()
        sessions = sum(1 for s in sk.steps if s.session)
        extra = 600 if sk.plan_type in ("laser_smp", "saline") else 0
        price = Decimal(50 * round((sessions * rng.randint(250, 450) + extra) / 50))
        manager = self.user(rng.choice(MANAGER_KEYS))
        lead = self.user(ctx.lead_key)

        def new_plan(version: int, status: str, previous=None) -> TreatmentPlan:
            return rows.new(
                TreatmentPlan,
                case=case,
                version=version,
                previous_version=previous,
                status=status,
                summary=PLAN_SUMMARY[sk.plan_type],
                aftercare=PLAN_AFTERCARE[sk.plan_type],
                price_estimate=price + (150 if previous is None and sk.revision else 0),
                **kd,
            )

        plans = []
        previous = None
        if sk.revision:
            previous = new_plan(1, PlanStatus.SUPERSEDED)
            previous.submitted_at = self.at(sk.v1_submit, rng)
            previous.submitted_by = lead
            previous.approved_at = self.at(sk.v1_approve, rng)
            previous.approved_by = manager
            previous.review_note = "Approved."
            previous.internal_notes = "Client asked for a lower price; revised with one session fewer budgeted."
            plans.append(previous)
        status = PLAN_STATUS.get(sk.stage, PlanStatus.CANCELLED)
        current = new_plan(2 if previous else 1, status, previous)
        if sk.submit_day is not None:
            current.submitted_at = self.at(sk.submit_day, rng)
            current.submitted_by = lead
        if sk.approve_day is not None:
            current.approved_at = self.at(sk.approve_day, rng)
            current.approved_by = manager
            current.review_note = rng.choice(("Approved.", "Approved; expectations documented.", ""))
        if sk.accept_day is not None:
            current.accepted_at = self.at(sk.accept_day, rng)
            current.accepted_name = client.full_name
            if ctx.demo:  # accepted in the portal
                current.accepted_by = self.clinic.client_user
                current.accepted_ip = "203.0.113.24"
                current.accepted_user_agent = USER_AGENTS[0]
            else:
                current.accepted_by = self.user("lucy")
                current.accepted_in_clinic = True
        if status == PlanStatus.CANCELLED:
            current.internal_notes = "Cancelled: client withdrew."
        plans.append(current)
        ctx.plans = plans

        option_codes = PLAN_OPTIONS[sk.plan_type] + ([SMP_OPTION[smp_kind]] if sk.plan_type == "laser_smp" else [])
        for p in plans:
            rows.link(M2M["options"], p, [self.clinic.option_ids[code] for code in option_codes])
        return current

    def _plan_step(self, rows, ctx: _CaseContext, plan, step: Step, order: int, smp_kind: str) -> PlanStep:
        """The step in the current plan (and the same step, still planned, in a superseded one)."""
        status = STEP_STATUS.get(step.state, StepStatus.PLANNED)
        description = CorrectionKind(smp_kind).label if step.session == "smp" else STEP_TEXT[step.kind]
        result = None
        interval = max(1, round(step.gap / 7)) if step.gap else None
        for p in ctx.plans:
            # As the plan services derive it: a step with an interval is due that many weeks
            # after the previous step's actual day (its completed session's) or target date.
            base = ctx.step_base.get(id(p))
            target = base + datetime.timedelta(weeks=interval) if interval and base else self.date(step.day)
            done = p is plan and status == StepStatus.DONE and step.session is not None
            ctx.step_base[id(p)] = self.date(step.day) if done else target
            ps = rows.new(
                PlanStep,
                plan=p,
                order=order,
                kind=step.kind,
                description=description,
                interval_weeks=interval,
                target_date=target,
                status=status if p is plan else StepStatus.PLANNED,
            )
            if step.kind != PlanStepKind.REVIEW:
                rows.link(M2M["step_zones"], ps, ctx.zone_ids)
            if p is plan:
                result = ps
        return result

    def _step_follow_up_due(self, sk: Skeleton, step: Step) -> bool:
        """Healing and review steps get a follow-up once they are due within two months."""
        if sk.status == CS.PLANNING or sk.withdraw == "pre":
            return False
        if sk.status == CS.WITHDRAWN:
            return step.day <= sk.closed
        return step.day <= 60

    # -- sessions -------------------------------------------------------------------

    def _laser_session(self, rows, rng, ctx, plan_step, day, state, index, total, test_spot=False) -> LaserSession:
        client = ctx.client
        tech = self.technician(day, rng)
        if ctx.device_key is None:
            darker = client.fitzpatrick_type in Fitzpatrick.darker()
            if not darker and ctx.primary == IssueKind.COLOUR_SHIFT and rng.random() < 0.5:
                ctx.device_key = "Pico room 2"  # 755 nm for a blue-green shift, lighter skin only
            else:
                ctx.device_key = rng.choices(("Pico room 1", "Q-switch room"), weights=(70, 30))[0]
        device = self.clinic.devices[ctx.device_key]
        status = SESSION_STATUS[state]
        session = rows.new(
            LaserSession,
            case=ctx.case,
            plan_step=plan_step,
            scheduled_at=self.at(day, rng),
            status=status,
            technician=self.clinic.artists[tech],
            device=device,
            laser_type=device.laser_type,
            wavelength_nm=755 if device.laser_type == LaserType.PICO_ALEXANDRITE else 1064,
            pulse_domain=PulseDomain.NANOSECOND if device.laser_type == LaserType.QS_ND_YAG else PulseDomain.PICOSECOND,
            test_spot=test_spot,
        )
        ctx.tech_of[id(session)] = tech
        adverse: list[str] = []
        if status == SessionStatus.COMPLETED:
            adverse = self._laser_parameters(session, rng, ctx, index, total, test_spot)
        elif status == SessionStatus.CANCELLED:
            session.internal_notes = "Cancelled by the client."
        elif status == SessionStatus.NOT_ATTENDED:
            session.internal_notes = "Did not attend and did not call; booked again."
        else:
            session.notes_for_client = "Please arrive 10 minutes early; no tanning or sun on the scalp before."
        ctx.adverse_of[id(session)] = adverse
        rows.link(M2M["laser_zones"], session, ctx.zone_ids[:1] if test_spot else ctx.zone_ids)
        rows.link(M2M["adverse"], session, [self.clinic.adverse_ids[a] for a in adverse])
        return session

    def _laser_parameters(self, session, rng, ctx, index, total, test_spot) -> list[str]:
        """Parameters inside the physical limits (docs/domain.md#laser-parameters); fluence
        and clearance rise over the sessions.

        Returns the adverse events of the session.
        """
        if ctx.laser is None:  # the case's protocol: start fluence, rise per session, limits
            kind = session.laser_type
            if kind == LaserType.QS_ND_YAG:  # 5–10 J/cm² at 1064 (docs/domain.md#lasers), kept to 4–8 here
                ctx.laser = (rng.uniform(4.0, 5.5), rng.uniform(0.3, 0.8), 8.0, (2, 4), (1, 5), 6)
            elif kind == LaserType.PICO_ALEXANDRITE:
                ctx.laser = (rng.uniform(2.0, 2.8), rng.uniform(0.2, 0.5), 4.0, (2.5, 4), (1, 5), 750)
            else:  # picosecond Nd:YAG, 1064 nm
                ctx.laser = (rng.uniform(1.5, 2.5), rng.uniform(0.2, 0.6), 4.0, (3, 6), (2, 10), 450)
        f0, inc, cap, spot, rate, width = ctx.laser
        fluence = f0 * 0.8 if test_spot else min(cap, f0 + inc * index)
        session.fluence_j_cm2 = Decimal(f"{max(1.5, fluence):.2f}")
        session.spot_size_mm = Decimal(f"{rng.randint(int(spot[0] * 2), int(spot[1] * 2)) / 2:.1f}")
        session.repetition_rate_hz = Decimal(1 if test_spot else rng.randint(*rate))
        session.pulse_width = Decimal(width)
        session.passes = 1
        session.pain_score = rng.randint(2, 7)
        session.immediate_response = rng.choices(RESPONSES, weights=(80, 8, 10, 2))[0]
        if test_spot:
            session.estimated_clearance_pct = rng.randint(0, 10)
            session.internal_notes = "Test spot, 1 cm² at the least visible edge of the zone."
        else:
            if ctx.clearance_base is None:
                ctx.clearance_base = rng.randint(15, 35)
            rise = (95 - ctx.clearance_base) / max(1, total - 1)
            estimate = round(ctx.clearance_base + rise * index + rng.randint(-3, 3))
            session.estimated_clearance_pct = min(100, max(estimate, ctx.last_clearance + 5))
            ctx.last_clearance = session.estimated_clearance_pct
        session.aftercare_given = rng.random() < 0.97
        session.aftercare_notes = AFTERCARE_LASER if session.aftercare_given else ""
        session.parameters_shared = rng.random() < 0.25
        roll = rng.random()
        if roll < 0.06 and not ctx.demo:
            complication = self.cover.pick("complication", COMPLICATIONS, (10, 10, 12, 12, 4, 4, 6, 6))
            session.adverse_event_notes = f"{AdverseEventChoice(complication).label}; manager informed."
            return [AdverseEventChoice.ERYTHEMA, complication]
        if roll < 0.3:
            session.adverse_event_notes = "Expected transient reaction."
            return sorted(set(rng.choices(AdverseEventChoice.expected(), k=rng.randint(1, 2))))
        return []

    def _correction_session(self, rows, rng, ctx, plan_step, step: Step, kind: str) -> CorrectionSession:
        artist_key = {
            CorrectionKind.SALINE_REMOVAL: rng.choice(("elena", "sofia")),
            CorrectionKind.COLOUR_CORRECTION: "elena",
            CorrectionKind.SCAR_CAMOUFLAGE: rng.choice(("jamie", "morgan")),
        }.get(kind, ctx.lead_key)
        status = SESSION_STATUS[step.state]
        session = rows.new(
            CorrectionSession,
            case=ctx.case,
            plan_step=plan_step,
            scheduled_at=self.at(step.day, rng),
            status=status,
            kind=kind,
            artist=self.clinic.artists[artist_key],
        )
        if kind == CorrectionKind.SALINE_REMOVAL:
            session.saline_solution = rng.choice(SALINE)
            session.needle = "5RS round shader"
        else:
            session.pigment = rng.choice(CORRECTION_PIGMENTS)
            session.needle = rng.choice(NEEDLES)
        if status == SessionStatus.COMPLETED:
            session.duration_minutes = rng.randint(45, 240)
            session.pain_score = rng.randint(1, 6)
            session.aftercare_given = True
            session.aftercare_notes = AFTERCARE_SMP
        elif status == SessionStatus.CANCELLED:
            session.internal_notes = "Cancelled by the client."
        ctx.artist_of[id(session)] = artist_key
        rows.link(M2M["correction_zones"], session, ctx.zone_ids)
        return session

    # -- follow-ups -----------------------------------------------------------------

    def _follow_up(self, rows, rng, ctx, kind, due, assignee_key, laser=None, correction=None) -> FollowUp:
        """A follow-up whose state fits its due date: the review queue gets every state."""
        sk = ctx.sk
        fu = rows.new(
            FollowUp,
            case=ctx.case,
            laser_session=laser,
            correction_session=correction,
            kind=kind,
            due_on=self.date(due),
            assignee=self.user(assignee_key),
        )
        if sk.status == CS.WITHDRAWN and due > sk.closed:
            status = FollowUpStatus.CANCELLED
        elif due >= 0:
            status = FollowUpStatus.SCHEDULED
        elif ctx.demo:
            status = FollowUpStatus.COMPLETED
        elif due >= -45:  # recently due: what the review queue is about
            options = [FollowUpStatus.SCHEDULED, FollowUpStatus.COMPLETED, FollowUpStatus.MISSED]
            weights = [15, 70, 10]
            if sk.status in (CS.CLOSED, CS.WITHDRAWN):  # nothing left open on a finished case
                options, weights = options[1:], weights[1:]
            status = self.cover.pick("recent_follow_up", [*options, FollowUpStatus.CANCELLED], [*weights, 5])
        else:
            options = (FollowUpStatus.COMPLETED, FollowUpStatus.MISSED, FollowUpStatus.CANCELLED)
            status = self.cover.pick("old_follow_up", options, (85, 10, 5))
        fu.status = status
        done_day = due
        if status == FollowUpStatus.COMPLETED:
            done_day = min(-1, due + rng.randint(-2, 3))
            fu.completed_on = self.date(done_day)
            fu.completed_by_id = fu.assignee_id
            adverse = ctx.adverse_of.get(id(laser), []) if laser is not None else []
            if kind in (FollowUpKind.HEALING_CHECK, FollowUpKind.POST_LASER_CHECK, FollowUpKind.TEST_SPOT_RECHECK):
                if any(a not in AdverseEventChoice.expected() for a in adverse):
                    fu.healing = Healing.COMPLICATION
                else:
                    fu.healing = rng.choices((Healing.AS_EXPECTED, Healing.DELAYED), weights=(88, 12))[0]
                fu.notes = HEALING_NOTES[fu.healing]
                lingering = [a for a in adverse if a != AdverseEventChoice.OEDEMA]
                if lingering and rng.random() < 0.6:
                    rows.link(M2M["side_effects"], fu, [self.clinic.adverse_ids[a] for a in lingering])
            elif kind == FollowUpKind.SATISFACTION:
                fu.satisfaction = ctx.case.satisfaction or rng.choices((2, 3, 4, 5), weights=(5, 20, 45, 30))[0]
                fu.notes = "Satisfaction call."
            else:
                fu.notes = "Density holding; no top-up needed yet."
        elif status == FollowUpStatus.MISSED:
            fu.notes = "Client did not attend; left a voicemail."
        if status in (FollowUpStatus.COMPLETED, FollowUpStatus.MISSED):
            if ctx.demo:
                reviewed = True
            elif due >= -45:
                reviewed = self.cover.pick(f"reviewed_{status}", (False, True), (65, 35))
            else:
                reviewed = rng.random() < 0.98
            review_day = done_day + rng.randint(1, 6)
            if reviewed and review_day <= -1:
                fu.reviewed_at = self.at(review_day, rng)
                fu.reviewed_by = self.user(rng.choice(MANAGER_KEYS))
                fu.review_note = rng.choice(("Seen.", "Fine, no action.", "Book the next session.", ""))
        return fu

    # -- consents -------------------------------------------------------------------

    def _client_consents(self, rows, rng, client, skeletons, signatures, forced, demo) -> None:
        """Data processing and photos once per client; laser and SMP consent per course."""
        texts = self.clinic.consent_texts

        def sign(kind, day, version=1, online=False) -> Consent:
            consent = rows.new(
                Consent,
                client=client,
                text=texts[(kind, version)],
                signed_name=client.full_name,
                signed_at=self.at(day, rng, 8, 8),  # at check-in, before the appointment
            )
            if online:
                consent.signed_ip = "203.0.113.24"
                consent.signed_user_agent = USER_AGENTS[0]
            else:
                consent.signed_in_clinic = True
                consent.witnessed_by = self.user("lucy")
            return consent

        sign(ConsentKind.DATA_PROCESSING, skeletons[0].opened)
        assessed = [sk.issues_day for sk in skeletons if sk.issues_day is not None]
        if assessed:
            sign(ConsentKind.PHOTO_CLINICAL, assessed[0])
            if not demo and (forced.get("teaching") or rng.random() < 0.3):
                consent = sign(ConsentKind.PHOTO_TEACHING, assessed[0])
                if assessed[0] < -31 and self.cover.pick("teaching_withdrawn", (True, False), (12, 88)):
                    consent.withdrawn_at = self.at(rng.randint(assessed[0] + 30, -1), rng)
                    consent.withdrawn_reason = "Changed my mind about marketing use."
        signed = set()
        for kind, day, online in signatures:
            version = 2 if kind == ConsentKind.LASER_TREATMENT and day >= self.clinic.laser_v2_from else 1
            if (kind, version) in signed:
                continue  # still in force from an earlier course: one signature per version
            signed.add((kind, version))
            sign(kind, day, version, online=online)

    # -- photos ---------------------------------------------------------------------

    def _photos(self, ctx: _CaseContext, seed: int, issues, sessions, follow_ups) -> list[Photo]:
        """Generated before/progress/after JPEGs for one case, stored like uploads."""
        rng = random.Random(seed)  # nosec B311  # reproducible demo data, not a secret
        sk, case = ctx.sk, ctx.case
        tone = SKIN_TONES[FITZPATRICK.index(ctx.client.fitzpatrick_type)]
        by_zone = {issue.zone: issue for issue in issues}
        done = sorted(
            (s for s in sessions if s.status == SessionStatus.COMPLETED and not getattr(s, "test_spot", False)),
            key=lambda s: s.scheduled_at,
        )
        jobs = []
        before_day = sk.issues_day if sk.issues_day is not None else sk.opened
        for angle in (PhotoAngle.FRONT, PhotoAngle.TOP, PhotoAngle.CROWN, PhotoAngle.HAIRLINE, PhotoAngle.BACK):
            zone = ANGLE_ZONE.get(angle, "")
            shared = angle in (PhotoAngle.FRONT, PhotoAngle.TOP)
            jobs.append(
                {
                    "kind": PhotoKind.BEFORE,
                    "angle": angle,
                    "zone": zone,
                    "issue": by_zone.get(zone),
                    "day": before_day,
                    "shared": shared,
                }
            )
        for session in done[:1] + done[-1:] if len(done) > 1 else done:
            link = "laser_session" if isinstance(session, LaserSession) else "correction_session"
            day = (timezone.localdate(session.scheduled_at, self.clinic.tz) - self.clinic.today).days
            jobs.append(
                {"kind": PhotoKind.PROGRESS, "angle": PhotoAngle.FRONT, link: session, "day": day, "shared": True}
            )
        if sk.status in (CS.FOLLOW_UP, CS.CLOSED):
            completed = [f for f in follow_ups if f.status == FollowUpStatus.COMPLETED]
            after_day = sk.closed if sk.status == CS.CLOSED else max(s.day for s in sk.steps if s.state == "done")
            for angle in (PhotoAngle.FRONT, PhotoAngle.LEFT, PhotoAngle.RIGHT):
                jobs.append(
                    {
                        "kind": PhotoKind.AFTER,
                        "angle": angle,
                        "zone": ANGLE_ZONE.get(angle, ""),
                        "follow_up": completed[-1] if completed else None,
                        "day": after_day,
                        "shared": True,
                    }
                )
        photos = []
        for job in jobs:
            day, shared = job.pop("day"), job.pop("shared")
            photo = Photo(
                case=case,
                taken_on=self.date(day),
                shared_with_client=shared,
                uploaded_by=self.user(ctx.lead_key),
                caption=f"{PhotoKind(job['kind']).label} – {PhotoAngle(job['angle']).label}",
                **job,
            )
            data, thumbnail = scalp_jpeg(rng, photo.kind, photo.angle, tone, case.reference)
            photo.image.name = default_storage.save(photo_upload_path(photo, "photo.jpg"), ContentFile(data))
            photo.thumbnail.name = default_storage.save(photo_upload_path(photo, "thumb.jpg"), ContentFile(thumbnail))
            photo.width, photo.height = IMAGE_SIZE
            photo.byte_size = len(data)
            photo.sha256 = hashlib.sha256(data).hexdigest()
            photos.append(photo)
        return photos


@dataclass(eq=False)
class _CaseContext:
    """What the rows of one case share while they are built."""

    case: Case
    sk: Skeleton
    client: Client
    lead_key: str
    zone_ids: list[int]
    demo: bool
    primary: str | None  # the main issue's kind
    plans: list[TreatmentPlan] = field(default_factory=list)
    device_key: str | None = None
    laser: tuple | None = None
    clearance_base: int | None = None
    last_clearance: int = 0
    adverse_of: dict = field(default_factory=dict)
    tech_of: dict = field(default_factory=dict)
    artist_of: dict = field(default_factory=dict)
    step_base: dict = field(default_factory=dict)  # per plan: the day the next step's interval counts from


def _any_session(sk: Skeleton, session: str) -> bool:
    return any(s.session == session and s.state in ("done", "booked", "cancelled") for s in sk.steps)


# --------------------------------------------------------------------------------------
# Images: a scalp-ish drawing per kind and angle, different for every photo.
# --------------------------------------------------------------------------------------

SKIN_TONES = ((244, 214, 190), (232, 190, 160), (210, 165, 130), (176, 128, 92), (130, 90, 60), (92, 62, 44))
ANGLE_ZONE = {
    PhotoAngle.HAIRLINE: Zone.FRONTAL_HAIRLINE,
    PhotoAngle.CROWN: Zone.CROWN,
    PhotoAngle.BACK: Zone.NAPE,
    PhotoAngle.LEFT: Zone.LEFT_TEMPLE,
    PhotoAngle.RIGHT: Zone.RIGHT_TEMPLE,
}
IMAGE_SIZE = (480, 360)


def scalp_jpeg(
    rng: random.Random, kind: str, angle: str, tone: tuple[int, int, int], label: str
) -> tuple[bytes, bytes]:
    """A 480×360 JPEG and its 240×180 thumbnail: a head in the client's skin tone seen
    from `angle`, with SMP dots.

    Before: dark, large, merging dots below a hard line; progress: fewer, faded dots;
    after: fine dots with a soft, irregular hairline.
    """
    width, height = IMAGE_SIZE
    image = Image.new("RGB", IMAGE_SIZE, (206, 212, 218))
    draw = ImageDraw.Draw(image)
    cx, cy = width // 2, height // 2 + 20
    shade = tuple(max(0, c - 30) for c in tone)
    close_up = angle in (PhotoAngle.CROWN, PhotoAngle.HAIRLINE)

    if angle in (PhotoAngle.TOP, PhotoAngle.CROWN):
        radius = 200 if close_up else 140
        draw.ellipse((cx - radius, cy - 20 - radius, cx + radius, cy - 20 + radius), fill=tone, outline=shade, width=3)

        def on_scalp(x: int, y: int) -> bool:
            return (x - cx) ** 2 + (y - cy + 20) ** 2 < (radius - 8) ** 2

        bbox = (cx - radius, cy - 20 - radius, cx + radius, cy - 20 + radius)

    elif angle == PhotoAngle.HAIRLINE:
        draw.rectangle((0, 0, width, height), fill=tone)
        phase = rng.random() * 6
        edge = [height // 2 + int(25 * math.sin(x / 60 + phase)) for x in range(width)]
        draw.line([(x, edge[x] + 6) for x in range(0, width, 4)], fill=shade, width=2)

        def on_scalp(x: int, y: int) -> bool:
            return y < edge[x] - (rng.random() * 20 if kind == PhotoKind.AFTER else 0)

        bbox = (0, 0, width - 1, height // 2 + 25)  # x stays inside `edge`

    else:
        ox = {PhotoAngle.LEFT: -30, PhotoAngle.RIGHT: 30}.get(angle, 0)
        if angle == PhotoAngle.BACK:
            draw.rectangle((cx - 60, cy + 60, cx + 60, height), fill=shade)
        draw.ellipse((cx - 120 + ox, cy - 150, cx + 120 + ox, cy + 130), fill=tone, outline=shade, width=3)
        if angle in (PhotoAngle.LEFT, PhotoAngle.RIGHT):
            ear = cx - ox * 2
            draw.ellipse((ear - 14, cy - 10, ear + 14, cy + 40), fill=shade)
        if angle == PhotoAngle.FRONT:
            draw.line((cx - 50, cy + 20, cx - 20, cy + 20), fill=shade, width=4)
            draw.line((cx + 20, cy + 20, cx + 50, cy + 20), fill=shade, width=4)
        # Seen from the back the scalp goes down to the nape; otherwise to the hairline.
        hairline = (cy + 50 if angle == PhotoAngle.BACK else cy - 60) + rng.randint(-10, 10)

        def on_scalp(x: int, y: int) -> bool:
            inside = ((x - cx - ox) / 116) ** 2 + ((y - cy + 10) / 136) ** 2 < 1
            return inside and y < hairline + 12 * math.sin((x - cx) / 40)

        bbox = (cx - 120 + ox, cy - 150, cx + 120 + ox, hairline + 12)

    count, sizes, colour, blobs = {
        PhotoKind.BEFORE: (500, (2, 5), (40, 46, 62), 16),
        PhotoKind.PROGRESS: (320, (2, 4), (95, 98, 108), 6),
        PhotoKind.AFTER: (650, (1, 2), (58, 52, 50), 0),
    }[kind]
    if close_up:
        sizes = (sizes[0] + 1, sizes[1] + 2)
    left, top, right, bottom = bbox
    span_x, span_y, span_d = right - left, bottom - top, sizes[1] - sizes[0] + 1
    random_ = rng.random
    for n in range(count + blobs):
        x, y = int(left + random_() * span_x), int(top + random_() * span_y)
        if on_scalp(x, y):
            d = sizes[0] + int(random_() * span_d) if n < count else 8 + int(random_() * 10)
            draw.ellipse((x, y, x + d, y + d), fill=colour)
    draw.text((10, height - 22), f"{label} / {kind} / {angle}", fill=(40, 40, 40), font=ImageFont.load_default())
    return _jpeg(image, 82), _jpeg(image.reduce(2), 80)


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------
# The clinic and the run.
# --------------------------------------------------------------------------------------


def demo_users_exist() -> bool:
    usernames = set(DEMO_USERNAMES.values()) | {m.username for m in STAFF}
    return User.objects.filter(username__in=usernames).exists()


def database_has_data() -> bool:
    """Demo data goes only into a clinic without clients (and without the demo logins)."""
    return Client.objects.exists() or demo_users_exist()


def _clinic(rng: random.Random, today: datetime.date, password: str) -> Clinic:
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
    Certification.objects.bulk_create(certifications)
    laser_valid = {}
    for member in STAFF:
        for kind, _, issued, expires in member.certifications:
            if kind == C.LASER_SAFETY:
                laser_valid[member.key] = (issued, expires)

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
    texts = {}
    for kind in ConsentKind.values:
        title, body = CONSENT_BODY[kind]
        texts[(kind, 1)] = ConsentText(kind=kind, version=1, title=title, body=body, effective_from=offset(-1100))
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


@dataclass
class Result:
    counts: Counter
    demo_client: str
    demo_reference: str


DEMO_APP_NAME = "Demo authenticator"


def _second_factor_for_demo_managers() -> None:
    """The demo's manager and administrator sign in with a second step: each gets an
    authenticator app device and single-use recovery codes, both printed with the logins
    (the app's key, to try a real app), so the demo needs no phone. Two users, whatever
    the number of clients."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from smpclinic import twofactor

    for user in User.objects.filter(username__in=[DEMO_USERNAMES["admin"], DEMO_USERNAMES["manager"]]):
        TOTPDevice.objects.create(user=user, name=DEMO_APP_NAME, confirmed=True)
        twofactor.new_recovery_codes(user)


def seed(
    *,
    clients: int,
    seed: int,
    password: str,
    today: datetime.date | None = None,
    progress: Callable[[str], None] | None = None,
) -> Result:
    """Create the demo clinic in one transaction; the database must have no clients.

    `today` (default: the clinic's today) anchors every date; which rows exist does not
    depend on it.
    """
    sync_all_lookups()
    if Group.objects.filter(name__in=roles.ROLES).count() < len(roles.ROLES):
        roles.sync_groups()
    today = today or timezone.localdate()
    master = random.Random(seed)  # nosec B311  # reproducible demo data, not a secret
    saved_files: list[str] = []
    try:
        with transaction.atomic(), _bulk_load_cache():
            if database_has_data():
                raise ValueError("The demo clinic goes only into a database without clients or demo logins.")
            result = _seed(clients, master, today, password, progress, saved_files)
            _second_factor_for_demo_managers()
    except BaseException:
        for name in saved_files:
            default_storage.delete(name)
        raise
    return result


@contextmanager
def _bulk_load_cache(megabytes: int = 256):
    """A bigger SQLite page cache while loading: inserts touch a dozen indexes per table."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (previous,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = {-megabytes * 1024}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


def _seed(clients, master, today, password, progress, saved_files) -> Result:
    counts: Counter = Counter()
    clinic = _clinic(master, today, password)
    generator = Generator(clinic, master)
    seeds = [master.getrandbits(64) for _ in range(clients)]

    # Pass one: opening dates, to number references in opening order per year.
    opened = []
    for index, client_seed in enumerate(seeds):
        forced = FORCED[index] if index < len(FORCED) else None
        for number, sk in enumerate(client_skeletons(random.Random(client_seed), forced)):  # nosec B311  # demo data
            opened.append((sk.opened, index, number))
    opened.sort()
    start = dict(ReferenceCounter.objects.values_list("year", "last_number"))
    last_number: dict[int, int] = {}
    references: list[list[str]] = [[] for _ in range(clients)]
    for day, index, _number in opened:
        year = (today + datetime.timedelta(days=day)).year
        last_number[year] = last_number.get(year, start.get(year, 0)) + 1
        references[index].append(f"SMP-{year}-{last_number[year]:04d}")
    del opened

    # Pass two: rows, a chunk of clients at a time.
    writer = Writer(timezone.now())
    for chunk_start in range(0, clients, CHUNK):
        rows = Rows(writer)
        for index in range(chunk_start, min(clients, chunk_start + CHUNK)):
            generator.client(rows, index, seeds[index], references[index])
        rows.insert(counts)
        photos = []
        for job in rows.photo_jobs:
            made = job()
            saved_files.extend(p.image.name for p in made)
            saved_files.extend(p.thumbnail.name for p in made)
            photos.extend(made)
        if photos:
            Photo.objects.bulk_create(photos, batch_size=BATCH)
            counts["Photo"] += len(photos)
        if progress:
            progress(f"  {min(clients, chunk_start + CHUNK)} / {clients} clients")

    writer.reset_sequences()

    # Later cases continue after the demo's numbers: one counter row per year the demo
    # could span (always four, so counts do not depend on the day it runs).
    for year in range(today.year - 3, today.year + 1):
        value = max(last_number.get(year, 0), start.get(year, 0))
        ReferenceCounter.objects.update_or_create(year=year, defaults={"last_number": value})
    return Result(counts=counts, demo_client=clinic.demo_client_name, demo_reference=clinic.demo_reference)


def demo_logins() -> list[tuple[str, str]]:
    """(username, what it is) for the demo logins present in the database."""
    roles_text = {
        DEMO_USERNAMES["admin"]: "administrator (Django admin)",
        DEMO_USERNAMES["manager"]: "manager",
        DEMO_USERNAMES["staff"]: "staff, laser technician",
        DEMO_USERNAMES["client"]: "client portal",
    }
    found = []
    users = User.objects.filter(username__in=DEMO_USERNAMES.values()).select_related("artist", "client")
    by_name = {u.username: u for u in users}
    for username in DEMO_USERNAMES.values():
        user = by_name.get(username)
        if user is None:
            continue
        text = roles_text[username]
        artist = getattr(user, "artist", None)
        client = getattr(user, "client", None)
        if artist is not None:
            text += f" – {artist.full_name}"
        if client is not None:
            case = client.cases.order_by("-opened_on").first()
            text += f" – {client.full_name}" + (f", case {case.reference}" if case else "")
        found.append((username, text))
    return found
