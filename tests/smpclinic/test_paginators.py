"""Lists counted up to a cap and paged across several querysets (smpclinic.paginators)."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Client
from smpclinic.paginators import CappedRows, EstimatedCountPaginator, capped_counts
from tests import factories


def test_capped_counts_count_each_list_up_to_one_past_the_cap_in_one_query(db):
    for name in ("Ames", "Ames", "Ames", "Ames", "Bell"):
        factories.ClientFactory(last_name=name)
    lists = [
        Client.objects.filter(last_name="Ames"),
        Client.objects.filter(last_name="Bell"),
        Client.objects.filter(last_name="Cole"),
        Client.objects.none(),
    ]
    with CaptureQueriesContext(connection) as queries:
        counts = capped_counts(lists, cap=2)
    assert counts == [3, 1, 0, 0]  # 4 Ames: counted as 3, enough to say "more than 2"
    assert len(queries) == 1
    assert capped_counts(lists, cap=10) == [4, 1, 0, 0]
    assert capped_counts([], cap=10) == []


def test_capped_rows_page_across_their_parts_in_order_and_stop_at_the_cap(db):
    ames = [factories.ClientFactory(last_name="Ames", first_name=f"A{i}") for i in range(3)]
    bell = [factories.ClientFactory(last_name="Bell", first_name=f"B{i}") for i in range(4)]
    parts = [Client.objects.filter(last_name=name).order_by("first_name") for name in ("Ames", "Bell")]

    rows = CappedRows(parts, capped_counts(parts, cap=10), cap=10)
    assert (rows.count(), rows.more) == (7, False)
    paginator = EstimatedCountPaginator(rows, 2)
    assert paginator.num_pages == 4
    assert [list(paginator.page(n)) for n in range(1, 5)] == [ames[:2], [ames[2], bell[0]], bell[1:3], bell[3:]]

    capped = CappedRows(parts, capped_counts(parts, cap=5), cap=5)
    assert (capped.count(), capped.more) == (5, True)
    paginator = EstimatedCountPaginator(capped, 2)
    assert paginator.num_pages == 3
    assert list(paginator.page(3)) == [bell[1]]  # the fifth row, the last one listed


def test_a_page_reads_only_the_parts_it_reaches(db):
    factories.ClientFactory(last_name="Ames")
    factories.ClientFactory(last_name="Bell")
    parts = [Client.objects.filter(last_name=name) for name in ("Ames", "Bell")]
    rows = CappedRows(parts, [1, 1], cap=10)
    with CaptureQueriesContext(connection) as queries:
        assert [client.last_name for client in rows[1:2]] == ["Bell"]
    assert len(queries) == 1


def test_a_page_across_two_parts_keeps_their_order_in_one_query_where_the_database_allows(db):
    ames = [factories.ClientFactory(last_name="Ames", first_name=f"A{i}") for i in range(3)]
    bell = [factories.ClientFactory(last_name="Bell", first_name=f"B{i}") for i in range(3)]
    # The second part sorts before the first by name: the page keeps the parts' order.
    parts = [Client.objects.filter(last_name=name).order_by("-first_name") for name in ("Bell", "Ames")]
    rows = CappedRows(parts, [3, 3], cap=10)
    with CaptureQueriesContext(connection) as queries:
        page = rows[1:5]
    assert page == [bell[1], bell[0], ames[2], ames[1]]
    # PostgreSQL: one UNION ALL of the two walks; SQLite cannot cut the parts of a UNION.
    assert len(queries) == (1 if connection.features.supports_slicing_ordering_in_compound else 2)
