"""The nightly reconciliation's Shopify checks (reconciliation/checks/shopify.py), in the run itself.

Against the Shopify simulator (its bulk queries, its checkout and admin) with our catalogue and
stock pushed to it by our own pushes (the ``shopify_side`` fixture), and the AS400 simulator beside
it. Each test makes Shopify and the platform differ the way a lost webhook or an edit in Shopify's
admin would, runs ``reconcile`` and looks at the discrepancies staff would see, then resolves them
through ``discrepancies_resolve`` as the admin does and checks what that changed at both ends.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from integration.models import Alert
from orders.models import Order
from reconciliation.models import Discrepancy, Run
from reconciliation.resolution import discrepancies_resolve
from reconciliation.services import reconcile
from shopify_channel.catalogue import catalogue_push
from shopify_channel.models import ShopifyOrder, StockDirty
from shopify_channel.stock import stock_push
from tests.factories.orders import warehouse_items
from tests.moments import TUESDAY
from tests.shopify_channel.flow import ShopifySide, as400_minute, deliver_webhooks, shopify_order

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.clock(TUESDAY)]


def night(clock: Any) -> Run:
    """An hour later (past the grace the checks leave to webhooks and the poll), the run."""
    clock.shift(timedelta(hours=1))
    return reconcile(now=timezone.now(), trigger="command")


def found(kind_prefix: str = "shopify_") -> dict[str, Discrepancy]:
    return {
        d.key: d
        for d in Discrepancy.objects.filter(kind__startswith=kind_prefix, state=Discrepancy.State.OPEN)
    }


def accept(d: Discrepancy) -> str:
    report = discrepancies_resolve(discrepancies=[d], action="accept", user=None, note="")
    assert not report.refused, report.refused
    return report.done[0][1]


def test_a_day_where_every_webhook_came_finds_nothing_at_shopify(
    simulator: Any, shopify_side: ShopifySide, clock: Any
) -> None:
    # given: a checkout its webhooks brought, its stock pushed back
    product, _other = warehouse_items(2)
    shopify_side.checkout(product, 2)
    deliver_webhooks(shopify_side)
    stock_push(now=timezone.now())

    # when: the night's run
    run = night(clock)

    # then: every Shopify check ran and found nothing
    assert not [s for s in run.skipped_checks if s["check"].startswith("shopify_")], run.skipped_checks
    assert {"shopify_order_missing", "shopify_stock_over", "shopify_catalogue_differs"} <= set(run.counts)
    assert found() == {}


def test_an_order_whose_webhooks_never_came_is_found_and_accepting_it_sends_it_to_the_as400_once(
    simulator: Any, shopify_side: ShopifySide, clock: Any
) -> None:
    # given: a checkout whose webhooks are lost, and the poll not run either
    (product,) = warehouse_items(1)
    shopify_side.sim.fault_webhooks("never", count=10)
    placed = shopify_side.checkout(product, 3)
    deliver_webhooks(shopify_side)
    assert not ShopifyOrder.objects.exists()

    # when: the night's run
    night(clock)

    # then: the missing order is found, with its units; Shopify's lower stock is not flagged (that
    # order explains it)
    discrepancies = found()
    assert set(discrepancies) == {f"shopify_order_missing:{placed['name']}"}, discrepancies
    missing = discrepancies[f"shopify_order_missing:{placed['name']}"]
    assert (missing.severity, missing.units) == ("high", 3)

    # when: staff accept it, twice (a double click)
    accept(missing)
    refused = discrepancies_resolve(discrepancies=[missing], action="accept", user=None)

    # then: the order exists once and reaches the AS400 once
    assert refused.refused
    assert not refused.done
    link = shopify_order(placed)
    assert Order.objects.filter(client="shopify").count() == 1
    as400_minute(simulator)
    as400_minute(simulator)
    numbers = [str(n).strip() for (n,) in simulator.sql("SELECT WOWEBN FROM WEBORD")]
    assert numbers.count(link.order.order_number) == 1

    # and the next night no longer finds it
    stock_push(now=timezone.now())
    night(clock)
    assert found() == {}
    missing.refresh_from_db()
    assert missing.state == Discrepancy.State.RESOLVED


def test_a_cancellation_lost_at_shopify_is_found_and_accepting_it_cancels_the_order(
    simulator: Any, shopify_side: ShopifySide, clock: Any
) -> None:
    # given: an order we have, cancelled in Shopify's admin, the cancellation's webhook lost
    (product,) = warehouse_items(1)
    placed = shopify_side.checkout(product, 1)
    deliver_webhooks(shopify_side)
    clock.shift(timedelta(minutes=5))
    shopify_side.sim.fault_webhooks("never", count=10)
    shopify_side.sim.cancel_in_admin(placed["name"])
    deliver_webhooks(shopify_side)
    link = shopify_order(placed)
    assert link.cancelled_at is None

    # when
    night(clock)

    # then: found as a missed cancellation (not also as "behind")
    discrepancies = found("shopify_order")
    assert set(discrepancies) == {f"shopify_order_cancel_missed:{placed['name']}"}, discrepancies

    # when: accepted
    accept(discrepancies[f"shopify_order_cancel_missed:{placed['name']}"])

    # then: cancelled here through the cancellation service
    link.refresh_from_db()
    link.order.refresh_from_db()
    assert link.cancelled_at is not None
    assert link.order.status == Order.Status.CANCELLED


def test_stock_raised_in_shopifys_admin_is_found_and_accepting_puts_the_pools_figure_back(
    simulator: Any, shopify_side: ShopifySide, clock: Any
) -> None:
    # given: the merchant counted 40 more in Shopify's admin than the pool holds
    (product,) = warehouse_items(1)
    before = shopify_side.shop.available(product)
    shopify_side.sim.set_available(product.mapping.sku, before + 40)

    # when
    night(clock)

    # then: a risk of selling units that do not exist, with the figures at both ends
    discrepancies = found()
    key = f"shopify_stock_over:{product.item_number}@900"
    assert set(discrepancies) == {key}, discrepancies
    over = discrepancies[key]
    assert (over.severity, over.units, over.theirs) == ("high", 40, f"Shopify : {before + 40} disponibles")

    # when: accepted, and the push that it asks for runs
    accept(over)
    assert StockDirty.objects.filter(product_id=product.pk, location_code=900).exists()
    stock_push(now=timezone.now())

    # then: Shopify holds the pool's figure again, and the next night closes it
    assert shopify_side.shop.available(product) == before
    night(clock)
    assert found() == {}


def test_an_as400_field_changed_in_shopify_without_its_webhook_is_found_and_pushed_back(
    simulator: Any, shopify_side: ShopifySide, clock: Any
) -> None:
    # given: the price changed in Shopify's admin, the products/update webhook lost
    (product,) = warehouse_items(1)
    ours = f"{product.price:.2f}"
    shopify_side.sim.fault_webhooks("never", count=10)
    shopify_side.sim.product_update_in_admin(product.mapping.sku, price="1.00")
    deliver_webhooks(shopify_side)

    # when
    night(clock)

    # then
    key = f"shopify_catalogue_differs:{product.item_number}"
    discrepancies = found()
    assert set(discrepancies) == {key}, discrepancies
    assert discrepancies[key].theirs == "Shopify : price 1.00"
    assert discrepancies[key].ours == f"price {ours}"

    # when: accepted, then the catalogue push
    accept(discrepancies[key])
    catalogue_push(now=timezone.now(), bulk_from=10**6)

    # then: Shopify has our price again
    assert shopify_side.shop.product(product.mapping.sku)["price"] == ours
    night(clock)
    assert found() == {}


def test_when_shopify_does_not_answer_its_checks_are_skipped_and_alerted_and_the_as400s_run(
    simulator: Any, shopify_side: ShopifySide, clock: Any
) -> None:
    # given: Shopify answering 503 to everything
    shopify_side.sim.fault_server_errors(10**6)

    # when
    run = night(clock)

    # then: the run is not failed; each Shopify check is skipped with the reason; one alert
    assert run.outcome != Run.Outcome.FAILED
    skipped = {s["check"]: s["why"] for s in run.skipped_checks if s["check"].startswith("shopify_")}
    assert len(skipped) == 8
    assert all(why.startswith("Shopify n'a pas pu être lu") for why in skipped.values()), skipped
    assert Alert.objects.filter(kind="reconciliation_check_unavailable").exists()
    assert "counter_order_status" in run.counts  # the platform's own checks ran
