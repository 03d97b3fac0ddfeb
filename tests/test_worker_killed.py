"""A qcluster killed while its worker holds a task: the effect still happens, once, after a new one starts.

django-q2's Redis broker keeps no receipts: the task a worker was running when it died is gone.
What makes the work happen all the same is that every effect is driven by rows that the next
run of the task's schedule claims again. Each kind of task is shown here on PostgreSQL + Redis:

1. its rows are made as the platform makes them (an order placed, a file from the AS400, a
   checkout abandoned...);
2. a ``qcluster`` (one worker) is started and the task its schedule names is queued (what the
   schedule owner does every minute: the test does it at once, signed with the tests' key);
3. the worker is held mid-work by this test: a transaction of the test's holds a row the task
   must write (or the next outbound file's number), and the test waits for the event "a server
   session of this database waits for a lock", never for a time;
4. the cluster's process group is SIGKILLed (sentinel, pusher, monitor, worker), then the hold
   is released: the dead worker's transaction is rolled back by the server, the task is lost;
5. a new cluster starts and the same task is queued again (the schedule's next run): the effect
   happens, and it is checked to have happened exactly once.

The kinds: the outbox dispatch (killed while it claims orders for a file), the AS400 sync
applying an ORDACK (killed in the file's transaction), the expired reservations' clean-up
(killed while it frees units), and a webhook to a storefront (killed after the storefront took
it, before the answer was recorded: sent again once its lease ends, under the same Webhook-Id,
which the storefront dedupes on). See README's "The queue is a doorbell".
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.datastructures import CaseInsensitiveMapping
from django.utils.dateparse import parse_datetime
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import Schedule, Task
from django_q.tasks import async_task

from integration.as400.simulator.engine import Simulator
from integration.as400.sync import exchange_sync
from integration.models import FileRun, OutboundFile, OutboxMessage, WebhookDelivery
from integration.outbox.dispatch import outbox_dispatch
from integration.shopify.models import BulkOperation, ShopifyCall, WebhookEvent
from integration.shopify.webhooks import SWEEP_GRACE, webhook_receive
from integration.storefront.clients import storefront_client_create, storefront_client_webhook_set
from integration.storefront.events import event_emit
from inventory.models import ItemMapping, Product, Reservation, StockLevel
from inventory.reservations import LineRequest, reservation_create
from orders.models import As400Event, Order, OrderEvent
from reconciliation.models import Discrepancy, Run
from shopify_channel.catalogue import BULK_FROM, catalogue_push
from shopify_channel.fulfilment import FULFIL
from shopify_channel.models import (
    PollCursor,
    ShopifyOrder,
    ShopifyProduct,
    ShopifyStockLevel,
    StockDirty,
    StockSet,
)
from tests.factories.clusters import database_url
from tests.factories.nights import every_minute, night_passes
from tests.factories.orders import as400_orders, ordimp_orders, place, warehouse_items
from tests.integration.webhook_receiver import Answer, running_receiver
from tests.processes import Owned, Processes, wait_until
from tests.shopify_channel.flow import ShopifySide, deliver_webhooks, shipped_order, shopify_order

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


# --- The hold: a transaction of the test's own, in a thread with its own connection ------------


class Hold:
    """Runs ``take()`` in a transaction of its own connection and keeps it open until released."""

    def __init__(self, take: Callable[[], object]) -> None:
        self.take = take
        self.taken, self.release = threading.Event(), threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="hold", daemon=True)

    def _run(self) -> None:
        try:
            with transaction.atomic():
                self.take()
                self.taken.set()
                self.release.wait(120)
                transaction.set_rollback(True)  # what it took was only to hold: nothing stays
        except BaseException as exc:
            self.error = exc
            self.taken.set()
        finally:
            connection.close()

    def __enter__(self) -> Hold:
        self.thread.start()
        assert self.taken.wait(60), "the hold was never taken"
        if self.error is not None:
            raise self.error
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.thread.join(60)


def a_session_waits_for_a_lock() -> bool:
    """Whether a server session of the test database waits for a lock (the held worker's)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0]) > 0


# --- The kinds of task ------------------------------------------------------------------------


@dataclass
class Kind:
    """One kind of task: its rows, what holds it mid-work, its effect, and that it happened once."""

    task: str  # what its schedule names
    prepare: Callable[[Simulator], dict[str, Any]]
    hold: Callable[[dict[str, Any]], object]  # run in the hold's transaction
    done: Callable[[Simulator, dict[str, Any]], bool]  # polled; may play the AS400's part
    once: Callable[[Simulator, dict[str, Any]], None]


def accepted(order_number: str) -> bool:
    return Order.objects.filter(order_number=order_number, status="accepted").exists()


# 1. The outbox dispatch, killed while it claims: its INSERT of the next outbound file waits for
#    the test's uncommitted file of the same number, the order's message claimed in its transaction.


def dispatch_prepare(sim: Simulator) -> dict[str, Any]:
    place(1, warehouse_items(1)[0])
    assert not OutboundFile.objects.exists()
    return {"order": "WEB-000001", "seq": (OutboundFile.objects.aggregate(m=Max("seq"))["m"] or 0) + 1}


def dispatch_hold(ctx: dict[str, Any]) -> object:
    return OutboundFile.objects.create(file="ORDIMP", seq=ctx["seq"], created_at=timezone.now())


def dispatch_done(sim: Simulator, ctx: dict[str, Any]) -> bool:
    sim.import_now()  # the AS400's import job, then its ORDACK applied
    exchange_sync()
    return accepted(ctx["order"])


def dispatch_once(sim: Simulator, ctx: dict[str, Any]) -> None:
    exchange = Path(django_settings.AS400_EXCHANGE_DIR)
    assert ordimp_orders(exchange / "IN" / "DONE") == [ctx["order"]]  # in one file the AS400 read
    assert ordimp_orders(exchange / "IN" / "ERR") == []
    assert as400_orders(sim) == [ctx["order"]]
    assert list(OutboundFile.objects.values_list("seq", "state")) == [(ctx["seq"], "written")]
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {"acked"}


# 2. The AS400 sync, killed while it applies an ORDACK: the order's row is held by the test.


def ordack_prepare(sim: Simulator) -> dict[str, Any]:
    place(1, warehouse_items(1)[0])
    outbox_dispatch()
    sim.import_now()  # the ORDACK is in OUT/, for the sync
    before = set(FileRun.objects.filter(file="ORDACK").values_list("pk", flat=True))
    assert not before
    return {"order": "WEB-000001"}


def ordack_hold(ctx: dict[str, Any]) -> object:
    return Order.objects.select_for_update().get(order_number=ctx["order"])


def ordack_done(sim: Simulator, ctx: dict[str, Any]) -> bool:
    return accepted(ctx["order"])


def ordack_once(sim: Simulator, ctx: dict[str, Any]) -> None:
    runs = list(FileRun.objects.filter(file="ORDACK").values_list("seq", "outcome"))
    assert [outcome for _, outcome in runs].count("applied") == 1
    assert {outcome for _, outcome in runs} <= {"applied", "failed"}  # a run the kill interrupted, at most
    order = Order.objects.get(order_number=ctx["order"])
    assert OrderEvent.objects.filter(order=order, line=None, status_to="accepted").count() == 1
    assert order.as400_order_number
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {"acked"}


# 3. The expired reservations' clean-up, killed while it frees units: the stock row is held.


def clean_up_prepare(sim: Simulator) -> dict[str, Any]:
    product = warehouse_items(1)[0]
    before = StockLevel.objects.get(product=product, location_id=900).reserved
    begun = timezone.now() - timedelta(seconds=int(django_settings.RESERVATION_TTL_SECONDS) + 60)
    reservation = reservation_create(lines=[LineRequest(product.item_number, 2)], client="web", now=begun)
    level = StockLevel.objects.get(product=product, location_id=900)
    assert level.reserved == before + 2  # held until the clean-up frees them
    return {"reservation": reservation.pk, "level": level.pk, "before": before}


def clean_up_hold(ctx: dict[str, Any]) -> object:
    return StockLevel.objects.select_for_update().get(pk=ctx["level"])


def clean_up_done(sim: Simulator, ctx: dict[str, Any]) -> bool:
    return Reservation.objects.get(pk=ctx["reservation"]).status == Reservation.Status.EXPIRED


def clean_up_once(sim: Simulator, ctx: dict[str, Any]) -> None:
    assert StockLevel.objects.get(pk=ctx["level"]).reserved == ctx["before"]  # freed once, not twice
    reservation = Reservation.objects.get(pk=ctx["reservation"])
    assert not reservation.lines.filter(active=True).exists()


KINDS = {
    "outbox dispatch": Kind("integration.tasks.outbox_dispatch", dispatch_prepare, dispatch_hold,
                            dispatch_done, dispatch_once),
    "AS400 sync (ORDACK)": Kind("integration.tasks.as400_sync", ordack_prepare, ordack_hold,
                                ordack_done, ordack_once),
    "expired reservations clean-up": Kind("inventory.tasks.reservations_clean_up", clean_up_prepare,
                                          clean_up_hold, clean_up_done, clean_up_once),
}  # fmt: skip


# --- The test ---------------------------------------------------------------------------------

#: What the cluster is told of Shopify: the test's (the simulator's, when a test started it).
SHOPIFY_SETTINGS = ("SHOPIFY_SHOP", "SHOPIFY_ADMIN_URL", "SHOPIFY_CLIENT_ID", "SHOPIFY_CLIENT_SECRET")


@pytest.fixture
def cluster(
    simulator: Simulator, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, processes: Processes
) -> Iterator[Callable[..., Owned]]:
    """Starts a ``qcluster`` (one worker) on this test's own queue; the queue is emptied at the end."""
    name = f"killed-{uuid.uuid4().hex[:12]}"
    # The test's own dispatch runs on the real clock too (its orders must reach the simulator at any
    # hour): CI at 03:16 Paris found ORDIMP held back by the batch window, so no ORDACK to sync.
    settings.AS400_BATCH_WINDOW = "00:00-00:00"
    monkeypatch.setattr(Conf, "PREFIX", name)  # the test enqueues on this cluster's queue
    monkeypatch.setattr(Conf, "CLUSTER_NAME", name)
    Schedule.objects.all().delete()  # only the test's task runs: it plays the schedule owner
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": str(django_settings.SECRET_KEY),  # the key that signs the test's tasks
        "DATABASE_URL": database_url(),
        "REDIS_URL": str(django_settings.REDIS_URL),
        "Q_CLUSTER_NAME": name,
        "Q_WORKERS": "1",
        "AS400_EXCHANGE_DIR": str(settings.AS400_EXCHANGE_DIR),
        "AS400_EXCHANGE_BACKEND": "simulator",
        "AS400_SIMULATOR_DB": str(settings.AS400_SIMULATOR_DB),
        "AS400_BATCH_WINDOW": "00:00-00:00",  # the cluster runs on the real clock
    }
    logs = tmp_path / "logs"
    logs.mkdir()

    def start(label: str, **more: str) -> Owned:
        shopify = {name: str(getattr(django_settings, name)) for name in SHOPIFY_SETTINGS}
        return processes.manage(
            "qcluster", label=label, env={**env, **shopify, **more}, log=logs / f"{label}.log"
        )

    try:
        yield start
    finally:
        try:
            processes.close()
        finally:
            get_broker().delete_queue()


@pytest.mark.parametrize("kind", list(KINDS.values()), ids=list(KINDS))
def test_a_worker_killed_mid_task_loses_nothing_and_the_next_run_does_it_once(
    simulator: Simulator, cluster: Callable[..., Owned], kind: Kind
) -> None:
    sim = simulator
    ctx = kind.prepare(sim)
    with Hold(lambda: kind.hold(ctx)):
        first = cluster("first")
        async_task(kind.task)
        wait_until("the worker to wait for the held row, mid-task", a_session_waits_for_a_lock, timeout=90)
        assert not kind.done(sim, ctx)
        first.kill()  # SIGKILL to its whole group: the task is gone from the queue with its worker
    assert not kind.done(sim, ctx), "the killed worker's work was kept"
    assert get_broker().queue_size() == 0  # nothing left to redeliver it: the rows must say it

    second = cluster("second")
    async_task(kind.task)  # the schedule's next run
    wait_until("the effect, after a new cluster started", lambda: kind.done(sim, ctx), timeout=90, every=0.2)
    kind.once(sim, ctx)
    second.stop(grace=30, whole_group=False)


def after_the_lease(
    cluster: Callable[..., Owned], env: dict[str, str], lease_ended: Callable[[], bool], task: str,
    what: str, done: Callable[[], bool],
) -> None:
    """A new cluster; once the dead worker's lease has ended, ``task`` queued (the schedule's next
    run), and ``done()`` waited for."""  # fmt: skip
    second = cluster("second", **env)
    wait_until("the dead worker's lease to end", lease_ended, timeout=90)
    async_task(task)
    wait_until(what, done, timeout=90, every=0.2)
    second.stop(grace=30, whole_group=False)


#: The worker's HTTP timeout: far above the few milliseconds the storefront holds its answer
#: here, never hit; the delivery's lease follows from it (3 × timeout + 30 s), and is waited out.
WEBHOOKS = {
    "WEBHOOK_TIMEOUT_SECONDS": "3",
    "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
}  # the storefront on loopback


def test_a_worker_killed_after_the_storefront_took_a_webhook_sends_it_again_under_the_same_id(
    simulator: Simulator, cluster: Callable[..., Owned]
) -> None:
    place(1, warehouse_items(1)[0])  # an order of the client "web"
    order = Order.objects.get(order_number="WEB-000001")
    with running_receiver() as receiver:
        client, _ = storefront_client_create(name="web", scopes=["orders:write"])
        _, secret = storefront_client_webhook_set(client=client, url=receiver.url)
        assert secret is not None
        receiver.secret = secret
        arrived, answer = threading.Event(), threading.Event()
        receiver.answer(Answer(arrived=arrived, hold=answer))  # the first request: held until told
        first = cluster("first", **WEBHOOKS)
        event = event_emit(order=order, type="order.shipped", data={"tracking": "6A12345678901"})
        # its doorbell is queued as the event commits; the cluster's worker claims and sends it
        assert arrived.wait(90), "the webhook never reached the storefront"
        delivery = WebhookDelivery.objects.get(event=event)
        with Hold(lambda: WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)):
            answer.set()  # the storefront takes it (200); the worker waits to record that
            wait_until("the worker to wait for the delivery's row", a_session_waits_for_a_lock, timeout=90)
            first.kill()
        delivery.refresh_from_db()
        assert delivery.state == "pending"  # the 200 was never recorded: the lease says when to send again
        assert get_broker().queue_size() == 0

        after_the_lease(
            cluster, WEBHOOKS, lambda: delivery.next_attempt_at <= timezone.now(),
            "integration.tasks.webhooks_deliver",
            "the delivery recorded as delivered",
            lambda: WebhookDelivery.objects.get(pk=delivery.pk).state == "delivered",
        )  # fmt: skip
        received = list(receiver.received)
    assert len(received) == 2  # taken twice, at least once being the promise...
    assert {r.event_id for r in received} == {str(event.event_id)}  # ...under one id: applied once
    assert all(r.verified for r in received)
    assert WebhookDelivery.objects.filter(event=event).count() == 1


# --- Shopify: against the Shopify simulator, beside the AS400's -----------------------------------

#: The leases of the Shopify work, short so that the test waits one out (the worker was killed, so
#: nothing renews it); the HTTP timeout far above what the simulator takes, never hit.
SHOPIFY_LEASES = {
    "SHOPIFY_CALL_LEASE_SECONDS": "4",
    "SHOPIFY_STOCK_LEASE_SECONDS": "4",
    "SHOPIFY_TIMEOUT_SECONDS": "60",
}


@pytest.fixture
def shopify(cluster: Callable[..., Owned], settings: Any, request: pytest.FixtureRequest) -> ShopifySide:
    """The Shopify simulator beside the AS400's (tests/plugins/shopify.py), set up on the test's
    queue (its pushes' doorbells emptied before the test starts a cluster), the AS400 never in its
    night window for the steps the test plays in-process (the cluster's own runs are told the same)."""
    settings.AS400_BATCH_WINDOW = "00:00-00:00"
    side: ShopifySide = request.getfixturevalue("shopify_side")
    get_broker().delete_queue()
    return side


def test_a_worker_killed_after_shopify_took_a_fulfillment_performs_it_again_and_shopify_fulfils_once(
    simulator: Simulator, shopify: ShopifySide, cluster: Callable[..., Owned]
) -> None:
    # given a Shopify order shipped by the AS400: its fulfillment is a call to Shopify, queued
    placed, link = shipped_order(shopify, simulator, warehouse_items(1)[0])
    call = ShopifyCall.objects.get(kind=FULFIL)
    assert call.state == "pending"

    # when the worker sending it is killed after Shopify applied it, before it heard the answer
    held = shopify.sim.fault_hold_answer("fulfillmentCreate")
    first = cluster("first", **SHOPIFY_LEASES)
    async_task("integration.shopify.tasks.shopify_calls_send")  # the doorbell may have rung too
    assert held.applied.wait(90), "the fulfillment never reached Shopify"
    first.kill()
    held.release.set()
    assert len(shopify.fulfillments(placed)) == 1  # Shopify has it...
    call.refresh_from_db()
    assert call.state == "pending"  # ...we never heard it: the lease says when to perform it again
    assert get_broker().queue_size() == 0

    # then once its lease ended, the next run performs it again under its key, and Shopify fulfils once
    after_the_lease(
        cluster, SHOPIFY_LEASES, lambda: call.next_attempt_at <= timezone.now(),
        "integration.shopify.tasks.shopify_calls_send",
        "the call recorded as done", lambda: ShopifyCall.objects.get(pk=call.pk).state == "done",
    )  # fmt: skip
    call.refresh_from_db()
    assert call.attempts == 2
    (shipped,) = As400Event.objects.filter(order_id=link.order_id, kind="shipped").values_list("tracking", flat=True)
    assert shopify.fulfillments(placed) == [[shipped]]  # one fulfillment, with the AS400's tracking


def test_a_worker_killed_while_it_applies_a_shopify_webhook_leaves_it_to_the_sweep_which_creates_the_order_once(
    simulator: Simulator, shopify: ShopifySide, cluster: Callable[..., Owned]
) -> None:
    # given a Shopify checkout whose orders/create was stored (received past the sweep's grace:
    # its own task is the one the worker runs; the sweep takes what is left after the grace)
    (product,) = warehouse_items(1)
    placed = shopify.checkout(product, 1)
    assert shopify.sim.webhooks_wait(timeout=10)
    (delivery,) = [r for r in shopify.receiver.received if r.headers.get("x-shopify-topic") == "orders/create"]
    level = StockLevel.objects.get(product=product, location_id=900)
    with Hold(lambda: StockLevel.objects.select_for_update().get(pk=level.pk)):
        first = cluster("first")
        with transaction.atomic():  # the intake: stored, its task queued when it commits
            received = webhook_receive(
                headers=CaseInsensitiveMapping(delivery.headers), body=delivery.body, now=timezone.now() - SWEEP_GRACE - timedelta(seconds=1)
            )
        # when the worker applying it (placing its order, the unit taken from the pool) is killed
        wait_until("the worker to wait for the held stock row, mid-order", a_session_waits_for_a_lock, timeout=90)
        first.kill()
    event = WebhookEvent.objects.get(pk=received.event.pk)
    assert (event.state, event.attempts) == ("received", 0)  # its transaction went with the worker
    assert not ShopifyOrder.objects.exists()
    assert get_broker().queue_size() == 0

    # then the sweep applies it: the order is created once
    second = cluster("second")
    async_task("integration.shopify.tasks.webhook_events_sweep")  # the schedule's next run
    wait_until(
        "the event applied", lambda: WebhookEvent.objects.get(pk=event.pk).state == "applied", timeout=90, every=0.2
    )
    second.stop(grace=30, whole_group=False)
    link = shopify_order(placed)
    assert ShopifyOrder.objects.count() == 1
    assert Order.objects.filter(client=django_settings.SHOPIFY_CLIENT_NAME).count() == 1
    assert list(link.order.lines.values_list("product_id", "quantity")) == [(product.pk, 1)]
    assert StockLevel.objects.get(pk=level.pk).in_flight == level.in_flight + 1  # its unit taken once


def test_a_worker_killed_after_shopify_took_a_stock_set_sends_it_again_and_shopify_ends_right_set_once(
    simulator: Simulator, shopify: ShopifySide, cluster: Callable[..., Owned]
) -> None:
    # given a product Shopify sells from our warehouse, its figure pushed, and 2 units reserved here
    (product,) = warehouse_items(1)
    sku, warehouse = product.mapping.sku, shopify.shop.warehouse
    before = shopify.sim.available(sku, warehouse)
    level = ShopifyStockLevel.objects.get(product=product, location__location_id=900)
    assert level.shopify_available == before > 2
    with shopify.sim.lock:
        groups_before = set(shopify.sim.shop.state["adjustment_groups"])
    reservation_create(lines=[LineRequest(product.item_number, 2)], client="web", now=timezone.now())

    # when the worker pushing it is killed after Shopify applied the set, before it heard the answer
    held = shopify.sim.fault_hold_answer("inventorySetQuantities")
    first = cluster("first", **SHOPIFY_LEASES)  # the move's doorbell is queued: its push
    assert held.applied.wait(90), "the push never reached Shopify"
    first.kill()
    held.release.set()
    assert shopify.sim.available(sku, warehouse) == before - 2  # Shopify has it...
    level.refresh_from_db()
    assert level.shopify_available == before  # ...we never heard it: our K is the old one,
    assert level.sending is not None  # the set is kept to be sent again,
    assert StockDirty.objects.filter(product_id=product.pk, location_code=900).exists()  # the pair dirty
    assert get_broker().queue_size() == 0

    # then once its lease ended, the sweep sends the same set again (Shopify replays its answer) and
    # records it: Shopify and we agree on the figure, set once; a drop misread as Shopify's own sale
    # would have set it lower still
    after_the_lease(
        cluster, SHOPIFY_LEASES, lambda: level.leased_until is not None and level.leased_until <= timezone.now(),
        "shopify_channel.tasks.shopify_stock_push",
        "the pair pushed", lambda: not StockDirty.objects.filter(product_id=product.pk, location_code=900).exists(),
    )  # fmt: skip
    level.refresh_from_db()
    assert shopify.sim.available(sku, warehouse) == before - 2
    assert (level.shopify_available, level.unseen_sales, level.sending) == (before - 2, 0, None)
    assert not StockSet.objects.exists()
    item = shopify.sim.shop.variant_by_sku(sku)["inventory_item_id"]
    with shopify.sim.lock:
        sets = [c["delta"] for key, g in shopify.sim.shop.state["adjustment_groups"].items()
                if key not in groups_before for c in g["changes"]
                if c["name"] == "available" and c["item_id"] == item]  # fmt: skip
    assert sets == [-2]


def test_a_worker_killed_mid_poll_leaves_the_cursor_behind_and_the_next_poll_catches_the_missed_order_once(
    simulator: Simulator, shopify: ShopifySide, cluster: Callable[..., Owned]
) -> None:
    # given two Shopify orders whose webhooks never reached us (the poll is what catches them)
    one, two = warehouse_items(2)
    first_order, second_order = shopify.checkout(one, 1), shopify.checkout(two, 1)
    held_level = StockLevel.objects.get(product=two, location_id=900)
    in_flight = {p.pk: StockLevel.objects.get(product=p, location_id=900).in_flight for p in (one, two)}

    # when the poll is killed mid-way: the first order applied, the worker holding the second
    with Hold(lambda: StockLevel.objects.select_for_update().get(pk=held_level.pk)):
        first = cluster("first")
        async_task("shopify_channel.tasks.shopify_orders_poll")
        wait_until("the poll to wait for the held stock row, at its second order", a_session_waits_for_a_lock,
                   timeout=90)  # fmt: skip
        first.kill()
    assert list(ShopifyOrder.objects.values_list("name", flat=True)) == [first_order["name"]]
    cursor = PollCursor.objects.get(name="orders")
    assert (cursor.updated_at, cursor.last_run_at) == (None, None)  # never moved past what was not applied
    assert get_broker().queue_size() == 0

    # then the next poll reads both again: the missed one is created, the other one not twice
    second = cluster("second")
    async_task("shopify_channel.tasks.shopify_orders_poll")  # the schedule's next run
    wait_until("the next poll's end", lambda: PollCursor.objects.get(pk=cursor.pk).last_run_at is not None,
               timeout=90, every=0.2)  # fmt: skip
    second.stop(grace=30, whole_group=False)
    cursor.refresh_from_db()
    assert sorted(ShopifyOrder.objects.values_list("name", flat=True)) == sorted(
        [first_order["name"], second_order["name"]]
    )
    assert Order.objects.filter(client=django_settings.SHOPIFY_CLIENT_NAME).count() == 2
    for product in (one, two):  # each order's unit taken once
        assert StockLevel.objects.get(product=product, location_id=900).in_flight == in_flight[product.pk] + 1
    assert cursor.updated_at == parse_datetime(second_order["updated_at"])
    assert (cursor.last_seen, cursor.last_applied, cursor.last_error) == (2, 1, "")


# --- Reconciliation ------------------------------------------------------------------------------


def test_a_reconciliation_killed_mid_run_is_run_again_by_the_sweep_not_at_the_morning_fallback(
    simulator: Simulator, settings: Any, cluster: Callable[..., Owned]
) -> None:
    # given a night reconciled once, its discrepancies open (the simulated AS400's catalogue has some)
    settings.AS400_BATCH_WINDOW = "00:00-00:00"
    place(1, warehouse_items(1)[0], 2)
    every_minute(simulator)
    reconciled = night_passes(simulator)
    found = set(Discrepancy.objects.values_list("key", flat=True))
    assert found
    (night,) = set(Run.objects.values_list("night", flat=True))
    held = Discrepancy.objects.order_by("key").first()
    assert held is not None

    # when the night's next run (queued by its files) is killed while it records what it found
    with Hold(lambda: Discrepancy.objects.select_for_update().get(pk=held.pk)):
        first = cluster("first")
        async_task("reconciliation.tasks.reconcile_night", night.isoformat(), "files")
        wait_until("the run to wait for the held discrepancy", a_session_waits_for_a_lock, timeout=90)
        first.kill()
    (interrupted,) = Run.objects.filter(outcome="running")  # left running: its lock went with its worker
    assert get_broker().queue_size() == 0

    # then the sweep (every few minutes) closes it and runs the night again, once
    second = cluster("second")
    async_task("reconciliation.tasks.reconcile_sweep")  # the schedule's next run
    wait_until("the night run again", lambda: Run.objects.filter(outcome="done").count() == 2, timeout=90, every=0.2)
    async_task("reconciliation.tasks.reconcile_sweep")  # and the one after: nothing more to do
    wait_until("the sweep's second run", lambda: Task.objects.filter(func__endswith="reconcile_sweep").count() == 2,
               timeout=90, every=0.2)  # fmt: skip
    second.stop(grace=30, whole_group=False)
    interrupted.refresh_from_db()
    assert (interrupted.outcome, interrupted.error) == ("failed", "interrupted: its worker stopped before the run ended")
    assert Run.objects.filter(night=night).count() == 3  # the first, the interrupted, the sweep's
    resumed = Run.objects.filter(outcome="done").order_by("-started_at", "-pk").first()
    assert resumed is not None
    assert (resumed.trigger, resumed.found, resumed.opened) == ("files", reconciled.found, 0)
    assert set(Discrepancy.objects.values_list("key", flat=True)) == found  # found again, not duplicated
    assert Discrepancy.objects.get(pk=held.pk).state == "open"
    results = Task.objects.filter(func__endswith="reconcile_sweep").order_by("started").values_list("result", flat=True)
    assert [r.split(":")[0] for r in results] == [str(resumed), "nothing to resume"]


# --- The catalogue push: a creation, and the first sync's bulk operation -----------------------------


def new_sellable(skus: list[str]) -> list[Product]:
    """Products the AS400 just made sellable (in a category Shopify sells), none of them in Shopify yet."""
    category = Product.objects.get(pk=ShopifyProduct.objects.filter(state="pushed").values("product")[:1]).category
    products = Product.objects.bulk_create(
        [Product(item_number=sku, category=category, price="19.90", status="A", ean="", vat_code="1") for sku in skus]
    )
    ItemMapping.objects.bulk_create([ItemMapping(product=p, sku=p.item_number) for p in products])
    return list(Product.objects.filter(item_number__in=skus).order_by("pk"))


def shopify_products_of(shopify: ShopifySide, sku: str) -> list[str]:
    with shopify.sim.lock:
        return [f"gid://shopify/Product/{v['product_id']}" for v in shopify.sim.shop.variants_by_sku(sku)]


def catalogue_pushed_whole(shopify: ShopifySide) -> None:
    """Everything the fixture's push left (it pushes a small batch) pushed, its doorbells dropped:
    the cluster's push has only the test's products to do."""
    while catalogue_push(client=shopify.client, bulk_from=10**6).calls:
        pass
    get_broker().delete_queue()


def test_a_worker_killed_after_shopify_created_a_product_leaves_it_marked_and_the_next_push_links_it_not_a_second(
    simulator: Simulator, shopify: ShopifySide, cluster: Callable[..., Owned]
) -> None:
    # given a product the AS400 made sellable, not in Shopify yet
    catalogue_pushed_whole(shopify)
    (product,) = new_sellable(["KILLED-1"])

    # when the worker creating it is killed after Shopify made it, before it heard the answer
    held = shopify.sim.fault_hold_answer("productSet")
    first = cluster("first")
    async_task("shopify_channel.tasks.shopify_catalogue_push")  # the schedule's run
    assert held.applied.wait(90), "the creation never reached Shopify"
    first.kill()
    held.release.set()
    (made,) = shopify_products_of(shopify, "KILLED-1")  # Shopify has it...
    link = ShopifyProduct.objects.get(product=product)
    assert (link.state, link.shopify_product_id) == ("creating", "")  # ...marked before the call, never recorded
    assert get_broker().queue_size() == 0

    # then the next push finds it at Shopify and links it: one product for the SKU
    second = cluster("second")
    async_task("shopify_channel.tasks.shopify_catalogue_push")
    wait_until(
        "the product linked",
        lambda: ShopifyProduct.objects.get(pk=link.pk).state == "pushed", timeout=90, every=0.2,
    )  # fmt: skip
    second.stop(grace=30, whole_group=False)
    link.refresh_from_db()
    assert shopify_products_of(shopify, "KILLED-1") == [made]
    assert link.shopify_product_id == made
    assert link.inventory_item_id != ""


#: The first sync's run holds its operation this long (a killed one's lease is waited out) and waits
#: for Shopify up to the bound, below Q_TIMEOUT.
BULK_LEASES = {"SHOPIFY_BULK_LEASE_SECONDS": "4", "SHOPIFY_BULK_WAIT_IN_TASK_SECONDS": "60"}


def test_a_worker_killed_while_the_first_sync_runs_at_shopify_leaves_it_recorded_and_its_finish_webhook_has_it_applied_once(
    simulator: Simulator, shopify: ShopifySide, cluster: Callable[..., Owned]
) -> None:
    # given a first sync of 200 products (one bulk operation), which Shopify runs for a long time
    catalogue_pushed_whole(shopify)
    skus = [f"BULK-K{n:03d}" for n in range(BULK_FROM)]
    new_sellable(skus)
    held = shopify.sim.fault_hold_bulk()

    # when the worker waiting for it is killed
    first = cluster("first", **BULK_LEASES)
    async_task("shopify_channel.tasks.shopify_catalogue_push")
    assert held.applied.wait(90), "the bulk operation never started at Shopify"
    wait_until("the operation recorded", lambda: BulkOperation.objects.exclude(gid="").exists(), timeout=90)
    first.kill()
    operation = BulkOperation.objects.get()
    assert operation.state == "running"
    assert sorted(pk for pk, _ in operation.covers) == sorted(
        Product.objects.filter(item_number__in=skus).values_list("pk", flat=True)
    )  # what it covers, recorded before the wait
    assert get_broker().queue_size() == 0

    # and Shopify finishes it while no one waits: its bulk_operations/finish comes to us
    second = cluster("second", **BULK_LEASES)
    wait_until("the dead worker's lease to end",
               lambda: BulkOperation.objects.get(pk=operation.pk).leased_until <= timezone.now(), timeout=90)  # fmt: skip
    held.release.set()
    shopify.sim.bulk_wait(operation.gid)
    assert deliver_webhooks(shopify) >= 1  # the finish webhook, stored and applied: its doorbell rings

    # then the run it queued applies the operation's result: each product once at Shopify, linked
    wait_until("the operation applied",
               lambda: BulkOperation.objects.get(pk=operation.pk).state == "applied", timeout=90, every=0.2)  # fmt: skip
    second.stop(grace=30, whole_group=False)
    with shopify.sim.lock:
        mutations = [op for op in shopify.sim.shop.state["bulk_operations"].values() if op["type"] == "MUTATION"]
    assert len(mutations) == 1  # never started again
    assert [sku for sku in skus if len(shopify_products_of(shopify, sku)) != 1] == []
    assert ShopifyProduct.objects.filter(product__item_number__in=skus, state="pushed").exclude(
        inventory_item_id=""
    ).count() == len(skus)
