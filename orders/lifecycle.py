"""The order's life after the AS400: applying ORDSTS and STRRTN events to web orders.

ORDSTS (the AS400) carries P picked, E shipped home (with OSTRK, the tracking number), L ready in
store, A cancelled by the AS400 (on its own, or its answer to our ORDANN), R return received (the
goods of a return, announced by RTNIMP or not). STRRTN (the stores) carries R a return at a store
counter and C a cancellation at the counter (a click and collect order not picked up). Each record
is about units of one order line (OSQTE / SRQTE).

**Once.** Each record has a key: the SHA-256 of the file name (ORDSTS, STRRTN) and all of its
fields. ``As400Event.key`` is unique, so the same event in a file delivered twice, or repeated in a
later file, is recognised, counted as ``repeated`` in the file's result and not applied again. The
n-th copy (n ≥ 2) of the same record *within one file* gets ``#n`` in its key: those are taken as
distinct events (an AS400 writes one record per movement; two equal movements in the same second
are possible), and a repeated file repeats them with the same keys. Two equal records in two files
cannot be told from a repetition; the record has nothing else to tell them apart by.

**Counters only grow, and stay within the line.** Per line: ``picked``, ``shipped``, ``ready``,
``cancelled``, ``returned``. Of ``cancelled``, the units cancelled at a store counter (STRRTN C)
were ready first: they are counted from the line's STRRTN C events (``LineCounts.counter_cancelled``),
so that units *open* at the AS400 are ``quantity − (cancelled − counter cancelled) − shipped −
ready``.

- P raises ``picked`` (never past the quantity). A P that later events already cover — it arrives
  after the E or L of the same units, which count them as picked — is ``stale``: nothing goes
  backwards. What a P covers is told by the units of the line's P events seen so far: the picked
  count becomes at least that sum, and at least what shipped or is ready.
- E raises ``shipped``, L raises ``ready``, A raises ``cancelled``: each only on open units. E and L
  raise ``picked`` to at least ``shipped + ready``. E, L and A take disjoint units, so any arrival
  order of them comes out the same.
- ORDSTS R and STRRTN R raise ``returned``, only on units handed over (shipped or ready, not
  cancelled at the counter) and not returned yet: ``returned ≤ shipped + ready`` always.
- STRRTN C raises ``cancelled`` on units ready in store, not cancelled at the counter already and
  not collected and returned.

An event for more units than the line has left for it applies what fits and is ``partly_applied``;
one for which nothing fits is ``rejected``. An unknown order is ``unknown_order``: the web number
(OSWEBN, SRWEBN) is matched exactly as the file holds it (never trimmed: our numbers hold no blank,
see ``orders.numbers``), and an ORDSTS record whose AS400 order number (OSCDE) is not the one
ORDACK gave our order is another AS400 order's, kept as ``unknown_order`` and not applied (STRRTN
carries no AS400 number; before ORDACK there is none to compare). An unknown line
number, or an item (OSITEM/SRITEM) that is not the line's product, is ``unknown_line``; an event on
an order the AS400 refused, with an unknown code or a quantity that is not positive is ``rejected``.
Every record is kept as an :class:`As400Event` with its outcome; the discrepancies (partly applied,
unknown order or line, rejected) stay there for staff and raise one alert per file that counts them.

**The order's status** is derived from its lines after each event (:func:`order_status_of`), and
each change is an :class:`OrderEvent` whose cause names the file and the record ("ORDSTS E in
ORDSTS_000004 #3"); each change of a line is an OrderEvent on that line too.

**Cancellations.** An A on an order with open cancellation requests (state ``requested``: our
ORDANN) is the AS400's answer: its units confirm the line's requests first, then whole-order ones,
oldest first (``confirmed_quantity``); a request fully confirmed is ``confirmed`` and closed. Units
shipped or made ready while a request is open are too late for it: once nothing it covers is open
any more it closes, ``confirmed`` if the AS400 cancelled some of it, else ``too_late``.

**Returns.** ORDSTS R fills the oldest open web returns of that line, or makes a return of its own
(``returns.receipts``, through ``orders.returns_port``); STRRTN R makes a store return.

**Storefront events** (``integration.storefront.events.event_emit``), in the file's transaction, one per
order and kind of change per file (lines and quantities grouped): ``order.picked`` (the first units
picked), ``order.shipped`` (per tracking number), ``order.ready_in_store``, ``order.cancelled`` (by
``customer`` when it answers our request, ``as400`` otherwise, ``store`` for STRRTN C),
``order.returned`` (where: ``store`` with its number, or ``warehouse``; per return, with its RMA),
``return.received`` (a web return's goods received by ORDSTS R).

**Stock** needs nothing here: the AS400's next STKBAL extract counts what it did (shipping, goods
back on a shelf), and the lines' ``in_flight`` settles by extract as before.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_noop

from integration.alerts import alert_raise
from integration.as400.appliers import ApplyResult
from integration.as400.records import EventRecord
from integration.core.stored_texts import StoredText
from integration.models import Alert, StorefrontEvent
from integration.storefront.events import event_emit
from orders.cancellation import BY_CUSTOMER, cancelled_by
from orders.locks import cancellations_locked, order_lines_locked, orders_locked
from orders.models import As400Event, Order, OrderCancellation, OrderEvent, OrderLine
from orders.returns_port import ReturnReceipt, returns_receiver
from orders.selectors import line_sku

Kind = As400Event.Kind
Outcome = As400Event.Outcome
Status = Order.Status
EventType = StorefrontEvent.Type

ORDSTS_KINDS = {"P": Kind.PICKED, "E": Kind.SHIPPED, "L": Kind.READY, "A": Kind.CANCELLED,
                "R": Kind.RETURN_RECEIVED}  # fmt: skip
STRRTN_KINDS = {"R": Kind.STORE_RETURN, "C": Kind.STORE_CANCEL}
WAREHOUSE = 900
COUNTERS = ["picked", "shipped", "ready", "cancelled", "returned"]

# The alert of events kept as discrepancies, stored in English and shown in the reader's language
# (integration.core.stored_texts): the outcomes it counts are named as written.
DISCREPANCIES = StoredText(gettext_noop(
    "{source}: {total} event(s) kept as discrepancies ({detail}); see the AS400 events"
))


# --- The status of an order, from its lines ---------------------------------------------------


@dataclass(frozen=True)
class LineCounts:
    """A line's counters, and how many of its cancelled units were cancelled at a store counter."""

    quantity: int
    picked: int = 0
    shipped: int = 0
    ready: int = 0
    cancelled: int = 0
    returned: int = 0
    counter_cancelled: int = 0  # of ``cancelled``: ready units cancelled at a counter (STRRTN C)

    @classmethod
    def of(cls, line: OrderLine, counter_cancelled: int = 0) -> LineCounts:
        return cls(line.quantity, line.picked, line.shipped, line.ready, line.cancelled, line.returned,
                   counter_cancelled)  # fmt: skip

    @property
    def live(self) -> int:
        """Units not cancelled."""
        return max(0, self.quantity - self.cancelled)

    @property
    def delivered(self) -> int:
        """Units that left the AS400's shelves: shipped home or ready in store."""
        return self.shipped + self.ready

    @property
    def open(self) -> int:
        """Units still at the AS400: neither cancelled before leaving, nor shipped, nor ready."""
        return max(0, self.quantity - (self.cancelled - self.counter_cancelled) - self.delivered)

    @property
    def handed(self) -> int:
        """Units shipped or ready, less those cancelled at the counter."""
        return max(0, self.delivered - self.counter_cancelled)

    @property
    def returnable(self) -> int:
        return max(0, self.handed - self.returned)

    @property
    def waiting_in_store(self) -> int:
        """Ready units that may still be cancelled at the counter (not cancelled, not returned)."""
        return max(0, self.ready - self.counter_cancelled - max(0, self.returned - self.shipped))


def order_status_of(
    order: Order, lines: Sequence[LineCounts], *, cancellation_requested: bool = False
) -> str:
    """The status an order's lines say it is in (pure: reads only its arguments).

    In this order: all units cancelled → cancelled; a cancellation request awaiting the AS400
    (``cancellation_requested``) while units are still open → cancellation_requested; all units not
    cancelled returned → returned; some returned → partially_returned; all units not cancelled
    shipped or ready → shipped (ready_in_store when none shipped home); some shipped or ready →
    partially_shipped; some picked → picked; else accepted. A refused order stays refused, and an
    order the AS400 has not acknowledged and that nothing happened to keeps its status.
    """
    if order.status == Status.REFUSED or not lines:
        return order.status
    live = sum(line.live for line in lines)
    if live == 0:
        return Status.CANCELLED
    if cancellation_requested and any(line.open for line in lines):
        return Status.CANCELLATION_REQUESTED
    returned = sum(line.returned for line in lines)
    if returned >= live:
        return Status.RETURNED
    if returned > 0:
        return Status.PARTIALLY_RETURNED
    if not any(line.open for line in lines):
        return Status.SHIPPED if any(line.shipped for line in lines) else Status.READY_IN_STORE
    if any(line.handed for line in lines):
        return Status.PARTIALLY_SHIPPED
    if any(line.picked > line.counter_cancelled for line in lines):
        return Status.PICKED
    if order.status in (Status.PLACED, Status.SENT) and not any(line.cancelled for line in lines):
        return order.status
    return Status.ACCEPTED


def counter_cancelled_of(lines: Iterable[OrderLine]) -> dict[int, int]:
    """Per line id: the units cancelled at a store counter (the applied STRRTN C events)."""
    rows = (
        As400Event.objects.filter(line__in=list(lines), kind=Kind.STORE_CANCEL)
        .values("line_id")
        .annotate(units=Sum("applied_quantity"))
    )
    return {row["line_id"]: int(row["units"] or 0) for row in rows}


def line_counts(lines: Sequence[OrderLine]) -> list[LineCounts]:
    """The lines as :func:`order_status_of` reads them (one query for the counter cancellations)."""
    counter = counter_cancelled_of(lines)
    return [LineCounts.of(line, counter.get(line.pk, 0)) for line in lines]


# --- Reading the files ------------------------------------------------------------------------


def kind_of(record: EventRecord) -> str:
    """What an ORDSTS or STRRTN record's code means to an order (:class:`Kind`)."""
    kinds = ORDSTS_KINDS if record.file == "ORDSTS" else STRRTN_KINDS
    return kinds.get(record.code, Kind.UNKNOWN)


# --- Storefront events, grouped per file ------------------------------------------------------


@dataclass
class _Notice:
    order: Order
    type: str
    data: dict[str, Any]
    rma: str = ""
    lines: dict[int, dict[str, Any]] = field(default_factory=dict)


class _Notices:
    """The storefront events of one file: one per order, type and group (tracking, RMA...)."""

    def __init__(self) -> None:
        self._notices: dict[tuple[Any, ...], _Notice] = {}

    def has(self, order: Order, type: str) -> bool:
        return any(k[0] == order.pk and k[1] == type for k in self._notices)

    def add(
        self, order: Order, type: str, line: OrderLine, quantity: int, *, group: tuple[Any, ...] = (),
        data: dict[str, Any] | None = None, rma: str = "",
    ) -> None:  # fmt: skip
        key = (order.pk, type, rma, *group)
        notice = self._notices.get(key)
        if notice is None:
            notice = self._notices[key] = _Notice(order, type, dict(data or {}), rma)
        notice.order = order  # its status as of the last record it tells
        notice.data.update(data or {})
        entry = notice.lines.setdefault(
            line.line_number, {"line_number": line.line_number, "sku": line_sku(line), "quantity": 0}
        )
        entry["quantity"] += quantity

    def emit(self, now: datetime) -> int:
        for notice in self._notices.values():
            lines = [notice.lines[n] for n in sorted(notice.lines)]
            event_emit(
                order=notice.order, type=notice.type, data={**notice.data, "lines": lines}, rma=notice.rma,
                now=now,
            )  # fmt: skip
        return len(self._notices)


# --- Applying ---------------------------------------------------------------------------------


def ordsts_apply(*, records: Sequence[EventRecord], source: str, now: datetime | None = None) -> ApplyResult:
    """Apply an ORDSTS file's records in order, in the caller's transaction (see the module's docstring)."""
    return _apply(records, source, now or timezone.now())


def strrtn_apply(*, records: Sequence[EventRecord], source: str, now: datetime | None = None) -> ApplyResult:
    """Apply a STRRTN file's records in order, in the caller's transaction (see the module's docstring)."""
    return _apply(records, source, now or timezone.now())


@dataclass
class _Applied:
    outcome: str
    units: int = 0
    note: str = ""


def _apply(records: Sequence[EventRecord], source: str, now: datetime) -> ApplyResult:
    result = ApplyResult()
    counts: Counter[str] = Counter()
    found: dict[str, list[str]] = {outcome: [] for outcome in As400Event.DISCREPANCIES}
    notices = _Notices()
    for record in records:
        if As400Event.objects.filter(key=record.key).exists():
            counts["repeated"] += 1
            continue
        try:
            with transaction.atomic():
                event = _apply_record(record, notices, now)
        except IntegrityError:
            if not As400Event.objects.filter(key=record.key).exists():
                raise
            counts["repeated"] += 1  # another process applied it meanwhile
            continue
        counts[event.outcome] += 1
        if event.outcome in found:
            found[event.outcome].append(
                f"#{record.number} {record.code} {record.order_number}/{record.line_number} ×{record.quantity}"
                + (f": {event.note}" if event.note else "")
            )
    counts["storefront_events"] = notices.emit(now)
    result.counts.update(counts)
    for outcome, examples in found.items():
        result.finding(f"events_{outcome}", examples)
    discrepancies = {outcome: len(examples) for outcome, examples in found.items() if examples}
    if discrepancies:
        total = sum(discrepancies.values())
        detail = ", ".join(f"{n} {outcome.replace('_', ' ')}" for outcome, n in discrepancies.items())
        alert_raise(
            kind="as400_event_discrepancy", subject=source, severity=Alert.Severity.WARNING,
            message=DISCREPANCIES.format(source=source, total=total, detail=detail),
            now=now,
        )  # fmt: skip
    return result


def _keep(
    record: EventRecord,
    applied: _Applied,
    now: datetime,
    order: Order | None = None,
    line: OrderLine | None = None,
) -> As400Event:
    return As400Event.objects.create(
        file=record.file, source=record.source, record=record.number, key=record.key, kind=kind_of(record),
        code=record.code[:1], order_number=record.order_number[:20],
        as400_order_number=record.as400_order_number[:10], line_number=max(0, record.line_number),
        item=record.item[:15], quantity=record.quantity, applied_quantity=applied.units,
        tracking=record.tracking[:30],
        store=record.store if record.store is not None and record.store >= 0 else None,
        reason=record.reason[:4], occurred_at=record.occurred_at, order=order, line=line,
        outcome=applied.outcome, note=applied.note[:300], received_at=now,
    )  # fmt: skip


def _apply_record(record: EventRecord, notices: _Notices, now: datetime) -> As400Event:
    order = orders_locked().filter(order_number=record.order_number).first()
    if order is None:
        return _keep(record, _Applied(Outcome.UNKNOWN_ORDER, note="no such web order"), now)
    theirs, ours = record.as400_order_number, order.as400_order_number
    if theirs and ours and theirs != ours:  # same web number, another AS400 order: not ours
        note = f"AS400 order {theirs} is not ours: web order {order.order_number} is AS400 order {ours}"
        return _keep(record, _Applied(Outcome.UNKNOWN_ORDER, note=note), now)
    if kind_of(record) == Kind.UNKNOWN:
        return _keep(
            record, _Applied(Outcome.REJECTED, note=f"unknown event code {record.code!r}"), now, order
        )
    if order.status == Status.REFUSED:
        return _keep(record, _Applied(Outcome.REJECTED, note="the AS400 refused this order"), now, order)
    lines = list(
        order_lines_locked(lines_only=True)
        .filter(order=order)
        .select_related("product")
        .order_by("line_number")
    )
    line = next((candidate for candidate in lines if candidate.line_number == record.line_number), None)
    if line is None:
        return _keep(record, _Applied(Outcome.UNKNOWN_LINE, note=f"no line {record.line_number}"), now, order)
    if record.item != line.product.item_number:
        note = f"item {record.item} is not line {line.line_number}'s ({line.product.item_number})"
        return _keep(record, _Applied(Outcome.UNKNOWN_LINE, note=note), now, order)
    if record.quantity <= 0:
        return _keep(
            record, _Applied(Outcome.REJECTED, note="the quantity is not positive"), now, order, line
        )
    line.order = order
    counter = counter_cancelled_of(lines)
    before = {other.pk: LineCounts.of(other, counter.get(other.pk, 0)) for other in lines}
    picked_before = sum(counts.picked for counts in before.values())

    applied = _change_line(record, line, before[line.pk])
    event = _keep(record, applied, now, order, line)
    if applied.units <= 0:
        return event
    line.save(update_fields=COUNTERS)
    counter[line.pk] = counter.get(line.pk, 0) + (
        applied.units if kind_of(record) == Kind.STORE_CANCEL else 0
    )
    after = {other.pk: LineCounts.of(other, counter.get(other.pk, 0)) for other in lines}

    confirmed = 0
    answered_by: list[str] = []
    if kind_of(record) == Kind.CANCELLED:
        confirmed = _answer_cancellations(order, line, applied.units, now, answered_by)
    requested = _close_cancellations(order, after, now)
    line_from = order_status_of(order, [before[line.pk]])
    line_to = order_status_of(order, [after[line.pk]])
    OrderEvent.objects.create(
        order=order, line=line, status_from=line_from, status_to=line_to,
        cause=f"{record.cause}: {kind_of(record)} +{applied.units} (line {line.line_number}: {_counters(line)})",
        at=now,
    )  # fmt: skip
    status = order_status_of(order, list(after.values()), cancellation_requested=requested)
    if status != order.status:
        OrderEvent.objects.create(
            order=order, status_from=order.status, status_to=status, cause=record.cause, at=now
        )
        order.status, order.updated_at = status, now
        order.save(update_fields=["status", "updated_at"])
    receipts = _receive(record, line, applied.units, now)
    _notify(record, order, line, applied.units, notices, picked_before=picked_before, confirmed=confirmed,
            requester=answered_by[0] if answered_by else BY_CUSTOMER,
            receipts=receipts)  # fmt: skip
    return event


def _counters(line: OrderLine) -> str:
    counts = ", ".join(f"{name} {getattr(line, name)}" for name in COUNTERS if getattr(line, name))
    return f"{counts} of {line.quantity}"


def _fits(asked: int, room: int, what: str) -> _Applied:
    units = min(asked, room)
    if units <= 0:
        return _Applied(Outcome.REJECTED, 0, f"nothing left to {what}")
    if units < asked:
        return _Applied(Outcome.PARTLY_APPLIED, units, f"only {units} of {asked} unit(s) left to {what}")
    return _Applied(Outcome.APPLIED, units)


def _change_line(record: EventRecord, line: OrderLine, counts: LineCounts) -> _Applied:
    """Raise the line's counters for the event (in memory); what was applied and the outcome."""
    kind, asked = kind_of(record), record.quantity
    if kind == Kind.PICKED:
        seen = (
            As400Event.objects.filter(line=line, kind=Kind.PICKED, quantity__gt=0).aggregate(
                units=Sum("quantity")
            )["units"]
            or 0
        )  # a P refused for its quantity (≤ 0) tells no units
        target = min(line.quantity, max(line.picked, seen + asked))
        units = target - line.picked
        line.picked = target
        if seen + asked > line.quantity:
            return _Applied(
                Outcome.PARTLY_APPLIED if units > 0 else Outcome.REJECTED, units,
                f"{seen + asked} unit(s) picked in all, the line has {line.quantity}",
            )  # fmt: skip
        if units <= 0:
            return _Applied(Outcome.STALE, 0, "already counted as picked by a later event")
        covered = asked - units
        return _Applied(
            Outcome.APPLIED, units, f"{covered} already counted by a later event" if covered else ""
        )
    if kind in (Kind.SHIPPED, Kind.READY):
        applied = _fits(asked, counts.open, "ship" if kind == Kind.SHIPPED else "make ready")
        if kind == Kind.SHIPPED:
            line.shipped += applied.units
        else:
            line.ready += applied.units
        line.picked = max(line.picked, min(line.quantity, line.shipped + line.ready))
        return applied
    if kind == Kind.CANCELLED:
        applied = _fits(asked, counts.open, "cancel")
        line.cancelled += applied.units
        return applied
    if kind in (Kind.RETURN_RECEIVED, Kind.STORE_RETURN):
        applied = _fits(asked, counts.returnable, "return (shipped or ready and not returned)")
        line.returned += applied.units
        return applied
    if kind == Kind.STORE_CANCEL:
        applied = _fits(asked, counts.waiting_in_store, "cancel at the counter (ready in store)")
        line.cancelled += applied.units
        return applied
    raise AssertionError(f"no rule for {kind}")  # pragma: no cover - every kind is handled above


def _answer_cancellations(
    order: Order, line: OrderLine, units: int, now: datetime, answered_by: list[str]
) -> int:
    """An A answers our open requests: the line's first, then the whole order's, oldest first.

    Returns the units that answered a request; ``answered_by`` gets who asked each one answered.
    """
    open_requests = list(
        cancellations_locked()
        .filter(order=order, state=OrderCancellation.State.REQUESTED)
        .order_by("created_at", "id")
    )
    left = units
    for request in [r for r in open_requests if r.line_id == line.pk] + [
        r for r in open_requests if r.line_id is None
    ]:
        take = min(left, request.quantity - request.confirmed_quantity)
        if take <= 0:
            continue
        answered_by.append(cancelled_by(request.requested_by))
        request.confirmed_quantity += take
        left -= take
        if request.confirmed_quantity >= request.quantity:
            request.state = OrderCancellation.State.CONFIRMED
            request.closed_at = now
        request.save(update_fields=["confirmed_quantity", "state", "closed_at"])
        if left == 0:
            break
    return units - left


def _close_cancellations(order: Order, lines: dict[int, LineCounts], now: datetime) -> bool:
    """Close the requests nothing open is left for (too late); whether one is still awaiting its answer."""
    waiting = False
    for request in cancellations_locked().filter(order=order, state=OrderCancellation.State.REQUESTED):
        scope = [lines[request.line_id]] if request.line_id in lines else list(lines.values())
        if any(counts.open for counts in scope):
            waiting = True
            continue
        confirmed = request.confirmed_quantity > 0
        request.state = OrderCancellation.State.CONFIRMED if confirmed else OrderCancellation.State.TOO_LATE
        request.closed_at = now
        request.save(update_fields=["state", "closed_at"])
    return waiting


def _receive(record: EventRecord, line: OrderLine, units: int, now: datetime) -> list[ReturnReceipt]:
    """The returns that returned units belong to (the returns app's, see ``orders.returns_port``)."""
    at = record.occurred_at or now
    if kind_of(record) == Kind.RETURN_RECEIVED:
        return returns_receiver().web_return_received(line=line, quantity=units, at=at, now=now)
    if kind_of(record) == Kind.STORE_RETURN:
        assert record.store is not None
        receipt = returns_receiver().store_return_received(
            line=line, quantity=units, store=record.store, reason=record.reason, at=at, now=now
        )
        return [receipt]
    return []


def _notify(
    record: EventRecord, order: Order, line: OrderLine, units: int, notices: _Notices, *, picked_before: int,
    confirmed: int, receipts: list[ReturnReceipt], requester: str = BY_CUSTOMER,
) -> None:  # fmt: skip
    kind = kind_of(record)
    if kind == Kind.PICKED:
        if picked_before == 0 or notices.has(order, EventType.ORDER_PICKED):
            notices.add(order, EventType.ORDER_PICKED, line, units)
    elif kind == Kind.SHIPPED:
        notices.add(order, EventType.ORDER_SHIPPED, line, units, group=(record.tracking,),
                    data={"tracking": record.tracking})  # fmt: skip
    elif kind == Kind.READY:
        notices.add(order, EventType.ORDER_READY_IN_STORE, line, units,
                    data={"store": order.pickup_location_id})  # fmt: skip
    elif kind == Kind.CANCELLED:
        by_request, by_as400 = confirmed, units - confirmed
        if by_request:  # our request answered: the customer's (or staff's on their behalf)
            notices.add(order, EventType.ORDER_CANCELLED, line, by_request, group=(requester,),
                        data={"by": requester})  # fmt: skip
        if by_as400:
            notices.add(order, EventType.ORDER_CANCELLED, line, by_as400, group=("as400",),
                        data={"by": "as400"})  # fmt: skip
    elif kind == Kind.STORE_CANCEL:
        notices.add(order, EventType.ORDER_CANCELLED, line, units, group=("store", record.store),
                    data={"by": "store", "store": record.store})  # fmt: skip
    else:
        for receipt in receipts:
            where: dict[str, Any] = (
                {"where": "warehouse"}
                if receipt.store == WAREHOUSE
                else {"where": "store", "store": receipt.store}
            )
            notices.add(order, EventType.ORDER_RETURNED, line, receipt.quantity, rma=receipt.rma,
                        data=where)  # fmt: skip
            if receipt.announced:
                notices.add(order, EventType.RETURN_RECEIVED, line, receipt.quantity, rma=receipt.rma,
                            data={**where, "return_status": receipt.status})  # fmt: skip
