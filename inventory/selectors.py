"""Reads of the inventory: what is sellable, and how many units are available where.

``available = on_hand - promised - in_flight - reserved - safety_stock`` (never below 0), with
``reserved`` counting only unexpired reservation lines: an expired reservation stops counting
at once, whether or not the clean-up has run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from integration.core.prepared import Values, prepared_rows
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


def sellable_products(*, include_pilot: bool, through: str = "") -> Q:
    """The products the storefront may see: rolled-out category, active, mapped.

    ``through`` is the path to the product from the model queried (``"product__"`` on stock
    rows), so that the rule is one join there rather than a subquery of every sellable product.
    """
    return Q(
        **{
            f"{through}category__rollout_stage__in": visible_stages(include_pilot=include_pilot),
            f"{through}status": Product.Status.ACTIVE,
            f"{through}mapping__isnull": False,
        }
    )


def product_ids_by_sku(*, skus: Iterable[str], include_pilot: bool) -> dict[str, int]:
    """Sellable products' ids by SKU; a SKU that is unknown or not sellable is simply absent."""
    return dict(
        ItemMapping.objects.filter(
            sku__in=set(skus),
            product__in=Product.objects.filter(sellable_products(include_pilot=include_pilot)),
        ).values_list("sku", "product_id")
    )


def _prices_query_for(include_pilot: bool) -> Callable[[Mapping[str, Any]], QuerySet[ItemMapping, Any]]:
    def build(v: Mapping[str, Any]) -> QuerySet[ItemMapping, Any]:
        return ItemMapping.objects.filter(
            sku__in=v["skus"],
            product__in=Product.objects.filter(sellable_products(include_pilot=include_pilot)),
        ).values_list("sku", "product_id", "product__price")

    return build


def sellable_prices_by_sku(*, skus: Iterable[str], include_pilot: bool) -> dict[str, tuple[int, Decimal]]:
    """Sellable products' (id, price) by SKU, as :func:`product_ids_by_sku`: what a reservation's lines need,
    read on every checkout (``integration.core.prepared``: compiled once per shape, no instances)."""
    wanted = sorted(set(skus))
    if not wanted:
        return {}
    rows = prepared_rows(("inventory.sellable_prices", include_pilot), _prices_query_for(include_pilot), {"skus": wanted})
    return {r[0]: (r[1], r[2]) for r in rows}


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


def safety_stock_expression(*, joined: bool = False) -> Coalesce:
    """:func:`safety_stock_for`'s rule as SQL, for a query on stock rows: the override at the row's
    location, else the product's override everywhere, else its category's, else 0.

    So that a take checks the safety stock in its one conditional update, without reading it first.
    ``joined``: the query already joins the row's product and category (availability by SKU), so
    the category's figure is read from that join instead of a subquery per row.
    """
    overrides = SafetyStockOverride.objects.filter(product_id=OuterRef("product_id"))
    category = (
        F("product__category__safety_stock")
        if joined
        else Subquery(
            Product.objects.filter(pk=OuterRef("product_id")).order_by().values("category__safety_stock")[:1]
        )
    )
    return Coalesce(
        Subquery(overrides.filter(location_id=OuterRef("location_id")).values("quantity")[:1]),
        Subquery(overrides.filter(location_id__isnull=True).values("quantity")[:1]),
        category,
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
    run = _applied_extracts().first()
    return run.taken_at if run else None


def _applied_extracts() -> QuerySet[FileRun]:
    """The applied STKBAL extracts, newest first by sequence: the last applied, not the latest
    date (a wrong date must not stay for ever)."""
    return FileRun.objects.filter(
        direction=FileRun.Direction.OUT, file="STKBAL", outcome=FileRun.Outcome.APPLIED
    ).order_by("-seq")


def expired_reserved_expression(now: datetime) -> Coalesce:
    """:func:`expired_reserved` as SQL, for a query on stock rows: the units of the row's pair still
    counted in ``reserved`` although their line has expired (one indexed sum, ``resline_active_pair``)."""
    lines = (
        ReservationLine.objects.filter(
            product_id=OuterRef("product_id"),
            location_id=OuterRef("location_id"),
            active=True,
            expires_at__lte=now,
        )
        .order_by()
        .values("product_id")
        .annotate(units=Sum("quantity"))
        .values("units")
    )
    return Coalesce(Subquery(lines[:1]), Value(0))


def stock_as_of_expression() -> Subquery:
    """:func:`stock_as_of` as SQL (an uncorrelated subquery: the database computes it once a query)."""
    return Subquery(_applied_extracts().values("taken_at")[:1])


_STOCK_COLUMNS = ("on_hand", "promised", "in_flight", "reserved", "safety", "expired", "figures_as_of")


def _stock_figures(rows: QuerySet[StockLevel], now: datetime, *, joined: bool = False) -> QuerySet[StockLevel]:
    """Stock rows with what the formula needs beside them, computed by the database: the safety
    stock, the units of expired lines still counted, and the date the figures hold as of (the
    newest extract's, which vouches for every pair; a pair's own only when no extract run is
    recorded)."""
    return rows.annotate(
        safety=safety_stock_expression(joined=joined),
        expired=expired_reserved_expression(now),
        figures_as_of=Coalesce(stock_as_of_expression(), F("as_of")),
    )


def _available(on_hand: int, promised: int, in_flight: int, reserved: int, safety: int) -> int:
    """The availability formula (docs/ARCHITECTURE.md), never below 0."""
    available = on_hand - promised - in_flight - reserved - safety
    return available if available > 0 else 0


def _pair_availability(pair: Pair, figures: Sequence[Any]) -> PairAvailability:
    on_hand, promised, in_flight, counted, safety, expired, as_of = figures
    reserved = counted - expired
    return PairAvailability(
        pair[0], pair[1], _available(on_hand, promised, in_flight, reserved, safety),
        on_hand, promised, in_flight, reserved, safety, as_of,
    )  # fmt: skip


def _pairs_query(v: Mapping[str, Any]) -> QuerySet[StockLevel]:
    rows = StockLevel.objects.filter(product_id__in=v["products"], location_id__in=v["locations"])
    return _stock_figures(rows, v["now"]).values_list("product_id", "location_id", *_STOCK_COLUMNS)


def availability_by_pair(
    pairs: Iterable[Pair], *, now: datetime | None = None
) -> dict[Pair, PairAvailability]:
    """The formula for each pair; a pair without stock figures is available 0.

    One query (``integration.core.prepared``: compiled once per shape): each stock row with its
    safety stock, expired units and date beside it, no model instances.
    """
    now = now or timezone.now()
    pairs = list(dict.fromkeys(pairs))
    wanted = set(pairs)
    rows: dict[Pair, Sequence[Any]] = {}
    if pairs:  # two IN lists and a match here: one OR per pair would outgrow SQLite's expression depth
        values: Values = {
            "products": sorted({p for p, _ in pairs}),
            "locations": sorted({loc for _, loc in pairs}),
            "now": now,
        }
        for r in prepared_rows("inventory.availability_by_pair", _pairs_query, values):
            if (r[0], r[1]) in wanted:
                rows[(r[0], r[1])] = r[2:]
    missing = [pair for pair in pairs if pair not in rows]
    safety_missing = safety_stock_for(missing) if missing else {}
    expired_missing = expired_reserved(missing, now=now) if missing else {}
    out: dict[Pair, PairAvailability] = {}
    for pair in pairs:
        figures = rows.get(pair)
        if figures is None:
            out[pair] = PairAvailability(
                pair[0], pair[1], 0, 0, 0, 0, -expired_missing.get(pair, 0), safety_missing.get(pair, 0), None
            )
        else:
            out[pair] = _pair_availability(pair, figures)
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


def _skus_query_for(include_pilot: bool) -> Callable[[Mapping[str, Any]], QuerySet[StockLevel]]:
    def build(v: Mapping[str, Any]) -> QuerySet[StockLevel]:
        # The rule joined on the asked SKUs' products, not a subquery of the whole sellable
        # catalogue (which PostgreSQL would build first: 50,000 products for 20 SKUs).
        rows = StockLevel.objects.filter(
            sellable_products(include_pilot=include_pilot, through="product__"),
            product__mapping__sku__in=v["skus"],
            location_id__in=v["locations"],
        )
        return _stock_figures(rows, v["now"], joined=True).values_list(
            "product__mapping__sku", "product_id", "location_id", *_STOCK_COLUMNS
        )

    return build


def availability_for(
    *, skus: Iterable[str], include_pilot: bool, now: datetime | None = None
) -> dict[str, SkuAvailability]:
    """Per sellable SKU: units for home delivery (the warehouse) and per click-and-collect store.

    Unknown or unsellable SKUs are absent. While online selling is paused, everything is 0.

    One query in the usual case: the sellable SKUs' stock rows at the selling locations, with
    their figures (:func:`availability_by_pair`'s formula). Only when an asked SKU has no row
    there (unknown, not sellable, or never in an extract) does a second query tell which.
    """
    now = now or timezone.now()
    skus = list(dict.fromkeys(skus))
    locations = selling_locations()
    warehouse = warehouse_code()
    # (available, as of) per pair: no PairAvailability built for the 120 pairs of a 20-SKU answer.
    by_pair: dict[Pair, tuple[int, datetime | None]] = {}
    products: dict[str, int] = {}
    if skus and locations:
        values: Values = {
            "skus": sorted(skus),
            "locations": sorted(locations),
            "now": now,
        }
        for sku, pk, code, on_hand, promised, in_flight, counted, safety, expired, as_of in prepared_rows(
            ("inventory.availability_for", include_pilot), _skus_query_for(include_pilot), values
        ):
            products[sku] = pk
            by_pair[(pk, code)] = (_available(on_hand, promised, in_flight, counted - expired, safety), as_of)
    if len(products) < len(skus):  # an asked SKU without rows: unknown, unsellable, or no figures yet
        found = product_ids_by_sku(skus=[s for s in skus if s not in products], include_pilot=include_pilot)
        products.update(found)
        pairs = [(pk, code) for pk in found.values() for code in locations]
        by_pair.update((pair, (a.available, a.as_of)) for pair, a in availability_by_pair(pairs, now=now).items())
    paused = not selling_enabled()
    codes = sorted(locations)
    result: dict[str, SkuAvailability] = {}
    for sku in skus:
        pk = products.get(sku)
        if pk is None:
            continue
        stores: list[StoreAvailability] = []
        home = 0
        dates: list[datetime] = []
        for code in codes:
            available, as_of = by_pair.get((pk, code), (0, None))
            units = 0 if paused else available
            if as_of:
                dates.append(as_of)
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
