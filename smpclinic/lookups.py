"""Lookup rows for multi-valued choices (see smpclinic.models.ChoiceLookup)."""

import functools
import json

from django.db.models import Aggregate, Func, OuterRef, QuerySet, Subquery, TextField, Value, Window
from django.db.models.functions import RowNumber
from django.db.models.query import ModelIterable
from django.forms.models import ModelChoiceIterator


def lookup_models():
    from artists.models import Specialisation
    from cases.models import AdverseEventKind, CorrectionOption, RegretReason, ZoneLookup

    return [Specialisation, ZoneLookup, RegretReason, CorrectionOption, AdverseEventKind]


def sync_all_lookups() -> None:
    for model in lookup_models():
        model.sync()


# Lookup rows carried by their owner's own query ---------------------------------------

_PREFIX = "_choice_rows__"
_FIELDS = ["id", "code", "position"]


class _JsonRows(Aggregate):
    """The group's rows as a JSON array of [id, code, position] arrays, as text:
    JSON_AGG on PostgreSQL, JSON_GROUP_ARRAY on SQLite."""

    function = "JSON_AGG"
    template = "CAST(%(function)s(JSON_BUILD_ARRAY(%(expressions)s)) AS TEXT)"
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="JSON_GROUP_ARRAY(JSON_ARRAY(%(expressions)s))")


class _ChoiceRowsIterable(ModelIterable):
    """Model instances whose lookup rows came as JSON columns: each list is put where
    `prefetch_related` would have put it, so `obj.zones.all()` asks nothing more."""

    def __iter__(self):
        keys = [key for key in self.queryset.query.annotations if key.startswith(_PREFIX)]
        db = self.queryset.db
        for obj in super().__iter__():
            for key in keys:
                raw = obj.__dict__.pop(key, None)
                name = key.removeprefix(_PREFIX)
                lookup = obj._meta.get_field(name).related_model
                rows = sorted(
                    (lookup.from_db(db, _FIELDS, row) for row in json.loads(raw or "[]")),
                    key=lambda row: (row.position, row.pk),
                )
                fill_related(obj, name, rows)
            yield obj


def fill_related(obj, name: str, rows: list) -> None:
    """Put `rows` where `prefetch_related(name)` would have put them for `obj`, so that
    `getattr(obj, name).all()` returns them without a query."""
    manager = getattr(obj, name)
    cached = manager.get_queryset()
    cached._result_cache = rows
    cached._prefetch_done = True
    if not hasattr(obj, "_prefetched_objects_cache"):
        obj._prefetched_objects_cache = {}
    # A many-to-many manager names its cache; a reverse foreign key's is its field's.
    name = getattr(manager, "prefetch_cache_name", None) or manager.field.remote_field.cache_name
    obj._prefetched_objects_cache[name] = cached


@functools.cache
def choice_rows(model, name: str) -> Subquery:
    """The lookup rows of `model`'s many-to-many field `name` as one JSON text column of
    [id, code, position] arrays, for a query of `model` (a correlated subquery). Built
    once per process: a query that uses it resolves a copy (building it took a third of
    a millisecond, on pages that use several)."""
    field = model._meta.get_field(name)
    source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
    rows = (
        field.remote_field.through.objects.filter(**{source: OuterRef("pk")})
        .order_by()
        .values(source)
        .annotate(rows=_JsonRows(*(f"{target}__{column}" for column in _FIELDS)))
        .values("rows")
    )
    return Subquery(rows, output_field=TextField())


def choice_labels(lookup, raw: str | None) -> list[str]:
    """The labels of the lookup rows a `choice_rows` column holds, ordered as the lookup
    model orders them, for a page that shows them without the rows as objects."""
    rows = sorted(json.loads(raw or "[]"), key=lambda row: (row[2], row[0]))
    return [lookup.label_of(code) for _, code, _ in rows]


def with_choice_rows(queryset: QuerySet, *names: str) -> QuerySet:
    """`queryset` with the lookup rows (see ChoiceLookup) of its many-to-many fields
    `names` read in the same query, one correlated subquery each, instead of one more
    query per field as `prefetch_related(*names)` would make; `obj.<name>.all()` then
    reads them from the prefetch cache, ordered as the lookup model orders them."""
    annotated = queryset.annotate(**{_PREFIX + name: choice_rows(queryset.model, name) for name in names})
    annotated._iterable_class = _ChoiceRowsIterable
    return annotated


# The rows of several choice fields in one query ----------------------------------------


class _ReadChoiceIterator(ModelChoiceIterator):
    """A choice field's options from the rows already read for it: by `ChoiceRows`, or
    by its own queryset when that was evaluated (the stock iterator runs the queryset
    again even when its rows are there)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in offered_rows(self.field):
            yield self.choice(obj)


def read_once(field) -> None:
    """Let `field` show the rows of its queryset once they are read (`offered_rows`, or
    iterating `field.queryset`), instead of reading them again to show them."""
    field.iterator = _ReadChoiceIterator
    field.queryset = field.queryset  # a copy, which the widget's choices iterate


def offered_rows(field) -> list:
    """The rows a choice field offers, read once (see `read_once` and `ChoiceRows`)."""
    read_together = getattr(field, "_choice_rows", None)
    if read_together is not None:
        reader, name = read_together
        return reader.rows(name)
    queryset = field.queryset
    if queryset._result_cache is None:
        queryset._fetch_all()
    return queryset._result_cache


class _JsonRow(Func):
    """The row's columns as a JSON array, as text: JSON_BUILD_ARRAY on PostgreSQL,
    JSON_ARRAY on SQLite."""

    template = "CAST(JSON_BUILD_ARRAY(%(expressions)s) AS TEXT)"
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="JSON_ARRAY(%(expressions)s)")


class ChoiceRows:
    """The rows offered by several choice fields of a form, read in one UNION ALL query the
    first time one of them is asked for (the form shown, a default picked among them): a
    form posted valid and saved never reads them. `fields` maps names to fields; `columns`
    names, by attribute name, what the options of a field show besides their id (a
    `ChoiceLookup` field needs none: its id, code and position are read).

    Each part numbers its rows in its queryset's order (ROW_NUMBER, the primary key last),
    so that each field lists them as its own query would; each row comes as a JSON array
    of its columns and is made a model instance of those columns only. Each field keeps its
    queryset: a posted value is still checked against the table."""

    def __init__(self, fields: dict, columns: dict[str, tuple[str, ...]] | None = None):
        columns = columns or {}
        self._fields = fields
        self._columns = {name: ("id", *columns[name]) if name in columns else tuple(_FIELDS) for name in fields}
        self._rows: dict[str, list] | None = None
        for name, field in fields.items():
            read_once(field)
            field._choice_rows = (self, name)

    def rows(self, name: str) -> list:
        if self._rows is None:
            self._rows = self._read()
        return self._rows[name]

    def _read(self) -> dict[str, list]:
        parts = []
        for name, field in self._fields.items():
            queryset = field.queryset
            ordering = [*(queryset.query.order_by or queryset.model._meta.ordering), "pk"]
            parts.append(
                queryset.order_by()
                .annotate(
                    _field=Value(name),
                    _number=Window(RowNumber(), order_by=ordering),
                    _row=_JsonRow(*self._columns[name]),
                )
                .values_list("_field", "_number", "_row")
            )
        first, *others = parts
        numbered: dict[str, list] = {name: [] for name in self._fields}
        for name, number, row in first.union(*others, all=True):
            numbered[name].append((number, json.loads(row)))
        rows = {}
        for name, field in self._fields.items():
            model, columns = field.queryset.model, self._columns[name]
            model_fields = [model._meta.get_field(column) for column in columns]
            rows[name] = [
                model.from_db(first.db, columns, [f.to_python(v) for f, v in zip(model_fields, values, strict=True)])
                for _, values in sorted(numbered[name], key=lambda pair: pair[0])
            ]
        return rows
