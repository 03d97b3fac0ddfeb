"""Shopify's side of the catalogue, the stock and the orders, as the platform keeps it.

- :class:`ShopifyLocation`: which of our locations is which Shopify location (its gid), and
  whether customers pick up there (a Shopify pickup order is a click-and-collect order there).
- :class:`ShopifyOrder`: the link between a Shopify order and the platform order it became, with
  what only Shopify's order carries (its name, shipping, discounts) and whether it was oversold.
- :class:`ShopifyProduct`, :class:`OwnershipViolation`: the catalogue in Shopify (``catalogue.py``);
- :class:`ShopifyStockLevel`, :class:`StockDirty`: the stock push (``stock.py``).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.models import Location, Product
from orders.models import Order


class ShopifyLocation(models.Model):
    location = models.OneToOneField(Location, on_delete=models.CASCADE, related_name="shopify", verbose_name=_("location"))
    shopify_location_id = models.CharField(_("shopify location id"),
        max_length=100, unique=True, help_text=_("Shopify's id, e.g. gid://shopify/Location/123")
    )
    pickup = models.BooleanField(_("pickup"), default=False, help_text=_("Customers pick up Shopify orders here"))

    class Meta:
        verbose_name = _("Shopify location")
        verbose_name_plural = _("Shopify locations")

    def __str__(self) -> str:
        return f"{self.location_id:03d} = {self.shopify_location_id}"


class ShopifyOrder(models.Model):
    class Resolution(models.TextChoices):
        NONE = "", _("—")
        CANCELLED = "cancelled_in_shopify", _("Cancelled in Shopify")
        SENT_ANYWAY = "sent_anyway", _("Sent anyway")

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="shopify", verbose_name=_("order"))
    shopify_id = models.BigIntegerField(_("shopify id"), unique=True, help_text=_("Shopify's order id (the REST id)"))
    admin_graphql_api_id = models.CharField(_("admin graphql api id"), max_length=100, blank=True, help_text=_("gid://shopify/Order/…"))
    name = models.CharField(_("name"), max_length=40, help_text=_('Shopify\'s name for it, e.g. "#1001"'))
    shopify_updated_at = models.DateTimeField(_("shopify updated at"), help_text=_("updated_at of the last payload applied"))
    financial_status = models.CharField(_("financial status"), max_length=30, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    shipping_title = models.CharField(_("shipping title"), max_length=200, blank=True)
    shipping_amount = models.DecimalField(_("shipping amount"),
        max_digits=11,
        decimal_places=2,
        default=0,
        help_text=_("Shipping the customer paid (after its discounts)"),
    )
    discounts = models.DecimalField(_("discounts"),
        max_digits=11,
        decimal_places=2,
        default=0,
        help_text=_("Discounts on the lines (Shopify's total_discounts)"),
    )
    total = models.DecimalField(_("total"),
        max_digits=11, decimal_places=2, default=0, help_text=_("What the customer paid")
    )
    line_numbers = models.JSONField(_("line numbers"),
        default=dict, blank=True, help_text=_("Shopify line item id → our line number")
    )
    oversold = models.BooleanField(_("oversold"), default=False, help_text=_("The pool could not cover it: it took no unit"))
    oversold_reason = models.CharField(_("oversold reason"), max_length=300, blank=True)
    oversold_resolution = models.CharField(_("oversold resolution"), max_length=24, choices=Resolution.choices, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.CharField(_("resolved by"), max_length=150, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True, help_text=_("Shopify's cancelled_at"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("Shopify order")
        verbose_name_plural = _("Shopify orders")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.order_id})"


class ShopifyRefund(models.Model):
    """A refunds/create applied once (its Shopify id), and what it became here."""

    shopify_order = models.ForeignKey(ShopifyOrder, on_delete=models.CASCADE, related_name="refunds", verbose_name=_("shopify order"))
    shopify_id = models.BigIntegerField(_("shopify id"), unique=True)
    outcome = models.CharField(_("outcome"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("Shopify refund")
        verbose_name_plural = _("Shopify refunds")

    def __str__(self) -> str:
        return f"refund {self.shopify_id}"


# --- Catalogue (shopify_channel.catalogue) ----------------------------------------------------


class ShopifyProduct(models.Model):
    """A product as it exists in Shopify: its ids there and what we last pushed of the AS400's fields."""

    class State(models.TextChoices):
        PUSHED = "pushed", _("Published")
        FAILED = "failed", _("Failed")
        UNPUBLISHED = "unpublished", _("Unpublished")
        CREATING = "creating", _("Being created")

    product = models.OneToOneField(Product, on_delete=models.PROTECT, related_name="shopify", verbose_name=_("product"))
    shopify_product_id = models.CharField(_("shopify product id"), max_length=80, blank=True, db_index=True)
    shopify_variant_id = models.CharField(_("shopify variant id"), max_length=80, blank=True, db_index=True)
    inventory_item_id = models.CharField(_("inventory item id"), max_length=80, blank=True, db_index=True)
    pushed_hash = models.CharField(_("pushed hash"),
        max_length=64, blank=True, help_text=_("SHA-256 of the AS400-owned fields as last pushed")
    )
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.PUSHED)
    last_pushed_at = models.DateTimeField(_("last pushed at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    handle = models.CharField(_("handle"),
        max_length=255, blank=True, help_text=_("The handle it is created under, from its SKU: how a creation whose answer was lost is found again")
    )
    bulk = models.ForeignKey(
        "shopify.BulkOperation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("bulk operation"), help_text=_("The first sync's bulk operation creating it"),
    )  # fmt: skip

    class Meta:
        ordering = ["product"]
        verbose_name = _("Shopify product")
        verbose_name_plural = _("Shopify products")

    def __str__(self) -> str:
        return f"{self.product_id} → {self.shopify_product_id or '(not created)'} ({self.state})"


class OwnershipViolation(models.Model):
    """An AS400-owned field changed in Shopify: seen in a products/update, fixed by the next push."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="shopify_violations", verbose_name=_("product"))
    field = models.CharField(_("field"), max_length=40, help_text=_("Our field name (integration.core.ownership)"))
    shopify_value = models.CharField(_("shopify value"), max_length=200, blank=True)
    our_value = models.CharField(_("our value"), max_length=200, blank=True)
    seen_at = models.DateTimeField(_("seen at"), default=timezone.now)
    fixed_at = models.DateTimeField(_("fixed at"), null=True, blank=True)

    class Meta:
        ordering = ["-seen_at", "-pk"]
        verbose_name = _("ownership violation")
        verbose_name_plural = _("ownership violations")
        indexes = [
            models.Index(fields=["product"], condition=models.Q(fixed_at__isnull=True), name="violation_open")
        ]

    def __str__(self) -> str:
        return f"{self.product_id} {self.field}: Shopify {self.shopify_value!r}, ours {self.our_value!r}"


# --- Stock (shopify_channel.stock) --------------------------------------------------------------


class StockSet(models.Model):
    """An ``inventorySetQuantities`` sent whose answer is not recorded yet, kept to be sent again.

    Written before the call, removed once its answer is recorded on its levels. A worker that dies
    in between leaves it: the next push sends it again, the same variables under the same key, so
    Shopify answers what it did the first time instead of applying it twice, and each level learns
    whether Shopify holds the quantity it set (shopify_channel.stock).
    """

    key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    variables = models.JSONField(_("variables"))
    sent_at = models.DateTimeField(_("sent at"))

    class Meta:
        verbose_name = _("stock set awaiting its answer")
        verbose_name_plural = _("stock sets awaiting their answer")

    def __str__(self) -> str:
        return self.key


class ShopifyStockLevel(models.Model):
    """One product at one Shopify location: what we last knew Shopify to hold as ``available``."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="shopify_stock", verbose_name=_("product"))
    location = models.ForeignKey(ShopifyLocation, on_delete=models.CASCADE, related_name="stock_levels", verbose_name=_("location"))
    shopify_available = models.IntegerField(_("shopify available"),
        null=True, blank=True, help_text=_("Shopify's available as last pushed or read (empty: never known)")
    )
    unseen_sales = models.IntegerField(_("unseen sales"),
        default=0,
        help_text=_("Units Shopify sold here (seen in its figure) that no Shopify order of ours holds yet"),
    )
    orders_units = models.IntegerField(_("orders units"),
        default=0,
        help_text=_("Units Shopify orders held here when last accounted (lines' quantity - cancelled)"),
    )
    last_pushed_at = models.DateTimeField(_("last pushed at"), null=True, blank=True)
    last_read_at = models.DateTimeField(_("last read at"), null=True, blank=True)
    cause = models.CharField(_("cause"), max_length=200, blank=True, help_text=_("referenceDocumentUri of the last push"))
    last_error = models.TextField(_("last error"), blank=True)
    leased_until = models.DateTimeField(_("leased until"), null=True, blank=True, help_text=_("A pusher works on it until then"))
    lease = models.CharField(_("lease"), max_length=32, blank=True)
    sending = models.ForeignKey(
        StockSet, on_delete=models.SET_NULL, null=True, blank=True, related_name="levels",
        verbose_name=_("stock set awaiting its answer"),
    )  # fmt: skip

    class Meta:
        verbose_name = _("shopify stock level")
        verbose_name_plural = _("shopify stock levels")
        constraints = [
            models.UniqueConstraint(fields=["product", "location"], name="shopify_stock_unique_pair")
        ]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.location_id}: {self.shopify_available}"


class StockDirty(models.Model):
    """A pair whose availability moved and that Shopify must hear about (one row per pair, latest cause)."""

    product_id = models.BigIntegerField(_("product id"))
    location_code = models.PositiveSmallIntegerField(_("location code"))
    cause = models.CharField(_("cause"), max_length=200, blank=True)
    marked_at = models.DateTimeField(_("marked at"), default=timezone.now, db_index=True)
    token = models.CharField(_("token"), max_length=32, help_text=_("New at every mark: a push clears only what it read"))

    class Meta:
        verbose_name = _("stock dirty")
        verbose_name_plural = _("stocks to push")
        constraints = [
            models.UniqueConstraint(fields=["product_id", "location_code"], name="stock_dirty_unique_pair")
        ]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.location_code:03d} ({self.cause})"


# --- What webhooks miss (shopify_channel.poll) ------------------------------------------------------


class PollCursor(models.Model):
    """How far a poll of Shopify has read: orders updated up to ``updated_at`` are applied."""

    name = models.CharField(_("name"), max_length=40, unique=True)
    updated_at = models.DateTimeField(_("updated at"),
        null=True, blank=True, help_text=_("Shopify's updatedAt of the last order applied in order (empty: never)")
    )
    last_run_at = models.DateTimeField(_("last run at"), null=True, blank=True)
    last_seen = models.PositiveIntegerField(_("last seen"), default=0, help_text=_("Orders the last run read"))
    last_applied = models.PositiveIntegerField(_("last applied"), default=0, help_text=_("…of which new or changed here"))
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("Shopify polling cursor")
        verbose_name_plural = _("Shopify polling cursors")

    def __str__(self) -> str:
        return f"{self.name}: {self.updated_at}"
