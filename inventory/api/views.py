"""The storefront API's inventory endpoints: one class per operation, each a few lines.

Each view reads its input with an input serializer, calls one selector or service, and writes
its answer with an output serializer. Errors leave as exceptions and take the one error shape
(``integration.storefront.api.errors``). Products the client may not see (an ``off`` category, a ``pilot``
one for a client without ``can_see_pilot``, an inactive or unmapped item) do not exist here.
"""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from integration.core.ownership import PRODUCT_FIELDS, System, check_product_write
from integration.models import StorefrontClient
from integration.storefront.api.base import ClientApi, idempotency_header
from integration.storefront.api.errors import ApiError, ErrorCode, error_responses
from inventory.api.serializers import (
    AvailabilityInputSerializer,
    AvailabilityListOutputSerializer,
    ProductContentInputSerializer,
    ProductListInputSerializer,
    ProductOutputSerializer,
    ProductPageOutputSerializer,
    ReservationInputSerializer,
    ReservationOutputSerializer,
    availability_list_representation,
)
from inventory.catalogue import availability_of, product_by_sku, product_page, reservation_lines
from inventory.errors import ReservationNotFound
from inventory.models import Product, Reservation
from inventory.reservations import (
    LineRequest,
    reservation_create,
    reservation_get,
    reservation_is_expired,
    reservation_release,
    reservation_replace_lines,
)
from inventory.services import product_content_update

Scope = StorefrontClient.Scope


SKU_PARAMETER = OpenApiParameter(
    "sku",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The storefront SKU (the item mapping's)",
    examples=[OpenApiExample("A drill", value="4006381333931")],
)


def _scope(scope: str) -> str:
    return f"\n\nScope: `{scope}`."


def _single_values(request: Request) -> dict[str, str]:
    """The query's parameters, one value each, as plain data: an empty value is a value (and
    refused where it is not allowed), not "absent" as DRF reads forms."""
    return {name: request.query_params[name] for name in request.query_params}


# --- Products ---------------------------------------------------------------------------------


def _visible_product(client: StorefrontClient, sku: str) -> Product:
    product = product_by_sku(sku=sku, include_pilot=client.can_see_pilot)
    if product is None:
        raise ApiError(
            status_code=status.HTTP_404_NOT_FOUND,
            code=ErrorCode.PRODUCT_NOT_FOUND,
            message=f"no product {sku}",
        )
    return product


def _product_data(client: StorefrontClient, product: Product) -> dict[str, Any]:
    availability = availability_of(skus=[product.mapping.sku], include_pilot=client.can_see_pilot)
    return ProductOutputSerializer(product, context={"availability": availability}).data  # type: ignore[return-value]


class ProductListApi(ClientApi):
    required_scope = Scope.CATALOG_READ

    @extend_schema(
        operation_id="products_list",
        tags=["products"],
        summary="List products",
        description="The products this client may see, in order of their last change (`updated_at`, then "
        "id), so that `updated_since` plus `next` links make a change feed. A page may hold fewer than "
        "`limit` products (with `in_stock`); follow `next` until it is null." + _scope(Scope.CATALOG_READ),
        parameters=[ProductListInputSerializer],
        responses={200: ProductPageOutputSerializer, **error_responses(400, 401, 403, 429)},
    )
    def get(self, request: Request) -> Response:
        query = ProductListInputSerializer(data=_single_values(request))
        query.is_valid(raise_exception=True)
        params = dict(query.validated_data)
        page = product_page(
            include_pilot=self.client.can_see_pilot, after=params.pop("cursor", None), **params
        )
        availability = availability_of(
            skus=[p.mapping.sku for p in page.products], include_pilot=self.client.can_see_pilot
        )
        next_url = None
        if page.next is not None:
            next_url = replace_query_param(request.build_absolute_uri(), "cursor", page.next.encode())
        output = ProductPageOutputSerializer(
            {"results": page.products, "next": next_url}, context={"availability": availability}
        )
        return Response(output.data)


class ProductDetailApi(ClientApi):
    not_found_code = "product_not_found"
    required_scope = Scope.CATALOG_READ

    @extend_schema(
        operation_id="products_retrieve",
        tags=["products"],
        summary="One product",
        description="AS400 fields, storefront content, price and availability." + _scope(Scope.CATALOG_READ),
        parameters=[SKU_PARAMETER],
        responses={200: ProductOutputSerializer, **error_responses(401, 403, 404, 429)},
    )
    def get(self, request: Request, sku: str) -> Response:
        return Response(_product_data(self.client, _visible_product(self.client, sku)))


class ProductContentUpdateApi(ClientApi):
    not_found_code = "product_not_found"
    required_scope = Scope.CATALOG_WRITE

    @extend_schema(
        operation_id="products_content_update",
        tags=["products"],
        summary="Change a product's storefront content",
        description="Only the storefront's fields: `title`, `long_description`, `images`, `attributes`. "
        "A body naming a field the AS400 owns (`price`, `ean`, `status`...) is refused whole with "
        "**403** and the code `field_owned_by_as400` (nothing is written); a field nobody declares, "
        "with 400 `unknown_field`. Answers the product as `GET` would." + _scope(Scope.CATALOG_WRITE),
        parameters=[SKU_PARAMETER],
        request=ProductContentInputSerializer,
        responses={
            200: ProductOutputSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                415,
                429,
                e403="Scope missing (`insufficient_scope`), or a field owned by the AS400 (`field_owned_by_as400`)",
            ),
        },
        examples=[OpenApiExample("New title", value={"title": "Perceuse sans fil 18 V"}, request_only=True)],
    )
    def patch(self, request: Request, sku: str) -> Response:
        product = _visible_product(self.client, sku)
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"non_field_errors": ["The body must be a JSON object."]})
        # A field the AS400 owns is refused whole (403 field_owned_by_as400); a field nobody
        # declares is the serializer's 400 unknown_field, as in every body.
        check_product_write(System.STOREFRONT, [name for name in request.data if name in PRODUCT_FIELDS])
        content = ProductContentInputSerializer(data=request.data, partial=True)
        content.is_valid(raise_exception=True)
        product = product_content_update(product=product, content=content.validated_data)
        return Response(_product_data(self.client, product))


# --- Availability -----------------------------------------------------------------------------


class AvailabilityApi(ClientApi):
    required_scope = Scope.AVAILABILITY_READ

    @extend_schema(
        operation_id="availability_list",
        tags=["availability"],
        summary="Availability of SKUs",
        description="For each SKU (`?sku=A&sku=B`, at most 50): units for home delivery (the warehouse), "
        "per click-and-collect store, and `as_of`, when the oldest stock figures behind them were taken. "
        "SKUs unknown or not sold to this client are listed in `unknown_skus`. While online selling is "
        "paused, every figure is 0." + _scope(Scope.AVAILABILITY_READ),
        parameters=[AvailabilityInputSerializer],
        responses={200: AvailabilityListOutputSerializer, **error_responses(400, 401, 403, 429)},
    )
    def get(self, request: Request) -> Response:
        query = AvailabilityInputSerializer(data={"sku": request.query_params.getlist("sku")})
        query.is_valid(raise_exception=True)
        skus = list(dict.fromkeys(query.validated_data["sku"]))
        found = availability_of(skus=skus, include_pilot=self.client.can_see_pilot)
        return Response(
            availability_list_representation(
                [found[s] for s in skus if s in found], [s for s in skus if s not in found]
            )
        )


# --- Reservations -----------------------------------------------------------------------------

RESERVATION_ID = OpenApiParameter("reservation_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
IDEMPOTENCY_HEADER = idempotency_header(
    "The same key sent again by the "
    "same client with the same lines answers the same reservation (again 201, as it is now, even if "
    "it has since been released or has expired); with other lines, 409 `idempotency_key_conflict`."
)
RESERVATION_CONFLICTS = {
    409: OpenApiResponse(
        error_responses(409)[409].response,
        description="`insufficient_stock`: nothing is held; `detail.shortages` lists each short line "
        "(`sku`, `location`, `requested`, `available`). `reservation_not_active`: the reservation was "
        "released or turned into an order. `idempotency_key_conflict`: the Idempotency-Key was used for "
        "another reservation (`detail.reservation`).",
    )
}
INVENTORY_400 = (
    "`validation_error`; or the inventory's `invalid_lines`, `unknown_sku` (`detail.skus`), "
    "`location_not_selling` (`detail.location`)"
)
INVENTORY_503 = (
    "`selling_paused`: online selling is paused, nothing is held; retry later. `rate_limit_unavailable`: "
    "the rate-limit counters are unreachable and this deployment fails closed"
)
LINES_EXAMPLE = OpenApiExample(
    "Home delivery and click and collect",
    value={
        "lines": [
            {"sku": "4006381333931", "quantity": 2},
            {"sku": "3700000000014", "quantity": 1, "location": 1},
        ]
    },
    request_only=True,
)


def _reservation_data(reservation: Reservation) -> dict[str, Any]:
    lines = [
        {"sku": line.sku, "location": line.location, "quantity": line.quantity, "unit_price": line.unit_price}
        for line in reservation_lines(reservation)
    ]
    status_now = Reservation.Status.EXPIRED if reservation_is_expired(reservation) else reservation.status
    output = ReservationOutputSerializer(
        {
            "id": reservation.pk,
            "status": status_now,
            "expires_at": reservation.expires_at,
            "created_at": reservation.created_at,
            "lines": lines,
        }
    )
    return output.data  # type: ignore[return-value]


def _line_requests(request: Request) -> list[LineRequest]:
    body = ReservationInputSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    return [
        LineRequest(line["sku"], line["quantity"], line["location"]) for line in body.validated_data["lines"]
    ]


class ReservationCreateApi(ClientApi):
    required_scope = Scope.RESERVATIONS_WRITE

    @extend_schema(
        operation_id="reservations_create",
        tags=["reservations"],
        summary="Hold stock for a checkout",
        description="Every line's units are held, or none. A line without `location` is for home delivery "
        "(the warehouse). The reservation holds until `expires_at`; `PUT` replaces its lines and starts "
        "the time again, `DELETE` releases it." + _scope(Scope.RESERVATIONS_WRITE),
        parameters=[IDEMPOTENCY_HEADER],
        request=ReservationInputSerializer,
        responses={
            201: ReservationOutputSerializer,
            **error_responses(400, 401, 403, 415, 429, 503, e400=INVENTORY_400, e503=INVENTORY_503),
            **RESERVATION_CONFLICTS,
        },
        examples=[LINES_EXAMPLE],
    )
    def post(self, request: Request) -> Response:
        key = self.idempotency_key()
        reservation = reservation_create(
            lines=_line_requests(request),
            client=self.client.name,
            idempotency_key=key,
            include_pilot=self.client.can_see_pilot,
        )
        return Response(_reservation_data(reservation), status=status.HTTP_201_CREATED)


def _own_reservation(client: StorefrontClient, reservation_id: str) -> Reservation:
    """The client's reservation; another client's, like a malformed id, is not found."""
    try:
        parsed = uuid.UUID(reservation_id)
    except ValueError:  # reservation_get's filter() raises on it before its own guard (reported)
        raise ReservationNotFound(f"no reservation {reservation_id[:40]}") from None
    return reservation_get(reservation_id=parsed, client=client.name)


class ReservationGetApi(ClientApi):
    not_found_code = "reservation_not_found"
    required_scope = Scope.RESERVATIONS_WRITE

    @extend_schema(
        operation_id="reservations_retrieve",
        tags=["reservations"],
        summary="A reservation",
        description="Its status (`active`, `expired`, `released`, `converted`) and its lines. Only the "
        "client that made it sees it." + _scope(Scope.RESERVATIONS_WRITE),
        parameters=[RESERVATION_ID],
        responses={200: ReservationOutputSerializer, **error_responses(401, 403, 404, 429)},
    )
    def get(self, request: Request, reservation_id: str) -> Response:
        return Response(_reservation_data(_own_reservation(self.client, reservation_id)))


class ReservationReplaceApi(ClientApi):
    not_found_code = "reservation_not_found"
    required_scope = Scope.RESERVATIONS_WRITE

    @extend_schema(
        operation_id="reservations_replace",
        tags=["reservations"],
        summary="Replace a reservation's lines",
        description="All or nothing: on a shortage the reservation stays as it was. The time to live "
        "starts again; an expired reservation takes its units afresh if they are still there."
        + _scope(Scope.RESERVATIONS_WRITE),
        parameters=[RESERVATION_ID],
        request=ReservationInputSerializer,
        responses={
            200: ReservationOutputSerializer,
            **error_responses(400, 401, 403, 404, 415, 429, 503, e400=INVENTORY_400, e503=INVENTORY_503),
            **RESERVATION_CONFLICTS,
        },
        examples=[LINES_EXAMPLE],
    )
    def put(self, request: Request, reservation_id: str) -> Response:
        reservation = _own_reservation(self.client, reservation_id)
        lines = _line_requests(request)
        reservation = reservation_replace_lines(
            reservation=reservation, lines=lines, include_pilot=self.client.can_see_pilot
        )
        return Response(_reservation_data(reservation))


class ReservationReleaseApi(ClientApi):
    not_found_code = "reservation_not_found"
    required_scope = Scope.RESERVATIONS_WRITE

    @extend_schema(
        operation_id="reservations_release",
        tags=["reservations"],
        summary="Release a reservation",
        description="Gives the units back. Releasing again, or an expired reservation, is harmless (204); "
        "`GET` then shows it `released`. One turned into an order: 409 `reservation_not_active`."
        + _scope(Scope.RESERVATIONS_WRITE),
        parameters=[RESERVATION_ID],
        responses={204: None, **error_responses(401, 403, 404, 429), **RESERVATION_CONFLICTS},
    )
    def delete(self, request: Request, reservation_id: str) -> Response:
        reservation_release(reservation=_own_reservation(self.client, reservation_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReservationApi(ReservationGetApi, ReservationReplaceApi, ReservationReleaseApi):
    """``/reservations/{id}/``: the three operations above, on the one URL they share."""
