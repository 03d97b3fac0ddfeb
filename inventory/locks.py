"""The row locks of the inventory, one helper per table, and the order they are taken in.

- a reservation (``reservations_locked``), then its lines (``reservation_lines_locked``, by primary
  key); the expiry sweep locks lines alone, by primary key, skipping none;
- a category (``categories_locked``) while its rollout stage is read and moved;
- the selling switch (``selling_switch_locked``), alone.

Stock levels are never locked: holds are conditional updates (``inventory.reservations``).
"""

from __future__ import annotations

from django.db.models import QuerySet

from inventory.models import Category, Reservation, ReservationLine, SellingSwitch


def reservations_locked() -> QuerySet[Reservation]:
    return Reservation.objects.select_for_update()


def reservation_lines_locked(*, lines_only: bool = False) -> QuerySet[ReservationLine]:
    """``lines_only``: lock the lines and not the rows a ``select_related`` joins (their products)."""
    return (
        ReservationLine.objects.select_for_update(of=("self",))
        if lines_only
        else ReservationLine.objects.select_for_update()
    )


def categories_locked() -> QuerySet[Category]:
    return Category.objects.select_for_update()


def selling_switch_locked() -> QuerySet[SellingSwitch]:
    return SellingSwitch.objects.select_for_update()
