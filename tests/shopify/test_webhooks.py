"""Shopify's webhooks in: the signature, the raw event stored once, applied in a task, the sweep, replay.

Deliveries go through Django's test client to the real endpoint (``POST /shopify/webhooks``),
signed as Shopify signs them; the handlers are registered by each test, as the domain registers
its own at start-up.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings as django_settings
from django.test import Client
from django.utils import translation
from django_q.models import OrmQ, Schedule
from pytest_django import Settings

from integration.core.stored_texts import stored_text_translated
from integration.models import Alert
from integration.shopify import webhooks
from integration.shopify.models import WebhookEvent
from integration.shopify.webhooks import (
    WebhookMeta,
    WebhookReplayRefused,
    webhook_event_apply,
    webhook_events_sweep,
    webhook_replay,
    webhook_topic_register,
)
from tests.factories.shopify_connector import SHOP, WEBHOOK_URL, deliver, webhook_headers
from tests.moments import TUESDAY

pytestmark = [pytest.mark.django_db, pytest.mark.clock(TUESDAY)]

ORDER = {"id": 820982911946154508, "name": "#1001", "updated_at": "2026-11-24T10:00:00+01:00"}


def recorder() -> list[tuple[dict[str, Any], WebhookMeta]]:
    seen: list[tuple[dict[str, Any], WebhookMeta]] = []
    webhook_topic_register("orders/create", lambda payload, meta: seen.append((payload, meta)))
    return seen


# --- The signature and the shape -------------------------------------------------------------------


def test_a_signed_delivery_is_stored_raw_and_not_applied_by_the_request(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    # given a handler for orders/create
    seen = recorder()
    body = json.dumps(ORDER, indent=1).encode()  # Shopify's exact bytes, spaces and all

    # when Shopify delivers a signed event
    with django_capture_on_commit_callbacks() as callbacks:
        response = deliver(client, "orders/create", "evt-1", None, raw=body)

    # then it is answered at once, stored as it came, and left to the task
    assert response.status_code == 200
    assert response.json() == {"status": "stored"}
    event = WebhookEvent.objects.get()
    assert (event.event_id, event.topic, event.webhook_id, event.shop_domain, event.api_version) == (
        "evt-1", "orders/create", "wh-evt-1", SHOP, "2026-10",
    )  # fmt: skip
    assert event.body == body.decode()
    assert event.triggered_at == datetime(2026, 11, 24, 9, 0, 0, 123456, tzinfo=UTC)
    assert event.received_at == TUESDAY
    assert (event.state, event.attempts) == ("received", 0)
    assert seen == []
    assert len(callbacks) == 1  # the apply task, queued once the row is committed


@pytest.mark.skipif(bool(django_settings.REDIS_URL), reason="checks the database broker's queue")
def test_the_queued_task_is_the_apply_task_of_that_event(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "orders/create", "evt-1", ORDER)

    [queued] = OrmQ.objects.all()
    assert queued.task["func"] == "integration.shopify.tasks.webhook_event_apply"
    assert queued.task["args"] == (WebhookEvent.objects.get().pk,)


@pytest.mark.parametrize(
    ("secret", "tamper", "problem"),
    [
        ("other-secret", False, "forged or altered: X-Shopify-Hmac-Sha256 does not match the body"),
        (
            "test-client-secret-0123456789",
            True,
            "forged or altered: X-Shopify-Hmac-Sha256 does not match the body",
        ),
    ],
)
def test_a_forged_or_altered_delivery_is_refused_and_nothing_is_stored(
    client: Client, secret: str, tamper: bool, problem: str
) -> None:
    # given a body signed with another secret, or altered after signing
    body = json.dumps(ORDER).encode()
    headers = webhook_headers("orders/create", "evt-1", body, secret=secret)
    sent = body.replace(b"#1001", b"#1002") if tamper else body

    # when it is posted
    response = client.post(WEBHOOK_URL, data=sent, content_type="application/json", **headers)

    # then it is refused, naming the problem, and nothing is kept
    assert response.status_code == 401
    assert response.json() == {"error": problem}
    assert not WebhookEvent.objects.exists()


def test_an_unsigned_delivery_is_refused(client: Client) -> None:
    response = client.post(
        WEBHOOK_URL, data=json.dumps(ORDER), content_type="application/json",
        HTTP_X_SHOPIFY_TOPIC="orders/create", HTTP_X_SHOPIFY_EVENT_ID="evt-1",
    )  # fmt: skip

    assert response.status_code == 401
    assert response.json() == {"error": "unsigned: the X-Shopify-Hmac-Sha256 header is missing"}
    assert not WebhookEvent.objects.exists()


def test_a_delivery_for_another_shop_is_refused(client: Client, settings: Settings) -> None:
    settings.SHOPIFY_SHOP = "another-shop.myshopify.com"

    response = deliver(client, "orders/create", "evt-1", ORDER)

    assert response.status_code == 401
    assert "for the shop test-shop.myshopify.com" in response.json()["error"]
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize(
    ("topic", "event_id", "raw", "problem"),
    [
        ("orders/create", "evt-1", b"{not json", "the body is not JSON"),
        ("orders/create", "evt-1", b"[1, 2]", "the body is JSON but not an object (a list)"),
        ("orders/create", "evt-1", b"\xff\xfe", "the body is not JSON"),
        (None, "evt-1", b"{}", "the X-Shopify-Topic header is missing"),
        ("orders/create", None, b"{}", "the X-Shopify-Event-Id header is missing"),
    ],
)
def test_a_signed_but_malformed_delivery_is_refused_with_400(
    client: Client, topic: str | None, event_id: str | None, raw: bytes, problem: str
) -> None:
    response = deliver(client, topic, event_id, None, raw=raw)

    assert response.status_code == 400
    assert response.json()["error"].startswith(problem)
    assert not WebhookEvent.objects.exists()


def test_only_post_is_taken(client: Client) -> None:
    assert client.get(WEBHOOK_URL).status_code == 405


def test_without_shopify_configured_every_delivery_is_refused(client: Client, settings: Settings) -> None:
    settings.SHOPIFY_SHOP = ""

    response = deliver(client, "orders/create", "evt-1", ORDER)

    assert response.status_code == 503
    assert not WebhookEvent.objects.exists()


# --- Once per event -----------------------------------------------------------------------------------


def test_a_second_delivery_of_the_same_event_is_answered_200_and_changes_nothing(client: Client) -> None:
    # given an event delivered and applied
    seen = recorder()
    deliver(client, "orders/create", "evt-1", ORDER)
    event = WebhookEvent.objects.get()
    webhook_event_apply(event_id=event.pk)
    before = WebhookEvent.objects.values().get()

    # when Shopify delivers it again (a retry, or a second subscription), even with another body
    response = deliver(client, "orders/create", "evt-1", {**ORDER, "name": "#9999"})

    # then it is answered 200, and neither the event nor what it did changes
    assert response.status_code == 200
    assert response.json() == {"status": "duplicate"}
    assert WebhookEvent.objects.values().get() == before
    assert webhook_event_apply(event_id=event.pk) == "applied"
    assert len(seen) == 1


# --- Applying -----------------------------------------------------------------------------------------


def test_the_task_applies_the_event_with_its_payload_and_meta(client: Client) -> None:
    # given a stored event
    seen = recorder()
    deliver(client, "orders/create", "evt-1", ORDER)
    event = WebhookEvent.objects.get()

    # when the task runs (later)
    with time_machine.travel(TUESDAY + timedelta(seconds=2), tick=False):
        state = webhook_event_apply(event_id=event.pk)

    # then the handler had the payload and what is known of the event, once
    assert state == "applied"
    [(payload, meta)] = seen
    assert payload == ORDER
    assert meta == WebhookMeta(
        event_id="evt-1", topic="orders/create", triggered_at=datetime(2026, 11, 24, 9, 0, 0, 123456, tzinfo=UTC),
        received_at=TUESDAY, webhook_id="wh-evt-1", shop_domain=SHOP, api_version="2026-10",
    )  # fmt: skip
    event.refresh_from_db()
    assert (event.state, event.attempts, event.applied_at, event.last_error) == (
        "applied",
        1,
        TUESDAY + timedelta(seconds=2),
        "",
    )


def test_an_event_of_a_topic_nobody_takes_is_ignored(client: Client) -> None:
    deliver(client, "customers/create", "evt-1", {"id": 1})

    state = webhook_event_apply(event_id=WebhookEvent.objects.get().pk)

    assert state == "ignored"
    assert WebhookEvent.objects.get().last_error == "no handler for the topic customers/create"
    with translation.override("fr"):  # stored in English, read in the reader's language
        assert stored_text_translated(WebhookEvent.objects.get().last_error) == (
            "aucun traitement pour le sujet customers/create"
        )


def test_a_handler_that_raises_leaves_nothing_of_its_work_and_the_event_failed(client: Client) -> None:
    # given a handler that writes, then refuses the payload
    def handler(payload: dict[str, Any], meta: WebhookMeta) -> None:
        Alert.objects.create(kind="written_by_the_handler", message="half-applied", created_at=TUESDAY,
                             last_seen_at=TUESDAY)  # fmt: skip
        raise ValueError("line_items[0].sku is missing")

    webhook_topic_register("orders/create", handler)
    deliver(client, "orders/create", "evt-1", ORDER)

    # when it is applied
    state = webhook_event_apply(event_id=WebhookEvent.objects.get().pk)

    # then nothing it wrote is kept, and the event says why it failed and when it is tried again
    assert state == "failed"
    assert not Alert.objects.filter(kind="written_by_the_handler").exists()
    event = WebhookEvent.objects.get()
    assert (event.attempts, event.last_error) == (1, "ValueError: line_items[0].sku is missing")
    assert event.next_attempt_at is not None
    assert event.next_attempt_at > TUESDAY


# --- The sweep -----------------------------------------------------------------------------------------


def test_the_sweep_applies_what_no_task_applied(client: Client, clock: time_machine.Coordinates) -> None:
    # given an event stored whose task never ran (a worker stopped)
    seen = recorder()
    deliver(client, "orders/create", "evt-1", ORDER)

    # when the sweep runs within the grace, then a minute later
    first = webhook_events_sweep()
    clock.shift(timedelta(minutes=1))
    second = webhook_events_sweep()

    # then it leaves the event to its task at first, and applies it afterwards
    assert first.as_dict() == {"applied": 0, "failed": 0, "ignored": 0}
    assert second.as_dict() == {"applied": 1, "failed": 0, "ignored": 0}
    assert len(seen) == 1


def test_a_failing_event_is_retried_by_the_sweep_until_its_attempts_are_spent_then_alerted(
    client: Client, clock: time_machine.Coordinates, settings: Settings
) -> None:
    # given a handler that always fails, and three attempts allowed
    settings.SHOPIFY_WEBHOOK_MAX_ATTEMPTS = 3

    def handler(payload: dict[str, Any], meta: WebhookMeta) -> None:
        raise RuntimeError("the order's product is unknown")

    webhook_topic_register("orders/create", handler)
    deliver(client, "orders/create", "evt-1", ORDER)
    webhook_event_apply(event_id=WebhookEvent.objects.get().pk)

    # when the sweep runs every hour for a day
    for _ in range(24):
        clock.shift(timedelta(hours=1))
        webhook_events_sweep()

    # then it was tried three times in all, is left failed, and one critical alert says so
    event = WebhookEvent.objects.get()
    assert (event.state, event.attempts, event.next_attempt_at) == ("failed", 3, None)
    alert = Alert.objects.get(kind="shopify_webhook_failed")
    assert (alert.subject, alert.severity, alert.occurrences) == ("orders/create", "critical", 1)
    assert "evt-1" in alert.message
    assert "the order's product is unknown" in alert.message


def test_a_spent_event_is_replayed_by_staff_once_fixed(client: Client, settings: Settings) -> None:
    # given an event failed with its attempts spent
    settings.SHOPIFY_WEBHOOK_MAX_ATTEMPTS = 1
    webhook_topic_register("orders/create", lambda payload, meta: 1 / 0)  # type: ignore[func-returns-value]
    deliver(client, "orders/create", "evt-1", ORDER)
    event = WebhookEvent.objects.get()
    webhook_event_apply(event_id=event.pk)

    # when the cause is fixed and staff replay it
    seen = recorder()
    replayed = webhook_replay(event)

    # then it is applied, once
    assert (replayed.state, replayed.attempts) == ("applied", 2)
    assert len(seen) == 1

    # and replaying an applied event is refused
    with pytest.raises(WebhookReplayRefused, match="déjà appliqué"):
        webhook_replay(replayed)
    assert len(seen) == 1


def test_an_ignored_event_is_applied_when_replayed_after_its_topic_got_a_handler(client: Client) -> None:
    webhooks._handlers.pop("orders/create", None)  # shopify_channel's, registered at start-up (restored after)
    deliver(client, "orders/create", "evt-1", ORDER)
    event = WebhookEvent.objects.get()
    assert webhook_event_apply(event_id=event.pk) == "ignored"

    seen = recorder()
    assert webhook_replay(event).state == "applied"
    assert len(seen) == 1


def test_the_sweep_and_the_calls_are_scheduled_every_minute() -> None:
    for func in (
        "integration.shopify.tasks.webhook_events_sweep",
        "integration.shopify.tasks.shopify_calls_send",
    ):
        schedule = Schedule.objects.get(func=func)
        assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == ("I", 1, -1)
