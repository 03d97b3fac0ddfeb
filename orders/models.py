"""Web orders, their lines and the history of every status change.

A customer's name and address are kept exactly as the storefront sent them; the ORDIMP file gets
them folded to what the AS400's code page holds (see ``orders.services``), and an order shows both.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from inventory.models import Location, Product, Reservation


class Order(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed", "Placed (not yet sent to the AS400)"
        SENT = "sent", "Sent to the AS400"
        ACCEPTED = "accepted", "Accepted by the AS400"
        REFUSED = "refused", "Refused by the AS400"
        CANCELLATION_REQUESTED = "cancellation_requested", "Cancellation requested"
        CANCELLED = "cancelled", "Cancelled"

    class Delivery(models.TextChoices):
        HOME = "home", "Home delivery (warehouse)"
        CLICK_AND_COLLECT = "click_and_collect", "Click and collect (store)"

    order_number = models.CharField(max_length=20, unique=True, help_text="The storefront's number (OHWEBN)")
    client = models.CharField(max_length=64, help_text="Storefront client that placed it")
    idempotency_key = models.CharField(max_length=128, blank=True)
    content_hash = models.CharField(max_length=64, help_text="What was asked, to tell a replay from a clash")
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.PLACED, db_index=True)
    delivery = models.CharField(max_length=20, choices=Delivery.choices)
    pickup_location = models.ForeignKey(Location, on_delete=models.PROTECT, help_text="900 for home delivery")
    reservation = models.OneToOneField(Reservation, null=True, blank=True, on_delete=models.SET_NULL)
    # The customer, exactly as given.
    last_name = models.CharField(max_length=200)
    first_name = models.CharField(max_length=200, blank=True)
    address_line1 = models.CharField(max_length=300, blank=True)
    address_line2 = models.CharField(max_length=300, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=200, blank=True)
    country = models.CharField(max_length=2, default="FR")
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    total = models.DecimalField(max_digits=11, decimal_places=2)
    as400_order_number = models.CharField(max_length=10, blank=True, db_index=True)
    refusal_reason = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="order_unique_idempotency_key",
            )
        ]

    def __str__(self) -> str:
        return self.order_number


class OrderLine(models.Model):
    """One line. Its units are ``in_flight`` from placement until a STKBAL extract counts them."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveSmallIntegerField()
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, help_text="Picking location (OLMAG)")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=9, decimal_places=2)
    acked_at = models.DateTimeField(null=True, blank=True, help_text="ORDACK time (AKDATE/AKTIME)")
    in_flight = models.PositiveIntegerField(
        default=0, help_text="Units still counted in the stock's in_flight for this line"
    )

    class Meta:
        ordering = ["order", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_number"], name="order_line_unique_number")
        ]
        indexes = [
            models.Index(fields=["acked_at"], condition=Q(in_flight__gt=0), name="orderline_in_flight")
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.line_number}"


class OrderEvent(models.Model):
    """A change of an order's (or a line's) status: when, from what to what, and why."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    line = models.ForeignKey(OrderLine, null=True, blank=True, on_delete=models.CASCADE)
    status_from = models.CharField(max_length=24, blank=True)
    status_to = models.CharField(max_length=24)
    cause = models.CharField(max_length=200)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.status_from or '-'} → {self.status_to} ({self.cause})"
