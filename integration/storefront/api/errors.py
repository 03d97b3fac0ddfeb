"""One error shape for the whole REST API, produced by one exception handler.

Every error answer, whatever raised it, is::

    {"error": {"code": "insufficient_stock", "message": "not enough stock: ...", "detail": {...}}}

- ``code``: stable and machine-readable; clients branch on it (never on the message).
- ``message``: for people (logs, a developer's console); its wording may change. Validation
  messages are DRF's rewritten as sentences (``integration.storefront.api.messages``).
- ``detail``: an object whose keys depend on the code, or ``null``.

The handler knows DRF's exceptions (validation, parse, authentication, permission, not found,
method, media type, throttling), every domain error (:class:`~integration.core.errors.DomainError`,
answered with the status :data:`STATUS_BY_CODE` gives its code) and
:class:`~integration.core.ownership.FieldOwnershipError`. Anything else is a bug: it is left to Django
(logged, then answered by :func:`server_error` in the same shape with code ``server_error``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.fields import get_error_detail
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from integration.core.errors import DomainError
from integration.core.ownership import PRODUCT_FIELDS, FieldOwnershipError
from integration.storefront.api.codes import ErrorCode
from integration.storefront.api.messages import sentences
from integration.storefront.api.serializers import UNKNOWN_FIELD

# The codes of DRF's exceptions whose default code is not the one we publish.
_RENAMED = {"invalid": ErrorCode.VALIDATION_ERROR, "authentication_failed": ErrorCode.INVALID_TOKEN}
FIELD_OWNERSHIP_STATUS = status.HTTP_403_FORBIDDEN


class ApiError(exceptions.APIException):
    """An error with an explicit status, code, message and detail, raised by views."""

    def __init__(self, *, status_code: int, code: str, message: str, detail: Mapping[str, Any] | None = None):
        super().__init__(message, code)
        self.status_code = status_code
        self.error_code = code
        self.error_detail = dict(detail) if detail is not None else None


def error_body(code: str, message: str, detail: Any = None) -> dict[str, Any]:
    if detail is not None and not isinstance(detail, Mapping):
        detail = {"errors": detail}
    return {"error": {"code": str(code), "message": str(message), "detail": detail}}


def _path(path: str, key: Any) -> str:
    """Where an error is, as a client writes it: ``lines[0].quantity``."""
    if isinstance(key, int):  # an item of a list
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _first_message(detail: Any, path: str = "") -> str:
    """The first message of a DRF error tree, prefixed with where it is (``lines[0].quantity``)."""
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            if value:
                inner = path if key == api_settings.NON_FIELD_ERRORS_KEY else _path(path, key)
                return _first_message(value, inner)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if value:
                return _first_message(
                    value, _path(path, index) if isinstance(value, Mapping | list) else path
                )
    text = str(detail)
    return f"{path}: {text}" if path else text


def _unknown_fields(detail: Any, path: str = "") -> list[str]:
    """The paths of the unknown keys in a DRF error tree (see ``integration.storefront.api.serializers``)."""
    if isinstance(detail, Mapping):
        found: list[str] = []
        for key, value in detail.items():
            if isinstance(value, list) and any(getattr(v, "code", None) == UNKNOWN_FIELD for v in value):
                found.append(_path(path, key))
            else:
                found += _unknown_fields(value, _path(path, key))
        return found
    if isinstance(detail, list):
        return [
            p
            for index, value in enumerate(detail)
            for p in _unknown_fields(value, _path(path, index) if isinstance(value, Mapping | list) else path)
        ]
    return []


def unknown_fields_body(paths: list[str]) -> dict[str, Any]:
    """The ``unknown_field`` answer: a body named fields the endpoint does not have."""
    return error_body(
        ErrorCode.UNKNOWN_FIELD,
        f"unknown field: {', '.join(paths)} (no such field here; check the spelling)",
        {"fields": paths},
    )


def _plain(detail: Any) -> Any:
    """DRF's ErrorDetail tree as plain JSON (lists of messages, keyed by field)."""
    if isinstance(detail, Mapping):
        return {str(k): _plain(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_plain(v) for v in detail]
    return str(detail)


def _from_api_exception(exc: exceptions.APIException, response: Response) -> Response:
    if isinstance(exc, ApiError):
        body = error_body(exc.error_code, exc.detail, exc.error_detail)
    elif isinstance(exc, exceptions.ValidationError):
        detail = (
            exc.detail if isinstance(exc.detail, Mapping) else {api_settings.NON_FIELD_ERRORS_KEY: exc.detail}
        )
        detail = sentences(detail)
        unknown = _unknown_fields(detail)
        if unknown:  # a typo is the cause to tell first: the rest may be its consequences
            body = unknown_fields_body(unknown)
        else:
            body = error_body(
                ErrorCode.VALIDATION_ERROR,
                "invalid input: " + _first_message(detail),
                _plain(detail),
            )
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        body = error_body(_RENAMED.get(code, code), str(exc.detail))
    response.data = body
    return response


#: The HTTP status of each domain error code that is not a 400 (``integration.core.errors``): the
#: one place where the domain's refusals meet HTTP. A code not listed is a 400.
STATUS_BY_CODE: dict[str, int] = {
    # inventory.errors
    "insufficient_stock": status.HTTP_409_CONFLICT,
    "reservation_not_found": status.HTTP_404_NOT_FOUND,
    "reservation_not_active": status.HTTP_409_CONFLICT,
    "selling_paused": status.HTTP_503_SERVICE_UNAVAILABLE,  # nothing wrong with the request: come back later
    # orders.errors
    "order_number_conflict": status.HTTP_409_CONFLICT,
    "lines_do_not_match_reservation": status.HTTP_409_CONFLICT,
    "price_mismatch": status.HTTP_409_CONFLICT,
    "order_not_found": status.HTTP_404_NOT_FOUND,
    "not_cancellable": status.HTTP_409_CONFLICT,
    "quantity_exceeds_cancellable": status.HTTP_409_CONFLICT,
    # returns.errors
    "return_not_found": status.HTTP_404_NOT_FOUND,
    "nothing_to_return": status.HTTP_409_CONFLICT,
    "quantity_exceeds_returnable": status.HTTP_409_CONFLICT,
    # every operation's (integration.core.errors.IDEMPOTENCY_KEY_CONFLICT)
    "idempotency_key_conflict": status.HTTP_409_CONFLICT,
}


def status_for(error: DomainError) -> int:
    """The HTTP status that answers a domain error (:data:`STATUS_BY_CODE`, else 400)."""
    return STATUS_BY_CODE.get(str(error.code), status.HTTP_400_BAD_REQUEST)


def api_exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every known error in the one shape; anything else is left to Django."""
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, str(exc), exc.detail), status=status_for(exc))
    if isinstance(exc, FieldOwnershipError):
        owners = sorted({PRODUCT_FIELDS[f].value for f in exc.fields if f in PRODUCT_FIELDS})
        unknown = [f for f in exc.fields if f not in PRODUCT_FIELDS]
        if not owners:  # only undeclared fields: a bad request, not a refused one
            return Response(unknown_fields_body(unknown), status=status.HTTP_400_BAD_REQUEST)
        return Response(
            error_body(exc.code, str(exc), {"fields": exc.fields, "owners": owners}),
            status=FIELD_OWNERSHIP_STATUS,
        )
    if isinstance(exc, RequestDataTooBig):  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(
            error_body(ErrorCode.REQUEST_TOO_LARGE, "the request body is too large"),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, SuspiciousOperation):  # too many query parameters, a bad header...
        return Response(error_body(ErrorCode.BAD_REQUEST, "bad request"), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):  # a model's full_clean() in a service
        exc = exceptions.ValidationError(get_error_detail(exc))
    response = drf_exception_handler(exc, dict(context))  # status and headers: WWW-Authenticate, Retry-After
    if response is None or not isinstance(exc, exceptions.APIException):
        return None
    return _from_api_exception(exc, response)


def bad_request(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """handler400 for the API's paths (config.urls): what Django refuses before any view runs."""
    return JsonResponse(error_body(ErrorCode.BAD_REQUEST, "bad request"), status=status.HTTP_400_BAD_REQUEST)


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """handler500 for the API's paths (config.urls): the one shape, nothing about the cause."""
    return JsonResponse(
        error_body(ErrorCode.SERVER_ERROR, "internal error; it has been logged"),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


@extend_schema(exclude=True)
class ApiNotFound(APIView):
    """Any path under /api/ that no endpoint answers: 404 in the one shape, for every method."""

    authentication_classes: list[type] = []
    permission_classes: list[type] = []
    throttle_classes: list[type] = []

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise ApiError(
            status_code=status.HTTP_404_NOT_FOUND,
            code=ErrorCode.NOT_FOUND,
            message=f"no endpoint at {request.path} (the API's paths end with a slash)",
        )


# --- For the OpenAPI document -----------------------------------------------------------------

ErrorSerializer = inline_serializer(
    "Error",
    fields={
        "error": inline_serializer(
            "ErrorBody",
            fields={
                "code": serializers.CharField(help_text="Stable, machine-readable"),
                "message": serializers.CharField(help_text="For people; the wording may change"),
                "detail": serializers.JSONField(
                    allow_null=True, help_text="An object whose keys depend on the code, or null"
                ),
            },
        )
    },
)

STATUS_DESCRIPTIONS = {
    400: "Invalid request (`validation_error`, `unknown_field`, `parse_error`, or a code of the operation)",
    401: "Missing, unknown or deactivated token (`not_authenticated`, `invalid_token`, `client_inactive`)",
    403: "The client's token lacks the scope (`insufficient_scope`)",
    404: "Not found, or not visible to this client (`not_found`, `product_not_found`, `reservation_not_found`, `order_not_found`, `return_not_found`)",
    409: "Conflict with the current state",
    413: "The body is larger than the server accepts (`request_too_large`)",
    415: "The body is not JSON (`unsupported_media_type`)",
    429: "Over the client's rate limit (`throttled`); `Retry-After` says in how many seconds to retry",
    503: "Unavailable for now; retry later (`rate_limit_unavailable`: the rate-limit counters are unreachable "
    "and this deployment fails closed)",
}


def error_responses(*codes: int, **descriptions: str) -> dict[int, OpenApiResponse]:
    """``extend_schema(responses=...)`` entries for these error statuses, all in the one shape."""
    out = {}
    for code in codes:
        text = descriptions.get(f"e{code}") or STATUS_DESCRIPTIONS[code]
        out[code] = OpenApiResponse(ErrorSerializer, description=text)
    return out
