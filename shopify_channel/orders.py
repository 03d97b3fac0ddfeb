"""Shopify orders as platform orders: created once, never applied backwards, units from the one pool.

:func:`shopify_order_apply` takes an order payload as Shopify sends it (the REST shape of the
``orders/create``, ``orders/paid`` and ``orders/updated`` webhooks, or the poll's) and, in one
transaction:

- **creates** the platform order the first time the Shopify order is seen, whichever topic brings
  it (``orders/paid`` or ``orders/updated`` before ``orders/create`` creates it), through
  :func:`orders.services.order_place_unreserved` (the checkout's checks and writes) for client
  ``settings.SHOPIFY_CLIENT_NAME``, and the :class:`~shopify_channel.models.ShopifyOrder` link. The
  units are taken from the one pool in the step a reservation uses; when the pool cannot cover
  the order it is kept, takes no unit, gets no ORDIMP and is flagged oversold (staff decide, see
  :mod:`shopify_channel.oversold`). A second create is a no-op, also when two race (the link's and
  the order number's unique constraints);
- **records** a later payload (its ``updated_at`` newer than the last applied one): the financial
  status, Shopify's cancellation time. A payload older than (or as old as) the last applied one
  changes nothing. What the AS400 has been sent (lines, customer) is not changed by an update.

The order number is derived from Shopify's name (:func:`shopify_order_number`). A home delivery is
picked at the warehouse; a pickup order (the payload's ``location_id`` is a
:class:`~shopify_channel.models.ShopifyLocation` marked ``pickup``) is click and collect at our
store of that location. Lines are at what the customer paid (:func:`paid_unit_prices`); shipping
is kept on the link. A malformed payload is refused whole with :class:`ShopifyPayloadError`
naming the field.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from integration.models import StorefrontClient
from inventory.errors import InventoryError
from orders.models import Order
from orders.numbers import ORDER_NUMBER_MAX_LENGTH, order_number_problem
from orders.services import Customer, LineInput, OrderInput, order_place_unreserved
from shopify_channel.models import ShopifyLocation, ShopifyOrder

logger = logging.getLogger(__name__)

#: The platform's order number of a Shopify order: this prefix, then the letters and digits of its name.
ORDER_NUMBER_PREFIX = "SH"
CENT = Decimal("0.01")


class ShopifyPayloadError(ValueError):
    """A Shopify payload we cannot apply: names the field and what is wrong with it."""


def shopify_client_name() -> str:
    return str(settings.SHOPIFY_CLIENT_NAME)


def shopify_can_see_pilot() -> bool:
    """Whether Shopify sells pilot categories: its StorefrontClient's ``can_see_pilot`` (none: no)."""
    return bool(
        StorefrontClient.objects.filter(name=shopify_client_name())
        .values_list("can_see_pilot", flat=True)
        .first()
    )


def shopify_order_number(name: str, shopify_id: int) -> str:
    """Our order number for a Shopify order, the same every time: ``SH`` and the letters and digits
    of its name ("#1001" → "SH1001"); when that would not fit the AS400's 20 characters (or the name
    has none), ``SH`` and Shopify's numeric id."""
    kept = "".join(ch for ch in name if ch.isascii() and ch.isalnum())
    number = f"{ORDER_NUMBER_PREFIX}{kept}"
    if not kept or len(number) > ORDER_NUMBER_MAX_LENGTH:
        number = f"{ORDER_NUMBER_PREFIX}{shopify_id}"
    problem = order_number_problem(number)
    if problem is not None:  # an id too long for 20 characters: not a Shopify id
        raise ShopifyPayloadError(f"id: {shopify_id} gives no order number ({problem})")
    return number


# --- Reading a payload -------------------------------------------------------------------------


def _field(payload: Mapping[str, Any], name: str, kind: type | tuple[type, ...], where: str = "") -> Any:
    value = payload.get(name)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise ShopifyPayloadError(f"{where}{name}: expected {_kind_name(kind)}, got {type(value).__name__}")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def _money(value: object, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ShopifyPayloadError(f"{where}: expected an amount, got {type(value).__name__}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ShopifyPayloadError(f"{where}: {str(value)[:20]!r} is not an amount") from None
    if not amount.is_finite() or amount < 0:
        raise ShopifyPayloadError(f"{where}: {str(value)[:20]!r} is not an amount")
    return amount.quantize(CENT)


def _when(value: object, where: str) -> datetime:
    if not isinstance(value, str):
        raise ShopifyPayloadError(f"{where}: expected a date and time, got {type(value).__name__}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ShopifyPayloadError(f"{where}: {value[:40]!r} is not an ISO 8601 date and time") from None
    if moment.tzinfo is None:
        raise ShopifyPayloadError(f"{where}: {value[:40]!r} has no time zone")
    return moment


def paid_unit_prices(price: Decimal, quantity: int, discount: Decimal) -> list[tuple[Decimal, int]]:
    """What each unit of a line was paid: ``price`` less the line's discount allocations spread per
    unit to the cent, as (unit price, units) groups.

    The line's paid total (``price × quantity − discount``) is split evenly in cents. When it does
    not divide, the remainder cents (fewer than the units) go one each to the first units, which
    become a line of their own one cent dearer: 3 units at 10.00 less 0.50 (2,950 cents) is 1 unit
    at 9.84 and 2 at 9.83. So the order's lines always add up to exactly what the customer paid,
    and no unit's price is off by more than a cent from another's of the same line.
    """
    cents = int(((price * quantity) - discount) / CENT)
    if cents < 0:
        raise ShopifyPayloadError(f"discount {discount} exceeds the line's {price} × {quantity}")
    base, remainder = divmod(cents, quantity)
    groups = [(Decimal(base + 1) * CENT, remainder), (Decimal(base) * CENT, quantity - remainder)]
    return [(unit, units) for unit, units in groups if units]


@dataclass(frozen=True)
class _LineItem:
    id: int
    sku: str
    quantity: int
    groups: list[tuple[Decimal, int]]


@dataclass(frozen=True)
class _Parsed:
    id: int
    gid: str
    name: str
    updated_at: datetime
    financial_status: str
    currency: str
    cancelled_at: datetime | None
    location_id: int | None
    customer: Customer
    lines: list[_LineItem]
    shipping_title: str
    shipping: Decimal
    discounts: Decimal
    total: Decimal


def _text(block: Mapping[str, Any], name: str) -> str:
    value = block.get(name)
    return value if isinstance(value, str) else ""


def _customer(payload: Mapping[str, Any]) -> Customer:
    """The shipping address (a pickup order has none: the billing address, then the customer)."""
    blocks = [b for b in (payload.get("shipping_address"), payload.get("billing_address"), payload.get("customer"))
              if isinstance(b, dict)]  # fmt: skip
    address: Mapping[str, Any] = next(
        (b for b in blocks if _text(b, "last_name") or _text(b, "address1")), blocks[0] if blocks else {}
    )
    given = payload.get("customer")
    customer: Mapping[str, Any] = given if isinstance(given, dict) else {}
    return Customer(
        last_name=_text(address, "last_name") or _text(customer, "last_name"),
        first_name=_text(address, "first_name") or _text(customer, "first_name"),
        address_line1=_text(address, "address1"),
        address_line2=_text(address, "address2"),
        postal_code=_text(address, "zip"),
        city=_text(address, "city"),
        country=_text(address, "country_code") or "FR",
        phone=_text(address, "phone") or _text(customer, "phone"),
        email=_text(payload, "email") or _text(customer, "email"),
    )


def _line_items(payload: Mapping[str, Any]) -> list[_LineItem]:
    items = _field(payload, "line_items", list)
    if not items:
        raise ShopifyPayloadError("line_items: an order has at least one line")
    lines = []
    for n, item in enumerate(items):
        where = f"line_items[{n}]."
        if not isinstance(item, dict):
            raise ShopifyPayloadError(f"line_items[{n}]: expected an object")
        quantity = _field(item, "quantity", int, where)
        if quantity < 1:
            raise ShopifyPayloadError(f"{where}quantity: at least 1, not {quantity}")
        sku = _field(item, "sku", str, where)
        if not sku:
            raise ShopifyPayloadError(f"{where}sku: empty (every variant we sell has our SKU)")
        price = _money(item.get("price"), f"{where}price")
        allocations = item.get("discount_allocations")
        if isinstance(allocations, list) and allocations:
            discount = sum(
                (_money(a.get("amount") if isinstance(a, dict) else None, f"{where}discount_allocations[{i}].amount")
                 for i, a in enumerate(allocations)),
                Decimal(0),
            )  # fmt: skip
        else:
            discount = _money(item.get("total_discount", "0"), f"{where}total_discount")
        try:
            groups = paid_unit_prices(price, quantity, discount)
        except ShopifyPayloadError as exc:
            raise ShopifyPayloadError(f"{where}discount_allocations: {exc}") from None
        lines.append(_LineItem(_field(item, "id", int, where), sku, quantity, groups))
    return lines


def _shipping(payload: Mapping[str, Any]) -> tuple[str, Decimal]:
    """The shipping lines' titles and what the customer paid for them (their discounts deducted)."""
    shipping_lines = payload.get("shipping_lines") or []
    if not isinstance(shipping_lines, list):
        raise ShopifyPayloadError("shipping_lines: expected a list")
    titles, amount = [], Decimal(0)
    for n, line in enumerate(shipping_lines):
        if not isinstance(line, dict):
            raise ShopifyPayloadError(f"shipping_lines[{n}]: expected an object")
        price = _money(line.get("discounted_price", line.get("price")), f"shipping_lines[{n}].price")
        amount += price
        titles.append(_text(line, "title"))
    return ", ".join(t for t in titles if t)[:200], amount


def _parse(payload: object) -> _Parsed:
    if not isinstance(payload, dict):
        raise ShopifyPayloadError("the order payload is not a JSON object")
    shopify_id = _field(payload, "id", int)
    name = _field(payload, "name", str)
    cancelled = payload.get("cancelled_at")
    location = payload.get("location_id")
    if location is not None and (isinstance(location, bool) or not isinstance(location, int)):
        raise ShopifyPayloadError(f"location_id: expected int or null, got {type(location).__name__}")
    title, shipping = _shipping(payload)
    return _Parsed(
        id=shopify_id,
        gid=_text(payload, "admin_graphql_api_id") or f"gid://shopify/Order/{shopify_id}",
        name=name[:40],
        updated_at=_when(payload.get("updated_at"), "updated_at"),
        financial_status=_text(payload, "financial_status")[:30],
        currency=(_text(payload, "currency") or "EUR")[:3],
        cancelled_at=_when(cancelled, "cancelled_at") if cancelled is not None else None,
        location_id=location,
        customer=_customer(payload),
        lines=_line_items(payload),
        shipping_title=title,
        shipping=shipping,
        discounts=_money(payload.get("total_discounts", "0"), "total_discounts"),
        total=_money(
            payload.get("current_total_price", payload.get("total_price", "0")), "current_total_price"
        ),
    )


def _delivery(parsed: _Parsed) -> tuple[str, int | None]:
    if parsed.location_id is None:
        return Order.Delivery.HOME, None
    gid = f"gid://shopify/Location/{parsed.location_id}"
    place = ShopifyLocation.objects.filter(shopify_location_id=gid, pickup=True).first()
    if place is None:
        raise ShopifyPayloadError(f"location_id: {gid} is not a pickup location we know (ShopifyLocation)")
    return Order.Delivery.CLICK_AND_COLLECT, place.location_id


# --- Applying ----------------------------------------------------------------------------------


def shopify_order_apply(payload: object, *, now: datetime) -> ShopifyOrder:
    """Apply one Shopify order payload (see the module's docstring); returns the order's link.

    Raises :class:`ShopifyPayloadError` (malformed payload, unknown pickup location, unknown
    SKU) or :class:`orders.errors.OrderError` (what the AS400 could not take, e.g. no last name),
    with nothing applied.
    """
    parsed = _parse(payload)
    with transaction.atomic():
        link = ShopifyOrder.objects.select_for_update().filter(shopify_id=parsed.id).first()
        if link is None:
            try:
                with transaction.atomic():
                    return _create(parsed, now)
            except IntegrityError:  # the same order raced us and won: it is the update path now
                link = ShopifyOrder.objects.select_for_update().filter(shopify_id=parsed.id).first()
                if link is None:
                    raise
        if parsed.updated_at <= link.shopify_updated_at:
            logger.info("Shopify order %s: payload of %s not newer than %s, not applied",
                        parsed.name, parsed.updated_at, link.shopify_updated_at)  # fmt: skip
            return link
        link.shopify_updated_at = parsed.updated_at
        link.financial_status = parsed.financial_status
        link.cancelled_at = parsed.cancelled_at
        link.updated_at = now
        link.save(update_fields=["shopify_updated_at", "financial_status", "cancelled_at", "updated_at"])
        return link


def _create(parsed: _Parsed, now: datetime) -> ShopifyOrder:
    delivery, store = _delivery(parsed)
    lines: list[LineInput] = []
    line_numbers: dict[str, list[int]] = {}
    for item in parsed.lines:
        for unit_price, units in item.groups:
            lines.append(LineInput(item.sku, units, unit_price, store))
            line_numbers.setdefault(str(item.id), []).append(len(lines))
    data = OrderInput(
        order_number=shopify_order_number(parsed.name, parsed.id),
        reservation_id="",
        delivery=delivery,
        customer=parsed.customer,
        lines=lines,
        pickup_location=store,
        extra={"shopify_id": parsed.id},
    )
    try:
        placed = order_place_unreserved(
            data=data, client=shopify_client_name(), include_pilot=shopify_can_see_pilot(), now=now
        )
    except InventoryError as exc:  # an unknown SKU, a location not selling: the order cannot be kept
        raise ShopifyPayloadError(f"line_items: {exc}") from exc
    if not placed.created:  # its number raced us: the other one creates the link
        raise IntegrityError(f"order {data.order_number} was placed meanwhile")
    short = placed.short or ""
    link = ShopifyOrder.objects.create(
        order=placed.order, shopify_id=parsed.id, admin_graphql_api_id=parsed.gid, name=parsed.name,
        shopify_updated_at=parsed.updated_at, financial_status=parsed.financial_status,
        currency=parsed.currency, shipping_title=parsed.shipping_title, shipping_amount=parsed.shipping,
        discounts=parsed.discounts, total=parsed.total, line_numbers=line_numbers,
        oversold=bool(short), oversold_reason=short[:300], cancelled_at=parsed.cancelled_at,
        created_at=now, updated_at=now,
    )  # fmt: skip
    if short:
        logger.warning("Shopify order %s kept oversold: %s", parsed.name, short)
    return link
