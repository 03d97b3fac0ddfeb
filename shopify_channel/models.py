"""Shopify's side of the catalogue, the stock and the orders, as the platform keeps it.

- :class:`ShopifyLocation`: which of our locations is which Shopify location (its gid), and
  whether customers pick up there (a Shopify pickup order is a click-and-collect order there).
- :class:`ShopifyOrder`: the link between a Shopify order and the platform order it became, with
  what only Shopify's order carries (its name, shipping, discounts) and whether it was oversold.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from inventory.models import Location
from orders.models import Order


class ShopifyLocation(models.Model):
    location = models.OneToOneField(Location, on_delete=models.CASCADE, related_name="shopify")
    shopify_location_id = models.CharField(
        max_length=100, unique=True, help_text="Shopify's id, e.g. gid://shopify/Location/123"
    )
    pickup = models.BooleanField(default=False, help_text="Customers pick up Shopify orders here")

    class Meta:
        verbose_name = "emplacement Shopify"
        verbose_name_plural = "emplacements Shopify"

    def __str__(self) -> str:
        return f"{self.location_id:03d} = {self.shopify_location_id}"


class ShopifyOrder(models.Model):
    class Resolution(models.TextChoices):
        NONE = "", "—"
        CANCELLED = "cancelled_in_shopify", "Annulée dans Shopify"
        SENT_ANYWAY = "sent_anyway", "Envoyée quand même"

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="shopify")
    shopify_id = models.BigIntegerField(unique=True, help_text="Shopify's order id (the REST id)")
    admin_graphql_api_id = models.CharField(max_length=100, blank=True, help_text="gid://shopify/Order/…")
    name = models.CharField(max_length=40, help_text='Shopify\'s name for it, e.g. "#1001"')
    shopify_updated_at = models.DateTimeField(help_text="updated_at of the last payload applied")
    financial_status = models.CharField(max_length=30, blank=True)
    currency = models.CharField(max_length=3, default="EUR")
    shipping_title = models.CharField(max_length=200, blank=True)
    shipping_amount = models.DecimalField(
        max_digits=11,
        decimal_places=2,
        default=0,
        help_text="Shipping the customer paid (after its discounts)",
    )
    discounts = models.DecimalField(
        max_digits=11,
        decimal_places=2,
        default=0,
        help_text="Discounts on the lines (Shopify's total_discounts)",
    )
    total = models.DecimalField(
        max_digits=11, decimal_places=2, default=0, help_text="What the customer paid"
    )
    line_numbers = models.JSONField(
        default=dict, blank=True, help_text="Shopify line item id → our line number"
    )
    oversold = models.BooleanField(default=False, help_text="The pool could not cover it: it took no unit")
    oversold_reason = models.CharField(max_length=300, blank=True)
    oversold_resolution = models.CharField(max_length=24, choices=Resolution.choices, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=150, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True, help_text="Shopify's cancelled_at")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "commande Shopify"
        verbose_name_plural = "commandes Shopify"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.order_id})"


class ShopifyRefund(models.Model):
    """A refunds/create applied once (its Shopify id), and what it became here."""

    shopify_order = models.ForeignKey(ShopifyOrder, on_delete=models.CASCADE, related_name="refunds")
    shopify_id = models.BigIntegerField(unique=True)
    outcome = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "remboursement Shopify"
        verbose_name_plural = "remboursements Shopify"

    def __str__(self) -> str:
        return f"refund {self.shopify_id}"
