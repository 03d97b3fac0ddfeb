"""django-q2 entry points of the inventory. Tasks call services and hold no logic."""

from __future__ import annotations

from integration.core.locks import one_at_a_time
from inventory.reservations import reservations_sweep_expired


@one_at_a_time("Expired reservations clean-up")
def reservations_clean_up() -> int:
    """Free the units of expired reservations (scheduled every minute); returns the units freed.

    Expiry does not depend on it: an expired reservation stops counting at once. This only keeps
    the ``reserved`` counters close to the active lines.
    """
    return reservations_sweep_expired()
