"""Reads of the inventory: what is sellable, and how many units are available where.

``available = on_hand - promised - in_flight - reserved - safety_stock`` (never below 0), with
``reserved`` counting only unexpired reservation lines: an expired reservation stops counting
at once, whether or not the clean-up has run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from integration.core.reference_cache import reference
from integration.models import FileRun
from inventory.models import (
    Category,
    ItemMapping,
    Location,
    Product,
    ReservationLine,
    SafetyStockOverride,
    SellingSwitch,
    StockLevel,
)

Pair = tuple[int, int]  # (product id, location code)
WAREHOUSE = 900


def warehouse_code() -> int:
    return int(getattr(settings, "INVENTORY_WAREHOUSE", WAREHOUSE))


def selling_enabled() -> bool:
    """Whether online selling is on (the switch's first row; none yet: on). Kept a moment per process
    (``integration.core.reference_cache``; forgotten when the switch is saved)."""
    return reference(SELLING_ENABLED, _selling_enabled)


SELLING_ENABLED = "inventory.selling_enabled"
SELLING_LOCATIONS = "inventory.selling_locations"


def _selling_enabled() -> bool:
    switch = SellingSwitch.objects.order_by("pk").first()
    return switch is None or switch.selling_enabled


def visible_stages(*, include_pilot: bool) -> list[str]:
    return [Category.Stage.LIVE, Category.Stage.PILOT] if include_pilot else [Category.Stage.LIVE]


def sellable_products(*, include_pilot: bool) -> Q:
    """The products the storefront may see: rolled-out category, active, mapped."""
    return Q(
        category__rollout_stage__in=visible_stages(include_pilot=include_pilot),
        status=Product.Status.ACTIVE,
        mapping__isnull=False,
    )


def products_by_sku(*, skus: Iterable[str], include_pilot: bool) -> dict[str, Product]:
    """Sellable products by SKU; a SKU that is unknown or not sellable is simply absent."""
    mappings = ItemMapping.objects.filter(
        sku__in=set(skus), product__in=Product.objects.filter(sellable_products(include_pilot=include_pilot))
    ).select_related("product__category")  # one query: the rule is a subquery
    return {m.sku: m.product for m in mappings}


def selling_locations() -> dict[int, Location]:
    """The warehouse (home delivery) and the stores that do click and collect. Kept a moment per
    process, as :func:`selling_enabled` (forgotten when a location is saved or deleted)."""
    return dict(reference(SELLING_LOCATIONS, _selling_locations))


def _selling_locations() -> dict[int, Location]:
    return {
        loc.code: loc
        for loc in Location.objects.filter(
            Q(code=warehouse_code()) | Q(click_and_collect=True, kind=Location.Kind.STORE)
        )
    }


def safety_stock_for(pairs: Iterable[Pair]) -> dict[Pair, int]:
    """Safety stock per pair: the product's override at the location, else everywhere, else its category's."""
    pairs = list(pairs)
    if not pairs:
        return {}
    product_ids = {p for p, _ in pairs}
    by_product_location: dict[Pair, int] = {}
    by_product: dict[int, int] = {}
    for o in SafetyStockOverride.objects.filter(product_id__in=product_ids):
        if o.location_id is None:
            by_product[o.product_id] = o.quantity
        else:
            by_product_location[(o.product_id, o.location_id)] = o.quantity
    category = dict(Product.objects.filter(pk__in=product_ids).values_list("pk", "category__safety_stock"))
    return {
        pair: by_product_location.get(pair, by_product.get(pair[0], category.get(pair[0]) or 0))
        for pair in pairs
    }


def safety_stock_expression() -> Coalesce:
    """:func:`safety_stock_for`'s rule as SQL, for a query on stock rows: the override at the row's
    location, else the product's override everywhere, else its category's, else 0.

    So that a take checks the safety stock in its one conditional update, without reading it first.
    """
    overrides = SafetyStockOverride.objects.filter(product_id=OuterRef("product_id"))
    return Coalesce(
        Subquery(overrides.filter(location_id=OuterRef("location_id")).values("quantity")[:1]),
        Subquery(overrides.filter(location_id__isnull=True).values("quantity")[:1]),
        Subquery(Product.objects.filter(pk=OuterRef("product_id")).values("category__safety_stock")[:1]),
        Value(0),
    )


def expired_reserved(pairs: Iterable[Pair], *, now: datetime) -> dict[Pair, int]:
    """Units still counted in ``StockLevel.reserved`` although their reservation has expired."""
    pairs = list(pairs)
    if not pairs:
        return {}
    rows = (
        ReservationLine.objects.filter(active=True, expires_at__lte=now, product_id__in={p for p, _ in pairs})
        .values("product_id", "location_id")
        .annotate(units=Sum("quantity"))
    )
    wanted = set(pairs)
    return {
        (r["product_id"], r["location_id"]): r["units"]
        for r in rows
        if (r["product_id"], r["location_id"]) in wanted
    }


@dataclass(frozen=True)
class PairAvailability:
    product_id: int
    location: int
    available: int
    on_hand: int
    promised: int
    in_flight: int
    reserved: int
    safety_stock: int
    as_of: datetime | None


def stock_as_of() -> datetime | None:
    """When the newest applied STKBAL extract was taken: every pair's figures hold as of then.

    Extracts are applied in sequence without gaps (a delta after a gap is refused), so a pair
    that the newest extract did not carry has not changed since the one that did.
    """
    run = (
        FileRun.objects.filter(
            direction=FileRun.Direction.OUT, file="STKBAL", outcome=FileRun.Outcome.APPLIED
        )
        .order_by("-seq")  # the last applied, not the latest date: a wrong one must not stay for ever
        .first()
    )
    return run.taken_at if run else None


def availability_by_pair(
    pairs: Iterable[Pair], *, now: datetime | None = None
) -> dict[Pair, PairAvailability]:
    """The formula for each pair; a pair without stock figures is available 0."""
    now = now or timezone.now()
    pairs = list(dict.fromkeys(pairs))
    wanted = set(pairs)
    levels: dict[Pair, StockLevel] = {}
    if pairs:  # two IN lists and a match here: one OR per pair would outgrow SQLite's expression depth
        rows = StockLevel.objects.filter(
            product_id__in={p for p, _ in pairs}, location_id__in={loc for _, loc in pairs}
        )
        levels = {(s.product_id, s.location_id): s for s in rows if (s.product_id, s.location_id) in wanted}
    safety = safety_stock_for(pairs)
    expired = expired_reserved(pairs, now=now)
    global_as_of = stock_as_of()
    out: dict[Pair, PairAvailability] = {}
    for pair in pairs:
        level = levels.get(pair)
        reserved = (level.reserved if level else 0) - expired.get(pair, 0)
        if level is None:
            out[pair] = PairAvailability(pair[0], pair[1], 0, 0, 0, 0, reserved, safety.get(pair, 0), None)
            continue
        available = level.on_hand - level.promised - level.in_flight - reserved - safety.get(pair, 0)
        # The newest extract vouches for every pair (a pair it did not carry has not changed); a
        # pair's own date only when no extract run is recorded.
        as_of = global_as_of if global_as_of is not None else level.as_of
        out[pair] = PairAvailability(
            pair[0], pair[1], max(0, available), level.on_hand, level.promised, level.in_flight, reserved,
            safety.get(pair, 0), as_of,
        )  # fmt: skip
    return out


@dataclass(frozen=True)
class StoreAvailability:
    location: int
    available: int


@dataclass(frozen=True)
class SkuAvailability:
    sku: str
    home_delivery: int
    stores: list[StoreAvailability]
    as_of: datetime | None


def availability_for(
    *, skus: Iterable[str], include_pilot: bool, now: datetime | None = None
) -> dict[str, SkuAvailability]:
    """Per sellable SKU: units for home delivery (the warehouse) and per click-and-collect store.

    Unknown or unsellable SKUs are absent. While online selling is paused, everything is 0.
    """
    products = products_by_sku(skus=skus, include_pilot=include_pilot)
    locations = selling_locations()
    warehouse = warehouse_code()
    pairs = [(p.pk, code) for p in products.values() for code in locations]
    by_pair = availability_by_pair(pairs, now=now)
    paused = not selling_enabled()
    result: dict[str, SkuAvailability] = {}
    for sku, product in products.items():
        stores: list[StoreAvailability] = []
        home = 0
        dates: list[datetime] = []
        for code in sorted(locations):
            a = by_pair[(product.pk, code)]
            units = 0 if paused else a.available
            if a.as_of:
                dates.append(a.as_of)
            if code == warehouse:
                home = units
            else:
                stores.append(StoreAvailability(code, units))
        result[sku] = SkuAvailability(sku, home, stores, min(dates) if dates else None)
    return result


def in_stock_product_ids(*, product_ids: Iterable[int], now: datetime | None = None) -> set[int]:
    """Of these products, those with at least one unit available somewhere they are sold (none while paused)."""
    if not selling_enabled():
        return set()
    locations = selling_locations()
    pairs = [(pid, code) for pid in product_ids for code in locations]
    found: dict[int, int] = defaultdict(int)
    for (pid, _), a in availability_by_pair(pairs, now=now).items():
        found[pid] += a.available
    return {pid for pid, units in found.items() if units > 0}
