"""Items and prices: the catalogue against the night's full ITMMST (applied to the products)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from inventory.models import Category, ItemMapping, Product, ReservationLine, StockLevel
from inventory.selectors import sellable_products
from orders.models import Order, OrderLine
from reconciliation.checks.base import Check, Finding, Night, check_register
from reconciliation.models import Discrepancy

Severity = Discrepancy.Severity
ROLLED_OUT = (Category.Stage.PILOT, Category.Stage.LIVE)


class UnmappedWithStock(Check):
    code = "item_unmapped_with_stock"
    title = _("Item in stock with no web mapping")
    severity = Severity.LOW
    needs = ("ITMMST",)

    def find(self, night: Night) -> Iterable[Finding]:
        stocked = StockLevel.objects.filter(product=OuterRef("pk"), on_hand__gt=0)
        products = (
            Product.objects.filter(status=Product.Status.ACTIVE, category__rollout_stage__in=ROLLED_OUT)
            .filter(mapping__isnull=True)
            .filter(Exists(stocked))
            .annotate(units=Sum("stock_levels__on_hand", filter=Q(stock_levels__on_hand__gt=0)))
            .order_by("item_number")
        )
        for product in products:
            yield Finding(
                subject=product.item_number, ours=gettext("no SKU"),
                theirs=gettext("{units} units in stock").format(units=product.units),
                units=product.units or 0, product_id=product.pk, category_id=product.category_id, file="ITMMST",
                suggestion=gettext(
                    "An item sold in stores but unseen on the site: give it a SKU (the mapping table) or take it "
                    "out of the category."
                ),
            )  # fmt: skip


class MappingToDelisted(Check):
    code = "mapping_to_delisted"
    title = _("Mapping to a delisted item")
    severity = Severity.MEDIUM
    needs = ("ITMMST",)

    def find(self, night: Night) -> Iterable[Finding]:
        mappings = (
            ItemMapping.objects.filter(product__status=Product.Status.DELISTED)
            .select_related("product")
            .order_by("sku")
        )
        for mapping in mappings:
            product = mapping.product
            yield Finding(
                subject=mapping.sku, ours=f"SKU {mapping.sku} → {product.item_number}",
                theirs=gettext("delisted (D) or missing from the full ITMMST"), product_id=product.pk,
                category_id=product.category_id, file="ITMMST",
                suggestion=gettext("Remove the mapping, or point it at the item that replaces it."),
            )  # fmt: skip


class WithoutContent(Check):
    code = "product_without_content"
    title = _("Sellable product without content")
    severity = Severity.MEDIUM

    def find(self, night: Night) -> Iterable[Finding]:
        bare = Q(title="") | Q(images=[])
        products = (
            Product.objects.filter(sellable_products(include_pilot=True)).filter(bare).order_by("item_number")
        )
        for product in products:
            missing = [
                w for w, empty in ((gettext("title"), not product.title), (gettext("image"), not product.images))
                if empty
            ]
            yield Finding(
                subject=product.item_number, ours=gettext("without {missing}").format(missing=gettext(" nor ").join(missing)),
                theirs=gettext("sellable"),
                product_id=product.pk, category_id=product.category_id,
                suggestion=gettext("Complete the product's page (title, image) in the admin."),
            )  # fmt: skip


class DuplicateEan(Check):
    code = "duplicate_ean"
    title = _("Duplicate EAN")
    severity = Severity.MEDIUM
    needs = ("ITMMST",)

    def find(self, night: Night) -> Iterable[Finding]:
        eans = (
            Product.objects.exclude(ean="")
            .exclude(status=Product.Status.DELISTED)
            .values("ean")
            .annotate(n=Count("pk"))
            .filter(n__gt=1)
            .order_by("ean")
        )
        for row in eans:
            items = list(
                Product.objects.filter(ean=row["ean"]).exclude(status=Product.Status.DELISTED)
                .order_by("item_number").values_list("pk", "item_number", "category_id")
            )  # fmt: skip
            yield Finding(
                subject=row["ean"], ours=", ".join(i for _, i, _ in items), theirs=gettext("{count} items").format(count=row["n"]),
                product_id=items[0][0], category_id=items[0][2], file="ITMMST",
                suggestion=gettext("An EAN names one item: correct the EAN on the AS400."),
            )  # fmt: skip


class PriceChanged(Check):
    code = "price_changed_open"
    title = _("Reservation or open order at an outdated price")
    severity = Severity.MEDIUM
    needs = ("ITMMST",)

    def find(self, night: Night) -> Iterable[Finding]:
        lines = (
            OrderLine.objects.exclude(order__status__in=(Order.Status.REFUSED, Order.Status.CANCELLED))
            .filter(quantity__gt=F("cancelled") + F("shipped") + F("ready"))
            .exclude(unit_price=F("product__price"))
            .select_related("order", "product")
            .order_by("order__order_number", "line_number")
        )
        for line in lines:
            units = line.quantity - line.cancelled - line.shipped - line.ready
            gap = line.product.price - line.unit_price
            yield Finding(
                subject=f"{line.order.order_number}/{line.line_number}",
                ours=f"{line.unit_price} €", theirs=f"{line.product.price} €", difference=gap,
                units=units, amount=abs(gap) * units, order_id=line.order_id, product_id=line.product_id,
                location_id=line.location_id, category_id=line.product.category_id, file="ITMMST",
                suggestion=gettext(
                    "The price changed on the AS400 since the order: the customer keeps their price; ignore with "
                    "a note, or cancel if the price was a mistake."
                ),
            )  # fmt: skip
        reserved = (
            ReservationLine.objects.filter(active=True, expires_at__gt=night.now)
            .exclude(unit_price=F("product__price"))
            .select_related("product", "reservation")
            .order_by("reservation_id", "pk")
        )
        for held in reserved:
            gap = held.product.price - held.unit_price
            yield Finding(
                subject=f"réservation {held.reservation_id}/{held.product.item_number}",  # a key: kept as it is
                ours=f"{held.unit_price} €", theirs=f"{held.product.price} €", difference=gap,
                units=held.quantity, amount=abs(gap) * held.quantity, product_id=held.product_id,
                location_id=held.location_id, category_id=held.product.category_id, file="ITMMST",
                suggestion=gettext(
                    "The reservation expires by itself; an order placed on it would keep the old price."
                ),
            )  # fmt: skip


for _check in (UnmappedWithStock(), MappingToDelisted(), WithoutContent(), DuplicateEan(), PriceChanged()):
    check_register(_check)
