"""Opening cases and numbering them."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cases.models import Case, Client, ReferenceCounter, RegretReason


def next_reference(*, year: int) -> str:
    """The next case reference for `year`, e.g. SMP-2026-0042; safe under concurrency.

    The counter row is created if missing (ignoring a concurrent insert), then
    incremented with one UPDATE: PostgreSQL's row lock (and SQLite's IMMEDIATE write
    transaction) make a second caller wait and read the number after ours. The unique
    constraint on Case.reference is the backstop.
    """
    with transaction.atomic():
        ReferenceCounter.objects.bulk_create([ReferenceCounter(year=year, last_number=0)], ignore_conflicts=True)
        ReferenceCounter.objects.filter(year=year).update(last_number=F("last_number") + 1)
        number = ReferenceCounter.objects.values_list("last_number", flat=True).get(year=year)
    return f"SMP-{year}-{number:04d}"


@transaction.atomic
def case_open(
    *,
    client: Client,
    opened_on: datetime.date | None = None,
    regret_reasons: Iterable[RegretReason] = (),
    **fields,
) -> Case:
    """Open a new correction case for a client, with a fresh reference code.

    `fields` are other Case fields (goal, lead_artist, origin of the original SMP…).
    """
    opened_on = opened_on or timezone.localdate()
    case = Case(client=client, opened_on=opened_on, **fields)
    case.reference = next_reference(year=opened_on.year)
    case.full_clean()
    case.save()
    case.regret_reasons.set(regret_reasons)
    return case
