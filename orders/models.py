"""Web orders, their lines and the history of every status change.

A customer's name and address are kept exactly as the storefront sent them; the ORDIMP file gets
them folded to what the AS400's code page holds (see ``orders.services``), and an order shows both.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from inventory.models import Location, Product, Reservation


class Order(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed", "Placed (not yet sent to the AS400)"
        SENT = "sent", "Sent to the AS400"
        ACCEPTED = "accepted", "Accepted by the AS400"
        REFUSED = "refused", "Refused by the AS400"
        PICKED = "picked", "Being picked"
        PARTIALLY_SHIPPED = "partially_shipped", "Partly shipped"
        SHIPPED = "shipped", "Shipped"
        READY_IN_STORE = "ready_in_store", "Ready in store"
        PARTIALLY_RETURNED = "partially_returned", "Partly returned"
        RETURNED = "returned", "Returned"
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
    # Staff's handling of an order that needed attention (refused, a discrepancy, a dead message...).
    attention_resolved_at = models.DateTimeField(null=True, blank=True)
    attention_resolved_by = models.CharField(max_length=150, blank=True)
    attention_note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

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
    # What the AS400 (ORDSTS) and the stores (STRRTN) reported of the line's units. Each counter
    # only grows, and never past the line's quantity: an event that arrives late cannot undo one
    # that came before it.
    picked = models.PositiveIntegerField(default=0, help_text="Units picked (ORDSTS P, or shipped/ready)")
    shipped = models.PositiveIntegerField(default=0, help_text="Units shipped home (ORDSTS E)")
    ready = models.PositiveIntegerField(default=0, help_text="Units ready in store (ORDSTS L)")
    cancelled = models.PositiveIntegerField(
        default=0, help_text="Units cancelled (ORDSTS A, STRRTN C, or before leaving)"
    )
    returned = models.PositiveIntegerField(default=0, help_text="Units returned (ORDSTS R, STRRTN R)")

    class Meta:
        ordering = ["order", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_number"], name="order_line_unique_number"),
            models.CheckConstraint(
                condition=Q(picked__lte=F("quantity"))
                & Q(shipped__lte=F("quantity"))
                & Q(ready__lte=F("quantity"))
                & Q(cancelled__lte=F("quantity"))
                & Q(returned__lte=F("shipped") + F("ready")),
                name="order_line_counters_within_quantity",
            ),
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
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.status_from or '-'} → {self.status_to} ({self.cause})"


class OrderCancellation(models.Model):
    """A request to cancel an order, or some units of one of its lines.

    Before the order left for the AS400 the units are released at once (``released``). After, an
    ORDANN goes out (once the AS400 has acknowledged the order) and the request stays ``requested``
    until ORDSTS A confirms what the AS400 could still cancel (``confirmed``, with the units), or
    the units ship first (``too_late``).
    """

    class State(models.TextChoices):
        RELEASED = "released", "Released before the order left"
        REQUESTED = "requested", "Sent to the AS400, awaiting its answer"
        CONFIRMED = "confirmed", "Confirmed by the AS400"
        TOO_LATE = "too_late", "Too late: the units had already left"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="cancellations")
    line = models.ForeignKey(
        OrderLine, null=True, blank=True, on_delete=models.CASCADE, help_text="Empty: the whole order"
    )
    quantity = models.PositiveIntegerField(help_text="Units asked to cancel (whole order: all open units)")
    confirmed_quantity = models.PositiveIntegerField(default=0)
    reason = models.CharField(max_length=4, blank=True, help_text="Reason code (OARSN)")
    requested_by = models.CharField(max_length=64, help_text="Storefront client or staff member")
    idempotency_key = models.CharField(max_length=128, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="order_cancellation_unique_key",
            )
        ]

    def __str__(self) -> str:
        what = f"line {self.line.line_number}" if self.line else "whole order"
        return f"{self.order_id}: cancel {what} ×{self.quantity} ({self.state})"


class As400Event(models.Model):
    """One ORDSTS or STRRTN record as it was read, and what it did.

    Applied once: ``key`` is a digest of the record's fields, unique, so the same event in a
    repeated file (or a later file that repeats it) is recognised and not applied again. An event
    for an order or a line we do not know, or for more units than the line has left, is kept
    with its outcome and shown to staff as a discrepancy until they resolve it.
    """

    class Kind(models.TextChoices):
        PICKED = "picked", "Picked (ORDSTS P)"
        SHIPPED = "shipped", "Shipped (ORDSTS E)"
        READY = "ready", "Ready in store (ORDSTS L)"
        CANCELLED = "cancelled", "Cancelled by the AS400 (ORDSTS A)"
        RETURN_RECEIVED = "return_received", "Return received (ORDSTS R)"
        STORE_RETURN = "store_return", "Returned at a store counter (STRRTN R)"
        STORE_CANCEL = "store_cancel", "Cancelled at a store counter (STRRTN C)"
        UNKNOWN = "unknown", "Unknown event code"

    class Outcome(models.TextChoices):
        APPLIED = "applied", "Applied"
        PARTLY_APPLIED = "partly_applied", "Applied in part (more units than the line had left)"
        STALE = "stale", "Already counted (arrived after a later event)"
        UNKNOWN_ORDER = "unknown_order", "Unknown order"
        UNKNOWN_LINE = "unknown_line", "Unknown line"
        REJECTED = "rejected", "Not applicable (e.g. an unknown code, a return of nothing shipped)"

    DISCREPANCIES = (Outcome.PARTLY_APPLIED, Outcome.UNKNOWN_ORDER, Outcome.UNKNOWN_LINE, Outcome.REJECTED)

    file = models.CharField(max_length=6, help_text="ORDSTS or STRRTN")
    source = models.CharField(max_length=20, help_text="The pair it came in first, e.g. ORDSTS_000012")
    record = models.PositiveIntegerField(help_text="Its position in that file, from 1")
    key = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the record's fields")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    code = models.CharField(max_length=1, help_text="OSEVT or SRTYPE as read")
    order_number = models.CharField(max_length=20, db_index=True)
    as400_order_number = models.CharField(max_length=10, blank=True)
    line_number = models.PositiveSmallIntegerField()
    item = models.CharField(max_length=15, blank=True)
    quantity = models.IntegerField()
    applied_quantity = models.PositiveIntegerField(default=0)
    tracking = models.CharField(max_length=30, blank=True)
    store = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="the store of a STRRTN record (its SRMAG)"
    )
    reason = models.CharField(
        max_length=4, blank=True, help_text="the reason code of a STRRTN record (its SRRSN)"
    )
    occurred_at = models.DateTimeField(null=True, blank=True)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="as400_events"
    )
    line = models.ForeignKey(OrderLine, null=True, blank=True, on_delete=models.SET_NULL)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, db_index=True)
    note = models.CharField(max_length=300, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=150, blank=True)
    resolution = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(
                fields=["outcome"],
                condition=Q(
                    resolved_at__isnull=True,
                    outcome__in=["partly_applied", "unknown_order", "unknown_line", "rejected"],
                ),
                name="as400event_open_discrepancy",
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.source}#{self.record} {self.kind} {self.order_number}/{self.line_number} ×{self.quantity}"
        )
