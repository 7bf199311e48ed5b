"""Reads that span several models and so belong to no one QuerySet; views call them."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from cases.models import Case, Consultation, CorrectionSession, FollowUp, Issue, LaserSession, TreatmentPlan


@dataclass(frozen=True)
class CaseHistory:
    """The latest history rows of a case and its records, newest first, with what a
    change is diffed against."""

    rows: list
    previous: dict  # {(historical model, history_id): the version before a change}
    m2m: dict  # {(historical model, field, history_id): {labels}}

    def before(self, row):
        """The version `row` changed, or None (a creation, a deletion, or no earlier row)."""
        return self.previous.get((type(row), row.previous_id))


def _m2m_snapshots(historical_models, rows) -> dict:
    """{(historical model, field, history_id): {labels}} for every tracked many-to-many
    field of these history rows: one query per field of `historical_models`, whatever
    the rows (a model with no row asks for none, so the count does not vary)."""
    by_model: dict[type, list[int]] = {historical: [] for historical in historical_models}
    for row in rows:
        by_model.setdefault(type(row), []).append(row.history_id)
    snapshots: dict = {}
    for historical, ids in by_model.items():
        for m2m_field in getattr(historical, "_history_m2m_fields", []):
            through = getattr(historical, m2m_field.name).model
            target = next(
                f for f in through._meta.fields if f.is_relation and f.related_model is m2m_field.related_model
            )
            for entry in through.objects.filter(history_id__in=ids or [0]).select_related(target.name):
                snapshots.setdefault((historical, m2m_field.name, entry.history_id), set()).add(
                    str(getattr(entry, target.name))
                )
    return snapshots


def case_history(case: Case, limit: int) -> CaseHistory:
    """The latest history rows of the case and its issues, consultations, plans, sessions
    and follow-ups, newest first.

    Two queries per model and one per tracked many-to-many field, whatever the number
    of rows: the latest `limit` rows, each annotated with the id of the version before
    it, then those earlier versions in one go, so a change can be diffed against its
    predecessor, many-to-many fields included.
    """
    sources = (
        (Case, {"id": case.pk}),
        (Issue, {"case_id": case.pk}),
        (Consultation, {"case_id": case.pk}),
        (TreatmentPlan, {"case_id": case.pk}),
        (LaserSession, {"case_id": case.pk}),
        (CorrectionSession, {"case_id": case.pk}),
        (FollowUp, {"case_id": case.pk}),
    )
    rows = []
    for model, where in sources:
        historical = model.history.model
        previous_id = (
            historical.objects.filter(id=OuterRef("id"), history_date__lt=OuterRef("history_date"))
            .order_by("-history_date", "-history_id")
            .values("history_id")[:1]
        )
        rows += list(
            historical.objects.filter(**where)
            .select_related("history_user")
            .annotate(previous_id=Subquery(previous_id))
            .order_by("-history_date", "-history_id")[:limit]
        )
    rows.sort(key=lambda r: r.history_date, reverse=True)
    rows = rows[:limit]

    wanted: dict[type, list[int]] = {model.history.model: [] for model, _ in sources}
    for row in rows:
        if row.history_type == "~" and row.previous_id:
            wanted.setdefault(type(row), []).append(row.previous_id)
    previous = {
        (historical, p.history_id): p
        for historical, ids in wanted.items()
        for p in historical.objects.filter(history_id__in=ids or [0])
    }
    m2m = _m2m_snapshots([model.history.model for model, _ in sources], [*rows, *previous.values()])

    return CaseHistory(rows=rows, previous=previous, m2m=m2m)
