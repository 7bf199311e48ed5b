"""Lookup rows for multi-valued choices (see smpclinic.models.ChoiceLookup)."""

import json

from django.db.models import Aggregate, OuterRef, QuerySet, Subquery, TextField, Value
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


def with_choice_rows(queryset: QuerySet, *names: str) -> QuerySet:
    """`queryset` with the lookup rows (see ChoiceLookup) of its many-to-many fields
    `names` read in the same query, one correlated subquery each, instead of one more
    query per field as `prefetch_related(*names)` would make; `obj.<name>.all()` then
    reads them from the prefetch cache, ordered as the lookup model orders them."""
    annotations = {}
    for name in names:
        field = queryset.model._meta.get_field(name)
        source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
        rows = (
            field.remote_field.through.objects.filter(**{source: OuterRef("pk")})
            .order_by()
            .values(source)
            .annotate(rows=_JsonRows(*(f"{target}__{column}" for column in _FIELDS)))
            .values("rows")
        )
        annotations[_PREFIX + name] = Subquery(rows, output_field=TextField())
    annotated = queryset.annotate(**annotations)
    annotated._iterable_class = _ChoiceRowsIterable
    return annotated


# Lookup rows of several choice fields in one query -------------------------------------


class OneReadChoiceIterator(ModelChoiceIterator):
    """A choice field's options from the rows already read (`prefetch_choices`), else
    from one plain read of its queryset, kept for the next render. The stock iterator
    runs the queryset again even when its rows are there, through `.iterator()`: on
    PostgreSQL a server-side cursor, three round trips for a handful of rows."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)


def prefetch_choices(fields: dict) -> None:
    """Read the lookup rows (see ChoiceLookup) offered by several choice fields of a form,
    `{name: field}`, in one UNION ALL query instead of one query per field. Each field
    keeps its queryset (a posted value is still checked against the table)."""
    querysets = [
        field.queryset.order_by().annotate(_field=Value(name)).values_list("_field", *_FIELDS)
        for name, field in fields.items()
    ]
    first, *others = querysets
    rows: dict[str, list] = {name: [] for name in fields}
    db = first.db
    for name, *values in first.union(*others, all=True):
        rows[name].append(fields[name].queryset.model.from_db(db, _FIELDS, values))
    for name, field in fields.items():
        field.iterator = OneReadChoiceIterator
        field.queryset = field.queryset  # a copy, which the widget's choices iterate
        field.queryset._result_cache = sorted(rows[name], key=lambda row: (row.position, row.pk))
        field.queryset._prefetch_done = True
