"""The demo's vocabulary: the words its rows are written in.

Client names, streets and towns; allergies, medicines, pigments, needles and saline;
and the clinical wording of goals, regrets, findings, withdrawals, outcomes, plans,
aftercare, consent forms, plan steps and healing notes. `ascii_slug` turns a name into
the local part of an e-mail address.
"""

from __future__ import annotations

import unicodedata

from cases.choices import ConsentKind, Healing, IssueKind, Outcome, PlanStepKind, RegretReasonChoice


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
    "laser_smp": "Laser lightens rather than always removes SMP, over several sessions 6–8 weeks apart; redesign only "
    "once healing is confirmed. The new hairline will be softer and higher than before.",
    "laser_only": "Aim is lightening as far as possible over the sessions planned; some shadow may remain. "
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

STEP_TEXT = {
    PlanStepKind.LASER_SESSION: "Laser session, 1064 nm",
    PlanStepKind.SALINE_SESSION: "Saline removal, small area",
    PlanStepKind.HEALING_CHECK: "Confirm healing before the next stage",
    PlanStepKind.SMP_SESSION: "SMP session",
    PlanStepKind.COLOUR_CORRECTION: "Colour correction",
    PlanStepKind.SCAR_CAMOUFLAGE: "Scar camouflage",
    PlanStepKind.REVIEW: "Review and satisfaction check",
}
HEALING_NOTES = {
    Healing.AS_EXPECTED: "Healed well; no crusts left.",
    Healing.DELAYED: "Some crusting still present; check again at the next visit.",
    Healing.COMPLICATION: "Complication documented with photos; manager informed.",
}
INITIAL_CONCERNS = (
    "Feels the SMP looks painted on; avoids close contact.",
    "Hairline looks drawn on; people notice it.",
    "Dots have blurred together and look like a helmet.",
    "The old SMP no longer matches the hair-loss pattern.",
    "Blue tinge visible in daylight.",
)


def ascii_slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())
