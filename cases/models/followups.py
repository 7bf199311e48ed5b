from __future__ import annotations

import datetime
from typing import Self

from django.conf import settings
from django.db import models
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django.db.models.signals import m2m_changed
from django.utils import timezone

from cases.choices import AdverseEventChoice, FollowUpKind, FollowUpStatus, Healing
from smpclinic.concurrency import SubmittedOnce, Versioned
from smpclinic.constraints import ChecksInOneQuery
from smpclinic.dates import PAST
from smpclinic.history import HistoricalRecords
from smpclinic.models import Archivable, PublicIdMixin, Timestamped

from .cases import SATISFACTION_VALIDATORS, AdverseEventKind, Case, CaseRecordQuerySet
from .sessions import CorrectionSession, LaserSession

# What "due soon" means everywhere: today and the 7 days after.
DUE_SOON_DAYS = 7
# The columns a row of the review queue shows (`FollowUpQuerySet.for_review`).
REVIEW_ROW_FIELDS = (
    *("public_id", "lock_version", "case", "kind", "due_on", "assignee", "status", "completed_on"),
    *("completed_by", "healing", "satisfaction", "notes", "rescheduled_from"),
    *("case__public_id", "case__reference", "case__status", "case__client"),
    *("case__client__first_name", "case__client__last_name"),
    *("rescheduled_as__due_on", "rescheduled_as__rescheduled_from"),
)
# Healing recorded at a follow-up that is itself an adverse finding.
ADVERSE_HEALING = (Healing.DELAYED, Healing.COMPLICATION)


def adverse_findings() -> Q:
    """True for a follow-up with an adverse finding recorded; the one definition of it.

    An adverse finding is healing recorded as delayed or as a complication, or any side
    effect that is not one of the transient reactions expected after laser (erythema,
    oedema, crusting: `AdverseEventChoice.expected()`), e.g. blistering or infection.
    Expected reactions alone, with healing as expected, are not adverse findings.
    Such a follow-up is reviewed by a manager on its own, with a note, never in bulk
    (docs/domain.md#side-effects).

    The side effects' part is read from `FollowUp.unexpected_side_effects`, which the
    side effects' own changes keep (`unexpected_side_effects()` below): a column of the
    row, where a subquery over every follow-up's side effects made each of the review
    queue's walks read all of them.
    """
    return Q(healing__in=ADVERSE_HEALING) | Q(unexpected_side_effects=True)


def unexpected_side_effects() -> Exists:
    """True for a follow-up with a side effect recorded that is not an expected transient
    reaction: what `FollowUp.unexpected_side_effects` holds, worked out from the links."""
    links = FollowUp.side_effects.through.objects.filter(followup_id=OuterRef("pk"))
    return Exists(links.exclude(adverseeventkind__code__in=AdverseEventChoice.expected()))


def _side_effects_changed(sender, instance, action, reverse, **kwargs) -> None:
    """Keep `unexpected_side_effects` true to the links after any change to a follow-up's
    side effects (`followup.side_effects.set(...)`, `.add`, `.remove`, `.clear`). They are
    changed from the follow-up's end only: its history records them there, and refuses a
    change made from an AdverseEventKind's end."""
    if reverse or action not in ("post_add", "post_remove", "post_clear"):
        return
    changed = FollowUp.objects.filter(pk=instance.pk)
    changed.update(unexpected_side_effects=unexpected_side_effects())
    instance.unexpected_side_effects = changed.values_list("unexpected_side_effects", flat=True).get()


class FollowUpQuerySet(CaseRecordQuerySet):
    def open(self) -> Self:
        return self.filter(status=FollowUpStatus.SCHEDULED)

    def overdue(self, today: datetime.date | None = None) -> Self:
        today = today or timezone.localdate()
        return self.active().open().filter(due_on__lt=today)

    def due_soon(self, today: datetime.date | None = None) -> Self:
        """ "Due in the next DUE_SOON_DAYS days": the review queue and the managers' summary."""
        return self.due_within(DUE_SOON_DAYS, today)

    def due_within(self, days: int, today: datetime.date | None = None) -> Self:
        today = today or timezone.localdate()
        return self.active().open().filter(due_on__gte=today, due_on__lte=today + datetime.timedelta(days=days))

    def awaiting_review(self) -> Self:
        return self.active().filter(
            status__in=[FollowUpStatus.COMPLETED, FollowUpStatus.MISSED], reviewed_at__isnull=True
        )

    def with_adverse_findings(self) -> Self:
        """Annotate `has_adverse_findings` (see `adverse_findings()` for what counts)."""
        return self.annotate(has_adverse_findings=ExpressionWrapper(adverse_findings(), output_field=BooleanField()))

    def adverse(self) -> Self:
        """Follow-ups with an adverse finding recorded (see `adverse_findings()`)."""
        return self.filter(adverse_findings())

    def for_review(self) -> Self:
        """What a row of the managers' review queue shows, and only that: case, client,
        any reschedule. A client's record alone has some thirty columns the queue never
        shows; reading them, and building every row's objects from them, cost the page
        more than its queries. The people (assignee, who saw the client) are named by the
        caller from their ids, for every row of the page at once: two more joins to the
        users made PostgreSQL take longer to plan each walk than to run it."""
        return self.select_related("case__client", "rescheduled_as").only(*REVIEW_ROW_FIELDS)

    def for_review_with_findings(self, *, adverse: bool) -> Self:
        """Rows awaiting review with (`adverse=True`) or without adverse findings, the
        oldest first: as `for_review()`, with `has_adverse_findings` (the caller fetches
        the side effects of the rows it shows, of both kinds in one query). The queue
        lists the first kind, then the second: two walks of the `followup_awaiting_review`
        index that stop at the page's last row, where one "adverse first" ordering would
        sort every row awaiting review."""
        return self.for_review().with_adverse_findings().filter(has_adverse_findings=adverse).order_by("due_on", "pk")


class FollowUp(ChecksInOneQuery, Versioned, SubmittedOnce, Archivable, PublicIdMixin, Timestamped):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="follow_ups")
    laser_session = models.ForeignKey(
        LaserSession, on_delete=models.PROTECT, null=True, blank=True, related_name="follow_ups"
    )
    correction_session = models.ForeignKey(
        CorrectionSession, on_delete=models.PROTECT, null=True, blank=True, related_name="follow_ups"
    )
    kind = models.CharField(max_length=20, choices=FollowUpKind.choices)
    due_on = models.DateField()
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="follow_ups"
    )
    status = models.CharField(max_length=10, choices=FollowUpStatus.choices, default=FollowUpStatus.SCHEDULED)
    completed_on = models.DateField(null=True, blank=True, validators=PAST)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    healing = models.CharField(max_length=20, choices=Healing.choices, blank=True)
    side_effects = models.ManyToManyField(AdverseEventKind, blank=True, related_name="follow_ups")
    # Whether a side effect other than the expected transient reactions is recorded: kept
    # by every change to `side_effects` (the m2m_changed receiver at the end of this
    # module), so that the review queue finds adverse findings without a subquery.
    unexpected_side_effects = models.BooleanField(default=False, editable=False)
    satisfaction = models.PositiveSmallIntegerField(
        "satisfaction (1–5)", null=True, blank=True, validators=SATISFACTION_VALIDATORS
    )
    notes = models.TextField(blank=True, help_text="Never shown to the client.")
    rescheduled_from = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="rescheduled_as"
    )

    reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )
    review_note = models.TextField(blank=True, editable=False)

    objects = FollowUpQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=["side_effects"])

    class Meta:
        ordering = ["due_on"]
        permissions = [("review_followup", "Can review completed or missed follow-ups")]
        indexes = [
            # Due soon and overdue, in date order (id breaks ties, so a page stops early).
            models.Index(fields=["status", "due_on", "id"], name="followup_status_due"),
            models.Index(fields=["assignee", "status", "due_on"]),
            models.Index(fields=["due_on"]),
            # The compliance report: live follow-ups due in a period, from the index alone.
            models.Index(
                fields=["due_on"],
                include=["id", "status", "completed_on", "case"],
                name="followup_live_due_report",
                condition=Q(archived_at__isnull=True),
            ),
            # The review queue's overdue and due-soon lists counted from the index alone
            # (`capped_counts`): the live scheduled follow-ups in due order, with their case
            # for the live-case rule and the filters. Counted from the wider indexes above,
            # a filter that leaves none (no overdue follow-up of a closed case) made
            # PostgreSQL join every follow-up to every case: 90 ms at 100,000 clients.
            models.Index(
                fields=["due_on", "id"],
                include=["case"],
                name="followup_scheduled_due",
                condition=Q(status=FollowUpStatus.SCHEDULED, archived_at__isnull=True),
            ),
            # The review queue's "done, awaiting review" rows, oldest first: a small part
            # of a clinic's follow-ups, walked in order until the page is full, and
            # counted from the index alone (with or without adverse findings, of live cases).
            models.Index(
                fields=["due_on", "id"],
                include=["case", "healing", "unexpected_side_effects"],
                name="followup_awaiting_review",
                condition=Q(
                    status__in=[FollowUpStatus.COMPLETED, FollowUpStatus.MISSED],
                    reviewed_at__isnull=True,
                    archived_at__isnull=True,
                ),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True) | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="followup_satisfaction_range",
                violation_error_message="Satisfaction is from 1 to 5.",
            ),
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(completed_on__isnull=False),
                name="followup_completed_has_date",
                violation_error_message="A completed follow-up needs the date it was done.",
            ),
            models.CheckConstraint(
                condition=Q(reviewed_at__isnull=True) | Q(reviewed_by__isnull=False),
                name="followup_review_names_reviewer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} due {self.due_on:%-d %b %Y}"

    def is_overdue(self, today: datetime.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.status == FollowUpStatus.SCHEDULED and self.due_on < today

    def side_effects_found(self) -> tuple[list[AdverseEventKind], list[AdverseEventKind]]:
        """(adverse side effects, expected transient reactions) recorded at this follow-up,
        for display; uses the prefetched `side_effects` when there are any."""
        expected = AdverseEventChoice.expected()
        effects = list(self.side_effects.all())
        return [e for e in effects if e.code not in expected], [e for e in effects if e.code in expected]


m2m_changed.connect(
    _side_effects_changed, sender=FollowUp.side_effects.through, dispatch_uid="followup_unexpected_side_effects"
)
