"""What Shopify may sell at each of its locations, pushed as compare-and-set, in batches.

What Shopify may sell of a product at a Shopify location (:class:`~shopify_channel.models.ShopifyLocation`:
the warehouse for shipping, click-and-collect stores as pickup locations) is the platform's
availability for that pair (``inventory.selectors.availability_by_pair``, 0 while online selling
is paused), less the units Shopify has sold there that no Shopify order of ours holds yet.

Triggers. Every place where availability moves tells ``inventory.moves`` in its own transaction
(a reservation taken, released or expired, committed to an order, an order's in-flight units
given back, a STKBAL extract applied); :func:`stock_mark_dirty`, registered at start-up, writes
one :class:`StockDirty` row per pair at a Shopify location in that same transaction and queues a
push after the commit (django-q2). A sweep every minute pushes whatever a lost kick left.
:func:`stock_push` pushes the dirty pairs, up to 250 quantities per ``inventorySetQuantities``
call, each call paced by the client (cost-based bucket), never one call per item. Batching
comes from the work itself: a push takes every pair dirty when it starts (pairs another pusher
holds are leased to it and skipped), so while one call is in flight the moves pile up for the
next; a kick that finds nothing dirty makes no call. Calls per second are thus bounded by the
workers and the round trip, and when the bucket runs low the client waits, the pile grows and the
batches with it — a peak of moves makes fewer, larger calls, not a storm.

The compare-and-set. Per pair we keep (:class:`ShopifyStockLevel`):

- ``K`` (``shopify_available``): what we last knew Shopify to hold as ``available``;
- ``U`` (``unseen_sales``): units Shopify sold here that we saw in its figure (a drop of it
  that was not ours) and that no Shopify order of ours holds yet;
- ``T`` (``orders_units``): the units Shopify orders held here (their lines' quantity minus
  cancelled units) when we last accounted.

A push computes, for each pair: ``U -= T_now - T`` (a Shopify order that reached us since then
took its units from our pool, so they are no longer unseen), then the target
``max(0, A - max(U, 0))``, and sends it with ``changeFromQuantity = K``. Shopify applies the set
only if it still holds ``K``:

- applied: Shopify now holds the target; ``K`` := target, ``U`` := ``max(U, 0)`` (Shopify held
  ``K``, so every drop of its figure is accounted for);
- ``CHANGE_FROM_QUANTITY_STALE``: Shopify's figure moved (a checkout, a restock, an admin edit)
  between our last read and now. The mutation is atomic: nothing of the batch was applied. We
  read Shopify's figures ``f`` for the batch's items (``inventory_levels``), add the drop
  ``K - f`` to ``U`` (floored at 0: a rise that no order of ours explains is Shopify's own and
  is set back to our figure), set ``K`` := ``f``, recompute the targets from a fresh read of our
  availability, and try again (up to :data:`STALE_RETRIES` times; then the pairs stay dirty).

Why a stale answer never oversells. Let Shopify sell ``s`` units between our read and our
push, before its order reaches us. Our availability ``A`` does not count them yet. Pushing ``A``
would let Shopify sell ``s`` units twice. Instead the stale answer shows the drop, ``U`` = ``s``,
and Shopify is set to ``A - s``: exactly what is left once its order is in our pool. When that
order's webhook arrives, it takes ``s`` from our pool (``A`` := ``A - s``) and its lines raise
``T`` by ``s`` (``U`` := 0): the target stays ``A - s``, nothing is pushed again, and the two
figures have converged. If the webhook came first, ``A`` already fell by ``s`` and ``U`` is
``-s`` for a moment: the target is clamped to ``A``, our ``changeFromQuantity`` (the old ``K``)
is stale because Shopify's figure did drop, the read brings ``U`` back to 0, and the retry sets
``A`` — again what is left. A push therefore never offers Shopify more than ``A`` nor more than
``A`` less the sales it made that we have not counted: the sum of what both storefronts can
still sell never exceeds the pool. An order Shopify takes anyway at the same instant (a real
race, the window between its checkout and our set) is the oversold case the order side flags.

The other way round, a Shopify order cancelled with restock: Shopify's figure rises by ``q``
(read as a drop of ``-q``), its lines' cancelled units lower ``T`` by ``q`` and our release
raises ``A`` by ``q``; the two cancel out in ``U`` and the target is the new ``A``. A rise that
no order explains (an admin edit, a refund restocked before the goods are back at the AS400) is
Shopify's own and is set back to our figure: the pool is the truth. A reservation that expires
stops counting at once in our reads, but reaches Shopify only when the clean-up (every minute)
releases it: until then Shopify sells less, never more.

Each change names its cause in ``referenceDocumentUri`` (the pair's :class:`StockDirty` cause:
``gid://platform/Reservation/<id>``, ``gid://platform/Order/<id>``,
``gid://platform/StockExtract/<taken at>``); a batch whose pairs have several causes names the
push (``gid://platform/StockPush/<moment>``) and each pair keeps its own cause on its level. Every
call carries a fresh ``@idempotent`` key, kept across the client's transport retries and a dead
worker's resumption: a retried call is applied at most once, and a later call with the same
figures is never mistaken for it.

A worker that dies holding a push. Its pairs stay dirty and leased until
``SHOPIFY_STOCK_LEASE_SECONDS``; the next push after that takes them. A set it sent but whose
answer it never recorded is the dangerous case: Shopify may hold the new figure while our ``K``
is the old one, and reading Shopify's figure would count our own set as a drop, a sale of
Shopify's (``U``), and set the figure lower by as much for good. So each set is written
(:class:`~shopify_channel.models.StockSet`, named on its levels) before it is sent, and the next
push sends it again first, the same variables under the same ``@idempotent`` key: Shopify
answers what it did the first time (applied: ``K`` is its quantity; stale: ``K`` stands) and
applies nothing twice. A set whose answer was never heard (Shopify unreachable) is kept the same way.

A Shopify location mapped after the catalogue was published (a store opening to click and
collect) does not stock the items yet: mapping it marks every published pair there dirty
(``shopify_channel.signals``), and the push, finding no level in its first read, stocks each item
there with ``inventoryActivate`` (level 0, the ``K`` just read) before the set.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from integration.core.reference_cache import reference
from inventory.moves import Pair
from inventory.selectors import availability_by_pair, selling_enabled
from orders.models import OrderLine
from shopify_channel.models import ShopifyLocation, ShopifyProduct, ShopifyStockLevel, StockDirty, StockSet

logger = logging.getLogger(__name__)

BATCH = 250  # quantities per inventorySetQuantities call (Shopify's limit)
STALE_RETRIES = 3
STALE = "CHANGE_FROM_QUANTITY_STALE"


class Client(Protocol):
    def execute(
        self, name: str, variables: dict[str, Any] | None = None, *, idempotency_key: str | None = None
    ) -> Any: ...


# --- Marking -------------------------------------------------------------------------------------


SHOPIFY_LOCATION_CODES = "shopify_channel.location_codes"


def shopify_location_codes() -> frozenset[int]:
    """Our location codes that Shopify sells from: read on every take, so kept a moment per process
    (``integration.core.reference_cache``; forgotten when a Shopify location is saved or deleted)."""
    return reference(
        SHOPIFY_LOCATION_CODES, lambda: frozenset(ShopifyLocation.objects.values_list("location_id", flat=True))
    )


def stock_mark_dirty(pairs: Sequence[Pair], cause: str, *, now: datetime | None = None) -> int:
    """The availability listener: note the pairs at Shopify locations, in the caller's transaction.

    Returns how many pairs were noted; queues a push after the commit when any was.
    """
    codes = shopify_location_codes()
    wanted = sorted({pair for pair in pairs if pair[1] in codes})  # pair order: rows locked in order
    if not wanted:
        return 0
    now = now or timezone.now()
    rows = [
        StockDirty(product_id=p, location_code=loc, cause=cause[:200], marked_at=now, token=uuid.uuid4().hex)
        for p, loc in wanted
    ]
    for start in range(0, len(rows), 2000):
        StockDirty.objects.bulk_create(
            rows[start : start + 2000],
            update_conflicts=True,
            unique_fields=["product_id", "location_code"],
            update_fields=["cause", "marked_at", "token"],
        )
    stock_push_kick_after_commit()
    return len(wanted)


def stock_push_kick() -> None:
    """Queue a push now (the every-minute sweep is the fallback)."""
    try:
        from django_q.tasks import async_task

        async_task("shopify_channel.tasks.shopify_stock_push_doorbell", task_name="Shopify stock push (after a move)")
    except Exception:  # the broker is down: the sweep pushes anyway
        logger.warning("could not queue a Shopify stock push; the sweep will push", exc_info=True)


def stock_push_kick_after_commit() -> None:
    """One push queued when the current transaction commits (once per transaction)."""
    pending = getattr(connection, "run_on_commit", None) or []
    if connection.in_atomic_block and any(entry[1] is stock_push_kick for entry in pending):
        return
    transaction.on_commit(stock_push_kick, robust=True)


# --- Targets -------------------------------------------------------------------------------------


def shopify_order_units(pairs: Iterable[Pair]) -> dict[Pair, int]:
    """Units Shopify orders hold per pair: their lines' quantity less cancelled units."""
    pairs = list(pairs)
    if not pairs:
        return {}
    wanted = set(pairs)
    rows = (
        OrderLine.objects.filter(
            order__client=settings.SHOPIFY_CLIENT_NAME,
            product_id__in={p for p, _ in pairs},
            location_id__in={loc for _, loc in pairs},
        )
        .values("product_id", "location_id")
        .annotate(units=Sum(F("quantity") - F("cancelled")))
    )
    return {
        (r["product_id"], r["location_id"]): r["units"] or 0
        for r in rows
        if (r["product_id"], r["location_id"]) in wanted
    }


def platform_available(pairs: Iterable[Pair], *, now: datetime) -> dict[Pair, int]:
    """The platform's availability per pair for Shopify (0 while online selling is paused)."""
    pairs = list(pairs)
    if not selling_enabled():
        return dict.fromkeys(pairs, 0)
    return {pair: a.available for pair, a in availability_by_pair(pairs, now=now).items()}


# --- Pushing -------------------------------------------------------------------------------------


@dataclass
class PushReport:
    pairs: int = 0
    pushed: int = 0
    unchanged: int = 0
    calls: int = 0
    stale: int = 0
    reads: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            k: getattr(self, k) for k in ("pairs", "pushed", "unchanged", "calls", "stale", "reads", "failed")
        }


@dataclass
class _Pair:
    level: ShopifyStockLevel
    item: str  # inventory item gid
    shopify_location: str  # location gid
    cause: str
    target: int = 0
    unseen: int = 0  # U after the orders' step
    orders: int = 0  # T now


def _data(answer: Any) -> dict[str, Any]:
    data = getattr(answer, "data", None)
    if data is None and isinstance(answer, dict):
        data = answer.get("data")
    return data or {}


def stock_push(*, client: Client | None = None, now: datetime | None = None, limit: int = 5000) -> PushReport:
    """Push the dirty pairs to Shopify (at most ``limit`` of them), in batches of :data:`BATCH`."""
    now = now or timezone.now()
    report = PushReport()
    dirty = list(StockDirty.objects.order_by("marked_at", "pk")[:limit])
    if not dirty:
        return report
    if client is None:
        from integration.shopify.client import shopify_client

        client = shopify_client()
    locations = {s.location_id: s for s in ShopifyLocation.objects.all()}
    products = {
        s.product_id: s
        for s in ShopifyProduct.objects.filter(
            product_id__in={d.product_id for d in dirty}, state=ShopifyProduct.State.PUSHED
        ).exclude(inventory_item_id="")
    }
    # Pairs that Shopify does not carry (product not published, location not mapped): nothing to push.
    carried = [d for d in dirty if d.location_code in locations and d.product_id in products]
    dropped = [d for d in dirty if d not in carried]
    _clear(dropped)
    report.pairs = len(carried)
    for start in range(0, len(carried), BATCH):
        chunk = carried[start : start + BATCH]
        _push_chunk(client, chunk, locations, products, report, now)
    return report


def _claim(
    chunk: list[StockDirty], locations: dict[int, ShopifyLocation], now: datetime
) -> tuple[str, list[ShopifyStockLevel]]:
    """Lease the chunk's levels (created when new); a pair another pusher holds is left to it."""
    by_code = {code: loc.pk for code, loc in locations.items()}
    ShopifyStockLevel.objects.bulk_create(
        [ShopifyStockLevel(product_id=d.product_id, location_id=by_code[d.location_code]) for d in chunk],
        ignore_conflicts=True,
    )
    token = uuid.uuid4().hex
    wanted = {(d.product_id, by_code[d.location_code]) for d in chunk}
    ids = [
        pk
        for pk, product_id, location_id in ShopifyStockLevel.objects.filter(
            product_id__in={p for p, _ in wanted}, location_id__in={loc for _, loc in wanted}
        ).values_list("pk", "product_id", "location_id")
        if (product_id, location_id) in wanted
    ]
    ShopifyStockLevel.objects.filter(_free(now), pk__in=ids).update(leased_until=now + _lease(), lease=token)
    return token, list(ShopifyStockLevel.objects.filter(lease=token).select_related("location"))


def _lease() -> timedelta:
    return timedelta(seconds=int(settings.SHOPIFY_STOCK_LEASE_SECONDS))


def _free(now: datetime) -> Q:
    return Q(leased_until__isnull=True) | Q(leased_until__lt=now)


def _resume(client: Client, levels: list[ShopifyStockLevel], token: str, report: PushReport, now: datetime) -> set[int]:
    """Sets a dead push sent without recording their answer: each sent again, the same variables
    under the same key (Shopify answers what it did the first time, applying nothing twice), and
    its answer recorded on its levels. Returns the levels whose set could not be settled now (one
    of its levels another pusher holds, or Shopify unreachable): left dirty, for the next push."""
    unsettled: set[int] = set()
    for sent in StockSet.objects.filter(pk__in={lv.sending_id for lv in levels if lv.sending_id}):
        members = ShopifyStockLevel.objects.filter(sending=sent)
        members.filter(_free(now)).update(leased_until=now + _lease(), lease=token)  # the whole set is ours
        if members.exclude(lease=token).exists():
            unsettled |= {lv.pk for lv in levels if lv.sending_id == sent.pk}
            continue
        outcome, heard = _call(client, sent, report)
        if outcome == "ok":  # Shopify holds what the set said: that is K now
            quantities = {(q["inventoryItemId"], q["locationId"]): q["quantity"]
                          for q in sent.variables["input"]["quantities"]}  # fmt: skip
            for member in members.select_related("location"):
                key = (_item_of(member), member.location.shopify_location_id)
                ShopifyStockLevel.objects.filter(pk=member.pk).update(
                    shopify_available=quantities.get(key, member.shopify_available), sending=None
                )
        elif not heard:  # not heard again: the set stays, for the next push
            unsettled |= {lv.pk for lv in levels if lv.sending_id == sent.pk}
            continue
        # refused (stale, or another code): the set was never applied, K stands
        sent.delete()  # its levels' sending is cleared with it (SET_NULL)
    for lv in levels:
        lv.refresh_from_db(fields=["shopify_available", "sending"])
    return unsettled


def _item_of(level: ShopifyStockLevel) -> str:
    return str(
        ShopifyProduct.objects.filter(product_id=level.product_id).values_list("inventory_item_id", flat=True).first()
    )


def _push_chunk(
    client: Client,
    chunk: list[StockDirty],
    locations: dict[int, ShopifyLocation],
    products: dict[int, ShopifyProduct],
    report: PushReport,
    now: datetime,
) -> None:
    token, levels = _claim(chunk, locations, now)
    if not levels:
        return
    try:
        unsettled = _resume(client, levels, token, report, now) if any(lv.sending_id for lv in levels) else set()
    except BaseException:
        ShopifyStockLevel.objects.filter(lease=token).update(leased_until=None, lease="")
        raise
    levels = [lv for lv in levels if lv.pk not in unsettled]
    cause_of = {(d.product_id, d.location_code): d.cause for d in chunk}
    work = {
        (lv.product_id, lv.location.location_id): _Pair(
            level=lv,
            item=products[lv.product_id].inventory_item_id,
            shopify_location=lv.location.shopify_location_id,
            cause=cause_of.get((lv.product_id, lv.location.location_id), ""),
        )
        for lv in levels
    }
    done: set[Pair] = set()
    try:
        unknown = [pair for pair, w in work.items() if w.level.shopify_available is None]
        if unknown:  # never known: Shopify's figure first, and what its orders hold now
            unstocked = _read(client, {p: work[p] for p in unknown}, report, now, first=True)
            if unstocked:  # a location mapped since the product was published: stock it there first
                _activate(client, {p: work[p] for p in unstocked}, report)
        pending = dict(work)
        for attempt in range(STALE_RETRIES + 1):
            _compute(pending, now)
            to_send = {p: w for p, w in pending.items() if w.target != w.level.shopify_available}
            for pair, w in pending.items():
                if pair not in to_send:
                    _settle(w, now, pushed=False)
                    done.add(pair)
                    report.unchanged += 1
            if not to_send:
                break
            outcome, sent = _send(client, to_send, report, now)
            if outcome == "ok":
                for pair, w in to_send.items():
                    _settle(w, now, pushed=True)
                    done.add(pair)
                sent.delete()  # every level of it settled
                report.pushed += len(to_send)
                break
            if outcome != STALE or attempt == STALE_RETRIES:
                report.failed += len(to_send)
                for w in to_send.values():
                    w.level.last_error = outcome[:500]
                    w.level.save(update_fields=["last_error"])
                break
            report.stale += 1
            _read(client, to_send, report, now, first=False)
            pending = to_send
    finally:
        ShopifyStockLevel.objects.filter(lease=token).update(leased_until=None, lease="")
        _clear([d for d in chunk if (d.product_id, d.location_code) in done])


@dataclass(frozen=True)
class Target:
    """What a push would set now for a pair: the target, and the accounting behind it."""

    target: int
    unseen: int  # U once the Shopify orders that reached us since the last accounting are deducted
    orders: int  # T now


def stock_targets(levels: Mapping[Pair, ShopifyStockLevel], *, now: datetime) -> dict[Pair, Target]:
    """Per pair, what Shopify should hold now: ``max(0, A - max(U, 0))`` (see the module)."""
    available = platform_available(levels, now=now)
    orders = shopify_order_units(levels)
    out: dict[Pair, Target] = {}
    for pair, level in levels.items():
        held = orders.get(pair, 0)
        unseen = level.unseen_sales - (held - level.orders_units)
        out[pair] = Target(max(0, available.get(pair, 0) - max(unseen, 0)), unseen, held)
    return out


def _compute(pending: dict[Pair, _Pair], now: datetime) -> None:
    targets = stock_targets({pair: w.level for pair, w in pending.items()}, now=now)
    for pair, w in pending.items():
        w.target, w.unseen, w.orders = targets[pair].target, targets[pair].unseen, targets[pair].orders


def _settle(w: _Pair, now: datetime, *, pushed: bool) -> None:
    """Shopify holds the target (just set, or already): record it with the accounting."""
    lv = w.level
    lv.shopify_available = w.target
    lv.unseen_sales = max(w.unseen, 0)
    lv.orders_units = w.orders
    lv.last_error = ""
    lv.sending = None  # its set's answer is recorded, with what it set
    fields = ["shopify_available", "unseen_sales", "orders_units", "last_error", "sending"]
    if pushed:
        lv.last_pushed_at, lv.cause = now, w.cause[:200]
        fields += ["last_pushed_at", "cause"]
    lv.save(update_fields=fields)


def _batch_uri(to_send: dict[Pair, _Pair], now: datetime) -> str:
    causes = {w.cause for w in to_send.values() if w.cause}
    if len(causes) == 1:
        return causes.pop()
    return f"gid://platform/StockPush/{now.strftime('%Y%m%dT%H%M%S%z')}"


def _send(client: Client, to_send: dict[Pair, _Pair], report: PushReport, now: datetime) -> tuple[str, StockSet]:
    """One ``inventorySetQuantities`` call: ("ok" | the stale code | the error met, the set sent).

    The set is written (:class:`StockSet`, on its levels) before it is sent: a worker that dies
    before recording the answer leaves it to the next push to send again (:func:`_resume`). It is
    removed once answered, except when "ok" (then each level's settle clears it, with its new K:
    a worker dying among the settles leaves the rest to be resumed) or when the answer was never
    heard (Shopify unreachable: it may have applied it, so the same set is sent again later).
    """
    variables = {
        "input": {
            "name": "available",
            "reason": "correction",
            "referenceDocumentUri": _batch_uri(to_send, now),
            "quantities": [
                {
                    "inventoryItemId": w.item,
                    "locationId": w.shopify_location,
                    "quantity": w.target,
                    "changeFromQuantity": w.level.shopify_available,
                }
                for w in to_send.values()
            ],
        }
    }
    sent = StockSet.objects.create(key=f"stock-{uuid.uuid4().hex}", variables=variables, sent_at=now)
    ShopifyStockLevel.objects.filter(pk__in=[w.level.pk for w in to_send.values()]).update(sending=sent)
    outcome, heard = _call(client, sent, report)
    if heard and outcome != "ok":  # refused whole: nothing of it applied, nothing to send again
        sent.delete()
    return outcome, sent


def _call(client: Client, sent: StockSet, report: PushReport) -> tuple[str, bool]:
    """Send a set: ("ok" | the stale code | Shopify's other refusal | the error met, whether Shopify's
    answer was heard)."""
    report.calls += 1
    try:
        answer = client.execute("inventory_set_quantities", sent.variables, idempotency_key=sent.key)
    except Exception as exc:  # ShopifyUnavailable, a query error: the pairs stay dirty for the sweep
        logger.warning("Shopify stock push failed: %s", exc)
        report.errors.append(str(exc))
        return f"{type(exc).__name__}: {exc}", False
    errors = (_data(answer).get("inventorySetQuantities") or {}).get("userErrors") or []
    if not errors:
        return "ok", True
    if any(e.get("code") == STALE for e in errors):
        return STALE, True
    message = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)
    report.errors.append(message)
    return message, True


def _activate(client: Client, pairs: dict[Pair, _Pair], report: PushReport) -> None:
    """``inventoryActivate`` of each item at its location (Shopify stocks an item at a location it
    did not know it at with a level of 0, which the read already took as ``K``). One call per pair,
    once in the life of a pair: a pickup store mapped after the catalogue was published. A refusal
    is logged; the set that follows then names the pair (ITEM_NOT_STOCKED_AT_LOCATION) and it stays dirty."""
    for w in pairs.values():
        report.calls += 1
        try:
            answer = client.execute(  # the key is the pair's: activating it again replays the first
                "inventory_activate",
                {"inventoryItemId": w.item, "locationId": w.shopify_location},
                idempotency_key=f"activate-{w.item.rsplit('/', 1)[-1]}-{w.shopify_location.rsplit('/', 1)[-1]}",
            )
        except Exception as exc:
            logger.warning("Shopify inventoryActivate of %s at %s failed: %s", w.item, w.shopify_location, exc)
            report.errors.append(str(exc))
            continue
        errors = (_data(answer).get("inventoryActivate") or {}).get("userErrors") or []
        if errors:
            message = "; ".join(str(e.get("message")) for e in errors)
            logger.warning("Shopify refused to stock %s at %s: %s", w.item, w.shopify_location, message)
            report.errors.append(message)


def _read(
    client: Client, pairs: dict[Pair, _Pair], report: PushReport, now: datetime, *, first: bool
) -> set[Pair]:
    """Shopify's available for these pairs; its drops (not ours) counted as unseen sales. Returns
    the pairs whose item Shopify does not stock at the location (no level: read as 0)."""
    report.reads += 1
    figures = shopify_levels(client, {w.item for w in pairs.values()})
    unstocked = {pair for pair, w in pairs.items() if (w.item, w.shopify_location) not in figures}
    orders = shopify_order_units(pairs) if first else {}
    for pair, w in pairs.items():
        figure = figures.get((w.item, w.shopify_location), 0)
        lv = w.level
        if first:  # the first figure: what Shopify holds now stands, its orders as they are
            lv.unseen_sales, lv.orders_units = 0, orders.get(pair, 0)
        else:
            drop = (lv.shopify_available or 0) - figure
            lv.unseen_sales = max(0, lv.unseen_sales - (w.orders - lv.orders_units) + drop)
            lv.orders_units = w.orders
        lv.shopify_available, lv.last_read_at = figure, now
        lv.save(update_fields=["shopify_available", "unseen_sales", "orders_units", "last_read_at"])
    return unstocked


def shopify_levels(client: Client, items: Iterable[str]) -> dict[tuple[str, str], int]:
    """Shopify's ``available`` per (inventory item gid, location gid), read in pages of 250 items."""
    items = sorted(set(items))
    out: dict[tuple[str, str], int] = {}
    for start in range(0, len(items), BATCH):
        answer = client.execute("inventory_levels", {"ids": items[start : start + BATCH]})
        data = _data(answer)
        nodes = data.get("nodes")
        if nodes is None:
            nodes = (data.get("inventoryItems") or {}).get("nodes") or []
        for node in nodes:
            if not node:
                continue
            levels = node.get("inventoryLevels") or {}
            for level in levels.get("nodes") or [e.get("node") for e in levels.get("edges") or []]:
                location = (level.get("location") or {}).get("id")
                for q in level.get("quantities") or []:
                    if q.get("name") == "available" and location:
                        out[(node["id"], location)] = int(q.get("quantity") or 0)
    return out


def _clear(rows: Iterable[StockDirty]) -> None:
    """Delete these dirty rows unless marked again since they were read (each mark has a new token)."""
    tokens = [d.token for d in rows]
    for start in range(0, len(tokens), 500):
        StockDirty.objects.filter(token__in=tokens[start : start + 500]).delete()


def stock_mark_all(*, cause: str, now: datetime | None = None) -> int:
    """Every published product at every Shopify location is to be pushed (a resync, a pause or resume)."""
    codes = list(ShopifyLocation.objects.values_list("location_id", flat=True))  # once, not per product
    pairs = [
        (pid, code)
        for pid in ShopifyProduct.objects.filter(state=ShopifyProduct.State.PUSHED).values_list(
            "product_id", flat=True
        )
        for code in codes
    ]
    return stock_mark_dirty(pairs, cause, now=now)


def stock_levels_reread(pairs: Sequence[Pair], *, cause: str, now: datetime | None = None) -> int:
    """Staff say no order explains Shopify's figure for these pairs (an edit in Shopify's admin, a
    lost count): forget what we knew of it (``K``, ``U``), so that the next push reads Shopify's
    figure afresh and sets the platform's. Returns the pairs marked for that push."""
    for product_id, code in pairs:
        ShopifyStockLevel.objects.filter(product_id=product_id, location__location_id=code).update(
            shopify_available=None, unseen_sales=0, last_error=""
        )
    return stock_mark_dirty(list(pairs), cause, now=now)
