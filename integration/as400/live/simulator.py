"""The live stock reader on the AS400 simulator's tables (``"simulator"``): development and tests.

It takes the same SQL read path a DB2 reader would (``ERPLIB.STKBAL``, one SELECT per pair), and
the simulator answers as DB2 for i would, SQL0913 in its batch window included.

May import: :mod:`.base`; the simulator, inside :meth:`SimulatorLiveReader.read` only, so that
choosing another adapter never opens it.
"""

from __future__ import annotations

from collections.abc import Iterable

from integration.as400.live.base import (
    ItemPair,
    LiveFigures,
    LiveReadUnavailable,
    LiveStockReader,
    failure_kind,
)


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
            raise LiveReadUnavailable(str(exc), kind=failure_kind(str(exc))) from exc
        return out
