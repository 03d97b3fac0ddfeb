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
from django.utils.translation import gettext_lazy as _

from orders.models import Order, OrderLine


class Return(models.Model):
    class Source(models.TextChoices):
        WEB = "web", _("Asked for on the site")
        STORE = "store", _("Made at a store counter (STRRTN R)")
        AS400 = "as400", _("Received by the AS400 without an announcement (ORDSTS R)")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        ANNOUNCED = "announced", _("Announced to the AS400")
        PARTIALLY_RECEIVED = "partially_received", _("Partly received")
        RECEIVED = "received", _("Received")

    rma = models.CharField(_("RMA"), max_length=12, unique=True, help_text=_("Return authorisation number (RIRMA)"))
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns", verbose_name=_("order"))
    client = models.CharField(_("client"), max_length=64, help_text=_("Storefront client of the order"))
    source = models.CharField(_("source"), max_length=5, choices=Source.choices)
    status = models.CharField(_("status"), max_length=18, choices=Status.choices, db_index=True)
    reason = models.CharField(_("reason"), max_length=4, blank=True, help_text=_("Reason code (RIRSN / SRRSN)"))
    comment = models.CharField(_("comment"), max_length=500, blank=True, help_text=_("The customer's words, as given"))
    store = models.PositiveSmallIntegerField(_("store"), help_text=_("Where the goods come back: a store, or 900"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=128, blank=True)
    content_hash = models.CharField(_("content hash"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    announced_at = models.DateTimeField(_("announced at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")
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
    ret = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines", verbose_name=_("return"))
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="return_lines", verbose_name=_("order line"))
    quantity = models.PositiveIntegerField(_("quantity"))
    received_quantity = models.PositiveIntegerField(_("received quantity"), default=0)

    class Meta:
        verbose_name = _("return line")
        verbose_name_plural = _("return lines")
        ordering = ["ret", "order_line__line_number"]
        constraints = [
            models.UniqueConstraint(fields=["ret", "order_line"], name="return_line_unique"),
            models.CheckConstraint(
                condition=Q(received_quantity__lte=F("quantity")), name="return_line_received_within"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ret_id}/{self.order_line_id} ×{self.quantity}"
