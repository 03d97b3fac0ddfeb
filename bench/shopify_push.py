"""The Shopify pushes against the Shopify simulator: stock push latency, catalogue first-sync time.

    DATABASE_URL=postgres://user@host:port/name .venv/bin/python bench/shopify_push.py
        [--runs 50] [--worker sweep|qcluster] [--sizes 5000,50000] [--small-sample 500] [--reset]

In a migrated database (``--reset`` empties the tables it fills first), with a Shopify simulator
started here on loopback (``integration.shopify.simulator.ShopifySimulator``) and the settings
pointed at it:

(a) push latency. A product published in Shopify with stock at the warehouse; ``--runs`` times:
    a reservation of one unit is created (``reservation_create``: its transaction marks the pair
    dirty and queues a push after the commit), then the simulator is read until it holds the new
    figure. The time from the commit to the simulator holding it, median and p95. The worker:
    ``sweep`` (default) runs ``stock_push`` in a thread of this process whenever a dirty pair
    exists (what the after-commit kick makes a django-q2 worker do, without the broker's poll);
    ``qcluster`` starts ``manage.py qcluster`` (the database's ORM broker when REDIS_URL is unset,
    Redis otherwise) and lets the after-commit kick queue the push, as in production.

(b) catalogue first sync, for each of ``--sizes`` items: by bulk operation (one staged JSONL
    upload, ``bulkOperationRunMutation``, polling) and by small batches (one ``productSet`` per
    item, paced by the client's cost bucket). Small batches over more than ``--small-sample``
    items are timed on that many and extrapolated (said so in the table): at Shopify's 100 points
    a second, 50,000 productSet calls take hours, which is the point.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-" + "b" * 40)  # a bench, not a deployment
os.environ.setdefault("DJANGO_HTTPS", "false")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from integration.shopify.simulator import ShopifySimulator  # noqa: E402
from inventory.models import Category, ItemMapping, Location, Product, StockLevel  # noqa: E402
from inventory.reservations import LineRequest, reservation_create  # noqa: E402
from shopify_channel.models import ShopifyLocation, ShopifyProduct, ShopifyStockLevel, StockDirty  # noqa: E402

CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret"


def reset() -> None:
    from integration.shopify.models import AccessToken

    StockDirty.objects.all().delete()
    ShopifyStockLevel.objects.all().delete()
    ShopifyProduct.objects.all().delete()
    ShopifyLocation.objects.all().delete()
    AccessToken.objects.all().delete()
    with connection.cursor() as cursor:
        for model in ("inventory_reservationline", "inventory_reservation"):
            cursor.execute(f"DELETE FROM {model}")
    StockLevel.objects.all().delete()
    with connection.cursor() as cursor:  # the kicks earlier runs queued (ORM broker)
        cursor.execute("DELETE FROM django_q_ormq")
    ItemMapping.objects.filter(product__item_number__startswith="BENCH").delete()
    Product.objects.filter(item_number__startswith="BENCH").delete()


def products(count: int, prefix: str, category: Category) -> list[Product]:
    rows = [
        Product(item_number=f"{prefix}{n:06d}", ean="", price="9.90", vat_code="1", as400_description=f"Article {n}",
                category=category)
        for n in range(count)
    ]  # fmt: skip
    Product.objects.bulk_create(rows, batch_size=5000)
    made = list(Product.objects.filter(item_number__startswith=prefix).order_by("pk"))
    ItemMapping.objects.bulk_create(
        [ItemMapping(product=p, sku=p.item_number) for p in made], batch_size=5000
    )
    return made


def sim_setup(sim: ShopifySimulator) -> None:
    settings.SHOPIFY_SHOP = sim.shop_domain
    settings.SHOPIFY_ADMIN_URL = sim.url
    settings.SHOPIFY_CLIENT_ID, settings.SHOPIFY_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET


def map_locations(client) -> None:  # type: ignore[no-untyped-def]
    """The simulator's locations as ours: the warehouse 900 and the pickup store 1."""
    answer = client.execute("locations", {"first": 50})
    nodes = answer.data["locations"]["nodes"]
    warehouse = next(n for n in nodes if not n.get("localPickupSettingsV2"))
    store = next((n for n in nodes if n.get("localPickupSettingsV2")), None)
    ShopifyLocation.objects.update_or_create(
        location_id=900, defaults={"shopify_location_id": warehouse["id"]}
    )
    if store is not None:
        ShopifyLocation.objects.update_or_create(
            location_id=1, defaults={"shopify_location_id": store["id"], "pickup": True}
        )


def latency(sim: ShopifySimulator, runs: int, worker: str) -> list[float]:
    from integration.shopify.client import shopify_client
    from shopify_channel.catalogue import catalogue_push
    from shopify_channel.stock import stock_push

    client = shopify_client()
    category = Category.objects.update_or_create(family_code="BNCH", defaults={"rollout_stage": "live"})[0]
    (product,) = products(1, "BENCHL", category)
    StockLevel.objects.create(
        product=product, location_id=900, on_hand=runs + 100, as_of=django.utils.timezone.now()
    )
    catalogue_push(client=client)
    stock_push(client=client)
    warehouse = ShopifyLocation.objects.get(location_id=900).shopify_location_id

    def shopify_figure() -> int:
        return sim.available(product.item_number, warehouse)

    stop = threading.Event()
    proc: subprocess.Popen[bytes] | None = None
    if worker == "sweep":

        def sweep() -> None:
            from django.db import connections

            own = shopify_client()
            while not stop.is_set():
                if StockDirty.objects.exists():
                    stock_push(client=own)
                else:
                    time.sleep(0.005)
            connections.close_all()

        thread = threading.Thread(target=sweep, daemon=True)
        thread.start()
    else:
        env = {**os.environ, "SHOPIFY_SHOP": sim.shop_domain, "SHOPIFY_ADMIN_URL": sim.url,
               "SHOPIFY_CLIENT_ID": CLIENT_ID, "SHOPIFY_CLIENT_SECRET": CLIENT_SECRET}  # fmt: skip
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"], cwd=Path(__file__).resolve().parents[1], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        time.sleep(3)
    samples = []
    try:
        expected = shopify_figure()
        for _ in range(runs):
            reservation_create(lines=[LineRequest(product.item_number, 1)], client="bench")
            committed = time.monotonic()
            expected -= 1
            while shopify_figure() != expected:
                if time.monotonic() - committed > 30:
                    raise TimeoutError(f"Shopify still at {shopify_figure()}, expected {expected}")
                time.sleep(0.001)
            samples.append(time.monotonic() - committed)
    finally:
        stop.set()
        Category.objects.filter(pk=category.pk).update(rollout_stage="off")  # out of the first syncs
        if proc is not None:
            import signal

            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:  # busy workers: the whole group goes
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
    return samples


def first_sync(size: int, small_sample: int) -> tuple[float, float, bool]:
    """(bulk seconds, small-batch seconds, small extrapolated) for ``size`` new products."""
    from integration.shopify.client import shopify_client
    from shopify_channel.catalogue import catalogue_push

    category = Category.objects.update_or_create(family_code="BNCS", defaults={"rollout_stage": "live"})[0]
    timings = []
    for mode in ("bulk", "small"):
        with ShopifySimulator(client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as sim:
            sim_setup(sim)
            sim.seed_locations()
            StockDirty.objects.all().delete()
            ShopifyStockLevel.objects.all().delete()
            ShopifyProduct.objects.all().delete()
            ShopifyLocation.objects.all().delete()
            map_locations(shopify_client())
            Product.objects.filter(item_number__startswith="BENCHC").delete()
            count = size if mode == "bulk" else min(size, small_sample)
            products(count, "BENCHC", category)
            client = shopify_client()
            started = time.monotonic()
            if mode == "bulk":
                report = catalogue_push(client=client, bulk_from=1)
            else:
                report = catalogue_push(client=client, bulk_from=10**9, small_batch=None)
            elapsed = time.monotonic() - started
            assert report.created == count, report
            assert not report.failed, report
            timings.append(elapsed * size / count)
    return timings[0], timings[1], size > small_sample


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--worker", choices=["sweep", "qcluster"], default="sweep")
    parser.add_argument("--sizes", default="5000,50000")
    parser.add_argument("--small-sample", type=int, default=500)
    parser.add_argument("--reset", action="store_true")
    args = parser.parse_args()
    print(f"database {connection.vendor}; load {os.getloadavg()[0]:.2f}")
    if args.reset:
        reset()
    Location.objects.get_or_create(code=900, defaults={"name": "Entrepôt", "kind": Location.Kind.WAREHOUSE})
    Location.objects.get_or_create(code=1, defaults={"name": "Paris", "click_and_collect": True})

    with ShopifySimulator(client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as sim:
        sim_setup(sim)
        sim.seed_locations()
        from integration.shopify.client import shopify_client

        map_locations(shopify_client())
        samples = latency(sim, args.runs, args.worker)
    samples.sort()
    p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
    print(
        f"\n(a) stock push latency, reservation commit → simulator holds the figure ({args.worker}, {len(samples)} runs)"
    )
    print(
        f"    median {statistics.median(samples) * 1000:.1f} ms   p95 {p95 * 1000:.1f} ms   max {samples[-1] * 1000:.1f} ms"
    )

    print("\n(b) catalogue first sync (simulator)")
    print(f"    {'items':>7} | {'bulk operation':>15} | {'small batches (productSet each)':>32}")
    for size in (int(s) for s in args.sizes.split(",") if s.strip()):
        bulk, small, extrapolated = first_sync(size, args.small_sample)
        note = f" (extrapolated from {args.small_sample})" if extrapolated else ""
        print(f"    {size:>7,} | {bulk:>13.1f} s | {small:>10.1f} s{note}")
    reset()
    return 0


if __name__ == "__main__":
    sys.exit(main())
