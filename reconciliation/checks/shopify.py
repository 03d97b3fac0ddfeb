"""Shopify against us: what webhooks and pushes missed, found once a night.

Shopify says its webhooks can come a day late, or never, and tells apps to reconcile. These checks
read Shopify whole once per run (:mod:`shopify_channel.snapshot`: a bulk query of every product,
variant and inventory level, and one of the orders updated in the last
``SHOPIFY_RECONCILE_LOOK_BACK_HOURS``) and compare it with ours:

- **stock** — each published pair's ``available`` at Shopify against what a push would set now
  (``shopify_channel.stock.stock_targets``): more at Shopify is a risk of selling units that do not
  exist (high); less is sales lost (medium). Pairs with a push pending, leased, or pushed or read
  since the snapshot started are left out, and so is a shortfall that the Shopify orders we have
  not received yet explain (the orders check names those orders);
- **catalogue** — each product we believe pushed (no push pending) against its variant at Shopify:
  missing, or an AS400-owned field (SKU, barcode, price, status) that differs;
- **orders** — a Shopify order we do not have (high), cancelled there and not here (high), updated
  there since the last payload we applied (medium), with other quantities ordered (medium); and one
  of ours that Shopify no longer returns (low).

Timing alone never raises one: Shopify's changes in the ``SHOPIFY_RECONCILE_GRACE_SECONDS`` before
the snapshot are left to the webhooks and the poll. When Shopify is not configured the checks are
skipped; when it does not answer they are skipped with the reason (and alerted), and the AS400's
checks of the run go on. "Accept" does the catch-up: take the order from Shopify now, push the
platform's figure again, or push the product again.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integration.core.admin_formats import paris
from integration.core.errors import DomainError
from integration.shopify.client import ShopifyError, shopify_client
from inventory.labels import product_sku
from inventory.models import Product
from orders.models import OrderLine
from orders.selectors import line_sku
from reconciliation.checks.base import Check, CheckUnavailable, Finding, Night, check_register
from reconciliation.models import Discrepancy
from shopify_channel.catalogue import catalogue_plan, catalogue_push_kick
from shopify_channel.models import (
    ShopifyLocation,
    ShopifyOrder,
    ShopifyProduct,
    ShopifyStockLevel,
    StockDirty,
)
from shopify_channel.poll import shopify_order_fetch_apply
from shopify_channel.snapshot import ShopifyOrderRow, ShopifySnapshot, shopify_snapshot_take
from shopify_channel.stock import stock_levels_reread, stock_targets

Severity = Discrepancy.Severity
SNAPSHOT = "shopify.snapshot"
STOCK = "shopify.stock"
KNOWN = "shopify.known"
CHUNK = 5000


class ShopifyCheckRefused(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="resolution_refused")


# --- The snapshot, read once per run ---------------------------------------------------------------


def shopify_snapshot_of(night: Night) -> ShopifySnapshot:
    """The run's Shopify snapshot (read at the first check that needs it; a failure is kept too, so
    that the other checks do not ask a Shopify that is down again)."""
    if SNAPSHOT not in night.cache:
        since = night.now - timedelta(hours=int(settings.SHOPIFY_RECONCILE_LOOK_BACK_HOURS))
        client = shopify_client()
        try:
            night.cache[SNAPSHOT] = shopify_snapshot_take(client, since=since, now=night.now)
        except ShopifyError as exc:
            night.cache[SNAPSHOT] = CheckUnavailable(gettext("Shopify could not be read: {exc}").format(exc=exc))
        finally:
            client.close()
    value = night.cache[SNAPSHOT]
    if isinstance(value, CheckUnavailable):
        raise value
    assert isinstance(value, ShopifySnapshot)
    return value


def _cutoff(snapshot: ShopifySnapshot) -> datetime:
    """Shopify's changes after this are the webhooks' and the poll's, not the night's."""
    return snapshot.started_at - timedelta(seconds=int(settings.SHOPIFY_RECONCILE_GRACE_SECONDS))


def _settled(row: ShopifyOrderRow, cutoff: datetime) -> bool:
    return row.updated_at is not None and row.updated_at <= cutoff


class ShopifyCheck(Check):
    def unavailable(self, night: Night) -> str:
        return "" if settings.SHOPIFY_SHOP else gettext("Shopify is not configured (SHOPIFY_SHOP)")


def _fetch_apply(d: Any, now: datetime) -> str:
    """Take the discrepancy's order from Shopify now, as the poll would."""
    gid = _order_gid(d)
    client = shopify_client()
    try:
        changed = shopify_order_fetch_apply(client, gid, now=now)
    except ShopifyError as exc:
        raise ShopifyCheckRefused(gettext("Shopify could not be read: {exc}").format(exc=exc)) from exc
    finally:
        client.close()
    if changed:
        return gettext("order {order} read again from Shopify and applied").format(order=d.subject)
    return gettext("order {order} read again from Shopify and applied (nothing new)").format(order=d.subject)


def _order_gid(d: Any) -> str:
    link = ShopifyOrder.objects.filter(order_id=d.order_id).first() if d.order_id else None
    if link is not None:
        return link.admin_graphql_api_id or f"gid://shopify/Order/{link.shopify_id}"
    found = re.search(r"Shopify/(\d+)", d.ours or "")
    if found is None:
        raise ShopifyCheckRefused(gettext("{discrepancy} names no Shopify order").format(discrepancy=d))
    return f"gid://shopify/Order/{found.group(1)}"


# --- Stock -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _StockGap:
    product: Product
    location_code: int
    shopify: int
    target: int


def _unreceived_units(night: Night, snapshot: ShopifySnapshot) -> dict[str, int]:
    """Units per SKU of the Shopify orders in the snapshot that have not reached us."""
    known = _known(night, snapshot)
    units: dict[str, int] = defaultdict(int)
    for number, row in snapshot.orders.items():
        if number not in known and row.cancelled_at is None:
            for sku, quantity in row.current.items():
                units[sku] += quantity
    return units


def _stock_gaps(night: Night) -> list[_StockGap]:
    if STOCK in night.cache:
        return night.cache[STOCK]  # type: ignore[no-any-return]
    snapshot = shopify_snapshot_of(night)
    started = snapshot.started_at
    dirty = set(StockDirty.objects.values_list("product_id", "location_code"))
    unreceived = _unreceived_units(night, snapshot)
    links = {
        s.product_id: s
        for s in ShopifyProduct.objects.filter(state=ShopifyProduct.State.PUSHED).exclude(
            inventory_item_id=""
        )
    }
    settled = (
        ShopifyStockLevel.objects.filter(product_id__in=list(links), shopify_available__isnull=False)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=night.now))
        .exclude(last_pushed_at__gte=started)
        .exclude(last_read_at__gte=started)
        .select_related("location")
        .order_by("pk")
    )
    gaps: list[_StockGap] = []
    levels = list(settled)
    for start in range(0, len(levels), CHUNK):
        pairs = {
            (lv.product_id, lv.location.location_id): lv
            for lv in levels[start : start + CHUNK]
            if (lv.product_id, lv.location.location_id) not in dirty
        }
        targets = stock_targets(pairs, now=night.now)
        products = Product.objects.select_related("mapping").in_bulk({p for p, _ in pairs})
        for (product_id, code), level in pairs.items():
            figure = snapshot.levels.get(
                (links[product_id].inventory_item_id, level.location.shopify_location_id)
            )
            target = targets[(product_id, code)].target
            if figure is None or figure == target:
                continue
            product = products[product_id]
            if figure < target and target - figure <= unreceived.get(product_sku(product), 0):
                continue  # Shopify sold them in orders still on their way to us
            gaps.append(_StockGap(product, code, figure, target))
    night.cache[STOCK] = gaps
    return gaps


def _stock_finding(gap: _StockGap, suggestion: str) -> Finding:
    return Finding(
        subject=f"{gap.product.item_number}@{gap.location_code:03d}",
        ours=gettext("the platform: {units} sellable").format(units=gap.target),
        theirs=gettext("Shopify: {units} available").format(units=gap.shopify),
        difference=gap.shopify - gap.target,
        units=abs(gap.shopify - gap.target),
        product_id=gap.product.pk,
        location_id=gap.location_code,
        category_id=gap.product.category_id,
        suggestion=suggestion,
    )


class _StockCheck(ShopifyCheck):
    accept = _("Put the platform's figure back in Shopify (Shopify is read again, then corrected).")

    def accept_apply(self, discrepancy: Any, *, user: object | None, now: datetime) -> str | None:
        if discrepancy.product_id is None or discrepancy.location_id is None:
            raise ShopifyCheckRefused(gettext("{discrepancy} names no item and store pair").format(discrepancy=discrepancy))
        if not ShopifyLocation.objects.filter(location_id=discrepancy.location_id).exists():
            raise ShopifyCheckRefused(
                gettext("store {store} is no longer a Shopify location").format(store=discrepancy.location_id)
            )
        stock_levels_reread(
            [(discrepancy.product_id, discrepancy.location_id)],
            cause=f"gid://platform/Discrepancy/{discrepancy.pk}", now=now,
        )  # fmt: skip
        return gettext("this pair's Shopify stock will be read again, then put back to the platform's figure")


class StockOver(_StockCheck):
    code = "shopify_stock_over"
    title = _("Shopify offers more than the platform's stock")
    severity = Severity.HIGH

    def find(self, night: Night) -> Iterable[Finding]:
        for gap in _stock_gaps(night):
            if gap.shopify > gap.target:
                yield _stock_finding(
                    gap, gettext("Shopify may sell units that do not exist: put the platform's figure back "
                    "(accept), then find who changed it in Shopify."),
                )  # fmt: skip


class StockUnder(_StockCheck):
    code = "shopify_stock_under"
    title = _("Shopify offers less than the platform's stock")
    severity = Severity.MEDIUM

    def find(self, night: Night) -> Iterable[Finding]:
        for gap in _stock_gaps(night):
            if gap.shopify < gap.target:
                yield _stock_finding(
                    gap, gettext("Shopify sales lost: if no order explains it, put the platform's figure back "
                    "(accept)."),
                )  # fmt: skip


# --- Catalogue -----------------------------------------------------------------------------------------


class CatalogueDiffers(ShopifyCheck):
    code = "shopify_catalogue_differs"
    title = _("Shopify product different from the AS400's item")
    severity = Severity.MEDIUM
    accept = _("Push the product to Shopify again (the AS400's fields are put back there).")

    def find(self, night: Night) -> Iterable[Finding]:
        snapshot = shopify_snapshot_of(night)
        plan = catalogue_plan()
        pending = {p.pk for p in plan.create} | {p.pk for p, _ in plan.update}
        links = (
            ShopifyProduct.objects.filter(product_id__in=list(plan.values), state=ShopifyProduct.State.PUSHED)
            .exclude(shopify_product_id="")
            .exclude(product_id__in=pending)
            .exclude(last_pushed_at__gte=snapshot.started_at)
            .select_related("product")
            .order_by("product__item_number")
        )
        for link in links.iterator(chunk_size=CHUNK):
            values = plan.values[link.product_id]
            variant = snapshot.variants.get(link.shopify_variant_id)
            if variant is None:
                differs = {gettext("variant"): (gettext("published"), gettext("not found"))}
            else:
                have = {"sku": variant.sku, "barcode": variant.barcode,
                        "price": f"{variant.price:.2f}" if variant.price is not None else "",
                        "status": variant.product_status}  # fmt: skip
                differs = {
                    k: (str(values[k] or ""), have[k]) for k in have if str(values[k] or "") != have[k]
                }
            if not differs:
                continue
            yield Finding(
                subject=link.product.item_number,
                ours=", ".join(f"{k} {ours}" for k, (ours, __) in differs.items()),
                theirs=gettext("Shopify: {values}").format(values=", ".join(f"{k} {theirs}" for k, (__, theirs) in differs.items())),
                product_id=link.product_id, category_id=link.product.category_id,
                suggestion=gettext("A field of the AS400's was changed in Shopify, or the product is missing there: push it "
                "again (accept)."),
            )  # fmt: skip

    def accept_apply(self, discrepancy: Any, *, user: object | None, now: datetime) -> str | None:
        if not ShopifyProduct.objects.filter(product_id=discrepancy.product_id).update(pushed_hash=""):
            raise ShopifyCheckRefused(gettext("{discrepancy}: this product is not linked to Shopify").format(discrepancy=discrepancy))
        catalogue_push_kick()
        return gettext("product pushed to Shopify again with the next catalogue push")


# --- Orders -------------------------------------------------------------------------------------------------


def _known(night: Night, snapshot: ShopifySnapshot) -> dict[int, ShopifyOrder]:
    """Our links to the snapshot's orders, by Shopify's id (read once per run, shared by the checks)."""
    if KNOWN not in night.cache:
        night.cache[KNOWN] = {
            s.shopify_id: s
            for s in ShopifyOrder.objects.filter(shopify_id__in=list(snapshot.orders)).select_related("order")
        }
    return night.cache[KNOWN]  # type: ignore[no-any-return]


def _order_finding(row: ShopifyOrderRow, link: ShopifyOrder | None, **values: Any) -> Finding:
    return Finding(
        subject=row.name or str(row.shopify_id),
        order_id=link.order_id if link else None,
        amount=row.total,
        **values,
    )


class _OrderCheck(ShopifyCheck):
    accept = _("Read the order from Shopify again and apply it now (as the order poll does).")

    def accept_apply(self, discrepancy: Any, *, user: object | None, now: datetime) -> str | None:
        return _fetch_apply(discrepancy, now)


class OrderMissing(_OrderCheck):
    code = "shopify_order_missing"
    title = _("Shopify order missing from the platform")
    severity = Severity.HIGH

    def find(self, night: Night) -> Iterable[Finding]:
        snapshot = shopify_snapshot_of(night)
        cutoff, known = _cutoff(snapshot), _known(night, snapshot)
        for number, row in sorted(snapshot.orders.items()):
            if number in known or row.cancelled_at is not None or not _settled(row, cutoff):
                continue
            yield _order_finding(
                row, None, ours=gettext("no order (Shopify/{number})").format(number=number),
                theirs=gettext("Shopify: {values}").format(values=row.financial_status),
                units=sum(row.current.values()),
                suggestion=gettext("Neither the webhooks nor the poll brought it: create it here from Shopify "
                "(accept); it goes to the AS400 like the others."),
            )  # fmt: skip


class OrderCancelMissed(_OrderCheck):
    code = "shopify_order_cancel_missed"
    title = _("Order cancelled in Shopify, not on the platform")
    severity = Severity.HIGH

    def find(self, night: Night) -> Iterable[Finding]:
        snapshot = shopify_snapshot_of(night)
        cutoff, known = _cutoff(snapshot), _known(night, snapshot)
        for number, row in sorted(snapshot.orders.items()):
            link = known.get(number)
            if (
                link is None
                or row.cancelled_at is None
                or link.cancelled_at is not None
                or not _settled(row, cutoff)
            ):
                continue
            yield _order_finding(
                row, link, ours=gettext("{order}: {status}").format(order=link.order.order_number, status=link.order.get_status_display()),
                theirs=gettext("Shopify: cancelled at {at}").format(at=paris(row.cancelled_at)), units=sum(row.ordered.values()),
                suggestion=gettext("The cancellation did not arrive: applying it (accept) releases the stock or "
                "sends the cancellation to the AS400."),
            )  # fmt: skip


class OrderBehind(_OrderCheck):
    code = "shopify_order_behind"
    title = _("Shopify update of an order not applied")
    severity = Severity.MEDIUM

    def find(self, night: Night) -> Iterable[Finding]:
        snapshot = shopify_snapshot_of(night)
        cutoff, known = _cutoff(snapshot), _known(night, snapshot)
        for number, row in sorted(snapshot.orders.items()):
            link = known.get(number)
            if link is None or (row.cancelled_at is not None and link.cancelled_at is None):
                continue  # missing, or the cancellation check's
            if (
                not _settled(row, cutoff)
                or row.updated_at is None
                or row.updated_at <= link.shopify_updated_at
            ):
                continue
            yield _order_finding(
                row, link, ours=gettext("applied up to {at}").format(at=paris(link.shopify_updated_at, seconds=True)),
                theirs=gettext("Shopify: changed at {at}").format(at=paris(row.updated_at, seconds=True)),
                suggestion=gettext("An update from Shopify was not received: read it again (accept)."),
            )  # fmt: skip


class OrderQuantitiesDiffer(ShopifyCheck):
    code = "shopify_order_quantities_differ"
    title = _("Quantities ordered differ between Shopify and the platform")
    severity = Severity.MEDIUM

    def find(self, night: Night) -> Iterable[Finding]:
        snapshot = shopify_snapshot_of(night)
        cutoff, known = _cutoff(snapshot), _known(night, snapshot)
        current = {
            number: link for number, link in known.items()
            if _settled(snapshot.orders[number], cutoff)
            and (snapshot.orders[number].updated_at or cutoff) <= link.shopify_updated_at
        }  # fmt: skip
        ours: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        by_order = {link.order_id: number for number, link in current.items()}
        lines = OrderLine.objects.filter(order_id__in=list(by_order)).select_related("product__mapping")
        for line in lines.iterator(chunk_size=CHUNK):
            ours[by_order[line.order_id]][line_sku(line)] += line.quantity
        for number in sorted(current):
            row, link = snapshot.orders[number], current[number]
            theirs = {sku: q for sku, q in row.ordered.items() if q}
            mine = dict(ours.get(number, {}))
            if theirs == mine:
                continue
            skus = sorted(set(theirs) | set(mine))
            yield _order_finding(
                row, link, ours=" ".join(f"{s}×{mine.get(s, 0)}" for s in skus),
                theirs=gettext("Shopify: {values}").format(values=" ".join(f"{s}×{theirs.get(s, 0)}" for s in skus)),
                units=sum(abs(theirs.get(s, 0) - mine.get(s, 0)) for s in skus),
                suggestion=gettext("The lines differ: check the order in Shopify and in its history here."),
            )  # fmt: skip


class OrderGoneAtShopify(ShopifyCheck):
    code = "shopify_order_gone"
    title = _("Platform order that Shopify no longer knows")
    severity = Severity.LOW

    def find(self, night: Night) -> Iterable[Finding]:
        snapshot = shopify_snapshot_of(night)
        cutoff = _cutoff(snapshot)
        gone = (
            ShopifyOrder.objects.filter(
                shopify_updated_at__gte=snapshot.since, shopify_updated_at__lte=cutoff
            )
            .exclude(shopify_id__in=list(snapshot.orders))
            .select_related("order")
            .order_by("name")
        )
        for link in gone.iterator(chunk_size=CHUNK):
            yield Finding(
                subject=link.name or str(link.shopify_id), order_id=link.order_id,
                ours=gettext("{order}: {status}").format(order=link.order.order_number, status=link.order.get_status_display()),
                theirs=gettext("Shopify: not found"), amount=link.total or Decimal(0),
                suggestion=gettext("Deleted in Shopify? Check in Shopify's admin before cancelling here."),
            )  # fmt: skip


for _check in (
    StockOver(), StockUnder(), CatalogueDiffers(), OrderMissing(), OrderCancelMissed(), OrderBehind(),
    OrderQuantitiesDiffer(), OrderGoneAtShopify(),
):  # fmt: skip
    check_register(_check)
