"""What Shopify holds, read whole for the nightly reconciliation: two bulk queries, one JSONL each.

- **The catalogue** (``bulk_catalogue_query``): every product with its status, its variants (SKU,
  barcode, price, inventory item) and each variant's inventory levels per location (``available``).
- **The day's orders** (``bulk_orders_query``): every order updated since ``since``, with its
  name, times, cancellation and, per line, the SKU, the quantity ordered and the current quantity.

Shopify runs one bulk query at a time per shop, so the two run one after the other. The snapshot
records the moment the first was started (:attr:`ShopifySnapshot.started_at`, the caller's ``now``):
Shopify's state is at or after it, so what changed here after it is not compared, and the checks
leave to the webhooks and the poll whatever changed at Shopify in a grace period before it
(``SHOPIFY_RECONCILE_GRACE_SECONDS``, far longer than the two queries take). Parsing follows Shopify's JSONL: a
line is a node, and a node of a nested connection carries ``__parentId``: a level's parent is its
variant (or its inventory item: both are accepted), a line item's its order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from integration.shopify.bulk import bulk_lines, bulk_query, bulk_query_text
from integration.shopify.documents import document
from shopify_channel.stock import Client


@dataclass(frozen=True)
class Variant:
    gid: str
    product_gid: str
    product_status: str  # ACTIVE, DRAFT, ARCHIVED
    sku: str
    barcode: str
    price: Decimal | None
    item_gid: str


@dataclass
class ShopifyOrderRow:
    gid: str
    shopify_id: int
    name: str
    created_at: datetime | None
    updated_at: datetime | None
    cancelled_at: datetime | None
    financial_status: str
    total: Decimal
    ordered: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # sku → quantity
    current: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # sku → current quantity


@dataclass
class ShopifySnapshot:
    since: datetime
    started_at: datetime
    variants: dict[str, Variant] = field(default_factory=dict)  # variant gid → variant
    levels: dict[tuple[str, str], int] = field(default_factory=dict)  # (item gid, location gid) → available
    orders: dict[int, ShopifyOrderRow] = field(default_factory=dict)  # Shopify's order id → order


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


def _moment(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


def _gid_number(gid: str) -> int | None:
    tail = gid.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else None


def catalogue_parse(rows: Iterable[dict[str, Any]], snapshot: ShopifySnapshot) -> None:
    """The catalogue query's JSONL into ``snapshot.variants`` and ``snapshot.levels``."""
    products: dict[str, str] = {}  # product gid → status
    variants: dict[str, dict[str, Any]] = {}
    levels: list[dict[str, Any]] = []
    for row in rows:
        gid = str(row.get("id") or "")
        if gid.startswith("gid://shopify/Product/"):
            products[gid] = str(row.get("status") or "")
        elif gid.startswith("gid://shopify/ProductVariant/"):
            variants[gid] = row
        elif gid.startswith("gid://shopify/InventoryLevel/"):
            levels.append(row)
    item_of: dict[str, str] = {}  # variant gid or inventory item gid → inventory item gid
    for gid, row in variants.items():
        item = str((row.get("inventoryItem") or {}).get("id") or "")
        parent = str(row.get("__parentId") or "")
        snapshot.variants[gid] = Variant(
            gid=gid, product_gid=parent, product_status=products.get(parent, ""), sku=str(row.get("sku") or ""),
            barcode=str(row.get("barcode") or ""), price=_decimal(row.get("price")), item_gid=item,
        )  # fmt: skip
        if item:
            item_of[gid] = item_of[item] = item
    for row in levels:
        level_item = item_of.get(str(row.get("__parentId") or ""))
        location = str((row.get("location") or {}).get("id") or "")
        if not level_item or not location:
            continue
        quantities = {q.get("name"): q.get("quantity") for q in row.get("quantities") or []}
        available = quantities.get("available")
        if isinstance(available, int):
            snapshot.levels[(level_item, location)] = available


def orders_parse(rows: Iterable[dict[str, Any]], snapshot: ShopifySnapshot) -> None:
    """The orders query's JSONL into ``snapshot.orders``."""
    by_gid: dict[str, ShopifyOrderRow] = {}
    lines: list[dict[str, Any]] = []
    for row in rows:
        gid = str(row.get("id") or "")
        if gid.startswith("gid://shopify/Order/"):
            number = _gid_number(gid)
            if number is None:
                continue
            total = _decimal(((row.get("currentTotalPriceSet") or {}).get("shopMoney") or {}).get("amount"))
            by_gid[gid] = snapshot.orders[number] = ShopifyOrderRow(
                gid=gid, shopify_id=number, name=str(row.get("name") or ""), created_at=_moment(row.get("createdAt")),
                updated_at=_moment(row.get("updatedAt")), cancelled_at=_moment(row.get("cancelledAt")),
                financial_status=str(row.get("displayFinancialStatus") or ""), total=total or Decimal(0),
            )  # fmt: skip
        elif gid.startswith("gid://shopify/LineItem/"):
            lines.append(row)
    for row in lines:
        order = by_gid.get(str(row.get("__parentId") or ""))
        if order is None:
            continue
        sku = str(row.get("sku") or "")
        order.ordered[sku] += int(row.get("quantity") or 0)
        order.current[sku] += int(row.get("currentQuantity") or 0)


def shopify_snapshot_take(client: Client, *, since: datetime, now: datetime | None = None) -> ShopifySnapshot:
    """Read Shopify's catalogue, stock and the orders updated since ``since`` (two bulk queries)."""
    snapshot = ShopifySnapshot(since=since, started_at=now or timezone.now())
    catalogue = bulk_query(client, document("bulk_catalogue_query"))
    catalogue_parse(bulk_lines(catalogue), snapshot)
    text = bulk_query_text("bulk_orders_query", since=f"{since.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}")
    orders = bulk_query(client, text)
    orders_parse(bulk_lines(orders), snapshot)
    return snapshot
