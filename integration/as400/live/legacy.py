"""The live stock reader on the AS400's own DB2 (``"legacy"``), and the router that keeps it read-only.

The Django database alias ``legacy`` (``LEGACY_DATABASE_URL``: DB2 for i through ibm-db-django, or
a replica) holds ``settings.AS400_LIVE_TABLE`` (``ERPLIB.STKBAL``); :class:`LegacyDatabaseReader`
runs one SELECT of SBQOH, SBQRS per pair on it. :class:`LegacyRouter` (``DATABASE_ROUTERS``) keeps
the alias out of every migration: nothing of ours is ever created there.

Every statement is bounded by the read's ``timeout``; how depends on the database
(:func:`statement_bound`):

- on a PostgreSQL replica, ``SET LOCAL statement_timeout`` in milliseconds (at least 1: 0 means no
  limit), inside one transaction, which it ends with;
- on DB2 for i (ibm-db-django, vendor ``"DB2"``), the CLI statement attribute
  ``SQL_ATTR_QUERY_TIMEOUT`` in whole seconds, rounded down and at least 1 (the CLI counts no
  finer, and 0 means no limit). ibm_db_dbi's cursor prepares a new statement on every ``execute``
  and gives no way to set an attribute between the prepare and the execute, and DB2's CLI does not
  promise that a statement inherits it from its connection; so the reader prepares its SELECT with
  ``ibm_db`` itself on the connection's handle, the attribute set before the prepare
  (``ibm_db.prepare(handle, sql, {SQL_ATTR_QUERY_TIMEOUT: seconds})``), and executes it per pair.
  A statement cut there fails with SQL0952 (SQLCODE -952, SQLSTATE 57014: "processing was
  cancelled due to an interrupt"), or SQL0666 when the server's own query limit ends it:
  :func:`~integration.as400.live.base.failure_kind` reads both as ``"timeout"``;
- anywhere else (the tests' SQLite), nothing bounds them.

No DB2 runs in the tests: the choice and the rounding (:func:`statement_bound`) and DB2's messages
(``failure_kind``) are tested, the ibm_db calls themselves are not.

May import: :mod:`.base`, Django's settings and database layer, ``ibm_db`` (on DB2 only, when read).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections, transaction

from integration.as400.live.base import (
    ItemPair,
    LiveFigures,
    LiveReadUnavailable,
    LiveStockReader,
    failure_kind,
)

#: The database alias the AS400's tables are read through.
LEGACY_ALIAS = "legacy"


@dataclass(frozen=True)
class StatementBound:
    """How the statements of one read are cut at its timeout on one database."""

    #: ``statement_timeout``: PostgreSQL's ``SET LOCAL``, in milliseconds; ``query_timeout``: DB2's CLI
    #: statement attribute ``SQL_ATTR_QUERY_TIMEOUT``, in seconds.
    how: Literal["statement_timeout", "query_timeout"]
    value: int


def statement_bound(vendor: str, timeout: float) -> StatementBound | None:
    """How to bound a statement within ``timeout`` seconds on ``vendor`` (Django's
    ``connection.vendor``), or None where the reader has no way to (SQLite).

    Never 0, which both databases read as "no limit": at least 1 ms on PostgreSQL, 1 s on DB2;
    otherwise rounded down, so that a statement is never given longer than the read.
    """
    if vendor == "postgresql":
        return StatementBound("statement_timeout", max(1, int(timeout * 1000)))
    if vendor == "DB2":
        return StatementBound("query_timeout", max(1, int(timeout)))
    return None


class LegacyDatabaseReader(LiveStockReader):
    """The ``legacy`` database alias: DB2 for i's ``ERPLIB.STKBAL`` (or a replica), read-only."""

    alias = LEGACY_ALIAS

    def read(self, pairs: Iterable[ItemPair], *, timeout: float) -> dict[ItemPair, LiveFigures]:
        if self.alias not in connections.databases:
            raise ImproperlyConfigured("AS400_LIVE_READER is 'legacy' but no 'legacy' database is configured")
        table = getattr(settings, "AS400_LIVE_TABLE", "ERPLIB.STKBAL")
        connection = connections[self.alias]
        bound = statement_bound(connection.vendor, timeout)
        if bound is not None and bound.how == "query_timeout":
            return self._read_db2(connection, table, pairs, seconds=bound.value)
        out: dict[ItemPair, LiveFigures] = {}
        replica = bound is not None
        try:
            # On a replica the read is one transaction, so that SET LOCAL bounds its statements (outside
            # a transaction PostgreSQL ignores it, with a mere warning) and ends with it.
            with (
                transaction.atomic(using=self.alias) if replica else nullcontext(),
                connection.cursor() as cursor,
            ):
                if bound is not None:
                    cursor.execute("SET LOCAL statement_timeout = %s", [bound.value])
                for item, location in pairs:
                    cursor.execute(
                        f"SELECT SBQOH, SBQRS FROM {table} WHERE SBITEM = %s AND SBMAG = %s", [item, location]
                    )
                    _take(out, table, (item, location), cursor.fetchone())
        except DatabaseError as exc:
            raise LiveReadUnavailable(str(exc), kind=failure_kind(str(exc))) from exc
        return out

    def _read_db2(
        self, connection: Any, table: str, pairs: Iterable[ItemPair], *, seconds: int
    ) -> dict[ItemPair, LiveFigures]:
        """The read on DB2 for i, its statement prepared with ``SQL_ATTR_QUERY_TIMEOUT`` (module docstring)."""
        import ibm_db  # only where the legacy alias is DB2 (ibm-db-django's driver)

        out: dict[ItemPair, LiveFigures] = {}
        sql = f"SELECT SBQOH, SBQRS FROM {table} WHERE SBITEM = ? AND SBMAG = ?"
        try:
            with connection.wrap_database_errors:
                connection.ensure_connection()
            handle = connection.connection.conn_handler  # ibm_db_dbi's connection: its ibm_db handle
            statement = ibm_db.prepare(handle, sql, {ibm_db.SQL_ATTR_QUERY_TIMEOUT: seconds})
            try:
                for item, location in pairs:
                    ibm_db.execute(statement, (item, location))
                    row = ibm_db.fetch_tuple(statement)
                    _take(out, table, (item, location), row or None)
            finally:
                ibm_db.free_stmt(statement)
        except LiveReadUnavailable:
            raise
        except Exception as exc:  # ibm_db raises plain Exceptions carrying DB2's message
            raise LiveReadUnavailable(str(exc), kind=failure_kind(str(exc))) from exc
        return out


def _take(out: dict[ItemPair, LiveFigures], table: str, pair: ItemPair, row: Any) -> None:
    """Keep a pair's figures, from its row (None: the AS400 has no row for it)."""
    if row is None:
        return
    if row[0] is None or row[1] is None:  # not the DDS's figures: trust none of this read
        raise LiveReadUnavailable(f"{table} holds NULL figures for {pair[0]}@{pair[1]}")
    out[pair] = LiveFigures(int(row[0]), int(row[1]))


class LegacyRouter:
    """Keeps the ``legacy`` alias read-only: nothing is written or migrated there, ever."""

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return None

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool | None:
        return False if db == LegacyDatabaseReader.alias else None
