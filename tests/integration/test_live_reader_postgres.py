"""The ``legacy`` live reader on a PostgreSQL replica: its statements are cut at the timeout.

A replica of the AS400's tables is PostgreSQL at some sites. The reader bounds each read with
``SET LOCAL statement_timeout``, which PostgreSQL ignores outside a transaction: the read used to
wait as long as the replica took. Here the table is a view that sleeps; the test server is the
suite's own PostgreSQL (the default database), the tables live in a schema of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections

from integration.as400.live import LegacyDatabaseReader, LiveFigures, LiveReadUnavailable
from integration.as400.live.legacy import LEGACY_ALIAS
from tests.legacy_alias import legacy_alias

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(databases=[LEGACY_ALIAS])]


@pytest.fixture(scope="module", autouse=True)
def replica(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """``erplib.stkbal`` (one row) and ``erplib.stkbal_slow`` (the same, one second late) on the test
    database, reached through the ``legacy`` alias as a replica would be."""
    config = dict(connections["default"].settings_dict)
    with django_db_blocker.unblock(), legacy_alias(config):
        with connections[LEGACY_ALIAS].cursor() as cursor:
            cursor.execute("DROP SCHEMA IF EXISTS erplib CASCADE")
            cursor.execute("CREATE SCHEMA erplib")
            cursor.execute(
                "CREATE TABLE erplib.stkbal (sbitem varchar(15), sbmag integer, sbqoh integer, sbqrs integer)"
            )
            cursor.execute("INSERT INTO erplib.stkbal VALUES ('ITEM-1', 900, 12, 5)")
            cursor.execute("CREATE VIEW erplib.stkbal_slow AS SELECT s.* FROM erplib.stkbal s, pg_sleep(1)")
        try:
            yield
        finally:
            with connections[LEGACY_ALIAS].cursor() as cursor:
                cursor.execute("DROP SCHEMA erplib CASCADE")


def test_a_read_within_the_timeout_gives_the_figures(settings: Any) -> None:
    settings.AS400_LIVE_TABLE = "erplib.stkbal"

    figures = LegacyDatabaseReader().read([("ITEM-1", 900)], timeout=5)

    assert figures == {("ITEM-1", 900): LiveFigures(12, 5)}


def test_a_replica_slower_than_the_timeout_is_cut_and_unavailable_as_timeout(settings: Any) -> None:
    settings.AS400_LIVE_TABLE = "erplib.stkbal_slow"

    with pytest.raises(LiveReadUnavailable) as raised:
        LegacyDatabaseReader().read([("ITEM-1", 900)], timeout=0.2)

    assert raised.value.kind == "timeout"
    with connections[LEGACY_ALIAS].cursor() as cursor:  # the bound ended with the read
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"


def test_a_timeout_under_a_millisecond_still_bounds_the_read(settings: Any) -> None:
    """``statement_timeout = 0`` is no limit: a sub-millisecond timeout used to become one."""
    settings.AS400_LIVE_TABLE = "erplib.stkbal_slow"

    with pytest.raises(LiveReadUnavailable) as raised:
        LegacyDatabaseReader().read([("ITEM-1", 900)], timeout=0.0004)

    assert raised.value.kind == "timeout"
