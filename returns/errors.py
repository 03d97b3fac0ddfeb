"""Errors of web returns, each with a stable code the API returns as it is."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ReturnErrorCode(StrEnum):
    INVALID = "invalid_return"
    INVALID_REASON = "invalid_reason"
    UNKNOWN_LINE = "unknown_line"
    ORDER_NOT_FOUND = "order_not_found"
    RETURN_NOT_FOUND = "return_not_found"
    NOTHING_TO_RETURN = "nothing_to_return"
    QUANTITY_EXCEEDS_RETURNABLE = "quantity_exceeds_returnable"
    IDEMPOTENCY_CONFLICT = "idempotency_key_conflict"


class ReturnError(Exception):
    """A refused return: ``code`` for machines, the message for people, ``status`` for HTTP."""

    STATUS = {
        ReturnErrorCode.ORDER_NOT_FOUND: 404,
        ReturnErrorCode.RETURN_NOT_FOUND: 404,
        ReturnErrorCode.NOTHING_TO_RETURN: 409,
        ReturnErrorCode.QUANTITY_EXCEEDS_RETURNABLE: 409,
        ReturnErrorCode.IDEMPOTENCY_CONFLICT: 409,
    }

    def __init__(self, message: str, *, code: ReturnErrorCode, detail: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code, self.detail = code, detail
        self.status = self.STATUS.get(code, 400)
