"""Every error code the API can answer is in the error table, with its status; the README's table is
the OpenAPI description's."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from django.test import Client

from integration.storefront.api.codes import ErrorCode
from integration.storefront.api.errors import STATUS_BY_CODE
from integration.storefront.api.schema import DESCRIPTION
from inventory.errors import InventoryErrorCode
from orders.errors import OrderErrorCode
from returns.errors import ReturnErrorCode

README = Path(__file__).resolve().parents[2] / "README.md"

# The API layer's own codes, with the status each is answered with.
API_CODES = {
    ErrorCode.VALIDATION_ERROR: 400,
    ErrorCode.PARSE_ERROR: 400,
    ErrorCode.UNKNOWN_FIELD: 400,
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.NOT_AUTHENTICATED: 401,
    ErrorCode.INVALID_TOKEN: 401,
    ErrorCode.CLIENT_INACTIVE: 401,
    ErrorCode.INSUFFICIENT_SCOPE: 403,
    "field_owned_by_as400": 403,  # integration.core.ownership: a storefront writing an AS400 field
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.PRODUCT_NOT_FOUND: 404,
    ErrorCode.ORDER_NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.NOT_ACCEPTABLE: 406,
    ErrorCode.REQUEST_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.THROTTLED: 429,
    ErrorCode.SERVER_ERROR: 500,
    ErrorCode.RATE_LIMIT_UNAVAILABLE: 503,
}
# Declared, but nothing raises them where the API can answer them.
NEVER_ANSWERED = {
    ErrorCode.PERMISSION_DENIED,  # a client without the scope is insufficient_scope; no view denies otherwise
    InventoryErrorCode.PRODUCT_NOT_SELLABLE,  # an unsellable SKU is unknown_sku
    InventoryErrorCode.UNKNOWN_LOCATION,  # a location that does not sell is location_not_selling
}


def _status(code: str) -> int:
    return STATUS_BY_CODE.get(code, 400)


def answerable() -> set[tuple[int, str]]:
    """(status, code) of every error the API can answer."""
    codes = {(status, str(code)) for code, status in API_CODES.items()}
    codes |= {(_status(c), str(c)) for c in InventoryErrorCode if c not in NEVER_ANSWERED}
    codes |= {(_status(c), str(c)) for c in OrderErrorCode}
    codes |= {(_status(c), str(c)) for c in ReturnErrorCode}
    declared = {v for k, v in vars(ErrorCode).items() if k.isupper()}
    assert declared - {str(c) for c in API_CODES} == {ErrorCode.PERMISSION_DENIED}  # a new code: add it above
    return codes


def table(text: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index("| status | code | detail |")
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
    return lines[start:end]


def rows(lines: list[str]) -> set[tuple[int, str]]:
    out = set()
    for line in lines[2:]:
        status, codes = line.split("|")[1:3]
        for code in re.findall(r"`([a-z0-9_]+)`", re.sub(r"\([^)]*\)", "", codes)):
            out.add((int(status), code))
    return out


def test_every_code_the_api_can_answer_is_in_the_table_with_its_status() -> None:
    listed = rows(table(DESCRIPTION))

    assert answerable() - listed == set()  # missing, or listed with another status
    assert listed - answerable() == set()  # listed, but never answered so


def test_the_readmes_table_is_the_openapi_descriptions() -> None:
    assert table(README.read_text()) == table(DESCRIPTION)


def test_the_operations_document_the_statuses_of_their_codes(db: None) -> None:
    schema = yaml.safe_load(Client().get("/api/schema/").content)
    paths = schema["paths"]

    cancel = paths["/api/v1/orders/{order_number}/cancel/"]["post"]["responses"]
    assert "`not_cancellable`" in cancel["409"]["description"]
    for path, method in [
        ("/api/v1/reservations/", "post"),
        ("/api/v1/reservations/{reservation_id}/", "put"),
    ]:
        responses = paths[path][method]["responses"]
        assert "`selling_paused`" in responses["503"]["description"]
        assert "`selling_paused`" not in responses["400"]["description"]
    for item in paths.values():
        for operation in item.values():
            assert "503" in operation["responses"], operation["operationId"]  # rate_limit_unavailable
