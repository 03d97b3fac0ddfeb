"""The storefront API's order endpoints: place an order, read it. One class per operation.

Each view reads its input with an input serializer, calls the checkout service or a selector, and
writes its answer with an output serializer. The checkout's rules are ``orders.services``'; its
refusals (``OrderError``, and the inventory's errors for the reservation and the stock) leave as
exceptions and take the API's one error shape (``integration.storefront.api.errors``).
"""

from __future__ import annotations

import functools
from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from integration.models import StorefrontClient
from integration.storefront.api.base import ClientApi, idempotency_header
from integration.storefront.api.codes import ErrorCode
from integration.storefront.api.errors import ApiError, error_responses
from orders.api.serializers import (
    OrderCancelInputSerializer,
    OrderCancelOutputSerializer,
    OrderInputSerializer,
    OrderOutputSerializer,
)
from orders.cancellation import order_cancel
from orders.models import Order, OrderCancellation, OrderLine
from orders.numbers import ORDER_NUMBER_MAX_LENGTH, ORDER_NUMBER_PATTERN, ORDER_NUMBER_RULE
from orders.selectors import line_sku, order_of_client
from orders.services import Customer, LineInput, OrderInput, order_as_sent, order_place

Scope = StorefrontClient.Scope

ORDER_NUMBER = OpenApiParameter(
    "order_number",
    {"type": "string", "minLength": 1, "maxLength": ORDER_NUMBER_MAX_LENGTH, "pattern": ORDER_NUMBER_PATTERN},
    OpenApiParameter.PATH,
    description=f"The storefront's order number, as it was placed ({ORDER_NUMBER_RULE}). Anything else, "
    "like an unknown number or another client's, is 404 `order_not_found`",
    examples=[OpenApiExample("A web order", value="WEB-2026-000001")],
)
IDEMPOTENCY_HEADER = idempotency_header(
    "The same key sent again by the same "
    "client with the same order answers that order (200); with other content, 409 "
    "`idempotency_key_conflict` (`detail.order_number`: the order it was used for)."
)
CANCEL_IDEMPOTENCY_HEADER = idempotency_header(
    "The same key sent again for the same "
    "order with the same body answers the same cancellation(s); with another body, 409 "
    "`idempotency_key_conflict`."
)
ORDER_EXAMPLE = OpenApiExample(
    "Home delivery",
    value={
        "order_number": "WEB-2026-000001",
        "reservation": "0b7d4a52-5c1e-4d8e-9a56-3f0e2b9c1d11",
        "delivery": "home",
        "customer": {
            "last_name": "Lefèvre",
            "first_name": "Hélène",
            "address_line1": "12 rue de la Paix",
            "postal_code": "69003",
            "city": "Lyon",
            "email": "helene@example.fr",
        },
        "lines": [{"sku": "4006381333931", "quantity": 2, "unit_price": "89.90"}],
    },
    request_only=True,
)
CREATE_400 = (
    "`validation_error`; `invalid_order` (no line, an unknown delivery, a store that does not do click "
    "and collect: `detail.field`); `not_writable_for_the_as400`: a field the AS400's file cannot carry "
    "(`detail.field`: the order number does not fit as it is, or a name or address holds characters its "
    "code page cannot fold, such as Cyrillic); nothing was written"
)
CREATE_409 = (
    "Nothing was written. `order_number_conflict`: this number was already placed with other content "
    "(`detail.order_number`). `idempotency_key_conflict`: the Idempotency-Key was used for another order "
    "(`detail.order_number`). `lines_do_not_match_reservation` (`detail.reserved`: "
    "what the reservation holds). `price_mismatch`: a unit price is not the AS400 price the reservation "
    "was made at (`detail.lines`: `sku`, `asked`, `price`). `insufficient_stock`: the reservation had "
    "expired and its units are no longer there (`detail.shortages`: `sku`, `location`, `requested`, "
    "`available`). `reservation_not_active`: the reservation was released or turned into another order."
)


@functools.cache
def _customer_fields() -> tuple[str, ...]:
    """The customer's fields, as the input takes them (built once: a serializer is not free)."""
    return tuple(OrderInputSerializer().fields["customer"].fields)


def _order_data(order: Order) -> dict[str, Any]:
    lines: list[OrderLine] = list(order.lines.all())
    numbers = {line.pk: line.line_number for line in lines}
    customer = {name: getattr(order, name) for name in _customer_fields()}
    data = {
        "order_number": order.order_number,
        "status": order.status,
        "as400_order_number": order.as400_order_number or None,
        "refusal_reason": order.refusal_reason or None,
        "delivery": order.delivery,
        "pickup_location": order.pickup_location_id,
        "reservation": order.reservation_id,
        "total": order.total,
        "customer": customer,
        "customer_as_sent": order_as_sent(order),
        "lines": [
            {
                "line_number": line.line_number,
                "sku": line_sku(line),
                "location": line.location_id,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                **{
                    name: getattr(line, name)
                    for name in ("picked", "shipped", "ready", "cancelled", "returned")
                },
                "tracking_numbers": list(
                    dict.fromkeys(e.tracking for e in getattr(order, "shipments", []) if e.line_id == line.pk)
                ),
            }
            for line in lines
        ],
        "events": [
            {
                "at": event.at,
                "from": event.status_from or None,
                "to": event.status_to,
                "cause": event.cause,
                "line": numbers.get(event.line_id) if event.line_id else None,
            }
            for event in order.events.all()
        ],
        "cancellations": [_cancellation_data(c, numbers) for c in order.cancellations.all()],
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }
    return OrderOutputSerializer(data).data  # type: ignore[return-value]


def _cancellation_data(cancellation: OrderCancellation, numbers: dict[int, int]) -> dict[str, Any]:
    return {
        "id": cancellation.pk,
        "line": numbers.get(cancellation.line_id) if cancellation.line_id else None,
        "quantity": cancellation.quantity,
        "confirmed_quantity": cancellation.confirmed_quantity,
        "state": cancellation.state,
        "reason": cancellation.reason or None,
        "requested_by": cancellation.requested_by,
        "created_at": cancellation.created_at,
        "closed_at": cancellation.closed_at,
    }


def _own_order(client: StorefrontClient, order_number: str) -> Order:
    order = order_of_client(order_number=order_number, client=client.name)
    if order is None:  # another client's order is not found either
        raise ApiError(
            status_code=status.HTTP_404_NOT_FOUND,
            code=ErrorCode.ORDER_NOT_FOUND,
            message=f"no order {order_number[:40]}",
        )
    return order


def _order_input(request: Request) -> OrderInput:
    body = OrderInputSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    data = body.validated_data
    return OrderInput(
        order_number=data["order_number"],
        reservation_id=data["reservation"],
        delivery=data["delivery"],
        pickup_location=data["pickup_location"],
        customer=Customer(**data["customer"]),
        lines=[
            LineInput(sku=line["sku"], quantity=line["quantity"], unit_price=line["unit_price"],
                      location=line["location"])
            for line in data["lines"]
        ],
    )  # fmt: skip


class OrderCreateApi(ClientApi):
    required_scope = Scope.ORDERS_WRITE

    @extend_schema(
        operation_id="orders_create",
        tags=["orders"],
        summary="Place an order",
        description="Places the order with the reservation it was checked out with: in one transaction "
        "the order and its lines are written, the reservation's units become in-flight stock, and the "
        "order is queued for the AS400. The answer does not wait for the AS400: the order is `placed`, "
        "then `sent`, then `accepted` (with its `as400_order_number`) or `refused`; `GET` follows it.\n\n"
        "An expired reservation still places the order if its units are still there. Names and addresses "
        "are kept exactly as given; the file sent to the AS400 carries them folded to its code page "
        "(`customer_as_sent`).\n\n"
        "**Idempotent**: the same `order_number`, or the same `Idempotency-Key`, with the same content "
        "answers the same order with **200** (201 only when it was created by this request), also when "
        "the two requests race; the same number with other content is 409 `order_number_conflict`, the "
        "same key with other content 409 `idempotency_key_conflict`." + f"\n\nScope: `{Scope.ORDERS_WRITE}`.",
        parameters=[IDEMPOTENCY_HEADER],
        request=OrderInputSerializer,
        responses={
            201: OpenApiResponse(OrderOutputSerializer, description="Placed now"),
            200: OpenApiResponse(OrderOutputSerializer, description="Already placed: the same order again"),
            **error_responses(
                400,
                401,
                403,
                404,
                409,
                413,
                415,
                429,
                e400=CREATE_400,
                e409=CREATE_409,
                e404="`reservation_not_found`: no such reservation of this client",
            ),
        },
        examples=[ORDER_EXAMPLE],
    )
    def post(self, request: Request) -> Response:
        key = self.idempotency_key()
        order, created = order_place(data=_order_input(request), client=self.client.name, idempotency_key=key)
        if not created:  # a replay: the order as it stands now (a new one holds what was written)
            order = _own_order(self.client, order.order_number)
        return Response(_order_data(order), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class OrderDetailApi(ClientApi):
    not_found_code = "order_not_found"
    required_scope = Scope.ORDERS_WRITE

    @extend_schema(
        operation_id="orders_retrieve",
        tags=["orders"],
        summary="An order",
        description="Its status, the AS400's order number once acknowledged, why the AS400 refused it if it "
        "did, its lines, the customer as given and as sent to the AS400, and the history of every status "
        "change with its time and cause. Only the client that placed it sees it."
        + f"\n\nScope: `{Scope.ORDERS_WRITE}`.",
        parameters=[ORDER_NUMBER],
        responses={200: OrderOutputSerializer, **error_responses(401, 403, 404, 429)},
    )
    def get(self, request: Request, order_number: str) -> Response:
        return Response(_order_data(_own_order(self.client, order_number)))


CANCEL_409 = (
    "Nothing was changed. `not_cancellable`: the order is refused, cancelled, shipped or returned, or "
    "has nothing left to cancel (every unit shipped, ready in store, cancelled or already asked; "
    "`detail.status`). `quantity_exceeds_cancellable`: more units of a line than can still be "
    "cancelled (`detail.lines`: `line_number`, `asked`, `cancellable`). `idempotency_key_conflict`: this "
    "Idempotency-Key was already used for another cancellation of the order (`detail.order_number`)."
)
CANCEL_EXAMPLES = [
    OpenApiExample("The whole order", value={}, request_only=True),
    OpenApiExample(
        "Some units of a line, with a reason",
        value={"lines": [{"line_number": 1, "quantity": 1}], "reason": "CLI"},
        request_only=True,
    ),
]


class OrderCancelApi(ClientApi):
    not_found_code = "order_not_found"
    required_scope = Scope.ORDERS_WRITE

    @extend_schema(
        operation_id="orders_cancel",
        tags=["orders"],
        summary="Cancel an order, or units of its lines",
        description="Without `lines`, the whole order; with them, those units of those lines.\n\n"
        "**Before the order left for the AS400** the units are released at once: they are available "
        "again, the file that leaves later carries only what is left (or none leaves, when nothing is "
        "left), and the answer is **200** with the cancellation `released` (an `order.cancelled` event "
        "follows).\n\n"
        "**After** (sent, accepted, being picked, partly shipped...) the AS400 decides: the cancellation "
        "is `requested`, sent to the AS400 once it has acknowledged the order, and the order is "
        "`cancellation_requested` until the AS400 says what it could still cancel (`confirmed`, with "
        "`confirmed_quantity`; `order.cancelled` then). The answer is **202**. Only units neither "
        "shipped, ready in store, cancelled nor already asked can be asked; the whole order asks all of "
        "them.\n\n"
        "The answer is the order, as `GET` shows it, with `this_request`: the cancellation(s) of this "
        "request (one per line, or one for the whole order).\n\n"
        "**Idempotent** with an `Idempotency-Key`: the same key for the same order with the same body "
        "answers the same cancellation(s), also when two requests race; with another body, 409 "
        "`idempotency_key_conflict`." + f"\n\nScope: `{Scope.ORDERS_WRITE}`.",
        parameters=[ORDER_NUMBER, CANCEL_IDEMPOTENCY_HEADER],
        request=OrderCancelInputSerializer,
        responses={
            200: OpenApiResponse(OrderCancelOutputSerializer, description="Cancelled at once (`released`)"),
            202: OpenApiResponse(
                OrderCancelOutputSerializer, description="Asked of the AS400 (`requested`): it answers later"
            ),
            **error_responses(
                400,
                401,
                403,
                404,
                409,
                413,
                415,
                429,
                e400="`validation_error`; `unknown_line`: the order has no such line (`detail.lines`)",
                e404="`order_not_found`: no such order of this client",
                e409=CANCEL_409,
            ),
        },
        examples=CANCEL_EXAMPLES,
    )
    def post(self, request: Request, order_number: str) -> Response:
        key = self.idempotency_key()
        body = OrderCancelInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        lines = data.get("lines")
        cancellations = order_cancel(
            order_number=order_number,
            client=self.client.name,
            lines=None if lines is None else [(line["line_number"], line["quantity"]) for line in lines],
            reason=data.get("reason", ""),
            idempotency_key=key,
            requested_by=self.client.name,
        )
        order = _own_order(self.client, order_number)
        numbers = {line.pk: line.line_number for line in order.lines.all()}
        answer = {
            **_order_data(order),
            "this_request": [_cancellation_data(c, numbers) for c in cancellations],
        }
        requested = any(c.state == OrderCancellation.State.REQUESTED for c in cancellations)
        return Response(
            OrderCancelOutputSerializer(answer).data,
            status=status.HTTP_202_ACCEPTED if requested else status.HTTP_200_OK,
        )
