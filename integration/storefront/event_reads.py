"""Reads of the storefront events: an order's events for the client that placed it, by cursor.

``GET /api/v1/orders/{order_number}/events/`` lists them for a storefront that polls instead of
(or besides) receiving webhooks: each item is the event's payload, exactly as the webhook carries
it (the webhook body adds only its send ``timestamp``). Events are listed in the order they were
written (their ``id``); the cursor is the last listed id, opaque to the client. An order's events
are written under its row lock (``event_emit`` runs in the transaction that changes the order), so
a later event never commits before an earlier one of the same order, and a cursor skips none.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from integration.models import StorefrontEvent

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
_CURSOR = re.compile(r"ev1:([1-9][0-9]{0,17})")


def event_cursor_encode(event_id: int) -> str:
    return base64.urlsafe_b64encode(f"ev1:{event_id}".encode()).decode().rstrip("=")


def event_cursor_decode(text: str) -> int | None:
    """The event id a cursor stands for, or None if the text is not a cursor this API wrote."""
    if not text or len(text) > 40:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    match = _CURSOR.fullmatch(raw)
    if match is None or event_cursor_encode(int(match[1])) != text:  # one spelling per cursor
        return None
    return int(match[1])


@dataclass(frozen=True)
class EventPage:
    events: list[dict[str, Any]]
    next_cursor: str | None
    has_more: bool


def storefront_events_of_order(
    *, client: str, order_number: str, after: int | None = None, limit: int = DEFAULT_LIMIT
) -> EventPage:
    """The client's events of one order after the cursor's event, oldest first, at most ``limit``.

    ``next_cursor`` is where to go on from: the last listed event, or the given cursor when there is
    nothing new (keep it and ask again later); None only when the order has no event yet.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    query = StorefrontEvent.objects.filter(client=client, order_number=order_number)
    if after is not None:
        query = query.filter(id__gt=after)
    rows = list(query.order_by("id").values_list("id", "payload")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1][0] if rows else after
    return EventPage(
        events=[payload for _, payload in rows],
        next_cursor=event_cursor_encode(last) if last is not None else None,
        has_more=has_more,
    )
