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

A bulk mutation outlives the task that starts it (a first sync of 50,000 products runs for minutes
at Shopify; a django-q task is stopped at ``Q_TIMEOUT``), so it is a row (:class:`BulkOperation`)
written before each step: made with what it covers (:func:`bulk_operation_create`, in the
domain's transaction), its staged upload's path recorded once uploaded, ``run_at`` before
``bulkOperationRunMutation`` is sent, Shopify's id once it answers. :func:`bulk_operation_advance`
takes it up wherever it stands — uploads or runs it if that was never done (or finds it at
Shopify with ``currentBulkOperation`` if the run was sent but its answer lost), then waits at most
``SHOPIFY_BULK_WAIT_IN_TASK_SECONDS`` — and the domain applies its result in the transaction that
marks it applied (:func:`bulk_operation_applied`). A run that dies, or stops waiting at the bound,
leaves the row to the next run: the schedule's, or the doorbell that the ``bulk_operations/finish``
webhook rings (:func:`bulk_finish_listener_register`) when no one is waiting any more.

A bulk query cannot take variables: the values it needs (a date filter) are written into its text
by :func:`bulk_query_text`, from a document whose placeholders (``${name}``) sit inside GraphQL
strings; the text is validated against the schema again once they are filled.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from integration.shopify.client import GraphQLAnswer, ShopifyError, ShopifyUnavailable, answer_data
from integration.shopify.documents import DocumentInvalid, document, document_errors
from integration.shopify.models import BulkOperation, WebhookEvent
from integration.shopify.webhooks import WebhookMeta, webhook_topic_register

__all__ = [
    "FINISH_TOPIC",
    "BulkFailed",
    "BulkStillRunning",
    "bulk_finish_listener_register",
    "bulk_finish_seen",
    "bulk_lines",
    "bulk_operation_advance",
    "bulk_operation_applied",
    "bulk_operation_claim",
    "bulk_operation_create",
    "bulk_query",
    "bulk_query_text",
    "bulk_wait",
]

logger = logging.getLogger(__name__)

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


class BulkStillRunning(ShopifyUnavailable):
    """The wait's bound passed while Shopify still runs the operation (a later run waits on)."""


# --- The finish webhook ------------------------------------------------------------------------------


_finish_listeners: dict[str, Callable[[], None]] = {}


def bulk_finish_listener_register(purpose: str, listener: Callable[[], None]) -> None:
    """``listener`` is called after the commit of a ``bulk_operations/finish`` of a recorded
    operation of ``purpose`` still to apply (the domain queues the run that applies it)."""
    _finish_listeners[purpose] = listener


def _finished(payload: dict[str, Any], meta: WebhookMeta) -> None:
    """``bulk_operations/finish``: the stored event is what :func:`bulk_wait` sees; an operation of
    ours still to apply learns its status, and its domain is told (no one may be waiting any more)."""
    gid = str(payload.get("admin_graphql_api_id") or "")
    if not gid:
        return
    for operation in BulkOperation.objects.filter(gid=gid, state=BulkOperation.State.RUNNING):
        operation.status = str(payload.get("status") or "").upper()[:20]
        operation.save(update_fields=["status"])
        listener = _finish_listeners.get(operation.purpose)
        if listener is not None:
            transaction.on_commit(listener, robust=True)


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
    read_first: bool = False,
) -> dict[str, Any]:
    """The operation once it has finished (its ``node`` read after the finish webhook, or by the
    fallback poll; at once with ``read_first``); :class:`BulkFailed` unless it COMPLETED,
    :class:`BulkStillRunning` (a ``ShopifyUnavailable``) past ``timeout``."""
    timeout = float(settings.SHOPIFY_BULK_TIMEOUT_SECONDS if timeout is None else timeout)
    poll_seconds = float(settings.SHOPIFY_BULK_POLL_SECONDS if poll_seconds is None else poll_seconds)
    started = last_read = time.monotonic()
    if read_first:
        last_read -= poll_seconds
    while operation.get("status") not in TERMINAL:
        elapsed = time.monotonic() - started
        if elapsed > timeout:
            raise BulkStillRunning(
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


# --- A bulk mutation recorded, taken up by whichever run comes next -------------------------------------


def bulk_operation_create(
    *, purpose: str, covers: list[Any], now: datetime, lease_seconds: float | None = None
) -> BulkOperation:
    """The row of a bulk mutation about to be prepared, leased to the caller (call it in the
    transaction that marks what it covers: both are there, or neither)."""
    lease_seconds = float(settings.SHOPIFY_BULK_LEASE_SECONDS if lease_seconds is None else lease_seconds)
    return BulkOperation.objects.create(
        purpose=purpose, covers=covers, created_at=now,
        leased_until=now + timedelta(seconds=lease_seconds), lease=uuid.uuid4().hex,
    )  # fmt: skip


def bulk_operation_claim(
    *, purpose: str, now: datetime, lease_seconds: float | None = None
) -> BulkOperation | Literal[False] | None:
    """The oldest unfinished operation of ``purpose``, leased to the caller; ``False`` while another
    run's lease holds it (it waits on it), ``None`` when there is none."""
    lease_seconds = float(settings.SHOPIFY_BULK_LEASE_SECONDS if lease_seconds is None else lease_seconds)
    with transaction.atomic():
        operation = (
            BulkOperation.objects.select_for_update()
            .filter(purpose=purpose, state__in=[BulkOperation.State.PREPARING, BulkOperation.State.RUNNING])
            .order_by("pk")
            .first()
        )
        if operation is None:
            return None
        if operation.leased_until is not None and operation.leased_until > now:
            return False
        operation.leased_until = now + timedelta(seconds=lease_seconds)
        operation.lease = uuid.uuid4().hex
        operation.save(update_fields=["leased_until", "lease"])
        return operation


def _save(operation: BulkOperation, *fields: str) -> None:
    """One step of the operation recorded and committed (callers are not in a transaction)."""
    operation.save(update_fields=list(fields))


def _upload(url: str, parameters: list[dict[str, str]], body: bytes) -> None:
    form = {p["name"]: p["value"] for p in parameters}
    response = httpx.post(url, data=form, files={"file": ("lines.jsonl", body, "text/jsonl")}, timeout=120)
    response.raise_for_status()


def _stage(
    client: Client,
    operation: BulkOperation,
    body: Callable[[], bytes],
    upload: Callable[[str, list[dict[str, str]], bytes], None] | None,
    on_call: Callable[[], None] | None,
) -> None:
    if on_call:
        on_call()
    staged = answer_data(
        client.execute(
            "staged_uploads_create",
            {
                "input": [
                    {
                        "resource": "BULK_MUTATION_VARIABLES",
                        "filename": f"{operation.purpose}.jsonl",
                        "mimeType": "text/jsonl",
                        "httpMethod": "POST",
                    }
                ]
            },
        )
    )["stagedUploadsCreate"]
    if staged.get("userErrors") or not staged.get("stagedTargets"):
        raise BulkFailed(f"Shopify refused the staged upload: {staged.get('userErrors')}")
    target = staged["stagedTargets"][0]
    (upload or _upload)(target["url"], target["parameters"], body())
    operation.staged_upload_path = next(
        (p["value"] for p in target["parameters"] if p["name"] == "key"), target.get("resourceUrl") or ""
    )
    _save(operation, "staged_upload_path")


#: How much earlier than our run_at Shopify's createdAt may say an operation started (two clocks).
CLOCK_SKEW = timedelta(minutes=2)


def _started_unheard(client: Client, operation: BulkOperation, on_call: Callable[[], None] | None) -> dict[str, Any] | None:
    """Shopify's bulk mutation that this row's run started, when its answer was lost: the shop's
    latest bulk mutation, created since the run was sent and recorded by no other row."""
    if on_call:
        on_call()
    node = answer_data(client.execute("current_bulk_mutation")).get("currentBulkOperation")
    if not node or operation.run_at is None:
        return None
    created = parse_datetime(str(node.get("createdAt") or ""))
    if created is None or created < operation.run_at - CLOCK_SKEW:
        return None
    if BulkOperation.objects.filter(gid=node["id"]).exclude(pk=operation.pk).exists():
        return None
    return dict(node)


def _release(operation: BulkOperation) -> None:
    """This run stops waiting: the next one takes it up at once (only a dead run's lease must end)."""
    operation.leased_until = None
    _save(operation, "leased_until")


def _fail(operation: BulkOperation, why: str) -> BulkFailed:
    operation.state, operation.last_error = BulkOperation.State.FAILED, why[:2000]
    operation.leased_until = None
    _save(operation, "state", "last_error", "leased_until")
    return BulkFailed(why)


def bulk_operation_advance(
    client: Client,
    operation: BulkOperation,
    *,
    mutation: str,
    body: Callable[[], bytes],
    upload: Callable[[str, list[dict[str, str]], bytes], None] | None = None,
    wait_seconds: float | None = None,
    on_call: Callable[[], None] | None = None,
    now: datetime | None = None,
) -> dict[str, Any] | None:
    """Take the operation up where it stands: upload ``body()`` if that was never done, run
    ``mutation`` (``documents/<name>``) over it if it was never run (or find it at Shopify if the
    run's answer was lost), then wait for it at most ``wait_seconds``
    (``SHOPIFY_BULK_WAIT_IN_TASK_SECONDS``, below ``Q_TIMEOUT``).

    Returns Shopify's finished (COMPLETED) operation, its result still to apply; ``None`` when it
    still runs (the row stays for the next run). :class:`BulkFailed`, the row failed, when Shopify
    refused it or it ended otherwise. Each step is committed before the next is sent; whatever
    stops this run (Shopify unavailable...) releases the operation to the next."""
    try:
        return _advance(client, operation, mutation=mutation, body=body, upload=upload,
                        wait_seconds=wait_seconds, on_call=on_call, now=now)  # fmt: skip
    except Exception:
        if operation.state != BulkOperation.State.FAILED:
            _release(operation)
        raise


def _advance(
    client: Client,
    operation: BulkOperation,
    *,
    mutation: str,
    body: Callable[[], bytes],
    upload: Callable[[str, list[dict[str, str]], bytes], None] | None,
    wait_seconds: float | None,
    on_call: Callable[[], None] | None,
    now: datetime | None,
) -> dict[str, Any] | None:
    now = now or timezone.now()
    wait_seconds = float(settings.SHOPIFY_BULK_WAIT_IN_TASK_SECONDS if wait_seconds is None else wait_seconds)
    node: dict[str, Any] | None = None
    if not operation.gid and operation.run_at is not None:
        node = _started_unheard(client, operation, on_call)
        if node is not None:
            operation.gid, operation.state, operation.status = node["id"], BulkOperation.State.RUNNING, node["status"]
            _save(operation, "gid", "state", "status")
    if not operation.gid:
        if not operation.staged_upload_path:
            _stage(client, operation, body, upload, on_call)
        operation.run_at = now
        _save(operation, "run_at")  # before the call: a lost answer is looked for at Shopify
        if on_call:
            on_call()
        run = answer_data(
            client.execute(
                "bulk_run_mutation",
                {"mutation": document(mutation), "stagedUploadPath": operation.staged_upload_path},
            )
        )["bulkOperationRunMutation"]
        if run.get("userErrors"):
            codes = {e.get("code") for e in run["userErrors"]}
            if "OPERATION_IN_PROGRESS" in codes:  # another of the app's; tried again by the next run
                logger.warning("bulk %s waits: Shopify runs another bulk mutation", operation.pk)
                _release(operation)
                return None
            if "NO_SUCH_FILE" in codes:  # the staged file expired: uploaded again by the next run
                operation.staged_upload_path = ""
                _save(operation, "staged_upload_path")
                _release(operation)
                return None
            raise _fail(operation, f"bulk operation refused: {run['userErrors']}")
        node = dict(run["bulkOperation"])
        operation.gid, operation.state, operation.status = node["id"], BulkOperation.State.RUNNING, node["status"]
        _save(operation, "gid", "state", "status")
    if node is None:
        node = {"id": operation.gid, "status": "RUNNING"}
    try:
        node = bulk_wait(client, node, timeout=wait_seconds, on_call=on_call, read_first=True)
    except BulkStillRunning:
        _release(operation)
        return None
    except BulkFailed as exc:
        raise _fail(operation, str(exc)) from exc
    operation.status, operation.url = node["status"], node.get("url") or ""
    operation.finished_at = parse_datetime(str(node.get("completedAt") or "")) or now
    _save(operation, "status", "url", "finished_at")
    return node


def bulk_operation_applied(operation: BulkOperation, *, now: datetime) -> None:
    """The operation's result is recorded (call it in the transaction that records it)."""
    operation.state, operation.applied_at, operation.leased_until = BulkOperation.State.APPLIED, now, None
    operation.save(update_fields=["state", "applied_at", "leased_until"])
