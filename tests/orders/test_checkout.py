"""Checkout: the order, its lines, its stock in flight and its outbox message, all or nothing.

The API is tested in tests/api/test_orders.py; these tests
drive the checkout service on the real database.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from integration.models import OutboxMessage
from integration.storefront.api.errors import status_for
from inventory.errors import InsufficientStock
from inventory.models import Reservation, StockLevel
from inventory.reservations import LineRequest, reservation_create, reservations_sweep_expired
from inventory.selectors import availability_by_pair
from orders.errors import OrderError, OrderErrorCode
from orders.models import Order, OrderEvent, OrderLine
from orders.services import Customer, LineInput, OrderInput, in_flight_settle, order_as_sent, order_place
from tests.factories.inventory import Catalogue
from tests.races import race


@pytest.fixture
def catalogue(db: None) -> Catalogue:
    return Catalogue()


def level(sku: str, location: int = 900) -> StockLevel:
    return StockLevel.objects.get(product__item_number=sku, location_id=location)


def an_order(reservation: Reservation, lines: list[LineInput], **changes: Any) -> OrderInput:
    values: dict[str, Any] = {
        "order_number": "WEB-2026-000001",
        "reservation_id": str(reservation.pk),
        "delivery": "home",
        "customer": Customer(
            last_name="Lefèvre",
            first_name="Hélène",
            address_line1="12 rue de la Paix",
            postal_code="69003",
            city="Lyon",
            email="helene@example.fr",
        ),
        "lines": lines,
    }
    values.update(changes)
    return OrderInput(**values)


def test_placing_an_order_turns_the_reservation_into_stock_in_flight(catalogue: Catalogue) -> None:
    a = catalogue.product("A", stock={900: 10})
    reservation = reservation_create(lines=[LineRequest("A", 3)], client="web")
    available_before = availability_by_pair([(a.pk, 900)])[(a.pk, 900)].available

    order, created = order_place(
        data=an_order(reservation, [LineInput("A", 3, Decimal("9.90"))]), client="web"
    )

    assert created
    assert (level("A").reserved, level("A").in_flight) == (0, 3)
    assert availability_by_pair([(a.pk, 900)])[(a.pk, 900)].available == available_before == 7
    assert [(line.line_number, line.quantity, line.in_flight) for line in order.lines.all()] == [(1, 3, 3)]
    assert (order.status, order.total, order.pickup_location_id) == ("placed", Decimal("29.70"), 900)
    assert OutboxMessage.objects.get().kind == "ORDIMP"
    assert OrderEvent.objects.get().status_to == "placed"
    reservation.refresh_from_db()
    assert reservation.status == Reservation.Status.CONVERTED


def test_the_same_order_again_returns_the_same_order_and_other_content_is_refused(
    catalogue: Catalogue,
) -> None:
    catalogue.product("A", stock={900: 10})
    reservation = reservation_create(lines=[LineRequest("A", 3)], client="web")
    data = an_order(reservation, [LineInput("A", 3, Decimal("9.90"))])
    first, _ = order_place(data=data, client="web")

    again, created = order_place(data=data, client="web")

    assert (again.pk, created) == (first.pk, False)
    assert level("A").in_flight == 3
    assert OutboxMessage.objects.count() == 1
    with pytest.raises(OrderError) as excinfo:
        order_place(data=an_order(reservation, [LineInput("A", 2, Decimal("9.90"))]), client="web")
    assert (excinfo.value.code, status_for(excinfo.value)) == (OrderErrorCode.ORDER_NUMBER_CONFLICT, 409)


@pytest.mark.django_db(transaction=True)
def test_the_same_order_posted_twice_at_the_same_moment_is_one_order() -> None:
    catalogue = Catalogue()
    catalogue.product("A", stock={900: 10})
    reservation = reservation_create(lines=[LineRequest("A", 3)], client="web")
    data = an_order(reservation, [LineInput("A", 3, Decimal("9.90"))])

    def place() -> str:
        order, created = order_place(data=data, client="web")
        return f"{order.pk}:{created}"

    outcomes = race(place, [()] * 6, timeout=60)
    results = [f"error {o.error!r}" if o.error is not None else o.get() for o in outcomes]

    assert Order.objects.count() == 1
    order = Order.objects.get()
    assert sorted(results) == sorted([f"{order.pk}:True"] + [f"{order.pk}:False"] * 5), results
    assert level("A").in_flight == 3
    assert OutboxMessage.objects.count() == 1


def test_an_expired_reservation_still_succeeds_while_the_stock_is_there(catalogue: Catalogue) -> None:
    catalogue.product("A", stock={900: 5})
    now = timezone.now()
    reservation = reservation_create(lines=[LineRequest("A", 3)], client="web", now=now - timedelta(hours=1))

    order, _ = order_place(data=an_order(reservation, [LineInput("A", 3, Decimal("9.90"))]), client="web")

    assert order.lines.get().in_flight == 3
    assert (level("A").reserved, level("A").in_flight) == (0, 3)


def test_an_expired_reservation_whose_stock_is_gone_is_refused_and_nothing_is_written(
    catalogue: Catalogue,
) -> None:
    catalogue.product("A", stock={900: 5})
    old = reservation_create(
        lines=[LineRequest("A", 3)], client="web", now=timezone.now() - timedelta(hours=1)
    )
    reservations_sweep_expired()
    reservation_create(lines=[LineRequest("A", 4)], client="someone else")  # took the units meanwhile

    with pytest.raises(InsufficientStock) as excinfo:
        order_place(data=an_order(old, [LineInput("A", 3, Decimal("9.90"))]), client="web")

    assert [(s.requested, s.available) for s in excinfo.value.shortages] == [(3, 1)]
    assert Order.objects.count() == OrderLine.objects.count() == OutboxMessage.objects.count() == 0
    assert (level("A").reserved, level("A").in_flight) == (4, 0)


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        ([LineInput("A", 2, Decimal("9.90"))], OrderErrorCode.LINES_DO_NOT_MATCH_RESERVATION),
        (
            [LineInput("A", 3, Decimal("9.90")), LineInput("B", 1, Decimal("9.90"))],
            OrderErrorCode.LINES_DO_NOT_MATCH_RESERVATION,
        ),
        ([LineInput("A", 3, Decimal("8.90"))], OrderErrorCode.PRICE_MISMATCH),
        ([], OrderErrorCode.INVALID),
    ],
)
def test_lines_that_do_not_match_the_reservation_or_its_price_are_refused(
    catalogue: Catalogue, lines: list[LineInput], code: str
) -> None:
    catalogue.product("A", stock={900: 10})
    catalogue.product("B", stock={900: 10})
    reservation = reservation_create(lines=[LineRequest("A", 3)], client="web")

    with pytest.raises(OrderError) as excinfo:
        order_place(data=an_order(reservation, lines), client="web")

    assert excinfo.value.code == code
    assert Order.objects.count() == 0
    assert (level("A").reserved, level("A").in_flight) == (3, 0)


def test_names_are_kept_as_given_and_folded_only_for_the_file(catalogue: Catalogue) -> None:
    catalogue.product("A", stock={900: 10})
    reservation = reservation_create(lines=[LineRequest("A", 1)], client="web")
    customer = Customer(last_name="Œuvre-Łukasiewicz", first_name="Zoë", address_line1="3 rue de l’Église",
                        city="Saint-Étienne-de-Saint-Ge")  # fmt: skip

    order, _ = order_place(
        data=an_order(reservation, [LineInput("A", 1, Decimal("9.90"))], customer=customer), client="web"
    )

    order.refresh_from_db()
    assert (order.last_name, order.address_line1) == ("Œuvre-Łukasiewicz", "3 rue de l’Église")
    sent = order_as_sent(order)
    assert (sent["last_name"], sent["first_name"], sent["address_line1"]) == (
        "OEuvre-Lukasiewicz",
        "Zoë",
        "3 rue de l'Église",
    )
    assert sent["city"] == "Saint-Étienne-de-Saint-Ge"  # its 25 characters, whole: nothing is cut


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"customer": Customer(last_name="Жуков")}, "last_name"),
        ({"order_number": "WEB-œ-1"}, "order_number"),
        ({"order_number": "W" * 21}, "order_number"),
        # The service itself refuses what the API refuses: no caller bypasses the alphabet.
        ({"order_number": " XC-B5B86D0E"}, "order_number"),
        ({"order_number": "TRAIL-1 "}, "order_number"),
        ({"order_number": "a/cancel"}, "order_number"),
        ({"order_number": "A\n"}, "order_number"),
        ({"order_number": ""}, "order_number"),
        ({"customer": Customer(last_name="Du\r\npont")}, "last_name"),
        ({"customer": Customer(last_name="Dupont", address_line1="12\true de la Paix")}, "address_line1"),
        ({"customer": Customer(last_name="Dupont", postal_code="690031")}, "postal_code"),
        ({"customer": Customer(last_name="Dupont", city="Saint-Étienne-de-Saint-Geoirs")}, "city"),
        ({"customer": Customer(last_name="Œ" * 16)}, "last_name"),  # 32 characters once folded
    ],
)
def test_what_the_as400_file_cannot_carry_is_refused_before_anything_is_written(
    catalogue: Catalogue, changes: dict[str, Any], field: str
) -> None:
    catalogue.product("A", stock={900: 10})
    reservation = reservation_create(lines=[LineRequest("A", 1)], client="web")

    with pytest.raises(OrderError) as excinfo:
        order_place(data=an_order(reservation, [LineInput("A", 1, Decimal("9.90"))], **changes), client="web")

    assert (excinfo.value.code, excinfo.value.detail) == (
        OrderErrorCode.NOT_WRITABLE_FOR_THE_AS400,
        {"field": field},
    )
    assert Order.objects.count() == 0
    assert level("A").reserved == 1


@pytest.mark.parametrize(
    ("customer", "field"),
    [
        (Customer(last_name="   "), "last_name"),
        (Customer(last_name=""), "last_name"),
        (Customer(last_name="Dupont", country="fr"), "country"),
        (Customer(last_name="Dupont", country="EU"), "country"),
        (Customer(last_name="Dupont", country="FRA"), "country"),
    ],
)
def test_a_blank_last_name_or_a_country_outside_iso_3166_is_refused_by_the_service(
    catalogue: Catalogue, customer: Customer, field: str
) -> None:
    catalogue.product("A", stock={900: 10})
    reservation = reservation_create(lines=[LineRequest("A", 1)], client="web")

    with pytest.raises(OrderError) as excinfo:
        order_place(
            data=an_order(reservation, [LineInput("A", 1, Decimal("9.90"))], customer=customer), client="web"
        )

    assert (excinfo.value.code, excinfo.value.detail) == (OrderErrorCode.INVALID, {"field": field})
    assert Order.objects.count() == 0


def test_click_and_collect_picks_at_the_store(catalogue: Catalogue) -> None:
    catalogue.product("A", stock={900: 10, 1: 4})
    reservation = reservation_create(lines=[LineRequest("A", 2, location=1)], client="web")

    order, _ = order_place(
        data=an_order(
            reservation, [LineInput("A", 2, Decimal("9.90"))], delivery="click_and_collect", pickup_location=1
        ),
        client="web",
    )

    assert (order.pickup_location_id, order.lines.get().location_id) == (1, 1)
    assert level("A", 1).in_flight == 2
    with pytest.raises(OrderError, match="location 2 does not do click and collect"):
        order_place(
            data=an_order(
                reservation, [LineInput("A", 2, Decimal("9.90"))], delivery="click_and_collect",
                pickup_location=2, order_number="X2",
            ),
            client="web",
        )  # fmt: skip


def test_in_flight_units_are_settled_only_by_an_extract_taken_after_the_ack(catalogue: Catalogue) -> None:
    catalogue.product("A", stock={900: 10})
    reservation = reservation_create(lines=[LineRequest("A", 3)], client="web")
    order, _ = order_place(data=an_order(reservation, [LineInput("A", 3, Decimal("9.90"))]), client="web")
    acked_at = timezone.now()
    OrderLine.objects.filter(order=order).update(acked_at=acked_at)

    assert in_flight_settle(taken_at=acked_at - timedelta(minutes=1)) == 0
    assert level("A").in_flight == 3
    assert in_flight_settle(taken_at=acked_at + timedelta(minutes=1)) == 3
    assert in_flight_settle(taken_at=acked_at + timedelta(minutes=2)) == 0
    assert (level("A").in_flight, order.lines.get().in_flight) == (0, 0)


def test_the_same_order_written_two_ways_is_the_same_order(catalogue: Catalogue) -> None:
    catalogue.product("A", stock={900: 10})
    reservation = reservation_create(lines=[LineRequest("A", 3)], client="web")
    first, _ = order_place(data=an_order(reservation, [LineInput("A", 3, Decimal("9.9"))]), client="web")

    again, created = order_place(
        data=an_order(reservation, [LineInput("A", 3, Decimal("9.90"), location=900)]), client="web"
    )

    assert (again.pk, created) == (first.pk, False)


def test_lines_must_be_picked_where_the_delivery_says(catalogue: Catalogue) -> None:
    catalogue.product("A", stock={900: 10, 1: 5})
    reservation = reservation_create(lines=[LineRequest("A", 2, location=1)], client="web")

    with pytest.raises(OrderError, match="a home order is picked at 900, not at 001") as excinfo:
        order_place(
            data=an_order(reservation, [LineInput("A", 2, Decimal("9.90"), location=1)]), client="web"
        )

    assert excinfo.value.code == OrderErrorCode.INVALID
    assert Order.objects.count() == 0
