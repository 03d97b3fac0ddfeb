"""The Admin API client against the Shopify simulator (a real HTTP server on loopback serving the
same schema): the token grant and its renewal, pacing on the cost, the retries, the errors, the
idempotency key, and the calls sent through it. Only the process clock is frozen; waits are real.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from pytest_django import Settings

from integration.shopify.calls import CallRetry, call_kind_register, shopify_call_queue, shopify_calls_send
from integration.shopify.client import (
    ShopifyAuthError,
    ShopifyClient,
    ShopifyQueryError,
    ShopifyUnavailable,
    shopify_client,
)
from integration.shopify.models import AccessToken, ConnectionState, ShopifyCall
from tests.factories.shopify_connector import SHOP
from tests.moments import TUESDAY

pytestmark = [pytest.mark.django_db, pytest.mark.clock(TUESDAY)]

SUBSCRIPTION = {
    "topic": "ORDERS_CREATE",
    "webhookSubscription": {"uri": "https://platform.example/shopify/webhooks"},
}


# --- The token ---------------------------------------------------------------------------------------


def test_the_first_call_gets_a_token_by_the_client_credentials_grant_and_the_next_reuse_it(
    shopify_sim: Any,
) -> None:
    # given no token yet
    client = shopify_client()

    # when two queries are run
    first = client.execute("shop")
    second = client.execute("shop")

    # then one token was granted, kept for a day, and both answers came
    assert first.data is not None
    assert first.data["shop"]["myshopifyDomain"] == SHOP
    assert second.data == first.data
    token = AccessToken.objects.get()
    assert (token.shop, token.obtained_at, token.expires_at) == (
        SHOP,
        TUESDAY,
        TUESDAY + timedelta(seconds=86399),
    )
    assert len(shopify_sim.tokens) == 1
    # and the connection's state says so, with the bucket as Shopify reported it
    state = ConnectionState.objects.get()
    assert (state.api_version, state.last_call_at, state.last_success_at, state.last_error) == (
        "2026-10",
        TUESDAY,
        TUESDAY,
        "",
    )
    assert state.bucket_maximum == 2000.0
    assert state.bucket_available is not None
    assert 0 < state.bucket_available < 2000.0
    assert state.token_expires_at == TUESDAY + timedelta(seconds=86399)


def test_the_token_is_renewed_an_hour_before_it_expires(
    shopify_sim: Any, clock: time_machine.Coordinates
) -> None:
    # given a token obtained now
    shopify_client().execute("shop")
    first = AccessToken.objects.get().token

    # when a call is made 22 h 59 later, then at 23 h 01
    clock.shift(timedelta(hours=22, minutes=59))
    shopify_client().execute("shop")
    kept = AccessToken.objects.get().token
    clock.shift(timedelta(minutes=2))
    shopify_client().execute("shop")

    # then the first still used the token, the second got a new one
    renewed = AccessToken.objects.get()
    assert kept == first
    assert renewed.token != first
    assert renewed.obtained_at == TUESDAY + timedelta(hours=23, minutes=1)


def test_a_token_refused_by_shopify_is_renewed_once_and_the_call_goes_through(shopify_sim: Any) -> None:
    # given a token we hold that Shopify no longer takes (revoked, or expired early)
    client = shopify_client()
    client.execute("shop")
    revoked = AccessToken.objects.get().token
    shopify_sim.expire_tokens()

    # when a call is made
    answer = client.execute("shop")

    # then it went through with a new token
    assert answer.data is not None
    assert AccessToken.objects.get().token != revoked


def test_wrong_credentials_are_named_and_neither_token_nor_secret_is_logged(
    shopify_sim: Any, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # given a good grant first, then a secret Shopify does not know
    shopify_client().execute("shop")
    token = AccessToken.objects.get().token
    AccessToken.objects.all().delete()
    settings.SHOPIFY_CLIENT_SECRET = "a-wrong-secret-9876"

    # when a call is made
    with pytest.raises(ShopifyAuthError) as refused:
        shopify_client().execute("shop")

    # then the error names Shopify's refusal, and no log line holds a token or a secret
    assert str(refused.value) == (
        "the client credentials grant was refused (HTTP 401): invalid_client "
        "Client authentication failed due to unknown client."
    )
    assert "a-wrong-secret-9876" not in str(refused.value)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Shopify access token obtained" in logged
    for secret in (token, shopify_sim.client_secret, "a-wrong-secret-9876"):
        assert secret not in logged
        assert secret not in repr(shopify_client())
    assert "invalid_client" in ConnectionState.objects.get().last_error


# --- Pacing ------------------------------------------------------------------------------------------


def test_a_shop_with_a_small_bucket_is_paced_and_no_throttled_answer_surfaces(shopify_sim: Any) -> None:
    # given a query's cost (what it asks for, what it takes), and a shop whose bucket holds just what
    # it asks for and restores twice what it takes a second
    cost = shopify_client().execute("locations", {"first": 10}).cost
    assert cost is not None
    requested, actual = float(cost["requestedQueryCost"]), float(cost["actualQueryCost"])
    shopify_sim.fault_throttle(maximum=requested + 1, rate=2 * actual)
    client = shopify_client()

    # when five are run in a row
    answers = [client.execute("locations", {"first": 10}) for _ in range(5)]

    # then every one answered, the client waited for the bucket instead of being throttled
    assert all(a.data is not None for a in answers)
    assert client.waited_seconds > 0
    assert client.throttled_answers == 0
    state = ConnectionState.objects.get()
    assert state.bucket_maximum == requested + 1


def test_a_throttled_answer_waits_for_the_restore_and_is_sent_again(shopify_sim: Any) -> None:
    # given a client that believes the bucket full, and a shop whose bucket is nearly empty
    client = shopify_client()
    requested = float(client.execute("locations", {"first": 10}).cost["requestedQueryCost"])  # type: ignore[index]
    shopify_sim.fault_throttle(maximum=requested + 1, rate=requested)
    shopify_sim.bucket.available = 0.0

    # when it runs the query
    answer = client.execute("locations", {"first": 10})

    # then Shopify throttled it once, it waited, and the answer came
    assert answer.data is not None
    assert client.throttled_answers == 1
    assert client.waited_seconds > 0


# --- Failures ------------------------------------------------------------------------------------------


def test_server_errors_are_retried_and_the_call_then_succeeds(shopify_sim: Any) -> None:
    # given Shopify answering 503 then 502 to the next two requests
    client = shopify_client()
    client.execute("shop")
    shopify_sim.fault_server_errors(1, status=503)
    shopify_sim.fault_server_errors(1, status=502)

    # when a call is made
    answer = client.execute("shop")

    # then it went through after two retries
    assert answer.data is not None
    assert shopify_sim.server_errors == []
    assert ConnectionState.objects.get().last_error == ""


def test_server_errors_past_the_attempts_raise_unavailable(shopify_sim: Any, settings: Settings) -> None:
    settings.SHOPIFY_HTTP_ATTEMPTS = 3
    shopify_client().execute("shop")
    shopify_sim.fault_server_errors(3)

    with pytest.raises(ShopifyUnavailable, match=r"^HTTP 503 \(after 3 attempts\)$"):
        shopify_client().execute("shop")

    state = ConnectionState.objects.get()
    assert (state.last_error, state.last_error_at) == ("shop: HTTP 503 (after 3 attempts)", TUESDAY)


def test_a_slow_shopify_times_out_and_raises_unavailable(shopify_sim: Any, settings: Settings) -> None:
    # given a client that waits half a second for an answer, and a Shopify taking two
    settings.SHOPIFY_TIMEOUT_SECONDS = 0.5
    settings.SHOPIFY_HTTP_ATTEMPTS = 2
    shopify_client().execute("shop")
    shopify_sim.fault_slow(2.0)

    # when a call is made
    with pytest.raises(ShopifyUnavailable, match=r"^timeout \(ReadTimeout\) \(after 2 attempts\)$"):
        shopify_client().execute("shop")

    # then the admin sees why
    assert ConnectionState.objects.get().last_error.startswith("shop: timeout")


def test_graphql_errors_raise_a_query_error_naming_them(shopify_sim: Any) -> None:
    # when a query is sent without a variable it requires
    with pytest.raises(ShopifyQueryError) as refused:
        shopify_client().execute("locations", {})

    # then Shopify's message is the error's, and the errors are kept
    assert (
        str(refused.value)
        == "Variable '$first' has invalid value: Expected a value of non-null type 'Int!' to be provided."
    )
    assert len(refused.value.errors) == 1
    assert ConnectionState.objects.get().last_error == f"locations: {refused.value}"


def test_an_api_version_shopify_does_not_serve_is_a_query_error(shopify_sim: Any, settings: Settings) -> None:
    settings.SHOPIFY_API_VERSION = "2019-01"

    with pytest.raises(ShopifyQueryError, match="HTTP 404"):
        shopify_client().execute("shop")


# --- Idempotency -----------------------------------------------------------------------------------------


def test_a_mutation_sent_twice_with_the_same_key_is_done_once(shopify_sim: Any) -> None:
    # given a client
    client = shopify_client()

    # when the same mutation is sent twice with one key (an answer lost, the call performed again)
    first = client.execute("webhook_subscription_create", SUBSCRIPTION, idempotency_key="call-1")
    second = client.execute("webhook_subscription_create", SUBSCRIPTION, idempotency_key="call-1")

    # then Shopify replayed the first answer and made one subscription
    assert second.data == first.data
    listed = client.execute("webhook_subscriptions", {"first": 50}).data
    assert listed is not None
    assert len(listed["webhookSubscriptions"]["nodes"]) == 1

    # and another key makes another
    other = {**SUBSCRIPTION, "webhookSubscription": {"uri": "https://platform.example/shopify/other"}}
    client.execute("webhook_subscription_create", other, idempotency_key="call-2")
    listed = client.execute("webhook_subscriptions", {"first": 50}).data
    assert listed is not None
    assert len(listed["webhookSubscriptions"]["nodes"]) == 2


# --- Calls through the client ------------------------------------------------------------------------------


def test_a_queued_call_is_sent_to_shopify_with_its_key_and_retried_while_shopify_is_down(
    shopify_sim: Any, settings: Settings, clock: time_machine.Coordinates
) -> None:
    # given a kind that creates a subscription, and Shopify answering 503 for a while
    settings.SHOPIFY_HTTP_ATTEMPTS = 2

    def perform(client: ShopifyClient, call: ShopifyCall) -> dict[str, Any]:
        answer = client.execute(
            "webhook_subscription_create", call.payload, idempotency_key=call.idempotency_key
        )
        assert answer.data is not None
        created = answer.data["webhookSubscriptionCreate"]
        if created["userErrors"]:
            raise CallRetry(str(created["userErrors"]))
        return {"id": created["webhookSubscription"]["id"]}

    call_kind_register("webhook_subscription_create", perform)
    call = shopify_call_queue(
        kind="webhook_subscription_create", subject="ORDERS_CREATE", payload=SUBSCRIPTION, now=TUESDAY
    )
    shopify_client().execute("shop")  # the token, before the outage
    shopify_sim.fault_server_errors(2)

    # when the sender runs during the outage, then once it is over
    down = shopify_calls_send()
    clock.shift(timedelta(hours=2))
    up = shopify_calls_send()

    # then the call waited, then was done with Shopify's id
    assert (down.retried, up.done) == (1, 1)
    call.refresh_from_db()
    assert call.state == "done"
    assert call.result is not None
    assert call.result["id"].startswith("gid://shopify/WebhookSubscription/")
    assert call.attempts == 2


def test_a_bucket_that_never_holds_the_cost_ends_in_unavailable_not_a_loop(shopify_sim: Any) -> None:
    # given a shop whose bucket is smaller than what the query asks for
    client = shopify_client()
    requested = float(client.execute("locations", {"first": 10}).cost["requestedQueryCost"])  # type: ignore[index]
    shopify_sim.fault_throttle(maximum=requested - 1, rate=100.0)

    # when the query is run, then it gives up after a few throttled answers
    with pytest.raises(ShopifyUnavailable, match="^throttled 6 times: the bucket does not refill in time$"):
        client.execute("locations", {"first": 10})
    assert client.throttled_answers == 6
