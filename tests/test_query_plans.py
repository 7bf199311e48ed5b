"""The hot pages' queries read an index, not the whole table, on the database in use.

Timings are not tests, but query plans are: with a few thousand rows and fresh
statistics, the query behind "recently changed cases" on the staff home must walk its
index from the newest row, on PostgreSQL (no sequential scan of cases in
`EXPLAIN (FORMAT JSON)`) and on SQLite (`EXPLAIN QUERY PLAN` names the index), so a
change that loses the index fails here rather than at a clinic with 100,000 clients.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection

from cases.models import Case, Client
from tests import factories


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def plan_of(queryset) -> tuple[set[str], set[str]]:
    """(tables read sequentially, indexes used) by the queryset's query."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
            raw = cursor.fetchone()[0]
            nodes = list(_nodes((json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]))
            scanned = {n["Relation Name"] for n in nodes if n["Node Type"] == "Seq Scan"}
            return scanned, {n["Index Name"] for n in nodes if "Index Name" in n}
        cursor.execute("ANALYZE")
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        details = [row[-1] for row in cursor.fetchall()]
        scanned = {d.split()[1] for d in details if d.startswith("SCAN ") and " USING " not in d}
        indexes = {d.split(" USING ")[1].split()[-1] for d in details if " INDEX " in d}
        return scanned, indexes


@pytest.fixture
def clinic(db):
    """Cases enough that reading the whole table would be the planner's second choice."""
    clients = Client.objects.bulk_create(factories.ClientFactory.build_batch(3000))
    artist = factories.ArtistFactory()
    Case.objects.bulk_create(
        [
            factories.CaseFactory.build(client=client, lead_artist=artist, reference=f"SMP-2026-{i:05d}")
            for i, client in enumerate(clients)
        ]
    )


def test_recently_changed_cases_walk_their_index(clinic, staff_user):
    recent = Case.objects.visible_to(staff_user).for_list().order_by("-updated_at", "-pk")[:10]

    scanned, indexes = plan_of(recent)

    assert "case_live_recently_changed" in indexes, (scanned, indexes)
    assert "cases_case" not in scanned
