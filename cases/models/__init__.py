"""Clinical records. Split by area; import from `cases.models`."""

from .audit import AccessEvent
from .cases import (
    AdverseEventKind,
    Case,
    Consultation,
    CorrectionOption,
    Issue,
    ReferenceCounter,
    RegretReason,
    ZoneLookup,
)
from .clients import Client, Contraindication
from .consents import Consent, ConsentText
from .diary import Booking, BookingKind, BookingStatus, CalendarFeed
from .followups import FollowUp
from .invitations import PortalInvitation
from .photos import Photo
from .plans import PlanStep, TreatmentPlan
from .reminders import SentReminder
from .sessions import CorrectionSession, LaserDevice, LaserSession, RuleOverride

__all__ = [
    "AccessEvent",
    "AdverseEventKind",
    "Booking",
    "BookingKind",
    "BookingStatus",
    "CalendarFeed",
    "Case",
    "Client",
    "Consent",
    "ConsentText",
    "Consultation",
    "Contraindication",
    "CorrectionOption",
    "CorrectionSession",
    "FollowUp",
    "Issue",
    "LaserDevice",
    "LaserSession",
    "Photo",
    "PlanStep",
    "PortalInvitation",
    "ReferenceCounter",
    "RegretReason",
    "RuleOverride",
    "SentReminder",
    "TreatmentPlan",
    "ZoneLookup",
]
