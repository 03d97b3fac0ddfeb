"""Shopify's webhooks in: checked, stored raw once per event, answered at once, applied in a task.

:func:`webhook_receive` (the view ``POST /shopify/webhooks``, :mod:`integration.shopify.views`)
checks ``X-Shopify-Hmac-Sha256`` (the base64 HMAC-SHA256 of the raw body keyed with the app's client
secret) in constant time, then stores the event as it came (:class:`WebhookEvent`, unique on
``X-Shopify-Event-Id``: a second delivery of the same event is answered 200 and changes nothing)
and queues :func:`webhook_event_apply` when the row commits. The view applies nothing, so that it
answers well within Shopify's five seconds; a worker does, and the every-minute sweep
(:func:`webhook_events_sweep`) applies what a stopped worker left and retries failed events while
they have attempts left (``SHOPIFY_WEBHOOK_MAX_ATTEMPTS``).

What a topic means is not this package's: the domain registers a handler per topic at start-up
(:func:`webhook_topic_register`). An event is applied in one transaction with its state: the
handler's writes and ``applied`` commit together; a handler that raises leaves nothing of its work
and the event ``failed`` with the error (alerted once its attempts are spent, replayable by staff:
:func:`webhook_replay`). An event whose topic has no handler is ``ignored``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from integration.alerts import alert_raise
from integration.core.stored_texts import StoredText
from integration.models import Alert
from integration.shopify.models import WebhookEvent

logger = logging.getLogger(__name__)

# What an event's last_error and its alert say, stored in English and shown in the reader's language
# (integration.core.stored_texts).
NO_HANDLER = StoredText(gettext_noop("no handler for the topic {topic}"))
FAILED_ALERT = StoredText(gettext_noop(
    "Shopify webhook {topic} (event {event_id}) failed {attempts} times: {error}; replay it from the admin "
    "(Webhooks received from Shopify) once fixed"
))

State = WebhookEvent.State

#: Events received this long ago and still not applied are the sweep's (before: their own task's).
SWEEP_GRACE = timedelta(seconds=30)
APPLY_TASK = "integration.shopify.tasks.webhook_event_apply"

Handler = Callable[[dict[str, Any], "WebhookMeta"], None]
_handlers: dict[str, Handler] = {}


@dataclass(frozen=True)
class WebhookMeta:
    """What a handler knows of the event besides its payload."""

    event_id: str
    topic: str
    triggered_at: datetime | None
    received_at: datetime
    webhook_id: str = ""
    shop_domain: str = ""
    api_version: str = ""


def webhook_topic_register(topic: str, handler: Handler) -> None:
    """What ``topic`` (``orders/create``...) means: ``handler(payload, meta)``, run in the event's
    transaction (raise to refuse it: nothing of it is kept and the event is failed)."""
    _handlers[topic] = handler


def webhook_topics() -> list[str]:
    """The topics a handler is registered for (the subscriptions to keep at Shopify)."""
    return sorted(_handlers)


# --- The signature ------------------------------------------------------------------------------


def webhook_hmac(secret: str, body: bytes) -> str:
    """Shopify's ``X-Shopify-Hmac-Sha256``: base64 of the HMAC-SHA256 of the raw body, keyed with the secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def webhook_hmac_valid(secret: str, body: bytes, signature: str) -> bool:
    """Whether ``signature`` is the body's, compared in constant time."""
    return hmac.compare_digest(
        webhook_hmac(secret, body).encode(), signature.strip().encode("utf-8", "replace")
    )


# --- Receiving ------------------------------------------------------------------------------------


class WebhookRefused(Exception):
    """A delivery not taken: ``status`` is the HTTP answer (401 unsigned or forged, 400 malformed)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Received:
    event: WebhookEvent
    duplicate: bool  # the event id was already stored: nothing changed


_FRACTION = re.compile(r"(\.\d{6})\d+")


def _parse_moment(value: str) -> datetime | None:
    """``X-Shopify-Triggered-At`` (ISO 8601, sometimes with nanoseconds); None if unreadable."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(_FRACTION.sub(r"\1", value.strip()).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _header(headers: Mapping[str, str], name: str) -> str:
    return (headers.get(name) or "").strip()


def webhook_receive(*, headers: Mapping[str, str], body: bytes, now: datetime | None = None) -> Received:
    """Check and store one delivery (``headers`` case-insensitive, as Django's ``request.headers``).

    Raises :class:`WebhookRefused` naming what is wrong; stores nothing then. Applies nothing: the
    event is applied by a task queued when the row commits.
    """
    now = now or timezone.now()
    secret = settings.SHOPIFY_CLIENT_SECRET
    if not settings.SHOPIFY_SHOP or not secret:
        raise WebhookRefused(503, "Shopify is not configured here (SHOPIFY_SHOP / SHOPIFY_CLIENT_SECRET)")
    signature = _header(headers, "X-Shopify-Hmac-Sha256")
    if not signature:
        raise WebhookRefused(401, "unsigned: the X-Shopify-Hmac-Sha256 header is missing")
    if not webhook_hmac_valid(secret, body, signature):
        raise WebhookRefused(401, "forged or altered: X-Shopify-Hmac-Sha256 does not match the body")
    shop_domain = _header(headers, "X-Shopify-Shop-Domain")
    if shop_domain and shop_domain != settings.SHOPIFY_SHOP:
        raise WebhookRefused(
            401, f"for the shop {shop_domain}, not this platform's ({settings.SHOPIFY_SHOP})"
        )
    topic = _header(headers, "X-Shopify-Topic")
    if not topic:
        raise WebhookRefused(400, "the X-Shopify-Topic header is missing")
    event_id = _header(headers, "X-Shopify-Event-Id")
    if not event_id:
        raise WebhookRefused(400, "the X-Shopify-Event-Id header is missing")
    if len(event_id) > 100 or len(topic) > 100:
        raise WebhookRefused(400, "X-Shopify-Event-Id or X-Shopify-Topic is longer than 100 characters")
    try:
        text = body.decode("utf-8")
        payload = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookRefused(400, f"the body is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise WebhookRefused(400, f"the body is JSON but not an object (a {type(payload).__name__})")
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                event_id=event_id,
                topic=topic,
                webhook_id=_header(headers, "X-Shopify-Webhook-Id")[:100],
                triggered_at=_parse_moment(_header(headers, "X-Shopify-Triggered-At")),
                shop_domain=shop_domain[:255],
                api_version=_header(headers, "X-Shopify-API-Version")[:20],
                body=text,
                received_at=now,
                state=State.RECEIVED,
            )
            transaction.on_commit(lambda: _queue_apply(event.pk), robust=True)
    except IntegrityError:
        existing = WebhookEvent.objects.filter(event_id=event_id).first()
        if existing is None:  # not the unique event id after all
            raise
        return Received(existing, duplicate=True)
    return Received(event, duplicate=False)


def _queue_apply(pk: int) -> None:
    try:
        from django_q.tasks import async_task

        async_task(APPLY_TASK, pk, task_name=f"shopify webhook {pk}")
    except Exception:  # the broker is down: the every-minute sweep applies it
        logger.warning("could not queue Shopify webhook event %s; the sweep will apply it", pk, exc_info=True)


# --- Applying -------------------------------------------------------------------------------------


def _backoff(attempts: int) -> timedelta:
    """Full jitter: up to 30 s × 2^(attempts - 1), at most an hour (at least the next sweep)."""
    ceiling = min(3600.0, 30.0 * 2 ** min(max(attempts - 1, 0), 16))
    return timedelta(seconds=max(60.0, random.uniform(0, ceiling)))


def webhook_event_apply(*, event_id: int, now: datetime | None = None) -> str:
    """Apply one stored event (by primary key) if it is still to apply; returns its state afterwards.

    The row is locked for the whole application, so a task and the sweep never apply it twice.
    """
    now = now or timezone.now()
    max_attempts = int(settings.SHOPIFY_WEBHOOK_MAX_ATTEMPTS)
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is None:
            return ""
        if event.state not in (State.RECEIVED, State.FAILED):
            return event.state
        event.attempts += 1
        handler = _handlers.get(event.topic)
        if handler is None:
            event.state = State.IGNORED
            event.last_error = NO_HANDLER.format(topic=event.topic)
            event.next_attempt_at = None
        else:
            meta = WebhookMeta(
                event_id=event.event_id, topic=event.topic, triggered_at=event.triggered_at,
                received_at=event.received_at, webhook_id=event.webhook_id,
                shop_domain=event.shop_domain, api_version=event.api_version,
            )  # fmt: skip
            try:
                with transaction.atomic():  # a savepoint: a refusal leaves nothing of the handler's work
                    handler(json.loads(event.body), meta)
            except Exception as exc:
                logger.warning(
                    "Shopify webhook %s %s failed: %s", event.topic, event.event_id, exc, exc_info=True
                )
                event.state = State.FAILED
                event.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                event.next_attempt_at = (
                    now + _backoff(event.attempts) if event.attempts < max_attempts else None
                )
            else:
                event.state, event.applied_at, event.last_error, event.next_attempt_at = (
                    State.APPLIED,
                    now,
                    "",
                    None,
                )
        event.save(update_fields=["state", "attempts", "last_error", "next_attempt_at", "applied_at"])
    if event.state == State.FAILED and event.attempts >= max_attempts:
        alert_raise(
            kind="shopify_webhook_failed", subject=event.topic, severity=Alert.Severity.CRITICAL,
            message=FAILED_ALERT.format(
                topic=event.topic, event_id=event.event_id, attempts=event.attempts, error=event.last_error
            ),
            now=now,
        )  # fmt: skip
    return event.state


@dataclass
class SweepReport:
    applied: int = 0
    failed: int = 0
    ignored: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"applied": self.applied, "failed": self.failed, "ignored": self.ignored}


def webhook_events_sweep(
    *, now: datetime | None = None, limit: int = 500, budget_seconds: float = 60.0
) -> SweepReport:
    """Apply the events left received (past a short grace, their own task's) and the failed ones
    due again with attempts left; oldest first, within ``limit`` and ``budget_seconds``."""
    now = now or timezone.now()
    max_attempts = int(settings.SHOPIFY_WEBHOOK_MAX_ATTEMPTS)
    started = time.monotonic()
    report = SweepReport()
    left = WebhookEvent.objects.filter(state=State.RECEIVED, received_at__lte=now - SWEEP_GRACE)
    retry = WebhookEvent.objects.filter(
        state=State.FAILED, attempts__lt=max_attempts, next_attempt_at__lte=now
    )
    ids = list((left | retry).order_by("received_at", "id").values_list("pk", flat=True)[:limit])
    for pk in ids:
        if time.monotonic() - started > budget_seconds:
            break
        state = webhook_event_apply(event_id=pk, now=now)
        if state == State.APPLIED:
            report.applied += 1
        elif state == State.FAILED:
            report.failed += 1
        elif state == State.IGNORED:
            report.ignored += 1
    if ids:
        logger.info("Shopify webhooks sweep: %s", report.as_dict())
    return report


class WebhookReplayRefused(Exception):
    pass


def webhook_replay(event: WebhookEvent, *, now: datetime | None = None) -> WebhookEvent:
    """Apply an event again now (staff, from the admin): a failed one whatever its attempts, or an
    ignored one (its topic may have a handler now). An applied event is refused: applying it twice
    is what the inbox exists to prevent."""
    now = now or timezone.now()
    with transaction.atomic():
        current = WebhookEvent.objects.select_for_update().get(pk=event.pk)
        if current.state == State.APPLIED:
            raise WebhookReplayRefused(
                gettext("event {event} ({topic}) is applied already").format(event=current.event_id, topic=current.topic)
            )
        current.state = State.RECEIVED
        current.save(update_fields=["state"])
    webhook_event_apply(event_id=event.pk, now=now)
    event.refresh_from_db()
    return event
