"""Bulk operations (integration/shopify/bulk.py): the finish webhook ends the wait, the poll is its
fallback, a bulk query's placeholders are filled and checked, a broken result names its line.

Against the Shopify simulator (its bulkOperationRunQuery, its finish webhook sent to a loopback
receiver and relayed to our endpoint as Shopify would post it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from integration.shopify import bulk
from integration.shopify.bulk import BulkFailed, bulk_lines, bulk_query_text, bulk_wait
from integration.shopify.client import ShopifyUnavailable, shopify_client
from integration.shopify.documents import DocumentInvalid, document
from integration.shopify.models import WebhookEvent
from shopify_channel.poll import shopify_subscriptions_ensure
from tests.factories.shopify import SimAdmin
from tests.factories.shopify_channel import Shop
from tests.integration.webhook_receiver import running_receiver
from tests.shopify_channel.flow import ShopifySide, deliver_webhooks

pytestmark = pytest.mark.django_db(transaction=True)


def started(client: Any) -> dict[str, Any]:
    """A bulk query of the whole catalogue, started: the operation as the start answered it."""
    run = client.execute("bulk_run_query", {"query": document("bulk_catalogue_query")}).data
    operation: dict[str, Any] = run["bulkOperationRunQuery"]["bulkOperation"]
    assert operation["status"] in ("CREATED", "RUNNING")
    return operation


@pytest.fixture
def side(shopify_sim: Any, settings: Any) -> Iterator[ShopifySide]:
    bulk.register()  # the connector's own topic (this suite's conftest starts each test with none)
    with running_receiver() as receiver:
        settings.SHOPIFY_WEBHOOK_URL = receiver.url
        shopify_subscriptions_ensure(now=timezone.now())
        yield ShopifySide(shopify_sim, Shop(shopify_sim), receiver)


def test_the_finish_webhook_ends_the_wait_without_polling(side: ShopifySide) -> None:
    # given: a bulk query finished at Shopify, its bulk_operations/finish webhook received by us
    SimAdmin(side.sim).product_create("Bol", {"sku": "BOL-1", "price": "9.90"})
    client = shopify_client()
    operation = started(client)
    side.sim.bulk_wait(operation["id"])
    deliver_webhooks(side)
    assert WebhookEvent.objects.filter(topic="bulk_operations/finish", state="applied").count() == 1

    # when: waiting with a poll interval of an hour
    calls: list[int] = []
    done = bulk_wait(client, operation, poll_seconds=3600, timeout=60, on_call=lambda: calls.append(1))

    # then: one read of the operation, after the webhook, and it is complete with its result
    assert (done["status"], len(calls)) == ("COMPLETED", 1)
    rows = list(bulk_lines(done))
    assert [r["sku"] for r in rows if "sku" in r] == ["BOL-1"]


def test_without_its_webhook_the_wait_polls_and_without_either_it_gives_up(side: ShopifySide) -> None:
    # given: the finish webhooks lost
    side.sim.fault_webhooks("never", count=10)
    client = shopify_client()
    operation = started(client)
    side.sim.bulk_wait(operation["id"])

    # when: waiting with no poll before the timeout
    began = time.monotonic()
    with pytest.raises(ShopifyUnavailable, match="still"):
        bulk_wait(client, operation, poll_seconds=3600, timeout=0.5)

    # then: it waited its timeout out; and with the poll on, the same operation is found complete
    assert time.monotonic() - began >= 0.5
    done = bulk_wait(client, operation, poll_seconds=0.1, timeout=60)
    assert done["status"] == "COMPLETED"
    assert not WebhookEvent.objects.filter(topic="bulk_operations/finish").exists()


def test_a_bulk_querys_placeholders_are_filled_and_the_text_checked_again() -> None:
    text = bulk_query_text("bulk_orders_query", since="2026-12-06T02:00:00Z")
    assert "updated_at:>='2026-12-06T02:00:00Z'" in text

    with pytest.raises(DocumentInvalid, match=r"\$\{since\}.*may not go into a query"):
        bulk_query_text("bulk_orders_query", since="x' OR name:'y")
    with pytest.raises(DocumentInvalid, match="no value given for since"):
        bulk_query_text("bulk_orders_query")
    with pytest.raises(DocumentInvalid, match=r"no placeholder \$\{until\}"):
        bulk_query_text("bulk_orders_query", since="2026-12-06T02:00:00Z", until="x")


@pytest.fixture
def jsonl_server() -> Iterator[str]:
    body = b'{"id": "gid://shopify/Product/1"}\n\n{"id": "gid://shopify/Product/2"\n'

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/result.jsonl"
    finally:
        server.shutdown()
        server.server_close()


def test_a_result_line_that_is_not_json_is_refused_naming_the_line(jsonl_server: str) -> None:
    rows = bulk_lines({"id": "gid://shopify/BulkOperation/7", "url": jsonl_server})

    assert next(rows) == {"id": "gid://shopify/Product/1"}
    with pytest.raises(BulkFailed, match="BulkOperation/7: line 3 of its result is not JSON"):
        next(rows)
    assert list(bulk_lines({"id": "gid://shopify/BulkOperation/8", "url": None})) == []
