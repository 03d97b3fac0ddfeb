"""Orders on the simulated AS400 of the ``simulator`` fixture (tests/plugins/simulator.py).

- ``warehouse_items(count)``: that many active products the simulator's seed stocks at 900 (20 units
  or more), in item order.
- ``place(n, product, quantity=1)``: order ``WEB-{n:06d}`` placed through the real checkout for the
  "web" client (a reservation, then the order, home delivery).
- ``as400_orders(sim)``: the web order numbers the AS400 holds in WEBORD, sorted.
- ``ordimp_orders(folder)``: the web order numbers of the ORDIMP files in a folder (``IN/DONE``...),
  file by file, in file order.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from integration.as400.codec import RecordCodec
from integration.as400.simulator.engine import Simulator
from inventory.models import Product
from inventory.reservations import LineRequest, reservation_create
from orders.services import Customer, LineInput, OrderInput, order_place


def warehouse_items(count: int) -> list[Product]:
    items = list(
        Product.objects.filter(
            status="A", stock_levels__location_id=900, stock_levels__on_hand__gte=20
        ).order_by("item_number")[:count]
    )
    assert len(items) == count
    return items


def place(n: int, product: Product, quantity: int = 1) -> None:
    reservation = reservation_create(lines=[LineRequest(product.item_number, quantity)], client="web")
    order_place(
        data=OrderInput(
            order_number=f"WEB-{n:06d}", reservation_id=str(reservation.pk), delivery="home",
            customer=Customer(last_name="Lefèvre", first_name="Zoë", city="Lyon"),
            lines=[LineInput(product.item_number, quantity, product.price)],
        ),
        client="web",
    )  # fmt: skip


def as400_orders(sim: Simulator) -> list[str]:
    return sorted(str(w).strip() for (w,) in sim.sql("SELECT WOWEBN FROM WEBORD"))


def ordimp_orders(folder: Path) -> list[str]:
    codec = RecordCodec.for_file("ORDIMP", int(settings.AS400_CCSID))
    return [
        str(r["OHWEBN"]).strip()
        for dat in sorted(folder.glob("ORDIMP_*.DAT"))
        for r in codec.iter_decode(dat.read_bytes())
        if r.get("OHTYPE") == "H"
    ]
