"""Returns of web orders: asked for on the site (an RMA, announced to the AS400 by RTNIMP) or made at
a store counter (STRRTN R). The storefront sees both in one list.

A web return is ``requested`` (its RTNIMP waits in the outbox), ``announced`` (the file went), then
``partially_received`` / ``received`` as ORDSTS R reports the goods. A store return is received
when it is made.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from orders.models import Order, OrderLine


class Return(models.Model):
    class Source(models.TextChoices):
        WEB = "web", "Asked for on the site"
        STORE = "store", "Made at a store counter (STRRTN R)"
        AS400 = "as400", "Received by the AS400 without an announcement (ORDSTS R)"

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        ANNOUNCED = "announced", "Announced to the AS400"
        PARTIALLY_RECEIVED = "partially_received", "Partly received"
        RECEIVED = "received", "Received"

    rma = models.CharField(max_length=12, unique=True, help_text="Return authorisation number (RIRMA)")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns")
    client = models.CharField(max_length=64, help_text="Storefront client of the order")
    source = models.CharField(max_length=5, choices=Source.choices)
    status = models.CharField(max_length=18, choices=Status.choices, db_index=True)
    reason = models.CharField(max_length=4, blank=True, help_text="Reason code (RIRSN / SRRSN)")
    comment = models.CharField(max_length=500, blank=True, help_text="The customer's words, as given")
    store = models.PositiveSmallIntegerField(help_text="Where the goods come back: a store, or 900")
    idempotency_key = models.CharField(max_length=128, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    announced_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="return_unique_idempotency_key",
            )
        ]

    def __str__(self) -> str:
        return self.rma


class ReturnLine(models.Model):
    ret = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.PositiveIntegerField()
    received_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["ret", "order_line__line_number"]
        constraints = [
            models.UniqueConstraint(fields=["ret", "order_line"], name="return_line_unique"),
            models.CheckConstraint(
                condition=Q(received_quantity__lte=F("quantity")), name="return_line_received_within"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ret_id}/{self.order_line_id} ×{self.quantity}"
