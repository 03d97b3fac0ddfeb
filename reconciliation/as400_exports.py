"""What the AS400's nightly extracts mean to reconciliation, registered with the sync at start-up
(``reconciliation.apps``; see ``integration.as400.appliers``):

- WEBORD (full, every night) becomes :class:`WebOrderPicture`, replaced whole in the sync's
  transaction: the AS400's picture of the web orders at its extract time;
- a full STKBAL: just before it is applied, our projection of every pair (the previous night plus
  the day's deltas) is kept in :class:`StockPicture`; just after, the extract's own figures beside
  it. Both are one statement (the projection set aside in a temporary table, then the picture
  replaced by one ``INSERT ... SELECT``), whatever the number of pairs;
- once the night's full ITMMST, STKBAL and WEBORD are all applied, the night's run is started
  (after the commit, as a task).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection, transaction

from integration.as400.appliers import (
    ApplyResult,
    Progress,
    after_hook_register,
    applier_register,
    before_hook_register,
)
from integration.as400.exchange.base import VerifiedPair
from integration.as400.records import WebOrders
from inventory.models import StockLevel
from reconciliation.models import StockPicture, WebOrderPicture

NIGHT_FILES = ("ITMMST", "STKBAL", "WEBORD")
BATCH = 5000


def _apply_weborders(
    pair: VerifiedPair, columns: dict[str, list[Any]], progress: Progress | None, now: datetime
) -> ApplyResult:
    result = ApplyResult()
    orders = WebOrders.of(columns)
    seq = pair.name.seq
    seen: dict[str, int] = {}
    duplicates: list[str] = []
    for i, number in enumerate(orders.order_number):
        if number in seen:
            duplicates.append(number)
        seen[number] = i  # the last record of a number wins (WEBORD's key is unique: never seen)
    WebOrderPicture.objects.all().delete()
    rows = [
        WebOrderPicture(
            seq=seq, order_number=number, as400_order_number=orders.as400_order_number[i],
            status=orders.status[i], line_count=orders.line_count[i], ordered=orders.ordered[i],
            shipped=orders.shipped[i], total=orders.total[i], ordered_on=orders.ordered_on[i],
        )
        for number, i in seen.items()
    ]  # fmt: skip
    for start in range(0, len(rows), BATCH):
        WebOrderPicture.objects.bulk_create(rows[start : start + BATCH])
        if progress:
            progress(len(rows[start : start + BATCH]))
    result.counts["records"] = len(orders)
    result.counts["orders"] = len(rows)
    unknown_status = [
        f"{n} ({orders.status[i]!r})" for n, i in seen.items() if orders.status[i] not in "OEAS"
    ]
    result.finding("duplicate_order_numbers", duplicates)
    result.finding("unknown_status", unknown_status)
    transaction.on_commit(lambda: _night_ready(pair.name.file, pair.name.seq))
    return result


_PROJECTION_TABLE = "stkbal_projection"
#: A pair that holds something: one that holds nothing on either side (0 on hand and 0 promised,
#: ours and the extract's) says nothing to any check and is not kept — a pair missing from the
#: picture is read as zeros (a quarter of the pairs or more, in a chain of stores).
_HOLDS = "(on_hand <> 0 OR promised <> 0)"


def _keep_projection(pair: VerifiedPair, now: datetime) -> None:
    """Before a full STKBAL: every pair as our projection has it, aside in a temporary table
    (one statement, written to no log); the picture is made of it after the extract is applied."""
    if not pair.control.is_full:
        return
    stock = StockLevel._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_PROJECTION_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_PROJECTION_TABLE} AS "
            f"SELECT product_id, location_id, on_hand, promised FROM {stock} WHERE {_HOLDS}"
        )


def _keep_extract(pair: VerifiedPair, result: ApplyResult, now: datetime) -> None:
    """After a full STKBAL: the picture, replaced whole in one statement — every pair that holds
    something on either side, our projection of it beside the extract's figures (the pairs it
    zeroed too)."""
    if not pair.control.is_full:
        return
    picture, stock = StockPicture._meta.db_table, StockLevel._meta.db_table
    with connection.cursor() as cursor:
        # The last night's picture goes whole; TRUNCATE is transactional on PostgreSQL, and far
        # cheaper than deleting 1.55 million rows one by one.
        cursor.execute(f"TRUNCATE {picture}" if connection.vendor == "postgresql" else f"DELETE FROM {picture}")
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {_PROJECTION_TABLE}")  # temporary tables are never analysed on their own
        cursor.execute(
            f"INSERT INTO {picture} (seq, product_id, location_id, projected_on_hand, projected_promised, "
            f"on_hand, promised) SELECT %s, COALESCE(s.product_id, p.product_id), "
            f"COALESCE(s.location_id, p.location_id), COALESCE(p.on_hand, 0), COALESCE(p.promised, 0), "
            f"COALESCE(s.on_hand, 0), COALESCE(s.promised, 0) "
            f"FROM (SELECT product_id, location_id, on_hand, promised FROM {stock} WHERE {_HOLDS}) s "
            f"FULL JOIN {_PROJECTION_TABLE} p ON p.product_id = s.product_id AND p.location_id = s.location_id "
            "ORDER BY 2, 3",
            [pair.name.seq],
        )
        cursor.execute(f"DROP TABLE {_PROJECTION_TABLE}")
    transaction.on_commit(lambda: _night_ready(pair.name.file, pair.name.seq))


def _item_master_applied(pair: VerifiedPair, result: ApplyResult, now: datetime) -> None:
    if pair.control.is_full:
        transaction.on_commit(lambda: _night_ready(pair.name.file, pair.name.seq))


def _night_ready(file: str, seq: int) -> None:
    """A night's full extract was applied: when the three are in, start the night's run (a task)."""
    from reconciliation.tasks import reconcile_when_ready_enqueue

    reconcile_when_ready_enqueue(file, seq)


def register() -> None:
    applier_register("WEBORD", _apply_weborders)
    before_hook_register("STKBAL", _keep_projection)
    after_hook_register("STKBAL", _keep_extract)
    after_hook_register("ITMMST", _item_master_applied)
