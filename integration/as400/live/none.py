"""No live reads (``AS400_LIVE_READER = "none"``, the default): the projection alone decides.

May import: :mod:`.base`.
"""

from __future__ import annotations

from collections.abc import Iterable

from integration.as400.live.base import ItemPair, LiveFigures, LiveStockReader


class NoLiveReader(LiveStockReader):
    def read(self, pairs: Iterable[ItemPair], *, timeout: float) -> dict[ItemPair, LiveFigures]:
        return {}
