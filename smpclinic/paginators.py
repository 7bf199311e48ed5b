"""A paginator for big admin changelists: no COUNT(*) over a whole table on PostgreSQL."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

WHOLE_TABLE = "whole table"
ACTIVE_ROWS = "active rows"


class EstimatedCountPaginator(Paginator):
    """Counts the unfiltered list from PostgreSQL's statistics instead of scanning the table.

    PostgreSQL's COUNT(*) reads every row (MVCC), so with 100,000 clients each changelist
    page would pay for a full scan just to print the page count. When the list is the
    whole table, or the whole table less archived rows (the admin's default "active"
    filter), pg_class.reltuples – kept by ANALYZE and autovacuum – is close enough to
    number the pages. Archived rows are few and indexed, so they are counted exactly.

    The caller says which list it pages, since only it knows (the admin reads it from
    the request: `smpclinic.admin.EstimatedCountAdminMixin`): `rows` is WHOLE_TABLE,
    ACTIVE_ROWS, or None for anything else (a search, a filter), which gets the exact
    count, as do SQLite, a table small enough that COUNT(*) is cheap, and a table never
    analysed.
    """

    # Below this many rows an exact count is cheap, and exact numbers matter more while a
    # clinic is small (autovacuum re-analyses only after ~10 % of a table changes).
    exact_below = 10_000

    def __init__(self, object_list, per_page, orphans=0, allow_empty_first_page=True, *, rows: str | None = None):
        super().__init__(object_list, per_page, orphans, allow_empty_first_page)
        self.rows = rows

    @cached_property
    def count(self) -> int:
        estimate = self.estimated_count()
        return super().count if estimate is None else estimate

    def estimated_count(self) -> int | None:
        """The estimate, or None when only an exact count will do."""
        queryset = self.object_list
        if self.rows not in (WHOLE_TABLE, ACTIVE_ROWS) or not isinstance(queryset, QuerySet):
            return None
        if connections[queryset.db].vendor != "postgresql":
            return None
        table_rows = _reltuples(queryset)
        if table_rows < self.exact_below:
            return None
        if self.rows == ACTIVE_ROWS:
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
