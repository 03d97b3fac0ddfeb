"""A sales peak: orders posted to the API under gunicorn while the AS400 is down, then delivered.

    DATABASE_URL=postgres://user@host:port/name .venv/bin/python bench/orders_peak.py [--clients 16] [--seconds 20]

In a database of its own: a simulated AS400 (its catalogue applied, three items with plenty of
stock on both sides), a storefront client, and gunicorn serving the platform on a loopback port.

1. For ``--seconds``, ``--clients`` concurrent clients each loop: reserve one unit, place the order.
   Printed: orders accepted per second, and p50/p95/p99 latency of the order request and of the
   whole checkout (reservation + order). The AS400 is down meanwhile: nothing reads IN/, and
   the orders wait in the outbox.
2. The AS400 comes back: the dispatcher, the AS400's import job and the sync run in a loop on the
   real clock, with the caps of the settings, until every order is acknowledged. Printed: how long.
3. Checked against the simulator's own tables: every accepted order is there exactly once, no
   other; none is lost, none duplicated.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-" + "b" * 40)  # a bench, not a deployment
os.environ.setdefault("DJANGO_HTTPS", "false")  # plain HTTP on loopback

import django

django.setup()

import httpx  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from integration.as400.codec import PARIS  # noqa: E402
from integration.as400.simulator.engine import Simulator  # noqa: E402
from integration.as400.sync import exchange_sync  # noqa: E402
from integration.outbox.dispatch import outbox_dispatch, outbox_follow_up  # noqa: E402
from integration.storefront.clients import SCOPES, storefront_client_create  # noqa: E402
from inventory.models import Category, Product, StockLevel  # noqa: E402
from inventory.reference import locations_seed_default  # noqa: E402
from orders.models import Order  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 2 else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("This benchmark is about PostgreSQL: set DATABASE_URL=postgres://...", file=sys.stderr)
        return 2
    connection.settings_dict.setdefault("TEST", {})["NAME"] = "bench_orders_peak"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            return run(args, Path(tmp))
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(args: argparse.Namespace, tmp: Path) -> int:
    settings.AS400_SIMULATOR_DB = tmp / "as400.sqlite3"
    settings.AS400_EXCHANGE_DIR = tmp / "exchange"
    settings.AS400_BATCH_WINDOW = "00:00-00:00"  # measured on the real clock, whatever the hour
    sim = Simulator.from_settings(
        items=300, auto_lifecycle=False, store_sales_per_hour=0, start=datetime.now(PARIS)
    )
    sim.seed(seed=5, items=300)
    locations_seed_default()
    sim.initial_exports()
    exchange_sync()
    Category.objects.update(rollout_stage=Category.Stage.LIVE)
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
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "AS400_EXCHANGE_DIR": str(settings.AS400_EXCHANGE_DIR),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--log-level", "warning"],
        cwd=str(Path(__file__).resolve().parents[1]), env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/api/schema/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        print(f"PostgreSQL {connection.pg_version}, gunicorn {args.workers} workers, {args.clients} clients, "
              f"{args.seconds:.0f} s, {os.cpu_count()} CPUs; the AS400 is down\n")  # fmt: skip
        order_latency: list[float] = []
        checkout_latency: list[float] = []
        accepted: list[str] = []
        failures: list[str] = []
        lock = threading.Lock()
        until = time.monotonic() + args.seconds

        def client(n: int) -> None:
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
                i = 0
                while time.monotonic() < until:
                    i += 1
                    product = products[(n + i) % len(products)]
                    number = f"PEAK-{n:03d}-{i:06d}"
                    started = time.perf_counter()
                    r = http.post(
                        "/api/v1/reservations/", json={"lines": [{"sku": product.item_number, "quantity": 1}]}
                    )
                    if r.status_code != 201:
                        with lock:
                            failures.append(f"reservation {r.status_code} {r.text[:100]}")
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
                            accepted.append(number)
                            order_latency.append(done - placed)
                            checkout_latency.append(done - started)
                        else:
                            failures.append(f"order {o.status_code} {o.text[:100]}")

        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(f"orders accepted: {len(accepted):,} in {elapsed:.1f} s = {len(accepted) / elapsed:.1f} orders/s "
          f"({len(failures)} refused)")  # fmt: skip
    print(f"  order request     p50 {pct(order_latency, 50):6.1f} ms  p95 {pct(order_latency, 95):6.1f} ms  "
          f"p99 {pct(order_latency, 99):6.1f} ms")  # fmt: skip
    print(f"  whole checkout    p50 {pct(checkout_latency, 50):6.1f} ms  p95 {pct(checkout_latency, 95):6.1f} ms  "
          f"p99 {pct(checkout_latency, 99):6.1f} ms  (reservation + order)")  # fmt: skip
    for failure in sorted(set(failures))[:5]:
        print(f"  refused: {failure}")

    print(f"\nThe AS400 is back (caps: {settings.OUTBOX_MAX_ORDERS_PER_FILE} orders a file, "
          f"{settings.OUTBOX_MAX_ORDERS_PER_MINUTE} a minute)")  # fmt: skip
    back = time.perf_counter()
    while Order.objects.exclude(status="accepted").exists() and time.perf_counter() - back < 1800:
        outbox_follow_up()
        outbox_dispatch()
        sim.import_now()
        exchange_sync()
        time.sleep(0.5)
    delivered = time.perf_counter() - back
    waiting = Order.objects.exclude(status="accepted").count()
    print(
        f"every order acknowledged after {delivered:.1f} s"
        if not waiting
        else f"{waiting} orders still waiting"
    )

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
    return 0 if not (lost or duplicated or unknown or waiting) else 1


if __name__ == "__main__":
    raise SystemExit(main())
