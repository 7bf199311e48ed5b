"""Helpers the test modules share: a frozen clock, the messages of a response, the
"query count holds at two data sizes" check, and rows made once for a whole module."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext


def frozen_at(moment: datetime.datetime):
    """An autouse fixture holding the clock still at `moment` for every test of the module
    that assigns it: `frozen_clock = frozen_at(NOW)`."""

    @pytest.fixture(autouse=True)
    def frozen_clock():
        with time_machine.travel(moment, tick=False):
            yield

    return frozen_clock


def messages_of(response) -> list[str]:
    """The texts of the messages of `response`'s request: the ones it added, and, for a
    page the client was redirected to, the ones it showed."""
    return [str(message) for message in get_messages(response.wsgi_request)]


@contextmanager
def recorded_sql() -> Iterator[list[str]]:
    """`with recorded_sql() as sql:` — once the block ends, `sql` holds the statements it ran."""
    sql: list[str] = []
    with CaptureQueriesContext(connection) as captured:
        yield sql
    sql.extend(query["sql"] for query in captured.captured_queries)


def sql_of_get(http, url: str, data: dict | None = None, *, status: int = 200) -> list[str]:
    """The SQL statements of one GET of `url`, which must answer `status`."""
    with recorded_sql() as sql:
        response = http.get(url, data)
    assert response.status_code == status, (url, response.status_code)
    return sql


def assert_queries_hold(small: list[str], large: list[str], *, at_most: int | None = None) -> None:
    """The same work over few rows (`small`, its SQL) and over many (`large`) runs as many
    queries (a query per row would not), and no more than `at_most`."""
    assert len(small) == len(large), "\n".join(large)
    if at_most is not None:
        assert len(large) <= at_most, "\n".join(large)


@contextmanager
def kept_for_the_module(django_db_blocker) -> Iterator[None]:
    """For a module-scoped fixture: the rows made inside the block stay for each test of the
    module and are rolled back when the module ends. Each test's own transaction nests
    inside (a savepoint), so what a test writes is still undone after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield
        transaction.set_rollback(True)
