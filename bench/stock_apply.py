"""Applying a full STKBAL extract (1.55M records), the next night's, and a delta, on PostgreSQL.

    DATABASE_URL=postgres://user@host:port/name .venv/bin/python bench/stock_apply.py [--items 50000] [--repeat 3]

Creates a throwaway database (Django's test database for the URL), loads 50,000 products and 31
locations, writes real full STKBAL pairs into a temporary OUT/ folder, then, ``--repeat`` times,
measures in the same run:

- the floor: a ``COPY`` of the rows the apply writes (product id, location, on hand, promised,
  as of, reserved, in flight: the same values) into a table of the stock table's shape —
  ``CREATE TABLE ... (LIKE inventory_stocklevel INCLUDING ALL)``: the same column types,
  constraints and indexes — committed; the table is dropped after each repeat;
- the first night: the full extract end to end through ``exchange_sync`` (verify the pair,
  decode, stage, write, the hooks registered on STKBAL, the file run), into an empty stock table;
- the next night: a second full extract with 10 % of the pairs changed, end to end likewise;
- a delta of 10,000 changed pairs, applier only.

Each repeat starts from an empty stock table. Prints best and median of each, and their ratio to
the floor's. Aim (issue 15): the end-to-end full extract within 1.5 times the floor; the delta
under 2 s.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
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

from bench.codec_decode import generate  # noqa: E402
from integration.as400.codec import PARIS, RecordCodec  # noqa: E402
from integration.as400.control import control_for  # noqa: E402
from integration.as400.dds import load_layout  # noqa: E402
from integration.as400.exchange.local import LocalExchangeFolder  # noqa: E402
from integration.as400.files import write_pair  # noqa: E402
from integration.as400.records import StockBalances  # noqa: E402
from integration.as400.sync import exchange_sync  # noqa: E402
from integration.models import FileRun  # noqa: E402
from inventory.models import Location, Product, StockLevel  # noqa: E402
from inventory.services import stock_apply_extract  # noqa: E402
from reconciliation.models import StockPicture  # noqa: E402

TAKEN = datetime(2026, 11, 22, 3, 45, tzinfo=PARIS)
NEXT_NIGHT = TAKEN.replace(day=23)
FLOOR_TABLE = "bench_stock_floor"
SBQOH_OFFSET, SBQOH_SIZE = 18, 5  # STKBALR: SBITEM 15A, SBMAG 3S 0, SBQOH 9P 0


def timed(label: str, work) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    print(f"  {label:<62} {elapsed:8.2f} s", flush=True)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--locations", type=int, default=31)
    parser.add_argument("--delta", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
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
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)


def packed9(value: int) -> bytes:
    return bytes.fromhex(f"{abs(value):09d}" + ("d" if value < 0 else "f"))


def run(args: argparse.Namespace) -> int:
    layout = load_layout("STKBAL")
    records = args.items * args.locations
    print(
        f"PostgreSQL {connection.pg_version}, {records:,} STKBAL records ({args.items:,} items × "
        f"{args.locations} locations), {args.repeat} repeats"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        raw = root / "raw.DAT"
        generate(raw, layout, args.items, args.locations, args.seed)
        data = raw.read_bytes()
        codec = RecordCodec(layout, 297)
        columns = codec.decode_columns(data)

        # The next night: 10 % of the pairs changed, written into the file's own bytes.
        rng = random.Random(args.seed + 1)
        changed = rng.sample(range(records), records // 10)
        on_hand = list(columns["SBQOH"])
        night = bytearray(data)
        for i in changed:
            on_hand[i] += rng.randint(-3, 3) or 1
            start = i * codec.record_length + SBQOH_OFFSET
            night[start : start + SBQOH_SIZE] = packed9(on_hand[i])
        next_data = bytes(night)

        # The catalogue the extract refers to.
        codes_locations = sorted({*range(1, args.locations), 900})
        Location.objects.bulk_create([Location(code=c, name=f"L{c:03d}") for c in codes_locations])
        Product.objects.bulk_create(
            [Product(item_number=c) for c in dict.fromkeys(columns["SBITEM"])], batch_size=5000
        )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

        # The floor's rows: what the first night's apply writes, in the order it inserts them.
        ids = dict(Product.objects.values_list("item_number", "id"))
        floor_rows = sorted(
            (ids[i], m, q, p, TAKEN, 0, 0)
            for i, m, q, p in zip(columns["SBITEM"], columns["SBMAG"], columns["SBQOH"], columns["SBQRS"], strict=True)
            if p >= 0
        )
        del ids
        stock = StockLevel._meta.db_table

        def copy_floor() -> None:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"CREATE TABLE {FLOOR_TABLE} (LIKE {stock} INCLUDING ALL)")
                with cursor.cursor.copy(
                    f"COPY {FLOOR_TABLE} (product_id, location_id, on_hand, promised, as_of, reserved, "
                    "in_flight) FROM STDIN"
                ) as copy:
                    for row in floor_rows:
                        copy.write_row(row)

        out = root / "exchange"
        folder = LocalExchangeFolder(out, 297)
        settings.AS400_EXCHANGE_DIR = out
        for part in ("IN/DONE", "IN/ERR", "OUT"):  # the AS400's share, as its operators make it
            (out / part).mkdir(parents=True)
        first_ok = control_for("STKBAL", data, seq=1, kind="F", at=TAKEN, ccsid=297).encode(297)
        next_ok = control_for("STKBAL", next_data, seq=2, kind="F", at=NEXT_NIGHT, ccsid=297).encode(297)

        def sync() -> None:
            report = exchange_sync(files=["STKBAL"], folder=folder)
            (run_,) = report.runs
            assert run_.outcome == "applied", run_.error
            print(f"    {run_.counts}")

        picked = rng.sample(range(records), args.delta)
        delta_columns = {name: [values[i] for i in picked] for name, values in columns.items()}
        delta_columns["SBQOH"] = [v + 2 for v in delta_columns["SBQOH"]]

        def apply_delta() -> None:
            with transaction.atomic():
                result = stock_apply_extract(
                    balances=StockBalances.of(delta_columns), full=False, taken_at=NEXT_NIGHT.replace(hour=9)
                )
            print(f"    {result.counts}")

        figures: dict[str, list[float]] = {"floor": [], "first": [], "next": [], "delta": []}
        for n in range(1, args.repeat + 1):
            print(f"\nRepeat {n}:")
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
                cursor.execute(f"TRUNCATE {stock}, {StockPicture._meta.db_table}")
                cursor.execute(f"ANALYZE {stock}")
            FileRun.objects.filter(file="STKBAL").delete()
            for old in (out / "OUT" / "ARCHIVE").glob("STKBAL_*") if (out / "OUT" / "ARCHIVE").exists() else ():
                old.unlink()
            figures["floor"].append(timed("floor: COPY into a table LIKE the stock table (INCLUDING ALL)", copy_floor))
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE {FLOOR_TABLE}")

            write_pair(out / "OUT", "STKBAL", 1, data, first_ok)
            figures["first"].append(timed("first night: full extract end to end, into an empty table", sync))
            assert StockLevel.objects.count() == len(floor_rows), StockLevel.objects.count()

            write_pair(out / "OUT", "STKBAL", 2, next_data, next_ok)
            figures["next"].append(timed("next night: full extract end to end, 10% changed", sync))
            sample = changed[0]
            assert StockLevel.objects.get(
                product__item_number=columns["SBITEM"][sample], location_id=columns["SBMAG"][sample]
            ).on_hand == on_hand[sample]

            figures["delta"].append(timed(f"a delta of {args.delta:,} changed pairs (applier only)", apply_delta))
            assert (
                StockLevel.objects.get(
                    product__item_number=delta_columns["SBITEM"][0], location_id=delta_columns["SBMAG"][0]
                ).on_hand
                == delta_columns["SBQOH"][0]
            )

    floor_best, floor_median = min(figures["floor"]), statistics.median(figures["floor"])
    print(f"\nBest and median of {args.repeat} (ratios to the floor's best and median):")
    labels = {
        "floor": "floor: COPY into a table of the stock table's shape",
        "first": "first night, end to end",
        "next": "next night, end to end",
        "delta": "delta, applier only",
    }
    for key, label in labels.items():
        best, median = min(figures[key]), statistics.median(figures[key])
        ratio = "" if key in ("floor", "delta") else f"  = {best / floor_best:.2f}× / {median / floor_median:.2f}×"
        print(f"  {label:<52} best {best:6.2f} s, median {median:6.2f} s{ratio}")
    first, nxt = min(figures["first"]), min(figures["next"])
    print("\nAgainst the aims (issue 15):")
    for name, value in (("first night", first), ("next night", nxt)):
        print(
            f"  {name} end to end: best {value:.2f} s = {value / floor_best:.2f}× the floor's best (aim ≤ 1.5×): "
            f"{'MET' if value <= 1.5 * floor_best else 'NOT MET'}"
        )
    delta = min(figures["delta"])
    print(f"  delta: best {delta:.2f} s (aim: < 2 s): {'MET' if delta < 2 else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
