"""Reads of the catalogue as storefronts see it: visible products, a product by SKU, availability
by SKU within the per-call bounds, pages of products by cursor, a reservation's lines.

They build on ``inventory.selectors`` and change none of its rules: what is sellable is
``sellable_products``, what is available is ``availability_for``/``in_stock_product_ids``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from inventory.models import Product, Reservation, ReservationLine, StockLevel
from inventory.selectors import (
    SkuAvailability,
    availability_for,
    in_stock_product_ids,
    sellable_products,
    selling_enabled,
    selling_locations,
)

# ``availability_by_pair`` ORs one condition per (product, location) pair into one query, which
# SQLite refuses from about 1,000 pairs on ("Expression tree is too large"). Asking for at most
# this many pairs per call keeps every page and every availability request well inside.
MAX_PAIRS_PER_CALL = 400
# With ``in_stock``, candidates are checked in batches; a request stops after this many, answering
# a short page (possibly empty) with a cursor to go on from.
IN_STOCK_MAX_SCAN = 2_000
MAX_SKU_LENGTH = 64


def visible_products(*, include_pilot: bool) -> QuerySet[Product]:
    """What the storefront may see (rolled-out category, active, mapped), with what it shows."""
    return Product.objects.filter(sellable_products(include_pilot=include_pilot)).select_related(
        "category", "mapping"
    )


def product_by_sku(*, sku: str, include_pilot: bool) -> Product | None:
    if not sku or len(sku) > MAX_SKU_LENGTH or "\x00" in sku:
        return None
    return visible_products(include_pilot=include_pilot).filter(mapping__sku=sku).first()


def _chunks(items: Sequence[str] | Sequence[int], size: int) -> Iterator[list]:  # type: ignore[type-arg]
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _per_call(locations: int) -> int:
    return max(1, MAX_PAIRS_PER_CALL // max(1, locations))


def availability_of(*, skus: Iterable[str], include_pilot: bool) -> dict[str, SkuAvailability]:
    """``availability_for`` over any number of SKUs, a bounded number of pairs per call."""
    skus = list(dict.fromkeys(skus))
    result: dict[str, SkuAvailability] = {}
    for chunk in _chunks(skus, _per_call(len(selling_locations()))):
        result.update(availability_for(skus=chunk, include_pilot=include_pilot))
    return result


def _in_stock(product_ids: Sequence[int], *, locations: int) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(product_ids, _per_call(locations)):
        found |= in_stock_product_ids(product_ids=chunk)
    return found


# --- Products, page by page -------------------------------------------------------------------


def representable(moment: datetime) -> bool:
    """Whether an aware datetime survives the conversions a query makes (to UTC, to local time):
    ``0001-01-01T00:00+14:00`` is a valid ISO 8601 text whose UTC time is before year 1."""
    try:
        moment.astimezone(UTC)
        timezone.localtime(moment)
    except (OverflowError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class ProductCursor:
    """Where a page ended: products are listed by (updated_at, id), so a change moves one to the end."""

    updated_at: datetime
    pk: int

    def encode(self) -> str:
        raw = f"{self.updated_at.isoformat()}|{self.pk}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> ProductCursor | None:
        """The cursor, or ``None`` if the text is not one this API wrote."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            when, pk = raw.split("|")
            updated_at = parse_datetime(when)
            if updated_at is None or updated_at.tzinfo is None or not pk.isdigit() or len(pk) > 18:
                return None
            if not representable(updated_at):
                return None
            return cls(updated_at, int(pk))
        except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError):
            return None

    @classmethod
    def of(cls, product: Product) -> ProductCursor:
        return cls(product.updated_at, product.pk)


@dataclass(frozen=True)
class ProductPage:
    products: list[Product]
    next: ProductCursor | None


def product_page(
    *,
    include_pilot: bool,
    limit: int,
    after: ProductCursor | None = None,
    category: str | None = None,
    updated_since: datetime | None = None,
    in_stock: bool = False,
) -> ProductPage:
    """One page of visible products in (updated_at, id) order, after ``after``.

    ``in_stock``: only products with a unit available where they are sold. A cheap condition on
    the stock figures (on hand above promised and in flight at a selling location, which any
    available unit needs) picks the candidates; ``in_stock_product_ids`` decides.
    """
    query = visible_products(include_pilot=include_pilot).order_by("updated_at", "pk")
    if category:
        query = query.filter(category__family_code=category)
    if updated_since is not None:
        query = query.filter(updated_at__gte=updated_since)
    if after is not None:
        query = query.filter(
            Q(updated_at__gt=after.updated_at) | Q(updated_at=after.updated_at, pk__gt=after.pk)
        )
    if not in_stock:
        rows = list(query[: limit + 1])
        more = len(rows) > limit
        return ProductPage(rows[:limit], ProductCursor.of(rows[limit - 1]) if more else None)

    if not selling_enabled():  # everything is 0 while selling is paused
        return ProductPage([], None)
    locations = list(selling_locations())
    query = query.filter(
        Exists(
            StockLevel.objects.filter(
                product=OuterRef("pk"),
                location_id__in=locations,
                on_hand__gt=F("promised") + F("in_flight"),
            )
        )
    )
    batch_size = max(limit, 50)
    page: list[Product] = []
    cursor = after
    scanned = 0
    while True:
        if cursor is not None:
            batch_query = query.filter(
                Q(updated_at__gt=cursor.updated_at) | Q(updated_at=cursor.updated_at, pk__gt=cursor.pk)
            )
        else:
            batch_query = query
        batch = list(batch_query[:batch_size])
        stocked = _in_stock([p.pk for p in batch], locations=len(locations))
        full_batch = len(batch) == batch_size
        for index, product in enumerate(batch):
            cursor = ProductCursor.of(product)
            if product.pk in stocked:
                page.append(product)
                if len(page) == limit:
                    more = index < len(batch) - 1 or full_batch
                    return ProductPage(page, cursor if more else None)
        scanned += len(batch)
        if not full_batch:
            return ProductPage(page, None)
        if scanned >= IN_STOCK_MAX_SCAN:
            return ProductPage(page, cursor)


# --- Reservations -----------------------------------------------------------------------------


_WRITTEN = "_lines_written"  # the attribute of a reservation holding the lines just written


@dataclass(frozen=True)
class ReservationLineAnswer:
    """A reservation's line as the storefront is told it."""

    sku: str
    location: int
    quantity: int
    unit_price: Decimal


def reservation_lines_written(reservation: Reservation, lines: list[ReservationLineAnswer]) -> None:
    """These lines were just written as the reservation's current ones: :func:`reservation_lines`
    answers them without reading them back."""
    setattr(reservation, _WRITTEN, list(lines))


def reservation_lines(reservation: Reservation) -> list[ReservationLineAnswer]:
    """The reservation's current lines, with their products' SKUs (the AS400 item number of a
    product unmapped since), in (product, location) order.

    ``reservation_replace_lines`` deactivates the old lines and gives the new ones the
    reservation's new ``expires_at``; a release or an expiry deactivates the current ones. So the
    current lines, active or not, are those that expire with the reservation. Lines just written
    (:func:`reservation_lines_written`) are those, and are not read again.
    """
    written: list[ReservationLineAnswer] | None = getattr(reservation, _WRITTEN, None)
    if written is not None:
        return list(written)
    rows = (
        ReservationLine.objects.filter(reservation=reservation, expires_at=reservation.expires_at)
        .order_by("product_id", "location_id")
        .values_list("product__mapping__sku", "product__item_number", "location_id", "quantity", "unit_price")
    )
    return [ReservationLineAnswer(sku or item, location, q, price) for sku, item, location, q, price in rows]
