"""``GET /api/v1/orders/{order_number}/events/``: an order's storefront events, for a storefront that polls.

Each item is the event exactly as its webhook carries it (the webhook body adds only ``timestamp``,
its send time); a storefront can take both and dedupe on ``id``. Listed oldest first from a cursor
(``after``: the ``next_cursor`` of the previous answer); the reads are
``integration.storefront.event_reads``'.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from integration.models import StorefrontClient, StorefrontEvent
from integration.storefront.api.base import ClientApi
from integration.storefront.api.codes import ErrorCode
from integration.storefront.api.errors import ApiError, error_responses
from integration.storefront.api.fields import StrictCharField
from integration.storefront.event_reads import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    event_cursor_decode,
    storefront_events_of_order,
)
from orders.api.views import ORDER_NUMBER
from orders.models import Order

Scope = StorefrontClient.Scope


class OrderEventsInputSerializer(serializers.Serializer):
    after = StrictCharField(
        required=False, max_length=40, trim_whitespace=False,
        help_text="Opaque: the `next_cursor` of the previous answer; left out: from the order's first event",
    )  # fmt: skip
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT, help_text="Events at most"
    )

    def validate_after(self, value: str) -> int:
        event_id = event_cursor_decode(value)
        if event_id is None:
            raise serializers.ValidationError(
                "This is not a cursor of this API; use the `next_cursor` it gave."
            )
        return event_id


class StorefrontEventDataSerializer(serializers.Serializer):
    order_number = serializers.CharField()
    status = serializers.ChoiceField(choices=Order.Status.choices, help_text="The order's status then")
    as400_order_number = serializers.CharField(allow_null=True)
    rma = serializers.CharField(required=False, help_text="Return events: the return's RMA number")


class StorefrontEventSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The event's id, also its webhook's `Webhook-Id`: dedupe on it")
    type = serializers.ChoiceField(choices=StorefrontEvent.Type.choices)
    created_at = serializers.DateTimeField(help_text="When it happened here")
    data = StorefrontEventDataSerializer(
        help_text="The order as the event left it, and what the type adds: `reason_code` and `reason` "
        "(refused), `tracking` (shipped), `by` (cancelled: `customer`, `as400` or `store`), `lines`..."
    )


class OrderEventsOutputSerializer(serializers.Serializer):
    events = StorefrontEventSerializer(many=True, help_text="Oldest first")
    next_cursor = serializers.CharField(
        allow_null=True,
        help_text="Pass it as `after` to go on (also when `has_more` is false: keep it and ask again "
        "later for newer events); null only while the order has no event",
    )
    has_more = serializers.BooleanField(help_text="More events wait after this page: ask again at once")


EXAMPLE = OpenApiExample(
    "Accepted, then shipped",
    value={
        "events": [
            {
                "id": "5b0c8f0e-2a47-4d51-9f4e-8f3f0f6d2a11",
                "type": "order.accepted",
                "created_at": "2026-11-24T09:12:03.512000Z",
                "data": {
                    "order_number": "WEB-2026-000001",
                    "status": "accepted",
                    "as400_order_number": "0004512",
                },
            }
        ],
        "next_cursor": "ZXYxOjQy",
        "has_more": False,
    },
    response_only=True,
)


class OrderEventsApi(ClientApi):
    not_found_code = "order_not_found"
    required_scope = Scope.ORDERS_WRITE

    @extend_schema(
        operation_id="orders_events_list",
        tags=["orders"],
        summary="An order's events (polling)",
        description="The same events the client's webhooks carry (accepted, refused, shipped with tracking, "
        "ready in store, cancelled, returned, return received), oldest first, each exactly as its webhook "
        "body less `timestamp`. Follow `next_cursor` in `after`; a cursor this API did not give is 400 "
        "`validation_error`. Only the client that placed the order sees it (404 `order_not_found` "
        "otherwise)." + f"\n\nScope: `{Scope.ORDERS_WRITE}`.",
        parameters=[ORDER_NUMBER, OrderEventsInputSerializer],
        responses={200: OrderEventsOutputSerializer, **error_responses(400, 401, 403, 404, 429)},
        examples=[EXAMPLE],
    )
    def get(self, request: Request, order_number: str) -> Response:
        query = OrderEventsInputSerializer(
            data={name: request.query_params[name] for name in request.query_params}
        )
        query.is_valid(raise_exception=True)
        # (A NUL in the number is refused as not found by ClientApi before this.)
        if not Order.objects.filter(order_number=order_number, client=self.client.name).exists():
            raise ApiError(  # another client's order is not found either
                status_code=status.HTTP_404_NOT_FOUND,
                code=ErrorCode.ORDER_NOT_FOUND,
                message=f"no order {order_number[:40]}",
            )
        params: dict[str, Any] = query.validated_data
        page = storefront_events_of_order(
            client=self.client.name,
            order_number=order_number,
            after=params.get("after"),
            limit=params["limit"],
        )
        return Response({"events": page.events, "next_cursor": page.next_cursor, "has_more": page.has_more})
