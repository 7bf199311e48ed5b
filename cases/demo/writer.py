"""The bulk writer: the clients' rows inserted with `executemany`.

`Rows` holds the rows of one chunk of clients, built with their primary keys allocated
up front; `Table` prepares one model's rows for its INSERT; `Writer` allocates the keys,
runs the INSERTs and moves the sequences past the new rows at the end. The rows skip
`save()` and signals, like `bulk_create`.
"""

from __future__ import annotations

import datetime
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections, models

from cases.models import (
    Case,
    Client,
    Consent,
    Consultation,
    CorrectionSession,
    FollowUp,
    Issue,
    LaserSession,
    Photo,
    PlanStep,
    TreatmentPlan,
)

BATCH = 2000  # rows per executemany

_STR_TYPES = {"CharField", "TextField", "SlugField"}
_INT_TYPES = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
    "ForeignKey",
    "OneToOneField",
}


def _as_str(value):
    return value if value.__class__ is str else str(value)  # TextChoices members -> their value


def _as_int(value):
    return value if value.__class__ is int else int(value)


def _memoised(field_: models.Field, connection) -> Callable:
    cache: dict = {}

    def convert(value):
        try:
            return cache[value]
        except KeyError:
            converted = cache[value] = field_.get_db_prep_save(value, connection)
            return converted

    return convert


class Table:
    """How to build and write rows of one model quickly.

    `bulk_create` spends most of its time preparing each value of each row (about
    140 µs a row on a slow machine); at three million rows that is minutes. Here rows
    are real model instances built through `Model.__init__`'s positional fast path,
    with primary keys allocated up front so children carry their parents' ids, and
    written with `executemany`. Only the columns that need it go through Django's own
    `get_db_prep_save` (dates, datetimes, UUIDs, decimals, IP addresses).
    """

    def __init__(self, model: type[models.Model], now: datetime.datetime, connection) -> None:
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.template: list = []
        self.index: dict[str, tuple[int, bool]] = {}
        self.uuid_at: list[int] = []
        self.convert: list[tuple[int, Callable]] = []
        for i, f in enumerate(self.fields):
            self.index[f.attname] = (i, False)
            self.index[f.name] = (i, f.is_relation)
            if f.primary_key:
                self.pk_at = i
                value = None
            elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = now
            elif isinstance(f, models.UUIDField):
                self.uuid_at.append(i)
                value = None
            else:
                value = f.get_default()  # callable defaults: once per run, e.g. today
            self.template.append(value)
            kind = f.get_internal_type()
            if kind in _STR_TYPES:
                self.convert.append((i, _as_str))
            elif kind in _INT_TYPES:
                self.convert.append((i, _as_int))
            elif kind in ("DateTimeField", "DateField"):
                self.convert.append((i, _memoised(f, connection)))  # few distinct values: "now", slots, days
            elif kind != "BooleanField":
                self.convert.append((i, lambda value, f=f: f.get_db_prep_save(value, connection)))
        self.attnames = [f.attname for f in self.fields]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in self.fields)
        placeholders = ", ".join(["%s"] * len(self.fields))
        self.sql = f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) VALUES ({placeholders})"  # nosec B608  # names from model meta, quoted; values are parameters

    def build(self, pk: int, values: dict) -> models.Model:
        args = self.template.copy()
        for name, value in values.items():
            i, related = self.index[name]
            args[i] = value.pk if related and value is not None else value
        args[self.pk_at] = pk
        for i in self.uuid_at:
            args[i] = uuid.uuid4()
        return self.model(*args)

    def rows(self, objs: list[models.Model]) -> list[list]:
        attnames = self.attnames
        rows = [[obj.__dict__[name] for name in attnames] for obj in objs]
        for i, convert in self.convert:
            for row in rows:
                if row[i] is not None:
                    row[i] = convert(row[i])
        return rows


class Rows:
    """Rows of one chunk of clients: created with their ids, written table by table."""

    ORDER = (
        Client,
        Case,
        Issue,
        Consultation,
        TreatmentPlan,
        PlanStep,
        LaserSession,
        CorrectionSession,
        FollowUp,
        Consent,
    )

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self.objs: dict[type[models.Model], list[models.Model]] = defaultdict(list)
        self.links: dict[models.ManyToManyField, list[tuple[int, int]]] = defaultdict(list)
        self.photo_jobs: list[Callable[[], list[Photo]]] = []

    def new(self, model: type[models.Model], **values) -> models.Model:
        """A model instance with its primary key already allocated (foreign keys by object)."""
        obj = self.writer.table(model).build(self.writer.allocate(model), values)
        self.objs[model].append(obj)
        return obj

    def link(self, field_: models.ManyToManyField, obj: models.Model, target_ids: Iterable[int]) -> None:
        self.links[field_].extend((obj.pk, target) for target in target_ids)

    def insert(self, counts: Counter) -> None:
        for model in self.ORDER:
            objs = self.objs.get(model)
            if objs:
                table = self.writer.table(model)
                self.writer.execute(table.sql, table.rows(objs))
                counts[model.__name__] += len(objs)
        for m2m, pairs in self.links.items():
            if pairs:
                self.writer.execute(self.writer.through_sql(m2m), pairs)
                counts[f"{m2m.model.__name__}.{m2m.name}"] += len(pairs)


class Writer:
    """Allocates primary keys and runs the INSERTs; resets sequences at the end.

    Keys continue after the highest one in each table, read inside the seeding
    transaction (SQLite's write lock keeps other writers out; on PostgreSQL the demo is
    meant for an otherwise idle database). Afterwards the sequences are moved past the
    new rows, as `loaddata` does.
    """

    def __init__(self, now: datetime.datetime) -> None:
        self.connection = connections[DEFAULT_DB_ALIAS]
        self.now = now
        self.tables: dict[type[models.Model], Table] = {}
        self.next_pk: dict[type[models.Model], int] = {}
        self.through: dict[models.ManyToManyField, str] = {}

    def table(self, model: type[models.Model]) -> Table:
        table = self.tables.get(model)
        if table is None:
            table = self.tables[model] = Table(model, self.now, self.connection)
        return table

    def allocate(self, model: type[models.Model]) -> int:
        pk = self.next_pk.get(model)
        if pk is None:
            pk = (model.objects.aggregate(last=models.Max("pk"))["last"] or 0) + 1
        self.next_pk[model] = pk + 1
        return pk

    def through_sql(self, m2m: models.ManyToManyField) -> str:
        sql = self.through.get(m2m)
        if sql is None:
            through = m2m.remote_field.through._meta
            quote = self.connection.ops.quote_name
            source = quote(through.get_field(m2m.m2m_field_name()).column)
            target = quote(through.get_field(m2m.m2m_reverse_field_name()).column)
            sql = self.through[m2m] = f"INSERT INTO {quote(through.db_table)} ({source}, {target}) VALUES (%s, %s)"  # nosec B608  # names from model meta, quoted; values are parameters
        return sql

    def execute(self, sql: str, rows: list) -> None:
        with self.connection.cursor() as cursor:
            for start in range(0, len(rows), BATCH):
                cursor.executemany(sql, rows[start : start + BATCH])

    def reset_sequences(self) -> None:
        statements = self.connection.ops.sequence_reset_sql(no_style(), list(self.tables))
        with self.connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
