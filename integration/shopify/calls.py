"""Calls to Shopify as outbox-like messages: queued with the change that causes them, never lost.

:func:`shopify_call_queue` writes a :class:`ShopifyCall` in the caller's transaction (the change and
the call commit together, or neither does) and queues a send run when it commits. What a kind of
call sends is the domain's (:func:`call_kind_register`): ``perform(client, call)`` builds the call
from ``call.payload``, sends it with ``client.execute(..., idempotency_key=call.idempotency_key)``
and returns what to keep as the result. It raises :class:`CallRetry` (or lets
:class:`~integration.shopify.client.ShopifyUnavailable` through) for "not now", and
:class:`CallRefused` for "never".

Each run of :func:`shopify_calls_send` (the task ``integration.shopify.tasks.shopify_calls_send``,
every minute and after a call is queued) repeats:

1. **claim** the next due pending call in a short transaction (``SELECT ... FOR UPDATE SKIP
   LOCKED`` on PostgreSQL; SQLite serialises writers), counting the attempt and pushing its
   ``next_attempt_at`` forward by a lease (``SHOPIFY_CALL_LEASE_SECONDS``) so that no other worker
   takes it meanwhile;
2. **perform** it outside any transaction;
3. **record** what came of it: done with its result; retried after an exponential backoff with
   full jitter; dead at once when refused or when Shopify answers a query error, or after
   ``SHOPIFY_CALL_MAX_ATTEMPTS`` attempts, and alerted. Staff retry (:func:`shopify_call_retry`)
   or cancel (:func:`shopify_call_cancel`) from the admin.

A worker stopped mid-call leaves it to be performed again when its lease ends, with the same
idempotency key: Shopify replays a mutation it already took instead of doing it twice.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from integration.alerts import alert_raise
from integration.core.admin_formats import paris
from integration.core.stored_texts import StoredText
from integration.models import Alert
from integration.shopify.models import ShopifyCall

if TYPE_CHECKING:
    from integration.shopify.client import ShopifyClient

logger = logging.getLogger(__name__)

State = ShopifyCall.State
SEND_TASK = "integration.shopify.tasks.shopify_calls_send_doorbell"  # the schedule runs shopify_calls_send
_MIN_DELAY = timedelta(seconds=1)

# What a call's last_error and its alert say, stored in English and shown in the reader's language
# (integration.core.stored_texts): a refusal's or a retry's reason is a stored text of its own.
REFUSED = StoredText(gettext_noop("refused: {reason}"), texts=("reason",))
UNAVAILABLE = StoredText(gettext_noop("Shopify unavailable: {error}"))
QUERY_REFUSED = StoredText(gettext_noop("query refused by Shopify: {error}"))
NO_PERFORM = StoredText(gettext_noop("no perform registered for the kind {kind}"))
GIVEN_UP = StoredText(gettext_noop("{error} (given up after {attempts} attempts)"), texts=("error",))
CANCELLED = StoredText(gettext_noop("cancelled on {at}"))
CANCELLED_NOTE = StoredText(gettext_noop("cancelled on {at}: {note}"))
DEAD_ALERT = StoredText(gettext_noop(
    "Shopify call {kind} of {subject} (#{pk}) is dead: {error}; retry it from the admin (Calls to Shopify) "
    "once the cause is fixed"
), texts=("error",))


class CallRetry(Exception):
    """Not now: try the call again later (with backoff), while attempts are left."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CallRefused(Exception):
    """Never: the call cannot succeed as it is (dead at once; staff may retry it once fixed)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


Perform = Callable[["ShopifyClient", ShopifyCall], dict[str, Any]]
_performers: dict[str, Perform] = {}


def call_kind_register(kind: str, perform: Perform) -> None:
    """What a call of ``kind`` sends: ``perform(client, call) -> result`` (registered at start-up)."""
    _performers[kind] = perform


# --- Queueing -------------------------------------------------------------------------------------


def shopify_call_queue(*, kind: str, subject: str, payload: dict[str, Any], now: datetime) -> ShopifyCall:
    """A call to send, written in the caller's transaction; a send run is queued when it commits."""
    if not kind or len(kind) > 50:
        raise ValueError(f"a call's kind is 1 to 50 characters: {kind!r}")
    call = ShopifyCall.objects.create(
        kind=kind,
        subject=subject[:100],
        payload=payload,
        idempotency_key=f"{kind}-{uuid.uuid4().hex}"[:100],
        state=State.PENDING,
        next_attempt_at=now,
        created_at=now,
    )
    shopify_calls_kick_after_commit()
    return call


def shopify_calls_kick() -> None:
    """Queue a send run now, so that Shopify hears within seconds (the schedule is the fallback)."""
    try:
        from django_q.tasks import async_task

        async_task(SEND_TASK, task_name="shopify calls send (after a call was queued)")
    except Exception:  # the broker is down: the every-minute schedule sends them
        logger.warning("could not queue a Shopify calls run; the schedule will send them", exc_info=True)


def shopify_calls_kick_after_commit() -> None:
    """Queue one send run when the current transaction commits (once per transaction)."""
    pending = getattr(connection, "run_on_commit", None) or []
    if connection.in_atomic_block and any(entry[1] is shopify_calls_kick for entry in pending):
        return
    transaction.on_commit(shopify_calls_kick, robust=True)


# --- Backoff, claim, record -----------------------------------------------------------------------


def call_backoff(attempts: int) -> timedelta:
    """Full jitter: a random delay up to base × 2^(attempts - 1), at most the cap."""
    base = float(settings.SHOPIFY_CALL_RETRY_BASE_SECONDS)
    cap = float(settings.SHOPIFY_CALL_RETRY_MAX_SECONDS)
    ceiling = min(cap, base * 2 ** min(max(attempts - 1, 0), 32))
    return max(_MIN_DELAY, timedelta(seconds=random.uniform(0, ceiling)))


def _lease() -> timedelta:
    return timedelta(seconds=int(settings.SHOPIFY_CALL_LEASE_SECONDS))


def _claim(now: datetime) -> ShopifyCall | None:
    """The next due pending call, leased to this worker and its attempt counted; None if none."""
    with transaction.atomic():
        query = ShopifyCall.objects.filter(state=State.PENDING, next_attempt_at__lte=now)
        if connection.vendor == "postgresql":
            query = query.select_for_update(skip_locked=True)
        call = query.order_by("next_attempt_at", "id").first()
        if call is None:
            return None
        lease_until = now + _lease()
        ShopifyCall.objects.filter(pk=call.pk).update(next_attempt_at=lease_until, attempts=F("attempts") + 1)
        call.next_attempt_at = lease_until
        call.attempts += 1
        return call


class Outcome:
    DONE = "done"
    RETRY = "retry"
    DEAD = "dead"


def _record(call: ShopifyCall, outcome: str, *, now: datetime, error: str = "", result: Any = None) -> str:
    """Record what came of an attempt; returns the call's state afterwards."""
    max_attempts = int(settings.SHOPIFY_CALL_MAX_ATTEMPTS)
    with transaction.atomic():
        current = ShopifyCall.objects.select_for_update().get(pk=call.pk)
        # Still ours: nobody retried, cancelled or took it over (after our lease ran out) meanwhile.
        ours = current.state == State.PENDING and current.next_attempt_at == call.next_attempt_at
        if outcome == Outcome.DONE:  # it was done at Shopify, whoever else touched it meanwhile
            current.state, current.done_at, current.result, current.last_error = State.DONE, now, result, ""
        elif not ours:
            current.last_error = error
        elif outcome == Outcome.DEAD:
            current.state, current.last_error = State.DEAD, error
        elif current.attempts >= max_attempts:
            current.state = State.DEAD
            current.last_error = GIVEN_UP.format(error=error, attempts=current.attempts)
        else:
            current.last_error = error
            current.next_attempt_at = now + call_backoff(current.attempts)
        current.save(update_fields=["state", "done_at", "result", "last_error", "next_attempt_at"])
    if ours and current.state == State.DEAD:
        exhausted = outcome == Outcome.RETRY
        alert_raise(
            kind="shopify_call_dead",
            subject=f"{current.kind} {current.subject}".strip()[:100],
            severity=Alert.Severity.CRITICAL if exhausted else Alert.Severity.WARNING,
            message=DEAD_ALERT.format(
                kind=current.kind, subject=current.subject or "-", pk=current.pk, error=current.last_error
            ),
            now=now,
        )
    return current.state


def _perform(client: ShopifyClient, call: ShopifyCall) -> tuple[str, str, Any]:
    """Run the kind's perform: (outcome, error, result)."""
    from integration.shopify.client import ShopifyQueryError, ShopifyUnavailable

    perform = _performers.get(call.kind)
    if perform is None:
        return Outcome.RETRY, NO_PERFORM.format(kind=call.kind), None
    try:
        result = perform(client, call)
    except CallRefused as exc:
        return Outcome.DEAD, REFUSED.format(reason=exc.reason), None
    except CallRetry as exc:
        return Outcome.RETRY, exc.reason, None
    except ShopifyUnavailable as exc:
        return Outcome.RETRY, UNAVAILABLE.format(error=exc), None
    except ShopifyQueryError as exc:  # the document or its variables: sending it again changes nothing
        return Outcome.DEAD, QUERY_REFUSED.format(error=exc), None
    except Exception as exc:  # a fault of ours must not leave the call leased for ever
        logger.exception("Shopify call %s #%s failed unexpectedly", call.kind, call.pk)
        return Outcome.RETRY, f"{type(exc).__name__}: {exc}", None
    return Outcome.DONE, "", result if result is not None else {}


# --- The run ----------------------------------------------------------------------------------------


@dataclass
class SendReport:
    done: int = 0
    retried: int = 0
    dead: int = 0
    stopped: str = ""  # why the run stopped with due calls possibly left (the next run goes on)

    def as_dict(self) -> dict[str, object]:
        return {"done": self.done, "retried": self.retried, "dead": self.dead, "stopped": self.stopped}


def shopify_calls_send(
    *,
    now: datetime | None = None,
    client: ShopifyClient | None = None,
    limit: int = 200,
    budget_seconds: float = 60.0,
) -> SendReport:
    """Perform due pending calls, one at a time, until none is due, ``limit`` were tried, or the run
    has taken ``budget_seconds`` (a task must end well within ``Q_TIMEOUT``).

    ``now`` decides what is due and is written on what follows (by default the clock, read once per
    call); ``client`` is built from the settings when a call is due and none is given.
    """
    report = SendReport()
    if not settings.SHOPIFY_SHOP:
        report.stopped = "Shopify is not configured (SHOPIFY_SHOP)"
        return report
    started = time.monotonic()
    built: ShopifyClient | None = None  # made here, so closed here
    try:
        for _ in range(limit):
            if time.monotonic() - started > budget_seconds:
                report.stopped = f"time budget of {budget_seconds:g} s spent"
                break
            at = now or timezone.now()
            call = _claim(at)
            if call is None:
                break
            if client is None:
                from integration.shopify.client import shopify_client

                client = built = shopify_client()
            outcome, error, result = _perform(client, call)
            state = _record(call, outcome, now=at, error=error, result=result)
            if state == State.DONE:
                report.done += 1
            elif state == State.DEAD:
                report.dead += 1
            else:
                report.retried += 1
        else:
            report.stopped = f"limit of {limit} calls reached"
    finally:
        if built is not None:
            built.close()
    if report.done or report.retried or report.dead:
        logger.info("Shopify calls: %s", report.as_dict())
    return report


# --- Staff ---------------------------------------------------------------------------------------------


class CallActionRefused(Exception):
    pass


def shopify_call_retry(call: ShopifyCall, now: datetime | None = None) -> ShopifyCall:
    """Send a dead call again now (staff): pending and due, its attempts and idempotency key kept (a
    retry is one more try: failing again past its attempts, it is dead again at once)."""
    now = now or timezone.now()
    with transaction.atomic():
        current = ShopifyCall.objects.select_for_update().get(pk=call.pk)
        if current.state != State.DEAD:
            raise CallActionRefused(
                gettext("call #{pk} ({kind} {subject}) is {state}: only a dead call is retried").format(
                    pk=current.pk, kind=current.kind, subject=current.subject, state=current.get_state_display().lower()
                )
            )
        current.state, current.next_attempt_at = State.PENDING, now
        current.save(update_fields=["state", "next_attempt_at"])
        shopify_calls_kick_after_commit()
    return current


def shopify_call_cancel(call: ShopifyCall, now: datetime | None = None, *, note: str = "") -> ShopifyCall:
    """Give up a pending or dead call for good (staff): it is never sent (again)."""
    now = now or timezone.now()
    with transaction.atomic():
        current = ShopifyCall.objects.select_for_update().get(pk=call.pk)
        if current.state not in (State.PENDING, State.DEAD):
            raise CallActionRefused(
                gettext("call #{pk} ({kind} {subject}) is {state}: only a pending or dead call is cancelled").format(
                    pk=current.pk, kind=current.kind, subject=current.subject, state=current.get_state_display().lower()
                )
            )
        current.state, current.done_at = State.CANCELLED, now
        with translation.override("en"):  # stored in English, its moment too; shown in the reader's
            at = paris(now)
        current.last_error = CANCELLED_NOTE.format(at=at, note=note) if note else CANCELLED.format(at=at)
        current.save(update_fields=["state", "done_at", "last_error"])
    return current
