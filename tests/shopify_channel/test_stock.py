"""The stock push to Shopify (shopify_channel.stock), against the Shopify simulator."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from integration.as400.records import StockBalances
from inventory.models import SafetyStockOverride
from inventory.reservations import LineRequest, reservation_create, reservation_release
from inventory.selectors import availability_by_pair
from inventory.services import stock_apply_extract
from orders.services import Customer, LineInput, OrderInput, order_place_unreserved
from shopify_channel.catalogue import catalogue_push
from shopify_channel.models import ShopifyLocation, ShopifyProduct, ShopifyStockLevel, StockDirty
from shopify_channel.stock import BATCH, stock_mark_all, stock_push
from tests.factories.inventory import Catalogue
from tests.factories.shopify_channel import Shop

pytestmark = pytest.mark.django_db(transaction=True)


def available_pair(product: object, location: int = 900) -> int:
    return availability_by_pair([(product.pk, location)])[(product.pk, location)].available  # type: ignore[attr-defined]


class Counting:
    """The shop's client, counting the calls of each document (the real client does the work)."""

    def __init__(self, client: object) -> None:
        self.client, self.calls = client, []  # type: ignore[var-annotated]

    def execute(self, name: str, variables: dict | None = None, **kwargs: object):  # type: ignore[no-untyped-def,type-arg]
        self.calls.append(name)
        return self.client.execute(name, variables, **kwargs)  # type: ignore[attr-defined]


def _published(shop: Shop, catalogue: Catalogue, sku: str, stock: dict[int, int]):  # type: ignore[no-untyped-def]
    product = catalogue.product(sku, stock=stock)
    catalogue_push(client=shop.client)
    stock_push(client=shop.client)
    return product


def test_published_products_get_the_platform_availability_at_each_shopify_location(
    shop: Shop, catalogue: Catalogue
) -> None:
    # Given a product with 10 at the warehouse (of which 2 promised by the AS400) and 4 in the pickup store
    product = catalogue.product("STK1", stock={900: 10, 1: 4}, promised=2)

    # When it is published and its stock pushed
    catalogue_push(client=shop.client)
    report = stock_push(client=shop.client)

    # Then Shopify may sell what the platform may: 8 for shipping, 2 for pickup
    assert (shop.available(product, 900), shop.available(product, 1)) == (8, 2)
    assert report.pushed == 2
    assert not StockDirty.objects.exists()


def test_a_reservation_on_the_headless_store_lowers_shopify_available_at_its_location(
    shop: Shop, catalogue: Catalogue
) -> None:
    product = _published(shop, catalogue, "STK2", {900: 10, 1: 4})

    # When the headless store reserves 3 at the warehouse: the pair is noted in that transaction
    reservation = reservation_create(lines=[LineRequest("STK2", 3)], client="web")
    assert list(StockDirty.objects.values_list("location_code", "cause")) == [
        (900, f"gid://platform/Reservation/{reservation.pk}")
    ]
    stock_push(client=shop.client)

    # Then Shopify's warehouse figure falls by 3, the store's does not move
    assert (shop.available(product, 900), shop.available(product, 1)) == (7, 4)
    assert ShopifyStockLevel.objects.get(product=product, location__location_id=900).cause == (
        f"gid://platform/Reservation/{reservation.pk}"
    )

    # And released, the units come back to Shopify
    reservation_release(reservation=reservation)
    stock_push(client=shop.client)
    assert shop.available(product, 900) == 10


def test_a_move_rolled_back_is_never_pushed(shop: Shop, catalogue: Catalogue) -> None:
    product = _published(shop, catalogue, "STK3", {900: 10})

    def reserve_then_fail() -> None:
        with transaction.atomic():
            reservation_create(lines=[LineRequest("STK3", 3)], client="web")
            raise RuntimeError("the caller fails after the take")

    with pytest.raises(RuntimeError):
        reserve_then_fail()

    assert not StockDirty.objects.exists()
    stock_push(client=shop.client)
    assert shop.available(product, 900) == 10


def test_a_shopify_sale_between_our_read_and_our_push_is_never_overwritten(
    shop: Shop, catalogue: Catalogue
) -> None:
    # Given Shopify holds 10, as we know
    product = _published(shop, catalogue, "STK4", {900: 10})
    # and the headless store reserves 2 (we will push 8 against 10)
    reservation_create(lines=[LineRequest("STK4", 2)], client="web")

    # When a Shopify customer buys 3 before our push (its order has not reached us)
    shop.checkout("STK4", 3)
    assert shop.available(product, 900) == 7
    counting = Counting(shop.client)
    report = stock_push(client=counting)

    # Then our compare-and-set was stale, we read Shopify's 7, and set 10 - 2 - 3 = 5: its sale stands
    assert report.stale == 1
    assert counting.calls == ["inventory_set_quantities", "inventory_levels", "inventory_set_quantities"]
    assert shop.available(product, 900) == 5
    level = ShopifyStockLevel.objects.get(product=product, location__location_id=900)
    assert (level.shopify_available, level.unseen_sales) == (5, 3)

    # And when Shopify's order reaches us it takes its 3 units from our pool: the figures have met
    placed = order_place_unreserved(
        data=OrderInput(
            order_number="SHOP1001", reservation_id="", delivery="home", customer=Customer(last_name="Martin"),
            lines=[LineInput("STK4", 3, Decimal("9.90"))],
        ),
        client="shopify",
    )  # fmt: skip
    assert placed.short == ""
    counting = Counting(shop.client)
    report = stock_push(client=counting)
    assert "inventory_set_quantities" not in counting.calls  # 10 - 2 - 3 = 5 is what Shopify holds
    assert shop.available(product, 900) == 5
    level.refresh_from_db()
    assert (level.shopify_available, level.unseen_sales, level.orders_units) == (5, 0, 3)
    # What both storefronts can still sell (Shopify 5, the headless store 5) is what the pool has left
    assert available_pair(product) == 5


def test_a_shopify_order_that_reached_us_before_its_drop_was_read_is_counted_once(
    shop: Shop, catalogue: Catalogue
) -> None:
    # Given Shopify holds 10, and a customer buys 4 there, whose order reaches us before any push
    product = _published(shop, catalogue, "STK6", {900: 10})
    shop.checkout("STK6", 4)
    order_place_unreserved(
        data=OrderInput(
            order_number="SHOP1002", reservation_id="", delivery="home", customer=Customer(last_name="Martin"),
            lines=[LineInput("STK6", 4, Decimal("9.90"))],
        ),
        client="shopify",
    )  # fmt: skip

    # When the pair (dirty by the order's take) is pushed
    report = stock_push(client=shop.client)

    # Then Shopify holds 6, not 2: the 4 units are taken once, by the order
    assert shop.available(product, 900) == 6
    assert report.stale == 1


def test_a_safety_stock_change_moves_shopify_available(shop: Shop, catalogue: Catalogue) -> None:
    product = _published(shop, catalogue, "STK5", {900: 10})

    SafetyStockOverride.objects.create(product=product, location_id=900, quantity=4)
    stock_push(client=shop.client)

    assert shop.available(product, 900) == 6


def test_six_hundred_pairs_go_in_three_calls(shop: Shop, catalogue: Catalogue) -> None:
    # Given 300 published products at the warehouse and the pickup store: 600 pairs
    products = [catalogue.product(f"MANY{n:03d}", stock={900: 5, 1: 2}) for n in range(300)]
    catalogue_push(client=shop.client, small_batch=None)
    stock_push(client=shop.client)
    StockDirty.objects.all().delete()
    # When every pair moves (an extract's worth) and is pushed
    from inventory.models import StockLevel

    StockLevel.objects.update(on_hand=9)
    assert stock_mark_all(cause="gid://platform/StockExtract/test") == 600
    counting = Counting(shop.client)
    report = stock_push(client=counting)

    # Then three calls of at most 250 quantities carry them, never one call per item
    assert counting.calls.count("inventory_set_quantities") == 3 == -(-600 // BATCH)
    assert report.pushed == 600
    assert (shop.available(products[0], 900), shop.available(products[-1], 1)) == (9, 9)


def test_an_extract_marks_the_pairs_it_changed_at_shopify_locations_in_its_transaction(
    catalogue: Catalogue,
) -> None:
    # Given two products at the warehouse (a Shopify location) and one at store 2 (not one)
    ShopifyLocation.objects.create(location_id=900, shopify_location_id="gid://shopify/Location/1")
    changed, same = catalogue.product("EXT1", stock={900: 10}), catalogue.product("EXT2", stock={900: 5})
    catalogue.product("EXT3", stock={2: 5})

    # When an extract changes EXT1 at the warehouse and EXT3 at store 2, and leaves EXT2 as it was
    taken_at = timezone.now()
    with transaction.atomic():
        stock_apply_extract(
            balances=StockBalances(item=["EXT1", "EXT2", "EXT3"], location=[900, 900, 2], on_hand=[7, 5, 1],
                                   promised=[0, 0, 0]),
            full=False, taken_at=taken_at,
        )  # fmt: skip

    # Then only EXT1 at the warehouse is to be pushed, its cause the extract
    assert list(StockDirty.objects.values_list("product_id", "location_code", "cause")) == [
        (changed.pk, 900, f"gid://platform/StockExtract/{taken_at.strftime('%Y%m%dT%H%M%S%z')}")
    ]
    assert same.pk != changed.pk


def test_a_selling_pause_tells_shopify_zero_and_a_resume_gives_the_figures_back(
    shop: Shop, catalogue: Catalogue
) -> None:
    # Given a product published with 6 at the warehouse and 3 in the pickup store
    from inventory.rollout import selling_pause, selling_resume

    product = _published(shop, catalogue, "PAUSE1", {900: 6, 1: 3})
    assert (shop.available(product, 900), shop.available(product, 1)) == (6, 3)

    # When online selling is paused, and the push runs
    selling_pause(reason="incident caisse", actor_name="test")
    paused_causes = set(StockDirty.objects.filter(product_id=product.pk).values_list("cause", flat=True))
    paused = stock_push(client=shop.client)
    at_pause = (shop.available(product, 900), shop.available(product, 1))

    # Then: both pairs were marked by the switch's own change, and Shopify may sell none
    assert len(paused_causes) == 1
    assert "SellingSwitch" in paused_causes.pop()
    assert paused.pushed == 2
    assert at_pause == (0, 0)

    # When selling resumes and the push runs: the figures come back
    selling_resume(reason="réparé", actor_name="test")
    assert StockDirty.objects.filter(product_id=product.pk).count() == 2
    stock_push(client=shop.client)
    assert (shop.available(product, 900), shop.available(product, 1)) == (6, 3)


def test_a_new_pickup_location_stocks_the_items_there_before_setting_them(shop: Shop, catalogue: Catalogue) -> None:
    # Given a product published with 5 at the warehouse and 4 in our Lyon store, which opens to click
    # and collect afterwards and is mapped to a Shopify pickup location that did not exist then
    from inventory.models import Location

    product = _published(shop, catalogue, "ACT1", {900: 5, 2: 4})
    Location.objects.filter(code=2).update(click_and_collect=True)
    lyon = shop.sim.location_add("Boutique Lyon Part-Dieu", pickup=True, fulfills_online_orders=False)
    lyon_gid = f"gid://shopify/Location/{lyon['id']}"
    item = ShopifyProduct.objects.get(product=product).inventory_item_id

    def stocked_at_lyon() -> list[int]:
        node = shop.client.execute("inventory_levels", {"ids": [item]}).data["nodes"][0]
        return [int(q["quantity"]) for lv in node["inventoryLevels"]["nodes"] if lv["location"]["id"] == lyon_gid
                for q in lv["quantities"] if q["name"] == "available"]  # fmt: skip

    before = stocked_at_lyon()

    # When the location is mapped, and the push runs (counting its calls)
    ShopifyLocation.objects.create(location_id=2, shopify_location_id=lyon_gid, pickup=True)
    counting = Counting(shop.client)
    report = stock_push(client=counting)

    # Then: not stocked there before; activated there, then set to our figure in one set call
    assert before == []
    assert counting.calls == ["inventory_levels", "inventory_activate", "inventory_set_quantities"]
    assert not report.failed
    assert stocked_at_lyon() == [4]
    assert not StockDirty.objects.exists()


@pytest.mark.postgres
def test_two_pushers_at_once_share_the_pairs_and_never_overwrite_each_other(shop: Shop, catalogue: Catalogue) -> None:
    # Given 600 dirty pairs (300 products at the warehouse and the pickup store, all moved), and a
    # slow Shopify so that two pushers' calls overlap
    from integration.shopify.client import shopify_client
    from inventory.models import StockLevel
    from tests.races import race

    for n in range(300):
        catalogue.product(f"TWO{n:03d}", stock={900: 5, 1: 2})
    catalogue_push(client=shop.client, small_batch=None)
    stock_push(client=shop.client)
    StockDirty.objects.all().delete()
    StockLevel.objects.update(on_hand=9)
    assert stock_mark_all(cause="gid://platform/StockExtract/test") == 600
    with shop.sim.lock:
        groups_before = set(shop.sim.shop.state["adjustment_groups"])
    shop.sim.fault_slow(0.3)

    # When two pushers start at the same moment, each with its own client and connection
    reports = [o.get() for o in race(lambda: stock_push(client=shopify_client()), [(), ()])]

    # Then they shared the work (each pushed some), no pair was set twice nor answered stale (a
    # compare-and-set of one never overwrote the other's), and Shopify holds every figure
    shop.sim.faults_clear()
    assert all(r.pushed > 0 for r in reports), [r.as_dict() for r in reports]
    assert sum(r.pushed for r in reports) == 600
    assert [(r.stale, r.failed) for r in reports] == [(0, 0), (0, 0)]
    with shop.sim.lock:
        state = shop.sim.shop.state
        sets = [(c["item_id"], c["location_id"]) for key, g in state["adjustment_groups"].items()
                if key not in groups_before for c in g["changes"] if c["name"] == "available"]  # fmt: skip
        figures = {lv["available"] for key, lv in state["levels"].items()
                   if int(key.split(":")[1]) in {int(g.rsplit("/", 1)[1]) for g in shop.gid.values()}}  # fmt: skip
    assert len(sets) == len(set(sets)) == 600
    assert figures == {9}
    assert not StockDirty.objects.exists()
