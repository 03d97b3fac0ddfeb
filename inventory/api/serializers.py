"""Small input and output serializers of the storefront API, one pair per operation.

Inputs validate shape and bounds only (types, lengths, ranges, no NUL characters, which
PostgreSQL refuses); rules of the business are the services' and selectors'.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from integration.core.ownership import System, fields_owned_by
from integration.storefront.api.fields import StrictCharField, StrictIntegerField
from integration.storefront.api.serializers import BodySerializer, RefusesUnknownFields
from inventory.catalogue import MAX_SKU_LENGTH, ProductCursor, representable
from inventory.models import Product, Reservation
from inventory.reservations import MAX_LINES, MAX_QUANTITY
from inventory.selectors import SkuAvailability
from inventory.validators import validate_attributes

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50
MAX_AVAILABILITY_SKUS = 50
MAX_IMAGES = 50
MAX_LONG_DESCRIPTION = 100_000


def _sku_field(strict: bool = True, **kwargs: Any) -> serializers.CharField:
    # An identifier, taken exactly as sent: no trimming (which would turn "\x1e" into a blank).
    field = StrictCharField if strict else serializers.CharField
    return field(min_length=1, max_length=MAX_SKU_LENGTH, trim_whitespace=False, **kwargs)


class BoundedDateTimeField(serializers.DateTimeField):
    """A date and time that a query can use: ``0001-01-01T00:00`` (Paris) is before year 1 in UTC,
    which DRF's field and the database adapters raise OverflowError on (a 500); here it is a 400."""

    default_error_messages = {"out_of_range": "This date and time is out of range."}

    def to_internal_value(self, value: Any) -> Any:
        try:
            result = super().to_internal_value(value)
        except OverflowError:
            self.fail("out_of_range")
        if not representable(result):
            self.fail("out_of_range")
        return result


# --- Products ---------------------------------------------------------------------------------


class ProductListInputSerializer(serializers.Serializer):
    category = serializers.CharField(
        required=False,
        max_length=4,
        trim_whitespace=False,
        help_text="AS400 family code (e.g. `F001`): only that category",
    )
    updated_since = BoundedDateTimeField(
        required=False,
        help_text="ISO 8601 date and time, with an offset (without one, Paris time): only products "
        "whose data changed at or after it",
    )
    in_stock = serializers.BooleanField(
        required=False, default=False, help_text="`true`: only products with a unit available somewhere"
    )
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE, help_text="Page size"
    )
    cursor = serializers.CharField(
        required=False, max_length=200, help_text="Opaque: the `cursor` of the previous page's `next` link"
    )

    def validate_cursor(self, value: str) -> ProductCursor:
        cursor = ProductCursor.decode(value)
        if cursor is None:
            raise serializers.ValidationError("This is not a cursor of this API; follow the `next` link.")
        return cursor


class CategoryOutputSerializer(serializers.Serializer):
    code = serializers.CharField(source="family_code")
    name = serializers.CharField()
    stage = serializers.ChoiceField(source="rollout_stage", choices=["live", "pilot"])


class StoreAvailabilityOutputSerializer(serializers.Serializer):
    location = serializers.IntegerField(help_text="AS400 store number")
    available = serializers.IntegerField(min_value=0)


class AvailabilityOutputSerializer(serializers.Serializer):
    home_delivery = serializers.IntegerField(min_value=0, help_text="Units of the warehouse (900)")
    stores = StoreAvailabilityOutputSerializer(many=True, help_text="Click-and-collect stores")
    as_of = serializers.DateTimeField(
        allow_null=True, help_text="When the oldest stock figures behind these numbers were taken"
    )


class SkuAvailabilityOutputSerializer(serializers.Serializer):
    sku = serializers.CharField()
    home_delivery = serializers.IntegerField(min_value=0, help_text="Units of the warehouse (900)")
    stores = StoreAvailabilityOutputSerializer(many=True, help_text="Click-and-collect stores")
    as_of = serializers.DateTimeField(
        allow_null=True, help_text="When the oldest stock figures behind these numbers were taken"
    )


class ProductOutputSerializer(serializers.Serializer):
    """A product as the storefront sees it; needs ``context["availability"]`` (by SKU)."""

    sku = serializers.CharField(source="mapping.sku")
    # AS400-owned
    item_number = serializers.CharField()
    ean = serializers.CharField()
    as400_description = serializers.CharField()
    category = CategoryOutputSerializer()
    price = serializers.DecimalField(max_digits=9, decimal_places=2, help_text="Incl. VAT, euros")
    vat_code = serializers.CharField()
    status = serializers.CharField(help_text="Always `A` (active): other products are not shown")
    as400_changed_on = serializers.DateField(allow_null=True)
    # storefront-owned
    title = serializers.CharField()
    long_description = serializers.CharField()
    images = serializers.ListField(child=serializers.CharField())
    attributes = serializers.DictField(child=serializers.JSONField())
    # computed
    availability = serializers.SerializerMethodField()
    updated_at = serializers.DateTimeField(help_text="Last change of the product's own data")

    @extend_schema_field(AvailabilityOutputSerializer)
    def get_availability(self, product: Product) -> dict[str, Any]:
        found: SkuAvailability | None = self.context["availability"].get(product.mapping.sku)
        if found is None:  # sold by nobody right now (e.g. no selling location)
            return {"home_delivery": 0, "stores": [], "as_of": None}
        return AvailabilityOutputSerializer(found).data  # type: ignore[return-value]


class ProductPageOutputSerializer(serializers.Serializer):
    results = ProductOutputSerializer(many=True)
    next = serializers.URLField(allow_null=True, help_text="The next page, or null on the last")


class ProductContentInputSerializer(RefusesUnknownFields, serializers.ModelSerializer):
    """The storefront-owned fields of a product, all optional; any other field is refused.

    Which fields: those integration/core/ownership.py gives to the storefront.
    """

    title = StrictCharField(required=False, allow_blank=True, max_length=200)
    long_description = StrictCharField(required=False, allow_blank=True, max_length=MAX_LONG_DESCRIPTION)
    images = serializers.ListField(
        required=False,
        child=StrictCharField(max_length=2000),
        max_length=MAX_IMAGES,
        help_text="Image URLs, first is main",
    )
    attributes = serializers.DictField(
        required=False,
        child=serializers.JSONField(),
        help_text="Merchandising attributes: any JSON object",
    )

    class Meta:
        model = Product
        fields = fields_owned_by(System.STOREFRONT)

    def validate_attributes(self, value: dict[str, Any]) -> dict[str, Any]:
        try:
            validate_attributes(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return value


# --- Availability -----------------------------------------------------------------------------


class AvailabilityInputSerializer(serializers.Serializer):
    sku = serializers.ListField(
        child=_sku_field(strict=False),
        min_length=1,
        max_length=MAX_AVAILABILITY_SKUS,
        help_text="Repeat for each SKU",
    )


class AvailabilityListOutputSerializer(serializers.Serializer):
    results = SkuAvailabilityOutputSerializer(
        many=True, help_text="One per SKU sold online, in the asked order"
    )
    unknown_skus = serializers.ListField(
        child=serializers.CharField(),
        help_text="Asked SKUs that are unknown or not sold online to this client",
    )


_AS_OF = serializers.DateTimeField(allow_null=True)


def availability_list_representation(
    results: list[SkuAvailability], unknown_skus: list[str]
) -> dict[str, Any]:
    """What :class:`AvailabilityListOutputSerializer` renders, built directly.

    ``GET /availability/`` answers every product page of both storefronts; DRF's nested
    serializers cost more than the query behind them (a field object per value, copied per
    request). The serializer stays the documented shape (OpenAPI); a test asserts both agree.
    """
    return {
        "results": [
            {
                "sku": a.sku,
                "home_delivery": a.home_delivery,
                "stores": [{"location": s.location, "available": s.available} for s in a.stores],
                "as_of": _AS_OF.to_representation(a.as_of) if a.as_of is not None else None,
            }
            for a in results
        ],
        "unknown_skus": list(unknown_skus),
    }


# --- Reservations -----------------------------------------------------------------------------


class ReservationLineInputSerializer(BodySerializer):
    sku = _sku_field()
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY)
    location = StrictIntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        max_value=999,
        help_text="AS400 location: a click-and-collect store, or (default) the warehouse 900 for home delivery",
    )


class ReservationInputSerializer(BodySerializer):
    lines = ReservationLineInputSerializer(many=True, min_length=1, max_length=MAX_LINES)


class ReservationLineOutputSerializer(serializers.Serializer):
    sku = serializers.CharField()
    location = serializers.IntegerField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(
        max_digits=9, decimal_places=2, help_text="AS400 price incl. VAT when reserved"
    )


class ReservationOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Reservation.Status.values)
    expires_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    lines = ReservationLineOutputSerializer(many=True)
