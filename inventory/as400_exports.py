"""What the AS400's ITMMST and STKBAL exports mean to the catalogue: their appliers, registered
with the sync at start-up (``inventory.apps``; see ``integration.as400.appliers``). The records
arrive named (``integration.as400.records``): no AS400 field name is read past this point."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integration.as400.appliers import ApplyResult, Progress, applier_register
from integration.as400.exchange.base import VerifiedPair
from integration.as400.records import ItemMaster, StockBalances
from inventory.services import catalogue_apply_items, stock_apply_extract


def _apply_items(
    pair: VerifiedPair, columns: dict[str, list[Any]], progress: Progress | None, now: datetime
) -> ApplyResult:
    return catalogue_apply_items(
        master=ItemMaster.of(columns), full=pair.control.is_full, progress=progress, now=now
    )


def _apply_stock(
    pair: VerifiedPair, columns: dict[str, list[Any]], progress: Progress | None, now: datetime
) -> ApplyResult:
    taken_at = pair.control.created_at
    assert taken_at is not None  # a control record without a date is refused by the port
    return stock_apply_extract(
        balances=StockBalances.of(columns), full=pair.control.is_full, taken_at=taken_at, progress=progress
    )


def register() -> None:
    applier_register("ITMMST", _apply_items)
    applier_register("STKBAL", _apply_stock)
