"""Where the returns an AS400 event receives are recorded: a port the returns app fills.

``returns`` depends on ``orders`` (a return is of an order's lines), never the reverse. So when the
order's lifecycle applies an ORDSTS R (units of a return arrived at the AS400) or a STRRTN R (units
brought back to a store counter), it hands them to the receiver registered here, which the returns
app registers at start-up (``returns.apps``), as the outbox's sent hooks are registered. What comes
back is what the storefront is told: each return that received units, and how many.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from orders.models import OrderLine


@dataclass(frozen=True)
class ReturnReceipt:
    """Units of one return received by one event."""

    rma: str
    store: int  # where the goods are: 900 the warehouse, else the store's number
    status: str  # the return's status after the receipt
    quantity: int
    announced: bool  # a return the storefront asked for (a web return), not one made for the receipt


class ReturnsReceiver(Protocol):
    def web_return_received(
        self, *, line: OrderLine, quantity: int, at: datetime, now: datetime
    ) -> list[ReturnReceipt]:
        """ORDSTS R: ``quantity`` units of ``line`` arrived at the AS400 at ``at``."""

    def store_return_received(
        self, *, line: OrderLine, quantity: int, store: int, reason: str, at: datetime, now: datetime
    ) -> ReturnReceipt:
        """STRRTN R: ``quantity`` units of ``line`` brought back to the counter of ``store``."""


_receiver: list[ReturnsReceiver] = []


def returns_receiver_register(receiver: ReturnsReceiver) -> None:
    """Called once, by the returns app at start-up; a second registration replaces the first."""
    _receiver[:] = [receiver]


def returns_receiver() -> ReturnsReceiver:
    if not _receiver:
        raise ImproperlyConfigured("no returns receiver registered: is the returns app installed?")
    return _receiver[0]
