"""Stock push latency to the Shopify simulator: a reservation's commit until Shopify holds the figure.

    DATABASE_URL=postgres://... [REDIS_URL=redis://...] .venv/bin/python bench/shopify_push.py
        [--runs 50] [--worker sweep|qcluster] [--reset]

In a migrated database (``--reset`` first removes what an earlier run left), with a Shopify
simulator started here on loopback (``integration.shopify.simulator.ShopifySimulator``), the settings
pointed at it and the real client (token grant, cost-based pacing) in between: one product
published in Shopify (``catalogue_push``) with stock at the warehouse; ``--runs`` times a
reservation of one unit is taken (``reservation_create``, what the storefront API's reservation
calls: its transaction notes the pair dirty and queues a push after the commit), then the simulator
is read until it holds the new figure. The time from the commit to the simulator holding it:
median, p95 and max, for two ways of pushing, in the same run:

- the floor, ``inline``: ``stock_push`` called by the bench itself right after the commit — the
  push's own work (read the dirty pair, our availability, one ``inventorySetQuantities``), with
  no waiting for anyone;
- ``--worker sweep`` (default): ``stock_push`` in a thread of this process as soon as a dirty pair
  exists (what the after-commit kick makes a django-q2 worker do, without the broker);
- ``--worker qcluster``: ``manage.py qcluster`` started beside, the after-commit kick queued on the
  broker of the settings — Redis when ``REDIS_URL`` is set, the database (ORM) broker otherwise —
  exactly as in production. One warm-up reservation is not counted (the cluster's start).

The first figure beside the second is what the worker adds to the push's own work.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-" + "b" * 40)  # a bench, not a deployment
os.environ.setdefault("DJANGO_HTTPS", "false")
os.environ["DJANGO_DEBUG"] = "false"  # DEBUG keeps every query's text: not what production runs

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from integration.shopify.client import shopify_client  # noqa: E402
from integration.shopify.models import AccessToken  # noqa: E402
from integration.shopify.simulator import ShopifySimulator  # noqa: E402
from inventory.models import Category, ItemMapping, Location, Product, StockLevel  # noqa: E402
from inventory.reservations import LineRequest, reservation_create  # noqa: E402
from shopify_channel.catalogue import catalogue_push  # noqa: E402
from shopify_channel.models import ShopifyLocation, ShopifyProduct, ShopifyStockLevel, StockDirty  # noqa: E402
from shopify_channel.stock import stock_push  # noqa: E402

CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret"
PREFIX, FAMILY = "BENCHL", "BNCH"
ROOT = Path(__file__).resolve().parents[1]


def broker_name() -> str:
    return "Redis" if settings.Q_CLUSTER.get("redis") else "ORM (database)"


def reset() -> None:
    """What this script leaves: its product, its reservations, the links, the kicks it queued."""
    from django_q.brokers import get_broker

    StockDirty.objects.all().delete()
    ShopifyStockLevel.objects.all().delete()
    ShopifyProduct.objects.all().delete()
    ShopifyLocation.objects.all().delete()
    AccessToken.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM inventory_reservationline WHERE reservation_id IN "
            "(SELECT id FROM inventory_reservation WHERE client = 'bench')"
        )
        cursor.execute("DELETE FROM inventory_reservation WHERE client = 'bench'")
    StockLevel.objects.filter(product__item_number__startswith=PREFIX).delete()
    ItemMapping.objects.filter(product__item_number__startswith=PREFIX).delete()
    Product.objects.filter(item_number__startswith=PREFIX).delete()
    Category.objects.filter(family_code=FAMILY).delete()
    get_broker().purge_queue()  # the kicks earlier runs queued with no worker to take them


def shop(sim: ShopifySimulator, runs: int) -> tuple[Product, str]:
    """One product published in the simulated shop, ``runs`` + 100 units at the warehouse pushed."""
    settings.SHOPIFY_SHOP, settings.SHOPIFY_ADMIN_URL = sim.shop_domain, sim.url
    settings.SHOPIFY_CLIENT_ID, settings.SHOPIFY_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET
    sim.seed_locations()
    with sim.lock:
        locations = list(sim.shop.state["locations"].values())
    warehouse = next(loc for loc in locations if loc["fulfills_online_orders"])
    warehouse_gid = f"gid://shopify/Location/{warehouse['id']}"
    ShopifyLocation.objects.create(location_id=900, shopify_location_id=warehouse_gid)
    category = Category.objects.create(family_code=FAMILY, rollout_stage="live")
    product = Product.objects.create(
        item_number=f"{PREFIX}000001", ean="", price="9.90", vat_code="1",
        as400_description="Article de banc", category=category,
    )  # fmt: skip
    ItemMapping.objects.create(product=product, sku=product.item_number)
    StockLevel.objects.create(product=product, location_id=900, on_hand=3 * runs + 100, as_of=timezone.now())
    client = shopify_client()
    report = catalogue_push(client=client)
    assert report.created == 1, report
    stock_push(client=client)
    return product, warehouse_gid


def samples(
    sim: ShopifySimulator, product: Product, warehouse: str, runs: int, after: Callable[[], None]
) -> list[float]:
    """``runs`` reservations of one unit; seconds from each commit to the simulator's new figure."""
    taken = []
    expected = sim.available(product.item_number, warehouse)
    for _ in range(runs):
        reservation_create(lines=[LineRequest(product.item_number, 1)], client="bench")
        committed = time.perf_counter()
        after()
        expected -= 1
        while (held := sim.available(product.item_number, warehouse)) != expected:
            if time.perf_counter() - committed > 60:
                raise TimeoutError(f"Shopify still holds {held}, expected {expected}, after 60 s")
            time.sleep(0.001)
        taken.append(time.perf_counter() - committed)
    return taken


def sweep_thread(stop: threading.Event) -> threading.Thread:
    def sweep() -> None:
        from django.db import connections

        own = shopify_client()
        while not stop.is_set():
            if StockDirty.objects.exists():
                stock_push(client=own)
            else:
                time.sleep(0.002)
        connections.close_all()

    thread = threading.Thread(target=sweep, daemon=True)
    thread.start()
    return thread


def qcluster(sim: ShopifySimulator) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SHOPIFY_SHOP": sim.shop_domain, "SHOPIFY_ADMIN_URL": sim.url,
           "SHOPIFY_CLIENT_ID": CLIENT_ID, "SHOPIFY_CLIENT_SECRET": CLIENT_SECRET}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip


def stop_cluster(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:  # a worker busy past the timeout: the whole group goes
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def line(label: str, taken: list[float]) -> str:
    taken = sorted(taken)
    p95 = taken[max(0, round(len(taken) * 0.95) - 1)]
    return (
        f"    {label:<48} median {statistics.median(taken) * 1000:8.1f} ms   p95 {p95 * 1000:8.1f} ms"
        f"   max {taken[-1] * 1000:8.1f} ms   ({len(taken)} runs)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--worker", choices=["sweep", "qcluster"], default="sweep")
    parser.add_argument("--reset", action="store_true", help="remove what an earlier run left first")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs at least 1")
    print(f"database {connection.vendor}; broker {broker_name()}; load {os.getloadavg()[0]:.2f}")
    if args.reset:
        reset()
    elif Product.objects.filter(item_number__startswith=PREFIX).exists():
        print(f"product {PREFIX}… is left from an earlier run: rerun with --reset")
        return 2
    Location.objects.get_or_create(code=900, defaults={"name": "Entrepôt", "kind": Location.Kind.WAREHOUSE})
    client = None
    try:
        with ShopifySimulator(client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as sim:
            product, warehouse = shop(sim, args.runs)
            client = shopify_client()
            inline = samples(sim, product, warehouse, args.runs, lambda: stock_push(client=client))
            stop = threading.Event()
            proc = None
            if args.worker == "sweep":
                thread = sweep_thread(stop)
                label = "sweep: stock_push in a thread, on a dirty pair"
            else:
                proc = qcluster(sim)
                samples(sim, product, warehouse, 1, lambda: None)  # the cluster's start, not counted
                label = f"qcluster, {broker_name()} broker, the kick"
            try:
                worker = samples(sim, product, warehouse, args.runs, lambda: None)
            finally:
                stop.set()
                if proc is not None:
                    stop_cluster(proc)
                else:
                    thread.join(timeout=30)
    finally:
        reset()
    print("\nstock push latency, reservation commit → the simulator holds the new figure:")
    print(line("floor: stock_push inline after the commit", inline))
    print(line(label, worker))
    print(
        f"    the worker adds {(statistics.median(worker) - statistics.median(inline)) * 1000:.1f} ms (median)"
    )
    print(f"load at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
