"""Shopify orders the one pool could not cover: flagged until staff decide, and the two decisions.

A Shopify order is paid in Shopify before it reaches us; when its units are no longer there (the
headless store, or another Shopify order, took the last ones first) it is kept without units and
without ORDIMP, and needs attention (``orders.attention.Reason.SHOPIFY_OVERSOLD``, whose condition
:func:`order_is_oversold` is registered by ``shopify_channel.apps``) until staff either:

- **cancel it in Shopify** (:func:`oversold_cancel_in_shopify`): the order is cancelled here
  (``orders.cancellation.order_cancel``: it had not left, so at once) and an ``order_cancel`` call
  to Shopify is queued in the same transaction (reason INVENTORY, restocked, refunded to the
  original payment, the customer notified);
- **send it anyway** (:func:`oversold_send_anyway`): its units are forced in flight whatever is
  available and its ORDIMP queued (``orders.services.order_send_anyway``): the AS400 decides what
  it can ship.

Each is recorded on the link (who, when) and in the order's history with the staff member's note.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext, gettext_noop

from integration.core.actors import actor_name
from integration.core.admin_formats import paris
from integration.core.errors import DomainError
from integration.core.stored_texts import StoredText
from integration.shopify.calls import CallRefused, call_kind_register, shopify_call_queue
from integration.shopify.models import ShopifyCall
from orders.cancellation import STAFF_PREFIX, order_cancel
from orders.errors import OrderError
from orders.locks import orders_locked
from orders.models import Order, OrderEvent
from orders.services import order_send_anyway
from shopify_channel.models import ShopifyOrder

logger = logging.getLogger(__name__)

# The order's history lines, stored in English, shown in the reader's language (integration.core.stored_texts).
SENT_ANYWAY = StoredText(gettext_noop("oversold: sent anyway by {who}: {note}"))
CANCELLED_IN_SHOPIFY = StoredText(gettext_noop("oversold: cancelled in Shopify by {who}: {note}"))

#: The ShopifyCall kind that cancels an order in Shopify.
ORDER_CANCEL = "order_cancel"
#: The reason code our cancellation carries (ORDANN's OARSN, if it ever went): out of stock.
OUT_OF_STOCK = "RUPT"
NOTE_MAX = 150


class OversoldError(DomainError):
    """A staff decision refused (the order is not, or no longer, oversold and open; no note)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="oversold_refused")


def order_is_oversold(now: datetime) -> Exists:
    """The attention condition: the order is a Shopify order left oversold, undecided and not cancelled."""
    return Exists(
        ShopifyOrder.objects.filter(order=OuterRef("pk"), oversold=True, oversold_resolution="").exclude(
            order__status=Order.Status.CANCELLED
        )
    )


def _open(link: ShopifyOrder) -> ShopifyOrder:
    """The link locked (its order first, as every order service locks), if it still awaits a decision."""
    orders_locked().get(pk=link.order_id)
    locked = ShopifyOrder.objects.select_for_update().select_related("order").get(pk=link.pk)
    if not locked.oversold:
        raise OversoldError(gettext("{order} was not oversold: nothing to decide").format(order=locked.name))
    if locked.oversold_resolution:
        raise OversoldError(
            gettext("{order} was decided already: {decision} by {who} on {at}").format(
                order=locked.name, decision=locked.get_oversold_resolution_display(),
                who=locked.resolved_by, at=paris(locked.resolved_at),
            )
        )  # fmt: skip
    if locked.order.status == Order.Status.CANCELLED:
        raise OversoldError(gettext("{order} is cancelled already").format(order=locked.name))
    return locked


def _clean(note: str) -> str:
    note = " ".join(note.split())
    if not note:
        raise OversoldError(gettext("a note is required: say why"))
    return note[:NOTE_MAX]


def _decided(link: ShopifyOrder, resolution: str, who: str, now: datetime) -> None:
    link.oversold_resolution = resolution
    link.resolved_at, link.resolved_by, link.updated_at = now, who, now
    link.save(update_fields=["oversold_resolution", "resolved_at", "resolved_by", "updated_at"])


def oversold_cancel_in_shopify(
    *, link: ShopifyOrder, user: object | None, note: str, now: datetime
) -> ShopifyCall:
    """Cancel an oversold order here and in Shopify (restocked, refunded); returns the queued call."""
    who = actor_name(user)
    note = _clean(note)
    try:
        with transaction.atomic():
            locked = _open(link)
            order_cancel(
                order_number=locked.order.order_number, client=locked.order.client, reason=OUT_OF_STOCK,
                requested_by=f"{STAFF_PREFIX}{who}"[:64], now=now,
            )  # fmt: skip
            call = shopify_call_queue(
                kind=ORDER_CANCEL,
                subject=locked.order.order_number,
                payload={
                    "orderId": locked.admin_graphql_api_id,
                    "reason": "INVENTORY",
                    "restock": True,
                    "refundMethod": {"originalPaymentMethodsRefund": True},
                    "notifyCustomer": True,
                    "staffNote": note,
                },
                now=now,
            )
            _decided(locked, ShopifyOrder.Resolution.CANCELLED, who, now)
            _history(locked.order, CANCELLED_IN_SHOPIFY.format(who=who, note=note), now)
    except OrderError as exc:  # the order service's refusal is the storefront API's, in English
        raise OversoldError(gettext("the order refused it: {why}").format(why=exc)) from exc
    logger.info("Shopify order %s: oversold, cancelled in Shopify by %s", locked.name, who)
    return call


def oversold_send_anyway(
    *, link: ShopifyOrder, user: object | None, note: str, now: datetime
) -> ShopifyOrder:
    """Send an oversold order to the AS400 all the same: its units forced in flight, its ORDIMP queued."""
    who = actor_name(user)
    note = _clean(note)
    try:
        with transaction.atomic():
            locked = _open(link)
            order_send_anyway(order=locked.order, cause=SENT_ANYWAY.format(who=who, note=note), now=now)
            _decided(locked, ShopifyOrder.Resolution.SENT_ANYWAY, who, now)
    except OrderError as exc:  # the order service's refusal is the storefront API's, in English
        raise OversoldError(gettext("the order refused it: {why}").format(why=exc)) from exc
    logger.info("Shopify order %s: oversold, sent anyway by %s", locked.name, who)
    return locked


def _history(order: Order, cause: str, now: datetime) -> None:
    order.refresh_from_db(fields=["status"])
    OrderEvent.objects.create(
        order=order, status_from=order.status, status_to=order.status, cause=cause[:200], at=now
    )


def _perform_order_cancel(client: Any, call: ShopifyCall) -> dict[str, Any]:
    """Send ``orderCancel``; Shopify's user errors refuse the call (dead, alerted), not retried."""
    answer = client.execute("order_cancel", dict(call.payload), idempotency_key=call.idempotency_key)
    result = (answer.data or {}).get("orderCancel") or {}
    errors = result.get("orderCancelUserErrors") or []
    if errors:
        raise CallRefused(
            "; ".join(f"{e.get('code') or ''} {e.get('message') or ''}".strip() for e in errors)
        )
    return {"job": result.get("job")}


def register() -> None:
    call_kind_register(ORDER_CANCEL, _perform_order_cancel)
