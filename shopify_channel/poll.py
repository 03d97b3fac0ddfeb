"""What webhooks miss: the poll of Shopify's orders, and the webhook subscriptions checked at start.

**The poll** (:func:`shopify_orders_poll`, every 5 minutes by the schedule "Shopify
orders poll", and ``manage.py shopify_poll``). Shopify says deliveries can be up to a day late, or
never come, and tells apps to reconcile: the poll reads ``orders(query: "updated_at:>'…'", sortKey:
UPDATED_AT)`` since its cursor (:class:`~shopify_channel.models.PollCursor`, less
``SHOPIFY_POLL_OVERLAP_SECONDS`` so that an order updated in the same second as the cursor is not
skipped), reads each order (the ``order`` document), writes it in the shape of Shopify's order
webhooks (:func:`order_payload`) and applies it through ``shopify_order_apply`` — the same path as
``orders/create`` and ``orders/updated``: an order the webhooks never brought is created once, an
order they brought already is a no-op (the same ``updated_at``, or an older one, is not applied
again), and a cancelled one goes through ``shopify_order_cancelled`` like ``orders/cancelled``.
Its refunds (the ``order`` document reads them) are then applied as ``refunds/create`` would
(:func:`refund_payloads`, ``shopify_refund_apply``): each once, a refund seen before by its webhook
or an earlier poll changes nothing, so a lost refund webhook still cancels or returns its units.
Orders come in Shopify's ``updatedAt`` order and the cursor moves to the last one applied before
the first that failed: a failing order is read again by the next poll (and alerted), never skipped.

**The subscriptions** (:func:`shopify_subscriptions_ensure`, ``manage.py shopify_subscriptions_ensure``
run by ``bin/run`` and the deploy, and the task of the same name every hour): Shopify deletes a
subscription whose deliveries keep failing. Every topic the connector takes (a handler registered
with ``webhook_topic_register``) must have a subscription pointing at ``SHOPIFY_WEBHOOK_URL``; the
missing ones are created and those of our topics pointing elsewhere (an old URL) are deleted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_noop

from integration.alerts import alert_raise
from integration.core.stored_texts import StoredText
from integration.models import Alert
from integration.shopify.client import ShopifyClient, ShopifyQueryError, answer_data, shopify_client
from integration.shopify.webhooks import webhook_topics
from shopify_channel.models import PollCursor, ShopifyOrder

logger = logging.getLogger(__name__)

# What its alerts say, stored in English and shown in the reader's language (integration.core.stored_texts);
# Shopify's own words inside are shown as written.
POLL_FAILED = StoredText(gettext_noop(
    "Shopify orders poll: {count} order(s) not applied (read again at the next poll): {failed}"
))
SUBSCRIPTIONS_MISSING = StoredText(gettext_noop("Shopify webhook subscriptions not all in place: {errors}"))

CURSOR = "orders"
PAGE = 50
#: When the poll has never run: how far back its first run looks.
FIRST_LOOK_BACK = timedelta(days=1)


# --- Shopify's order, in the shape of its order webhooks -------------------------------------------------


def _id(gid: Any) -> int | None:
    """gid://shopify/Order/123 → 123."""
    if not isinstance(gid, str) or "/" not in gid:
        return None
    tail = gid.rsplit("/", 1)[1]
    return int(tail) if tail.isdigit() else None


def _money(block: Any) -> str:
    amount = ((block or {}).get("shopMoney") or {}).get("amount")
    return str(Decimal(str(amount))) if amount is not None else "0.00"


def _address(block: Any) -> dict[str, Any] | None:
    if not isinstance(block, dict):
        return None
    return {
        "first_name": block.get("firstName"), "last_name": block.get("lastName"), "name": block.get("name"),
        "address1": block.get("address1"), "address2": block.get("address2"), "city": block.get("city"),
        "zip": block.get("zip"), "country_code": block.get("countryCodeV2"), "phone": block.get("phone"),
    }  # fmt: skip


def order_payload(node: dict[str, Any]) -> dict[str, Any]:
    """An ``order`` answer as the REST-shaped body of Shopify's order webhooks (the keys
    ``shopify_order_apply`` reads): ids as integers, money as decimal strings, statuses in lower case;
    a pickup order's ``location_id`` is its pickup fulfillment order's location."""
    pickup = next(
        (fo for fo in (node.get("fulfillmentOrders") or {}).get("nodes") or []
         if ((fo.get("deliveryMethod") or {}).get("methodType")) == "PICK_UP"),
        None,
    )  # fmt: skip
    location = ((pickup or {}).get("assignedLocation") or {}).get("location") or {}
    customer = node.get("customer") or None
    return {
        "id": int(node.get("legacyResourceId") or _id(node["id"]) or 0),
        "admin_graphql_api_id": node["id"],
        "name": node["name"],
        "email": node.get("email"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "processed_at": node.get("processedAt"),
        "cancelled_at": node.get("cancelledAt"),
        "cancel_reason": (node.get("cancelReason") or "").lower() or None,
        "currency": node.get("currencyCode") or "EUR",
        "financial_status": (node.get("displayFinancialStatus") or "").lower() or None,
        "fulfillment_status": (node.get("displayFulfillmentStatus") or "").lower() or None,
        "current_total_price": _money(node.get("currentTotalPriceSet")),
        "total_discounts": _money(node.get("totalDiscountsSet")),
        "location_id": _id(location.get("id")) if pickup else None,
        "customer": {
            "id": _id(customer.get("id")),
            "email": customer.get("email"),
            "first_name": customer.get("firstName"),
            "last_name": customer.get("lastName"),
        }
        if customer
        else None,
        "shipping_address": _address(node.get("shippingAddress")),
        "shipping_lines": [
            {
                "title": line.get("title"),
                "code": line.get("code"),
                "price": _money(line.get("originalPriceSet")),
                "discounted_price": _money(line.get("discountedPriceSet")),
            }
            for line in (node.get("shippingLines") or {}).get("nodes") or []
        ],
        "line_items": [
            {
                "id": _id(item["id"]),
                "admin_graphql_api_id": item["id"],
                "variant_id": _id((item.get("variant") or {}).get("id")),
                "sku": item.get("sku"),
                "name": item.get("name"),
                "quantity": item.get("quantity"),
                "current_quantity": item.get("currentQuantity"),
                "price": _money(item.get("originalUnitPriceSet")),
                "total_discount": _money(item.get("totalDiscountSet")),
                "discount_allocations": [
                    {"amount": _money(a.get("allocatedAmountSet"))}
                    for a in item.get("discountAllocations") or []
                ],
            }
            for item in (node.get("lineItems") or {}).get("nodes") or []
        ],
    }


def refund_payloads(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The refunds of an ``order`` answer as the REST-shaped bodies of ``refunds/create`` (the keys
    ``shopify_refund_apply`` reads), oldest first."""
    order_id = int(node.get("legacyResourceId") or _id(node["id"]) or 0)
    out = []
    for refund in node.get("refunds") or []:
        out.append(
            {
                "id": int(refund.get("legacyResourceId") or _id(refund["id"]) or 0),
                "admin_graphql_api_id": refund["id"],
                "order_id": order_id,
                "created_at": refund.get("createdAt"),
                "note": refund.get("note"),
                "refund_line_items": [
                    {
                        "line_item_id": _id((item.get("lineItem") or {}).get("id")),
                        "quantity": item.get("quantity"),
                        "restock_type": (item.get("restockType") or "").lower(),
                        "location_id": _id((item.get("location") or {}).get("id")),
                    }
                    for item in (refund.get("refundLineItems") or {}).get("nodes") or []
                ],
            }
        )
    return sorted(out, key=lambda r: (r["created_at"] or "", r["id"]))


# --- The poll ----------------------------------------------------------------------------------------------


@dataclass
class PollReport:
    seen: int = 0
    applied: int = 0  # created or changed here
    unchanged: int = 0
    failed: list[str] = field(default_factory=list)
    cursor: datetime | None = None

    def as_dict(self) -> dict[str, object]:
        return {"seen": self.seen, "applied": self.applied, "unchanged": self.unchanged,
                "failed": list(self.failed), "cursor": self.cursor.isoformat() if self.cursor else None}  # fmt: skip


def _query(since: datetime) -> str:
    return f"updated_at:>'{since.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}'"


def _apply(payload: dict[str, Any], now: datetime) -> bool:
    """Apply one order as its webhooks would (orders/updated, or orders/cancelled when Shopify
    cancelled it and we have not heard); True when it was new or changed here."""
    from shopify_channel.cancellations import shopify_order_cancelled
    from shopify_channel.orders import shopify_order_apply

    known = (
        ShopifyOrder.objects.filter(shopify_id=payload["id"])
        .values_list("shopify_updated_at", "cancelled_at")
        .first()
    )
    with transaction.atomic():
        if payload.get("cancelled_at") and (known is None or known[1] is None):
            link = shopify_order_cancelled(payload, now=now)
        else:
            link = shopify_order_apply(payload, now=now)
    after = ShopifyOrder.objects.filter(pk=link.pk).values_list("shopify_updated_at", "cancelled_at").first()
    return known != after


def shopify_order_fetch_apply(client: ShopifyClient, gid: str, *, now: datetime) -> bool:
    """Read one order from Shopify (``order``) and apply it as its webhooks would, its refunds too
    (``refunds/create``, each applied once: a refund seen already is a no-op); True when the order
    or one of its refunds was new or changed here."""
    from shopify_channel.cancellations import shopify_refund_apply

    full = answer_data(client.execute("order", {"id": gid}))["order"]
    if full is None:
        raise ShopifyQueryError(f"Shopify no longer has the order {gid}")
    changed = _apply(order_payload(full), now)
    for refund in refund_payloads(full):
        changed = shopify_refund_apply(refund, now=now).applied or changed
    return changed


def shopify_orders_poll(
    *, now: datetime, client: ShopifyClient | None = None, limit: int = 1000
) -> PollReport:
    """Apply the orders Shopify updated since the cursor (see the module's docstring)."""
    report = PollReport()
    if not settings.SHOPIFY_SHOP:
        return report
    client = client or shopify_client()
    cursor, _ = PollCursor.objects.get_or_create(name=CURSOR)
    since = (
        cursor.updated_at - timedelta(seconds=int(settings.SHOPIFY_POLL_OVERLAP_SECONDS))
        if cursor.updated_at
        else now - FIRST_LOOK_BACK
    )
    moved_to, blocked, after = cursor.updated_at, False, None
    while report.seen < limit:
        page = client.execute("orders_updated_since", {"first": PAGE, "after": after, "query": _query(since)})
        orders = answer_data(page)["orders"]
        for node in orders["nodes"]:
            report.seen += 1
            updated = parse_datetime(node["updatedAt"])
            try:
                if shopify_order_fetch_apply(client, node["id"], now=now):
                    report.applied += 1
                else:
                    report.unchanged += 1
            except Exception as exc:  # a bad order must not stop the others; it is read again next time
                logger.warning("Shopify poll: order %s not applied", node.get("name"), exc_info=True)
                report.failed.append(f"{node.get('name')} ({node['id']}): {exc}"[:300])
                blocked = True
                continue
            if not blocked and updated is not None and (moved_to is None or updated > moved_to):
                moved_to = updated
        if not orders["pageInfo"]["hasNextPage"]:
            break
        after = orders["pageInfo"]["endCursor"]
    cursor.updated_at, cursor.last_run_at = moved_to, now
    cursor.last_seen, cursor.last_applied = report.seen, report.applied
    cursor.last_error = "\n".join(report.failed)[:2000]
    cursor.save()
    report.cursor = moved_to
    if report.failed:
        alert_raise(
            kind="shopify_poll_failed", subject=CURSOR, severity=Alert.Severity.WARNING,
            message=POLL_FAILED.format(count=len(report.failed), failed="; ".join(report.failed[:5])),
            now=now,
        )  # fmt: skip
    if report.applied or report.failed:
        logger.info("Shopify orders poll: %s", report.as_dict())
    return report


# --- The subscriptions -----------------------------------------------------------------------------------


@dataclass
class SubscriptionsReport:
    kept: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"kept": self.kept, "created": self.created, "deleted": self.deleted, "errors": self.errors,
                "skipped": self.skipped}  # fmt: skip


def topic_enum(topic: str) -> str:
    """orders/create → ORDERS_CREATE (Shopify's WebhookSubscriptionTopic)."""
    return topic.replace("/", "_").upper()


def shopify_subscriptions_ensure(
    *, now: datetime, client: ShopifyClient | None = None
) -> SubscriptionsReport:
    """Every topic the connector takes subscribed at SHOPIFY_WEBHOOK_URL (see the module's docstring)."""
    report = SubscriptionsReport()
    url = settings.SHOPIFY_WEBHOOK_URL
    if not settings.SHOPIFY_SHOP or not url:
        report.skipped = "no SHOPIFY_SHOP" if not settings.SHOPIFY_SHOP else "no SHOPIFY_WEBHOOK_URL"
        return report
    client = client or shopify_client()
    wanted = {topic_enum(topic) for topic in webhook_topics()}
    existing: list[dict[str, Any]] = []
    after = None
    while True:
        page = answer_data(client.execute("webhook_subscriptions", {"first": 100, "after": after}))[
            "webhookSubscriptions"
        ]
        existing.extend(page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    for sub in existing:
        if sub["topic"] not in wanted:
            continue
        if sub.get("uri") == url:
            report.kept.append(sub["topic"])
            continue
        answer = client.execute("webhook_subscription_delete", {"id": sub["id"]})
        errors = ((answer.data or {}).get("webhookSubscriptionDelete") or {}).get("userErrors") or []
        if errors:
            report.errors.append(f"{sub['topic']} {sub.get('uri')}: {errors[0].get('message')}")
        else:
            report.deleted.append(f"{sub['topic']} {sub.get('uri')}")
    for topic in sorted(wanted - set(report.kept)):
        answer = client.execute(
            "webhook_subscription_create",
            {"topic": topic, "webhookSubscription": {"uri": url, "format": "JSON"}},
        )
        errors = ((answer.data or {}).get("webhookSubscriptionCreate") or {}).get("userErrors") or []
        if errors:
            report.errors.append(f"{topic}: {errors[0].get('message')}")
        else:
            report.created.append(topic)
    if report.errors:
        alert_raise(
            kind="shopify_subscriptions", subject=url[:100], severity=Alert.Severity.CRITICAL,
            message=SUBSCRIPTIONS_MISSING.format(errors="; ".join(report.errors)), now=now,
        )  # fmt: skip
    if report.created or report.deleted:
        logger.info("Shopify subscriptions: %s", report.as_dict())
    return report
