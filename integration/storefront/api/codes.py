"""The error codes the API layer itself answers with (the inventory's are in ``inventory.errors``, the orders' in ``orders.errors``).

Kept apart from ``errors`` so that the authentication classes, which DRF imports while it
loads, need nothing of DRF's views.
"""

from __future__ import annotations


class ErrorCode:
    VALIDATION_ERROR = "validation_error"
    PARSE_ERROR = "parse_error"
    NOT_AUTHENTICATED = "not_authenticated"
    INVALID_TOKEN = "invalid_token"
    CLIENT_INACTIVE = "client_inactive"
    INSUFFICIENT_SCOPE = "insufficient_scope"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    PRODUCT_NOT_FOUND = "product_not_found"
    ORDER_NOT_FOUND = "order_not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    THROTTLED = "throttled"
    REQUEST_TOO_LARGE = "request_too_large"
    BAD_REQUEST = "bad_request"
    RATE_LIMIT_UNAVAILABLE = "rate_limit_unavailable"
    UNKNOWN_FIELD = "unknown_field"
    SERVER_ERROR = "server_error"
