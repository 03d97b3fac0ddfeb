"""Placing a web order: the order, its lines, its stock in flight and its outbox message, at once.

``order_place`` is the checkout: in one transaction the order and its lines are written, the
reservation's units become ``in_flight``, the history records the placement and an ORDIMP outbox
message is queued for the dispatcher. Nothing waits for the AS400. The same order number (or
Idempotency-Key) again returns the same order, also when two requests race; with other content
it is refused.

Before anything is written, the order is checked against what the AS400 can take back exactly:
the order number must be in the alphabet of ``orders.numbers`` (it becomes OHWEBN as it is, and
every AS400 event is matched on it), and the customer's name and address must fold into the code
page and then fit their ORDIMP fields, without control characters (they are kept exactly as given
here; only the file gets the folded form, see :func:`order_as_sent`; nothing is ever cut).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from integration.as400.codec import EncodeError, RecordCodec
from integration.core.errors import DomainError
from integration.core.log_context import log_context
from integration.core.stored_texts import StoredText
from integration.models import OutboxMessage
from inventory.errors import InventoryError
from inventory.models import Location, Product, Reservation, StockLevel
from inventory.moves import availability_moved, cause_uri
from inventory.reservations import (
    LineRequest,
    ResolvedLine,
    in_flight_lines,
    in_flight_take,
    reservation_commit,
    reservation_lock,
)
from inventory.selectors import warehouse_code
from orders.as400_imports import FREE_TEXT, GIVEN, ordimp_given_fields
from orders.countries import ISO_3166_ALPHA2
from orders.errors import OrderError, OrderErrorCode
from orders.locks import order_lines_locked, orders_locked
from orders.metrics import checkout_refused_count
from orders.models import Order, OrderEvent, OrderLine
from orders.numbers import ORDER_NUMBER_RULE, order_number_problem
from orders.selectors import line_sku, order_as_written

# The order's history lines, stored in English, shown in the reader's language (integration.core.stored_texts).
PLACED = StoredText(gettext_noop("placed by {client}"))
PLACED_SHORT = StoredText(gettext_noop("placed by {client}, without units (oversold): {short}"))
SENT_IN = StoredText(gettext_noop("sent to the AS400 in {file}"))


@dataclass(frozen=True)
class Customer:
    last_name: str
    first_name: str = ""
    address_line1: str = ""
    address_line2: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = "FR"
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int
    unit_price: Decimal
    location: int | None = None  # default: the order's picking location


@dataclass(frozen=True)
class OrderInput:
    order_number: str
    reservation_id: str
    delivery: str
    customer: Customer
    lines: Sequence[LineInput]
    pickup_location: int | None = None  # click and collect: the store
    extra: dict[str, Any] = field(default_factory=dict)

    def content_hash(self, picking_location: int) -> str:
        """A digest of what was asked, for telling a replay from a different order under the same number.

        Lines are normalised first (the default location made explicit, prices to the cent), so
        that the same order written two ways is the same order.
        """
        body = asdict(self)
        body["lines"] = sorted(
            (
                line["sku"],
                line["quantity"],
                str(Decimal(line["unit_price"]).quantize(Decimal("0.01"))),
                picking_location if line["location"] is None else line["location"],
            )
            for line in body["lines"]
        )
        return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()

    def line_location(self, line: LineInput, picking_location: int) -> int:
        return picking_location if line.location is None else line.location


def _ccsid() -> int:
    return int(settings.AS400_CCSID)


def order_as_sent(order: Order) -> dict[str, str]:
    """The customer's fields as the ORDIMP file carries them: folded to the code page.

    An order placed since the checkout refuses what does not fit comes back whole; an older one is
    shown cut as its file was, and a field its file could not carry at all (a control character)
    is shown empty.
    """
    codec = RecordCodec.for_file("ORDIMP", _ccsid())
    sent = {}
    for name, f in FREE_TEXT.items():
        try:
            record = codec.decode(
                codec.encode({"OHTYPE": "H", f: getattr(order, name)}, format="ORDIMPH", fold=True, cut=True)
            )
        except EncodeError:
            record = {f: ""}
        sent[name] = str(record[f])
    return sent


def _check_order_number(order_number: str) -> None:
    problem = order_number_problem(order_number)
    if problem is not None:
        raise OrderError(
            f"order_number: {problem} ({ORDER_NUMBER_RULE})",
            code=OrderErrorCode.NOT_WRITABLE_FOR_THE_AS400,
            detail={"field": "order_number"},
        )


def _check_for_the_as400(data: OrderInput) -> None:
    """Refuse now what the ORDIMP file could not carry exactly, rather than accept an order that cannot leave.

    The order number must be one (:func:`orders.numbers.order_number_problem`); the last name must
    not be blank; the country must be an ISO 3166-1 alpha-2 code. Each customer field must fold
    into the code page and then fit its ORDIMP field: a control character, a character with no
    fallback or a value longer than its field (once folded: ``œ`` takes two) is refused, naming
    the field, never cut.
    """
    _check_order_number(data.order_number)  # (order_place checked it first; this check is whole)
    if not data.customer.last_name.strip(" "):
        raise OrderError(
            "last_name: a last name is needed, and blanks are not one",
            code=OrderErrorCode.INVALID,
            detail={"field": "last_name"},
        )
    if data.customer.country not in ISO_3166_ALPHA2:
        raise OrderError(
            f"country: {data.customer.country[:8]!r} is not an ISO 3166-1 alpha-2 code (two capital letters, FR)",
            code=OrderErrorCode.INVALID,
            detail={"field": "country"},
        )
    codec = RecordCodec.for_file("ORDIMP", _ccsid())
    values = ordimp_given_fields(data.customer, order_number=data.order_number, country=data.customer.country)
    try:
        codec.encode(values, format="ORDIMPH", fold=set(FREE_TEXT.values()))
    except EncodeError as exc:
        field_name = {v: k for k, v in (FREE_TEXT | GIVEN).items()}.get(exc.field, exc.field)
        raise OrderError(
            f"{field_name}: {exc.reason}",
            code=OrderErrorCode.NOT_WRITABLE_FOR_THE_AS400,
            detail={"field": field_name},
        ) from None


def _picking_location(data: OrderInput) -> int:
    if data.delivery == Order.Delivery.HOME:
        return warehouse_code()
    if data.delivery != Order.Delivery.CLICK_AND_COLLECT:
        raise OrderError(
            f"delivery is home or click_and_collect, not {data.delivery!r}", code=OrderErrorCode.INVALID
        )
    store = (
        Location.objects.filter(code=data.pickup_location, click_and_collect=True).first()
        if data.pickup_location is not None
        else None
    )
    if store is None:
        raise OrderError(
            f"location {data.pickup_location} does not do click and collect", code=OrderErrorCode.INVALID,
            detail={"field": "pickup_location"},
        )  # fmt: skip
    return store.code


def _checked(
    data: OrderInput, client: str, idempotency_key: str, *, look_up: bool = True
) -> tuple[int, str, Order | None]:
    """What every placement checks before it writes: the picking location, the digest, and the order
    already placed under this number (or key), if any — then the lines and the AS400's fields.

    ``look_up=False`` skips the look-up: the caller finds a replay by its writes failing instead.
    """
    _check_order_number(data.order_number)  # before any lookup: what is not one names no order
    location = _picking_location(data)
    digest = data.content_hash(location)
    existing = _existing(data.order_number, client, idempotency_key, digest) if look_up else None
    if existing is not None:
        return location, digest, existing
    if not data.lines:
        raise OrderError("an order needs at least one line", code=OrderErrorCode.INVALID)
    elsewhere = sorted({data.line_location(line, location) for line in data.lines} - {location})
    if elsewhere:
        raise OrderError(
            f"a {data.delivery} order is picked at {location:03d}, not at {', '.join(f'{c:03d}' for c in elsewhere)}",
            code=OrderErrorCode.INVALID, detail={"field": "lines"},
        )  # fmt: skip
    _check_for_the_as400(data)
    return location, digest, None


def order_place(
    *, data: OrderInput, client: str, idempotency_key: str = "", now: datetime | None = None
) -> tuple[Order, bool]:
    """Place the order; returns it and whether it was created now (False: a replay of the same order)."""
    now = now or timezone.now()
    with log_context(order_number=data.order_number):
        try:
            return _order_place(data, client, idempotency_key, now)
        except DomainError as refused:  # nothing was written: counted for /metrics (orders.metrics)
            checkout_refused_count(refused.code)
            raise


def _order_place(data: OrderInput, client: str, idempotency_key: str, now: datetime) -> tuple[Order, bool]:
    # No look-up first: a replay is rare, and the writes find it anyway. The same order placed
    # before (or racing us and winning) converted the reservation, or holds the number or the key.
    location, digest, _ = _checked(data, client, idempotency_key, look_up=False)
    try:
        with transaction.atomic():
            order = _place(data, client, idempotency_key, digest, location, now)
    except (IntegrityError, DomainError) as refused:
        # The number or the key placed before wins over any other refusal: a replay then, or a
        # clash (the same number or key with other content: refused, naming it). Otherwise the
        # refusal is the error it was, and nothing was written.
        existing = _existing(data.order_number, client, idempotency_key, digest)
        if existing is None:
            raise refused from None
        return existing, False
    return order, True


@dataclass(frozen=True)
class Unreserved:
    """What :func:`order_place_unreserved` did: the order, whether created now, and why no unit was
    taken (empty: its units are in flight and its ORDIMP queued; None: a replay, nothing done)."""

    order: Order
    created: bool
    short: str | None


def order_place_unreserved(
    *, data: OrderInput, client: str, include_pilot: bool = False, now: datetime | None = None
) -> Unreserved:
    """Place an order that reserved nothing (another storefront's, already paid there), in the
    caller's transaction: the same checks and writes as :func:`order_place` (``data.reservation_id``
    is ignored), the lines at ``data``'s prices, one per line as given.

    Its units are taken straight into ``in_flight`` from the one pool
    (:func:`inventory.reservations.in_flight_take`, the reservation's take). When the pool cannot
    cover it, selling is paused or a product is not sold online to this client, the order is kept
    all the same: it takes no unit, no ORDIMP is queued, and ``short`` says why (the caller flags
    it). The same number again with the same content is a replay (``created`` False).
    """
    now = now or timezone.now()
    location, digest, existing = _checked(data, client, "")
    if existing is not None:
        return Unreserved(existing, False, None)
    resolved = in_flight_lines(
        [LineRequest(line.sku, line.quantity, data.line_location(line, location)) for line in data.lines]
    )
    try:
        with transaction.atomic():
            try:
                in_flight_take(
                    lines=resolved, include_pilot=include_pilot, cause=cause_uri("Order", data.order_number), now=now
                )
                short = ""
            except InventoryError as exc:  # InsufficientStock too: nothing was taken
                short = str(exc)
            rows = [
                _Row(r.product_id, r.location, line.quantity, Decimal(line.unit_price), 0 if short else line.quantity)
                for r, line in zip(resolved, data.lines, strict=True)
            ]
            cause = PLACED_SHORT.format(client=client, short=short) if short else PLACED.format(client=client)
            order = _write(data, client, "", digest, location, None, rows, now, cause=cause, ordimp=not short)
    except IntegrityError:  # the same number raced us and won
        existing = _existing(data.order_number, client, "", digest)
        if existing is None:
            raise
        return Unreserved(existing, False, None)
    return Unreserved(order, True, short)


def _existing(order_number: str, client: str, key: str, digest: str) -> Order | None:
    order = Order.objects.filter(order_number=order_number).first()
    by_key = order is None and bool(key)
    if by_key:
        order = Order.objects.filter(client=client, idempotency_key=key).first()
    if order is None:
        return None
    if order.client != client or order.content_hash != digest:
        if by_key:  # another number under the same key: the key's conflict, as every operation's
            raise OrderError(
                f"this Idempotency-Key was already used for order {order.order_number}, with other content",
                code=OrderErrorCode.IDEMPOTENCY_KEY_CONFLICT,
                detail={"order_number": order.order_number},
            )
        raise OrderError(
            f"order {order.order_number} was already placed with other content",
            code=OrderErrorCode.ORDER_NUMBER_CONFLICT,
            detail={"order_number": order.order_number},
        )
    return order


def _place(data: OrderInput, client: str, key: str, digest: str, location: int, now: datetime) -> Order:
    reservation, held = reservation_lock(reservation_id=data.reservation_id, client=client)
    skus = {line.pk: getattr(getattr(line.product, "mapping", None), "sku", None) for line in held}
    asked = Counter((line.sku, data.line_location(line, location), line.quantity) for line in data.lines)
    reserved = Counter((skus[line.pk], line.location_id, line.quantity) for line in held)
    if asked != reserved:
        raise OrderError(
            "the lines do not match the reservation's", code=OrderErrorCode.LINES_DO_NOT_MATCH_RESERVATION,
            detail={"reserved": [{"sku": s, "location": loc, "quantity": q} for s, loc, q in sorted(reserved)]},
        )  # fmt: skip
    prices = {(skus[line.pk], line.location_id): line.unit_price for line in held}
    wrong = [
        line
        for line in data.lines
        if Decimal(line.unit_price) != prices[(line.sku, data.line_location(line, location))]
    ]
    if wrong:
        raise OrderError(
            "a unit price differs from the AS400 price the reservation was made at",
            code=OrderErrorCode.PRICE_MISMATCH,
            detail={"lines": [{"sku": w.sku, "asked": str(w.unit_price),
                               "price": str(prices[(w.sku, data.line_location(w, location))])} for w in wrong]},
        )  # fmt: skip
    reservation_commit(reservation=reservation, lines=held, now=now)
    rows = [
        _Row(line.product_id, line.location_id, line.quantity, line.unit_price, line.quantity, line.product)
        for line in sorted(held, key=lambda h: (h.product_id, h.location_id))
    ]
    return _write(data, client, key, digest, location, reservation, rows, now, cause=PLACED.format(client=client))


@dataclass(frozen=True)
class _Row:
    """An order line to write: product, picking location, units, unit price, units in flight."""

    product_id: int
    location: int
    quantity: int
    unit_price: Decimal
    in_flight: int
    product: Product | None = None  # when at hand (with its mapping): the answer reads its SKU


def _write(
    data: OrderInput, client: str, key: str, digest: str, location: int, reservation: Reservation | None,
    rows: list[_Row], now: datetime, *, cause: str, ordimp: bool = True,
) -> Order:  # fmt: skip
    """Every placement's writes: the order, its lines, its history's first line, its ORDIMP message."""
    customer = asdict(data.customer)
    order = Order.objects.create(
        order_number=data.order_number, client=client, idempotency_key=key, content_hash=digest,
        delivery=data.delivery, pickup_location_id=location, reservation=reservation,
        total=sum((Decimal(line.unit_price) * line.quantity for line in data.lines), Decimal(0)), **customer,
        created_at=now, updated_at=now,
    )  # fmt: skip
    lines = OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            line_number=n,
            product_id=row.product_id,
            location_id=row.location,
            quantity=row.quantity,
            unit_price=row.unit_price,
            in_flight=row.in_flight,
        )
        for n, row in enumerate(rows, start=1)
    )
    for line, row in zip(lines, rows, strict=True):
        if row.product is not None:
            line.product = row.product
    event = OrderEvent.objects.create(order=order, status_to=Order.Status.PLACED, cause=cause[:200], at=now)
    if ordimp:
        ordimp_queue(order, now)
    return order_as_written(order, lines=lines, events=[event])


def ordimp_queue(order: Order, now: datetime) -> OutboxMessage:
    """Queue the order's ORDIMP message for the dispatcher (in the caller's transaction)."""
    return OutboxMessage.objects.create(
        kind=OutboxMessage.Kind.ORDIMP, subject=order.pk, created_at=now, next_attempt_at=now
    )


def order_send_anyway(*, order: Order, cause: str, now: datetime) -> OutboxMessage:
    """An order kept without units (:func:`order_place_unreserved`, oversold) is sent all the same, on
    staff's decision, in the caller's transaction: its lines' open units are forced into
    ``in_flight`` whatever is available (the AS400 decides what it can ship), its ORDIMP is queued
    and ``cause`` goes in its history. Refused when it is no longer placed, has nothing left to
    send, or has an ORDIMP already (``invalid_order``).
    """
    locked = orders_locked().get(pk=order.pk)
    if locked.status != Order.Status.PLACED:
        raise OrderError(f"order {locked} is {locked.status}: it cannot be sent now", code=OrderErrorCode.INVALID)
    if OutboxMessage.objects.filter(subject=locked.pk, kind=OutboxMessage.Kind.ORDIMP).exists():
        raise OrderError(f"order {locked} was sent to the AS400 already", code=OrderErrorCode.INVALID)
    lines = list(order_lines_locked().filter(order=locked).order_by("pk"))
    units = {line.pk: line.quantity - line.cancelled for line in lines}
    if not any(units.values()):
        raise OrderError(f"order {locked} has no unit left to send", code=OrderErrorCode.INVALID)
    in_flight_take(
        lines=[
            ResolvedLine(line_sku(line), line.product_id, line.location_id, units[line.pk], line.unit_price)
            for line in lines
            if units[line.pk]
        ],
        force=True,
        cause=cause_uri("Order", locked.order_number),
        now=now,
    )
    for line in lines:
        OrderLine.objects.filter(pk=line.pk).update(in_flight=units[line.pk])
    OrderEvent.objects.create(
        order=locked, status_from=locked.status, status_to=locked.status, cause=cause[:200], at=now
    )
    return ordimp_queue(locked, now)


def in_flight_remove(lines: list[OrderLine]) -> int:
    """Take these (locked) lines' units out of ``in_flight``, pair by pair in order. Returns the units."""
    by_pair: Counter[tuple[int, int]] = Counter()
    for line in lines:
        by_pair[(line.product_id, line.location_id)] += line.in_flight
    _stock_in_flight_lower(by_pair, cause=_orders_cause({line.order_id for line in lines}))
    OrderLine.objects.filter(pk__in=[line.pk for line in lines]).update(in_flight=0)
    return sum(by_pair.values())


def in_flight_reduce(units: Sequence[tuple[OrderLine, int]]) -> int:
    """Take some units of these (locked) lines out of ``in_flight``: at most what each line holds.

    The partial form of :func:`in_flight_remove` (units of a line cancelled before the order left):
    the stock's ``in_flight`` falls by exactly what the lines give back, pair by pair in order.
    Updates the given lines in memory too. Returns the units.
    """
    by_pair: Counter[tuple[int, int]] = Counter()
    for line, wanted in units:
        taken = min(max(wanted, 0), line.in_flight)
        if taken:
            by_pair[(line.product_id, line.location_id)] += taken
            OrderLine.objects.filter(pk=line.pk).update(in_flight=F("in_flight") - taken)
            line.in_flight -= taken
    _stock_in_flight_lower(by_pair, cause=_orders_cause({line.order_id for line, _ in units}))
    return sum(by_pair.values())


def _orders_cause(order_ids: set[int]) -> str:
    """The cause URI of a stock move by these orders: the web number of one (the first of several)."""
    if not order_ids:
        return cause_uri("Order", "unknown")
    number = Order.objects.filter(pk=min(order_ids)).values_list("order_number", flat=True).first()
    return cause_uri("Order", number or "unknown")


def _stock_in_flight_lower(by_pair: Counter[tuple[int, int]], *, cause: str) -> None:
    """Lower the stock's ``in_flight`` by these units per (product, location), in pair order (no deadlock)."""
    for (product_id, location), units in sorted(by_pair.items()):
        StockLevel.objects.filter(product_id=product_id, location_id=location).update(
            in_flight=F("in_flight") - units
        )
    availability_moved([pair for pair, units in by_pair.items() if units], cause=cause)


def in_flight_settle(*, taken_at: datetime) -> int:
    """A STKBAL extract taken at ``taken_at`` was applied: lines acknowledged by then are counted in it.

    Their units leave ``in_flight`` (the AS400's SBQRS or SBQOH now counts them). Runs in the
    caller's transaction, the one that applied the extract. Returns the units settled.
    """
    return in_flight_remove(
        list(
            order_lines_locked()
            .filter(in_flight__gt=0, acked_at__isnull=False, acked_at__lte=taken_at)
            .order_by("product_id", "location_id", "pk")
        )
    )


def orders_mark_sent(*, message_ids: list[int], now: datetime) -> int:
    """Orders whose ORDIMP messages were just written to the AS400's folder are ``sent``.

    Runs after the dispatcher's transaction has committed, in its own: it locks the orders and
    nothing else, so it never holds a message row while waiting for an order (the order a
    cancellation locks them in). An order the AS400 already answered (placed → accepted) or that
    moved on meanwhile is left as it is. Returns the orders marked.
    """
    with transaction.atomic():
        files = dict(
            OutboxMessage.objects.filter(pk__in=message_ids, kind=OutboxMessage.Kind.ORDIMP).values_list(
                "subject", "outbound_file__seq"
            )
        )
        orders = list(orders_locked().filter(pk__in=list(files), status=Order.Status.PLACED).order_by("pk"))
        OrderEvent.objects.bulk_create(
            OrderEvent(
                order=order,
                status_from=Order.Status.PLACED,
                status_to=Order.Status.SENT,
                cause=SENT_IN.format(file=f"ORDIMP_{files.get(order.pk) or 0:06d}"),
                at=now,
            )
            for order in orders
        )
        Order.objects.filter(pk__in=[o.pk for o in orders]).update(status=Order.Status.SENT, updated_at=now)
    return len(orders)
