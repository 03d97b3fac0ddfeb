"""Availability and reservations: the formula, all-or-nothing takes, expiry, and no oversell.

The concurrency tests run real threads, each with its own database connection, against the
real database of the run (SQLite file or PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from integration.storefront.api.errors import status_for
from inventory.errors import InsufficientStock, InventoryError, InventoryErrorCode, ReservationNotActive
from inventory.models import (
    Reservation,
    ReservationLine,
    SafetyStockOverride,
    SellingSwitch,
    StockLevel,
)
from inventory.reservations import (
    LineRequest,
    reservation_create,
    reservation_release,
    reservation_replace_lines,
    reservations_sweep_expired,
)
from inventory.selectors import availability_by_pair, availability_for
from tests.factories.inventory import NOW, Catalogue
from tests.races import race


@pytest.fixture
def catalogue(db: None) -> Catalogue:
    return Catalogue()


def level(sku: str, location: int = 900) -> StockLevel:
    return StockLevel.objects.get(product__item_number=sku, location_id=location)


def available(sku: str, location: int = 900, now: datetime | None = None) -> int:
    s = level(sku, location)
    return availability_by_pair([(s.product_id, location)], now=now)[(s.product_id, location)].available


# --- The formula ------------------------------------------------------------------------------


def test_available_is_on_hand_less_promised_in_flight_reserved_and_safety(catalogue: Catalogue) -> None:
    catalogue.live.safety_stock = 1
    catalogue.live.save()
    catalogue.product("A", stock={900: 10}, promised=2)
    StockLevel.objects.update(in_flight=1)
    reservation_create(lines=[LineRequest("A", 3)], now=NOW)

    assert available("A", now=NOW) == 10 - 2 - 1 - 3 - 1


def test_available_is_never_below_zero(catalogue: Catalogue) -> None:
    catalogue.product("A", stock={900: -4}, promised=2)

    assert available("A") == 0


def test_safety_stock_by_product_and_location_then_product_then_category(catalogue: Catalogue) -> None:
    catalogue.live.safety_stock = 5
    catalogue.live.save()
    a = catalogue.product("A", stock={900: 10, 1: 10})

    assert (available("A", 900), available("A", 1)) == (5, 5)
    SafetyStockOverride.objects.create(product=a, location=None, quantity=2)
    assert (available("A", 900), available("A", 1)) == (8, 8)
    SafetyStockOverride.objects.create(product=a, location_id=1, quantity=7)
    assert (available("A", 900), available("A", 1)) == (8, 3)


def test_availability_per_sku_home_delivery_and_click_and_collect_stores(catalogue: Catalogue) -> None:
    catalogue.product("A", stock={900: 10, 1: 4, 2: 6})

    result = availability_for(skus=["A", "NOPE"], include_pilot=False)

    assert list(result) == ["A"]
    assert result["A"].home_delivery == 10
    assert [(s.location, s.available) for s in result["A"].stores] == [(1, 4)]  # 002 does not collect
    assert result["A"].as_of == NOW


def test_pilot_categories_only_for_clients_allowed_to_see_them(catalogue: Catalogue) -> None:
    catalogue.product("P", category=catalogue.pilot)
    catalogue.product("O", category=catalogue.off)
    catalogue.product("S", status="S")
    catalogue.product("U", mapped=False)

    assert list(availability_for(skus=["P", "O", "S", "U"], include_pilot=False)) == []
    assert list(availability_for(skus=["P", "O", "S", "U"], include_pilot=True)) == ["P"]


def test_the_global_switch_shows_nothing_available_and_refuses_reservations(catalogue: Catalogue) -> None:
    catalogue.product("A")
    SellingSwitch.objects.create(selling_enabled=False, reason="AS400 incident")

    assert availability_for(skus=["A"], include_pilot=False)["A"].home_delivery == 0
    with pytest.raises(InventoryError) as excinfo:
        reservation_create(lines=[LineRequest("A", 1)])
    assert excinfo.value.code == InventoryErrorCode.SELLING_PAUSED


# --- Reservations ----------------------------------------------------------------------------


def test_a_reservation_holds_every_line_with_a_time_to_live(catalogue: Catalogue, settings: Any) -> None:
    settings.RESERVATION_TTL_SECONDS = 600
    catalogue.product("A", stock={900: 10, 1: 3})
    catalogue.product("B", stock={900: 5})

    reservation = reservation_create(
        lines=[
            LineRequest("A", 2),
            LineRequest("A", 1, location=1),
            LineRequest("B", 5),
            LineRequest("A", 1),
        ],
        now=NOW,
    )

    assert reservation.expires_at == NOW + timedelta(minutes=10)
    assert sorted((line.product.item_number, line.location_id, line.quantity) for line in reservation.lines.all()) == [
        ("A", 1, 1), ("A", 900, 3), ("B", 900, 5),
    ]  # fmt: skip
    assert (available("A", 900, NOW), available("A", 1, NOW), available("B", 900, NOW)) == (7, 2, 0)
    assert level("A").reserved == 3


def test_a_reservation_is_all_or_nothing_and_says_what_is_short(catalogue: Catalogue) -> None:
    catalogue.product("A", stock={900: 10})
    catalogue.product("B", stock={900: 2})

    with pytest.raises(InsufficientStock) as excinfo:
        reservation_create(lines=[LineRequest("A", 4), LineRequest("B", 3)])

    assert [(s.sku, s.location, s.requested, s.available) for s in excinfo.value.shortages] == [
        ("B", 900, 3, 2)
    ]
    assert status_for(excinfo.value) == 409
    assert (level("A").reserved, level("B").reserved) == (0, 0)
    assert Reservation.objects.count() == ReservationLine.objects.count() == 0


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (LineRequest("NOPE", 1), InventoryErrorCode.UNKNOWN_SKU),
        (LineRequest("A", 0), InventoryErrorCode.INVALID_LINES),
        (LineRequest("A", 1, location=2), InventoryErrorCode.LOCATION_NOT_SELLING),
        (LineRequest("A", 1, location=77), InventoryErrorCode.LOCATION_NOT_SELLING),
        (LineRequest("OFF", 1), InventoryErrorCode.UNKNOWN_SKU),
    ],
)
def test_a_bad_line_is_refused_with_its_code(catalogue: Catalogue, line: LineRequest, code: str) -> None:
    catalogue.product("A")
    catalogue.product("OFF", category=catalogue.off)

    with pytest.raises(InventoryError) as excinfo:
        reservation_create(lines=[line])

    assert excinfo.value.code == code
    assert Reservation.objects.count() == 0


def test_an_expired_reservation_stops_counting_at_once_and_its_units_can_be_taken(
    catalogue: Catalogue,
) -> None:
    catalogue.product("A", stock={900: 5})
    first = reservation_create(lines=[LineRequest("A", 5)], now=NOW)
    later = first.expires_at + timedelta(seconds=1)

    assert available("A", now=NOW) == 0
    assert available("A", now=later) == 5  # no worker has run
    second = reservation_create(lines=[LineRequest("A", 5)], now=later)

    first.refresh_from_db()
    assert first.status == Reservation.Status.EXPIRED
    assert second.status == Reservation.Status.ACTIVE
    assert level("A").reserved == 5
    assert available("A", now=later) == 0


def test_the_periodic_clean_up_frees_expired_units_once(catalogue: Catalogue) -> None:
    catalogue.product("A", stock={900: 5})
    reservation = reservation_create(lines=[LineRequest("A", 4)], now=NOW)
    later = reservation.expires_at + timedelta(minutes=1)

    assert reservations_sweep_expired(now=later) == 4
    assert reservations_sweep_expired(now=later) == 0
    assert level("A").reserved == 0
    reservation_release(reservation=reservation)  # releasing an expired reservation is harmless
    assert level("A").reserved == 0


def test_replacing_lines_is_all_or_nothing(catalogue: Catalogue) -> None:
    catalogue.product("A", stock={900: 5})
    catalogue.product("B", stock={900: 1})
    reservation = reservation_create(lines=[LineRequest("A", 3)], now=NOW)

    reservation_replace_lines(reservation=reservation, lines=[LineRequest("A", 5)], now=NOW)
    assert level("A").reserved == 5
    with pytest.raises(InsufficientStock):
        reservation_replace_lines(
            reservation=reservation, lines=[LineRequest("A", 1), LineRequest("B", 2)], now=NOW
        )

    assert (level("A").reserved, level("B").reserved) == (5, 0)
    assert [(line.product.item_number, line.quantity) for line in reservation.lines.filter(active=True)] == [
        ("A", 5)
    ]


def test_releasing_gives_the_units_back_and_twice_is_harmless(catalogue: Catalogue) -> None:
    catalogue.product("A", stock={900: 5})
    reservation = reservation_create(lines=[LineRequest("A", 5)])

    reservation_release(reservation=reservation)
    reservation_release(reservation=reservation)

    assert level("A").reserved == 0
    assert available("A") == 5
    with pytest.raises(ReservationNotActive):
        reservation_replace_lines(reservation=reservation, lines=[LineRequest("A", 1)])


def test_the_same_idempotency_key_returns_the_same_reservation(catalogue: Catalogue) -> None:
    catalogue.product("A", stock={900: 5})

    first = reservation_create(lines=[LineRequest("A", 2)], client="web", idempotency_key="k1")
    again = reservation_create(lines=[LineRequest("A", 2)], client="web", idempotency_key="k1")

    assert first.pk == again.pk
    assert level("A").reserved == 2
    with pytest.raises(InventoryError) as excinfo:
        reservation_create(lines=[LineRequest("A", 3)], client="web", idempotency_key="k1")
    assert excinfo.value.code == InventoryErrorCode.IDEMPOTENCY_KEY_CONFLICT


def test_the_live_figure_is_trusted_when_it_is_lower(catalogue: Catalogue) -> None:
    a = catalogue.product("A", stock={900: 10})

    with pytest.raises(InsufficientStock):
        reservation_create(lines=[LineRequest("A", 4)], live_free={(a.pk, 900): 3})
    reservation_create(lines=[LineRequest("A", 3)], live_free={(a.pk, 900): 3})

    assert level("A").reserved == 3


# --- Real concurrency -------------------------------------------------------------------------


def run_concurrently(count: int, work: Callable[[int], str]) -> list[str]:
    """Run ``work(i)`` in ``count`` threads started together; each uses its own connection."""
    return [
        f"error: {o.error.__class__.__name__}: {o.error}" if o.error is not None else o.get()
        for o in race(work, [(i,) for i in range(count)], timeout=120)
    ]  # an error recorded, so that the test shows what went wrong


def reserve_one_unit(i: int) -> str:
    try:
        reservation_create(lines=[LineRequest("HOT", 1)], client=f"client-{i}")
    except InsufficientStock:
        return "short"
    return "reserved"


@pytest.mark.django_db(transaction=True)
def test_concurrent_clients_fighting_over_the_last_units_get_exactly_those_units() -> None:
    catalogue = Catalogue()
    catalogue.product("HOT", stock={900: 10})
    clients = 100 if connection.vendor == "postgresql" else 30

    results = run_concurrently(clients, reserve_one_unit)

    assert sorted(set(results)) == ["reserved", "short"], results
    assert results.count("reserved") == 10
    assert level("HOT").reserved == 10
    assert sum(ReservationLine.objects.filter(active=True).values_list("quantity", flat=True)) == 10
    assert available("HOT") == 0


@pytest.mark.django_db(transaction=True)
def test_multi_line_reservations_over_the_same_skus_in_different_orders_never_deadlock() -> None:
    catalogue = Catalogue()
    skus = ["S1", "S2", "S3", "S4"]
    for sku in skus:
        catalogue.product(sku, stock={900: 12})
    clients = 40 if connection.vendor == "postgresql" else 16

    def reserve_in_some_order(i: int) -> str:
        order = skus[i % 4 :] + skus[: i % 4]
        if i % 2:
            order.reverse()
        try:
            reservation_create(lines=[LineRequest(sku, 1 + (i + n) % 2) for n, sku in enumerate(order)])
        except InsufficientStock:
            return "short"
        return "reserved"

    results = run_concurrently(clients, reserve_in_some_order)

    assert not [r for r in results if r.startswith("error")], results
    for sku in skus:
        s = level(sku)
        held = sum(
            ReservationLine.objects.filter(active=True, product__item_number=sku).values_list(
                "quantity", flat=True
            )
        )
        assert s.reserved == held <= 12
    assert results.count("reserved") >= 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_takes_and_releases_keep_the_counter_equal_to_the_lines() -> None:
    catalogue = Catalogue()
    catalogue.product("HOT", stock={900: 6})
    clients = 40 if connection.vendor == "postgresql" else 16

    def take_then_maybe_release(i: int) -> str:
        try:
            reservation = reservation_create(lines=[LineRequest("HOT", 2)])
        except InsufficientStock:
            return "short"
        if i % 2:
            reservation_release(reservation=reservation)
            return "released"
        return "kept"

    results = run_concurrently(clients, take_then_maybe_release)

    assert not [r for r in results if r.startswith("error")], results
    held = sum(ReservationLine.objects.filter(active=True).values_list("quantity", flat=True))
    assert level("HOT").reserved == held == 2 * results.count("kept") <= 6


def test_the_clean_up_is_scheduled_every_minute_and_frees_expired_units(catalogue: Catalogue) -> None:
    from django_q.models import Schedule

    from inventory.tasks import reservations_clean_up

    catalogue.product("A", stock={900: 5})
    reservation_create(lines=[LineRequest("A", 4)], now=timezone.now() - timedelta(hours=1))

    schedule = Schedule.objects.get(func="inventory.tasks.reservations_clean_up")

    assert (schedule.schedule_type, schedule.minutes) == (Schedule.MINUTES, 1)
    assert reservations_clean_up() == 4
    assert level("A").reserved == 0


def test_one_safety_override_per_product_and_location_and_one_for_everywhere(catalogue: Catalogue) -> None:
    from django.db import IntegrityError, transaction

    a = catalogue.product("A", stock={900: 10, 1: 10})
    SafetyStockOverride.objects.create(product=a, location=None, quantity=1)
    SafetyStockOverride.objects.create(product=a, location_id=1, quantity=2)

    for location in (None, 1):
        with pytest.raises(IntegrityError), transaction.atomic():
            SafetyStockOverride.objects.create(product=a, location_id=location, quantity=3)


def test_the_shortage_reports_the_live_figure_when_it_is_lower(catalogue: Catalogue) -> None:
    a = catalogue.product("A", stock={900: 10})

    with pytest.raises(InsufficientStock) as excinfo:
        reservation_create(lines=[LineRequest("A", 4)], live_free={(a.pk, 900): 3})

    assert [(s.requested, s.available) for s in excinfo.value.shortages] == [(4, 3)]


def test_an_expired_reservation_can_be_given_new_lines_and_is_active_again(catalogue: Catalogue) -> None:
    catalogue.product("A", stock={900: 5})
    reservation = reservation_create(lines=[LineRequest("A", 2)], now=NOW)
    later = reservation.expires_at + timedelta(minutes=1)
    reservations_sweep_expired(now=later)

    reservation_replace_lines(reservation=reservation, lines=[LineRequest("A", 3)], now=later)

    reservation.refresh_from_db()
    assert reservation.status == Reservation.Status.ACTIVE
    assert [(line.quantity, line.active) for line in reservation.lines.all()] == [(3, True)]
    assert level("A").reserved == 3


def test_availability_of_many_pairs_at_once(catalogue: Catalogue) -> None:
    products = [catalogue.product(f"P{n:04d}", stock={900: n % 7, 1: 1}) for n in range(600)]

    pairs = [(p.pk, loc) for p in products for loc in (900, 1)]  # 1,200 pairs
    result = availability_by_pair(pairs)

    assert len(result) == 1200
    assert result[(products[10].pk, 900)].available == 10 % 7
