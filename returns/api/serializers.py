"""Input and output serializers of the returns' endpoints.

Inputs check shape and bounds only (types, lengths, ranges). Whether the order is the client's,
the reason one of ours and the units returnable are the service's rules (``returns.services``), so
that a reason outside the list is refused with its own code (``invalid_reason``).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from integration.storefront.api.fields import StrictCharField, StrictIntegerField
from integration.storefront.api.serializers import BodySerializer
from inventory.reservations import MAX_LINES, MAX_QUANTITY
from orders.api.serializers import OrderNumberField
from returns.models import Return
from returns.reasons import ReturnReason, reasons_described
from returns.selectors import MAX_PAGE_SIZE

REASON_HELP = "Why the goods come back, one of:\n\n" + reasons_described()


@extend_schema_field({"type": "string", "enum": list(ReturnReason.values), "description": REASON_HELP})
class ReasonField(StrictCharField):
    """A reason code; one outside the list is the service's ``invalid_reason`` (it names the list)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=40, trim_whitespace=False, **kwargs)


class ReturnLineInputSerializer(BodySerializer):
    line_number = StrictIntegerField(min_value=1, max_value=999, help_text="The order line's number")
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY, help_text="Units to send back")


class ReturnInputSerializer(BodySerializer):
    order_number = OrderNumberField()
    lines = ReturnLineInputSerializer(many=True, min_length=1, max_length=MAX_LINES)
    reason = ReasonField()
    comment = StrictCharField(
        required=False, default="", allow_blank=True, max_length=500, trim_whitespace=False,
        help_text="The customer's words, kept as given (not sent to the AS400)",
    )  # fmt: skip
    store = StrictIntegerField(
        required=False, allow_null=True, default=None, min_value=0, max_value=999,
        help_text="Where the goods come back (AS400 number): a store 001-030 or the warehouse 900. "
        "Default: the warehouse for a home delivery, the pickup store for click and collect",
    )  # fmt: skip


class ReturnListInputSerializer(serializers.Serializer):
    order_number = OrderNumberField(help_text="The order")
    limit = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PAGE_SIZE,
        default=MAX_PAGE_SIZE // 2,
        help_text="Page size",
    )
    page = serializers.IntegerField(
        required=False, min_value=1, max_value=10_000, default=1, help_text="Page number, from 1"
    )


# --- Output -----------------------------------------------------------------------------------


class ReturnLineOutputSerializer(serializers.Serializer):
    line_number = serializers.IntegerField(help_text="The order line's number")
    sku = serializers.CharField()
    quantity = serializers.IntegerField(help_text="Units returned (a store return) or to return (a web one)")
    received_quantity = serializers.IntegerField(help_text="Units the AS400 reported back so far")


class ReturnOutputSerializer(serializers.Serializer):
    rma = serializers.CharField(help_text="Return authorisation number, 12 characters")
    order_number = serializers.CharField()
    source = serializers.ChoiceField(
        choices=Return.Source.choices,
        help_text="`web`: asked for here; `store`: made at a store counter; `as400`: received by the AS400 "
        "without an announcement",
    )
    status = serializers.ChoiceField(
        choices=Return.Status.choices,
        help_text="`requested` (waiting to be sent to the AS400), `announced` (the AS400 expects the goods), "
        "`partially_received`, `received`",
    )
    reason = serializers.CharField(
        help_text="A web return's reason code (see the request); a store's own code for a store return; "
        "may be empty"
    )
    comment = serializers.CharField()
    store = serializers.IntegerField(help_text="Where the goods come back: a store, or the warehouse 900")
    lines = ReturnLineOutputSerializer(many=True)
    created_at = serializers.DateTimeField()
    announced_at = serializers.DateTimeField(
        allow_null=True, help_text="When the AS400 was told to expect it"
    )
    received_at = serializers.DateTimeField(allow_null=True, help_text="When the last of its goods arrived")


class ReturnPageOutputSerializer(serializers.Serializer):
    results = ReturnOutputSerializer(many=True, help_text="Newest first")
    next = serializers.URLField(allow_null=True, help_text="The next page, or null on the last")
