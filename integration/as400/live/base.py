"""The live stock reader as one port: :class:`LiveStockReader`, and what it returns or raises.

Where the site allows it, the platform may read SBQOH/SBQRS of the pairs a reservation is about to
take, just before taking them, and trust the lower of that figure and its projection. The read
must be short: it has a timeout, and a timeout, an "object in use" (SQL0913, the nightly batch)
or any other failure of the AS400 falls back to the projection. A fallback is counted, logged and
never shown to the customer as an error (``inventory.reservations``).

The port is :meth:`LiveStockReader.read`; an adapter (:mod:`.none`, :mod:`.simulator`,
:mod:`.legacy`, or a class of the site's own) implements it and turns whatever its transport
raises into :class:`LiveReadUnavailable`, whose ``kind`` :func:`failure_kind` reads from DB2 for
i's message. The contract test suite (``tests/integration/test_live_reader.py``) runs against the
adapters that read SQL.

May import: the standard library. Never an adapter, Django's database layer or the simulator.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["ItemPair", "LiveFigures", "LiveReadUnavailable", "LiveStockReader", "failure_kind"]

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


#: DB2's ways of saying a statement was cut at its time limit: the server's query limit (SQL0666)
#: or the CLI's ``SQL_ATTR_QUERY_TIMEOUT``, which interrupts it (SQL0952, SQLSTATE 57014, or the
#: CLI's own HYT00), by message id or by SQLCODE as ibm_db appends it.
DB2_TIMEOUTS = ("SQL0666", "SQLCODE=-666", "SQL0952", "SQLCODE=-952", "SQLSTATE=57014", "HYT00")


def failure_kind(message: str) -> str:
    """The :attr:`LiveReadUnavailable.kind` of a failed read, from DB2 for i's (or a replica's) message."""
    if "SQL0913" in message or "SQLCODE=-913" in message:
        return "object_in_use"
    if (
        any(code in message for code in DB2_TIMEOUTS)
        or "timeout" in message.lower()
        or "canceling statement" in message
    ):
        return "timeout"
    if "SQL30081" in message or "SQLCODE=-30081" in message:
        return "down"
    return "error"
