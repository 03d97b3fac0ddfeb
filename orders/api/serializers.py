"""Input and output serializers of the orders' endpoints.

Inputs check shape and bounds (types, lengths, ranges; DRF's text fields refuse NUL and
surrogate characters, which PostgreSQL cannot store), and state them in the OpenAPI description:
the order number's alphabet (``orders.numbers``), each customer field's length as its ORDIMP field
holds it (from the DDS), the country's ISO 3166-1 list, prices in ASCII digits. What the AS400 can
carry once folded, whether the lines match the reservation and the prices are the checkout's rules
(``orders.services.order_place``), which checks all of it again whatever the caller.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.core.validators import EmailValidator, RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from integration.as400.dds import load_layout
from integration.storefront.api.fields import StrictCharField, StrictIntegerField
from integration.storefront.api.serializers import BodySerializer
from inventory.catalogue import MAX_SKU_LENGTH
from inventory.reservations import MAX_LINES, MAX_QUANTITY
from orders.as400_imports import FREE_TEXT
from orders.countries import ISO_3166_ALPHA2
from orders.models import Order, OrderCancellation
from orders.numbers import (
    ORDER_NUMBER_MAX_LENGTH,
    ORDER_NUMBER_PATTERN,
    ORDER_NUMBER_RULE,
    order_number_problem,
)

PRICE = re.compile(r"[0-9]{1,7}(\.[0-9]{1,2})?")  # ASCII digits only: \d would take "٩.٩٠"
#: Each customer field's length: its ORDIMP header field's, from the DDS.
ORDIMP_LENGTH = {name: load_layout("ORDIMP").format("ORDIMPH").field(f).size for name, f in FREE_TEXT.items()}
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@extend_schema_field(
    {"type": "string", "pattern": f"^{PRICE.pattern}$", "example": "9.90", "description": "Euros, incl. VAT"}
)
class PriceField(serializers.Field):
    """A price as a JSON string (``"9.90"``): never a float, never an exponent; kept to 2 decimals,
    so that ``"9.9"`` and ``"9.90"`` are the same price and the same order."""

    default_error_messages = {
        "invalid": 'This must be a price in euros as a string, with at most 2 decimals ("9.90").'
    }

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str) or not PRICE.fullmatch(data):
            self.fail("invalid")
        return Decimal(data).quantize(Decimal("0.01"))

    def to_representation(self, value: Any) -> str:
        return f"{Decimal(value):.2f}"


@extend_schema_field({"type": "string", "format": "uuid"})
class StrictUuidField(StrictCharField):
    """A UUID in its canonical text form only (an integer or ``urn:uuid:`` is not one here)."""

    default_error_messages = {"not_uuid": "This must be a UUID."}

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not UUID.fullmatch(value):
            self.fail("not_uuid")
        return value.lower()


@extend_schema_field(
    {
        "type": "string", "minLength": 1, "maxLength": ORDER_NUMBER_MAX_LENGTH, "pattern": ORDER_NUMBER_PATTERN,
        "example": "WEB-2026-000001",
    }
)  # fmt: skip
class OrderNumberField(StrictCharField):
    """A web order number (``orders.numbers``): refused unless it is one exactly, never trimmed."""

    def __init__(self, **kwargs: Any) -> None:
        help_text = kwargs.pop("help_text", "The storefront's order number")
        super().__init__(
            min_length=1, max_length=ORDER_NUMBER_MAX_LENGTH, trim_whitespace=False,
            help_text=f"{help_text}: {ORDER_NUMBER_RULE}", **kwargs,
        )  # fmt: skip

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not 1 <= len(value) <= ORDER_NUMBER_MAX_LENGTH:
            return value  # the length validators say it, in DRF's words
        problem = order_number_problem(value)
        if problem is not None:
            raise serializers.ValidationError(f"This is not an order number: {problem}.", code="invalid")
        return value


def _text(name: str, **kwargs: Any) -> StrictCharField:
    """Free text kept exactly as given (no trimming), at most as long as its ORDIMP field."""
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_blank", True)
    if not kwargs["required"]:
        kwargs.setdefault("default", "")
    length = ORDIMP_LENGTH[name]
    kwargs.setdefault(
        "help_text",
        f"At most {length} characters (its ORDIMP field), also once folded to the AS400's code page; "
        "no control character",
    )
    return StrictCharField(max_length=length, trim_whitespace=False, **kwargs)


@extend_schema_field({"type": "string", "enum": sorted(ISO_3166_ALPHA2), "default": "FR"})
class CountryField(StrictCharField):
    """An ISO 3166-1 alpha-2 code, in capitals (``orders.countries``)."""

    default_error_messages = {
        "not_country": "This must be an ISO 3166-1 alpha-2 code in capitals (FR, BE...)."
    }

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if value not in ISO_3166_ALPHA2:
            self.fail("not_country")
        return value


class CustomerInputSerializer(BodySerializer):
    last_name = _text("last_name", required=True, allow_blank=False, min_length=1)
    first_name = _text("first_name")
    address_line1 = _text("address_line1")
    address_line2 = _text("address_line2")
    postal_code = _text("postal_code")
    city = _text("city")
    country = CountryField(
        required=False, default="FR", min_length=2, max_length=2, trim_whitespace=False,
        help_text="ISO 3166-1 alpha-2, in capitals",
    )  # fmt: skip
    phone = _text("phone")
    email = _text("email", validators=[EmailValidator()])


class OrderLineInputSerializer(BodySerializer):
    sku = StrictCharField(min_length=1, max_length=MAX_SKU_LENGTH, trim_whitespace=False)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_price = PriceField(help_text="The AS400 price the reservation was made at")
    location = StrictIntegerField(
        required=False, allow_null=True, default=None, min_value=0, max_value=999,
        help_text="As in the reservation; default: the order's picking location",
    )  # fmt: skip


class OrderInputSerializer(BodySerializer):
    order_number = OrderNumberField(
        help_text="The storefront's number, which becomes the AS400's web order number as it is"
    )
    reservation = StrictUuidField(help_text="The reservation this checkout holds")
    delivery = serializers.ChoiceField(choices=Order.Delivery.choices)
    pickup_location = StrictIntegerField(
        required=False, allow_null=True, default=None, min_value=0, max_value=999,
        help_text="Click and collect: the store (AS400 number)",
    )  # fmt: skip
    customer = CustomerInputSerializer()
    lines = OrderLineInputSerializer(many=True, min_length=1, max_length=MAX_LINES)


# --- Output -----------------------------------------------------------------------------------


class CustomerOutputSerializer(serializers.Serializer):
    last_name = serializers.CharField()
    first_name = serializers.CharField()
    address_line1 = serializers.CharField()
    address_line2 = serializers.CharField()
    postal_code = serializers.CharField()
    city = serializers.CharField()
    country = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()


class CustomerAsSentOutputSerializer(CustomerOutputSerializer):
    """The same fields as the AS400 file carries them (folded, cut); the country is not folded."""

    country = None  # type: ignore[assignment]


class OrderLineOutputSerializer(serializers.Serializer):
    line_number = serializers.IntegerField()
    sku = serializers.CharField()
    location = serializers.IntegerField(help_text="Picking location (AS400 number)")
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=9, decimal_places=2)
    picked = serializers.IntegerField(help_text="Units picked (ORDSTS P)")
    shipped = serializers.IntegerField(help_text="Units shipped home (ORDSTS E)")
    ready = serializers.IntegerField(help_text="Units ready in store (ORDSTS L)")
    cancelled = serializers.IntegerField(help_text="Units cancelled: by the customer, the AS400 or a store")
    returned = serializers.IntegerField(help_text="Units returned: received by the warehouse or at a store")
    tracking_numbers = serializers.ListField(
        child=serializers.CharField(), help_text="Carriers' tracking numbers of the shipments of this line"
    )


class OrderEventOutputSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    locals()["from"] = serializers.ChoiceField(
        choices=Order.Status.choices, allow_null=True, help_text="null for the placement"
    )
    to = serializers.ChoiceField(choices=Order.Status.choices)
    cause = serializers.CharField()
    line = serializers.IntegerField(
        allow_null=True, help_text="The line's number when the change is a line's"
    )


class OrderCancellationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    line = serializers.IntegerField(allow_null=True, help_text="The line's number; null: the whole order")
    quantity = serializers.IntegerField(help_text="Units asked (the whole order: every unit still open)")
    confirmed_quantity = serializers.IntegerField(help_text="Units actually cancelled so far")
    state = serializers.ChoiceField(
        choices=OrderCancellation.State.choices,
        help_text="`released` at once (before the order left), or `requested` from the AS400 until it "
        "answers (`confirmed`, or `too_late`: the units had left)",
    )
    reason = serializers.CharField(allow_null=True)
    requested_by = serializers.CharField()
    created_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)


class OrderOutputSerializer(serializers.Serializer):
    order_number = serializers.CharField()
    status = serializers.ChoiceField(choices=Order.Status.choices)
    as400_order_number = serializers.CharField(
        allow_null=True, help_text="Once the AS400 has acknowledged it"
    )
    refusal_reason = serializers.CharField(allow_null=True, help_text="Why the AS400 refused it, if it did")
    delivery = serializers.ChoiceField(choices=Order.Delivery.choices)
    pickup_location = serializers.IntegerField(help_text="The store, or the warehouse 900 for home delivery")
    reservation = serializers.UUIDField(allow_null=True)
    total = serializers.DecimalField(max_digits=11, decimal_places=2)
    customer = CustomerOutputSerializer(help_text="Exactly as given")
    customer_as_sent = CustomerAsSentOutputSerializer(
        help_text="As the file sent to the AS400 carries it: folded to its code page and cut to its fields"
    )
    lines = OrderLineOutputSerializer(many=True)
    events = OrderEventOutputSerializer(many=True, help_text="Every status change, oldest first")
    cancellations = OrderCancellationOutputSerializer(
        many=True, help_text="Every cancellation asked, oldest first"
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


# --- Cancellation -----------------------------------------------------------------------------


class CancelLineInputSerializer(BodySerializer):
    line_number = StrictIntegerField(min_value=1, max_value=999)
    quantity = StrictIntegerField(
        min_value=1, max_value=MAX_QUANTITY, help_text="Units of the line to cancel"
    )


class OrderCancelInputSerializer(BodySerializer):
    lines = CancelLineInputSerializer(
        many=True, required=False, min_length=1, max_length=MAX_LINES,
        help_text="Units of some lines; leave it out to cancel the whole order",
    )  # fmt: skip
    reason = StrictCharField(
        required=False, min_length=1, max_length=4, trim_whitespace=False,
        validators=[RegexValidator(r"^[A-Z0-9]{1,4}$", "This must be 1 to 4 capital letters or digits.")],
        help_text="A reason code for the AS400 (OARSN), 1 to 4 capital letters or digits; optional",
    )  # fmt: skip

    def validate_lines(self, value: list[dict[str, int]]) -> list[dict[str, int]]:
        numbers = [line["line_number"] for line in value]
        if len(set(numbers)) != len(numbers):
            raise serializers.ValidationError("Name each line at most once.")
        return value


class OrderCancelOutputSerializer(OrderOutputSerializer):
    this_request = OrderCancellationOutputSerializer(
        many=True, help_text="The cancellation(s) of this request (also listed in `cancellations`)"
    )
