"""django-q2 entry points of the integration app. Tasks call services and hold no logic."""

from __future__ import annotations

from integration.sync import exchange_sync


def as400_sync() -> list[str]:
    """Apply every ready ITMMST/STKBAL pair of OUT/ (scheduled every minute)."""
    return exchange_sync().lines()
