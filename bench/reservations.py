"""Reservations per second on one hot SKU, 16 concurrent workers, on PostgreSQL.

    DATABASE_URL=postgres://user@host:port/name .venv/bin/python bench/reservations.py [--workers 16] [--seconds 10]

Two implementations of "take units for a checkout", measured in the same run on the same data:

- ours (``inventory.reservations.reservation_create``): the reservation's rows are inserted, then
  one conditional ``UPDATE`` checks and takes the units; the row lock lives for that statement
  and the commit;
- lock-then-check, as Saleor does it: ``SELECT ... FOR UPDATE`` on the stock row, sum the
  unexpired reservations of the pair, check, insert the reservation; the row lock lives for all
  of it.

Each worker is a separate process with its own connection. Phase 1 measures throughput with stock
that never runs out (reservations/s, latency percentiles), on a hot SKU that already has
``--open-checkouts`` unexpired reservations (a sale: 100 checkouts a second held for 15 minutes is
90,000; try 0 and 20,000 too). Lock-then-check sums them under the lock; ours never does. Phase 2 checks oversell: the SKU holds
500 units and every worker reserves one at a time until refused; exactly 500 must be taken.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-" + "b" * 40)  # a bench, not a deployment
os.environ.setdefault("DJANGO_HTTPS", "false")  # plain HTTP on loopback

import django

django.setup()

from django.db import connection, connections, transaction  # noqa: E402
from django.db.models import Sum  # noqa: E402
from django.utils import timezone  # noqa: E402

from inventory.errors import InsufficientStock, Shortage  # noqa: E402
from inventory.models import (  # noqa: E402
    Category,
    ItemMapping,
    Location,
    Product,
    Reservation,
    ReservationLine,
    StockLevel,
)
from inventory.reservations import (  # noqa: E402
    LineRequest,
    _add_lines,
    _resolve,
    reservation_create,
    reservation_ttl,
)
from inventory.selectors import safety_stock_for  # noqa: E402

SKU = "HOT-SKU"


def lock_then_check(lines: list[LineRequest]) -> Reservation:
    """The Saleor way: lock the stock row, sum the reservations, check, insert — all under the lock."""
    resolved = _resolve(lines, include_pilot=False)
    now = timezone.now()
    expires_at = now + reservation_ttl()
    with transaction.atomic():
        for line in resolved:
            stock = StockLevel.objects.select_for_update().get(
                product_id=line.product_id, location_id=line.location
            )
            reserved = (
                ReservationLine.objects.filter(
                    product_id=line.product_id, location_id=line.location, active=True, expires_at__gt=now
                ).aggregate(units=Sum("quantity"))["units"]
                or 0
            )
            safety = safety_stock_for([(line.product_id, line.location)]).get(
                (line.product_id, line.location), 0
            )
            free = stock.on_hand - stock.promised - stock.in_flight - reserved - safety
            if free < line.quantity:
                raise InsufficientStock([Shortage(line.sku, line.location, line.quantity, max(0, free))])
        reservation = Reservation.objects.create(expires_at=expires_at)
        _add_lines(reservation, resolved, expires_at)
    return reservation


def ours(lines: list[LineRequest]) -> Reservation:
    return reservation_create(lines=lines)


IMPLEMENTATIONS: dict[str, Callable[[list[LineRequest]], Reservation]] = {
    "ours (conditional update)": ours,
    "lock-then-check (Saleor)": lock_then_check,
}


def worker(name: str, until: float, until_short: bool, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    connections.close_all()  # never share the parent's connection
    take = IMPLEMENTATIONS[name]
    latencies: list[float] = []
    refused = 0
    while time.time() < until:
        started = time.perf_counter()
        try:
            take([LineRequest(SKU, 1)])
        except InsufficientStock:
            refused += 1
            if until_short:
                break
            continue
        latencies.append(time.perf_counter() - started)
    connections.close_all()
    out.put((latencies, refused))


def reset(on_hand: int, open_checkouts: int) -> None:
    """The hot SKU with ``on_hand`` free units, and ``open_checkouts`` more held by open checkouts."""
    ReservationLine.objects.all().delete()
    Reservation.objects.all().delete()
    product = Product.objects.get(item_number=SKU)
    expires_at = timezone.now() + reservation_ttl()
    reservations = Reservation.objects.bulk_create(
        [Reservation(expires_at=expires_at) for _ in range(open_checkouts)], batch_size=5000
    )
    ReservationLine.objects.bulk_create(
        [
            ReservationLine(
                reservation=r,
                product=product,
                location_id=900,
                quantity=1,
                unit_price="9.90",
                expires_at=expires_at,
            )
            for r in reservations
        ],
        batch_size=5000,
    )
    StockLevel.objects.filter(product=product).update(
        on_hand=on_hand + open_checkouts, reserved=open_checkouts, promised=0, in_flight=0
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE inventory_reservationline")


def run_phase(name: str, workers: int, seconds: float, until_short: bool) -> tuple[list[float], int, float]:
    ctx = multiprocessing.get_context("fork")
    out: multiprocessing.Queue = ctx.Queue()  # type: ignore[type-arg]
    connections.close_all()
    until = time.time() + seconds
    started = time.perf_counter()
    procs = [ctx.Process(target=worker, args=(name, until, until_short, out)) for _ in range(workers)]
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - started
    latencies = [lat for lats, _ in results for lat in lats]
    return latencies, sum(r for _, r in results), elapsed


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 2 else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--units", type=int, default=500, help="stock of the oversell check")
    parser.add_argument(
        "--open-checkouts",
        type=int,
        default=20_000,
        help="reservations already open on the hot SKU (a sale: 100 checkouts/s × a 15-minute TTL is 90,000)",
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("This benchmark is about PostgreSQL: set DATABASE_URL=postgres://...", file=sys.stderr)
        return 2
    connection.settings_dict.setdefault("TEST", {})["NAME"] = "bench_reservations"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        category = Category.objects.create(family_code="HOT", rollout_stage=Category.Stage.LIVE)
        Location.objects.create(code=900, name="Entrepôt", kind=Location.Kind.WAREHOUSE)
        product = Product.objects.create(item_number=SKU, category=category, price="9.90")
        ItemMapping.objects.create(product=product, sku=SKU)
        StockLevel.objects.create(product=product, location_id=900, on_hand=0, as_of=timezone.now())
        print(
            f"PostgreSQL {connection.pg_version}, {args.workers} worker processes, one SKU with "
            f"{args.open_checkouts:,} checkouts already open, {os.cpu_count()} CPUs\n"
        )
        throughput: dict[str, float] = {}
        for name in IMPLEMENTATIONS:
            reset(on_hand=10**9, open_checkouts=args.open_checkouts)
            latencies, _, elapsed = run_phase(name, args.workers, args.seconds, until_short=False)
            throughput[name] = len(latencies) / elapsed
            print(
                f"{name:<28} {throughput[name]:8.0f} reservations/s   latency p50 {pct(latencies, 50):6.1f} ms  "
                f"p95 {pct(latencies, 95):6.1f} ms  p99 {pct(latencies, 99):6.1f} ms  ({len(latencies):,} in {elapsed:.1f} s)"
            )
        print()
        for name in IMPLEMENTATIONS:
            reset(on_hand=args.units, open_checkouts=args.open_checkouts)
            latencies, refused, _ = run_phase(name, args.workers, 120, until_short=True)
            held = (
                ReservationLine.objects.filter(active=True).aggregate(units=Sum("quantity"))["units"] or 0
            ) - (args.open_checkouts)
            print(
                f"oversell check, {name:<28} {args.units} units: {len(latencies)} reservations granted, "
                f"{held} units held, {refused} refused: {'no oversell' if held == len(latencies) == args.units else 'WRONG'}"
            )
        ratio = throughput["ours (conditional update)"] / throughput["lock-then-check (Saleor)"]
        print(
            f"\nours / lock-then-check: {ratio:.2f}× (aim: at least 2×): {'MET' if ratio >= 2 else 'NOT MET'}"
        )
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
