"""Reservations: units held while a customer checks out, never more than is available.

The check and the take are one statement per pair::

    UPDATE stock SET reserved = reserved + q
    WHERE pair AND on_hand >= promised + in_flight + reserved + safety + q

On PostgreSQL the row lock it takes makes a concurrent taker wait and then re-check the condition
against the new figures; on SQLite the transaction holds the database's write lock from its first
statement (``transaction_mode=IMMEDIATE``). Either way a second reader between the check and the
take cannot see the same units. On PostgreSQL the last pair's take and the reservation's rows
are one statement (the rows written only if it took), so a hot pair is locked only for that
statement and the commit; on SQLite the rows are written first. Pairs are always taken in
(product, location) order, so reservations over the same pairs in different orders never
deadlock. The statements of a take are compiled once per shape (``integration.core.prepared``).

Expired reservations stop counting in every read at once (see ``selectors``). Their units leave
the ``reserved`` counter when a take finds the pair short (the pair is swept and the take tried
again) or when the periodic clean-up runs, so no worker is needed for expiry to work.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Field, Model, QuerySet
from django.db.models.sql import UpdateQuery
from django.utils import timezone

from integration.as400.live import LiveReadUnavailable, get_live_reader, live_check_enabled
from integration.core.prepared import prepared_sql, prepared_update, update_of
from inventory.catalogue import ReservationLineAnswer, reservation_lines_written
from inventory.errors import (
    InsufficientStock,
    InventoryError,
    InventoryErrorCode,
    ReservationNotActive,
    ReservationNotFound,
    Shortage,
)
from inventory.locks import reservation_lines_locked, reservations_locked
from inventory.metrics import reservation_shortage_count
from inventory.models import ItemMapping, LiveCheckCounter, Product, Reservation, ReservationLine, StockLevel
from inventory.moves import availability_moved, cause_uri
from inventory.selectors import (
    Pair,
    availability_by_pair,
    safety_stock_expression,
    sellable_prices_by_sku,
    sellable_products,
    selling_enabled,
    selling_locations,
    warehouse_code,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

MAX_LINES = 100
MAX_QUANTITY = 10_000


@dataclass(frozen=True)
class LineRequest:
    sku: str
    quantity: int
    location: int | None = None  # None: the warehouse (home delivery)


@dataclass(frozen=True)
class _Line:
    sku: str
    product_id: int
    location: int
    quantity: int
    unit_price: Decimal


def live_free_for(lines: Sequence[_Line], *, now: datetime) -> dict[Pair, int] | None:
    """The AS400's own free figure (SBQOH - SBQRS) of each pair, read live, when the site reads live.

    None when live reads are off or the AS400 cannot answer in time: the projection alone then
    decides. Every outcome is counted (``LiveCheckCounter``) for monitoring.
    """
    if not live_check_enabled():
        return None
    numbers = dict(
        Product.objects.filter(pk__in={line.product_id for line in lines}).values_list("pk", "item_number")
    )
    pairs = {(line.product_id, line.location): (numbers[line.product_id], line.location) for line in lines}
    timeout = float(getattr(settings, "AS400_LIVE_TIMEOUT", 0.5))
    try:
        figures = get_live_reader().read(pairs.values(), timeout=timeout)
    except LiveReadUnavailable as exc:
        logger.warning("live stock check fell back to the projection (%s): %s", exc.kind, exc)
        _count(f"fallback_{exc.kind}", now)
        return None
    _count("used", now)
    return {pair: figures[item_pair].free if item_pair in figures else 0 for pair, item_pair in pairs.items()}


def _count(outcome: str, now: datetime) -> None:
    updated = LiveCheckCounter.objects.filter(outcome=outcome).update(count=F("count") + 1, last_at=now)
    if not updated:
        try:
            with transaction.atomic():
                LiveCheckCounter.objects.create(outcome=outcome, count=1, last_at=now)
        except IntegrityError:
            LiveCheckCounter.objects.filter(outcome=outcome).update(count=F("count") + 1, last_at=now)


def reservation_ttl() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "RESERVATION_TTL_SECONDS", 15 * 60)))


def _resolve(lines: Sequence[LineRequest], *, include_pilot: bool) -> list[_Line]:
    """Check the request and turn SKUs into products; merge lines for the same pair."""
    if not lines:
        raise InventoryError("a reservation needs at least one line", code=InventoryErrorCode.INVALID_LINES)
    if len(lines) > MAX_LINES:
        raise InventoryError(f"at most {MAX_LINES} lines", code=InventoryErrorCode.INVALID_LINES)
    if not selling_enabled():
        raise InventoryError("online selling is paused", code=InventoryErrorCode.SELLING_PAUSED)
    for line in lines:
        if not 1 <= line.quantity <= MAX_QUANTITY:
            raise InventoryError(
                f"{line.sku}: quantity must be 1 to {MAX_QUANTITY}, not {line.quantity}",
                code=InventoryErrorCode.INVALID_LINES,
            )
    products = sellable_prices_by_sku(skus=[line.sku for line in lines], include_pilot=include_pilot)
    unknown = sorted({line.sku for line in lines} - set(products))
    if unknown:
        raise InventoryError(
            f"not sold online: {', '.join(unknown)}",
            code=InventoryErrorCode.UNKNOWN_SKU,
            detail={"skus": unknown},
        )
    locations = selling_locations()
    merged: dict[Pair, int] = defaultdict(int)
    sku_of: dict[Pair, str] = {}
    for line in lines:
        location = warehouse_code() if line.location is None else line.location
        if location not in locations:
            raise InventoryError(
                f"{line.sku}: location {location:03d} does not sell online (the warehouse, or a click-and-collect store)",
                code=InventoryErrorCode.LOCATION_NOT_SELLING,
                detail={"location": location},
            )
        pair = (products[line.sku][0], location)
        merged[pair] += line.quantity
        sku_of[pair] = line.sku
    return [
        _Line(sku_of[pair], pair[0], pair[1], quantity, products[sku_of[pair]][1])
        for pair, quantity in sorted(merged.items())
    ]


def _takeable(
    pair: Pair, quantity: int, *, live_free: dict[Pair, int] | None = None, released: int = 0
) -> QuerySet[StockLevel]:
    """The pair's stock row, only if it can give ``quantity`` more units above its safety stock.

    The one availability condition of every take (a reservation's, an expired reservation's
    commit, an order without reservation): ``on_hand >= promised + in_flight + reserved - released
    + safety + quantity``, and the AS400's own free figure when it was read live and is lower.
    ``released`` is what the taker gives back in the same statement (an expired reservation's
    units still counted). The safety stock is read in the same statement
    (:func:`~inventory.selectors.safety_stock_expression`), so a take is one statement per pair.
    """
    need = safety_stock_expression() + quantity
    rows = StockLevel.objects.filter(product_id=pair[0], location_id=pair[1])
    rows = rows.filter(on_hand__gte=F("promised") + F("in_flight") + F("reserved") - released + need)
    if live_free is not None and pair in live_free:  # the AS400's own figure, when it is lower
        rows = rows.filter(in_flight__lte=live_free[pair] - need - F("reserved"))
    return rows


def _take_query(counter: str, increase: bool, live: bool) -> Callable[[Mapping[str, Any]], UpdateQuery]:
    """The update that moves one pair's ``counter`` by ``quantity``: an increase only if available
    (:func:`_takeable`, with the AS400's live figure when ``live``); for :func:`prepared_update`."""

    def build(v: Mapping[str, Any]) -> UpdateQuery:
        pair = (v["product"], v["location"])
        if increase:
            rows = _takeable(pair, v["quantity"], live_free={pair: v["live"]} if live else None)
        else:
            rows = StockLevel.objects.filter(product_id=pair[0], location_id=pair[1])
        return update_of(rows, **{counter: F(counter) + v["quantity"]})

    return build


def _take_statement(
    pair: Pair, quantity: int, *, counter: str, live_free: dict[Pair, int] | None
) -> tuple[tuple[str, bool, bool], Callable[[Mapping[str, Any]], UpdateQuery], dict[str, int]]:
    """The prepared take of one pair: its key, its query and its values (compiled once per kind)."""
    live = quantity > 0 and live_free is not None and pair in live_free
    values = {"product": pair[0], "location": pair[1], "quantity": quantity}
    if live:
        values["live"] = live_free[pair]  # type: ignore[index]
    kind = (counter, quantity > 0, live)
    return kind, _take_query(*kind), values


def _take_one(pair: Pair, quantity: int, *, counter: str, live_free: dict[Pair, int] | None) -> bool:
    """Move one pair's ``counter`` (an increase only if available); whether its row moved."""
    kind, build, values = _take_statement(pair, quantity, counter=counter, live_free=live_free)
    return prepared_update(("inventory.take", *kind), build, values) == 1


def _take(
    changes: dict[Pair, int],
    *,
    cause: str,
    live_free: dict[Pair, int] | None = None,
    counter: str = "reserved",
) -> list[Pair]:
    """Move ``counter`` (``reserved``, or ``in_flight``) by each pair's change, in pair order; an
    increase only if available (:func:`_takeable`).

    Returns the pairs that were short (the caller rolls back). Decreases always apply. The moved
    pairs are told to the availability listeners (:mod:`inventory.moves`) with ``cause``.
    """
    short: list[Pair] = []
    for pair, quantity in sorted(changes.items()):
        if quantity == 0:
            continue
        if not _take_one(pair, quantity, counter=counter, live_free=live_free) and quantity > 0:
            short.append(pair)
    if not short:  # a short take rolls back: nothing moved
        availability_moved([p for p, q in changes.items() if q], cause=cause)
    return short


def _answers(lines: Sequence[_Line]) -> list[ReservationLineAnswer]:
    return [ReservationLineAnswer(line.sku, line.location, line.quantity, line.unit_price) for line in lines]


def _add_lines(reservation: Reservation, lines: list[_Line], expires_at: datetime) -> None:
    """Write the reservation's lines; they are its current lines, kept on it for the answer
    (:func:`inventory.catalogue.reservation_lines` reads them there instead of reading them back)."""
    ReservationLine.objects.bulk_create(
        ReservationLine(
            reservation=reservation,
            product_id=line.product_id,
            location_id=line.location,
            quantity=line.quantity,
            unit_price=line.unit_price,
            expires_at=expires_at,
        )
        for line in lines
    )
    reservation_lines_written(reservation, _answers(lines))


# --- A reservation written and taken in as few statements as it can ---------------------------
#
# Every checkout runs this, on a few hot pairs at a sale: its rows are written without the ORM
# building them (plain values, adapted by each field), and on PostgreSQL the last pair's take and
# the rows are one statement, so the hot row's lock lives for that statement and the commit.


@cache
def _columns(model: type[Model]) -> tuple[Field[Any, Any], ...]:
    """The columns a row of ``model`` is written with: every concrete field but an automatic key."""
    return tuple(
        f for f in model._meta.concrete_fields if not (f.primary_key and f.get_internal_type().endswith("AutoField"))
    )


def _row(model: type[Model], values: Mapping[str, Any]) -> list[Any]:
    """A row's values in :func:`_columns` order, as the database takes them (a missing one raises)."""
    return [f.get_db_prep_save(values[f.attname], connection) for f in _columns(model)]


def _cast(f: Field[Any, Any]) -> str:
    # text, not varchar(n): a cast to varchar(n) would cut a long value where the column refuses it
    return "text" if f.get_internal_type() in ("CharField", "TextField") else str(f.cast_db_type(connection))


@cache
def _insert_sql(model: type[Model], rows: int, *, when: str = "") -> str:
    """``INSERT`` of ``rows`` rows of ``model``; with ``when`` (an SQL condition), only if it holds
    (its values then typed, as a ``SELECT`` leaves them untyped)."""
    qn = connection.ops.quote_name
    columns = _columns(model)
    names = ", ".join(qn(str(f.column)) for f in columns)
    if when:
        row = "(" + ", ".join(f"CAST(%s AS {_cast(f)})" for f in columns) + ")"
        return f"INSERT INTO {qn(model._meta.db_table)} ({names}) SELECT * FROM (VALUES {', '.join([row] * rows)}) AS v WHERE {when}"
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    return f"INSERT INTO {qn(model._meta.db_table)} ({names}) VALUES {', '.join([row] * rows)}"


def _reservation_rows_and_take(
    reservation: Mapping[str, Any], lines: list[_Line], *, live_free: dict[Pair, int] | None
) -> list[Pair]:
    """Write the reservation and its lines and take their units (``reserved``), pairs in order;
    the pairs that were short (the caller rolls back). In the caller's transaction.

    On PostgreSQL the pairs before the last are taken one statement each, then one statement takes
    the last pair and, only if it took, writes the rows: three data-modifying parts of one ``WITH``.
    Elsewhere (SQLite, whose transaction holds the database's write lock throughout) the rows are
    two statements and each take one.
    """
    row = _row(Reservation, reservation)
    line_rows = [
        _row(
            ReservationLine,
            {
                "reservation_id": reservation["id"],
                "product_id": line.product_id,
                "location_id": line.location,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "expires_at": reservation["expires_at"],
                "active": True,
            },
        )
        for line in lines
    ]
    pairs = [((line.product_id, line.location), line.quantity) for line in lines]  # merged, in order
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_insert_sql(Reservation, 1), row)
            cursor.execute(_insert_sql(ReservationLine, len(lines)), [v for r in line_rows for v in r])
        return [pair for pair, q in pairs if not _take_one(pair, q, counter="reserved", live_free=live_free)]
    short = [pair for pair, q in pairs[:-1] if not _take_one(pair, q, counter="reserved", live_free=live_free)]
    last, quantity = pairs[-1]
    if short:  # rolled back anyway: the last pair is only asked whether it is short too
        return short + ([] if _take_one(last, quantity, counter="reserved", live_free=live_free) else [last])
    kind, build, values = _take_statement(last, quantity, counter="reserved", live_free=live_free)
    take, take_params = prepared_sql(("inventory.take", *kind), build, values)
    sql = (
        f"WITH took AS ({take} RETURNING 1), "
        f"written AS ({_insert_sql(Reservation, 1, when='EXISTS (SELECT 1 FROM took)')} RETURNING 1) "
        f"{_insert_sql(ReservationLine, len(lines), when='EXISTS (SELECT 1 FROM written)')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*take_params, *row, *(v for r in line_rows for v in r)])
        return [] if cursor.rowcount == len(lines) else [last]


class _Short(Exception):
    def __init__(self, pairs: list[Pair]) -> None:
        self.pairs = pairs


def _shortages(
    lines: list[_Line], short: list[Pair], now: datetime, live_free: dict[Pair, int] | None
) -> InsufficientStock:
    """What each short line asked, and what is available now (the AS400's live figure when lower)."""
    available = availability_by_pair(short, now=now)
    shortages = []
    for line in lines:
        pair = (line.product_id, line.location)
        if pair not in short:
            continue
        a = available[pair]
        units = a.available
        if live_free is not None and pair in live_free:
            units = min(units, max(0, live_free[pair] - a.in_flight - a.reserved - a.safety_stock))
        shortages.append(Shortage(line.sku, line.location, line.quantity, units))
    return InsufficientStock(shortages)


def _with_one_sweep(
    attempt: Callable[[], T], lines: list[_Line], now: datetime, live_free: dict[Pair, int] | None
) -> T:
    """Run ``attempt`` (a transaction); if a pair is short, sweep its expired units and try once more."""
    try:
        return attempt()
    except _Short as short:
        if not reservations_sweep_expired(now=now, pairs=short.pairs):
            reservation_shortage_count()
            raise _shortages(lines, short.pairs, now, live_free) from None
    try:
        return attempt()
    except _Short as short:
        reservation_shortage_count()
        raise _shortages(lines, short.pairs, now, live_free) from None


def reservation_create(
    *,
    lines: Sequence[LineRequest],
    client: str = "",
    idempotency_key: str = "",
    include_pilot: bool = False,
    live_free: dict[Pair, int] | None = None,
    now: datetime | None = None,
) -> Reservation:
    """Hold every line's units, or none of them (:class:`InsufficientStock` lists the short lines).

    The same ``idempotency_key`` from the same client returns the reservation it created; with
    other lines it is refused.
    """
    now = now or timezone.now()
    resolved = _resolve(lines, include_pilot=include_pilot)
    if idempotency_key:
        existing = _by_idempotency_key(client, idempotency_key, resolved)
        if existing is not None:
            return existing
    expires_at = now + reservation_ttl()
    if live_free is None:
        live_free = live_free_for(resolved, now=now)

    values = {
        "id": uuid.uuid4(),
        "client": client,
        "idempotency_key": idempotency_key,
        "status": Reservation.Status.ACTIVE.value,
        "expires_at": expires_at,
        "created_at": now,
        "updated_at": now,
    }

    def attempt() -> Reservation:
        with transaction.atomic():
            short = _reservation_rows_and_take(values, resolved, live_free=live_free)
            if short:
                raise _Short(short)
            availability_moved(
                [(line.product_id, line.location) for line in resolved], cause=cause_uri("Reservation", values["id"])
            )
        reservation = Reservation(**values)
        reservation._state.adding = False  # as the ORM leaves a row it wrote
        reservation._state.db = connection.alias
        reservation_lines_written(reservation, _answers(resolved))
        return reservation

    try:
        return _with_one_sweep(attempt, resolved, now, live_free)
    except IntegrityError:
        if idempotency_key:  # the same key raced us and won: answer with its reservation
            existing = _by_idempotency_key(client, idempotency_key, resolved)
            if existing is not None:
                return existing
        raise


def _by_idempotency_key(client: str, key: str, resolved: list[_Line]) -> Reservation | None:
    reservation = Reservation.objects.filter(client=client, idempotency_key=key).first()
    if reservation is None:
        return None
    theirs = sorted((line.product_id, line.location_id, line.quantity) for line in reservation.lines.all())
    ours = sorted((line.product_id, line.location, line.quantity) for line in resolved)
    if theirs != ours:
        raise InventoryError(
            "this Idempotency-Key was already used for another reservation",
            code=InventoryErrorCode.IDEMPOTENCY_KEY_CONFLICT,
            detail={"reservation": str(reservation.pk)},
        )
    return reservation


def reservation_get(*, reservation_id: object, client: str | None = None) -> Reservation:
    """The reservation, of this client when given; ReservationNotFound for any other id, malformed ones too."""
    try:
        query = Reservation.objects.filter(pk=reservation_id)  # type: ignore[misc]
        if client is not None:
            query = query.filter(client=client)
        return query.get()
    except (Reservation.DoesNotExist, ValidationError, ValueError, TypeError):
        raise ReservationNotFound(f"no reservation {reservation_id}") from None


def _active_lines(reservation: Reservation) -> list[ReservationLine]:
    return list(
        reservation_lines_locked()
        .filter(reservation=reservation, active=True)
        .order_by("pk")
    )


def reservation_replace_lines(
    *,
    reservation: Reservation,
    lines: Sequence[LineRequest],
    include_pilot: bool = False,
    live_free: dict[Pair, int] | None = None,
    now: datetime | None = None,
) -> Reservation:
    """Replace every line, all or nothing: on a shortage the reservation is left as it was.

    The time to live starts again. Replacing the lines of an expired reservation takes its
    units afresh, if they are still there.
    """
    now = now or timezone.now()
    resolved = _resolve(lines, include_pilot=include_pilot)
    expires_at = now + reservation_ttl()
    if live_free is None:
        live_free = live_free_for(resolved, now=now)

    def attempt() -> Reservation:
        with transaction.atomic():
            locked = reservations_locked().get(pk=reservation.pk)
            if locked.status not in (Reservation.Status.ACTIVE, Reservation.Status.EXPIRED):
                raise ReservationNotActive(
                    f"reservation {locked.pk} is {locked.get_status_display().lower()}"
                )
            changes: dict[Pair, int] = defaultdict(int)
            for held in _active_lines(locked):  # what the counters still count for it
                changes[(held.product_id, held.location_id)] -= held.quantity
            ReservationLine.objects.filter(reservation=locked).delete()  # its lines are the new ones only
            _add_lines(locked, resolved, expires_at)
            for new_line in resolved:
                changes[(new_line.product_id, new_line.location)] += new_line.quantity
            short = _take(dict(changes), cause=cause_uri("Reservation", locked.pk), live_free=live_free)
            if short:
                raise _Short(short)
            locked.expires_at = expires_at
            locked.status = Reservation.Status.ACTIVE
            locked.updated_at = now
            locked.save(update_fields=["expires_at", "status", "updated_at"])
            return locked

    return _with_one_sweep(attempt, resolved, now, live_free)


def reservation_release(*, reservation: Reservation, now: datetime | None = None) -> Reservation:
    """Give the units back. Releasing twice, or an expired reservation, is harmless."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = reservations_locked().get(pk=reservation.pk)
        if locked.status == Reservation.Status.CONVERTED:
            raise ReservationNotActive(f"reservation {locked.pk} was turned into an order")
        _release_lines(_active_lines(locked), cause=cause_uri("Reservation", locked.pk))
        if locked.status != Reservation.Status.RELEASED:
            locked.status, locked.updated_at = Reservation.Status.RELEASED, now
            locked.save(update_fields=["status", "updated_at"])
        return locked


def _release_lines(lines: Iterable[ReservationLine], *, cause: str) -> int:
    """Deactivate these (locked, active) lines and take their units off the counters."""
    changes: dict[Pair, int] = defaultdict(int)
    ids = []
    for line in lines:
        changes[(line.product_id, line.location_id)] -= line.quantity
        ids.append(line.pk)
    if not ids:
        return 0
    ReservationLine.objects.filter(pk__in=ids).update(active=False)
    _take(dict(changes), cause=cause)
    return -sum(changes.values())


def reservations_sweep_expired(*, now: datetime | None = None, pairs: Iterable[Pair] | None = None) -> int:
    """Release the units of expired reservation lines (of these pairs, or all). Returns the units freed.

    Each line is released exactly once, also with several sweepers at work: lines are locked
    before they are read as active.
    """
    now = now or timezone.now()
    with transaction.atomic():
        query = reservation_lines_locked().filter(active=True, expires_at__lte=now)
        if pairs is not None:
            pairs = list(pairs)
            if not pairs:
                return 0
            query = query.filter(
                product_id__in={p for p, _ in pairs}, location_id__in={loc for _, loc in pairs}
            )
        lines = list(query.order_by("pk"))
        reservations = sorted({str(line.reservation_id) for line in lines})
        cause = cause_uri("Reservation", reservations[0]) if len(reservations) == 1 else cause_uri(
            "ReservationExpiry", now.strftime("%Y%m%dT%H%M%S")
        )
        freed = _release_lines(lines, cause=cause)
        Reservation.objects.filter(
            pk__in={line.reservation_id for line in lines},
            status=Reservation.Status.ACTIVE,
            expires_at__lte=now,
        ).update(status=Reservation.Status.EXPIRED, updated_at=now)
    return freed


def reservation_is_expired(reservation: Reservation, *, now: datetime | None = None) -> bool:
    return reservation.status == Reservation.Status.EXPIRED or (
        reservation.status == Reservation.Status.ACTIVE and reservation.expires_at <= (now or timezone.now())
    )


def reservation_lock(*, reservation_id: object, client: str) -> tuple[Reservation, list[ReservationLine]]:
    """The client's reservation and all its lines (with their products and SKUs), locked in that
    order, in the caller's transaction: what an order placed with it reads, once.

    ReservationNotFound for any other id, malformed ones too, as :func:`reservation_get`.
    """
    try:
        locked = reservations_locked().filter(client=client).get(pk=reservation_id)  # type: ignore[misc]
    except (Reservation.DoesNotExist, ValidationError, ValueError, TypeError):
        raise ReservationNotFound(f"no reservation {reservation_id}") from None
    lines = list(
        reservation_lines_locked(lines_only=True)
        .filter(reservation=locked)
        .select_related("product__mapping")
        .order_by("pk")
    )
    return locked, lines


def reservation_commit(
    *, reservation: Reservation, lines: list[ReservationLine] | None = None, now: datetime | None = None
) -> list[ReservationLine]:
    """Turn a reservation's units into in-flight units, in the caller's transaction: an order is placed.

    Unexpired, its units were held: they move from ``reserved`` to ``in_flight``. Expired, they are
    taken afresh if they are still available (:class:`InsufficientStock` otherwise, and the caller's
    transaction rolls back). Pairs are moved in (product, location) order, as every take is.
    Returns the reservation's lines; the reservation is marked converted.

    ``lines``: the reservation (then locked) and its lines as :func:`reservation_lock` gave them in
    this transaction; without them both are locked and read here.
    """
    now = now or timezone.now()
    if lines is None:
        locked = reservations_locked().get(pk=reservation.pk)
        lines = list(reservation_lines_locked().filter(reservation=locked).order_by("pk"))
    else:
        locked = reservation
    if locked.status not in (Reservation.Status.ACTIVE, Reservation.Status.EXPIRED):
        raise ReservationNotActive(f"reservation {locked.pk} is {locked.get_status_display().lower()}")
    expired = locked.status == Reservation.Status.EXPIRED or locked.expires_at <= now
    wanted: dict[Pair, int] = defaultdict(int)
    held: dict[Pair, int] = defaultdict(int)
    for line in lines:
        pair = (line.product_id, line.location_id)
        wanted[pair] += line.quantity
        if line.active:
            held[pair] += line.quantity
    short: list[Pair] = []
    for pair, quantity in sorted(wanted.items()):
        if expired:  # what it still held is given back and the whole quantity taken again, if there
            rows = _takeable(pair, quantity, released=held[pair])
        else:
            rows = StockLevel.objects.filter(product_id=pair[0], location_id=pair[1])
        if rows.update(reserved=F("reserved") - held[pair], in_flight=F("in_flight") + quantity) != 1:
            short.append(pair)
    if not short:
        availability_moved(sorted(wanted), cause=cause_uri("Reservation", locked.pk))
    if short:  # the caller's transaction rolls back as this leaves it
        products = dict(
            Product.objects.filter(pk__in={p for p, _ in short}).values_list("pk", "mapping__sku")
        )
        available = availability_by_pair(short, now=now)
        raise InsufficientStock(
            [Shortage(str(products[p[0]]), p[1], wanted[p], available[p].available) for p in short]
        )
    ReservationLine.objects.filter(reservation=locked).update(active=False)
    locked.status, locked.updated_at = Reservation.Status.CONVERTED, now
    locked.save(update_fields=["status", "updated_at"])
    return lines


# --- Units taken without a reservation ---------------------------------------------------------

#: A line resolved to its product and location (our price; the caller may sell at another).
ResolvedLine = _Line


def in_flight_lines(lines: Sequence[LineRequest]) -> list[ResolvedLine]:
    """An order's lines (another storefront's, which did not reserve) resolved, one per line as given.

    Any mapped product is found, whatever its rollout or status: the order exists already and is
    kept; whether its units can be taken is :func:`in_flight_take`'s question. An unmapped SKU or a
    location that does not sell online is refused (:class:`InventoryError`), naming it.
    """
    if not lines:
        raise InventoryError("an order needs at least one line", code=InventoryErrorCode.INVALID_LINES)
    for line in lines:
        if not 1 <= line.quantity <= MAX_QUANTITY:
            raise InventoryError(
                f"{line.sku}: quantity must be 1 to {MAX_QUANTITY}, not {line.quantity}",
                code=InventoryErrorCode.INVALID_LINES,
            )
    mappings = {m.sku: m.product for m in ItemMapping.objects.filter(sku__in={line.sku for line in lines})
                .select_related("product")}  # fmt: skip
    unknown = sorted({line.sku for line in lines} - set(mappings))
    if unknown:
        raise InventoryError(
            f"unknown SKU: {', '.join(unknown)}",
            code=InventoryErrorCode.UNKNOWN_SKU,
            detail={"skus": unknown},
        )
    locations = selling_locations()
    resolved = []
    for line in lines:
        location = warehouse_code() if line.location is None else line.location
        if location not in locations:
            raise InventoryError(
                f"{line.sku}: location {location:03d} does not sell online (the warehouse, or a click-and-collect store)",
                code=InventoryErrorCode.LOCATION_NOT_SELLING,
                detail={"location": location},
            )
        product = mappings[line.sku]
        resolved.append(_Line(line.sku, product.pk, location, line.quantity, product.price))
    return resolved


def in_flight_take(
    *,
    lines: Sequence[ResolvedLine],
    include_pilot: bool = False,
    force: bool = False,
    live_free: dict[Pair, int] | None = None,
    cause: str = "",
    now: datetime | None = None,
) -> int:
    """Take these lines' units straight into ``in_flight``, all or none, in the caller's transaction.

    For an order placed without a reservation (Shopify's): the same take as a reservation's — the
    one availability condition (:func:`_takeable`: promised, in flight, reserved and safety stock,
    and the AS400's live figure when it is read), pairs in (product, location) order, one sweep
    of expired reservations when a pair is short — moving ``in_flight`` instead of ``reserved``.
    Refused, with nothing taken: selling paused or a product not sold online to this client (its
    category's rollout: pilot only with ``include_pilot``; inactive) as :class:`InventoryError`;
    a short pool as :class:`InsufficientStock`. ``force`` (staff sending an oversold order anyway)
    takes the units whatever is available. Returns the units taken. ``cause`` names the order for
    the availability listeners (:mod:`inventory.moves`).
    """
    now = now or timezone.now()
    cause = cause or cause_uri("Order", "unreserved")
    changes: dict[Pair, int] = defaultdict(int)
    for line in lines:
        changes[(line.product_id, line.location)] += line.quantity
    if force:
        for pair, quantity in sorted(changes.items()):
            StockLevel.objects.filter(product_id=pair[0], location_id=pair[1]).update(
                in_flight=F("in_flight") + quantity
            )
        availability_moved(sorted(changes), cause=cause)
        return sum(changes.values())
    if not selling_enabled():
        raise InventoryError("online selling is paused", code=InventoryErrorCode.SELLING_PAUSED)
    sellable = set(
        Product.objects.filter(
            sellable_products(include_pilot=include_pilot), pk__in={p for p, _ in changes}
        ).values_list("pk", flat=True)
    )
    refused = sorted({line.sku for line in lines if line.product_id not in sellable})
    if refused:
        raise InventoryError(
            f"not sold online: {', '.join(refused)}",
            code=InventoryErrorCode.PRODUCT_NOT_SELLABLE,
            detail={"skus": refused},
        )
    first = {(line.product_id, line.location): line for line in reversed(lines)}  # a pair's first line
    merged = [_Line(first[pair].sku, *pair, quantity, first[pair].unit_price) for pair, quantity in sorted(changes.items())]
    if live_free is None:
        live_free = live_free_for(merged, now=now)

    def attempt() -> int:
        with transaction.atomic():  # a savepoint: a short pair gives back the pairs taken before it
            short = _take(dict(changes), cause=cause, live_free=live_free, counter="in_flight")
            if short:
                raise _Short(short)
        return sum(changes.values())

    return _with_one_sweep(attempt, merged, now, live_free)
