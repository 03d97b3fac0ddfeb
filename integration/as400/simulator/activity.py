"""Life between two extracts: store sales, price changes, the night's deliveries.

Stores sell all day without any web order: SBQOH falls at the stores (and a little at the
warehouse, which also serves trade customers), each sale stamped and logged so that the next
STKBAL delta carries it. Head office changes a few prices a day (the ITMMST delta). During the
nightly batch, goods received restock what ran low.

Every random choice comes from ``random.Random`` seeded with the catalogue's seed and the
simulated interval, so the same steps over the same catalogue give the same stock.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime, timedelta
from decimal import Decimal

from integration.as400.simulator.catalogue import ENDINGS, LOCATIONS, WAREHOUSE
from integration.as400.simulator.clock import epoch, from_epoch
from integration.as400.simulator.config import SimulatorConfig
from integration.as400.simulator.db import log_event, mark_changed, money, stamp, state_get, to_db
from integration.as400.simulator.faults import fault_consume

STORES = tuple(mag for mag in LOCATIONS if mag != WAREHOUSE)


def _seed(conn: sqlite3.Connection, config: SimulatorConfig) -> int:
    return int((state_get(conn, "seeded") or {}).get("seed", config.seed))


def open_minutes(config: SimulatorConfig, start: datetime, end: datetime) -> float:
    """How many minutes of [start, end) fall within the stores' opening hours."""
    total = 0.0
    day = start.date()
    while True:
        opens = datetime.combine(day, config.store_open, tzinfo=start.tzinfo)
        closes = datetime.combine(day, config.store_close, tzinfo=start.tzinfo)
        if opens >= end:
            break
        if day.weekday() in config.store_open_days:
            overlap = (min(closes, end) - max(opens, start)).total_seconds()
            if overlap > 0:
                total += overlap / 60
        day += timedelta(days=1)
    return total


def _count(rng: random.Random, expected: float) -> int:
    whole = int(expected)
    return whole + (1 if rng.random() < expected - whole else 0)


def store_sales(conn: sqlite3.Connection, config: SimulatorConfig, start: datetime, end: datetime) -> int:
    """The sales of the chain between ``start`` and ``end``: SBQOH falls; the number of sales."""
    if config.store_sales_per_hour <= 0 or end <= start:
        return 0
    minutes = open_minutes(config, start, end)
    if minutes <= 0:
        return 0
    rng = random.Random(f"{_seed(conn, config)}:sales:{epoch(start)}:{epoch(end)}")
    sales = _count(rng, config.store_sales_per_hour * minutes / 60)
    if sales == 0:
        return 0
    items = [row[0] for row in conn.execute("SELECT IMITEM FROM ITMMST WHERE IMSTAT = 'A' ORDER BY IMITEM")]
    if not items:
        return 0
    span = max(1, epoch(end) - epoch(start))
    done = 0
    for _ in range(sales):
        item = rng.choice(items)
        location = WAREHOUSE if rng.random() < config.warehouse_sales_share else rng.choice(STORES)
        quantity = 1 if rng.random() < 0.8 else rng.randint(2, 4)
        row = conn.execute(
            "SELECT SBQOH FROM STKBAL WHERE SBITEM = ? AND SBMAG = ?", (item, location)
        ).fetchone()
        on_hand = 0 if row is None else int(row[0])
        # A till rarely sells what the AS400 thinks is not there (that is how negatives appear).
        if on_hand < quantity and rng.random() > 0.03:
            continue
        day, clock = stamp(from_epoch(epoch(start) + 1 + rng.randrange(span)))
        conn.execute(
            "UPDATE STKBAL SET SBQOH = SBQOH - ?, SBDTCH = ?, SBHRCH = ? WHERE SBITEM = ? AND SBMAG = ?",
            (quantity, day, clock, item, location),
        )
        mark_changed(conn, "STKBAL", [(item, location)])
        done += 1
    return done


def price_changes(conn: sqlite3.Connection, config: SimulatorConfig, start: datetime, end: datetime) -> int:
    """Head office's price changes between ``start`` and ``end`` (IMPRIX, IMDTCH); how many."""
    if config.price_changes_per_day <= 0 or end <= start:
        return 0
    rng = random.Random(f"{_seed(conn, config)}:prices:{epoch(start)}:{epoch(end)}")
    changes = _count(rng, config.price_changes_per_day * (end - start).total_seconds() / 86_400)
    if changes == 0:
        return 0
    items = [row[0] for row in conn.execute("SELECT IMITEM FROM ITMMST WHERE IMSTAT <> 'D' ORDER BY IMITEM")]
    day, _ = stamp(end)
    for _ in range(changes):
        item = rng.choice(items)
        old = money(conn.execute("SELECT IMPRIX FROM ITMMST WHERE IMITEM = ?", (item,)).fetchone()[0])
        factor = Decimal(str(round(rng.uniform(0.8, 1.15), 2)))
        new = max(Decimal("0.49"), Decimal(int(old * factor)) + rng.choice(ENDINGS))
        if new == old:
            new += 1
        price_set(conn, item, new, day=day)
    return changes


def price_set(conn: sqlite3.Connection, item: str, price: Decimal, *, day: int) -> None:
    """Head office sets an item's price (IMPRIX, IMDTCH ``day``); the next ITMMST delta carries it."""
    conn.execute("UPDATE ITMMST SET IMPRIX = ?, IMDTCH = ? WHERE IMITEM = ?", (to_db(price), day, item))
    mark_changed(conn, "ITMMST", [(item, 0)])


def price_fault(conn: sqlite3.Connection, at: datetime) -> str:
    """The ``price`` fault, if on: the price change it asks for, made now; what it did ("" if off).

    On the fault's item, or the first active item in key order (IMITEM) without one.
    """
    fault = fault_consume(conn, "price", at=at)
    if fault is None:
        return ""
    price = money(fault.value)
    if fault.item:
        row = conn.execute("SELECT IMITEM, IMPRIX FROM ITMMST WHERE IMITEM = ?", (fault.item,)).fetchone()
    else:
        row = conn.execute(
            "SELECT IMITEM, IMPRIX FROM ITMMST WHERE IMSTAT = 'A' ORDER BY IMITEM LIMIT 1"
        ).fetchone()
    if row is None:
        note = f"fault price: no item {fault.item or '(no active item)'}, no price changed"
    else:
        price_set(conn, str(row["IMITEM"]), price, day=stamp(at)[0])
        note = f"fault price: {row['IMITEM']} {money(row['IMPRIX'])} -> {price} EUR"
    log_event(conn, at, "fault", note)
    return note


def nightly_restock(conn: sqlite3.Connection, config: SimulatorConfig, at: datetime) -> int:
    """Goods received overnight: low store shelves and the warehouse are refilled; rows changed."""
    rng = random.Random(f"{_seed(conn, config)}:restock:{epoch(at)}")
    rows = conn.execute(
        "SELECT s.SBITEM, s.SBMAG, s.SBQOH FROM STKBAL s JOIN ITMMST i ON i.IMITEM = s.SBITEM "
        "WHERE i.IMSTAT = 'A' AND ((s.SBMAG <> ? AND s.SBQOH <= 1) OR (s.SBMAG = ? AND s.SBQOH < 20)) "
        "ORDER BY s.SBITEM, s.SBMAG",
        (WAREHOUSE, WAREHOUSE),
    ).fetchall()
    day, clock = stamp(at)
    updates = []
    for item, mag, _on_hand in rows:
        if rng.random() < 0.35:
            added = rng.randint(100, 400) if mag == WAREHOUSE else rng.randint(3, 15)
            updates.append((added, day, clock, item, mag))
    conn.executemany(
        "UPDATE STKBAL SET SBQOH = SBQOH + ?, SBDTCH = ?, SBHRCH = ? WHERE SBITEM = ? AND SBMAG = ?", updates
    )
    mark_changed(conn, "STKBAL", [(u[3], u[4]) for u in updates])
    return len(updates)
