"""Errors of the inventory, each with a stable code the API returns as it is."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from integration.core.errors import IDEMPOTENCY_KEY_CONFLICT, DomainError


class InventoryErrorCode(StrEnum):
    INSUFFICIENT_STOCK = "insufficient_stock"
    UNKNOWN_SKU = "unknown_sku"
    PRODUCT_NOT_SELLABLE = "product_not_sellable"
    UNKNOWN_LOCATION = "unknown_location"
    LOCATION_NOT_SELLING = "location_not_selling"
    SELLING_PAUSED = "selling_paused"
    INVALID_LINES = "invalid_lines"
    RESERVATION_NOT_FOUND = "reservation_not_found"
    RESERVATION_NOT_ACTIVE = "reservation_not_active"
    IDEMPOTENCY_KEY_CONFLICT = IDEMPOTENCY_KEY_CONFLICT


class InventoryError(DomainError):
    """A refused inventory operation (see :class:`~integration.core.errors.DomainError`)."""

    code: str = InventoryErrorCode.INVALID_LINES

    def __init__(self, message: str, *, code: InventoryErrorCode | None = None, detail: Any = None) -> None:
        super().__init__(message, code=code, detail=detail)


@dataclass(frozen=True)
class Shortage:
    """One line that cannot be served: what was asked and what is available now."""

    sku: str
    location: int
    requested: int
    available: int


class InsufficientStock(InventoryError):
    code = InventoryErrorCode.INSUFFICIENT_STOCK

    def __init__(self, shortages: list[Shortage]) -> None:
        self.shortages = shortages
        listed = ", ".join(
            f"{s.sku}@{s.location:03d}: {s.requested} asked, {s.available} available" for s in shortages
        )
        super().__init__(f"not enough stock: {listed}", detail={"shortages": [s.__dict__ for s in shortages]})


class ReservationNotFound(InventoryError):
    code = InventoryErrorCode.RESERVATION_NOT_FOUND


class ReservationNotActive(InventoryError):
    code = InventoryErrorCode.RESERVATION_NOT_ACTIVE
