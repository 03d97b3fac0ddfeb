"""Errors of web returns, each with a stable code the API returns as it is."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from integration.core.errors import IDEMPOTENCY_KEY_CONFLICT, DomainError


class ReturnErrorCode(StrEnum):
    INVALID = "invalid_return"
    INVALID_REASON = "invalid_reason"
    UNKNOWN_LINE = "unknown_line"
    ORDER_NOT_FOUND = "order_not_found"
    RETURN_NOT_FOUND = "return_not_found"
    NOTHING_TO_RETURN = "nothing_to_return"
    QUANTITY_EXCEEDS_RETURNABLE = "quantity_exceeds_returnable"
    IDEMPOTENCY_CONFLICT = IDEMPOTENCY_KEY_CONFLICT


class ReturnError(DomainError):
    """A refused return (see :class:`~integration.core.errors.DomainError`)."""

    def __init__(self, message: str, *, code: ReturnErrorCode, detail: dict[str, Any] | None = None) -> None:
        super().__init__(message, code=code, detail=detail)
