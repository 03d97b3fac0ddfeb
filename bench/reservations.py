"""Reservations per second on one hot SKU at a sale's load, ours beside two lock-then-check
baselines measured in the same run, repeated; on PostgreSQL.

    DATABASE_URL=postgres://user@host:port/name .venv/bin/python bench/reservations.py \
        [--workers 16] [--seconds 8] [--repeat 3] [--open-checkouts 20000]

Three implementations of "take units for a checkout", on the same data, each round in another order:

- ours (``inventory.reservations.reservation_create``): one conditional ``UPDATE`` checks and
  takes the units, and in the same statement (a ``WITH`` of three data-modifying parts) the
  reservation and its lines are written only if it took; the row lock lives for that statement
  and the commit;
- lock-then-check, summing reservations (as Saleor does it): ``SELECT ... FOR UPDATE`` on the
  stock row, sum the unexpired reservations of the pair, read the safety stock, check, insert the
  reservation and its lines, with the ORM; the row lock lives for all of it;
- lock-then-check, reading the counter: the same, but it reads the maintained ``reserved``
  counter on the locked row instead of summing the reservations, then inserts and moves the
  counter. It does not suffer from open checkouts; it is the fairer floor of "lock, then check".

Both baselines resolve the SKUs as ours does (the same ``_resolve``), so what differs is the take
and how the rows are written. Ours is also written without the ORM's per-call query building,
which the baselines keep, as an ORM application (Saleor) writes it: the ratios measure both.

A sale's load, as measured here: ``--workers`` concurrent clients (separate processes, each its
own connection, 16 by default: the order intake bench's 16 clients) all reserving one unit of the
same hot SKU, which already holds ``--open-checkouts`` unexpired reservations. 20,000 by default:
a sale's 100 checkouts a second, held 15 minutes, is 90,000 open in all, and a hot SKU in about
one checkout of four or five holds some 20,000 of them (try 0 and 90,000 too). Phase 1 measures
throughput with stock that never runs out (reservations/s, latency percentiles), ``--repeat``
rounds, best and median per implementation and the ratios of each round. Phase 2 checks
oversell: the SKU holds 500 free units and every worker reserves one at a time until refused;
exactly 500 must be taken. The statements one reservation sends are counted too.
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
from django.db.models import F, Sum  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
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
    """The Saleor way: lock the stock row, sum the reservations, check, insert, all under the lock."""
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


def lock_then_check_counter(lines: list[LineRequest]) -> Reservation:
    """Lock the stock row, read its maintained counters (no sum), check, insert, move the counter."""
    resolved = _resolve(lines, include_pilot=False)
    now = timezone.now()
    expires_at = now + reservation_ttl()
    with transaction.atomic():
        stocks = []
        for line in resolved:  # pair order, as every take
            stock = StockLevel.objects.select_for_update().get(
                product_id=line.product_id, location_id=line.location
            )
            safety = safety_stock_for([(line.product_id, line.location)]).get(
                (line.product_id, line.location), 0
            )
            free = stock.on_hand - stock.promised - stock.in_flight - stock.reserved - safety
            if free < line.quantity:
                raise InsufficientStock([Shortage(line.sku, line.location, line.quantity, max(0, free))])
            stocks.append((stock.pk, line.quantity))
        reservation = Reservation.objects.create(expires_at=expires_at)
        _add_lines(reservation, resolved, expires_at)
        for pk, quantity in stocks:
            StockLevel.objects.filter(pk=pk).update(reserved=F("reserved") + quantity)
    return reservation


def ours(lines: list[LineRequest]) -> Reservation:
    return reservation_create(lines=lines)


OURS = "ours (conditional update)"
SALEOR = "lock-then-check, summing (Saleor)"
COUNTER = "lock-then-check, counter"
IMPLEMENTATIONS: dict[str, Callable[[list[LineRequest]], Reservation]] = {
    OURS: ours,
    SALEOR: lock_then_check,
    COUNTER: lock_then_check_counter,
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


OPEN = "bench-open"  # the client of the checkouts already open


def reset(on_hand: int, open_checkouts: int) -> None:
    """The hot SKU with ``on_hand`` free units, and ``open_checkouts`` more held by open checkouts
    (written once, kept between phases: no implementation touches another's rows)."""
    ReservationLine.objects.filter(reservation__in=Reservation.objects.exclude(client=OPEN)).delete()
    Reservation.objects.exclude(client=OPEN).delete()
    product = Product.objects.get(item_number=SKU)
    held = Reservation.objects.filter(client=OPEN).count()
    if held != open_checkouts:
        ReservationLine.objects.all().delete()
        Reservation.objects.all().delete()
        expires_at = timezone.now() + reservation_ttl()
        reservations = Reservation.objects.bulk_create(
            [Reservation(client=OPEN, expires_at=expires_at) for _ in range(open_checkouts)], batch_size=5000
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
        cursor.execute("VACUUM ANALYZE inventory_reservation")
        cursor.execute("VACUUM ANALYZE inventory_stocklevel")


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


def statements(name: str) -> int:
    """The statements one reservation sends (BEGIN and COMMIT included), once warm."""
    take = IMPLEMENTATIONS[name]
    for _ in range(3):
        take([LineRequest(SKU, 1)])
    with CaptureQueriesContext(connection) as queries:
        take([LineRequest(SKU, 1)])
    return len(queries.captured_queries)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the throughput phase")
    parser.add_argument("--units", type=int, default=500, help="stock of the oversell check")
    parser.add_argument(
        "--open-checkouts",
        type=int,
        default=20_000,
        help="reservations already open on the hot SKU (a sale: 100 checkouts/s × a 15-minute TTL is 90,000 in all)",
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
            f"PostgreSQL {connection.pg_version}, {args.workers} worker processes on one SKU with "
            f"{args.open_checkouts:,} checkouts already open, {args.repeat} rounds of {args.seconds:g} s, "
            f"{os.cpu_count()} CPUs\n"
        )
        reset(on_hand=10**9, open_checkouts=0)
        for name in IMPLEMENTATIONS:
            print(f"{name:<34} {statements(name)} statements per reservation (BEGIN and COMMIT included)")
        print()
        names = list(IMPLEMENTATIONS)
        runs: dict[str, list[float]] = {name: [] for name in names}
        for round_ in range(args.repeat):
            order = names[round_ % len(names) :] + names[: round_ % len(names)]  # each first in turn
            for name in order:
                reset(on_hand=10**9, open_checkouts=args.open_checkouts)
                latencies, _, elapsed = run_phase(name, args.workers, args.seconds, until_short=False)
                runs[name].append(len(latencies) / elapsed)
                print(
                    f"round {round_ + 1}  {name:<34} {runs[name][-1]:7.0f} reservations/s   latency p50 "
                    f"{pct(latencies, 50):6.1f} ms  p95 {pct(latencies, 95):6.1f} ms  p99 {pct(latencies, 99):6.1f} ms"
                    f"  ({len(latencies):,} in {elapsed:.1f} s)"
                )
        print()
        for name in names:
            print(
                f"{name:<34} best {max(runs[name]):7.0f}/s   median {statistics.median(runs[name]):7.0f}/s   "
                f"(runs: {', '.join(f'{r:.0f}' for r in runs[name])})"
            )
        print()
        verdict = ""
        for floor in (SALEOR, COUNTER):
            ratios = [ours_ / theirs for ours_, theirs in zip(runs[OURS], runs[floor], strict=True)]
            median = statistics.median(ratios)
            line = (
                f"ours / {floor:<34} median of rounds {median:.2f}×, best round {max(ratios):.2f}×, worst "
                f"{min(ratios):.2f}× (rounds: {', '.join(f'{r:.2f}' for r in ratios)})"
            )
            if floor == SALEOR:
                verdict = f"aim, at least 2× the Saleor-style baseline (median of rounds): {'MET' if median >= 2 else 'NOT MET'}"
            print(line)
        print(verdict)
        print()
        for name in names:
            reset(on_hand=args.units, open_checkouts=args.open_checkouts)
            latencies, refused, _ = run_phase(name, args.workers, 120, until_short=True)
            held = (
                ReservationLine.objects.filter(active=True).aggregate(units=Sum("quantity"))["units"] or 0
            ) - (args.open_checkouts)
            counted = StockLevel.objects.get(product=product).reserved - args.open_checkouts
            ok = held == len(latencies) == args.units and (name == SALEOR or counted == args.units)
            counted_text = "(no counter)" if name == SALEOR else f"{counted} counted"
            print(
                f"oversell check, {name:<34} {args.units} units: {len(latencies)} reservations granted, "
                f"{held} units held by lines, {counted_text}, {refused} refused: {'no oversell' if ok else 'WRONG'}"
            )
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
