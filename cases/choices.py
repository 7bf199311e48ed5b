"""The clinic's vocabulary (docs/domain.md#vocabulary), as TextChoices used by models, forms and reports."""

from django.db import models


class Fitzpatrick(models.TextChoices):
    I = "I", "I – always burns, never tans"  # noqa: E741
    II = "II", "II – usually burns, tans minimally"
    III = "III", "III – sometimes burns, tans uniformly"
    IV = "IV", "IV – burns minimally, tans well"
    V = "V", "V – rarely burns, tans profusely"
    VI = "VI", "VI – never burns"

    @classmethod
    def darker(cls) -> tuple[str, ...]:
        """Types with more laser risk of pigment change and scarring (docs/domain.md#skin-types)."""
        return (cls.IV, cls.V, cls.VI)


class NorwoodStage(models.TextChoices):
    I = "I", "I"  # noqa: E741
    II = "II", "II"
    IIA = "IIa", "IIa"
    III = "III", "III"
    IIIA = "IIIa", "IIIa"
    III_VERTEX = "III-vertex", "III-vertex"
    IV = "IV", "IV"
    IVA = "IVa", "IVa"
    V = "V", "V"
    VA = "Va", "Va"
    VI = "VI", "VI"
    VII = "VII", "VII"


class Zone(models.TextChoices):
    FRONTAL_HAIRLINE = "frontal_hairline", "Frontal hairline"
    LEFT_TEMPLE = "left_temple", "Left temple"
    RIGHT_TEMPLE = "right_temple", "Right temple"
    MID_SCALP = "mid_scalp", "Mid-scalp"
    CROWN = "crown", "Crown (vertex)"
    NAPE = "nape", "Nape / donor area"
    SCAR = "scar", "Scar site"


class IssueKind(models.TextChoices):
    UNEVEN_PIGMENTATION = "uneven_pigmentation", "Uneven pigmentation / patchy density"
    UNNATURAL_HAIRLINE = "unnatural_hairline", "Unnatural hairline"
    VISIBLE_SCARRING = "visible_scarring", "Visible scarring"
    COLOUR_SHIFT = "colour_shift", "Colour shift (blue/green)"
    PIGMENT_MIGRATION = "pigment_migration", "Pigment migration / blowout"
    TOO_DARK = "too_dark", "Too dark or too dense"
    DOTS_TOO_LARGE = "dots_too_large", "Dots too large"
    FADED = "faded", "Faded"
    HAIR_LOSS_PROGRESSION = "hair_loss_progression", "Hair-loss progression"
    OTHER = "other", "Other"


class RegretReasonChoice(models.TextChoices):
    UNREALISTIC_EXPECTATIONS = "unrealistic_expectations", "Unrealistic expectations"
    SUBOPTIMAL_RESULT = "suboptimal_result", "Suboptimal result (pigment, technique, healing)"
    CHANGE_OVER_TIME = "change_over_time", "Change over time (fading, hair loss, skin change)"
    SOCIAL_EMOTIONAL = "social_emotional", "Social or emotional"


class CorrectionOptionChoice(models.TextChoices):
    LASER_REMOVAL = "laser_removal", "Laser removal"
    SALINE_REMOVAL = "saline_removal", "Saline removal"
    COLOUR_CORRECTION = "colour_correction", "Colour correction"
    HAIRLINE_REDESIGN = "hairline_redesign", "Hairline redesign"
    SCAR_CAMOUFLAGE = "scar_camouflage", "Scar camouflage"
    DENSITY_ADJUSTMENT = "density_adjustment", "Density adjustment"


class AdverseEventChoice(models.TextChoices):
    ERYTHEMA = "erythema", "Erythema (redness)"
    OEDEMA = "oedema", "Oedema (swelling)"
    BLISTERING = "blistering", "Blistering"
    CRUSTING = "crusting", "Crusting / scabbing"
    BRUISING = "bruising", "Bruising"
    HYPOPIGMENTATION = "hypopigmentation", "Hypopigmentation"
    HYPERPIGMENTATION = "hyperpigmentation", "Hyperpigmentation"
    INFECTION = "infection", "Infection"
    SCARRING = "scarring", "Scarring"
    PARADOXICAL_DARKENING = "paradoxical_darkening", "Paradoxical darkening"
    FOLLICLE_DAMAGE = "follicle_damage", "Follicle damage"

    @classmethod
    def expected(cls) -> tuple[str, ...]:
        """Transient reactions expected after laser; the rest are complications."""
        return (cls.ERYTHEMA, cls.OEDEMA, cls.CRUSTING)


class LaserType(models.TextChoices):
    QS_ND_YAG = "qs_nd_yag", "Q-switched Nd:YAG"
    QS_RUBY = "qs_ruby", "Q-switched ruby"
    QS_ALEXANDRITE = "qs_alexandrite", "Q-switched alexandrite"
    PICO_ND_YAG = "pico_nd_yag", "Picosecond Nd:YAG"
    PICO_ALEXANDRITE = "pico_alexandrite", "Picosecond alexandrite"
    OTHER = "other", "Other"


class PulseDomain(models.TextChoices):
    NANOSECOND = "ns", "Nanoseconds (Q-switched)"
    PICOSECOND = "ps", "Picoseconds"


# Wavelengths of the pigment lasers (docs/domain.md#lasers); anything else is "other", 400–1200 nm.
STANDARD_WAVELENGTHS = (532, 694, 755, 1064)
WAVELENGTH_OTHER_MIN, WAVELENGTH_OTHER_MAX = 400, 1200
# 1064 nm is the usual wavelength for Fitzpatrick IV–VI.
DARK_SKIN_WAVELENGTH = 1064


class ImmediateResponse(models.TextChoices):
    FROSTING = "frosting", "Whitening (frosting), no significant bleeding"
    FROSTING_PINPOINT_BLEEDING = "frosting_bleeding", "Frosting with pinpoint bleeding"
    ERYTHEMA_ONLY = "erythema_only", "Erythema only"
    NONE = "none", "No visible response"


class CorrectionKind(models.TextChoices):
    SMP_CORRECTION = "smp_correction", "SMP correction"
    SALINE_REMOVAL = "saline_removal", "Saline removal"
    COLOUR_CORRECTION = "colour_correction", "Colour correction"
    SCAR_CAMOUFLAGE = "scar_camouflage", "Scar camouflage"
    HAIRLINE_REDESIGN = "hairline_redesign", "Hairline redesign"
    DENSITY_ADJUSTMENT = "density_adjustment", "Density adjustment"


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    COMPLETED = "completed", "Completed"
    NOT_ATTENDED = "not_attended", "Not attended"
    CANCELLED = "cancelled", "Cancelled"

    @classmethod
    def happened(cls) -> tuple[str, ...]:
        """Statuses that record what happened at the appointment: only once its time has passed."""
        return (cls.COMPLETED, cls.NOT_ATTENDED)

    @classmethod
    def freeing(cls) -> tuple[str, ...]:
        """Statuses of a session that did not take place: its plan step is planned again."""
        return (cls.CANCELLED, cls.NOT_ATTENDED)


class FollowUpKind(models.TextChoices):
    HEALING_CHECK = "healing_check", "Healing check"
    POST_LASER_CHECK = "post_laser_check", "Post-laser check"
    TEST_SPOT_RECHECK = "test_spot_recheck", "Test-spot re-check"
    MAINTENANCE = "maintenance", "Maintenance"
    SATISFACTION = "satisfaction", "Satisfaction"


class FollowUpStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    COMPLETED = "completed", "Completed"
    MISSED = "missed", "Missed"
    CANCELLED = "cancelled", "Cancelled"


class Healing(models.TextChoices):
    AS_EXPECTED = "as_expected", "Healing as expected"
    DELAYED = "delayed", "Delayed healing"
    COMPLICATION = "complication", "Complication"


class Satisfaction(models.IntegerChoices):
    """The client's satisfaction, 1 to 5: asked at follow-ups and when a case is closed."""

    VERY_DISSATISFIED = 1, "1 – very dissatisfied"
    DISSATISFIED = 2, "2 – dissatisfied"
    NEUTRAL = 3, "3 – neutral"
    SATISFIED = 4, "4 – satisfied"
    VERY_SATISFIED = 5, "5 – very satisfied"


class ConsultationKind(models.TextChoices):
    INITIAL = "initial", "Initial"
    REVIEW = "review", "Review"
    PRE_LASER = "pre_laser", "Pre-laser evaluation"


class CaseStatus(models.TextChoices):
    CONSULTATION = "consultation", "Consultation"
    ASSESSMENT = "assessment", "Assessment"
    PLANNING = "planning", "Planning"
    IN_TREATMENT = "in_treatment", "In treatment"
    FOLLOW_UP = "follow_up", "Follow-up"
    CLOSED = "closed", "Closed"
    WITHDRAWN = "withdrawn", "Withdrawn"

    @classmethod
    def open(cls) -> tuple[str, ...]:
        return (cls.CONSULTATION, cls.ASSESSMENT, cls.PLANNING, cls.IN_TREATMENT, cls.FOLLOW_UP)


class Outcome(models.TextChoices):
    RESOLVED = "resolved", "Corrected as planned"
    IMPROVED = "improved", "Improved"
    PARTIAL = "partial", "Partly improved"
    UNCHANGED = "unchanged", "Unchanged"
    WORSE = "worse", "Worse"


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PROPOSED = "proposed", "Proposed"
    ACCEPTED = "accepted", "Accepted"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    SUPERSEDED = "superseded", "Superseded by a revision"

    @classmethod
    def agreed(cls) -> tuple[str, ...]:
        """States reached only after manager approval and client acceptance."""
        return (cls.ACCEPTED, cls.IN_PROGRESS, cls.COMPLETED)


class PlanStepKind(models.TextChoices):
    LASER_SESSION = "laser_session", "Laser session"
    SALINE_SESSION = "saline_session", "Saline removal session"
    HEALING_CHECK = "healing_check", "Healing check"
    SMP_SESSION = "smp_session", "SMP / correction session"
    COLOUR_CORRECTION = "colour_correction", "Colour correction"
    SCAR_CAMOUFLAGE = "scar_camouflage", "Scar camouflage"
    REVIEW = "review", "Review"


class StepStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"


class PhotoKind(models.TextChoices):
    BEFORE = "before", "Before"
    PROGRESS = "progress", "Progress"
    AFTER = "after", "After"


class PhotoAngle(models.TextChoices):
    """The standard scalp set (docs/domain.md#photos): same angles at every visit."""

    FRONT = "front", "Front"
    TOP = "top", "Top"
    LEFT = "left", "Left"
    RIGHT = "right", "Right"
    BACK = "back", "Back (nape/donor)"
    CROWN = "crown", "Crown close-up"
    HAIRLINE = "hairline", "Hairline close-up"


class ConsentKind(models.TextChoices):
    LASER_TREATMENT = "laser_treatment", "Laser treatment"
    SMP_CORRECTION = "smp_correction", "SMP correction"
    PHOTO_CLINICAL = "photo_clinical", "Photos for clinical records"
    PHOTO_TEACHING = "photo_teaching", "Photos for teaching and marketing"
    DATA_PROCESSING = "data_processing", "Data processing"


class OverrideRule(models.TextChoices):
    """Rules a person with the right role may override, with a reason (docs/domain.md#safety-rules)."""

    ZONE_INTERVAL = "zone_interval", "Session on a zone within the minimum interval"
    DARK_SKIN_WAVELENGTH = "dark_skin_wavelength", "Wavelength other than 1064 nm on Fitzpatrick IV–VI"
    CONTRAINDICATION = "contraindication", "Contraindication on the client"


class ReminderKind(models.TextChoices):
    CLIENT_SESSION = "client_session", "Client: planned session"
    CLIENT_FOLLOW_UP = "client_follow_up", "Client: follow-up"
    STAFF_DIGEST = "staff_digest", "Staff: daily follow-up digest"
    MANAGER_SUMMARY = "manager_summary", "Managers: weekly summary"
