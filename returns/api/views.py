"""The storefront API's return endpoints: ask for a return, read one, list an order's. One class per operation.

Each view reads its input with an input serializer, calls ``returns.services`` or a selector, and
writes its answer with an output serializer. A refused return (``ReturnError``) leaves in the API's
one error shape, with its code, message and detail as the service gave them.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from integration.models import StorefrontClient
from integration.storefront.api.base import ClientApi, idempotency_header
from integration.storefront.api.errors import ApiError, error_responses
from inventory.models import Product
from returns.api.serializers import (
    ReturnInputSerializer,
    ReturnListInputSerializer,
    ReturnOutputSerializer,
    ReturnPageOutputSerializer,
)
from returns.errors import ReturnErrorCode
from returns.models import Return, ReturnLine
from returns.selectors import return_of_client, returns_of_order
from returns.services import ReturnLineInput, return_create

Scope = StorefrontClient.Scope

RMA = OpenApiParameter(
    "rma",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The return's authorisation number, as the return gave it",
    examples=[OpenApiExample("A web return", value="W4K2Z9Q0M7XB")],
)
IDEMPOTENCY_HEADER = idempotency_header(
    "The same key sent again by the same "
    "client with the same return answers that return (200); with other content, 409 "
    "`idempotency_key_conflict`."
)
RETURN_EXAMPLE = OpenApiExample(
    "Two units of line 1, wrong size",
    value={
        "order_number": "WEB-2026-000001",
        "lines": [{"line_number": 1, "quantity": 2}],
        "reason": "TAIL",
        "comment": "Trop petit",
    },
    request_only=True,
)
CREATE_400 = (
    "Nothing was written. `validation_error`; `invalid_reason`: not one of the reason codes "
    "(`detail.reasons`); `unknown_line`: the order has no such line (`detail.lines`); `invalid_return`: "
    "a line named twice, or a `store` that does not exist (`detail.field`)"
)
CREATE_409 = (
    "Nothing was written. `nothing_to_return`: no unit of the order was shipped or made ready in store that "
    "is not returned or being returned already; `quantity_exceeds_returnable`: a line asks for more than it "
    "can still return. Both with `detail.returnable`: `line_number` and `quantity` for each line of the "
    "order. `idempotency_key_conflict`: the Idempotency-Key was used for another return (`detail.rma`)."
)
NOT_FOUND_ORDER = "`order_not_found`: no such order of this client"


def _line_sku(line: ReturnLine) -> str:
    product = line.order_line.product
    try:
        return product.mapping.sku
    except Product.mapping.RelatedObjectDoesNotExist:  # unmapped since: the AS400 item tells it
        return product.item_number


def _return_data(ret: Return) -> dict[str, Any]:
    return {
        "rma": ret.rma,
        "order_number": ret.order.order_number,
        "source": ret.source,
        "status": ret.status,
        "reason": ret.reason,
        "comment": ret.comment,
        "store": ret.store,
        "lines": [
            {
                "line_number": line.order_line.line_number,
                "sku": _line_sku(line),
                "quantity": line.quantity,
                "received_quantity": line.received_quantity,
            }
            for line in ret.lines.all()
        ],
        "created_at": ret.created_at,
        "announced_at": ret.announced_at,
        "received_at": ret.received_at,
    }


def _own_return(client: StorefrontClient, rma: str) -> Return:
    ret = return_of_client(rma=rma, client=client.name)  # (a NUL in it: refused by ClientApi already)
    if ret is None:  # another client's return is not found either
        raise ApiError(
            status_code=status.HTTP_404_NOT_FOUND,
            code=ReturnErrorCode.RETURN_NOT_FOUND,
            message=f"no return {rma[:40]}",
        )
    return ret


class ReturnCreateApi(ClientApi):
    required_scope = Scope.ORDERS_WRITE

    @extend_schema(
        operation_id="returns_create",
        tags=["returns"],
        summary="Ask for a return",
        description="Units of lines of the client's order come back: at most, per line, what was shipped or "
        "made ready in store, less what was returned and what open returns already ask for. The return "
        "gets its `rma` and is `requested`; it is sent to the AS400 (once the AS400 has the order) and is "
        "then `announced`; it becomes `partially_received`, then `received`, as the AS400 reports the "
        "goods. The goods come back to `store`: by default the warehouse (900) for a home delivery, the "
        "pickup store for click and collect.\n\n"
        "**Idempotent** with an `Idempotency-Key`: the same key with the same return answers that return "
        "with **200** (201 only when this request created it), also when the two requests race; with "
        "other content, 409 `idempotency_key_conflict`." + f"\n\nScope: `{Scope.ORDERS_WRITE}`.",
        parameters=[IDEMPOTENCY_HEADER],
        request=ReturnInputSerializer,
        responses={
            201: OpenApiResponse(ReturnOutputSerializer, description="Created now"),
            200: OpenApiResponse(ReturnOutputSerializer, description="Already asked: the same return again"),
            **error_responses(
                400, 401, 403, 404, 409, 413, 415, 429, e400=CREATE_400, e404=NOT_FOUND_ORDER, e409=CREATE_409
            ),
        },
        examples=[RETURN_EXAMPLE],
    )
    def post(self, request: Request) -> Response:
        key = self.idempotency_key()
        body = ReturnInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        ret, created = return_create(
            client=self.client.name,
            order_number=data["order_number"],
            lines=[ReturnLineInput(line["line_number"], line["quantity"]) for line in data["lines"]],
            reason=data["reason"],
            comment=data["comment"],
            store=data["store"],
            idempotency_key=key,
        )
        output = ReturnOutputSerializer(_return_data(_own_return(self.client, ret.rma)))
        return Response(output.data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ReturnListApi(ClientApi):
    required_scope = Scope.ORDERS_WRITE

    @extend_schema(
        operation_id="returns_list",
        tags=["returns"],
        summary="An order's returns",
        description="Every return of the client's order, newest first: those asked for here (`web`) and "
        "those made at a store counter (`store`) alike, and goods the AS400 received unannounced (`as400`). "
        '`{"results": [...], "next": url-or-null}`.' + f"\n\nScope: `{Scope.ORDERS_WRITE}`.",
        parameters=[ReturnListInputSerializer],
        responses={
            200: ReturnPageOutputSerializer,
            **error_responses(400, 401, 403, 404, 429, e404=NOT_FOUND_ORDER),
        },
    )
    def get(self, request: Request) -> Response:
        query = ReturnListInputSerializer(
            data={name: request.query_params[name] for name in request.query_params}
        )
        query.is_valid(raise_exception=True)
        params = query.validated_data
        page = returns_of_order(
            order_number=params["order_number"],
            client=self.client.name,
            page=params["page"],
            limit=params["limit"],
        )
        if page is None:
            raise ApiError(
                status_code=status.HTTP_404_NOT_FOUND,
                code=ReturnErrorCode.ORDER_NOT_FOUND,
                message=f"no order {params['order_number'][:40]}",
            )
        next_url = None
        if page.more:
            next_url = replace_query_param(request.build_absolute_uri(), "page", params["page"] + 1)
        output = ReturnPageOutputSerializer(
            {"results": [_return_data(r) for r in page.returns], "next": next_url}
        )
        return Response(output.data)


class ReturnsApi(ReturnListApi, ReturnCreateApi):
    """``/returns/``: list and create, on the one URL they share."""


class ReturnDetailApi(ClientApi):
    not_found_code = "return_not_found"
    required_scope = Scope.ORDERS_WRITE

    @extend_schema(
        operation_id="returns_retrieve",
        tags=["returns"],
        summary="A return",
        description="Its status, where the goods come back, its lines with the units received so far, and "
        "when it was asked for, announced to the AS400 and received. Only the client whose order it is "
        "sees it." + f"\n\nScope: `{Scope.ORDERS_WRITE}`.",
        parameters=[RMA],
        responses={
            200: ReturnOutputSerializer,
            **error_responses(401, 403, 404, 429, e404="`return_not_found`: no such return of this client"),
        },
    )
    def get(self, request: Request, rma: str) -> Response:
        return Response(ReturnOutputSerializer(_return_data(_own_return(self.client, rma))).data)
