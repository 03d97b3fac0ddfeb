"""A catalogue push interrupted mid-way (shopify_channel.catalogue): the next run finishes it, and
Shopify ends with one product per SKU, linked. Against the Shopify simulator, which, as Shopify,
does not refuse a second product with the same SKU.

What kills a worker for real (SIGKILL of a qcluster) is tests/test_worker_killed.py; here the
answer is lost by a timeout (the simulator holds it), and a bulk operation outlives the bounded
wait of the run that started it.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from integration.shopify.bulk import FINISH_TOPIC
from integration.shopify.models import BulkOperation, WebhookEvent
from integration.shopify.simulator.payloads import bulk_finish_payload
from integration.shopify.webhooks import webhook_event_apply
from shopify_channel.catalogue import catalogue_push, shopify_handle
from shopify_channel.models import ShopifyProduct
from shopify_channel.tasks import shopify_catalogue_push
from tests.factories.inventory import Catalogue
from tests.factories.shopify_channel import Shop
from tests.factories.shopify_connector import deliver

pytestmark = pytest.mark.django_db


def products_of(shop: Shop, sku: str) -> list[str]:
    """The ids of every product Shopify holds with a variant of this SKU (the simulator's state)."""
    with shop.sim.lock:
        return sorted(f"gid://shopify/Product/{v['product_id']}" for v in shop.sim.shop.variants_by_sku(sku))


def test_a_creation_whose_answer_was_lost_is_found_by_the_next_push_and_linked_not_made_twice(
    shop: Shop, catalogue: Catalogue, settings: Any
) -> None:
    # Given a new product, whose productSet Shopify applies but answers too late: the call times out
    catalogue.product("LOST1")
    settings.SHOPIFY_TIMEOUT_SECONDS, settings.SHOPIFY_HTTP_ATTEMPTS = 0.5, 1
    from integration.shopify.client import shopify_client

    held = shop.sim.fault_hold_answer("productSet")
    try:
        first = catalogue_push(client=shopify_client())
        assert held.applied.wait(10)
    finally:
        held.release.set()
    assert first.failed == 1
    (made,) = products_of(shop, "LOST1")  # Shopify made it...
    link = ShopifyProduct.objects.get(product__item_number="LOST1")
    assert (link.shopify_product_id, link.handle) == ("", shopify_handle("LOST1"))  # ...we never heard it

    # When the catalogue is pushed again
    settings.SHOPIFY_TIMEOUT_SECONDS, settings.SHOPIFY_HTTP_ATTEMPTS = 10.0, 3
    again = catalogue_push(client=shopify_client())

    # Then the product Shopify made is found and linked; no second one is made
    assert products_of(shop, "LOST1") == [made]
    link.refresh_from_db()
    assert (link.shopify_product_id, link.state) == (made, ShopifyProduct.State.PUSHED)
    assert link.inventory_item_id == shop.product("LOST1")["item"]
    assert (again.adopted, again.created, again.failed) == (1, 1, 0)
    # and later pushes go by its id: nothing more to do
    assert catalogue_push(client=shopify_client()).calls == 0


def test_a_creation_found_by_its_sku_when_its_handle_changed_is_adopted_the_oldest_of_twins(
    shop: Shop, catalogue: Catalogue
) -> None:
    # Given a product whose creation left its link marked (its worker died), and at Shopify two
    # products with its SKU under other handles (a twin made by hand later)
    product = catalogue.product("TWIN1")
    ShopifyProduct.objects.create(product=product, state=ShopifyProduct.State.CREATING, handle=shopify_handle("TWIN1"))
    size = [{"optionName": "Title", "name": "Default Title"}]
    ids = [
        shop.client.execute(
            "product_set", {"input": {"title": title, "variants": [{"sku": "TWIN1", "optionValues": size}]}}
        ).data["productSet"]["product"]["id"]
        for title in ("Twin", "Twin bis")
    ]

    # When the catalogue is pushed
    report = catalogue_push(client=shop.client)

    # Then the oldest is linked and gets our fields; no third one is made
    assert products_of(shop, "TWIN1") == sorted(ids)
    link = ShopifyProduct.objects.get(product=product)
    assert (link.shopify_product_id, link.state, report.adopted) == (ids[0], ShopifyProduct.State.PUSHED, 1)


def test_a_marked_creation_of_a_product_no_longer_sellable_and_never_made_is_forgotten(
    shop: Shop, catalogue: Catalogue
) -> None:
    product = catalogue.product("GONE1", status="S")
    ShopifyProduct.objects.create(product=product, state=ShopifyProduct.State.CREATING, handle="gone1")

    catalogue_push(client=shop.client)

    assert not ShopifyProduct.objects.filter(product=product).exists()
    assert products_of(shop, "GONE1") == []


def many(catalogue: Catalogue, n: int = 210) -> list[str]:
    skus = [f"FIRST{i:03d}" for i in range(n)]
    for sku in skus:
        catalogue.product(sku)
    return skus


def test_a_first_sync_still_running_when_its_run_stops_waiting_is_applied_by_a_later_run_never_started_twice(
    shop: Shop, catalogue: Catalogue
) -> None:
    # Given a first sync whose bulk operation Shopify runs for longer than a run waits
    skus = many(catalogue)
    held = shop.sim.fault_hold_bulk()
    try:
        first = catalogue_push(client=shop.client, bulk_from=200, wait_seconds=0.3)
        assert held.applied.wait(10)

        # Then the run ends, the operation recorded with every product it covers
        assert (first.bulk, first.bulk_running, first.created) == (True, True, 0)
        operation = BulkOperation.objects.get()
        assert (operation.state, operation.gid != "", len(operation.covers)) == ("running", True, len(skus))
        assert not ShopifyProduct.objects.exists()  # their links come with its result

        # And a run meanwhile waits on it again: no second operation, no productSet of its own
        second = catalogue_push(client=shop.client, bulk_from=200, wait_seconds=0.3, now=_after_lease())
        assert (second.bulk_running, second.created) == (True, 0)
    finally:
        held.release.set()
    shop.sim.bulk_wait(operation.gid)

    # When a run comes after Shopify finished it
    third = catalogue_push(client=shop.client, bulk_from=200, now=_after_lease(2))

    # Then its result is applied: each product once at Shopify, linked
    with shop.sim.lock:
        assert len(shop.sim.shop.state["bulk_operations"]) == 1
    assert third.created == len(skus)
    assert all(len(products_of(shop, sku)) == 1 for sku in skus)
    assert ShopifyProduct.objects.filter(state="pushed", bulk=operation).exclude(inventory_item_id="").count() == len(skus)
    assert {link.handle for link in ShopifyProduct.objects.all()} == {shopify_handle(sku) for sku in skus}
    operation.refresh_from_db()
    assert operation.state == "applied"
    assert catalogue_push(client=shop.client, bulk_from=200, now=_after_lease(3)).calls == 0


def _after_lease(n: int = 1) -> Any:
    """A moment past the lease of the run before (a run of the schedule, minutes later)."""
    from datetime import timedelta

    from django.utils import timezone

    return timezone.now() + timedelta(minutes=5 * n)


def test_the_finish_webhook_of_a_first_sync_no_one_waits_for_queues_the_run_that_applies_it(
    shop: Shop, catalogue: Catalogue, client: Client, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # Given a first sync whose run stopped waiting, its operation still running at Shopify
    skus = many(catalogue)
    held = shop.sim.fault_hold_bulk()
    try:
        catalogue_push(client=shop.client, bulk_from=200, wait_seconds=0.3)
        assert held.applied.wait(10)
    finally:
        held.release.set()
    operation = BulkOperation.objects.get()
    finished = shop.sim.bulk_wait(operation.gid)

    # When Shopify's bulk_operations/finish arrives (no one waits for it any more)
    response = deliver(client, FINISH_TOPIC, "evt-bulk-1", bulk_finish_payload(finished),
                       secret=settings.SHOPIFY_CLIENT_SECRET)  # fmt: skip
    assert response.status_code == 200
    event = WebhookEvent.objects.get(event_id="evt-bulk-1")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert webhook_event_apply(event_id=event.pk) == "applied"

    # Then the operation knows it finished and the catalogue push is queued (its doorbell)...
    operation.refresh_from_db()
    assert (operation.state, operation.status) == ("running", "COMPLETED")
    assert any(getattr(c, "__name__", "") == "catalogue_bulk_finished" for c in callbacks)
    # ...whose run (the task, as a worker runs it) applies the result, one product per SKU
    result = shopify_catalogue_push()
    assert isinstance(result, dict), result
    assert result["created"] == len(skus), result
    operation.refresh_from_db()
    assert operation.state == "applied"
    assert all(len(products_of(shop, sku)) == 1 for sku in skus)


def test_a_first_sync_whose_run_answer_was_lost_finds_its_operation_at_shopify_and_starts_none_again(
    shop: Shop, catalogue: Catalogue, settings: Any
) -> None:
    # Given a first sync whose bulkOperationRunMutation Shopify took but answered too late
    skus = many(catalogue)
    settings.SHOPIFY_TIMEOUT_SECONDS, settings.SHOPIFY_HTTP_ATTEMPTS = 0.5, 1
    from integration.shopify.client import ShopifyUnavailable, shopify_client

    held = shop.sim.fault_hold_answer("bulkOperationRunMutation")
    try:
        with pytest.raises(ShopifyUnavailable):
            catalogue_push(client=shopify_client(), bulk_from=200)
        assert held.applied.wait(10)
    finally:
        held.release.set()
    operation = BulkOperation.objects.get()
    assert (operation.gid, operation.run_at is not None, operation.leased_until) == ("", True, None)

    # When the next run comes
    settings.SHOPIFY_TIMEOUT_SECONDS, settings.SHOPIFY_HTTP_ATTEMPTS = 10.0, 3
    report = catalogue_push(client=shopify_client(), bulk_from=200)

    # Then it found the operation Shopify started, waited for it and applied it: nothing twice
    with shop.sim.lock:
        assert len(shop.sim.shop.state["bulk_operations"]) == 1
    operation.refresh_from_db()
    assert (operation.state, operation.gid != "") == ("applied", True)
    assert report.created == len(skus)
    assert all(len(products_of(shop, sku)) == 1 for sku in skus)
