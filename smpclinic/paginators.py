"""Paging big lists without counting them whole: the admin's changelists and the client
list (an estimate of the whole table on PostgreSQL), and lists counted up to a cap (the
review queue's sections)."""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet, Value
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


class CappedRows:
    """The rows of one or more querysets, one after the other, as a Paginator pages them,
    counted no further than `cap`.

    A list that can hold thousands of rows at a large clinic (the review queue's rows
    awaiting review: 14,000 at 100,000 clients) costs more to count exactly than to
    show a page of: PostgreSQL reads every row. Counted up to `cap` (`capped_counts`,
    one query for every list of a page), the pages stop at `cap` rows and `more` says
    there were more, for the page to say "100+" and offer its filters. Where the order
    is not a column, the parts keep it without a sort (the rows with adverse findings,
    then the others); a page reads only the parts it reaches, each sliced at the page,
    in one query where the database allows it.
    """

    def __init__(self, parts: list[QuerySet], counts: list[int], cap: int):
        self.parts, self.counts, self.cap = parts, counts, cap

    def count(self) -> int:
        return min(sum(self.counts), self.cap)

    @property
    def more(self) -> bool:
        return sum(self.counts) > self.cap

    def __getitem__(self, window: slice) -> list:
        start, stop = window.start or 0, window.stop
        reached = []
        for index, (part, counted) in enumerate(zip(self.parts, self.counts, strict=True)):
            if start < counted and stop > 0:
                reached.append(part.annotate(capped_part=Value(index))[max(start, 0) : min(stop, counted)])
            start, stop = start - counted, stop - counted
        if len(reached) > 1 and connections[reached[0].db].features.supports_slicing_ordering_in_compound:
            # One query whichever parts the page reaches (PostgreSQL: each part a walk of
            # its own, cut at the page, joined by UNION ALL), back in the parts' order.
            first, *others = reached
            return sorted(first.union(*others, all=True), key=lambda row: row.capped_part)
        return [row for part in reached for row in part]


def capped_counts(querysets: list[QuerySet], cap: int) -> list[int]:
    """How many rows each queryset has, counting at most `cap` + 1 of each (enough to know
    there are more than `cap`), in one query for them all: a scalar subquery per list,
    each a COUNT over its first `cap` + 1 rows, so it stops early on its own index."""
    if not querysets:
        return []
    parts, params = [], []
    for index, queryset in enumerate(querysets):
        first = queryset.order_by().values("pk")[: cap + 1]
        try:
            sql, part_params = first.query.get_compiler(using=first.db).as_sql()
        except EmptyResultSet:  # .none(), or a filter that can match nothing
            parts.append("0")
            continue
        # The ORM's own SQL for the queryset, its values kept apart as parameters.
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS capped_{index})")  # nosec B608
        params.extend(part_params)
    with connections[querysets[0].db].cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        return list(cursor.fetchone())
