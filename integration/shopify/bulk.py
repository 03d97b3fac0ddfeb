"""Shopify's bulk operations: start one, know when it has finished, read its JSONL result.

A bulk operation runs at Shopify, asynchronously: a query over a whole catalogue, or a mutation
run once per line of a staged JSONL upload (:mod:`shopify_channel.catalogue`'s first sync). It
finishes with a ``bulk_operations/finish`` webhook; the webhook may come late or never, so
:func:`bulk_wait` watches for it (the event's row, stored by the webhook endpoint) and polls the
operation (``node(id)``) every ``SHOPIFY_BULK_POLL_SECONDS`` as the fallback: a delivered webhook
ends the wait at once, a lost one costs at most one poll interval. The result is a JSONL file at a
URL that Shopify keeps a week: :func:`bulk_lines` streams it line by line (a 50,000-product
catalogue is never held whole in memory), each line a node with ``__parentId`` naming the node
whose connection it belongs to.

A bulk query cannot take variables: the values it needs (a date filter) are written into its text
by :func:`bulk_query_text`, from a document whose placeholders (``${name}``) sit inside GraphQL
strings; the text is validated against the schema again once they are filled.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import httpx
from django.conf import settings

from integration.shopify.client import GraphQLAnswer, ShopifyError, ShopifyUnavailable, answer_data
from integration.shopify.documents import DocumentInvalid, document, document_errors
from integration.shopify.models import WebhookEvent
from integration.shopify.webhooks import WebhookMeta, webhook_topic_register

__all__ = [
    "FINISH_TOPIC",
    "BulkFailed",
    "bulk_finish_seen",
    "bulk_lines",
    "bulk_query",
    "bulk_query_text",
    "bulk_wait",
]

FINISH_TOPIC = "bulk_operations/finish"
TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELED", "EXPIRED"})
#: How often the wait looks for the finish webhook's row (a cheap local read, no API cost).
WATCH_SECONDS = 0.2
_SAFE_VALUE = re.compile(r"[A-Za-z0-9:._+\- ]*")


class Client(Protocol):
    def execute(
        self, name: str, variables: dict[str, Any] | None = None, *, idempotency_key: str | None = None
    ) -> GraphQLAnswer: ...


class BulkFailed(ShopifyError):
    """A bulk operation Shopify refused to start, or that ended other than COMPLETED (the message
    says which operation and why)."""


# --- The finish webhook ------------------------------------------------------------------------------


def _finished(payload: dict[str, Any], meta: WebhookMeta) -> None:
    """``bulk_operations/finish``: nothing to apply; the stored event is what :func:`bulk_wait` sees."""


def bulk_finish_seen(operation_gid: str) -> bool:
    """Whether the ``bulk_operations/finish`` webhook of this operation has arrived."""
    return WebhookEvent.objects.filter(topic=FINISH_TOPIC, body__contains=f'"{operation_gid}"').exists()


def register() -> None:
    webhook_topic_register(FINISH_TOPIC, _finished)


# --- Waiting and reading -----------------------------------------------------------------------------


def bulk_wait(
    client: Client,
    operation: dict[str, Any],
    *,
    timeout: float | None = None,
    poll_seconds: float | None = None,
    on_call: Callable[[], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """The operation once it has finished (its ``node`` read after the finish webhook, or by the
    fallback poll); :class:`BulkFailed` unless it COMPLETED, ``ShopifyUnavailable`` past ``timeout``."""
    timeout = float(settings.SHOPIFY_BULK_TIMEOUT_SECONDS if timeout is None else timeout)
    poll_seconds = float(settings.SHOPIFY_BULK_POLL_SECONDS if poll_seconds is None else poll_seconds)
    started = last_read = time.monotonic()
    while operation.get("status") not in TERMINAL:
        elapsed = time.monotonic() - started
        if elapsed > timeout:
            raise ShopifyUnavailable(
                f"bulk operation {operation.get('id')} still {operation.get('status')} after {timeout:.0f} s"
            )
        if bulk_finish_seen(operation["id"]) or time.monotonic() - last_read >= poll_seconds:
            if on_call:
                on_call()
            node = answer_data(client.execute("bulk_operation", {"id": operation["id"]})).get("node")
            if node is None:
                raise BulkFailed(f"bulk operation {operation['id']}: Shopify no longer knows it")
            operation, last_read = node, time.monotonic()
            if operation.get("status") in TERMINAL:
                break
        # Also after a read: a finish seen while the node still says RUNNING (or an older
        # operation's finish) must not turn the wait into a read per loop.
        sleep(min(WATCH_SECONDS, poll_seconds))
    if operation["status"] != "COMPLETED":
        raise BulkFailed(
            f"bulk operation {operation['id']} {operation['status']}: {operation.get('errorCode')}"
        )
    return operation


def bulk_lines(operation: dict[str, Any], *, timeout: float = 120.0) -> Iterator[dict[str, Any]]:
    """The finished operation's JSONL result, one object per line, streamed (none when it found
    nothing: Shopify gives no URL then). A line that is not JSON raises naming its number."""
    url = operation.get("url")
    if not url:
        return
    try:
        with httpx.stream("GET", url, timeout=timeout, trust_env=False) as response:
            response.raise_for_status()
            for number, line in enumerate(response.iter_lines(), 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError as exc:
                    raise BulkFailed(
                        f"bulk operation {operation.get('id')}: line {number} of its result is not JSON ({exc})"
                    ) from exc
                if not isinstance(row, dict):
                    raise BulkFailed(f"bulk operation {operation.get('id')}: line {number} is not an object")
                yield row
    except httpx.HTTPError as exc:
        raise ShopifyUnavailable(
            f"bulk operation {operation.get('id')}: its result could not be read ({exc})"
        ) from exc


def bulk_query_text(name: str, **values: str) -> str:
    """The bulk query ``documents/<name>.graphql`` with its ``${key}`` placeholders filled and the
    result validated again (a value may hold letters, digits, spaces and ``:._+-`` only)."""
    text = document(name)
    for key, value in values.items():
        if not _SAFE_VALUE.fullmatch(value):
            raise DocumentInvalid(
                f"{name}.graphql: the value of ${{{key}}} ({value!r}) may not go into a query"
            )
        placeholder = "${" + key + "}"
        if placeholder not in text:
            raise DocumentInvalid(f"{name}.graphql has no placeholder {placeholder}")
        text = text.replace(placeholder, value)
    left = re.findall(r"\$\{(\w+)\}", text)
    if left:
        raise DocumentInvalid(f"{name}.graphql: no value given for {', '.join(sorted(set(left)))}")
    errors = document_errors(text, f"{name}.graphql")
    if errors:
        raise DocumentInvalid(f"{name}.graphql once filled: " + "; ".join(errors))
    return text


def bulk_query(client: Client, text: str, **wait: Any) -> dict[str, Any]:
    """Run the bulk query ``text`` at Shopify and wait for it (see :func:`bulk_wait`); the finished
    operation, to read with :func:`bulk_lines`."""
    run = answer_data(client.execute("bulk_run_query", {"query": text}))["bulkOperationRunQuery"]
    if run.get("userErrors"):
        problems = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in run["userErrors"])
        raise BulkFailed(f"Shopify refused the bulk query: {problems}")
    return bulk_wait(client, run["bulkOperation"], **wait)
