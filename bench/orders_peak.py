"""A sales peak: orders posted to the API under gunicorn while the AS400 is down, then delivered.

    DATABASE_URL=postgres://user@host:port/name .venv/bin/python bench/orders_peak.py [--clients 16] [--seconds 20] [--repeat 3]

In a database of its own: a simulated AS400 (its catalogue applied, three items with plenty of
stock on both sides), a storefront client, and gunicorn serving the platform on a loopback port
(``--workers``, 4 by default; each keeps its database connection, as production's do).

1. ``--repeat`` runs of ``--seconds``: ``--clients`` concurrent clients each loop: reserve one
   unit, place the order. Printed per run: orders accepted per second, p50/p95/p99 latency of the
   order request and of the whole checkout (reservation + order); then the best and the median
   run. The AS400 is down meanwhile: nothing reads IN/, and the orders wait in the outbox.
2. The AS400 comes back with every order of the runs waiting: a backlog several times the
   per-minute cap (``OUTBOX_MAX_ORDERS_PER_MINUTE``), so that the pace is what is measured. The
   dispatcher, the AS400's import job and the sync run in a loop on the real clock, with the caps
   of the settings, until every order is acknowledged. Printed: how long, the orders written per
   minute at most (never above the cap) and the time the cap alone would need.
3. Checked against the simulator's own tables: every accepted order is there exactly once, no
   other; none is lost, none duplicated.
4. The floor, measured last in the same database: a plain psycopg loop on one kept connection doing
   every write and lock of a checkout (the same statements into the same tables, with their
   indexes and constraints: reservation, its line, the hold; then the locks, the stock move, the
   order, its line, its history, its outbox message), ``--repeat`` times; printed beside the
   platform's best rate, with the ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-" + "b" * 40)  # a bench, not a deployment
os.environ.setdefault("DJANGO_HTTPS", "false")  # plain HTTP on loopback

import django

django.setup()

import httpx  # noqa: E402
import psycopg  # noqa: E402
from _common import bench_database, gunicorn, pct, platform_seeded  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Model  # noqa: E402

from integration.as400.sync import exchange_sync  # noqa: E402
from integration.models import OutboundFile, OutboxMessage  # noqa: E402
from integration.outbox.dispatch import outbox_dispatch, outbox_follow_up  # noqa: E402
from integration.storefront.clients import SCOPES, storefront_client_create  # noqa: E402
from inventory.models import Product, Reservation, ReservationLine, StockLevel  # noqa: E402
from orders.models import Order, OrderEvent, OrderLine  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the intake")
    parser.add_argument("--floor-checkouts", type=int, default=2000, help="checkouts of each floor run")
    args = parser.parse_args()
    with bench_database("bench_orders_peak") as tmp:
        return run(args, tmp)


def run(args: argparse.Namespace, tmp: Path) -> int:
    settings.AS400_BATCH_WINDOW = "00:00-00:00"  # measured on the real clock, whatever the hour
    sim = platform_seeded(tmp)
    products = list(
        Product.objects.filter(status="A", stock_levels__location_id=900).order_by("item_number")[:3]
    )
    StockLevel.objects.filter(product__in=products, location_id=900).update(on_hand=1_000_000)
    with sim.conn:
        sim.conn.execute(
            "UPDATE STKBAL SET SBQOH = 1000000, SBQRS = 0 WHERE SBMAG = 900 AND SBITEM IN (?, ?, ?)",
            [p.item_number for p in products],
        )
    _, token = storefront_client_create(name="bench", scopes=SCOPES, rate_limit=1_000_000)
    with gunicorn(args.workers, AS400_EXCHANGE_DIR=str(settings.AS400_EXCHANGE_DIR)) as base:
        print(f"PostgreSQL {connection.pg_version}, gunicorn {args.workers} workers, {args.clients} clients, "
              f"{args.repeat} runs of {args.seconds:.0f} s, {os.cpu_count()} CPUs; the AS400 is down\n")  # fmt: skip
        runs = [intake(base, token, products, args, tag=f"R{r}") for r in range(args.repeat)]
    accepted = [number for run_ in runs for number in run_.accepted]
    rates = [run_.rate for run_ in runs]
    p99s = [pct(run_.order_latency, 99) for run_ in runs]
    print(f"\nintake: best {max(rates):.1f} orders/s, median {statistics.median(rates):.1f}; order request p99 "
          f"best {min(p99s):.1f} ms, median {statistics.median(p99s):.1f} ms")  # fmt: skip

    cap = int(settings.OUTBOX_MAX_ORDERS_PER_MINUTE)
    print(f"\nThe AS400 is back with {len(accepted):,} orders waiting ({len(accepted) / cap:.1f} times the cap of "
          f"{cap} a minute; {settings.OUTBOX_MAX_ORDERS_PER_FILE} orders a file)")  # fmt: skip
    if len(accepted) < 2 * cap:
        print(
            "  (a backlog under twice the cap leaves almost at once: run longer or with more clients to measure the pace)"
        )
    back = time.perf_counter()
    while Order.objects.exclude(status="accepted").exists() and time.perf_counter() - back < 3600:
        outbox_follow_up()
        outbox_dispatch()
        sim.import_now()
        exchange_sync()
        time.sleep(0.5)
    delivered = time.perf_counter() - back
    waiting = Order.objects.exclude(status="accepted").count()
    busiest = busiest_minute()
    print(
        f"every order acknowledged after {delivered:.1f} s"
        if not waiting
        else f"{waiting} orders still waiting"
    )
    print(f"  at most {busiest} orders in ORDIMP files created within any 60 s (cap {cap}); the cap alone needs "
          f"{max(0.0, (len(accepted) - cap) / cap * 60):.0f} s for this backlog (the first {cap} leave at once)")  # fmt: skip

    theirs = [str(w).strip() for (w,) in sim.sql("SELECT WOWEBN FROM WEBORD")]
    ours = sorted(Order.objects.values_list("order_number", flat=True))
    lost = sorted(set(accepted) - set(theirs))
    duplicated = len(theirs) - len(set(theirs))
    unknown = sorted(set(theirs) - set(ours))
    print(
        f"\nchecked against the simulator's WEBORD: {len(theirs):,} orders; lost {len(lost)}, "
        f"duplicated {duplicated}, unknown {len(unknown)}: {'OK' if not (lost or duplicated or unknown) else 'WRONG'}"
    )
    sim.close()

    floor_rates = [floor(products, args.floor_checkouts, tag=f"F{r}") for r in range(args.repeat)]
    print(f"\nfloor: plain psycopg, every write and lock of a checkout, one kept connection: "
          f"best {max(floor_rates):.0f} checkouts/s, median {statistics.median(floor_rates):.0f}")  # fmt: skip
    print(f"the platform's best intake is {max(rates) / max(floor_rates) * 100:.1f} % of the floor's best "
          f"({max(floor_rates) / max(rates):.1f} times slower)")  # fmt: skip
    return 0 if not (lost or duplicated or unknown or waiting) else 1


def busiest_minute() -> int:
    """The most orders in ORDIMP files created within any 60 s, by the files' own records.

    The files' ``created_at`` is what the cap counts (a file's orders count for the minute after it
    was created), so this reads the pace as the dispatcher kept it, not as a poll happened to see it.
    """
    files = [
        (created, count)
        for created, count in OutboundFile.objects.filter(file="ORDIMP")
        .annotate(orders=Count("messages"))
        .order_by("created_at")
        .values_list("created_at", "orders")
    ]
    return max(
        (sum(n for t, n in files if start <= t < start + timedelta(seconds=60)) for start, _ in files),
        default=0,
    )


@dataclass
class Run:
    rate: float = 0.0
    accepted: list[str] = field(default_factory=list)
    order_latency: list[float] = field(default_factory=list)
    checkout_latency: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def intake(base: str, token: str, products: list[Product], args: argparse.Namespace, *, tag: str) -> Run:
    """One run: ``args.clients`` clients checking out for ``args.seconds``; what they saw."""
    run_ = Run()
    lock = threading.Lock()
    until = time.monotonic() + args.seconds

    def client(n: int) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            i = 0
            while time.monotonic() < until:
                i += 1
                product = products[(n + i) % len(products)]
                number = f"PEAK-{tag}-{n:03d}-{i:06d}"
                started = time.perf_counter()
                r = http.post(
                    "/api/v1/reservations/", json={"lines": [{"sku": product.item_number, "quantity": 1}]}
                )
                if r.status_code != 201:
                    with lock:
                        run_.failures.append(f"reservation {r.status_code} {r.text[:100]}")
                    continue
                placed = time.perf_counter()
                o = http.post("/api/v1/orders/", json={
                    "order_number": number, "reservation": r.json()["id"], "delivery": "home",
                    "customer": {"last_name": "Lefèvre", "first_name": "Zoë", "city": "Lyon"},
                    "lines": [{"sku": product.item_number, "quantity": 1, "unit_price": str(product.price)}],
                })  # fmt: skip
                done = time.perf_counter()
                with lock:
                    if o.status_code == 201:
                        run_.accepted.append(number)
                        run_.order_latency.append(done - placed)
                        run_.checkout_latency.append(done - started)
                    else:
                        run_.failures.append(f"order {o.status_code} {o.text[:100]}")

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    run_.rate = len(run_.accepted) / elapsed
    print(f"run {tag}: {len(run_.accepted):,} orders in {elapsed:.1f} s = {run_.rate:.1f} orders/s "
          f"({len(run_.failures)} refused)")  # fmt: skip
    print(f"  order request     p50 {pct(run_.order_latency, 50):6.1f} ms  p95 {pct(run_.order_latency, 95):6.1f} ms  "
          f"p99 {pct(run_.order_latency, 99):6.1f} ms")  # fmt: skip
    print(f"  whole checkout    p50 {pct(run_.checkout_latency, 50):6.1f} ms  p95 {pct(run_.checkout_latency, 95):6.1f} ms  "
          f"p99 {pct(run_.checkout_latency, 99):6.1f} ms  (reservation + order)")  # fmt: skip
    for failure in sorted(set(run_.failures))[:5]:
        print(f"  refused: {failure}")
    return run_


def _insert(model: type[Model], values: dict[str, Any], returning: bool = False) -> tuple[str, list[Any]]:
    """The INSERT of one row of ``model`` as the ORM writes it: every concrete column, its defaults."""
    obj = model(**values)
    fields = [
        f for f in model._meta.concrete_fields if not (f.primary_key and getattr(obj, f.attname) is None)
    ]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f'INSERT INTO "{model._meta.db_table}" ({columns}) VALUES ({marks})' + (
        " RETURNING id" if returning else ""
    )
    return sql, [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields]


def floor(products: list[Product], checkouts: int, *, tag: str) -> float:
    """Checkouts a second of a plain psycopg loop doing a checkout's writes and locks (see the docstring)."""
    db = connection.settings_dict
    dsn = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    stock = StockLevel._meta.db_table
    started = time.perf_counter()
    with psycopg.connect(dsn) as raw:
        for i in range(checkouts):
            product = products[i % len(products)]
            now = datetime.now(UTC)
            reservation = uuid.uuid4()
            with raw.transaction():
                raw.execute(
                    *_insert(
                        Reservation,
                        dict(id=reservation, client="bench", expires_at=now, created_at=now, updated_at=now),
                    )
                )
                raw.execute(*_insert(ReservationLine, dict(reservation_id=reservation, product_id=product.pk, location_id=900,
                                                           quantity=1, unit_price=product.price, expires_at=now)))  # fmt: skip
                raw.execute(
                    f'UPDATE "{stock}" SET reserved = reserved + 1 WHERE product_id = %s AND location_id = 900 '
                    "AND on_hand >= promised + in_flight + reserved + 1", [product.pk],
                )  # fmt: skip
            with raw.transaction():
                raw.execute(
                    f'SELECT * FROM "{Reservation._meta.db_table}" WHERE id = %s FOR UPDATE', [reservation]
                )
                raw.execute(
                    f'SELECT * FROM "{ReservationLine._meta.db_table}" WHERE reservation_id = %s FOR UPDATE',
                    [reservation],
                )
                raw.execute(
                    f'UPDATE "{stock}" SET reserved = reserved - 1, in_flight = in_flight + 1 WHERE product_id = %s '
                    "AND location_id = 900", [product.pk],
                )  # fmt: skip
                raw.execute(
                    f'UPDATE "{ReservationLine._meta.db_table}" SET active = false WHERE reservation_id = %s',
                    [reservation],
                )
                raw.execute(f'UPDATE "{Reservation._meta.db_table}" SET status = %s, updated_at = %s WHERE id = %s',
                            ["converted", now, reservation])  # fmt: skip
                order_id = raw.execute(*_insert(Order, dict(
                    order_number=f"FLOOR-{tag}-{i:06d}", client="bench", content_hash="0" * 64, delivery="home",
                    pickup_location_id=900, reservation_id=reservation, last_name="Lefèvre", first_name="Zoë", city="Lyon",
                    total=product.price, created_at=now, updated_at=now), returning=True)).fetchone()[0]  # fmt: skip
                raw.execute(*_insert(OrderLine, dict(order_id=order_id, line_number=1, product_id=product.pk, location_id=900,
                                                     quantity=1, unit_price=product.price, in_flight=1)))  # fmt: skip
                raw.execute(
                    *_insert(
                        OrderEvent,
                        dict(order_id=order_id, status_to="placed", cause="placed by bench", at=now),
                    )
                )
                raw.execute(
                    *_insert(
                        OutboxMessage,
                        dict(kind="ORDIMP", subject=order_id, created_at=now, next_attempt_at=now),
                    )
                )
    rate = checkouts / (time.perf_counter() - started)
    print(f"floor run {tag}: {checkouts:,} checkouts at {rate:.0f} a second")
    return rate


if __name__ == "__main__":
    raise SystemExit(main())
