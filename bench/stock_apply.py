"""Applying a full STKBAL extract (1.55M records) and a 10,000-record delta, on PostgreSQL.

    DATABASE_URL=postgres://user@host:port/name .venv/bin/python bench/stock_apply.py [--items 50000]

Creates a throwaway database (Django's test database for the URL), loads 50,000 products and 31
locations, writes a real full STKBAL pair into a temporary OUT/ folder, then measures in the same
run:

- the floor: a plain ``COPY`` of the same rows (item, location, on hand, promised) into a table;
- the full extract end to end through ``exchange_sync`` (verify the pair, decode, stage, write),
  into an empty stock table (every pair new);
- the same full extract again with 10% of the pairs changed (the nightly case), applier only;
- a delta of 10,000 changed pairs, applier only.

Aims (issue 3): the full extract under 60 s and within 3× the floor; the delta under 2 s.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-" + "b" * 40)  # a bench, not a deployment
os.environ.setdefault("DJANGO_HTTPS", "false")  # plain HTTP on loopback

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from bench.codec_decode import generate, item_codes  # noqa: E402
from integration.as400.codec import PARIS, RecordCodec  # noqa: E402
from integration.as400.control import control_for  # noqa: E402
from integration.as400.dds import load_layout  # noqa: E402
from integration.as400.exchange.local import LocalExchangeFolder  # noqa: E402
from integration.as400.files import write_pair  # noqa: E402
from integration.as400.records import StockBalances  # noqa: E402
from integration.as400.sync import exchange_sync  # noqa: E402
from inventory.models import Location, Product, StockLevel  # noqa: E402
from inventory.services import stock_apply_extract  # noqa: E402

TAKEN = datetime(2026, 11, 22, 3, 45, tzinfo=PARIS)


def timed(label: str, work) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    print(f"  {label:<58} {elapsed:8.2f} s", flush=True)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--locations", type=int, default=31)
    parser.add_argument("--delta", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("This benchmark is about PostgreSQL: set DATABASE_URL=postgres://...", file=sys.stderr)
        return 2

    # A database of its own, so that the benchmark never meets a test run on the same server.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = "bench_stock_apply"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        return run(args)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(args: argparse.Namespace) -> int:
    layout = load_layout("STKBAL")
    records = args.items * args.locations
    print(
        f"PostgreSQL {connection.pg_version}, {records:,} STKBAL records ({args.items:,} items × {args.locations} locations)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        raw = root / "raw.DAT"
        generate(raw, layout, args.items, args.locations, args.seed)
        codes = item_codes(args.items, random.Random(args.seed))
        data = raw.read_bytes()
        codec = RecordCodec(layout, 297)

        # The catalogue the extract refers to.
        codes_locations = sorted({*range(1, args.locations), 900})
        Location.objects.bulk_create([Location(code=c, name=f"L{c:03d}") for c in codes_locations])
        Product.objects.bulk_create([Product(item_number=c) for c in codes], batch_size=5000)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

        columns = codec.decode_columns(data)
        rows = list(zip(columns["SBITEM"], columns["SBMAG"], columns["SBQOH"], columns["SBQRS"], strict=True))

        print("\nThe floor:")

        def copy_floor() -> None:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "CREATE TABLE bench_floor (item varchar(15), location integer, on_hand integer, promised integer)"
                )
                with cursor.cursor.copy(
                    "COPY bench_floor (item, location, on_hand, promised) FROM STDIN"
                ) as copy:
                    for row in rows:
                        copy.write_row(row)

        floor = timed("plain COPY of the rows into a table", copy_floor)

        print("\nOur path:")
        out = root / "exchange"
        folder = LocalExchangeFolder(out, 297)
        control = control_for("STKBAL", data, seq=1, kind="F", at=TAKEN, ccsid=297)
        write_pair(out / "OUT", "STKBAL", 1, data, control.encode(297))
        settings.AS400_EXCHANGE_DIR = out
        report: list = []
        full = timed(
            "full extract, end to end (verify, decode, stage, write)",
            lambda: report.append(exchange_sync(files=["STKBAL"], folder=folder)),
        )
        run_ = report[0].runs[0]
        assert run_.outcome == "applied", run_.error
        assert StockLevel.objects.count() == records, StockLevel.objects.count()
        print(f"    {run_.counts}")

        rng = random.Random(args.seed + 1)
        changed = rng.sample(range(records), records // 10)
        on_hand = list(columns["SBQOH"])
        for i in changed:
            on_hand[i] += rng.randint(-3, 3) or 1
        nightly = {**columns, "SBQOH": on_hand}

        def apply_full_again() -> None:
            with transaction.atomic():
                result = stock_apply_extract(
                    balances=StockBalances.of(nightly), full=True, taken_at=TAKEN.replace(day=23)
                )
            print(f"    {result.counts}")

        full_again = timed("the next night's full extract, 10% changed (applier only)", apply_full_again)

        picked = rng.sample(range(records), args.delta)
        delta_columns = {name: [values[i] for i in picked] for name, values in columns.items()}
        delta_columns["SBQOH"] = [v + 1 for v in delta_columns["SBQOH"]]

        def apply_delta() -> None:
            with transaction.atomic():
                result = stock_apply_extract(
                    balances=StockBalances.of(delta_columns),
                    full=False,
                    taken_at=TAKEN.replace(day=23, hour=9),
                )
            print(f"    {result.counts}")

        delta = timed(f"a delta of {args.delta:,} changed pairs (applier only)", apply_delta)
        assert (
            StockLevel.objects.get(
                product__item_number=delta_columns["SBITEM"][0], location_id=delta_columns["SBMAG"][0]
            ).on_hand
            == delta_columns["SBQOH"][0]
        )

    print("\nAgainst the aims:")
    print(
        f"  full extract end to end: {full:.2f} s = {full / floor:.1f}× the floor (aim: < 60 s and ≤ 3×): "
        f"{'MET' if full < 60 and full <= 3 * floor else 'NOT MET'}"
    )
    print(f"  next night's full extract: {full_again:.2f} s = {full_again / floor:.1f}× the floor")
    print(f"  delta: {delta:.2f} s (aim: < 2 s): {'MET' if delta < 2 else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
