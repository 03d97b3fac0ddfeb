"""Calls to Shopify as outbox-like messages: queued with the caller's change, sent, retried, dead, retried by staff.

Each test registers the kind it queues, with a perform that records what it was given and does
what the test needs (answers, asks for a retry, refuses); the claim, the backoff, the records and
the alerts are the real ones, on the real database.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import translation
from django_q.models import OrmQ
from pytest_django import Settings

from integration.core.stored_texts import stored_text_translated
from integration.models import Alert
from integration.shopify.calls import (
    CallActionRefused,
    CallRefused,
    CallRetry,
    _claim,
    call_backoff,
    call_kind_register,
    shopify_call_cancel,
    shopify_call_queue,
    shopify_call_retry,
    shopify_calls_kick,
    shopify_calls_send,
)
from integration.shopify.client import ShopifyClient, ShopifyUnavailable
from integration.shopify.models import ShopifyCall
from tests.moments import TUESDAY
from tests.races import race

pytestmark = [pytest.mark.django_db, pytest.mark.clock(TUESDAY)]


def queue(kind: str = "order_cancel", subject: str = "SHP1001") -> ShopifyCall:
    return shopify_call_queue(kind=kind, subject=subject, payload={"order": subject}, now=TUESDAY)


def test_a_call_commits_with_the_callers_change_and_queues_one_send_run(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # when a caller queues two calls in its transaction
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        first = queue(subject="SHP1001")
        queue(subject="SHP1002")

    # then both are pending, due now, each with its own idempotency key, and one run is queued
    assert callbacks == [shopify_calls_kick]
    first.refresh_from_db()
    assert (first.state, first.attempts, first.next_attempt_at, first.created_at) == (
        "pending",
        0,
        TUESDAY,
        TUESDAY,
    )
    assert first.payload == {"order": "SHP1001"}
    assert first.idempotency_key.startswith("order_cancel-")
    assert ShopifyCall.objects.values("idempotency_key").distinct().count() == 2


def test_a_call_rolled_back_with_the_callers_change_is_not_there() -> None:
    def caller() -> None:
        with transaction.atomic():
            queue()
            raise RuntimeError("the caller's change failed")

    with pytest.raises(RuntimeError):
        caller()

    assert not ShopifyCall.objects.exists()


@pytest.mark.skipif(bool(django_settings.REDIS_URL), reason="checks the database broker's queue")
def test_the_queued_run_is_the_send_task() -> None:
    shopify_calls_kick()

    [queued] = OrmQ.objects.all()
    assert queued.task["func"] == "integration.shopify.tasks.shopify_calls_send_doorbell"


def test_a_performed_call_is_done_with_its_result() -> None:
    # given a kind whose perform answers
    given: list[tuple[ShopifyClient, ShopifyCall]] = []

    def perform(client: ShopifyClient, call: ShopifyCall) -> dict[str, Any]:
        given.append((client, call))
        return {"job": "gid://shopify/Job/1"}

    call_kind_register("order_cancel", perform)
    call = queue()

    # when the sender runs
    report = shopify_calls_send()

    # then the perform had the shop's client and the call, and the call is done with the result
    assert report.as_dict() == {"done": 1, "retried": 0, "dead": 0, "stopped": ""}
    [(client, performed)] = given
    assert (client.shop, performed.pk, performed.attempts) == ("test-shop.myshopify.com", call.pk, 1)
    call.refresh_from_db()
    assert (call.state, call.result, call.done_at, call.last_error) == (
        "done",
        {"job": "gid://shopify/Job/1"},
        TUESDAY,
        "",
    )
    assert shopify_calls_send().as_dict() == {"done": 0, "retried": 0, "dead": 0, "stopped": ""}


@pytest.mark.parametrize(
    ("raised", "error"),
    [
        (CallRetry("the fulfillment order is not open yet"), "the fulfillment order is not open yet"),
        (
            ShopifyUnavailable("HTTP 503 (after 4 attempts)"),
            "Shopify unavailable: HTTP 503 (after 4 attempts)",
        ),
        (KeyError("order"), "KeyError: 'order'"),
    ],
)
def test_a_call_that_cannot_go_now_is_retried_later_with_backoff(raised: Exception, error: str) -> None:
    # given a perform that cannot send now
    def perform(client: ShopifyClient, call: ShopifyCall) -> dict[str, Any]:
        raise raised

    call_kind_register("order_cancel", perform)
    call = queue()

    # when the sender runs
    report = shopify_calls_send()

    # then the call waits, saying why, due again within the first backoff, not before a second
    assert report.retried == 1
    call.refresh_from_db()
    assert (call.state, call.attempts, call.last_error) == ("pending", 1, error)
    assert TUESDAY + timedelta(seconds=1) <= call.next_attempt_at <= TUESDAY + timedelta(seconds=30)
    assert shopify_calls_send().retried == 0  # not due yet


def test_the_backoff_is_full_jitter_under_a_doubling_ceiling_and_the_cap(settings: Settings) -> None:
    settings.SHOPIFY_CALL_RETRY_BASE_SECONDS = 30
    settings.SHOPIFY_CALL_RETRY_MAX_SECONDS = 3600

    for attempts, ceiling in ((1, 30), (2, 60), (4, 240), (8, 3600), (30, 3600)):
        delays = [call_backoff(attempts).total_seconds() for _ in range(200)]
        assert all(1 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2  # spread over the whole range, not a fixed delay


def test_a_refused_call_is_dead_at_once_and_alerted() -> None:
    def perform(client: ShopifyClient, call: ShopifyCall) -> dict[str, Any]:
        raise CallRefused("the order is already cancelled in Shopify")

    call_kind_register("order_cancel", perform)
    call = queue()

    assert shopify_calls_send().dead == 1

    call.refresh_from_db()
    assert (call.state, call.attempts, call.last_error) == (
        "dead",
        1,
        "refused: the order is already cancelled in Shopify",
    )  # stored in English; shown in the reader's language (the French in test_admin.py)
    alert = Alert.objects.get(kind="shopify_call_dead")
    assert (alert.subject, alert.severity) == ("order_cancel SHP1001", "warning")
    assert alert.message == (
        f"Shopify call order_cancel of SHP1001 (#{call.pk}) is dead: refused: the order is already cancelled in "
        "Shopify; retry it from the admin (Calls to Shopify) once the cause is fixed"
    )
    with translation.override("fr"):
        assert stored_text_translated(alert.message) == (
            f"L'appel à Shopify order_cancel de SHP1001 (#{call.pk}) est abandonné : refusé : the order is already "
            "cancelled in Shopify ; relancez-le depuis l'admin (Appels à Shopify) une fois la cause corrigée"
        )


def test_a_call_is_dead_after_its_attempts_then_retried_by_staff(
    clock: time_machine.Coordinates, settings: Settings
) -> None:
    # given three attempts allowed and a Shopify that keeps failing
    settings.SHOPIFY_CALL_MAX_ATTEMPTS = 3
    outcome: dict[str, Any] = {"raise": ShopifyUnavailable("timeout (ReadTimeout) (after 4 attempts)")}

    def perform(client: ShopifyClient, call: ShopifyCall) -> dict[str, Any]:
        if outcome["raise"]:
            raise outcome["raise"]
        return {"ok": True}

    call_kind_register("order_cancel", perform)
    call = queue()

    # when the sender runs every hour for a day
    for _ in range(24):
        shopify_calls_send()
        clock.shift(timedelta(hours=1))

    # then the call was tried three times, is dead, and a critical alert says so
    call.refresh_from_db()
    assert (call.state, call.attempts) == ("dead", 3)
    assert call.last_error == "Shopify unavailable: timeout (ReadTimeout) (after 4 attempts) (given up after 3 attempts)"
    with translation.override("fr"):
        assert stored_text_translated(call.last_error) == (
            "Shopify indisponible : timeout (ReadTimeout) (after 4 attempts) (abandonné après 3 tentatives)"
        )
    assert Alert.objects.get(kind="shopify_call_dead").severity == "critical"

    # when Shopify is back and staff retry it
    outcome["raise"] = None
    retried = shopify_call_retry(call)
    report = shopify_calls_send()

    # then it is sent once more, with the same idempotency key, and done
    assert (retried.state, report.done) == ("pending", 1)
    done = ShopifyCall.objects.get()
    assert (done.state, done.attempts, done.idempotency_key) == ("done", 4, call.idempotency_key)

    # and a done call is not retried again
    with pytest.raises(CallActionRefused, match="seul un appel abandonné se relance"):
        shopify_call_retry(done)


def test_a_pending_call_cancelled_by_staff_is_never_sent() -> None:
    sent: list[int] = []
    call_kind_register("order_cancel", lambda client, call: sent.append(call.pk) or {})  # type: ignore[func-returns-value]
    call = queue()

    cancelled = shopify_call_cancel(call, note="annulée à la main dans Shopify")
    report = shopify_calls_send()

    assert (cancelled.state, cancelled.done_at) == ("cancelled", TUESDAY)
    assert cancelled.last_error == "cancelled on 2026-11-24 10:00: annulée à la main dans Shopify"
    assert (report.done, sent) == (0, [])


def test_a_claimed_call_is_leased_and_taken_again_once_its_lease_ends(
    clock: time_machine.Coordinates,
) -> None:
    # given a call claimed by a worker that then stopped mid-call (its perform never returned here)
    call = queue()
    claimed = _claim(TUESDAY)
    assert claimed is not None

    # then no other run takes it during the lease
    seen: list[str] = []
    call_kind_register("order_cancel", lambda client, c: seen.append(c.idempotency_key) or {})  # type: ignore[func-returns-value]
    assert shopify_calls_send().done == 0

    # and once the lease has ended, it is performed again with the same idempotency key
    clock.shift(timedelta(seconds=django_settings.SHOPIFY_CALL_LEASE_SECONDS + 1))
    assert shopify_calls_send().done == 1
    assert seen == [call.idempotency_key]
    call.refresh_from_db()
    assert call.attempts == 2


def test_an_unknown_kind_waits_for_its_perform() -> None:
    call = queue(kind="not_registered")

    shopify_calls_send()

    call.refresh_from_db()
    assert (call.state, call.last_error) == ("pending", "no perform registered for the kind not_registered")


def test_without_shopify_configured_nothing_is_sent(settings: Settings) -> None:
    settings.SHOPIFY_SHOP = ""
    queue()

    assert shopify_calls_send().stopped == "Shopify is not configured (SHOPIFY_SHOP)"
    assert ShopifyCall.objects.get().attempts == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_never_perform_the_same_call_twice() -> None:
    """On PostgreSQL the claim skips locked rows; each call is performed exactly once."""
    # given 40 calls and a perform that records who performed what
    with time_machine.travel(TUESDAY, tick=False):
        for n in range(40):
            queue(subject=f"SHP{n:04d}")
    performed: list[int] = []
    lock = threading.Lock()
    other_started = threading.Event()  # the first perform waits until the other sender performs too

    def perform(client: ShopifyClient, call: ShopifyCall) -> dict[str, Any]:
        with lock:
            performed.append(call.pk)
            first = len(performed) == 1
        if first:
            other_started.wait(timeout=30)
        else:
            other_started.set()
        return {}

    call_kind_register("order_cancel", perform)

    def sender() -> dict[str, object]:
        return shopify_calls_send(now=TUESDAY).as_dict()

    # when two senders run at once
    reports = [outcome.get() for outcome in race(sender, [()] * 2, timeout=60)]

    # then every call was performed once, and the two runs shared them
    assert other_started.is_set()
    assert sorted(performed) == sorted(ShopifyCall.objects.values_list("pk", flat=True))
    done = [r["done"] for r in reports]
    assert sum(done) == 40  # type: ignore[arg-type]
    assert all(done)
    assert ShopifyCall.objects.filter(state="done").count() == 40
