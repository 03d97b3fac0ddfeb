"""The first sync of a whole catalogue to Shopify by bulk operation, and the later small batches.

    DATABASE_URL=postgres://user@host:port/name .venv/bin/python bench/shopify_catalogue.py
        [--items 50000] [--repeat 3] [--changes 120] [--poll SECONDS] [--reset]

In a migrated database holding no other sellable product (``--reset`` first removes what an
earlier run of this script left), ``--items`` products are created in a live category, mapped,
with an EAN and prices that differ; the Shopify locations are the simulator's warehouse and
pickup store. Each repeat starts from empty Shopify simulators
(``integration.shopify.simulator.ShopifySimulator`` on loopback, the real client in between), our
webhook endpoint served on loopback (``/shopify/webhooks``, the platform's WSGI application in a
thread) and subscribed as production subscribes it (``shopify_subscriptions_ensure``), and
measures, in the same run:

(a) the JSONL alone: ``catalogue_plan`` (which products to create) and ``catalogue_bulk_jsonl``
    (the staged file's bytes), what the connector must do before anything reaches Shopify;
(b) the simulator ingesting that same JSONL directly (``bulk_mutation_lines``: every line through
    its GraphQL executor, no HTTP, no upload, no polling): the floor of (c), the work that at
    Shopify runs on Shopify's side;
(c) the first sync end to end: ``catalogue_push`` from the plan to the links recorded, through
    ``stagedUploadsCreate``, the multipart upload, ``bulkOperationRunMutation``, the wait (ended
    by the ``bulk_operations/finish`` webhook reaching our endpoint, else by ``node(id)`` read every
    ``--poll`` seconds: by default ``SHOPIFY_BULK_POLL_SECONDS``, as in production), the result
    JSONL read and the ids of every product, variant and inventory item stored, the stock pairs
    marked dirty;
(d) later changes: ``--changes`` products get a new price and EAN, then ``catalogue_push`` runs
    as the schedule runs it (small batches of ``SMALL_BATCH`` ``productSet`` calls, paced by the
    cost bucket) until nothing is left; beside it, the plan alone (finding the changed products
    among all of them). From it, what a first sync by small batches would take: ``--items`` times
    one ``productSet`` call's share of (d), the plans left out (extrapolated, said so).

Checks, every repeat (an ``AssertionError`` stops the script): (a) has one line per product;
(b) answered every line with a product and no error; (c) reports every product created, none
failed, one bulk operation, and the simulator holds exactly ``--items`` products whose SKU,
barcode, price, taxable flag and inventory item are the ones we pushed and recorded, stocked at
each mapped location; (d) updated exactly the changed products with one call each, and the
simulator holds their new price and barcode.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-" + "b" * 40)  # a bench, not a deployment
os.environ.setdefault("DJANGO_HTTPS", "false")
os.environ["DJANGO_DEBUG"] = "false"  # DEBUG keeps every query's text: not what production runs

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import F  # noqa: E402
from django.utils import timezone  # noqa: E402

from integration.shopify.documents import document  # noqa: E402
from integration.shopify.models import AccessToken  # noqa: E402
from integration.shopify.simulator import ShopifySimulator  # noqa: E402
from inventory.models import Category, ItemMapping, Location, Product  # noqa: E402
from shopify_channel.catalogue import (  # noqa: E402
    SMALL_BATCH,
    catalogue_bulk_jsonl,
    catalogue_plan,
    catalogue_push,
)
from shopify_channel.models import ShopifyLocation, ShopifyProduct, ShopifyStockLevel, StockDirty  # noqa: E402

CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret"
SHOP = "bench-shop.myshopify.com"
PREFIX = "BENCHK"
FAMILY = "BNCK"


def rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def forget_shopify() -> None:
    """Our side of a shop: the product links, stock levels and dirty pairs, locations, the token,
    the bulk operations recorded (a shop that is gone knows none of them)."""
    from integration.shopify.models import BulkOperation

    BulkOperation.objects.all().delete()
    StockDirty.objects.all().delete()
    ShopifyStockLevel.objects.all().delete()
    ShopifyProduct.objects.all().delete()
    ShopifyLocation.objects.all().delete()
    AccessToken.objects.all().delete()


def reset() -> None:
    """What this script leaves: its products, their links, its category, the pushes it queued,
    the webhooks its shops sent."""
    from django_q.brokers import get_broker

    from integration.shopify.models import WebhookEvent

    forget_shopify()
    WebhookEvent.objects.filter(shop_domain=SHOP).delete()
    get_broker().purge_queue()  # the stock push kicks the syncs queued, no worker to take them
    ItemMapping.objects.filter(product__item_number__startswith=PREFIX).delete()
    Product.objects.filter(item_number__startswith=PREFIX).delete()
    Category.objects.filter(family_code=FAMILY).delete()


def catalogue(count: int) -> list[int]:
    """``count`` sellable products: mapped, a 13-digit EAN, prices from 1.00 to 100.99, VAT 1 or 0."""
    category = Category.objects.update_or_create(family_code=FAMILY, defaults={"rollout_stage": "live"})[0]
    rows = [
        Product(item_number=f"{PREFIX}{n:07d}", ean=f"{3_000_000_000_000 + n}", price=Decimal(100 + n % 10_000) / 100,
                vat_code="1" if n % 7 else "0", as400_description=f"Article {n}", category=category)
        for n in range(count)
    ]  # fmt: skip
    Product.objects.bulk_create(rows, batch_size=5000)
    ids = list(
        Product.objects.filter(item_number__startswith=PREFIX).order_by("pk").values_list("pk", flat=True)
    )
    ItemMapping.objects.bulk_create(
        [ItemMapping(product_id=pk, sku=f"{PREFIX}{n:07d}") for n, pk in enumerate(ids)], batch_size=5000
    )
    return ids


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # one line per webhook otherwise
        pass


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def our_endpoint() -> tuple[WSGIServer, str]:
    """The platform's WSGI application on a loopback port, in a thread: where Shopify's webhooks
    arrive (``/shopify/webhooks``: checked, stored; ``bulk_wait`` watches the stored finish)."""
    from django.core.wsgi import get_wsgi_application

    server = make_server(
        "127.0.0.1", 0, get_wsgi_application(), server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    threading.Thread(target=server.serve_forever, daemon=True, name="bench-endpoint").start()
    return server, f"http://127.0.0.1:{server.server_port}/shopify/webhooks"


def fresh_shop(webhook_url: str | None = None) -> ShopifySimulator:
    """An empty simulated shop with its three locations, the settings pointed at it, mapped as ours;
    our topics subscribed at ``webhook_url`` when given (as ``shopify_subscriptions_ensure`` does)."""
    sim = ShopifySimulator(shop=SHOP, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    sim.start()
    sim.seed_locations()
    settings.SHOPIFY_SHOP = sim.shop_domain
    settings.SHOPIFY_ADMIN_URL = sim.url
    settings.SHOPIFY_CLIENT_ID, settings.SHOPIFY_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET
    forget_shopify()  # the links and the token of the previous shop
    from integration.shopify.models import WebhookEvent

    WebhookEvent.objects.filter(shop_domain=SHOP).delete()  # a new shop numbers its operations again
    if webhook_url:
        from shopify_channel.poll import shopify_subscriptions_ensure

        settings.SHOPIFY_WEBHOOK_URL = webhook_url
        subscribed = shopify_subscriptions_ensure(now=timezone.now())
        assert not subscribed.errors, subscribed
        assert "BULK_OPERATIONS_FINISH" in subscribed.created, subscribed
    with sim.lock:
        locations = list(sim.shop.state["locations"].values())
    warehouse = next(loc for loc in locations if loc["fulfills_online_orders"])
    store = next(loc for loc in locations if loc["pickup"])
    ShopifyLocation.objects.create(
        location_id=900, shopify_location_id=f"gid://shopify/Location/{warehouse['id']}"
    )
    ShopifyLocation.objects.create(
        location_id=1, shopify_location_id=f"gid://shopify/Location/{store['id']}", pickup=True
    )
    return sim


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


# --- the four measures, one repeat -------------------------------------------------------------------


def jsonl_build(items: int) -> tuple[float, bytes]:
    forget_shopify()  # every product to create, as in a first sync

    def build() -> bytes:
        plan = catalogue_plan()
        return catalogue_bulk_jsonl(plan.create, plan.values)

    seconds, body = timed(build)
    lines = body.decode().splitlines()
    assert len(lines) == items, f"(a) {len(lines)} JSONL lines for {items} products"
    return seconds, body


def sim_direct(body: bytes, items: int) -> float:
    sim = fresh_shop()
    try:
        lines = body.decode().splitlines()
        seconds, (out, roots) = timed(lambda: sim.bulk_mutation_lines(document("product_set_bulk"), lines))
        assert roots == items, f"(b) the simulator ran {roots} lines of {items}"
        for row in map(json.loads, out):
            answer = (row.get("data") or {}).get("productSet") or {}
            assert not row.get("errors"), row
            assert not answer.get("userErrors"), row
            assert answer.get("product"), row
        with sim.lock:
            assert len(sim.shop.state["products"]) == items
    finally:
        sim.stop()
    return seconds


def first_sync(sim: ShopifySimulator, items: int) -> tuple[float, int]:
    from integration.shopify.client import shopify_client

    client = shopify_client()
    seconds, report = timed(lambda: catalogue_push(client=client, bulk_from=1, wait_seconds=3600))
    assert report.bulk, report
    assert report.created == items, report
    assert not report.failed, report
    check_shop(sim, items)
    dirty = StockDirty.objects.count()
    assert dirty == items * 2, f"(c) {dirty} stock pairs marked dirty, expected {items * 2}"
    return seconds, report.calls


def check_shop(sim: ShopifySimulator, items: int, changed: set[int] | None = None) -> None:
    """The simulator holds exactly our products, with the fields we pushed and the ids we recorded."""
    links = {
        link.product_id: link
        for link in ShopifyProduct.objects.filter(state=ShopifyProduct.State.PUSHED).select_related(
            "product__mapping"
        )
    }
    assert len(links) == items, f"{len(links)} products recorded as pushed, expected {items}"
    locations = {
        g.rsplit("/", 1)[1] for g in ShopifyLocation.objects.values_list("shopify_location_id", flat=True)
    }
    with sim.lock:
        state = sim.shop.state
        assert len(state["products"]) == items, f"the simulator holds {len(state['products'])} products"
        for link in links.values():
            product = link.product
            shop_product = state["products"][link.shopify_product_id.rsplit("/", 1)[1]]
            (variant_id,) = shop_product["variant_ids"]
            variant = state["variants"][str(variant_id)]
            assert f"gid://shopify/ProductVariant/{variant_id}" == link.shopify_variant_id, product
            assert f"gid://shopify/InventoryItem/{variant['inventory_item_id']}" == link.inventory_item_id
            assert variant["sku"] == product.mapping.sku, (variant, product.item_number)
            assert variant["barcode"] == product.ean, (variant, product.ean)
            assert Decimal(variant["price"]) == product.price, (variant, product.price)
            assert variant["taxable"] == (product.vat_code in {"1", "2", "3", "4"}), variant
            assert shop_product["status"] == "ACTIVE", shop_product
            assert shop_product["title"] == product.as400_description, shop_product
            for location in locations:
                assert f"{variant['inventory_item_id']}:{location}" in state["levels"], (variant, location)


def later_changes(sim: ShopifySimulator, ids: list[int], changes: int) -> tuple[float, float, int, int]:
    """(plan alone, push until done, catalogue runs, productSet calls) for ``changes`` products."""
    from integration.shopify.client import shopify_client

    step = max(1, len(ids) // changes)
    chosen = ids[::step][:changes]
    Product.objects.filter(pk__in=chosen).update(
        price=F("price") + Decimal("1.00"),
        ean=F("item_number"),  # a new price and barcode
    )
    plan_seconds, plan = timed(catalogue_plan)
    assert {p.pk for p, _ in plan.update} == set(chosen), (len(plan.update), len(chosen))
    assert not plan.create, len(plan.create)
    client = shopify_client()
    runs = calls = updated = 0
    started = time.perf_counter()
    while True:
        report = catalogue_push(client=client)
        runs += 1
        calls += report.calls
        updated += report.updated
        assert not report.failed, report
        assert not report.bulk, report
        if report.calls == 0:
            break
    push_seconds = time.perf_counter() - started
    assert updated == len(chosen), (updated, len(chosen))
    assert calls == len(chosen), (calls, len(chosen))
    expected_runs = -(-len(chosen) // SMALL_BATCH) + 1  # the last run finds nothing to do
    assert runs == expected_runs, (runs, expected_runs)
    check_shop(sim, len(ids))
    return plan_seconds, push_seconds, runs, calls


# --- output ------------------------------------------------------------------------------------------


def line(label: str, runs: list[float], items: int, unit: str = "items/s") -> str:
    best, median = min(runs), statistics.median(runs)
    spread = (max(runs) / best - 1) * 100 if best else 0.0
    listed = ", ".join(f"{r:.3f}" for r in runs)
    rate = f"{items / best:>10,.0f} {unit}" if best else ""
    return f"{label:<44} best {best:>8.3f} s  median {median:>8.3f} s  (+{spread:.0f}% worst)  {rate}\n{'':<44} runs: {listed} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--changes", type=int, default=120, help="products changed after the first sync")
    parser.add_argument(
        "--poll",
        type=float,
        default=settings.SHOPIFY_BULK_POLL_SECONDS,
        help="SHOPIFY_BULK_POLL_SECONDS for the run",
    )
    parser.add_argument("--reset", action="store_true", help="remove what an earlier run left first")
    args = parser.parse_args()
    if args.items < 1 or args.repeat < 1 or not 0 < args.changes <= args.items:
        parser.error("--items and --repeat at least 1, --changes between 1 and --items")
    settings.SHOPIFY_BULK_POLL_SECONDS = args.poll
    print(
        f"database {connection.vendor}; {args.items:,} items, {args.repeat} repeats; load {os.getloadavg()[0]:.2f}"
    )
    if args.reset:
        reset()
    elif Product.objects.filter(item_number__startswith=PREFIX).exists():
        print(f"products {PREFIX}… are left from an earlier run: rerun with --reset")
        return 2
    Location.objects.get_or_create(code=900, defaults={"name": "Entrepôt", "kind": Location.Kind.WAREHOUSE})
    Location.objects.get_or_create(code=1, defaults={"name": "Paris", "click_and_collect": True})
    seconds, ids = timed(lambda: catalogue(args.items))
    print(f"{args.items:,} products created and mapped in {seconds:.1f} s")
    other = len(catalogue_plan().create) - args.items
    if other:
        print(f"the database has {other} other sellable products: use an empty bench database")
        reset()
        return 2

    build, direct, sync, plans, pushes = [], [], [], [], []
    calls = runs = 0
    endpoint, webhook_url = our_endpoint()
    try:
        for repeat in range(args.repeat):
            seconds, body = jsonl_build(args.items)
            build.append(seconds)
            direct.append(sim_direct(body, args.items))
            sim = fresh_shop(webhook_url)
            try:
                seconds, calls = first_sync(sim, args.items)
                sync.append(seconds)
                plan_s, push_s, runs, change_calls = later_changes(sim, ids, args.changes)
                plans.append(plan_s)
                pushes.append(push_s)
            finally:
                sim.stop()
            print(f"  repeat {repeat + 1}: (a) {build[-1]:.2f} s  (b) {direct[-1]:.2f} s  (c) {sync[-1]:.2f} s  "
                  f"(d) {push_s:.2f} s; peak RSS {rss_mb():.0f} MB")  # fmt: skip
    finally:
        endpoint.shutdown()
        reset()

    print(f"\nfirst sync of {args.items:,} items ({len(body) / 1e6:.1f} MB of JSONL), best of {args.repeat}:")
    print(line("(a) plan + JSONL built (catalogue_bulk_jsonl)", build, args.items))
    print(line("(b) simulator ingesting that JSONL directly", direct, args.items))
    print(line("(c) catalogue_push end to end (bulk)", sync, args.items))
    print(f"{'':<44} {calls} Admin API calls; the finish webhook subscribed, bulk poll every {args.poll} s")
    floor = min(build) + min(direct)
    print(f"    (c) / ((a) + (b)): {min(sync) / floor:.2f}× the floor; "
          f"overhead {min(sync) - floor:.2f} s (upload, polling, result read, links recorded)")  # fmt: skip
    print(f"\nlater changes: {args.changes} products of {args.items:,} (new price and barcode):")
    print(line("(d) plan alone (finding them)", plans, args.items, "items scanned/s"))
    print(line(f"(d) catalogue_push until done ({runs} runs)", pushes, args.changes, "changes/s"))
    print(f"{'':<44} {change_calls} productSet calls, {SMALL_BATCH} a run")
    per_call = (
        min(pushes) / change_calls
    )  # the plans included: an upper bound, but never below 0 on a busy machine
    print(
        f"    the first sync by small batches instead: {args.items:,} × {per_call:.3f} s a productSet call = "
        f"{args.items * per_call:,.0f} s (extrapolated from (d), its plans included), "
        f"{args.items * per_call / min(sync):.0f}× the bulk operation"
    )
    print(f"load at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
