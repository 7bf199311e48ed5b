"""Nothing silently lost: optimistic locking for records people edit, and create forms
that cannot make a record twice.

Optimistic locking
    Every record staff edit through a form carries `lock_version` (the `Versioned` base).
    A form remembers the version it was opened on; saving a row whose stored version has
    moved on raises `StaleEdit`, so a form opened before someone else's save cannot undo
    that save. The check is an UPDATE of the version itself (`... WHERE lock_version =
    <expected>`), so it holds between processes and threads, not only within a request.
    `StaleEdit.changes` says, field by field, what the other person changed (read from the
    record's history) and `smpclinic.forms.add_service_errors` puts their values into the
    form, keeping the user's own edits, so saving again loses neither.

    A record with no history entry at the form's version (imported or bulk-loaded rows
    have none) cannot say who changed what: then `changes` lists every field where the
    stored record differs from the form (`base_known` is False), the form keeps the user's
    values, and the message shows the stored ones beside them, so saving again is a choice
    made with both in view.

Idempotent creation
    Create forms carry a random `submission_token`; the record stores it in a unique
    column. `create_once()` answers a repeated or parallel submit of the same form with
    the record the first one created (the database's unique index decides the race).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class Change:
    """One field another person changed after the form was opened."""

    field: str  # the model field's name
    label: str  # its verbose name, as people read it
    before: Any  # the value when the form was opened
    after: Any  # the value stored now
    before_text: str
    after_text: str


class StaleEdit(ValidationError):
    """The record changed after the form that tries to save it was opened."""

    def __init__(self, instance: models.Model, expected: int):
        self.instance = instance
        self.expected = expected
        self.current = type(instance)._base_manager.filter(pk=instance.pk).first()
        self.changes, self.changed_by, self.changed_at = _changes_since(self.current, expected)
        self.base_known = self.changes is not None
        if self.changes is None:
            self.changes = _differences(instance, self.current)
        super().__init__(self._describe(), code="stale")

    def _describe(self) -> str:
        what = self.instance._meta.verbose_name
        who = (self.changed_by.get_full_name() or self.changed_by.username) if self.changed_by else "Someone else"
        when = f" at {timezone.localtime(self.changed_at):%H:%M on %-d %b %Y}" if self.changed_at else ""
        saved = f"{who} saved this {what}{when}, after you opened this form, so nothing was saved."
        if not self.base_known:
            listed = "; ".join(f"{c.label}: {c.after_text} (yours: {c.before_text})" for c in self.changes)
            stored = f" What is stored now differs from your form in: {listed}." if listed else ""
            return (
                f"{saved}{stored} The form still shows your values: check them against the stored ones "
                "and save again to keep yours."
            )
        if self.changes:
            listed = "; ".join(f"{c.label}: {c.before_text} → {c.after_text}" for c in self.changes)
            detail = f" Their changes: {listed}."
        else:
            detail = ""
        return f"{saved}{detail} The form now shows their changes with yours: check it and save again."


def _display(field: models.Field, value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | set | tuple):
        return ", ".join(sorted(str(v) for v in value)) or "(none)"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def _m2m_names(model: type[models.Model]) -> list[str]:
    history = getattr(model, "history", None)
    fields = getattr(getattr(history, "model", None), "_history_m2m_fields", []) if history else []
    return [f.name for f in fields]


def snapshot(record: models.Model) -> dict[str, Any]:
    """The record's editable values, many-to-many included (as sets of related ids)."""
    values: dict[str, Any] = {}
    for field in record._meta.concrete_fields:
        if field.primary_key or field.name in ("lock_version", "updated_at", "created_at"):
            continue
        values[field.name] = getattr(record, field.attname)
    for name in _m2m_names(type(record)):
        values[name] = set(getattr(record, name).values_list("pk", flat=True))
    return values


def _historical_snapshot(entry) -> dict[str, Any]:
    model = entry.instance_type
    values: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.name in ("lock_version", "updated_at", "created_at"):
            continue
        values[field.name] = getattr(entry, field.attname, None)
    for name in _m2m_names(model):
        through = model._meta.get_field(name).remote_field.through
        target = next(
            f.name for f in through._meta.fields if f.related_model is model._meta.get_field(name).related_model
        )
        values[name] = set(getattr(entry, name).values_list(f"{target}_id", flat=True))
    return values


def _changes_since(current: models.Model | None, expected: int) -> tuple[list[Change] | None, Any, Any]:
    """What changed between the last history entry at version `expected` and now; None
    for the changes when no entry at that version exists (the base is unknown)."""
    if current is None:
        return [], None, None
    if not hasattr(type(current), "history"):
        return None, None, None
    base_entry = current.history.filter(lock_version=expected).order_by("-history_date", "-history_id").first()
    latest = current.history.order_by("-history_date", "-history_id").first()
    if base_entry is None:
        return None, getattr(latest, "history_user", None), getattr(latest, "history_date", None)
    return (
        _compare(current, _historical_snapshot(base_entry), snapshot(current)),
        latest.history_user,
        latest.history_date,
    )


def _differences(mine: models.Model, current: models.Model | None) -> list[Change]:
    """Where the stored record differs from this copy (the user's form applied to it);
    `before` is the user's value, `after` the stored one."""
    if current is None:
        return []
    return _compare(current, snapshot(mine), snapshot(current))


def _compare(current: models.Model, before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    changes = []
    for name, old in before.items():
        new = after.get(name)
        if old == new:
            continue
        field = current._meta.get_field(name)
        if field.many_to_many:
            related = field.related_model._base_manager.in_bulk(old | new)
            old_text = _display(field, [related[pk] for pk in old if pk in related])
            new_text = _display(field, [related[pk] for pk in new if pk in related])
        elif field.is_relation:
            related = field.related_model._base_manager.in_bulk([v for v in (old, new) if v is not None])
            old_text, new_text = _display(field, related.get(old)), _display(field, related.get(new))
        else:
            old_text, new_text = _display(field, old), _display(field, new)
        changes.append(Change(name, str(field.verbose_name).capitalize(), old, new, old_text, new_text))
    return changes


class Versioned(models.Model):
    """A record people edit: saving it from a stale copy raises StaleEdit (see module doc)."""

    lock_version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Goes up by one on every save; a form carries the one it was opened on."
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if self._state.adding:
            super().save(*args, **kwargs)
            return
        expected = self.lock_version
        # Claim the next version only if the stored row is still the one this copy was
        # read as. Checked before the save itself, so a refusal leaves the surrounding
        # transaction usable (Django marks it for rollback on an error inside save()).
        claimed = (
            type(self)
            ._base_manager.using(kwargs.get("using") or self._state.db)
            .filter(pk=self.pk, lock_version=expected)
            .update(lock_version=expected + 1)
        )
        if not claimed:
            if type(self)._base_manager.filter(pk=self.pk).exists():
                raise StaleEdit(self, expected)
            super().save(*args, **kwargs)  # not stored (yet): Django decides, as for any model
            return
        self.lock_version = expected + 1
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "lock_version"}
        try:
            super().save(*args, **kwargs)
        except BaseException:
            self.lock_version = expected
            raise


def lock_for_edit(record: M) -> M:
    """The stored row, locked until the transaction ends, refused if it moved on from
    the version `record` carries (the one the user's form was opened on)."""
    stored = type(record)._base_manager.select_for_update().get(pk=record.pk)
    if stored.lock_version != record.lock_version:
        raise StaleEdit(record, record.lock_version)
    return stored


# ---------------------------------------------------------------------------
# Idempotent creation
# ---------------------------------------------------------------------------


class SubmittedOnce(models.Model):
    """A record made from a create form: the form's token, unique, so a resubmit finds it."""

    submission_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        abstract = True

    def validate_unique(self, exclude=None) -> None:
        # The unique index decides between parallel submits (create_once answers the
        # loser with the winner's record); a check before the INSERT would instead turn
        # the loser into a form error about a field nobody sees.
        super().validate_unique(exclude={*(exclude or ()), "submission_token"})


def new_token() -> str:
    return str(uuid.uuid4())


def create_once(model: type[M], token: uuid.UUID | str | None, create: Callable[[], M]) -> tuple[M, bool]:
    """Run `create` (a service call that stores `token` on the record) unless a record
    with this token exists. Returns (record, created). A parallel submit that loses the
    race on the unique token gets the winner's record."""
    if token:
        existing = model._base_manager.filter(submission_token=token).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            return create(), True
    except IntegrityError:
        existing = model._base_manager.filter(submission_token=token).first() if token else None
        if existing is None:
            raise
        return existing, False
