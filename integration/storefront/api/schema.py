"""What the OpenAPI document says beyond the views' own annotations (a drf-spectacular hook)."""

from __future__ import annotations

import copy
from typing import Any

from integration.storefront.api.errors import STATUS_DESCRIPTIONS

DESCRIPTION = """
Catalogue, availability, reservations and orders for the storefronts, on top of the AS400.

## Authentication
Every call carries a storefront client's token: `Authorization: Bearer <token>`. Tokens are
created in the admin or with `manage.py storefront_client create NAME --scope ...`, shown once and
stored hashed. Each client has **scopes** (`catalog:read`, `catalog:write`, `availability:read`,
`reservations:write`, `orders:write`); each operation says the one it needs. Categories in
**pilot** are visible and sellable only to clients allowed to see them; categories that are
**off**, inactive and unmapped items do not exist for the API (404).

## Rate limits
Each client has its own limit, in requests per minute (a fixed one-minute window). Over it the
answer is 429 `throttled` with `Retry-After` (seconds). If the shared counter store is
unreachable, requests are served uncounted by default (`API_THROTTLE_FAIL_OPEN`); a deployment
that prefers to refuse them answers 503 `rate_limit_unavailable` instead.

## Errors
Every error has one shape:

```json
{"error": {"code": "insufficient_stock", "message": "not enough stock: ...", "detail": {"shortages": [...]}}}
```

- `code` is stable; branch on it, never on `message`, whose wording may change.
- `message` is a sentence a developer can show; for `validation_error` it starts with where the first
  problem is (`lines[0].quantity: This field is required.`).
- `detail` is an object whose keys depend on the code, or `null`.

| status | code | detail |
|---|---|---|
| 400 | `validation_error` | the invalid fields, each with its messages; list items by index (`{"lines": {"0": {"quantity": ["..."]}}}`) |
| 400 | `unknown_field` | `fields`: the path of each field the body does not have, at any level (`expires`, `lines[0].qty`); nothing was written |
| 400 | `parse_error` | null: the body is not valid JSON |
| 400 | `bad_request` | null: a request Django refuses as such (too many query parameters, a bad header) |
| 400 | `invalid_lines`, `unknown_sku` (`skus`), `location_not_selling` (`location`) | a reservation refused, as noted; nothing is held |
| 400 | `invalid_order` | `field`, when one field is the cause (a blank `last_name`, a `country` that is not ISO 3166-1 alpha-2...) |
| 400 | `not_writable_for_the_as400` | `field`: a value the AS400's file cannot carry back exactly: an order number outside its alphabet, a control character, a character the code page cannot hold or fold, a value longer than its ORDIMP field once folded (never cut); nothing was written |
| 400 | `unknown_line` | `lines`: the line numbers the order does not have (a cancellation or a return); nothing was written |
| 400 | `invalid_reason` (`reasons`), `invalid_return` (`field`) | a return refused; nothing was written |
| 401 | `not_authenticated`, `invalid_token`, `client_inactive` | null; with `WWW-Authenticate: Bearer` |
| 403 | `insufficient_scope` | null |
| 403 | `field_owned_by_as400` | `fields` refused, `owners`: a write to a field the AS400 owns; nothing was written |
| 404 | `not_found`, `product_not_found`, `reservation_not_found`, `order_not_found`, `return_not_found` | null; another client's order or return answers exactly as an unknown one |
| 405 | `method_not_allowed` | null |
| 406 | `not_acceptable` | null: the API answers JSON only |
| 409 | `insufficient_stock` | `shortages`: `sku`, `location`, `requested`, `available` per short line |
| 409 | `reservation_not_active` | null |
| 409 | `order_number_conflict` | `order_number`: this number was placed before with other content |
| 409 | `lines_do_not_match_reservation` | `reserved`: `sku`, `location`, `quantity` of each reserved line |
| 409 | `price_mismatch` | `lines`: `sku`, `asked`, `price` of each line whose price is not the reservation's |
| 409 | `not_cancellable` | `status`: the order's; it is refused, cancelled, shipped or returned, or has nothing left to cancel |
| 409 | `quantity_exceeds_cancellable` | `lines`: `line_number`, `asked`, `cancellable` of each line asked for more than it can still cancel |
| 409 | `nothing_to_return`, `quantity_exceeds_returnable` | `returnable`: `line_number`, `quantity` that each line of the order can still return |
| 409 | `idempotency_key_conflict` | what this Idempotency-Key was used for, with other content, whatever the operation: `reservation` (its id), `order_number` (an order, or the order of a cancellation) or `rma` (a return); nothing was written |
| 413 | `request_too_large` | null: the body is larger than the server accepts |
| 415 | `unsupported_media_type` | null: send `Content-Type: application/json` |
| 429 | `throttled` | null; with `Retry-After` |
| 500 | `server_error` | null: a fault of ours, logged |
| 503 | `selling_paused` | null: online selling is paused, no reservation is made; retry later |
| 503 | `rate_limit_unavailable` | null: the rate-limit counters are unreachable and this deployment fails closed |

A body is read strictly: a field it does not have, at any level, is refused (`unknown_field`), so that a
typo is never silently ignored. Unknown query parameters are ignored.

## Order numbers and customer fields

An order number (`order_number`, in a body, a query or a path) is
`^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$`: 1 to 20 characters (the web order number fields' length in
the DDS, which `orders/numbers.py` reads), an ASCII letter or digit first, then ASCII letters,
digits, `.`, `_` and `-`. No blank anywhere (the AS400 pads the field with blanks and strips them
when it reads it back: ` X` and `X ` would not come back as sent, and would meet `X`), no control
character, nothing the EBCDIC code page could fold, nothing a URL path gives a meaning to (`/`,
`?`, `%`, `#`, `.` and `..`). It is never trimmed, folded or upper-cased: anything else is
refused, 400 `validation_error` naming `order_number` (`not_writable_for_the_as400` when the
checkout service is called otherwise than by the API). **Case is significant**: the contract says
nothing of case and DB2 compares a key's bytes unless its file has a sort sequence (WEBORD's DDS
has none), so `web-1` and `WEB-1` are two orders; a storefront that wants them one upper-cases
them itself. Storefront clients' names follow the same alphabet, up to 64 characters.

A number outside the alphabet, an unknown number and another client's number answer alike, 404
`order_not_found` with `no order <number>`, on every endpoint that takes one (order, events,
cancel, `POST /returns/` and `GET /returns/?order_number=`, where a number outside the alphabet is
a 400 `validation_error`, as it is for anyone): the API never tells whether another client's order
exists. Placing an order under a number another client used is 409 `order_number_conflict`, as for
one's own number with other content: numbers are one namespace at the AS400.

Customer fields are at most their ORDIMP field's length (`last_name` 30, `first_name` 20,
`address_line1`/`address_line2` 30, `postal_code` 5, `city` 25, `phone` 15, `email` 50), counted
once folded to the code page (`œ` becomes `oe`: two), hold no control character (CR, LF, tab...),
and nothing is ever cut; `last_name` is not blank; `country` is an ISO 3166-1 alpha-2 code in
capitals (`FR` by default; the list is vendored in `orders/countries.py` from the IANA time zone
database's `iso3166.tab`). Prices are strings of ASCII digits (`"9.90"`). The OpenAPI document
states each of these bounds (pattern, lengths, the country list, an order's 1 to 100 lines).

## Dates and times
Every date and time the API answers, and every one in a webhook body, is in **UTC**, ISO 8601 with
`Z` (`2026-11-24T09:12:03.512000Z`; the fraction of a second only when there is one), so that a
machine compares and sorts them without knowing where they were made. A date and time sent to the
API (`updated_since`) may carry any offset; without one, it is Paris time.

## Pagination
`GET /api/v1/products/` answers `{"results": [...], "next": url-or-null}`; `limit` is 1 to 100
(50 by default). The cursor is opaque.

## Idempotency
Every write that creates something accepts an `Idempotency-Key` header (printable ASCII, 1 to 128
characters): the same key with the same content answers what the first request made, also when
the two requests race; the same key with other content is refused, by every operation alike, with
409 `idempotency_key_conflict`, whose `detail` names what the key was used for.

`POST /api/v1/reservations/`: the same reservation, with the same status 201.
`POST /api/v1/orders/` is idempotent by its `order_number` too: the same order again answers it
with 200 (201 only when this request created it); the same number with other content is 409
`order_number_conflict`. `POST /api/v1/orders/{n}/cancel/` and `POST /api/v1/returns/`: the same
cancellation or return, with 200.
"""

_RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer", "minimum": 1},
        "description": "Seconds until the client's next window",
        "required": True,
    }
}
_WWW_AUTHENTICATE = {
    "WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Bearer`", "required": True}
}


def _reservation_links() -> dict[str, Any]:
    by_id = {"reservation_id": "$response.body#/id"}
    return {
        "GetReservation": {"operationId": "reservations_retrieve", "parameters": by_id},
        "ReplaceReservationLines": {"operationId": "reservations_replace", "parameters": by_id},
        "ReleaseReservation": {"operationId": "reservations_release", "parameters": by_id},
        # Its id and lines (sku, location, quantity, unit_price) are what an order placed with it carries.
        "PlaceOrder": {
            "operationId": "orders_create",
            "requestBody": {"reservation": "$response.body#/id", "lines": "$response.body#/lines"},
        },
    }


def _order_links() -> dict[str, Any]:
    return {
        "GetOrder": {
            "operationId": "orders_retrieve",
            "parameters": {"order_number": "$response.body#/order_number"},
        }
    }


# What one answer lets a client call next (OpenAPI links): by operation id and status.
LINKS: dict[tuple[str, str], dict[str, Any]] = {
    ("reservations_create", "201"): _reservation_links(),
    ("reservations_replace", "200"): _reservation_links(),
    ("orders_create", "201"): _order_links(),
    ("orders_create", "200"): _order_links(),
    ("products_list", "200"): {
        "GetFirstProduct": {
            "operationId": "products_retrieve",
            "parameters": {"sku": "$response.body#/results/0/sku"},
        },
        "UpdateFirstProductContent": {
            "operationId": "products_content_update",
            "parameters": {"sku": "$response.body#/results/0/sku"},
        },
    },
}


def describe_api(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """POSTPROCESSING_HOOKS entry: the long description, the headers of 401 and 429 answers, the 503
    of every rate-limited operation (the counters unreachable, failing closed), links."""
    result.setdefault("info", {})["description"] = DESCRIPTION.strip()
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation.get("responses", {}) if isinstance(operation, dict) else {}
            if "429" in responses:
                responses.setdefault(
                    "503",
                    {
                        "description": STATUS_DESCRIPTIONS[503],
                        "content": copy.deepcopy(responses["429"]["content"]),
                    },
                )
                responses["429"].setdefault("headers", {}).update(_RETRY_AFTER)
            if "401" in responses:
                responses["401"].setdefault("headers", {}).update(_WWW_AUTHENTICATE)
            for status, response in responses.items():
                links = LINKS.get((operation.get("operationId", ""), status))
                if links:
                    response["links"] = links
    return result
