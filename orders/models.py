"""Web orders, their lines and the history of every status change.

A customer's name and address are kept exactly as the storefront sent them; the ORDIMP file gets
them folded to what the AS400's code page holds (see ``orders.services``), and an order shows both.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from integration.core.stored_texts import stored_text_translated
from inventory.models import Location, Product, Reservation


class Order(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed", _("Placed (not yet sent to the AS400)")
        SENT = "sent", _("Sent to the AS400")
        ACCEPTED = "accepted", _("Accepted by the AS400")
        REFUSED = "refused", _("Refused by the AS400")
        PICKED = "picked", _("Being picked")
        PARTIALLY_SHIPPED = "partially_shipped", _("Partly shipped")
        SHIPPED = "shipped", _("Shipped")
        READY_IN_STORE = "ready_in_store", _("Ready in store")
        PARTIALLY_RETURNED = "partially_returned", _("Partly returned")
        RETURNED = "returned", _("Returned")
        CANCELLATION_REQUESTED = "cancellation_requested", _("Cancellation requested")
        CANCELLED = "cancelled", pgettext_lazy("order status", "Cancelled")

    class Delivery(models.TextChoices):
        HOME = "home", _("Home delivery (warehouse)")
        CLICK_AND_COLLECT = "click_and_collect", _("Click and collect (store)")

    order_number = models.CharField(_("order number"), max_length=20, unique=True, help_text=_("The storefront's number (OHWEBN)"))
    client = models.CharField(_("client"), max_length=64, help_text=_("Storefront client that placed it"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=128, blank=True)
    content_hash = models.CharField(_("content hash"), max_length=64, help_text=_("What was asked, to tell a replay from a clash"))
    status = models.CharField(_("status"), max_length=24, choices=Status.choices, default=Status.PLACED, db_index=True)
    delivery = models.CharField(_("delivery"), max_length=20, choices=Delivery.choices)
    pickup_location = models.ForeignKey(Location, on_delete=models.PROTECT, help_text=_("900 for home delivery"), verbose_name=_("pickup location"))
    reservation = models.OneToOneField(Reservation, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("reservation"))
    # The customer, exactly as given.
    last_name = models.CharField(_("last name"), max_length=200)
    first_name = models.CharField(_("first name"), max_length=200, blank=True)
    address_line1 = models.CharField(_("address line 1"), max_length=300, blank=True)
    address_line2 = models.CharField(_("address line 2"), max_length=300, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=200, blank=True)
    country = models.CharField(_("country"), max_length=2, default="FR")
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    total = models.DecimalField(_("total"), max_digits=11, decimal_places=2)
    as400_order_number = models.CharField(_("AS400 order number"), max_length=10, blank=True, db_index=True)
    refusal_reason = models.CharField(_("refusal reason"), max_length=60, blank=True)
    # Staff's handling of an order that needed attention (refused, a discrepancy, a dead message...).
    attention_resolved_at = models.DateTimeField(_("attention resolved at"), null=True, blank=True)
    attention_resolved_by = models.CharField(_("attention resolved by"), max_length=150, blank=True)
    attention_note = models.CharField(_("attention note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
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

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order"))
    line_number = models.PositiveSmallIntegerField(_("line number"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, verbose_name=_("product"))
    location = models.ForeignKey(Location, on_delete=models.PROTECT, help_text=_("Picking location (OLMAG)"), verbose_name=_("location"))
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), max_digits=9, decimal_places=2)
    acked_at = models.DateTimeField(_("acked at"), null=True, blank=True, help_text=_("ORDACK time (AKDATE/AKTIME)"))
    in_flight = models.PositiveIntegerField(_("in flight"),
        default=0, help_text=_("Units still counted in the stock's in_flight for this line")
    )
    # What the AS400 (ORDSTS) and the stores (STRRTN) reported of the line's units. Each counter
    # only grows, and never past the line's quantity: an event that arrives late cannot undo one
    # that came before it.
    picked = models.PositiveIntegerField(_("picked"), default=0, help_text=_("Units picked (ORDSTS P, or shipped/ready)"))
    shipped = models.PositiveIntegerField(_("shipped"), default=0, help_text=_("Units shipped home (ORDSTS E)"))
    ready = models.PositiveIntegerField(_("ready"), default=0, help_text=_("Units ready in store (ORDSTS L)"))
    cancelled = models.PositiveIntegerField(_("cancelled"),
        default=0, help_text=_("Units cancelled (ORDSTS A, STRRTN C, or before leaving)")
    )
    returned = models.PositiveIntegerField(_("returned"), default=0, help_text=_("Units returned (ORDSTS R, STRRTN R)"))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
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


def status_label(value: str) -> str:
    """An order status as staff read it ("Partly shipped"), not its code (``partially_shipped``)."""
    if not value:
        return "-"
    try:
        return str(Order.Status(value).label)
    except ValueError:
        return value


class OrderEvent(models.Model):
    """A change of an order's (or a line's) status: when, from what to what, and why."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events", verbose_name=_("order"))
    line = models.ForeignKey(OrderLine, null=True, blank=True, on_delete=models.CASCADE, verbose_name=_("line"))
    status_from = models.CharField(_("status from"), max_length=24, blank=True)
    status_to = models.CharField(_("status to"), max_length=24)
    cause = models.CharField(_("cause"), max_length=200)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        # Shown above each row of the order's history: labels and the cause in the reader's language.
        return f"{self.order_id}: {status_label(self.status_from)} → {status_label(self.status_to)} ({self.cause_shown})"

    @property
    def cause_shown(self) -> str:
        """The cause, stored in English (integration.core.stored_texts), in the active language."""
        return stored_text_translated(self.cause)


class OrderCancellation(models.Model):
    """A request to cancel an order, or some units of one of its lines.

    Before the order left for the AS400 the units are released at once (``released``). After, an
    ORDANN goes out (once the AS400 has acknowledged the order) and the request stays ``requested``
    until ORDSTS A confirms what the AS400 could still cancel (``confirmed``, with the units), or
    the units ship first (``too_late``).
    """

    class State(models.TextChoices):
        RELEASED = "released", _("Released before the order left")
        REQUESTED = "requested", _("Sent to the AS400, awaiting its answer")
        CONFIRMED = "confirmed", _("Confirmed by the AS400")
        TOO_LATE = "too_late", _("Too late: the units had already left")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="cancellations", verbose_name=_("order"))
    line = models.ForeignKey(
        OrderLine, null=True, blank=True, on_delete=models.CASCADE, help_text=_("Empty: the whole order"), verbose_name=_("line"))
    quantity = models.PositiveIntegerField(_("quantity"), help_text=_("Units asked to cancel (whole order: all open units)"))
    confirmed_quantity = models.PositiveIntegerField(_("confirmed quantity"), default=0)
    reason = models.CharField(_("reason"), max_length=4, blank=True, help_text=_("Reason code (OARSN)"))
    requested_by = models.CharField(_("requested by"), max_length=64, help_text=_("Storefront client or staff member"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=128, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, db_index=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("order cancellation")
        verbose_name_plural = _("order cancellations")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="order_cancellation_unique_key",
            )
        ]

    def __str__(self) -> str:  # shown above each row of the order's cancellations: in the reader's language
        what = gettext("line {number}").format(number=self.line.line_number) if self.line else gettext("whole order")
        return gettext("{order}: cancel {what} ×{quantity} ({state})").format(
            order=self.order_id, what=what, quantity=self.quantity, state=self.get_state_display()
        )


class As400Event(models.Model):
    """One ORDSTS or STRRTN record as it was read, and what it did.

    Applied once: ``key`` is a digest of the record's fields, unique, so the same event in a
    repeated file (or a later file that repeats it) is recognised and not applied again. An event
    for an order or a line we do not know, or for more units than the line has left, is kept
    with its outcome and shown to staff as a discrepancy until they resolve it.
    """

    class Kind(models.TextChoices):
        PICKED = "picked", _("Picked (ORDSTS P)")
        SHIPPED = "shipped", _("Shipped (ORDSTS E)")
        READY = "ready", _("Ready in store (ORDSTS L)")
        CANCELLED = "cancelled", _("Cancelled by the AS400 (ORDSTS A)")
        RETURN_RECEIVED = "return_received", _("Return received (ORDSTS R)")
        STORE_RETURN = "store_return", _("Returned at a store counter (STRRTN R)")
        STORE_CANCEL = "store_cancel", _("Cancelled at a store counter (STRRTN C)")
        UNKNOWN = "unknown", _("Unknown event code")

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("Applied")
        PARTLY_APPLIED = "partly_applied", _("Applied in part (more units than the line had left)")
        STALE = "stale", _("Already counted (arrived after a later event)")
        UNKNOWN_ORDER = "unknown_order", _("Unknown order")
        UNKNOWN_LINE = "unknown_line", _("Unknown line")
        REJECTED = "rejected", _("Not applicable (e.g. an unknown code, a return of nothing shipped)")

    DISCREPANCIES = (Outcome.PARTLY_APPLIED, Outcome.UNKNOWN_ORDER, Outcome.UNKNOWN_LINE, Outcome.REJECTED)

    file = models.CharField(_("file"), max_length=6, help_text=_("ORDSTS or STRRTN"))
    source = models.CharField(_("source"), max_length=20, help_text=_("The pair it came in first, e.g. ORDSTS_000012"))
    record = models.PositiveIntegerField(_("record"), help_text=_("Its position in that file, from 1"))
    key = models.CharField(_("key"), max_length=64, unique=True, help_text=_("SHA-256 of the record's fields"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    code = models.CharField(_("code"), max_length=1, help_text=_("OSEVT or SRTYPE as read"))
    order_number = models.CharField(_("order number"), max_length=20, db_index=True)
    as400_order_number = models.CharField(_("AS400 order number"), max_length=10, blank=True)
    line_number = models.PositiveSmallIntegerField(_("line number"))
    item = models.CharField(_("item"), max_length=15, blank=True)
    quantity = models.IntegerField(_("quantity"))
    applied_quantity = models.PositiveIntegerField(_("applied quantity"), default=0)
    tracking = models.CharField(_("tracking"), max_length=30, blank=True)
    store = models.PositiveSmallIntegerField(_("store"),
        null=True, blank=True, help_text=_("the store of a STRRTN record (its SRMAG)")
    )
    reason = models.CharField(_("reason"),
        max_length=4, blank=True, help_text=_("the reason code of a STRRTN record (its SRRSN)")
    )
    occurred_at = models.DateTimeField(_("occurred at"), null=True, blank=True)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="as400_events", verbose_name=_("order"))
    line = models.ForeignKey(OrderLine, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("line"))
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, db_index=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.CharField(_("resolved by"), max_length=150, blank=True)
    resolution = models.CharField(_("resolution"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("AS400 event")
        verbose_name_plural = _("AS400 events")
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
        return (  # shown above each row of the order's AS400 events: the kind's label, not its code
            f"{self.source}#{self.record} {self.get_kind_display()} {self.order_number}/{self.line_number} ×{self.quantity}"
        )
