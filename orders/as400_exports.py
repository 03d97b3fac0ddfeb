"""What the AS400's ORDACK, ORDSTS and STRRTN exports mean to orders, and what a STKBAL settles of
them: their appliers, registered with the sync at start-up (``orders.apps``; see
``integration.as400.appliers``). The records arrive named (``integration.as400.records``): no AS400
field name is read past this point."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integration.as400.appliers import ApplyResult, Progress, after_hook_register, applier_register
from integration.as400.exchange.base import VerifiedPair
from integration.as400.records import ack_records, ordsts_records, strrtn_records
from orders.acks import ordack_apply
from orders.lifecycle import ordsts_apply, strrtn_apply
from orders.services import in_flight_settle


def _apply_acks(
    pair: VerifiedPair, columns: dict[str, list[Any]], progress: Progress | None, now: datetime
) -> ApplyResult:
    return ordack_apply(acks=ack_records(columns), source=pair.name.stem, now=now)


def _apply_ordsts(
    pair: VerifiedPair, columns: dict[str, list[Any]], progress: Progress | None, now: datetime
) -> ApplyResult:
    return ordsts_apply(records=ordsts_records(columns, pair.name.stem), source=pair.name.stem, now=now)


def _apply_strrtn(
    pair: VerifiedPair, columns: dict[str, list[Any]], progress: Progress | None, now: datetime
) -> ApplyResult:
    return strrtn_apply(records=strrtn_records(columns, pair.name.stem), source=pair.name.stem, now=now)


def _settle_after_stock(pair: VerifiedPair, result: ApplyResult, now: datetime) -> None:
    """Order lines the AS400 acknowledged before this extract was taken are in its figures now."""
    taken_at = pair.control.created_at
    assert taken_at is not None  # a control record without a date is refused by the port
    result.counts["in_flight_settled"] = in_flight_settle(taken_at=taken_at)


def register() -> None:
    applier_register("ORDACK", _apply_acks)
    applier_register("ORDSTS", _apply_ordsts)
    applier_register("STRRTN", _apply_strrtn)
    after_hook_register("STKBAL", _settle_after_stock)
