"""Back to Shopify: what the AS400 did to a Shopify order, told to Shopify through its Admin API.

Shopify is not told by our storefront webhooks: :func:`fulfilment_listeners_register` (from
``ShopifyChannelConfig.ready``) has :func:`storefront_event_heard` called by
``integration.storefront.events.event_emit`` for every event of the Shopify client's orders, inside
the transaction that makes the change. It queues one :class:`~integration.shopify.models.ShopifyCall`
per event that Shopify must hear about, so that the call exists if and only if the change does,
and is sent, retried with backoff, dead and alerted after ``SHOPIFY_CALL_MAX_ATTEMPTS``, and
retryable by staff like every call (``integration.shopify.calls``):

=========================  =============================  =========================================
event                      call kind                      sent to Shopify
=========================  =============================  =========================================
``order.shipped``          ``fulfillment_create``         ``fulfillmentCreate`` of the fulfillment
                                                          order(s) holding those lines, with the
                                                          tracking number (and company and URL
                                                          when the event has them)
``order.ready_in_store``   ``prepared_for_pickup``        ``fulfillmentOrderLineItemsPreparedFor
                                                          Pickup`` of the pickup fulfillment order
``order.cancelled`` (not   ``units_cancel``               the whole order cancelled: ``orderCancel``
by Shopify itself)                                        (restock, refund to the original payment);
                                                          some units only: ``refundCreate`` of those
                                                          line items with ``restockType: CANCEL``
``order.refused``          ``refused_cancel``             ``orderCancel`` — only when
                                                          ``SHOPIFY_CANCEL_REFUSED``; the order is
                                                          flagged for staff as refused either way
=========================  =============================  =========================================

**Which cancel.** ``orderCancel`` cancels every unit left of an order; Shopify has no "cancel these
units" mutation, and the documented way to take units off an unfulfilled order is a refund of those
line items with ``restockType: CANCEL`` (the units go back to available and leave the fulfillment
orders). So: when the event leaves the order cancelled here (its status ``cancelled``), the whole
order is cancelled in Shopify (``orderCancel``: one call, restocked, refunded, the customer told);
otherwise the event's lines are refunded with ``CANCEL``. A cancellation Shopify asked for (the
event's ``by`` is ``customer``: :func:`orders.cancellation.cancelled_by` of the requests
``shopify_channel.cancellations`` signs) is not sent back. A whole-order cancellation by staff of an
oversold order already has its own ``order_cancel`` call (``shopify_channel.oversold``): the
``units_cancel`` then finds it and does nothing.

**No echo.** Shopify tells every change by webhook, ours too: the ``orders/cancelled`` of an order we
cancelled finds it cancelled here already (a no-op), and the ``refunds/create`` of a refund we asked
for — units already cancelled here — must not cancel them a second time: its note begins with
:data:`OWN_REFUND` (:func:`refund_is_ours`, checked by ``shopify_refund_apply``) and the refund is
recorded as applied (``ShopifyRefund``) as soon as Shopify answers.

**Finding Shopify's ids.** The order's gid is on its :class:`~shopify_channel.models.ShopifyOrder`
(``admin_graphql_api_id``). Line items and their fulfillment orders are read from Shopify when the
call is performed (``fulfillment_orders``): a line of ours is matched to Shopify's line item by the
id the order's payload gave it (``ShopifyOrder.line_numbers``) and, failing that, by SKU; units are
taken from the open fulfillment order line items' ``remainingQuantity``, in Shopify's order.

**Never twice.** A call's idempotency key is derived from the event (``<kind>-<event id>``): an event
heard twice queues one call, and a call performed again (a worker stopped after Shopify took it)
replays Shopify's first answer (``@idempotent``). Reading the remaining quantities before each
attempt is the second guard: units Shopify no longer holds as fulfillable are not fulfilled again,
and a call finding none left is done without sending anything.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_noop

from integration.core.stored_texts import StoredText
from integration.models import StorefrontEvent
from integration.shopify.calls import CallRefused, call_kind_register, shopify_call_queue
from integration.shopify.client import ShopifyClient
from integration.shopify.models import ShopifyCall
from integration.storefront.events import event_listener_register
from orders.models import Order
from shopify_channel.models import ShopifyOrder, ShopifyRefund

logger = logging.getLogger(__name__)

Type = StorefrontEvent.Type

FULFIL = "fulfillment_create"
PICKUP_READY = "prepared_for_pickup"
UNITS_CANCEL = "units_cancel"
REFUSED_CANCEL = "refused_cancel"
#: The kind shopify_channel.oversold queues for a staff cancellation of an oversold order.
OVERSOLD_CANCEL = "order_cancel"

#: The event's "by" for a cancellation Shopify asked for (orders.cancellation.cancelled_by).
BY_SHOPIFY = "customer"
BY_STAFF = "staff"
#: How the refunds we ask for begin their note: their refunds/create is not applied again here.
OWN_REFUND = "[plateforme]"
#: Fulfillment orders that still hold units to fulfil, cancel or prepare.
OPEN_STATES = {"OPEN", "IN_PROGRESS", "SCHEDULED", "ON_HOLD", "INCOMPLETE"}

# What a call's result and refusal say to staff: stored in English (the call's result and
# last_error), shown in the reader's language (integration.core.stored_texts). The notes sent to
# Shopify itself (the cancellation's staff note, the refund's note) are Shopify's, in the shop's French.
NOT_A_SHOPIFY_ORDER = StoredText(gettext_noop("order {order} is not a known Shopify order (ShopifyOrder)"))
UNKNOWN_TO_SHOPIFY = StoredText(gettext_noop("Shopify does not know the order {gid}"))
UNITS_NOT_FOUND = StoredText(gettext_noop("line {line} ({sku}): {units} unit(s) not found"))
NOTHING_TO_SHIP = StoredText(gettext_noop("nothing to ship: Shopify no longer holds these units as to be fulfilled"))
NO_PICKUP_ORDER = StoredText(gettext_noop("no open fulfillment order holds these lines"))
CANCELLED_BY_CALL = StoredText(gettext_noop("cancelled in Shopify by call #{pk} ({kind})"))
NOTHING_LEFT = StoredText(gettext_noop("Shopify holds no unit left to cancel"))
NOTHING_TO_CANCEL = StoredText(gettext_noop("nothing to cancel: Shopify no longer holds these units"))


# --- Listening ------------------------------------------------------------------------------------


def fulfilment_listeners_register() -> None:
    """Hear the Shopify client's storefront events (called from ShopifyChannelConfig.ready)."""
    event_listener_register(settings.SHOPIFY_CLIENT_NAME, storefront_event_heard)
    call_kind_register(FULFIL, perform_fulfil)
    call_kind_register(PICKUP_READY, perform_pickup_ready)
    call_kind_register(UNITS_CANCEL, perform_units_cancel)
    call_kind_register(REFUSED_CANCEL, perform_refused_cancel)


def storefront_event_heard(event: StorefrontEvent, now: datetime) -> ShopifyCall | None:
    """Queue the call that tells Shopify about ``event`` (in its transaction); None when none is due."""
    data: dict[str, Any] = (event.payload or {}).get("data") or {}
    kind = _kind_of(event.type, data)
    if kind is None:
        return None
    key = f"{kind}-{event.event_id}"
    if ShopifyCall.objects.filter(idempotency_key=key).exists():
        return None  # this event was heard already
    link = ShopifyOrder.objects.filter(order__order_number=event.order_number).first()
    lines = [
        {"line_number": int(line["line_number"]), "sku": str(line["sku"]), "quantity": int(line["quantity"])}
        for line in data.get("lines") or []
        if int(line.get("quantity") or 0) > 0
    ]
    payload: dict[str, Any] = {
        "event_id": str(event.event_id),
        "order_number": event.order_number,
        "order_gid": _gid(link),
        "lines": lines,
    }
    if kind == FULFIL:
        payload["tracking"] = {k: data[k] for k in ("tracking", "company", "url") if data.get(k)}
    elif kind == UNITS_CANCEL:
        payload["by"] = data.get("by") or ""
        payload["whole"] = data.get("status") == Order.Status.CANCELLED
        payload["reason"] = data.get("reason") or ""
    call = shopify_call_queue(kind=kind, subject=event.order_number, payload=payload, now=now)
    ShopifyCall.objects.filter(pk=call.pk).update(idempotency_key=key)
    call.idempotency_key = key
    return call


def _kind_of(type: str, data: dict[str, Any]) -> str | None:
    if type == Type.ORDER_SHIPPED:
        return FULFIL
    if type == Type.ORDER_READY_IN_STORE:
        return PICKUP_READY
    if type == Type.ORDER_CANCELLED:
        return None if data.get("by") == BY_SHOPIFY else UNITS_CANCEL
    if type == Type.ORDER_REFUSED:
        return REFUSED_CANCEL if settings.SHOPIFY_CANCEL_REFUSED else None
    return None


def _gid(link: ShopifyOrder | None) -> str:
    if link is None:
        return ""
    return link.admin_graphql_api_id or f"gid://shopify/Order/{link.shopify_id}"


# --- Reading Shopify's fulfillment orders ---------------------------------------------------------------


@dataclass
class _Item:
    """A fulfillment order line item, as Shopify holds it now."""

    fulfillment_order: str
    method: str  # SHIPPING, PICK_UP...
    id: str
    line_item: str
    sku: str
    remaining: int
    location: str = ""  # the fulfillment order's assigned location (gid)


def _order_gid(call: ShopifyCall) -> str:
    gid = str(call.payload.get("order_gid") or "")
    if gid:
        return gid
    link = ShopifyOrder.objects.filter(order__order_number=call.subject).first()
    if link is None:
        raise CallRefused(NOT_A_SHOPIFY_ORDER.format(order=call.subject))
    return _gid(link)


def _items(client: ShopifyClient, gid: str) -> list[_Item]:
    order = (client.execute("fulfillment_orders", {"id": gid}).data or {}).get("order")
    if order is None:
        raise CallRefused(UNKNOWN_TO_SHOPIFY.format(gid=gid))
    items = []
    for fo in order["fulfillmentOrders"]["nodes"]:
        if fo["status"] not in OPEN_STATES:
            continue
        method = ((fo.get("deliveryMethod") or {}).get("methodType")) or ""
        location = (((fo.get("assignedLocation") or {}).get("location")) or {}).get("id") or ""
        for node in fo["lineItems"]["nodes"]:
            items.append(
                _Item(fo["id"], method, node["id"], (node.get("lineItem") or {}).get("id") or "",
                      node.get("sku") or "", int(node.get("remainingQuantity") or 0), location)
            )  # fmt: skip
    return items


def _line_item_ids(order_number: str) -> dict[int, str]:
    """Our line number → Shopify's line item gid, as the order's payload told them
    (``ShopifyOrder.line_numbers``: line item id → our line numbers; may be empty)."""
    link = ShopifyOrder.objects.filter(order__order_number=order_number).first()
    known: dict[str, Any] = (link.line_numbers if link is not None else None) or {}
    out: dict[int, str] = {}
    for item_id, numbers in known.items():
        for number in numbers if isinstance(numbers, list) else [numbers]:
            out[int(number)] = f"gid://shopify/LineItem/{item_id}"
    return out


def _take(
    items: list[_Item], lines: Iterable[dict[str, Any]], order_number: str, *, prefer: str = ""
) -> tuple[list[tuple[_Item, int]], list[str]]:
    """Allocate each line's units to open fulfillment order line items (its line item, else its SKU);
    returns (item, units) pairs and what could not be found (units Shopify holds no more)."""
    by_line = _line_item_ids(order_number)
    taken: list[tuple[_Item, int]] = []
    short: list[str] = []
    left = {id(item): item.remaining for item in items}
    for line in lines:
        wanted = int(line["quantity"])
        line_item = by_line.get(int(line["line_number"]))
        candidates = [i for i in items if (i.line_item == line_item if line_item else i.sku == line["sku"])]
        if line_item and not candidates:  # the ids were not what Shopify has: by SKU after all
            candidates = [i for i in items if i.sku == line["sku"]]
        candidates.sort(key=lambda i: i.method != prefer)  # stable: Shopify's order within each
        for item in candidates:
            units = min(wanted, left[id(item)])
            if units <= 0:
                continue
            taken.append((item, units))
            left[id(item)] -= units
            wanted -= units
            if not wanted:
                break
        if wanted:
            short.append(UNITS_NOT_FOUND.format(line=line["line_number"], sku=line["sku"], units=wanted))
    return taken, short


def _user_errors(errors: list[dict[str, Any]] | None) -> str:
    return "; ".join(
        f"{e.get('code') or ''} {'.'.join(e.get('field') or [])} {e.get('message') or ''}".strip()
        for e in errors or []
    )


def _by_fulfillment_order(taken: list[tuple[_Item, int]]) -> list[dict[str, Any]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for item, units in taken:
        grouped.setdefault(item.fulfillment_order, []).append({"id": item.id, "quantity": units})
    return [{"fulfillmentOrderId": fo, "fulfillmentOrderLineItems": lines} for fo, lines in grouped.items()]


# --- Performing ------------------------------------------------------------------------------------------


def perform_fulfil(client: ShopifyClient, call: ShopifyCall) -> dict[str, Any]:
    """``fulfillmentCreate`` of the shipped units still fulfillable, with the tracking: one per
    location, since Shopify takes in one fulfillment only fulfillment orders assigned to the same
    location (an order routed to several locations has a fulfillment order at each)."""
    gid = _order_gid(call)
    taken, short = _take(_items(client, gid), call.payload["lines"], call.subject, prefer="SHIPPING")
    if not taken:
        return {
            "skipped": NOTHING_TO_SHIP.format(),
            "short": short,
        }
    tracking = call.payload.get("tracking") or {}
    info = {k: v for k, v in (("number", tracking.get("tracking")), ("company", tracking.get("company")),
                              ("url", tracking.get("url"))) if v}  # fmt: skip
    by_location: dict[str, list[tuple[_Item, int]]] = {}
    for item, units in taken:
        by_location.setdefault(item.location, []).append((item, units))
    done = []
    for location, part in by_location.items():
        fulfillment: dict[str, Any] = {
            "lineItemsByFulfillmentOrder": _by_fulfillment_order(part),
            "notifyCustomer": True,
        }
        if info:
            fulfillment["trackingInfo"] = info
        key = call.idempotency_key  # one key per location, the same at every attempt
        if len(by_location) > 1:
            key = f"{key}@{location.rsplit('/', 1)[-1]}"
        answer = client.execute("fulfillment_create", {"fulfillment": fulfillment}, idempotency_key=key)
        result = (answer.data or {}).get("fulfillmentCreate") or {}
        errors = _user_errors(result.get("userErrors"))
        if errors:
            raise CallRefused(errors)
        done.append((result.get("fulfillment") or {}).get("id"))
    first = done[0] if len(done) == 1 else done
    return {"fulfillment": first, "units": sum(u for _, u in taken), "short": short}


def perform_pickup_ready(client: ShopifyClient, call: ShopifyCall) -> dict[str, Any]:
    """The pickup fulfillment order(s) holding those lines marked prepared for pickup."""
    gid = _order_gid(call)
    items = _items(client, gid)
    taken, short = _take(items, call.payload["lines"], call.subject, prefer="PICK_UP")
    orders = sorted({item.fulfillment_order for item, _ in taken})
    if not orders:
        return {"skipped": NO_PICKUP_ORDER.format(), "short": short}
    variables = {"input": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo} for fo in orders]}}
    answer = client.execute("prepared_for_pickup", variables, idempotency_key=call.idempotency_key)
    result = (answer.data or {}).get("fulfillmentOrderLineItemsPreparedForPickup") or {}
    errors = _user_errors(result.get("userErrors"))
    if errors:
        raise CallRefused(errors)
    return {"fulfillment_orders": orders, "short": short}


def _order_cancel(client: ShopifyClient, call: ShopifyCall, *, reason: str, note: str) -> dict[str, Any]:
    variables = {
        "orderId": _order_gid(call),
        "reason": reason,
        "restock": True,
        "refundMethod": {"originalPaymentMethodsRefund": True},
        "notifyCustomer": True,
        "staffNote": note[:255],
    }
    answer = client.execute("order_cancel", variables, idempotency_key=call.idempotency_key)
    result = (answer.data or {}).get("orderCancel") or {}
    errors = _user_errors(result.get("orderCancelUserErrors"))
    if errors:
        raise CallRefused(errors)
    return {"cancelled": variables["orderId"], "job": result.get("job")}


def perform_units_cancel(client: ShopifyClient, call: ShopifyCall) -> dict[str, Any]:
    """The whole order cancelled (``orderCancel``), or those units refunded with ``CANCEL`` restock."""
    payload = call.payload
    by = payload.get("by") or ""
    if payload.get("whole"):
        other = (
            ShopifyCall.objects.filter(kind=OVERSOLD_CANCEL, subject=call.subject)
            .exclude(state=ShopifyCall.State.CANCELLED)
            .first()
        )
        if other is not None:
            return {"skipped": CANCELLED_BY_CALL.format(pk=other.pk, kind=other.kind)}
    items = _items(client, _order_gid(call))
    if not any(item.remaining for item in items):
        return {"skipped": NOTHING_LEFT.format()}
    note = {
        "as400": "Annulée par l'AS400",
        "store": "Annulée en magasin",
        BY_STAFF: "Annulée par l'équipe",
    }.get(by, f"Annulée ({by})")
    if payload.get("whole"):
        return _order_cancel(client, call, reason="INVENTORY" if by == "as400" else "OTHER",
                             note=f"{note} (commande {call.subject})")  # fmt: skip
    taken, short = _take(items, payload["lines"], call.subject)
    if not taken:
        return {"skipped": NOTHING_TO_CANCEL.format(), "short": short}
    merged: dict[str, int] = {}
    for item, units in taken:
        merged[item.line_item] = merged.get(item.line_item, 0) + units
    variables = {
        "input": {
            "orderId": _order_gid(call),
            "note": f"{OWN_REFUND} {note} : {', '.join(str(line['sku']) for line in payload['lines'])}"[:255],
            "notify": True,
            "refundLineItems": [
                {"lineItemId": line_item, "quantity": units, "restockType": "CANCEL"}
                for line_item, units in merged.items()
            ],
        }
    }
    answer = client.execute("refund_create", variables, idempotency_key=call.idempotency_key)
    result = (answer.data or {}).get("refundCreate") or {}
    errors = _user_errors(result.get("userErrors"))
    if errors:
        raise CallRefused(errors)
    refund = result.get("refund") or {}
    _own_refund_record(call, refund)
    return {"refund": refund.get("id"), "units": sum(merged.values()), "short": short}


def refund_is_ours(payload: dict[str, Any]) -> bool:
    """A ``refunds/create`` of a refund this platform asked for (units the AS400 or a store cancelled,
    already cancelled here): its note starts with :data:`OWN_REFUND`."""
    note = payload.get("note")
    return isinstance(note, str) and note.startswith(OWN_REFUND)


def _own_refund_record(call: ShopifyCall, refund: dict[str, Any]) -> None:
    """Our refund kept as applied, so that its refunds/create (whenever it comes) changes nothing."""
    legacy = refund.get("legacyResourceId")
    link = ShopifyOrder.objects.filter(order__order_number=call.subject).first()
    if link is None or not str(legacy or "").isdigit():
        return
    ShopifyRefund.objects.get_or_create(
        shopify_id=int(str(legacy)),
        defaults={
            "shopify_order": link,
            "outcome": f"ours: call #{call.pk} ({call.payload.get('by')})"[:300],
        },
    )


def perform_refused_cancel(client: ShopifyClient, call: ShopifyCall) -> dict[str, Any]:
    """An order the AS400 refused, cancelled in Shopify (SHOPIFY_CANCEL_REFUSED)."""
    items = _items(client, _order_gid(call))
    if not any(item.remaining for item in items):
        return {"skipped": NOTHING_LEFT.format()}
    return _order_cancel(client, call, reason="OTHER", note=f"Refusée par l'AS400 (commande {call.subject})")
