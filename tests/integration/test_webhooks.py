"""Webhooks to the storefronts: signed, retried, given up, replayed, through a real HTTP receiver.

The receiver (``webhook_receiver``) is an HTTP server on 127.0.0.1 that checks each signature with
nothing but the secret, ``hmac`` and ``hashlib``. Time is given to ``webhooks_deliver`` as ``now``
to make a retry due; everything else is real: the database, the HTTP exchange, the admin.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django_q.models import OrmQ, Schedule
from pytest_django import Settings

from integration import tasks
from integration.as400.simulator.engine import Simulator
from integration.as400.sync import exchange_sync
from integration.models import Alert, StorefrontClient, StorefrontEvent, WebhookAttempt, WebhookDelivery
from integration.outbox.dispatch import outbox_dispatch
from integration.storefront.clients import (
    storefront_client_create,
    storefront_client_deactivate,
    storefront_client_webhook_secret_rotate,
    storefront_client_webhook_set,
)
from integration.storefront.events import event_emit
from integration.storefront.webhooks import (
    USER_AGENT,
    webhook_replay,
    webhook_sign,
    webhook_verify,
    webhooks_deliver,
    webhooks_kick,
)
from inventory.models import Location, StockLevel
from orders.models import Order
from tests.factories.orders import place, warehouse_items
from tests.moments import TUESDAY
from tests.races import race

from .webhook_receiver import Answer, Receiver, running_receiver

# These tests read the admin's English texts (French is the default): see tests/admin for French.
pytestmark = [pytest.mark.django_db, pytest.mark.clock(TUESDAY), pytest.mark.usefixtures("english")]

Type = StorefrontEvent.Type
T0 = datetime.fromisoformat("2026-11-24T10:00:00+01:00")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
def fast_retries(settings: Settings) -> None:
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    settings.WEBHOOK_RETRY_MAX_SECONDS = 3600
    settings.WEBHOOK_MAX_ATTEMPTS = 5
    # the local receiver answers well before, however busy the machine
    settings.WEBHOOK_TIMEOUT_SECONDS = 30.0


def subscribe(receiver: Receiver, name: str = "shop", events: list[str] | None = None) -> StorefrontClient:
    """Given: a storefront client whose webhooks go to the receiver, which holds its secret."""
    client, _ = storefront_client_create(name=name, scopes=["orders:write"])
    client, secret = storefront_client_webhook_set(client=client, url=receiver.url, events=events)
    assert secret is not None
    receiver.secret = secret
    return client


def an_order(number: str = "WEB-000001", client: str = "shop") -> Order:
    """Given: an order of the client, as checkout leaves one (the lines do not matter here)."""
    Location.objects.get_or_create(code=900, defaults={"name": "Entrepôt", "kind": Location.Kind.WAREHOUSE})
    return Order.objects.create(
        order_number=number, client=client, content_hash="x", delivery="home", pickup_location_id=900,
        last_name="Lefèvre", total="9.90", status=Order.Status.ACCEPTED, as400_order_number="0004512",
    )  # fmt: skip


def shipped(order: Order) -> StorefrontEvent:
    return event_emit(order=order, type=Type.ORDER_SHIPPED, data={"tracking": "6A12345678901"}, now=T0)


def delivery_of(event: StorefrontEvent) -> WebhookDelivery:
    return WebhookDelivery.objects.get(event=event)


# --- Signed, and verifiable with the secret alone -------------------------------------------------


def test_a_webhook_is_signed_over_its_raw_body_and_the_receiver_verifies_it_with_the_secret_alone(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    subscribe(receiver)
    event = shipped(an_order())
    caplog.set_level(logging.DEBUG)

    report = webhooks_deliver(now=T0)

    assert (report.delivered, report.retried, report.dead) == (1, 0, 0)
    [got] = receiver.received
    assert got.verified
    assert got.headers["content-type"] == "application/json"
    assert got.headers["user-agent"] == USER_AGENT
    assert got.headers["webhook-id"] == str(event.event_id)
    assert got.headers["webhook-signature"].startswith("sha256=")
    body = got.json
    # The id and the send time are in the signed body too, equal to the headers.
    assert body["id"] == str(event.event_id)
    assert body["timestamp"] == int(got.headers["webhook-timestamp"])
    assert {k: v for k, v in body.items() if k != "timestamp"} == event.payload
    assert body["type"] == "order.shipped"
    assert body["data"] == {
        "order_number": "WEB-000001", "status": "accepted", "as400_order_number": "0004512",
        "tracking": "6A12345678901",
    }  # fmt: skip
    # The platform's own helper agrees, and refuses a body changed by one byte.
    headers = got.headers
    assert webhook_verify(
        secret=receiver.secret, body=got.body, signature=headers["webhook-signature"],
        timestamp=headers["webhook-timestamp"],
    )  # fmt: skip
    tampered = got.body.replace(b"6A12345678901", b"6A12345678902")
    assert not webhook_verify(secret=receiver.secret, body=tampered, signature=headers["webhook-signature"])
    assert not webhook_verify(secret="another", body=got.body, signature=headers["webhook-signature"])
    delivery = delivery_of(event)
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 1, 200)
    assert delivery.delivered_at == T0
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert (attempt.status_code, attempt.error, attempt.response_excerpt) == (200, "", "ok")
    # The secret is never logged nor kept with an attempt.
    assert receiver.secret not in caplog.text
    assert receiver.secret not in attempt.error + attempt.response_excerpt + delivery.last_error


def test_webhook_verify_refuses_a_timestamp_that_is_not_the_bodys_or_is_too_old() -> None:
    body = json.dumps({"id": "e1", "timestamp": 1_790_000_000}).encode()
    signature = webhook_sign("s3cret", body)

    assert webhook_verify(
        secret="s3cret", body=body, signature=signature, timestamp="1790000000", now=1_790_000_100
    )
    assert not webhook_verify(
        secret="s3cret", body=body, signature=signature, timestamp="1790000001", now=1_790_000_100
    )  # not the signed one
    assert not webhook_verify(
        secret="s3cret", body=body, signature=signature, timestamp="1790000000", now=1_790_000_301
    )  # older than 5 minutes: a replayed request
    assert not webhook_verify(secret="s3cret", body=body, signature="sha256=" + "0" * 64)


# --- Retries --------------------------------------------------------------------------------------


def test_a_500_is_retried_after_a_backoff_then_delivered_with_the_same_event_id(
    receiver: Receiver, fast_retries: None
) -> None:
    subscribe(receiver)
    event = shipped(an_order())
    receiver.answer(Answer(500, body=b"database down"))

    first = webhooks_deliver(now=T0)

    delivery = delivery_of(event)
    assert (first.retried, delivery.state, delivery.attempts, delivery.last_status) == (1, "pending", 1, 500)
    assert T0 < delivery.next_attempt_at <= T0 + timedelta(seconds=30)  # base × 2^0, jittered
    assert WebhookAttempt.objects.get(delivery=delivery).response_excerpt == "database down"

    second = webhooks_deliver(now=T0 + timedelta(seconds=30))

    delivery.refresh_from_db()
    assert (second.delivered, delivery.state, delivery.attempts, delivery.last_status) == (
        1,
        "delivered",
        2,
        200,
    )
    assert [r.event_id for r in receiver.received] == [str(event.event_id)] * 2
    assert all(r.verified for r in receiver.received)
    assert list(WebhookAttempt.objects.filter(delivery=delivery).values_list("status_code", flat=True)) == [
        200,
        500,
    ]  # newest first


def test_nothing_is_sent_before_the_retry_is_due(receiver: Receiver, fast_retries: None) -> None:
    subscribe(receiver)
    event = shipped(an_order())
    receiver.answer(Answer(502))
    webhooks_deliver(now=T0)
    due = delivery_of(event).next_attempt_at

    assert webhooks_deliver(now=due - timedelta(microseconds=1)).as_dict()["delivered"] == 0
    assert receiver.count() == 1
    assert webhooks_deliver(now=due).delivered == 1
    assert receiver.count() == 2


def test_a_400_is_dead_at_once_never_retried_and_alerted(receiver: Receiver, fast_retries: None) -> None:
    subscribe(receiver)
    event = shipped(an_order())
    receiver.answer(Answer(400, body=b'{"error": "unknown order"}'))

    report = webhooks_deliver(now=T0)

    delivery = delivery_of(event)
    assert (report.dead, delivery.state, delivery.attempts, delivery.last_status) == (1, "dead", 1, 400)
    assert "not retried" in delivery.last_error
    assert webhooks_deliver(now=T0 + timedelta(days=2)).as_dict() == {
        "delivered": 0, "retried": 0, "dead": 0, "stopped": "",
    }  # fmt: skip
    assert receiver.count() == 1
    alert = Alert.objects.get(kind="webhook_dead")
    assert (alert.subject, alert.severity) == ("shop", "warning")
    assert "WEB-000001" in alert.message


@pytest.mark.parametrize("status", [408, 429, 503])
def test_408_429_and_5xx_are_retried(receiver: Receiver, fast_retries: None, status: int) -> None:
    subscribe(receiver)
    event = shipped(an_order())
    receiver.answer(Answer(status))

    webhooks_deliver(now=T0)

    delivery = delivery_of(event)
    assert (delivery.state, delivery.last_status) == ("pending", status)
    assert webhooks_deliver(now=T0 + timedelta(hours=1)).delivered == 1
    assert receiver.count() == 2


def test_retry_after_of_a_429_is_honoured_within_the_cap(receiver: Receiver, fast_retries: None) -> None:
    subscribe(receiver)
    first, second = shipped(an_order("WEB-000001")), shipped(an_order("WEB-000002"))
    receiver.answer(Answer(429, {"Retry-After": "120"}), Answer(429, {"Retry-After": "86400"}))

    webhooks_deliver(now=T0)

    assert delivery_of(first).next_attempt_at == T0 + timedelta(seconds=120)
    assert delivery_of(second).next_attempt_at == T0 + timedelta(seconds=3600)  # WEBHOOK_RETRY_MAX_SECONDS


def test_a_timeout_is_retried(receiver: Receiver, fast_retries: None, settings: Settings) -> None:
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    subscribe(receiver)
    event = shipped(an_order())
    release = threading.Event()
    receiver.answer(Answer(200, hold=release))  # no answer until the sender has given up

    try:
        webhooks_deliver(now=T0)  # returns while the receiver still holds its answer
    finally:
        release.set()

    delivery = delivery_of(event)
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert (delivery.state, delivery.last_status, attempt.status_code) == ("pending", None, None)
    assert attempt.error.startswith("timeout")
    assert attempt.duration_ms >= 250  # it waited its 0.3 s first (a lower bound: true however slow)
    assert webhooks_deliver(now=T0 + timedelta(hours=1)).delivered == 1


def test_a_refused_connection_is_retried(receiver: Receiver, fast_retries: None) -> None:
    subscribe(receiver)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/hooks"
    StorefrontClient.objects.filter(name="shop").update(webhook_url=closed)
    event = shipped(an_order())

    webhooks_deliver(now=T0)

    delivery = delivery_of(event)
    assert (delivery.state, delivery.attempts, delivery.url) == ("pending", 1, closed)
    assert delivery.last_error.startswith("ConnectError")


def test_after_its_last_attempt_a_delivery_is_dead_and_alerted_critical(
    receiver: Receiver, fast_retries: None
) -> None:
    subscribe(receiver)
    event = shipped(an_order())
    receiver.default = Answer(503)

    for hour in range(10):
        webhooks_deliver(now=T0 + timedelta(hours=hour))

    delivery = delivery_of(event)
    assert (delivery.state, delivery.attempts, receiver.count()) == ("dead", 5, 5)  # WEBHOOK_MAX_ATTEMPTS
    assert "gave up after 5 attempts" in delivery.last_error
    assert Alert.objects.get(kind="webhook_dead").severity == "critical"


# --- Who gets what -----------------------------------------------------------------------------------


def test_a_client_gets_only_the_events_it_subscribed_to(receiver: Receiver) -> None:
    subscribe(receiver, events=[Type.ORDER_SHIPPED])
    order = an_order()
    accepted = event_emit(order=order, type=Type.ORDER_ACCEPTED, now=T0)
    sent = shipped(order)

    webhooks_deliver(now=T0)

    assert not WebhookDelivery.objects.filter(event=accepted).exists()
    assert [r.event_id for r in receiver.received] == [str(sent.event_id)]


def test_another_clients_orders_are_not_sent_to_this_client(receiver: Receiver) -> None:
    subscribe(receiver, name="shop")
    storefront_client_create(name="other", scopes=["orders:write"])
    shipped(an_order(client="other"))

    assert webhooks_deliver(now=T0).delivered == 0
    assert receiver.count() == 0


def test_a_deactivated_client_gets_nothing_and_its_pending_deliveries_die_with_the_reason(
    receiver: Receiver,
) -> None:
    client = subscribe(receiver)
    event = shipped(an_order())
    storefront_client_deactivate(client=client)
    later = event_emit(order=Order.objects.get(), type=Type.ORDER_RETURNED, now=T0)

    report = webhooks_deliver(now=T0)

    delivery = delivery_of(event)
    assert (report.dead, delivery.state, delivery.attempts) == (1, "dead", 0)
    assert delivery.last_error == "not sent: the storefront client shop is deactivated"
    assert not WebhookDelivery.objects.filter(event=later).exists()  # none queued once deactivated
    assert receiver.count() == 0
    assert Alert.objects.filter(kind="webhook_dead", subject="shop").exists()


def test_a_removed_url_kills_the_pending_deliveries_and_a_changed_one_receives_them(
    receiver: Receiver,
) -> None:
    client = subscribe(receiver)
    first, second = shipped(an_order("WEB-000001")), shipped(an_order("WEB-000002"))
    storefront_client_webhook_set(client=client, url="")
    WebhookDelivery.objects.filter(event=second).update(next_attempt_at=T0 + timedelta(minutes=5))

    webhooks_deliver(now=T0)
    storefront_client_webhook_set(client=client, url=receiver.url.replace("/orders", "/v2"))
    webhooks_deliver(now=T0 + timedelta(minutes=5))

    assert delivery_of(first).state == "dead"
    assert "no webhook URL any more" in delivery_of(first).last_error
    assert (delivery_of(second).state, delivery_of(second).url) == (
        "delivered",
        receiver.url.replace("/orders", "/v2"),
    )
    assert [r.event_id for r in receiver.received] == [str(second.event_id)]


# --- Secrets ---------------------------------------------------------------------------------------


def test_a_secret_is_generated_once_and_a_rotated_one_signs_from_then_on(receiver: Receiver) -> None:
    client = subscribe(receiver)
    old = receiver.secret
    _, again = storefront_client_webhook_set(client=client, url=receiver.url, events=[])
    assert again is None  # a client with a secret keeps it: only rotation gives a new one
    event = shipped(an_order())

    client, new = storefront_client_webhook_secret_rotate(client=client)
    receiver.secret = new
    webhooks_deliver(now=T0)

    assert new != old
    assert len(new) >= 43
    [got] = receiver.received
    assert got.verified
    assert not webhook_verify(secret=old, body=got.body, signature=got.headers["webhook-signature"])
    assert delivery_of(event).state == "delivered"


def test_a_webhook_url_must_be_https_except_on_this_machine() -> None:
    from django.core.exceptions import ValidationError

    client, _ = storefront_client_create(name="shop", scopes=[])
    with pytest.raises(ValidationError, match="https"):
        storefront_client_webhook_set(client=client, url="http://shop.example.com/hooks")
    with pytest.raises(ValidationError, match="unknown event"):
        storefront_client_webhook_set(
            client=client, url="https://shop.example.com/hooks", events=["order.lost"]
        )
    client.refresh_from_db()
    assert (client.webhook_url, client.webhook_secret) == ("", "")  # nothing was kept


def test_the_command_sets_a_webhook_prints_its_secret_once_and_rotates_it(receiver: Receiver) -> None:
    storefront_client_create(name="shop", scopes=["orders:write"])
    out, err = StringIO(), StringIO()
    call_command(
        "storefront_client", "webhook", "shop", "--url", receiver.url, "--event", "order.shipped",
        stdout=out, stderr=err,
    )  # fmt: skip
    secret = out.getvalue().strip()
    client = StorefrontClient.objects.get(name="shop")
    assert (client.webhook_url, client.webhook_events, client.webhook_secret) == (
        receiver.url, ["order.shipped"], secret,
    )  # fmt: skip

    again = StringIO()
    call_command(
        "storefront_client",
        "webhook",
        "shop",
        "--url",
        receiver.url,
        "--all-events",
        stdout=again,
        stderr=err,
    )
    rotated = StringIO()
    call_command("storefront_client", "rotate-webhook-secret", "shop", stdout=rotated, stderr=err)

    assert again.getvalue() == ""  # not shown again
    client.refresh_from_db()
    assert client.webhook_events == []
    assert client.webhook_secret == rotated.getvalue().strip() != secret
    call_command("storefront_client", "list", stdout=StringIO())  # lists without the secret


# --- Staff ------------------------------------------------------------------------------------------


@pytest.fixture
def staff(client: Client) -> Client:
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw")
    client.force_login(user)
    return client


def test_replaying_from_the_admin_sends_the_same_event_again(
    receiver: Receiver, staff: Client, fast_retries: None
) -> None:
    subscribe(receiver)
    event = shipped(an_order())
    receiver.answer(Answer(410))
    webhooks_deliver(now=T0)
    delivery = delivery_of(event)
    assert delivery.state == "dead"

    response = staff.post(
        reverse("admin:integration_webhookdelivery_changelist"),
        {"action": "replay", "_selected_action": [delivery.pk]},
    )
    assert response.status_code == 302
    assert "is pending again" in " ".join(str(m) for m in get_messages(response.wsgi_request))
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("pending", 1)  # its attempts kept
    webhooks_deliver(now=delivery.next_attempt_at)

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("delivered", 2)
    assert [r.event_id for r in receiver.received] == [str(event.event_id)] * 2
    assert all(r.verified for r in receiver.received)
    # A delivered one can be replayed too (the storefront lost it): sent once more.
    staff.post(
        reverse("admin:integration_webhookdelivery_changelist"),
        {"action": "replay", "_selected_action": [delivery.pk]},
    )
    webhooks_deliver(now=T0 + timedelta(hours=1))
    assert receiver.count() == 3


def test_the_admin_lists_events_and_deliveries_read_only_and_never_shows_a_secret(
    receiver: Receiver, staff: Client
) -> None:
    client = subscribe(receiver)
    event = shipped(an_order())
    receiver.answer(Answer(500, body=b"oops"))
    webhooks_deliver(now=T0)
    delivery = delivery_of(event)

    pages = {
        "events": reverse("admin:integration_storefrontevent_changelist") + "?q=WEB-000001",
        "event": reverse("admin:integration_storefrontevent_change", args=[event.pk]),
        "deliveries": reverse("admin:integration_webhookdelivery_changelist") + "?state__exact=pending",
        "by client": reverse("admin:integration_webhookdelivery_changelist")
        + f"?client__id__exact={client.pk}",
        "delivery": reverse("admin:integration_webhookdelivery_change", args=[delivery.pk]),
        "client": reverse("admin:integration_storefrontclient_change", args=[client.pk]),
        "clients": reverse("admin:integration_storefrontclient_changelist"),
    }
    responses = {name: staff.get(url) for name, url in pages.items()}

    assert {name: r.status_code for name, r in responses.items()} == dict.fromkeys(pages, 200)
    assert "WEB-000001" in responses["events"].content.decode()
    assert "order.shipped" in responses["deliveries"].content.decode()
    assert "oops" in responses["delivery"].content.decode()  # its attempts inline
    assert "pending" in responses["event"].content.decode()  # its deliveries inline
    assert "/hooks/orders" in responses["client"].content.decode()
    assert all(receiver.secret not in r.content.decode() for r in responses.values())
    assert staff.post(pages["delivery"], {"state": "delivered"}).status_code == 403  # read-only


def test_the_client_admin_shows_a_new_webhook_secret_once_and_rotates_it(
    receiver: Receiver, staff: Client
) -> None:
    client, _ = storefront_client_create(name="shop", scopes=["orders:write"])
    url = reverse("admin:integration_storefrontclient_change", args=[client.pk])
    form = {"scopes": ["orders:write"], "rate_limit": 600, "active": "on", "webhook_url": receiver.url,
            "webhook_events": ["order.shipped", "order.cancelled"]}  # fmt: skip

    response = staff.post(url, form)

    assert response.status_code == 302
    client.refresh_from_db()
    shown = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert client.webhook_secret
    assert "shown this once (give it to the storefront's developers" in shown
    assert client.webhook_secret in shown
    assert client.webhook_events == ["order.shipped", "order.cancelled"]
    assert client.webhook_secret in staff.get(url).content.decode()  # the page after the save shows it...
    assert client.webhook_secret not in staff.get(url).content.decode()  # ...and no other page, ever
    refused = staff.post(url, {**form, "webhook_url": "http://shop.example.com/hooks"})
    assert refused.status_code == 200
    assert "must be an https:// URL" in refused.content.decode()

    old = client.webhook_secret
    rotated = staff.post(
        reverse("admin:integration_storefrontclient_changelist"),
        {"action": "rotate_webhook_secrets", "_selected_action": [client.pk]},
    )
    client.refresh_from_db()
    assert client.webhook_secret != old
    assert client.webhook_secret in " ".join(str(m) for m in get_messages(rotated.wsgi_request))


# --- Workers ------------------------------------------------------------------------------------------


def test_the_delivery_task_is_scheduled_every_minute() -> None:
    schedule = Schedule.objects.get(func="integration.tasks.webhooks_deliver")
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == ("I", 1, -1)


def test_emitting_events_queues_one_delivery_run_when_the_transaction_commits(
    receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    subscribe(receiver)
    order = an_order()
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        shipped(order)
        shipped(order)
        event_emit(order=order, type=Type.ORDER_RETURNED)

    assert callbacks == [webhooks_kick]  # one run for the transaction, not one per event
    assert WebhookDelivery.objects.filter(state="pending").count() == 3


@pytest.mark.skipif(bool(django_settings.REDIS_URL), reason="checks the database broker's queue")
def test_the_queued_run_is_the_delivery_task() -> None:
    webhooks_kick()

    [queued] = OrmQ.objects.all()
    assert queued.task["func"] == "integration.tasks.webhooks_deliver_doorbell"


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_never_send_the_same_delivery_twice(receiver: Receiver) -> None:
    """On PostgreSQL the claim skips locked rows; on SQLite the write lock serialises claims."""
    subscribe(receiver)
    receiver.default = Answer(200, delay=0.01)
    # The first request is answered only once a second one has come: from the other worker, this
    # one waiting for its answer. Both take part, for sure.
    second = threading.Event()
    receiver.answer(Answer(200, hold=second), Answer(200, arrived=second))
    with transaction.atomic():
        order = an_order()
        events = [shipped(order) for _ in range(40)]

    def worker() -> dict[str, object]:
        return webhooks_deliver(now=T0).as_dict()

    reports = [outcome.get() for outcome in race(worker, [()] * 2, timeout=60)]

    sent = [r.event_id for r in receiver.received]
    assert sorted(sent) == sorted(str(e.event_id) for e in events)  # each once, none missing
    assert sum(int(str(r["delivered"])) for r in reports) == 40
    assert all(int(str(r["delivered"])) > 0 for r in reports)  # both took part
    assert WebhookDelivery.objects.filter(state="delivered", attempts=1).count() == 40
    assert WebhookAttempt.objects.count() == 40


# --- ORDACK tells the storefront ------------------------------------------------------------------------


def test_ordack_tells_the_storefront_that_an_order_was_accepted_or_refused(
    simulator: Simulator, receiver: Receiver
) -> None:
    subscribe(receiver, name="web")  # the client place() orders for
    product = warehouse_items(1)[0]
    place(1, product)
    StockLevel.objects.filter(product=product, location_id=900).update(on_hand=10_000)
    place(2, product, quantity=5_000)  # more than the AS400 holds: it refuses it (STK0)
    outbox_dispatch(now=TUESDAY)
    simulator.import_now()

    exchange_sync()
    assert tasks.webhooks_deliver() == {"delivered": 2, "retried": 0, "dead": 0, "stopped": ""}

    by_order = {r.json["data"]["order_number"]: r for r in receiver.received}
    assert set(by_order) == {"WEB-000001", "WEB-000002"}
    assert all(r.verified for r in receiver.received)
    accepted, refused = by_order["WEB-000001"].json, by_order["WEB-000002"].json
    number = Order.objects.get(order_number="WEB-000001").as400_order_number
    assert (accepted["type"], accepted["data"]["status"], accepted["data"]["as400_order_number"]) == (
        "order.accepted", "accepted", number,
    )  # fmt: skip
    assert (refused["type"], refused["data"]["status"], refused["data"]["reason_code"]) == (
        "order.refused", "refused", "STK0",
    )  # fmt: skip
    assert refused["data"]["reason"].startswith("STK0")
    exchange_sync()  # the same acks again (nothing new): no event twice
    assert StorefrontEvent.objects.count() == 2


def test_a_delivery_whose_sends_never_finish_is_given_up_not_tried_for_ever(receiver: Receiver) -> None:
    # given a delivery three workers claimed and died sending (killed mid-send: no attempt recorded)
    subscribe(receiver)
    event = shipped(an_order())
    WebhookDelivery.objects.filter(event=event).update(attempts=3)

    # when the next run finds it due
    report = webhooks_deliver(now=T0)

    # then it is dead and alerted, and nothing more is sent
    delivery = delivery_of(event)
    assert (report.dead, delivery.state, receiver.count()) == (0, "dead", 0)
    assert "sends never finished" in delivery.last_error
    assert Alert.objects.get(kind="webhook_dead").severity == "critical"

    # and a replay by staff forgets the unfinished sends and tries again
    webhook_replay(delivery=delivery, now=T0)
    assert webhooks_deliver(now=T0).delivered == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, receiver.count()) == ("delivered", 1, 1)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hooks",
        "https://localhost/hooks",
        "https://10.1.2.3/hooks",
        "https://192.168.0.7/hooks",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hooks",
        "https://[::ffff:10.0.0.1]/hooks",
    ],
)
def test_without_private_networks_a_webhook_url_inside_is_refused_when_set(settings: Any, url: str) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    client, _ = storefront_client_create(name="shop-x", scopes=[])

    with pytest.raises(ValidationError) as refused:
        storefront_client_webhook_set(client=client, url=url)

    assert "webhook_url" in refused.value.message_dict
    client.refresh_from_db()
    assert client.webhook_url == ""


def test_without_private_networks_a_public_https_url_is_taken(settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    client, _ = storefront_client_create(name="shop-y", scopes=[])

    client, secret = storefront_client_webhook_set(client=client, url="https://hooks.example.com/orders")

    assert (client.webhook_url, bool(secret)) == ("https://hooks.example.com/orders", True)


def test_a_delivery_to_an_address_inside_is_never_sent_once_private_networks_are_off(
    receiver: Receiver, settings: Any
) -> None:
    subscribe(receiver)  # set while allowed (a developer's machine), then production's settings
    event = shipped(an_order())
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False

    report = webhooks_deliver(now=T0)

    delivery = delivery_of(event)
    assert (report.dead, delivery.state, receiver.count()) == (1, "dead", 0)
    assert "127.0.0.1 is a private, loopback or reserved address" in delivery.last_error
    assert not WebhookAttempt.objects.filter(delivery=delivery).exists()
