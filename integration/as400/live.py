"""Reading stock live from the AS400's own tables (optional): the live stock reader port.

Where the site allows it, the platform may read SBQOH/SBQRS of the pairs a reservation is about to
take, just before taking them, and trust the lower of that figure and its projection. The read
must be short: it has a timeout, and a timeout, an "object in use" (SQL0913, the nightly batch)
or any other failure of the AS400 falls back to the projection. A fallback is counted, logged and
never shown to the customer as an error.

Implementations, chosen by ``settings.AS400_LIVE_READER``:

- ``none`` (default): no live reads;
- ``simulator``: the AS400 simulator's tables (development and tests);
- ``legacy``: the Django database alias ``legacy`` (DB2 through ibm-db-django, or a replica),
  read-only through :class:`LegacyRouter`;
- a dotted path to a class implementing :class:`LiveStockReader`.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

ItemPair = tuple[str, int]  # (AS400 item number, location)


@dataclass(frozen=True)
class LiveFigures:
    on_hand: int
    promised: int

    @property
    def free(self) -> int:
        return self.on_hand - self.promised


class LiveReadUnavailable(Exception):
    """The AS400 could not answer in time (down, batch window, timeout): use the projection."""

    def __init__(self, reason: str, *, kind: str = "error") -> None:
        super().__init__(reason)
        self.kind = kind  # "timeout", "object_in_use", "down" or "error"


class LiveStockReader(ABC):
    """Reads SBQOH/SBQRS of some pairs, within ``timeout`` seconds, or raises LiveReadUnavailable."""

    @abstractmethod
    def read(self, pairs: Iterable[ItemPair], *, timeout: float) -> dict[ItemPair, LiveFigures]:
        """Figures of the pairs the AS400 has a row for (a pair it has not is 0/0)."""


class NoLiveReader(LiveStockReader):
    def read(self, pairs: Iterable[ItemPair], *, timeout: float) -> dict[ItemPair, LiveFigures]:
        return {}


def _classify(message: str) -> str:
    if "SQL0913" in message:
        return "object_in_use"
    if "SQL0666" in message or "timeout" in message.lower() or "canceling statement" in message:
        return "timeout"
    if "SQL30081" in message:
        return "down"
    return "error"


class SimulatorLiveReader(LiveStockReader):
    """The simulator's STKBAL, through the same SQL read path a DB2 reader would take."""

    def read(self, pairs: Iterable[ItemPair], *, timeout: float) -> dict[ItemPair, LiveFigures]:
        from integration.as400.simulator.engine import Simulator
        from integration.as400.simulator.errors import AS400SQLError

        out: dict[ItemPair, LiveFigures] = {}
        try:
            with Simulator.from_settings() as simulator:
                for item, location in pairs:
                    rows = simulator.sql(
                        "SELECT SBQOH, SBQRS FROM ERPLIB.STKBAL WHERE SBITEM = ? AND SBMAG = ?",
                        (item, location),
                        wait=timeout,
                        timeout=timeout,
                    )
                    if rows:
                        out[(item, location)] = LiveFigures(int(rows[0][0]), int(rows[0][1]))
        except AS400SQLError as exc:
            raise LiveReadUnavailable(str(exc), kind=_classify(str(exc))) from exc
        return out


class LegacyDatabaseReader(LiveStockReader):
    """The ``legacy`` database alias: DB2 for i's ``ERPLIB.STKBAL`` (or a replica), read-only."""

    alias = "legacy"

    def read(self, pairs: Iterable[ItemPair], *, timeout: float) -> dict[ItemPair, LiveFigures]:
        if self.alias not in connections.databases:
            raise ImproperlyConfigured("AS400_LIVE_READER is 'legacy' but no 'legacy' database is configured")
        table = getattr(settings, "AS400_LIVE_TABLE", "ERPLIB.STKBAL")
        out: dict[ItemPair, LiveFigures] = {}
        try:
            with connections[self.alias].cursor() as cursor:
                if connections[self.alias].vendor == "postgresql":  # a replica: bound the statement
                    cursor.execute("SET LOCAL statement_timeout = %s", [int(timeout * 1000)])
                for item, location in pairs:
                    cursor.execute(
                        f"SELECT SBQOH, SBQRS FROM {table} WHERE SBITEM = %s AND SBMAG = %s", [item, location]
                    )
                    row = cursor.fetchone()
                    if row:
                        out[(item, location)] = LiveFigures(int(row[0]), int(row[1]))
        except DatabaseError as exc:
            raise LiveReadUnavailable(str(exc), kind=_classify(str(exc))) from exc
        return out


READERS: dict[str, str] = {
    "none": "integration.as400.live.NoLiveReader",
    "simulator": "integration.as400.live.SimulatorLiveReader",
    "legacy": "integration.as400.live.LegacyDatabaseReader",
}


def get_live_reader() -> LiveStockReader:
    name = str(getattr(settings, "AS400_LIVE_READER", "none"))
    try:
        cls: Any = import_string(READERS.get(name, name))
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"AS400_LIVE_READER is {name!r}: use one of {', '.join(READERS)} or a dotted path ({exc})"
        ) from exc
    return cls()  # type: ignore[no-any-return]


def live_check_enabled() -> bool:
    return str(getattr(settings, "AS400_LIVE_READER", "none")) != "none"


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
