"""A paginator for big admin changelists: no COUNT(*) over a whole table on PostgreSQL."""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.db.models.lookups import IsNull
from django.db.models.sql.where import AND
from django.utils.functional import cached_property


class EstimatedCountPaginator(Paginator):
    """Counts the unfiltered list from PostgreSQL's statistics instead of scanning the table.

    PostgreSQL's COUNT(*) reads every row (MVCC), so with 100,000 clients each changelist
    page would pay for a full scan just to print the page count. When the list is the
    whole table, or the whole table less archived rows (the admin's default "active"
    filter), pg_class.reltuples – kept by ANALYZE and autovacuum – is close enough to
    number the pages. Archived rows are few and indexed, so they are counted exactly.

    Anything else (a search, a filter, SQLite, a table small enough that COUNT(*) is
    cheap, or a table never analysed) gets the exact count.
    """

    # Below this many rows an exact count is cheap, and exact numbers matter more while a
    # clinic is small (autovacuum re-analyses only after ~10 % of a table changes).
    exact_below = 10_000

    @cached_property
    def count(self) -> int:
        estimate = self.estimated_count()
        return super().count if estimate is None else estimate

    def estimated_count(self) -> int | None:
        """The estimate, or None when only an exact count will do."""
        queryset = self.object_list
        if not isinstance(queryset, QuerySet) or connections[queryset.db].vendor != "postgresql":
            return None
        only_active = _filters_only_active_rows(queryset)
        if queryset.query.where and not only_active:
            return None
        table_rows = _reltuples(queryset)
        if table_rows < self.exact_below:
            return None
        if only_active:
            archived = queryset.model._default_manager.using(queryset.db).filter(archived_at__isnull=False)
            table_rows -= archived.count()
        return max(table_rows, 0)


def _reltuples(queryset: QuerySet) -> int:
    """PostgreSQL's row estimate for the queryset's table (-1 if never analysed)."""
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [connections[queryset.db].ops.quote_name(queryset.model._meta.db_table)],
        )
        row = cursor.fetchone()
    return row[0] if row and row[0] is not None else -1


def _filters_only_active_rows(queryset: QuerySet) -> bool:
    """True if the only condition is `archived_at IS NULL` on the queryset's own table."""
    where = queryset.query.where
    if not where.children or where.negated or where.connector != AND:
        return False
    try:
        archived_at = queryset.model._meta.get_field("archived_at")
    except FieldDoesNotExist:
        return False
    return all(
        isinstance(node, IsNull)
        and node.rhs is True
        and getattr(node.lhs, "target", None) is archived_at
        and node.lhs.alias == queryset.query.base_table
        for node in where.children
    )
