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
            night.cache[SNAPSHOT] = CheckUnavailable(f"Shopify n'a pas pu être lu : {exc}")
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
        return "" if settings.SHOPIFY_SHOP else "Shopify n'est pas configuré (SHOPIFY_SHOP)"


def _fetch_apply(d: Any, now: datetime) -> str:
    """Take the discrepancy's order from Shopify now, as the poll would."""
    gid = _order_gid(d)
    client = shopify_client()
    try:
        changed = shopify_order_fetch_apply(client, gid, now=now)
    except ShopifyError as exc:
        raise ShopifyCheckRefused(f"Shopify n'a pas pu être lu : {exc}") from exc
    finally:
        client.close()
    return f"commande {d.subject} relue dans Shopify et appliquée" + ("" if changed else " (rien de nouveau)")


def _order_gid(d: Any) -> str:
    link = ShopifyOrder.objects.filter(order_id=d.order_id).first() if d.order_id else None
    if link is not None:
        return link.admin_graphql_api_id or f"gid://shopify/Order/{link.shopify_id}"
    found = re.search(r"Shopify/(\d+)", d.ours or "")
    if found is None:
        raise ShopifyCheckRefused(f"{d} ne désigne aucune commande Shopify")
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
        ours=f"la plateforme : {gap.target} vendables",
        theirs=f"Shopify : {gap.shopify} disponibles",
        difference=gap.shopify - gap.target,
        units=abs(gap.shopify - gap.target),
        product_id=gap.product.pk,
        location_id=gap.location_code,
        category_id=gap.product.category_id,
        suggestion=suggestion,
    )


class _StockCheck(ShopifyCheck):
    accept = "Remettre dans Shopify le chiffre de la plateforme (Shopify est relu, puis corrigé)."

    def accept_apply(self, discrepancy: Any, *, user: object | None, now: datetime) -> str | None:
        if discrepancy.product_id is None or discrepancy.location_id is None:
            raise ShopifyCheckRefused(f"{discrepancy} ne désigne aucun couple article-magasin")
        if not ShopifyLocation.objects.filter(location_id=discrepancy.location_id).exists():
            raise ShopifyCheckRefused(f"le magasin {discrepancy.location_id} n'est plus un lieu Shopify")
        stock_levels_reread(
            [(discrepancy.product_id, discrepancy.location_id)],
            cause=f"gid://platform/Discrepancy/{discrepancy.pk}", now=now,
        )  # fmt: skip
        return "le stock Shopify de ce couple sera relu puis remis au chiffre de la plateforme"


class StockOver(_StockCheck):
    code = "shopify_stock_over"
    title = "Shopify propose plus que le stock de la plateforme"
    severity = Severity.HIGH

    def find(self, night: Night) -> Iterable[Finding]:
        for gap in _stock_gaps(night):
            if gap.shopify > gap.target:
                yield _stock_finding(
                    gap, "Shopify peut vendre des unités qui n'existent pas : remettre le chiffre de la "
                    "plateforme (accepter), puis chercher qui l'a modifié dans Shopify.",
                )  # fmt: skip


class StockUnder(_StockCheck):
    code = "shopify_stock_under"
    title = "Shopify propose moins que le stock de la plateforme"
    severity = Severity.MEDIUM

    def find(self, night: Night) -> Iterable[Finding]:
        for gap in _stock_gaps(night):
            if gap.shopify < gap.target:
                yield _stock_finding(
                    gap, "Des ventes Shopify perdues : si aucune commande ne l'explique, remettre le chiffre "
                    "de la plateforme (accepter).",
                )  # fmt: skip


# --- Catalogue -----------------------------------------------------------------------------------------


class CatalogueDiffers(ShopifyCheck):
    code = "shopify_catalogue_differs"
    title = "Produit Shopify différent de la fiche AS400"
    severity = Severity.MEDIUM
    accept = "Repousser le produit dans Shopify (les champs de l'AS400 y sont remis)."

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
                differs = {"variante": ("publiée", "introuvable")}
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
                ours=", ".join(f"{k} {ours}" for k, (ours, _) in differs.items()),
                theirs="Shopify : " + ", ".join(f"{k} {theirs}" for k, (_, theirs) in differs.items()),
                product_id=link.product_id, category_id=link.product.category_id,
                suggestion="Un champ de l'AS400 a été changé dans Shopify ou le produit y manque : le repousser "
                "(accepter).",
            )  # fmt: skip

    def accept_apply(self, discrepancy: Any, *, user: object | None, now: datetime) -> str | None:
        if not ShopifyProduct.objects.filter(product_id=discrepancy.product_id).update(pushed_hash=""):
            raise ShopifyCheckRefused(f"{discrepancy} : ce produit n'est pas lié à Shopify")
        catalogue_push_kick()
        return "produit repoussé dans Shopify au prochain envoi du catalogue"


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
    accept = "Relire la commande dans Shopify et l'appliquer maintenant (comme le relevé des commandes)."

    def accept_apply(self, discrepancy: Any, *, user: object | None, now: datetime) -> str | None:
        return _fetch_apply(discrepancy, now)


class OrderMissing(_OrderCheck):
    code = "shopify_order_missing"
    title = "Commande Shopify absente de la plateforme"
    severity = Severity.HIGH

    def find(self, night: Night) -> Iterable[Finding]:
        snapshot = shopify_snapshot_of(night)
        cutoff, known = _cutoff(snapshot), _known(night, snapshot)
        for number, row in sorted(snapshot.orders.items()):
            if number in known or row.cancelled_at is not None or not _settled(row, cutoff):
                continue
            yield _order_finding(
                row, None, ours=f"aucune commande (Shopify/{number})", theirs=f"Shopify : {row.financial_status}",
                units=sum(row.current.values()),
                suggestion="Ni les webhooks ni le relevé ne l'ont apportée : la créer ici depuis Shopify "
                "(accepter), elle partira à l'AS400 comme les autres.",
            )  # fmt: skip


class OrderCancelMissed(_OrderCheck):
    code = "shopify_order_cancel_missed"
    title = "Commande annulée dans Shopify, pas sur la plateforme"
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
                row, link, ours=f"{link.order.order_number} : {link.order.get_status_display()}",
                theirs=f"Shopify : annulée le {row.cancelled_at:%d/%m/%Y %H:%M}", units=sum(row.ordered.values()),
                suggestion="L'annulation n'est pas arrivée : l'appliquer (accepter) libère le stock ou "
                "envoie l'annulation à l'AS400.",
            )  # fmt: skip


class OrderBehind(_OrderCheck):
    code = "shopify_order_behind"
    title = "Mise à jour Shopify d'une commande non appliquée"
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
                row, link, ours=f"appliquée jusqu'au {link.shopify_updated_at:%d/%m/%Y %H:%M:%S}",
                theirs=f"Shopify : modifiée le {row.updated_at:%d/%m/%Y %H:%M:%S}",
                suggestion="Une mise à jour de Shopify n'a pas été reçue : la relire (accepter).",
            )  # fmt: skip


class OrderQuantitiesDiffer(ShopifyCheck):
    code = "shopify_order_quantities_differ"
    title = "Quantités commandées différentes entre Shopify et la plateforme"
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
                theirs="Shopify : " + " ".join(f"{s}×{theirs.get(s, 0)}" for s in skus),
                units=sum(abs(theirs.get(s, 0) - mine.get(s, 0)) for s in skus),
                suggestion="Les lignes diffèrent : vérifier la commande dans Shopify et dans l'historique ici.",
            )  # fmt: skip


class OrderGoneAtShopify(ShopifyCheck):
    code = "shopify_order_gone"
    title = "Commande de la plateforme que Shopify ne connaît plus"
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
                ours=f"{link.order.order_number} : {link.order.get_status_display()}",
                theirs="Shopify : introuvable", amount=link.total or Decimal(0),
                suggestion="Supprimée dans Shopify ? Vérifier dans l'administration Shopify avant d'annuler ici.",
            )  # fmt: skip


for _check in (
    StockOver(), StockUnder(), CatalogueDiffers(), OrderMissing(), OrderCancelMissed(), OrderBehind(),
    OrderQuantitiesDiffer(), OrderGoneAtShopify(),
):  # fmt: skip
    check_register(_check)
