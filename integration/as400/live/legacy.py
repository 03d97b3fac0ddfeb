"""The live stock reader on the AS400's own DB2 (``"legacy"``), and the router that keeps it read-only.

The Django database alias ``legacy`` (``LEGACY_DATABASE_URL``: DB2 for i through ibm-db-django, or
a replica) holds ``settings.AS400_LIVE_TABLE`` (``ERPLIB.STKBAL``); :class:`LegacyDatabaseReader`
runs one SELECT of SBQOH, SBQRS per pair on it. :class:`LegacyRouter` (``DATABASE_ROUTERS``) keeps
the alias out of every migration: nothing of ours is ever created there.

May import: :mod:`.base`, Django's settings and database layer.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext
from typing import Any

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


class LegacyDatabaseReader(LiveStockReader):
    """The ``legacy`` database alias: DB2 for i's ``ERPLIB.STKBAL`` (or a replica), read-only."""

    alias = LEGACY_ALIAS

    def read(self, pairs: Iterable[ItemPair], *, timeout: float) -> dict[ItemPair, LiveFigures]:
        if self.alias not in connections.databases:
            raise ImproperlyConfigured("AS400_LIVE_READER is 'legacy' but no 'legacy' database is configured")
        table = getattr(settings, "AS400_LIVE_TABLE", "ERPLIB.STKBAL")
        out: dict[ItemPair, LiveFigures] = {}
        connection = connections[self.alias]
        replica = connection.vendor == "postgresql"
        try:
            # On a replica the read is one transaction, so that SET LOCAL bounds its statements (outside
            # a transaction PostgreSQL ignores it, with a mere warning) and ends with it.
            with (
                transaction.atomic(using=self.alias) if replica else nullcontext(),
                connection.cursor() as cursor,
            ):
                if replica:
                    cursor.execute("SET LOCAL statement_timeout = %s", [max(1, int(timeout * 1000))])  # 0: no limit
                for item, location in pairs:
                    cursor.execute(
                        f"SELECT SBQOH, SBQRS FROM {table} WHERE SBITEM = %s AND SBMAG = %s", [item, location]
                    )
                    row = cursor.fetchone()
                    if row is None:
                        continue
                    if row[0] is None or row[1] is None:  # not the DDS's figures: trust none of this read
                        raise LiveReadUnavailable(f"{table} holds NULL figures for {item}@{location}")
                    out[(item, location)] = LiveFigures(int(row[0]), int(row[1]))
        except DatabaseError as exc:
            raise LiveReadUnavailable(str(exc), kind=failure_kind(str(exc))) from exc
        return out


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
