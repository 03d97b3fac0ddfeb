"""The nightly reconciliation at full size, on PostgreSQL: the run against a row-by-row baseline.

    DATABASE_URL=postgres://user@host:port/name .venv/bin/python bench/reconcile.py [--items 50000]
        [--locations 31] [--orders 100000] [--seed 1] [--night YYYY-MM-DD] [--reset]

In an empty, migrated database (``manage.py migrate``; ``--reset`` empties the tables it fills
first, for a database kept for this bench), builds one night in SQL (``INSERT ... SELECT
generate_series``): categories, products (most mapped, with a title and an image), the 31
locations, every stock pair (``--items`` × ``--locations``) with its ``StockPicture``, ``--orders``
web orders accepted by the AS400 before the extract, each with its lines, its AS400 events and its
``WebOrderPicture``, and the night's three applied full extracts (ITMMST, STKBAL, WEBORD). A known
number of discrepancies of every kind the checks look for is planted (and noise they must not
find: orders placed or shipped after the extract, drift the other way, unknown cancelled orders).

Then, in the same run:

- ``reconcile(night=..., trigger="bench")``, timed, with the time of each check;
- a straightforward baseline written here: load the rows with plain ``SELECT``s, compare them in
  Python loops, for the same kinds, timed;
- a table: kind | planted | run found | row-by-row found. The script exits 1 if the run and the
  baseline disagree on a kind (its count, or the subjects found), 2 if it cannot run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-" + "b" * 40)  # a bench, not a deployment
os.environ.setdefault("DJANGO_HTTPS", "false")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.db.migrations.executor import MigrationExecutor  # noqa: E402

from inventory.reference import locations_seed_default  # noqa: E402
from inventory.selectors import warehouse_code  # noqa: E402
from orders.lifecycle import LineCounts, order_status_of  # noqa: E402
from reconciliation.checks import CHECKS  # noqa: E402
from reconciliation.models import Discrepancy  # noqa: E402
from reconciliation.services import reconcile  # noqa: E402

PARIS = ZoneInfo("Europe/Paris")
#: The tables the bench fills (and ``--reset`` empties, with what refers to them).
TABLES = [
    "inventory_category", "inventory_product", "inventory_itemmapping", "inventory_location",
    "inventory_stocklevel", "inventory_reservation", "inventory_reservationline", "orders_order",
    "orders_orderline", "orders_as400event", "orders_ordercancellation", "integration_outboxmessage",
    "integration_filerun", "integration_alert", "reconciliation_weborderpicture",
    "reconciliation_stockpicture", "reconciliation_run", "reconciliation_discrepancy",
    "reconciliation_action",
]  # fmt: skip
SEQ = {"ITMMST": 311, "STKBAL": 312, "WEBORD": 313}


def say(text: str = "") -> None:
    print(text, flush=True)


def rss_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


class Plan:
    """How many of each discrepancy to plant, from the sizes (a minimum each, so that a small run has some)."""

    def __init__(self, items: int, locations: int, orders: int) -> None:
        self.items, self.locations, self.orders = items, locations, orders
        self.pairs = items * locations
        self.categories = min(990, max(10, items // 250 // 10 * 10))
        # Catalogue (products).
        self.unmapped = max(5, items // 1000)
        self.delisted = max(3, items // 2500)
        self.bare = max(5, items // 500)
        self.dup = max(3, items // 2000)
        self.suspended = max(5, items // 200)  # noise: not sellable
        self.off = items // 10  # noise: in categories not rolled out, unmapped, some without content
        # Orders.
        self.missing = max(5, orders // 1000)
        self.status = max(3, orders // 2000)
        self.quantities = max(3, orders // 2000)
        self.lines = max(3, orders // 4000)
        self.total = max(3, orders // 2000)
        self.order_status = max(3, orders // 5000)
        self.moved = max(5, orders // 500)  # noise: shipped after the extract
        self.not_acked = max(4, orders // 5000)
        self.late = max(10, orders // 200)  # noise: placed after the extract
        self.unknown = max(5, orders // 5000)
        self.unknown_cancelled = max(3, orders // 10000)  # noise: status A
        self.price = max(5, orders // 2000)
        self.after_ack = max(5, orders // 2500)
        self.line_events = max(5, orders // 5000)
        # Stock.
        self.promised_short = max(5, orders // 4000)
        self.drift = max(20, self.pairs // 2000)
        self.drift_noise = max(20, self.pairs // 2000)  # the projection lower than the extract: not drift
        self.in_flight = max(6, self.pairs // 50000) // 2 * 2


# --- Building the night -------------------------------------------------------------------------


def timed_sql(cursor: Any, label: str, statements: str | list[str]) -> None:
    started = time.perf_counter()
    for statement in [statements] if isinstance(statements, str) else statements:
        cursor.execute(statement)
    say(f"    {label:<72} {time.perf_counter() - started:7.2f} s")


def build(args: argparse.Namespace, plan: Plan, times: dict[str, datetime]) -> dict[str, Any]:
    """The night, in SQL; returns what was planted per kind."""
    n, c, o, s = plan.items, plan.categories, plan.orders, args.seed * 100
    t0 = times["T0"].isoformat()
    w_at = times["WEBORD"].isoformat()
    warehouse = warehouse_code()
    cc = min(5, plan.locations - 1)  # click-and-collect stores: 001-005
    rolled = c - c // 10  # categories 10, 20, ... are off; the others rolled out (x1 pilot)
    # Product roles, by rank in a hashed order: the planted defects first, then the noise, then clean.
    bounds: list[tuple[str, int]] = []
    start = 0
    for role, count in (("unmapped", plan.unmapped), ("delisted", plan.delisted), ("bare", plan.bare),
                        ("dup", plan.dup), ("twin", plan.dup), ("suspended", plan.suspended),
                        ("off", plan.off)):  # fmt: skip
        bounds.append((role, start + count))
        start += count
    if start >= n // 2:
        raise SystemExit("--items is too small for the plan (at least 1000)")
    role_case = " ".join(f"WHEN rk <= {end} THEN '{role}'" for role, end in bounds) + " ELSE 'clean'"
    dup_start = dict(bounds)["bare"]
    twin_start = dict(bounds)["dup"]

    with connection.cursor() as cur:
        timed_sql(cur, "helpers", [
            "CREATE FUNCTION pg_temp.h(i bigint, salt int) RETURNS bigint LANGUAGE sql IMMUTABLE "
            "AS $$ SELECT hashint8extended(i, salt::bigint) & 9223372036854775807 $$",
        ])  # fmt: skip
        locations_seed_default()
        cur.execute(f"DELETE FROM inventory_location WHERE code <> {warehouse} AND code >= {plan.locations}")
        timed_sql(cur, f"{c} categories, {n:,} products, their mappings", [
            f"""INSERT INTO inventory_category (id, family_code, name, rollout_stage, safety_stock)
                SELECT i, 'F' || lpad(i::text, 3, '0'), 'Famille ' || i,
                       CASE WHEN i % 10 = 0 THEN 'off' WHEN i % 10 = 1 THEN 'pilot' ELSE 'live' END, 0
                FROM generate_series(1, {c}) i""",
            f"""CREATE TEMP TABLE prole AS
                SELECT id, rk, CASE {role_case} END AS role FROM (
                    SELECT id, row_number() OVER (ORDER BY pg_temp.h(id, {s + 1})) AS rk
                    FROM generate_series(1, {n}) id) x""",
            "CREATE UNIQUE INDEX ON prole (rk)",
            f"""INSERT INTO inventory_product (id, item_number, ean, as400_description, price, vat_code, status,
                    as400_changed_on, title, long_description, images, attributes, created_at, updated_at,
                    category_id)
                SELECT r.id, 'IT' || lpad(r.id::text, 8, '0'),
                    CASE WHEN r.role = 'dup' THEN '400' || lpad(t.id::text, 10, '0')
                         WHEN r.role = 'off' AND pg_temp.h(r.id, {s + 2}) % 5 = 0 THEN ''
                         ELSE '400' || lpad(r.id::text, 10, '0') END,
                    'ARTICLE ' || r.id,
                    round(3 + (pg_temp.h(r.id, {s + 3}) % 20000) / 100.0, 2), '1',
                    CASE r.role WHEN 'delisted' THEN 'D' WHEN 'suspended' THEN 'S' ELSE 'A' END,
                    DATE '2026-01-01' + (pg_temp.h(r.id, {s + 4}) % 300)::int,
                    CASE WHEN r.role = 'bare' AND r.rk % 2 = 0 THEN ''
                         WHEN r.role = 'off' AND pg_temp.h(r.id, {s + 5}) % 3 = 0 THEN ''
                         ELSE 'Article ' || r.id END,
                    '',
                    CASE WHEN r.role = 'bare' AND r.rk % 2 = 1 THEN '[]'::jsonb
                         WHEN r.role = 'off' AND pg_temp.h(r.id, {s + 5}) % 3 = 0 THEN '[]'::jsonb
                         ELSE jsonb_build_array('https://img.example/' || r.id || '.jpg') END,
                    '{{}}'::jsonb, '{t0}', '{t0}',
                    CASE WHEN r.role = 'off' THEN 10 * (1 + pg_temp.h(r.id, {s + 6}) % {c // 10})
                         ELSE (pg_temp.h(r.id, {s + 6}) % {rolled}) + (pg_temp.h(r.id, {s + 6}) % {rolled}) / 9 + 1
                    END
                FROM prole r LEFT JOIN prole t ON r.role = 'dup' AND t.rk = r.rk - {dup_start} + {twin_start}""",
            f"""INSERT INTO inventory_itemmapping (sku, created_at, product_id)
                SELECT 'SKU' || lpad(id::text, 8, '0'), '{t0}', id FROM prole WHERE role NOT IN ('unmapped', 'off')""",
            """CREATE TEMP TABLE sellable AS
                SELECT row_number() OVER (ORDER BY id) - 1 AS k, id FROM prole WHERE role IN ('clean', 'twin')""",
            "CREATE UNIQUE INDEX ON sellable (k)",
        ])  # fmt: skip
        cur.execute("SELECT count(*) FROM sellable")
        n_sellable = cur.fetchone()[0]

        stkbal = times["STKBAL"].isoformat()
        timed_sql(cur, f"{plan.pairs:,} stock pairs", [
            f"""INSERT INTO inventory_stocklevel (product_id, location_id, on_hand, promised, as_of, reserved, in_flight)
                SELECT p.id, l.code, CASE
                    WHEN l.code = {warehouse} THEN CASE
                        WHEN x % 100 < 2 THEN -(1 + x / 100 % 5) WHEN x % 100 < 10 THEN 0 ELSE 10 + x / 100 % 200 END
                    ELSE CASE
                        WHEN x % 100 < 2 THEN -(1 + x / 100 % 3) WHEN x % 100 < 27 THEN 0 ELSE 1 + x / 100 % 12 END
                    END,
                    CASE WHEN x / 1000 % 20 = 0 THEN 1 + x / 10000 % 3 ELSE 0 END, '{stkbal}', 0, 0
                FROM prole p CROSS JOIN inventory_location l
                CROSS JOIN LATERAL (SELECT pg_temp.h(p.id * 1000 + l.code, {s + 7}) AS x) h""",
            # The unmapped items planted hold stock at the warehouse, whatever the draw.
            f"""UPDATE inventory_stocklevel SET on_hand = greatest(on_hand, 5)
                WHERE location_id = {warehouse} AND product_id IN (SELECT id FROM prole WHERE role = 'unmapped')""",
        ])  # fmt: skip

        # The orders: 1..o regular (accepted by the AS400 before the extract), then the planted
        # "sent, never acknowledged", then the noise placed after the extract.
        na, nl = plan.not_acked, plan.late
        kinds: list[tuple[str, int]] = []
        start = 0
        for name, count in (("missing", plan.missing), ("status", plan.status), ("quantities", plan.quantities),
                            ("lines", plan.lines), ("total", plan.total), ("order_status", plan.order_status),
                            ("moved", plan.moved)):  # fmt: skip
            kinds.append((name, start + count))
            start += count
        plant_case = " ".join(f"WHEN ark <= {end} THEN '{name}'" for name, end in kinds) + " ELSE ''"
        event_at = f"least(created + interval '20 hours', TIMESTAMPTZ '{t0}' - interval '5 minutes')"
        timed_sql(cur, f"{o + na + nl:,} orders, their lines and AS400 events", [
            f"""CREATE TEMP TABLE oplan AS
                SELECT id, type, loc, created, nlines,
                       CASE WHEN type = 'accepted' THEN row_number() OVER (PARTITION BY type ORDER BY pg_temp.h(id, {s + 8}))
                       END AS ark
                FROM (
                    SELECT id, CASE
                        WHEN id > {o + na} THEN 'late' WHEN id > {o} THEN 'not_acked'
                        WHEN r < 60 THEN 'accepted' WHEN r < 65 THEN 'accepted_cc' WHEN r < 83 THEN 'shipped'
                        WHEN r < 87 THEN 'shipped_s' WHEN r < 91 THEN 'ready' WHEN r < 96 THEN 'picked'
                        WHEN r < 98 THEN 'cancelled' ELSE 'accepted' END AS type,
                        CASE WHEN id <= {o} AND (r >= 60 AND r < 65 OR r >= 87 AND r < 91)
                             THEN 1 + pg_temp.h(id, {s + 10}) % {cc} ELSE {warehouse} END AS loc,
                        CASE WHEN id > {o + na} THEN TIMESTAMPTZ '{w_at}' + interval '15 minutes' + (id - {o + na}) * interval '3 seconds'
                             WHEN id > {o} THEN TIMESTAMPTZ '{t0}' - interval '3 hours'
                             ELSE TIMESTAMPTZ '{t0}' - interval '10 minutes' - (pg_temp.h(id, {s + 11}) % (7 * 86400)) * interval '1 second'
                        END AS created,
                        1 + pg_temp.h(id, {s + 12}) % 3 AS nlines
                    FROM (SELECT id, pg_temp.h(id, {s + 9}) % 100 AS r FROM generate_series(1, {o + na + nl}) id) x
                ) y""",
            "UPDATE oplan SET type = 'accepted' WHERE type = 'accepted_cc'",
            f"ALTER TABLE oplan ADD COLUMN plant text; UPDATE oplan SET plant = CASE {plant_case} END WHERE type = 'accepted'",
            "CREATE UNIQUE INDEX ON oplan (id)",
            f"""INSERT INTO orders_order (id, order_number, client, idempotency_key, content_hash, status, delivery,
                    last_name, first_name, address_line1, address_line2, postal_code, city, country, phone, email,
                    total, as400_order_number, refusal_reason, created_at, updated_at, pickup_location_id,
                    reservation_id, attention_note, attention_resolved_at, attention_resolved_by)
                SELECT id, 'WEB-' || lpad(id::text, 8, '0'), 'shop', '', md5(id::text),
                    CASE type WHEN 'accepted' THEN 'accepted' WHEN 'shipped' THEN 'shipped' WHEN 'shipped_s' THEN 'shipped'
                        WHEN 'ready' THEN 'ready_in_store' WHEN 'picked' THEN 'picked' WHEN 'cancelled' THEN 'cancelled'
                        ELSE 'sent' END,
                    CASE WHEN loc = {warehouse} THEN 'home' ELSE 'click_and_collect' END,
                    'Client ' || id, 'Prénom', '1 rue de la Paix', '', '75002', 'Paris', 'FR', '', '', 0,
                    CASE WHEN type IN ('not_acked', 'late') THEN '' ELSE 'C' || lpad(id::text, 9, '0') END, '',
                    created,
                    CASE WHEN type IN ('accepted', 'not_acked', 'late') THEN created + interval '2 minutes' ELSE {event_at} END,
                    loc, NULL, '', NULL, ''
                FROM oplan""",
            f"""INSERT INTO orders_orderline (order_id, line_number, product_id, location_id, quantity, unit_price,
                    acked_at, in_flight, picked, shipped, ready, cancelled, returned)
                SELECT o.id, ln, p.id, o.loc, q, p.price,
                    CASE WHEN o.type IN ('not_acked', 'late') THEN NULL ELSE o.created + interval '2 minutes' END,
                    CASE WHEN o.type IN ('not_acked', 'late') THEN q ELSE 0 END,
                    CASE WHEN o.type IN ('shipped', 'ready', 'picked') THEN q WHEN o.type = 'shipped_s' THEN q - cx ELSE 0 END,
                    CASE WHEN o.type = 'shipped' THEN q WHEN o.type = 'shipped_s' THEN q - cx ELSE 0 END,
                    CASE WHEN o.type = 'ready' THEN q ELSE 0 END,
                    CASE WHEN o.type = 'cancelled' THEN q WHEN o.type = 'shipped_s' THEN cx ELSE 0 END,
                    0
                FROM oplan o CROSS JOIN LATERAL generate_series(1, o.nlines) ln
                CROSS JOIN LATERAL (SELECT 1 + pg_temp.h(o.id * 4 + ln, {s + 13}) % 3 AS q) qq
                CROSS JOIN LATERAL (SELECT CASE WHEN ln = 1 AND q >= 2 THEN 1 ELSE 0 END AS cx) cc
                JOIN sellable sl ON sl.k = pg_temp.h(o.id * 4 + ln, {s + 14}) % {n_sellable}
                JOIN inventory_product p ON p.id = sl.id""",
        ])  # fmt: skip

        # Lines planted: open lines of accepted orders (not those shipped after the extract).
        timed_sql(cur, "lines planted: stale prices, in flight after the ack; totals; events", [
            f"""CREATE TEMP TABLE lplan AS
                SELECT l.id, row_number() OVER (ORDER BY pg_temp.h(l.id, {s + 15})) AS rk
                FROM orders_orderline l JOIN oplan o ON o.id = l.order_id
                WHERE o.type = 'accepted' AND o.plant <> 'moved'""",
            f"""UPDATE orders_orderline SET unit_price = unit_price + 1.00
                WHERE id IN (SELECT id FROM lplan WHERE rk <= {plan.price})""",
            f"""UPDATE orders_orderline SET in_flight = quantity
                WHERE id IN (SELECT id FROM lplan WHERE rk > {plan.price} AND rk <= {plan.price + plan.after_ack})""",
            """UPDATE orders_order o SET total = t.total
               FROM (SELECT order_id, sum(unit_price * quantity) AS total FROM orders_orderline GROUP BY order_id) t
               WHERE t.order_id = o.id""",
            """INSERT INTO orders_as400event (file, source, record, key, kind, code, order_number, as400_order_number,
                    line_number, item, quantity, applied_quantity, tracking, store, reason, occurred_at, outcome, note,
                    received_at, resolved_at, resolved_by, resolution, line_id, order_id)
                SELECT 'ORDSTS', 'ORDSTS_' || lpad((1 + l.id % 900)::text, 6, '0'), l.id, md5(ev.kind || l.id),
                    ev.kind, ev.code, o.order_number, o.as400_order_number, l.line_number, p.item_number, ev.qty, ev.qty,
                    CASE WHEN ev.kind = 'shipped' THEN 'TRK' || l.id ELSE '' END, NULL, '', o.updated_at - ev.before,
                    'applied', '', o.updated_at - ev.before + interval '2 minutes', NULL, '', '', l.id, o.id
                FROM orders_orderline l JOIN orders_order o ON o.id = l.order_id JOIN inventory_product p ON p.id = l.product_id
                CROSS JOIN LATERAL (VALUES ('picked', 'P', l.picked, interval '3 hours'),
                                           ('shipped', 'E', l.shipped, interval '0 hours'),
                                           ('ready', 'L', l.ready, interval '0 hours'),
                                           ('cancelled', 'A', l.cancelled, interval '1 hour')) ev(kind, code, qty, before)
                WHERE ev.qty > 0""",
            # Shipped lines whose ORDSTS E event is gone: their counter no longer matches the events.
            f"""DELETE FROM orders_as400event WHERE kind = 'shipped' AND line_id IN (
                    SELECT l.id FROM orders_orderline l JOIN oplan o ON o.id = l.order_id WHERE o.type = 'shipped'
                    ORDER BY pg_temp.h(l.id, {s + 16}) LIMIT {plan.line_events})""",
        ])  # fmt: skip

        figures = """
            SELECT o.id, o.order_number, o.as400_order_number, o.created_at, count(*) AS line_count,
                   sum(l.quantity - l.cancelled) AS ordered, sum(l.shipped + l.ready) AS shipped,
                   sum(l.unit_price * (l.quantity - l.cancelled)) AS total,
                   sum(l.quantity - l.cancelled - l.shipped - l.ready) AS open, sum(l.cancelled) AS cancelled
            FROM orders_order o JOIN orders_orderline l ON l.order_id = o.id"""
        seq = SEQ["WEBORD"]
        timed_sql(cur, "WEBORD pictures, with the planted differences", [
            f"""INSERT INTO reconciliation_weborderpicture (seq, order_number, as400_order_number, status, line_count,
                    ordered, shipped, total, ordered_on)
                SELECT {seq}, order_number, CASE WHEN as400_order_number = '' THEN 'C9' || lpad(id::text, 8, '0')
                                                ELSE as400_order_number END,
                    CASE WHEN open > 0 THEN 'O' WHEN shipped = 0 THEN 'A' WHEN cancelled = 0 THEN 'E' ELSE 'S' END,
                    line_count, ordered, shipped, total, (created_at AT TIME ZONE 'Europe/Paris')::date
                FROM ({figures} WHERE o.id <= {o + na // 2} GROUP BY o.id) f""",
            # The AS400 knows orders we do not (most open or shipped; a few cancelled, which are not compared).
            f"""INSERT INTO reconciliation_weborderpicture (seq, order_number, as400_order_number, status, line_count,
                    ordered, shipped, total, ordered_on)
                SELECT {seq}, 'WEB-9' || lpad(i::text, 7, '0'), 'D' || lpad(i::text, 9, '0'),
                       CASE WHEN i > {plan.unknown} THEN 'A' WHEN i % 2 = 0 THEN 'E' ELSE 'O' END,
                       2, 3, CASE WHEN i % 2 = 0 THEN 3 ELSE 0 END, 57.30, DATE '{times["T0"].date() - timedelta(days=2)}'
                FROM generate_series(1, {plan.unknown + plan.unknown_cancelled}) i""",
            """DELETE FROM reconciliation_weborderpicture
                WHERE order_number IN (SELECT 'WEB-' || lpad(id::text, 8, '0') FROM oplan WHERE plant = 'missing')""",
            """UPDATE reconciliation_weborderpicture SET status = CASE status WHEN 'O' THEN 'E' ELSE 'O' END
                WHERE order_number IN (SELECT 'WEB-' || lpad(id::text, 8, '0') FROM oplan WHERE plant = 'status')""",
            """UPDATE reconciliation_weborderpicture SET shipped = shipped + 1
                WHERE order_number IN (SELECT 'WEB-' || lpad(id::text, 8, '0') FROM oplan WHERE plant = 'quantities')""",
            """UPDATE reconciliation_weborderpicture SET line_count = line_count + 1
                WHERE order_number IN (SELECT 'WEB-' || lpad(id::text, 8, '0') FROM oplan WHERE plant = 'lines')""",
            """UPDATE reconciliation_weborderpicture SET total = total + 1.50
                WHERE order_number IN (SELECT 'WEB-' || lpad(id::text, 8, '0') FROM oplan WHERE plant = 'total')""",
        ])  # fmt: skip

        timed_sql(cur, "stock: SBQRS holds the open web units; in flight; after-extract moves", [
            # What the AS400 held for the accepted orders when it took STKBAL (before the moves below).
            f"""UPDATE inventory_stocklevel s SET promised = s.promised + a.units
                FROM (SELECT product_id, location_id, sum(quantity - cancelled - shipped - ready) AS units
                      FROM orders_orderline WHERE order_id <= {o} GROUP BY 1, 2) a
                WHERE a.units > 0 AND s.product_id = a.product_id AND s.location_id = a.location_id""",
            """UPDATE inventory_stocklevel s SET in_flight = a.units
               FROM (SELECT product_id, location_id, sum(in_flight) AS units FROM orders_orderline
                     WHERE in_flight > 0 GROUP BY 1, 2) a
               WHERE s.product_id = a.product_id AND s.location_id = a.location_id""",
            # Orders shipped after WEBORD was taken: not compared tonight.
            """UPDATE orders_orderline SET picked = quantity, shipped = quantity
                WHERE order_id IN (SELECT id FROM oplan WHERE plant = 'moved')""",
            f"""UPDATE orders_order SET status = 'shipped', updated_at = TIMESTAMPTZ '{w_at}' + interval '20 minutes'
                WHERE id IN (SELECT id FROM oplan WHERE plant = 'moved')""",
            """INSERT INTO orders_as400event (file, source, record, key, kind, code, order_number, as400_order_number,
                    line_number, item, quantity, applied_quantity, tracking, store, reason, occurred_at, outcome, note,
                    received_at, resolved_at, resolved_by, resolution, line_id, order_id)
                SELECT 'ORDSTS', 'ORDSTS_000999', l.id, md5('moved' || l.id), 'shipped', 'E', o.order_number,
                    o.as400_order_number, l.line_number, p.item_number, l.quantity, l.quantity, 'TRK' || l.id, NULL, '',
                    o.updated_at, 'applied', '', o.updated_at + interval '2 minutes', NULL, '', '', l.id, o.id
                FROM orders_orderline l JOIN orders_order o ON o.id = l.order_id JOIN inventory_product p ON p.id = l.product_id
                WHERE o.id IN (SELECT id FROM oplan WHERE plant = 'moved')""",
            # Stored statuses that their lines do not say (accepted orders marked picked or partly shipped).
            """UPDATE orders_order o SET status = CASE WHEN p.id % 2 = 0 THEN 'picked' ELSE 'partially_shipped' END
               FROM oplan p WHERE p.id = o.id AND p.plant = 'order_status'""",
            """INSERT INTO integration_outboxmessage (kind, payload, state, attempts, next_attempt_at, last_error,
                    sent_at, acked_at, created_at, subject, outbound_file_id, left_in_failed_write)
                SELECT 'ORDIMP', '{}'::jsonb, 'sent', 1, created, '', created + interval '1 minute', NULL, created, id,
                       NULL, false
                FROM oplan WHERE type = 'not_acked'""",
        ])  # fmt: skip

        seq = SEQ["STKBAL"]
        pair = "product_id * 1000 + location_id"
        timed_sql(cur, f"{plan.pairs:,} STKBAL pictures, with the planted differences", [
            f"""INSERT INTO reconciliation_stockpicture (seq, product_id, location_id, projected_on_hand,
                    projected_promised, on_hand, promised)
                SELECT {seq}, product_id, location_id, on_hand, promised, on_hand, promised FROM inventory_stocklevel""",
            # Pairs whose open web units the AS400 does not all hold (one unit short), in its figures and ours.
            f"""CREATE TEMP TABLE short AS
                SELECT l.product_id, l.location_id, sum(l.quantity - l.cancelled - l.shipped - l.ready) AS units
                FROM orders_orderline l JOIN orders_order o ON o.id = l.order_id
                WHERE l.acked_at IS NOT NULL AND o.status NOT IN ('placed', 'sent', 'refused', 'cancelled')
                  AND o.as400_order_number <> '' AND l.quantity - l.cancelled - l.shipped - l.ready > 0
                GROUP BY 1, 2 ORDER BY pg_temp.h(l.product_id * 1000 + l.location_id, {s + 17}) LIMIT {plan.promised_short}""",
            """UPDATE reconciliation_stockpicture s SET promised = h.units - 1, projected_promised = h.units - 1
               FROM short h WHERE s.product_id = h.product_id AND s.location_id = h.location_id""",
            """UPDATE inventory_stocklevel s SET promised = h.units - 1
               FROM short h WHERE s.product_id = h.product_id AND s.location_id = h.location_id""",
            # Drift: the projection showed 1-5 units more free than the extract; and the other way (not drift).
            f"""CREATE TEMP TABLE drift AS
                SELECT id, row_number() OVER (ORDER BY pg_temp.h({pair}, {s + 18})) AS rk,
                       1 + pg_temp.h({pair}, {s + 19}) % 5 AS d
                FROM reconciliation_stockpicture ORDER BY pg_temp.h({pair}, {s + 18}) LIMIT {plan.drift + plan.drift_noise}""",
            f"""UPDATE reconciliation_stockpicture s SET projected_on_hand = greatest(s.on_hand, s.promised) + d.d,
                    projected_promised = s.promised
                FROM drift d WHERE d.id = s.id AND d.rk <= {plan.drift}""",
            f"""UPDATE reconciliation_stockpicture s SET projected_on_hand = s.on_hand - d.d
                FROM drift d WHERE d.id = s.id AND d.rk > {plan.drift}""",
            # In-flight counters off: some pairs counting one unit less than their lines, some 2 more.
            f"""CREATE TEMP TABLE counter AS
                (SELECT id, -1 AS d FROM inventory_stocklevel WHERE in_flight > 0
                 ORDER BY pg_temp.h({pair}, {s + 20}) LIMIT {plan.in_flight // 2})
                UNION ALL
                (SELECT id, 2 FROM inventory_stocklevel WHERE in_flight = 0
                 ORDER BY pg_temp.h({pair}, {s + 21}) LIMIT {plan.in_flight // 2})""",
            "UPDATE inventory_stocklevel s SET in_flight = s.in_flight + c.d FROM counter c WHERE c.id = s.id",
        ])  # fmt: skip

        runs = []
        for file in ("ITMMST", "STKBAL", "WEBORD"):
            records = {"ITMMST": n, "STKBAL": plan.pairs, "WEBORD": o}[file]
            taken = times[file]
            runs.append(
                f"('{file}', {SEQ[file]}, 'OUT', 'F', '', {records * 100}, {records}, '{taken.isoformat()}', "
                f"'{(taken + timedelta(minutes=20)).isoformat()}', '{(taken + timedelta(minutes=25)).isoformat()}', "
                "'applied', '{}'::jsonb, '{}'::jsonb, '')"
            )
        timed_sql(cur, "the three applied full extracts; sequences; VACUUM ANALYZE", [
            "INSERT INTO integration_filerun (file, seq, direction, kind, checksum, size_bytes, record_count, taken_at, "
            "started_at, finished_at, outcome, counts, quality, error) VALUES " + ", ".join(runs),
            *[f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT max(id) FROM {t}))"
              for t in ("inventory_category", "inventory_product", "orders_order")],
            "VACUUM ANALYZE",
        ])  # fmt: skip

        # What was planted, read back where a count depends on the draw.
        cur.execute(
            """SELECT count(DISTINCT p.category_id), coalesce(sum(s.projected_on_hand - s.on_hand), 0)
               FROM reconciliation_stockpicture s JOIN inventory_product p ON p.id = s.product_id
               WHERE s.id IN (SELECT id FROM drift WHERE rk <= %s)""",
            [plan.drift],
        )
        drift_categories, _ = cur.fetchone()
    return {
        "order_missing_at_as400": plan.missing,
        "order_not_acknowledged": plan.not_acked,
        "order_unknown_here": plan.unknown,
        "order_status_differs": plan.status,
        "order_quantities_differ": plan.quantities,
        "order_lines_differ": plan.lines,
        "order_total_differs": plan.total,
        "stock_promised_short": plan.promised_short,
        "stock_in_flight_after_ack": plan.after_ack,
        "stock_drift": drift_categories,
        "counter_in_flight": plan.in_flight,
        "counter_line_events": plan.line_events,
        "counter_order_status": plan.order_status,
        "item_unmapped_with_stock": plan.unmapped,
        "mapping_to_delisted": plan.delisted,
        "product_without_content": plan.bare,
        "duplicate_ean": plan.dup,
        "price_changed_open": plan.price,
    }


# --- The row-by-row baseline --------------------------------------------------------------------


def rows(sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(sql, list(params))
        return cur.fetchall()


def baseline(times: dict[str, datetime], now: datetime) -> tuple[dict[str, set[str]], dict[str, float]]:
    """Every kind, the plain way: load the rows, loop over them in Python. Returns (subjects per kind, times)."""
    at_w, at_s = times["WEBORD"], times["STKBAL"]
    found: dict[str, set[str]] = defaultdict(set)
    spent: dict[str, float] = {}
    clock = [time.perf_counter()]

    def lap(label: str) -> None:
        t = time.perf_counter()
        spent[label] = t - clock[0]
        clock[0] = t

    # Load.
    categories = {i: (code, stage) for i, code, stage in rows(
        "SELECT id, family_code, rollout_stage FROM inventory_category")}  # fmt: skip
    products = {r[0]: r for r in rows(
        "SELECT id, item_number, ean, status, category_id, price, title, images FROM inventory_product")}  # fmt: skip
    mapping = {
        product_id: sku for product_id, sku in rows("SELECT product_id, sku FROM inventory_itemmapping")
    }
    orders = {r[0]: r for r in rows(
        "SELECT id, order_number, status, as400_order_number, created_at, updated_at FROM orders_order")}  # fmt: skip
    lines = rows(
        "SELECT id, order_id, line_number, product_id, location_id, quantity, unit_price, acked_at, in_flight, "
        "picked, shipped, ready, cancelled, returned FROM orders_orderline"
    )
    events = rows("SELECT order_id, line_id, kind, applied_quantity, occurred_at FROM orders_as400event")
    pictures = {r[0]: r for r in rows(
        "SELECT order_number, as400_order_number, status, line_count, ordered, shipped, total "
        "FROM reconciliation_weborderpicture")}  # fmt: skip
    outbox = rows("SELECT subject, kind, sent_at FROM integration_outboxmessage")
    asked = {r[0] for r in rows("SELECT order_id FROM orders_ordercancellation WHERE state = 'requested'")}
    reserved = rows(
        "SELECT reservation_id, product_id, unit_price, active, expires_at, id FROM inventory_reservationline"
    )
    lap("load orders, lines, events, pictures, catalogue")
    levels = rows("SELECT product_id, location_id, on_hand, in_flight FROM inventory_stocklevel")
    stock_pictures = rows(
        "SELECT product_id, location_id, projected_on_hand, projected_promised, on_hand, promised "
        "FROM reconciliation_stockpicture"
    )
    lap("load 2 × stock pairs")

    # Orders against WEBORD.
    by_number = {o[1]: o for o in orders.values()}
    lines_of: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for line in lines:
        lines_of[line[1]].append(line)
    moved_later: set[int] = set()
    order_counter: dict[int, int] = defaultdict(int)
    line_events: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for order_id, line_id, kind, applied, occurred_at in events:
        if order_id is not None and occurred_at is not None and occurred_at > at_w:
            moved_later.add(order_id)
        if kind == "store_cancel" and order_id is not None:
            order_counter[order_id] += applied
        if line_id is not None:
            line_events[line_id][kind] += applied
    for line in lines:
        if line[7] is not None and line[7] > at_w:
            moved_later.add(line[1])

    def figures(order_id: int) -> SimpleNamespace:
        ls = lines_of.get(order_id, [])
        counter = order_counter.get(order_id, 0)
        return SimpleNamespace(
            line_count=len(ls),
            due_units=sum(li[5] - li[12] for li in ls),
            due_amount=sum((li[6] * (li[5] - li[12]) for li in ls), Decimal(0)),
            handed=sum(li[10] + li[11] for li in ls) - counter,
            open=sum(li[5] - li[12] - li[10] - li[11] for li in ls) + counter,
            cancelled=sum(li[12] for li in ls),
        )

    for order in orders.values():
        order_id, number, status, as400, created_at, updated_at = order
        compared = (
            status not in ("placed", "refused") and as400 != "" and created_at <= at_w and updated_at <= at_w
            and order_id not in moved_later
        )  # fmt: skip
        if not compared:
            continue
        picture = pictures.get(number)
        f = figures(order_id)
        if picture is None:
            if status != "cancelled":
                found["order_missing_at_as400"].add(number)
            continue
        expected = "O" if f.open > 0 else "A" if f.handed == 0 else "E" if f.cancelled == 0 else "S"
        if picture[2] != expected:
            found["order_status_differs"].add(number)
        if picture[4] != f.due_units or picture[5] != f.handed:
            found["order_quantities_differ"].add(number)
        if picture[3] != f.line_count:
            found["order_lines_differ"].add(number)
        if picture[6] != f.due_amount:
            found["order_total_differs"].add(number)
    sent_before = {
        order_id for order_id, kind, sent_at in outbox
        if kind == "ORDIMP" and sent_at is not None and sent_at <= at_w - timedelta(hours=1)
    }  # fmt: skip
    for order in orders.values():
        if order[2] in ("sent", "cancellation_requested") and order[3] == "" and order[0] in sent_before:
            found["order_not_acknowledged"].add(order[1])
    for number, picture in pictures.items():
        if number not in by_number and picture[2] != "A":
            found["order_unknown_here"].add(number)
    lap("orders against WEBORD")

    # Stock against STKBAL.
    def pair_name(product_id: int, location_id: int) -> str:
        return f"{products[product_id][1]}@{location_id:03d}"

    open_web: dict[tuple[int, int], int] = defaultdict(int)
    in_flight_lines: dict[tuple[int, int], int] = defaultdict(int)
    for line in lines:
        (line_id, order_id, line_number, product_id, location_id, quantity, _, acked_at, in_flight,
         _, shipped, ready, cancelled, _) = line  # fmt: skip
        order = orders[order_id]
        if acked_at is not None and acked_at <= at_s:
            if order[2] not in ("placed", "sent", "refused", "cancelled") and order[3] != "":
                counter = line_events.get(line_id, {}).get("store_cancel", 0)
                units = quantity - cancelled - shipped - ready + counter
                if units > 0:
                    open_web[(product_id, location_id)] += units
            if in_flight > 0:
                found["stock_in_flight_after_ack"].add(f"{order[1]}/{line_number}")
        in_flight_lines[(product_id, location_id)] += in_flight
    promised = {}
    drift: dict[int | None, int] = defaultdict(int)
    for product_id, location_id, p_on_hand, p_promised, on_hand, held in stock_pictures:
        promised[(product_id, location_id)] = held
        over = max(max(p_on_hand - p_promised, 0) - max(on_hand - held, 0), 0)
        if over > 0:
            drift[products[product_id][4]] += over
    for pair, units in open_web.items():
        if units > promised.get(pair, 0):
            found["stock_promised_short"].add(pair_name(*pair))
    for category_id in drift:
        found["stock_drift"].add(categories[category_id][0] if category_id in categories else "-")
    stocked: set[int] = set()
    for product_id, location_id, on_hand, in_flight in levels:
        if in_flight != in_flight_lines.get((product_id, location_id), 0):
            found["counter_in_flight"].add(pair_name(product_id, location_id))
        if on_hand > 0:
            stocked.add(product_id)
    lap("stock against STKBAL, in-flight counters")

    # Our own counters.
    for line in lines:
        line_id, order_id, line_number, shipped, ready = line[0], line[1], line[2], line[10], line[11]
        ev = line_events.get(line_id, {})
        e_shipped, e_ready = ev.get("shipped", 0), ev.get("ready", 0)
        if (shipped or ready or e_shipped or e_ready) and (shipped != e_shipped or ready != e_ready):
            found["counter_line_events"].add(f"{orders[order_id][1]}/{line_number}")
    for order in orders.values():
        if order[2] in ("placed", "sent", "refused"):
            continue
        counts = [
            LineCounts(
                li[5],
                li[9],
                li[10],
                li[11],
                li[12],
                li[13],
                line_events.get(li[0], {}).get("store_cancel", 0),
            )
            for li in lines_of.get(order[0], [])
        ]
        stored: Any = SimpleNamespace(status=order[2])  # all order_status_of reads of the order
        derived = order_status_of(stored, counts, cancellation_requested=order[0] in asked)
        if derived != order[2]:
            found["counter_order_status"].add(order[1])
    lap("counters: line events, order statuses")

    # The catalogue against ITMMST.
    eans: dict[str, int] = defaultdict(int)
    for product_id, item, ean, status, category_id, _price, title, images in products.values():
        stage = categories[category_id][1] if category_id in categories else None
        if isinstance(images, str):
            images = json.loads(images)
        mapped = product_id in mapping
        if status == "A" and stage in ("pilot", "live") and not mapped and product_id in stocked:
            found["item_unmapped_with_stock"].add(item)
        if status == "D" and mapped:
            found["mapping_to_delisted"].add(mapping[product_id])
        if status == "A" and stage in ("pilot", "live") and mapped and (title == "" or images == []):
            found["product_without_content"].add(item)
        if ean != "" and status != "D":
            eans[ean] += 1
    found["duplicate_ean"] = {ean for ean, count in eans.items() if count > 1}
    for line in lines:
        order = orders[line[1]]
        product = products[line[3]]
        if (
            order[2] not in ("refused", "cancelled")
            and line[5] > line[12] + line[10] + line[11]
            and line[6] != product[5]
        ):
            found["price_changed_open"].add(f"{order[1]}/{line[2]}")
    for reservation_id, product_id, unit_price, active, expires_at, _ in reserved:
        if active and expires_at > now and unit_price != products[product_id][5]:
            found["price_changed_open"].add(f"réservation {reservation_id}/{products[product_id][1]}")
    lap("catalogue")
    return found, spent


# --- The run ------------------------------------------------------------------------------------


def refuse_unless_ready(reset: bool) -> str | None:
    """Why the database cannot take the bench (None when it can)."""
    if connection.vendor != "postgresql":
        return "this benchmark is about PostgreSQL: set DATABASE_URL=postgres://..."
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        return "the database is not migrated: run manage.py migrate on it first"
    with connection.cursor() as cur:
        if reset:
            cur.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
        filled = []
        for table in TABLES:
            cur.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")
            if cur.fetchone()[0]:
                filled.append(table)
    if filled:
        return (
            f"the database is not empty ({', '.join(filled)}): use a fresh one (createdb + migrate), "
            "or --reset to empty these tables (a bench database only)"
        )
    return None


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--locations", type=int, default=31, help="stores 001..N-1 and the warehouse (2-31)")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--night", type=date.fromisoformat, help="the night compared (default: last night)")
    parser.add_argument("--reset", action="store_true", help="empty the tables the bench fills first")
    args = parser.parse_args()
    if not 2 <= args.locations <= 31:
        parser.error("--locations must be between 2 and 31")
    why = refuse_unless_ready(args.reset)
    if why:
        print(f"bench/reconcile.py: {why}", file=sys.stderr)
        return 2

    night = args.night or (datetime.now(PARIS) - timedelta(days=1)).date()
    times = {
        "T0": datetime(night.year, night.month, night.day, 3, 0, tzinfo=PARIS),
        "ITMMST": datetime(night.year, night.month, night.day, 3, 5, tzinfo=PARIS),
        "STKBAL": datetime(night.year, night.month, night.day, 3, 15, tzinfo=PARIS),
        "WEBORD": datetime(night.year, night.month, night.day, 3, 25, tzinfo=PARIS),
    }
    plan = Plan(args.items, args.locations, args.orders)
    say(f"PostgreSQL {getattr(connection, 'pg_version', '?')}, database {connection.settings_dict['NAME']}, "
        f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    say(f"Night of {night}: {args.items:,} items × {args.locations} locations = {plan.pairs:,} pairs, "
        f"{args.orders:,} orders (+{plan.not_acked} never acknowledged, +{plan.late} placed after the extract)")  # fmt: skip

    say("\nBuilding the night in SQL:")
    started = time.perf_counter()
    planted = build(args, plan, times)
    say(f"    {'total':<72} {time.perf_counter() - started:7.2f} s")
    counts = rows("SELECT (SELECT count(*) FROM orders_orderline), (SELECT count(*) FROM orders_as400event), "
                  "(SELECT count(*) FROM reconciliation_weborderpicture), (SELECT count(*) FROM inventory_stocklevel)")[0]  # fmt: skip
    say(
        f"    {counts[0]:,} order lines, {counts[1]:,} AS400 events, {counts[2]:,} WEBORD pictures, "
        f"{counts[3]:,} stock pairs"
    )
    say("\nPlanted, per kind:")
    for kind, count in planted.items():
        say(f"    {kind:<28} {count:>6}")
    say(f"    noise (not discrepancies): {plan.moved} orders shipped after the extract, {plan.late} placed after it, "
        f"{plan.unknown_cancelled} unknown cancelled orders, {plan.drift_noise} pairs drifting the other way, "
        f"{plan.off:,} products off line (unmapped, some bare), {plan.suspended} suspended")  # fmt: skip

    say("\nreconcile(night=..., trigger='bench'):")
    marks: list[tuple[str, int, float]] = []

    def progress(code: str, found: int) -> None:
        marks.append((code, found, time.perf_counter()))

    started = time.perf_counter()
    run = reconcile(night=night, trigger="bench", progress=progress)
    run_time = time.perf_counter() - started
    previous = started
    check_times: dict[str, float] = {}
    for code, _found, at in marks:
        check_times[code] = at - previous
        previous = at
    say(
        f"    outcome {run.outcome}, {run.found:,} findings, {run.opened:,} opened, skipped {run.skipped_checks or 'none'}"
    )
    for code, seconds in check_times.items():
        note = "  (with the run's set-up)" if code == marks[0][0] else ""
        say(f"    {code:<34} {seconds:8.2f} s{note}")
    say(f"    {'recording (drift, discrepancies)':<34} {run_time - (previous - started):8.2f} s")
    say(
        f"    {'total':<34} {run_time:8.2f} s  (run.duration_seconds {run.duration_seconds}); peak RSS {rss_mb()} MB"
    )
    run_subjects: dict[str, set[str]] = defaultdict(set)
    for kind, subject in Discrepancy.objects.filter(last_run=run).values_list("kind", "subject"):
        run_subjects[kind].add(subject)

    say("\nRow-by-row baseline (load the rows, compare in Python):")
    started = time.perf_counter()
    base, spent = baseline(times, run.started_at)
    base_time = time.perf_counter() - started
    for label, seconds in spent.items():
        say(f"    {label:<46} {seconds:8.2f} s")
    say(f"    {'total':<46} {base_time:8.2f} s; peak RSS {rss_mb()} MB")

    say("\n| kind | planted | run found | row-by-row found |")
    say("|---|---:|---:|---:|")
    disagree = []
    for code in CHECKS:
        run_count = run.counts.get(code, {}).get("total")
        mine = len(base.get(code, set()))
        flag = ""
        if run_count is not None and (run_count != mine or run_subjects[code] != base.get(code, set())):
            disagree.append(code)
            flag = " **disagree**"
        elif planted.get(code) != run_count:
            flag = " (not as planted)"
        say(
            f"| {code} | {planted.get(code, '-')} | {'-' if run_count is None else run_count} | {mine}{flag} |"
        )
    say(f"| **time** | | **{run_time:.2f} s** | **{base_time:.2f} s** |")
    say(f"\nload average {os.getloadavg()[0]:.2f}")
    if disagree:
        for code in disagree:
            extra = sorted(run_subjects[code] - base.get(code, set()))[:5]
            lacking = sorted(base.get(code, set()) - run_subjects[code])[:5]
            say(f"DISAGREE {code}: only the run {extra}, only the baseline {lacking}")
        return 1
    say("The run and the baseline agree on every kind.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
