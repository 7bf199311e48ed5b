"""The diary: one booking per appointment, holding a person, a room and a laser device.

Sessions and follow-ups keep their own clinical record; the booking is the slot of time
they take. All bookings live in one table so that a person, a room or a device is never
held twice at once, whatever the appointment is (docs/domain.md#diary). On PostgreSQL
exclusion constraints (migration 0010, not declared here: SQLite has no such
constraint) refuse an overlapping row; on both databases `cases.services.diary` checks
first, under a lock on the resources, and says which booking is in the way.
"""

from __future__ import annotations

import datetime
import secrets
from typing import Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from smpclinic.constraints import ChecksInOneQuery
from smpclinic.history import HistoricalRecords
from smpclinic.models import PublicIdMixin, Room, Timestamped

from .cases import Case, live_case
from .clients import Client
from .followups import FollowUp
from .sessions import CorrectionSession, LaserDevice, LaserSession


class BookingKind(models.TextChoices):
    LASER = "laser", "Laser session"
    CORRECTION = "correction", "Correction session"
    FOLLOW_UP = "follow_up", "Follow-up"


class BookingStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    COMPLETED = "completed", "Completed"
    NOT_ATTENDED = "not_attended", "Not attended"
    CANCELLED = "cancelled", "Cancelled"

    @classmethod
    def holding(cls) -> tuple[str, ...]:
        """Statuses that keep the slot: cancelled and not-attended bookings free it."""
        return (cls.BOOKED, cls.COMPLETED)


# The PostgreSQL exclusion constraints' condition and names (migration 0010 creates them).
HOLDS_SLOT = Q(status__in=BookingStatus.holding())
OVERLAP_CONSTRAINTS = {
    "person": "booking_person_no_overlap",
    "room": "booking_room_no_overlap",
    "device": "booking_device_no_overlap",
}


# A diary box's values (BookingQuerySet.for_diary), in this order.
DIARY_COLUMNS = (
    *("public_id", "kind", "status", "starts_at", "ends_at", "person_id", "room_id"),
    *("case__public_id", "case__reference", "case__client__first_name", "case__client__last_name"),
    *("person__first_name", "person__last_name", "room__name", "device__name"),
)


class BookingQuerySet(models.QuerySet):
    def on_live_cases(self) -> Self:
        return self.filter(live_case("case__"))

    def visible_to(self, user) -> Self:
        """Staff see the diary of live cases; a client only their own bookings. A booking is
        never archived: it is cancelled, and its appointment is archived instead."""
        from smpclinic import roles

        if roles.is_clinic_user(user):
            return self.on_live_cases()
        if roles.is_client(user):
            return self.on_live_cases().filter(case__client__user=user)
        return self.none()

    def holding(self) -> Self:
        """Bookings that keep their slot (booked or completed)."""
        return self.filter(HOLDS_SLOT)

    def overlapping(self, starts_at: datetime.datetime, ends_at: datetime.datetime) -> Self:
        """Bookings whose time overlaps [starts_at, ends_at): one ending as another starts
        does not overlap it."""
        return self.filter(starts_at__lt=ends_at, ends_at__gt=starts_at)

    def between(self, start: datetime.datetime, end: datetime.datetime) -> Self:
        """Bookings starting at or after `start` and before `end` (the diary's pages): the
        (starts_at) index serves the range."""
        return self.filter(starts_at__gte=start, starts_at__lt=end)

    def for_diary(self) -> Self:
        """What a diary box shows, and only that, as plain values in DIARY_COLUMNS' order
        (cases.views.diary): the case reference, the client's name, person, room, device.
        A full day is a hundred boxes; six model objects for each (booking, case, client,
        person, room, device) cost the page more than drawing them."""
        return self.order_by("starts_at", "pk").values_list(*DIARY_COLUMNS)

    def upcoming(self, now: datetime.datetime | None = None) -> Self:
        return self.filter(status=BookingStatus.BOOKED, starts_at__gte=now or timezone.now())


class Booking(ChecksInOneQuery, PublicIdMixin, Timestamped):
    """A slot in the diary: when, how long, who, where, with which laser, for which appointment."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="bookings")
    kind = models.CharField(max_length=12, choices=BookingKind.choices)
    laser_session = models.OneToOneField(
        LaserSession, on_delete=models.PROTECT, null=True, blank=True, related_name="booking"
    )
    correction_session = models.OneToOneField(
        CorrectionSession, on_delete=models.PROTECT, null=True, blank=True, related_name="booking"
    )
    follow_up = models.OneToOneField(FollowUp, on_delete=models.PROTECT, null=True, blank=True, related_name="booking")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    person = models.ForeignKey("artists.Artist", on_delete=models.PROTECT, related_name="bookings")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, null=True, blank=True, related_name="bookings")
    device = models.ForeignKey(LaserDevice, on_delete=models.PROTECT, null=True, blank=True, related_name="bookings")
    status = models.CharField(max_length=12, choices=BookingStatus.choices, default=BookingStatus.BOOKED)
    change_reason = models.CharField(
        max_length=500, blank=True, help_text="Why it was last moved or cancelled (its history keeps every one)."
    )
    hours_override_reason = models.CharField(
        max_length=500, blank=True, help_text="Why a manager booked it outside opening hours or on a closure day."
    )
    hours_overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = BookingQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [
            models.Index(fields=["starts_at"], name="booking_starts_at"),
            models.Index(fields=["person", "starts_at"], name="booking_person_starts_at"),
            models.Index(fields=["room", "starts_at"], name="booking_room_starts_at"),
            models.Index(fields=["case", "starts_at"], name="booking_case_starts_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="booking_ends_after_start",
                violation_error_message="A booking ends after it starts.",
            ),
            models.CheckConstraint(
                condition=Q(kind="laser", laser_session__isnull=False, correction_session__isnull=True)
                | Q(kind="correction", correction_session__isnull=False, laser_session__isnull=True)
                | Q(
                    kind="follow_up",
                    follow_up__isnull=False,
                    laser_session__isnull=True,
                    correction_session__isnull=True,
                ),
                name="booking_names_its_appointment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {timezone.localtime(self.starts_at):%-d %b %Y %H:%M}"

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def appointment(self) -> LaserSession | CorrectionSession | FollowUp | None:
        return self.laser_session or self.correction_session or self.follow_up

    @property
    def holds_slot(self) -> bool:
        return self.status in BookingStatus.holding()


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeedQuerySet(models.QuerySet):
    def live(self) -> Self:
        return self.filter(revoked_at__isnull=True)


class CalendarFeed(Timestamped):
    """A private subscription address for a calendar app: a client's upcoming appointments,
    or a staff member's own bookings. The token is the only key (calendar apps cannot sign
    in), so it is long and random, and revoking it turns the address off for good."""

    token = models.CharField(max_length=64, unique=True, default=new_feed_token, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, null=True, blank=True, related_name="calendar_feeds")
    person = models.ForeignKey(
        "artists.Artist", on_delete=models.PROTECT, null=True, blank=True, related_name="calendar_feeds"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = CalendarFeedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(client__isnull=False, person__isnull=True) | Q(client__isnull=True, person__isnull=False),
                name="calendarfeed_one_owner",
            ),
            models.UniqueConstraint(
                fields=["client"], condition=Q(revoked_at__isnull=True), name="calendarfeed_one_live_per_client"
            ),
            models.UniqueConstraint(
                fields=["person"], condition=Q(revoked_at__isnull=True), name="calendarfeed_one_live_per_person"
            ),
        ]

    def __str__(self) -> str:
        return f"Calendar feed of {self.client or self.person}"
