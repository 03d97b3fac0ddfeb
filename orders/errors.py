"""Errors of checkout and cancellation, each with a stable code the API returns as it is."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from integration.core.errors import IDEMPOTENCY_KEY_CONFLICT, DomainError


class OrderErrorCode(StrEnum):
    INVALID = "invalid_order"
    ORDER_NUMBER_CONFLICT = "order_number_conflict"
    LINES_DO_NOT_MATCH_RESERVATION = "lines_do_not_match_reservation"
    PRICE_MISMATCH = "price_mismatch"
    NOT_WRITABLE_FOR_THE_AS400 = "not_writable_for_the_as400"
    # Cancellation (orders.cancellation).
    ORDER_NOT_FOUND = "order_not_found"
    NOT_CANCELLABLE = "not_cancellable"
    UNKNOWN_LINE = "unknown_line"
    QUANTITY_EXCEEDS = "quantity_exceeds_cancellable"
    IDEMPOTENCY_KEY_CONFLICT = IDEMPOTENCY_KEY_CONFLICT  # a cancellation or an order


class OrderError(DomainError):
    """A refused order (see :class:`~integration.core.errors.DomainError`)."""

    def __init__(self, message: str, *, code: OrderErrorCode, detail: Any = None) -> None:
        super().__init__(message, code=code, detail=detail)
