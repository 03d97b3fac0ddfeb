"""Webhooks to the storefronts: signed, sent by workers, retried with backoff, every attempt recorded.

Each run of :func:`webhooks_deliver` (the django-q2 task ``integration.tasks.webhooks_deliver``,
every minute and right after a transaction that emitted an event commits) repeats, one delivery at
a time:

1. **claim** the next due pending delivery in a short transaction — ``SELECT ... FOR UPDATE SKIP
   LOCKED`` on PostgreSQL, SQLite serialises writers — and push its ``next_attempt_at`` forward by
   a lease, so that no other worker takes it while this one is sending;
2. **send** it outside any transaction: the event's payload plus ``timestamp`` serialised once,
   those exact bytes signed with the client's secret (:func:`webhook_sign`) and POSTed;
3. **record** the attempt (:class:`WebhookAttempt`) and what follows: a 2xx is delivered; 408, 429,
   a 5xx, a timeout or a connection error is tried again after an exponential backoff with full
   jitter (``Retry-After`` honoured on 429 and 503, within the cap) until ``WEBHOOK_MAX_ATTEMPTS``;
   any other 4xx is dead at once (the receiver refuses it: sending it again would change nothing).
   A dead delivery is alerted and staff replay it from the admin (:func:`webhook_replay`).

Delivery is at least once: a worker that dies after the receiver took the event and before the
result is recorded leaves the delivery to be sent again when its lease ends. Receivers dedupe on
``Webhook-Id`` (the event's id, the same on every attempt and replay).

The secret is used for the HMAC only: it is never logged, never put in an attempt, never sent.
"""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from integration.alerts import alert_raise
from integration.core.stored_texts import StoredText
from integration.models import Alert, WebhookAttempt, WebhookDelivery
from integration.storefront.netcheck import host_refusal

logger = logging.getLogger(__name__)

# What a dead delivery's alert says, stored in English and shown in the reader's language
# (integration.core.stored_texts).
DEAD_ALERT = StoredText(gettext_noop(
    "webhook {type} of {order} (delivery #{pk}) to {url} is dead: {error}; replay it from the admin once the "
    "receiver answers in time"
))
DEAD_FIXED_ALERT = StoredText(gettext_noop(
    "webhook {type} of {order} (delivery #{pk}) to {url} is dead: {error}; replay it from the admin "
    "(Webhook deliveries) once the receiver is fixed"
))

State = WebhookDelivery.State

SIGNATURE_PREFIX = "sha256="
USER_AGENT = "retail-integration-platform-webhooks/1.0"
EXCERPT_LENGTH = 500  # WebhookAttempt.response_excerpt
_READ_AT_MOST = 4096  # bytes of a response read for its excerpt: a huge answer is not downloaded
_MIN_DELAY = timedelta(seconds=1)


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


# --- Signing -----------------------------------------------------------------------------------


def webhook_sign(secret: str, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of the raw body, keyed with the secret's UTF-8 bytes."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_verify(
    *,
    secret: str,
    body: bytes,
    signature: str,
    timestamp: str | None = None,
    tolerance_seconds: int | None = 300,
    now: float | None = None,
) -> bool:
    """What a receiver checks: the signature of the raw body and, if given, the timestamp.

    ``signature`` is the ``Webhook-Signature`` header, ``timestamp`` the ``Webhook-Timestamp`` one:
    it must equal the body's ``timestamp`` (which the signature covers) and, unless
    ``tolerance_seconds`` is None, be within that many seconds of ``now`` (an old request replayed).
    """
    expected = webhook_sign(secret, body).encode()
    if not hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace")):
        return False
    if timestamp is None:
        return True
    try:
        sent = int(timestamp)
        in_body = json.loads(body).get("timestamp")
    except (ValueError, AttributeError):
        return False
    if in_body != sent:
        return False
    return tolerance_seconds is None or abs((time.time() if now is None else now) - sent) <= tolerance_seconds


def webhook_body(payload: dict[str, Any], *, timestamp: int) -> bytes:
    """The bytes sent: the event as the events endpoint lists it, plus the send time (unix seconds)."""
    return json.dumps({**payload, "timestamp": timestamp}, ensure_ascii=False, separators=(",", ":")).encode()


def webhook_headers(*, event_id: str, timestamp: int, signature: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Webhook-Id": event_id,
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": signature,
    }


# --- Backoff -----------------------------------------------------------------------------------


def webhook_backoff(attempts: int) -> timedelta:
    """Full jitter: a random delay up to base × 2^(attempts - 1), at most the cap."""
    base = float(_setting("WEBHOOK_RETRY_BASE_SECONDS", 30))
    cap = float(_setting("WEBHOOK_RETRY_MAX_SECONDS", 6 * 3600))
    ceiling = min(cap, base * 2 ** min(max(attempts - 1, 0), 32))
    return max(_MIN_DELAY, timedelta(seconds=random.uniform(0, ceiling)))


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """A ``Retry-After`` header's delay: seconds, or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _retry_delay(attempts: int, status: int | None, retry_after: float | None) -> timedelta:
    if status in (429, 503) and retry_after is not None:
        cap = float(_setting("WEBHOOK_RETRY_MAX_SECONDS", 6 * 3600))
        return max(_MIN_DELAY, timedelta(seconds=min(retry_after, cap)))
    return webhook_backoff(attempts)


def _lease() -> timedelta:
    """Long enough for one send (connect, write and read each have the timeout) and its record."""
    return timedelta(seconds=3 * float(_setting("WEBHOOK_TIMEOUT_SECONDS", 10.0)) + 30)


# --- One attempt ---------------------------------------------------------------------------------


class Outcome:
    DELIVERED = "delivered"
    RETRY = "retry"
    DEAD = "dead"


@dataclass(frozen=True)
class AttemptResult:
    outcome: str
    status: int | None = None
    error: str = ""
    excerpt: str = ""
    duration_ms: int = 0
    retry_after: float | None = None


def _verdict(status: int) -> tuple[str, str]:
    if 200 <= status < 300:
        return Outcome.DELIVERED, ""
    if status in (408, 429) or status >= 500:
        return Outcome.RETRY, f"HTTP {status}"
    if 400 <= status < 500:
        return Outcome.DEAD, f"HTTP {status}: refused by the receiver (not retried)"
    # 1xx, 3xx: a redirect is not followed (the URL must be the endpoint itself); tried again.
    return Outcome.RETRY, f"HTTP {status}: not a success (redirects are not followed)"


def _read_excerpt(response: httpx.Response) -> str:
    data = b""
    for chunk in response.iter_bytes():
        data += chunk
        if len(data) >= _READ_AT_MOST:
            break
    return data[:_READ_AT_MOST].decode("utf-8", "replace")[:EXCERPT_LENGTH]


def _send(http: httpx.Client, url: str, body: bytes, headers: dict[str, str]) -> AttemptResult:
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        with http.stream("POST", url, content=body, headers=headers) as response:
            excerpt = _read_excerpt(response)
            outcome, error = _verdict(response.status_code)
            if response.status_code in (301, 302, 303, 307, 308):
                error += f" (Location: {response.headers.get('Location', '')[:200]})"
            return AttemptResult(
                outcome, response.status_code, error, excerpt, took(),
                retry_after_seconds(response.headers.get("Retry-After")),
            )  # fmt: skip
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        return AttemptResult(Outcome.DEAD, error=f"invalid webhook URL: {exc}", duration_ms=took())
    except httpx.TimeoutException as exc:
        return AttemptResult(Outcome.RETRY, error=f"timeout ({type(exc).__name__})", duration_ms=took())
    except httpx.HTTPError as exc:  # connection refused, reset, DNS, protocol errors...
        return AttemptResult(Outcome.RETRY, error=f"{type(exc).__name__}: {exc}", duration_ms=took())
    except Exception as exc:  # a fault of ours must not leave the delivery leased forever
        logger.exception("webhook send to %s failed unexpectedly", url)
        return AttemptResult(Outcome.RETRY, error=f"{type(exc).__name__}: {exc}", duration_ms=took())


# --- Claim, record ---------------------------------------------------------------------------------


#: Sends started and never finished (the worker was killed mid-send, e.g. by the task timeout while
#: a receiver dripped its answer) after which a delivery is given up rather than tried for ever.
UNFINISHED_SENDS_LIMIT = 3


def _claim(now: datetime, lease_until: datetime) -> WebhookDelivery | None:
    """The next due pending delivery, leased to this worker until ``lease_until``; None if none.

    The claim counts the attempt (``attempts``), so a send that never finishes still counts; a
    delivery whose last ``UNFINISHED_SENDS_LIMIT`` sends never finished is dead, and alerted.
    """
    while True:
        with transaction.atomic():
            query = WebhookDelivery.objects.filter(state=State.PENDING, next_attempt_at__lte=now)
            if connection.vendor == "postgresql":
                query = query.select_for_update(skip_locked=True, of=("self",))
            delivery = query.select_related("event", "client").order_by("next_attempt_at", "id").first()
            if delivery is None:
                return None
            unfinished = delivery.attempts - WebhookAttempt.objects.filter(delivery=delivery).count()
            if unfinished < UNFINISHED_SENDS_LIMIT:
                WebhookDelivery.objects.filter(pk=delivery.pk).update(
                    next_attempt_at=lease_until, attempts=F("attempts") + 1
                )
                delivery.next_attempt_at = lease_until
                delivery.attempts += 1
                return delivery
            error = (
                f"gave up: its last {unfinished} sends never finished (the worker was stopped while the "
                "receiver had not answered)"
            )
            WebhookDelivery.objects.filter(pk=delivery.pk).update(state=State.DEAD, last_error=error)
        alert_raise(
            kind="webhook_dead", subject=delivery.client.name, severity=Alert.Severity.CRITICAL,
            message=DEAD_ALERT.format(
                type=delivery.event.type, order=delivery.event.order_number, pk=delivery.pk, url=delivery.url,
                error=error,
            ),
            now=now,
        )  # fmt: skip


def _why_not_sent(delivery: WebhookDelivery) -> str:
    """Why the delivery can no longer go anywhere, or "" if it can."""
    client, event = delivery.client, delivery.event
    if not client.active:
        return f"not sent: the storefront client {client.name} is deactivated"
    if not client.webhook_url:
        return f"not sent: the storefront client {client.name} has no webhook URL any more"
    if client.webhook_events and event.type not in client.webhook_events:
        return f"not sent: the storefront client {client.name} no longer subscribes to {event.type}"
    if not client.webhook_secret:
        return f"not sent: the storefront client {client.name} has no webhook secret to sign with"
    return ""


def _record(
    delivery: WebhookDelivery, result: AttemptResult, *, now: datetime, url: str, attempted: bool = True
) -> str:
    """Record the attempt and what follows; returns the delivery's state afterwards."""
    max_attempts = int(_setting("WEBHOOK_MAX_ATTEMPTS", 12))
    with transaction.atomic():
        current = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        # Still ours: nobody replayed it or took it over (after our lease ran out) meanwhile.
        ours = current.state == State.PENDING and current.next_attempt_at == delivery.next_attempt_at
        if attempted:
            WebhookAttempt.objects.create(
                delivery=current, at=now, status_code=result.status, error=result.error,
                duration_ms=result.duration_ms, response_excerpt=result.excerpt,
            )  # fmt: skip
        else:
            current.attempts -= 1  # the claim counted a send that did not happen
        current.url = url or current.url
        current.last_status = result.status
        current.last_error = result.error
        if result.outcome == Outcome.DELIVERED:
            current.state, current.delivered_at = State.DELIVERED, now
        elif not ours:
            pass  # whoever replayed it or took it over decides what comes next
        elif result.outcome == Outcome.DEAD:
            current.state = State.DEAD
        elif current.attempts >= max_attempts:
            current.state = State.DEAD
            current.last_error = f"{result.error} (gave up after {current.attempts} attempts)"
        else:
            current.next_attempt_at = now + _retry_delay(current.attempts, result.status, result.retry_after)
        current.save()
    if ours and current.state == State.DEAD:
        event = delivery.event
        exhausted = result.outcome == Outcome.RETRY
        alert_raise(
            kind="webhook_dead",
            subject=delivery.client.name,
            severity=Alert.Severity.CRITICAL if exhausted else Alert.Severity.WARNING,
            message=DEAD_FIXED_ALERT.format(
                type=event.type, order=event.order_number, pk=delivery.pk, url=url or delivery.url,
                error=current.last_error,
            ),
            now=now,
        )
    return current.state


# --- The run ---------------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    stopped: str = ""  # why the run stopped with due deliveries possibly left (the next run goes on)

    def as_dict(self) -> dict[str, object]:
        return {
            "delivered": self.delivered,
            "retried": self.retried,
            "dead": self.dead,
            "stopped": self.stopped,
        }


def webhooks_deliver(
    *, now: datetime | None = None, limit: int = 500, budget_seconds: float = 60.0
) -> DeliveryReport:
    """Send due pending deliveries, one at a time, until none is due, ``limit`` were tried, or the
    run has taken ``budget_seconds`` (a task must end well within ``Q_TIMEOUT``).

    ``now`` fixes the clock that decides what is due and when to retry (tests); by default the real
    one. ``Webhook-Timestamp`` is always the real send time.
    """
    report = DeliveryReport()
    started = time.monotonic()
    timeout = float(_setting("WEBHOOK_TIMEOUT_SECONDS", 10.0))
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as http:
        for _ in range(limit):
            if time.monotonic() - started > budget_seconds:
                report.stopped = f"time budget of {budget_seconds:g} s spent"
                break
            at = now or timezone.now()
            delivery = _claim(at, at + _lease())
            if delivery is None:
                break
            state = _deliver_one(http, delivery, now=at)
            if state == State.DELIVERED:
                report.delivered += 1
            elif state == State.DEAD:
                report.dead += 1
            else:
                report.retried += 1
        else:
            report.stopped = f"limit of {limit} deliveries reached"
    if report.delivered or report.retried or report.dead:
        logger.info("webhooks: %s", report.as_dict())
    return report


def _deliver_one(http: httpx.Client, delivery: WebhookDelivery, *, now: datetime) -> str:
    reason = _why_not_sent(delivery)
    if reason:
        return _record(delivery, AttemptResult(Outcome.DEAD, error=reason), now=now, url="", attempted=False)
    client, event = delivery.client, delivery.event
    target = urlsplit(client.webhook_url)
    refusal = host_refusal(target.hostname or "", resolve=True, port=target.port or 443)
    if refusal:  # set while allowed, or a name that now points inside: never sent there
        error = f"not sent: {refusal} (WEBHOOK_ALLOW_PRIVATE_NETWORKS is off)"
        return _record(delivery, AttemptResult(Outcome.DEAD, error=error), now=now, url="", attempted=False)
    # The signed timestamp is the moment of sending, on the process's clock (what a receiver compares
    # with its own), even when ``now`` was given to make a retry due.
    timestamp = int(time.time())
    body = webhook_body(event.payload, timestamp=timestamp)
    headers = webhook_headers(
        event_id=str(event.event_id), timestamp=timestamp, signature=webhook_sign(client.webhook_secret, body)
    )
    result = _send(http, client.webhook_url, body, headers)
    return _record(delivery, result, now=now, url=client.webhook_url)


# --- Staff and the emitter ---------------------------------------------------------------------------


def webhook_replay(*, delivery: WebhookDelivery, now: datetime | None = None) -> WebhookDelivery:
    """Send a delivery again, whatever its state: pending and due now, its attempts kept.

    The receiver gets the same event (same ``Webhook-Id``) with a new timestamp and signature. A
    replayed delivery that fails again after its attempts are spent is dead again at once (a replay
    is one more try, not a new series); staff see it and can replay it again.
    """
    now = now or timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=State.PENDING,
        next_attempt_at=now,
        # Sends that never finished are forgotten: staff replay once the receiver answers in time.
        attempts=WebhookAttempt.objects.filter(delivery=delivery).count(),
    )
    delivery.refresh_from_db()
    webhooks_kick_after_commit()
    return delivery


def webhooks_kick() -> None:
    """Queue a delivery run now, so that a storefront hears within seconds (the schedule is the fallback)."""
    try:
        from django_q.tasks import async_task

        async_task("integration.tasks.webhooks_deliver_doorbell", task_name="webhooks deliver (after an event)")
    except Exception:  # the broker is down: the every-minute schedule delivers anyway
        logger.warning("could not queue a webhook delivery run; the schedule will send them", exc_info=True)


def webhooks_kick_after_commit() -> None:
    """Queue one delivery run when the current transaction commits (once per transaction)."""
    pending = getattr(connection, "run_on_commit", None) or []
    if connection.in_atomic_block and any(entry[1] is webhooks_kick for entry in pending):
        return
    transaction.on_commit(webhooks_kick, robust=True)
