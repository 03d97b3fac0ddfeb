"""The demo's Shopify: the simulator's locations mapped, the catalogue published, checkouts flowing.

``bin/run`` starts the Shopify simulator (``python -m integration.shopify.simulator``) and exports
SHOPIFY_SHOP / SHOPIFY_ADMIN_URL / credentials for every process. ``demo_data`` then calls
:func:`demo_shopify_load`: the simulator's warehouse is our 900 and its pickup locations our first
stores (``ShopifyLocation``), the catalogue and its stock are pushed (the platform's own services,
``shopify_channel.catalogue`` and ``.stock``), and a few customers buy at the simulator's checkout
the first time. The schedule "Demo Shopify checkout" (created here, every few minutes) has one more
customer buy each time, so that the admin shows Shopify orders going to the AS400 (whose simulator
acknowledges and ships them) and their fulfilments coming back. Only the checkout is the
simulator's control API (``/_sim/…``, not Shopify's); everything else goes through the Admin API.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime
from typing import Any

import httpx
from django.conf import settings

logger = logging.getLogger(__name__)

DEMO_CHECKOUTS = 3
CHECKOUT_SCHEDULE = "Demo Shopify checkout"
CHECKOUT_TASK = "demo.tasks.demo_shopify_checkout"
CHECKOUT_MINUTES = 3
CUSTOMERS = [
    ("Zoé", "Lefèvre", "12 rue de la République", "69002", "Lyon"),
    ("Hugo", "Martin", "4 place Bellecour", "69002", "Lyon"),
    ("Inès", "Bernard", "27 avenue Jean Jaurès", "75019", "Paris"),
    ("Louis", "Petit", "8 quai des Chartrons", "33000", "Bordeaux"),
    ("Chloé", "Moreau", "3 rue Nationale", "59000", "Lille"),
]


def shopify_configured() -> bool:
    return bool(settings.SHOPIFY_SHOP and settings.SHOPIFY_ADMIN_URL)


def demo_locations_map() -> str:
    """The simulator's warehouse as our 900, its pickup locations as our first stores (once)."""
    from integration.shopify.client import shopify_client
    from inventory.models import Location
    from shopify_channel.models import ShopifyLocation

    client = shopify_client()
    nodes = (client.execute("locations", {"first": 50}).data or {})["locations"]["nodes"]
    if not nodes:  # a new simulated shop: its warehouse and pickup stores, once
        _control("seed_locations")
        nodes = (client.execute("locations", {"first": 50}).data or {})["locations"]["nodes"]
    pickup = [n for n in nodes if n.get("localPickupSettingsV2")]
    shipping = [n for n in nodes if not n.get("localPickupSettingsV2")]
    made = 0
    wanted: list[tuple[int, str, bool]] = [(900, shipping[0]["id"], False)] if shipping else []
    stores = list(
        Location.objects.filter(kind=Location.Kind.STORE, click_and_collect=True)
        .order_by("code")
        .values_list("code", flat=True)
    )
    wanted += [(code, node["id"], True) for code, node in zip(stores, pickup, strict=False)]
    for code, gid, is_pickup in wanted:
        if ShopifyLocation.objects.filter(location_id=code).exists():
            continue
        if ShopifyLocation.objects.filter(shopify_location_id=gid).exists():
            continue
        ShopifyLocation.objects.create(location_id=code, shopify_location_id=gid, pickup=is_pickup)
        made += 1
    return f"Shopify: {made} location(s) mapped ({len(wanted)} in the simulator's shop)."


def demo_checkout(*, rng: random.Random | None = None) -> str:
    """One customer buys one or two products Shopify holds available, at the simulator's checkout."""
    from shopify_channel.models import ShopifyLocation, ShopifyStockLevel

    rng = rng or random.Random()
    warehouse = ShopifyLocation.objects.filter(location_id=900).first()
    if warehouse is None:
        return "Shopify checkout: no warehouse mapped yet."
    levels = list(
        ShopifyStockLevel.objects.filter(location=warehouse, shopify_available__gt=1)
        .select_related("product__mapping")
        .order_by("?")[:2]
    )
    skus = [sku for level in levels if (sku := _sku(level.product))]
    if not skus:
        return "Shopify checkout: nothing available in Shopify yet (the stock push has not run)."
    first, last, street, postal, city = rng.choice(CUSTOMERS)
    customer: dict[str, Any] = {
        "first_name": first, "last_name": last, "email": f"{first.lower()}.{last.lower()}@example.fr",
        "address1": street, "zip": postal, "city": city, "country_code": "FR", "phone": "+33600000000",
    }  # fmt: skip
    lines = [{"sku": sku, "quantity": 1} for sku in skus[: rng.randint(1, len(skus))]]
    try:
        order = _control("checkout", lines=lines, customer=customer)
    except DemoShopifyError as exc:
        return f"Shopify checkout refused by the simulator: {exc}"
    name = order.get("name", "?") if isinstance(order, dict) else "?"
    return f"Shopify checkout: {name} by {first} {last} ({', '.join(skus)})."


class DemoShopifyError(Exception):
    pass


def _control(name: str, **kwargs: Any) -> Any:
    """The Shopify simulator's control API (``POST /_sim/<name>``, not Shopify's): its result."""
    answer = httpx.post(f"{settings.SHOPIFY_ADMIN_URL.rstrip('/')}/_sim/{name}", json=kwargs, timeout=10)
    if answer.status_code >= 300:
        raise DemoShopifyError(f"{name}: HTTP {answer.status_code} {answer.text[:200]}")
    return answer.json().get("result")


def _sku(product: Any) -> str:
    mapping = getattr(product, "mapping", None)
    return str(getattr(mapping, "sku", "") or "")


def demo_shopify_load(*, now: datetime) -> list[str]:
    """The simulator's shop set up for the demo (idempotent; see the module's docstring)."""
    if not shopify_configured():
        return ["Shopify: not configured (SHOPIFY_SHOP / SHOPIFY_ADMIN_URL), left out of the demo."]
    from django_q.models import Schedule

    from shopify_channel.catalogue import catalogue_push
    from shopify_channel.models import ShopifyOrder
    from shopify_channel.stock import stock_mark_all, stock_push

    try:
        done = [demo_locations_map()]
        report = catalogue_push(now=now)
        done.append(
            f"Shopify catalogue: {report.created} created, {report.updated} updated, "
            f"{report.unpublished} unpublished, {report.failed} failed"
            + (" (bulk operation)" if report.bulk else "")
        )
        if report.created:  # newly published: every pair at every Shopify location is pushed once
            stock_mark_all(cause="gid://platform/Demo/publish", now=now)
        done.append(f"Shopify stock: {stock_push(now=now).as_dict()}")
    except Exception as exc:  # the demo goes on: the catalogue and stock schedules push again
        logger.warning("demo: the Shopify simulator's shop was not set up", exc_info=True)
        return [f"Shopify: not set up ({type(exc).__name__}: {exc}); the push schedules will try again."]
    if not ShopifyOrder.objects.exists():
        rng = random.Random(13)
        done += [demo_checkout(rng=rng) for _ in range(DEMO_CHECKOUTS)]
    Schedule.objects.update_or_create(
        name=CHECKOUT_SCHEDULE,
        defaults={
            "func": CHECKOUT_TASK,
            "schedule_type": Schedule.MINUTES,
            "minutes": CHECKOUT_MINUTES,
            "repeats": -1,
        },
    )
    done.append(
        f"Shopify: a demo checkout every {CHECKOUT_MINUTES} minutes (schedule {CHECKOUT_SCHEDULE!r})."
    )
    return done
