"""How a date and time is written in everything storefronts receive: API answers and webhook bodies.

One zone for all of them, UTC, in ISO 8601 with ``Z`` (``2026-11-24T09:12:03.512000Z``), so that a
machine reading them compares and sorts them without knowing where they were made. The API's
renderer (``integration.storefront.api.renderers``) writes every datetime of an answer so; the events'
payloads (``integration.storefront.events.event_emit``), which webhooks carry and the events endpoint lists
as they are, are built with it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone


def wire_datetime(value: datetime) -> str:
    """``value`` in UTC, ISO 8601 with ``Z``; the fraction of a second only when there is one."""
    if timezone.is_naive(value):  # USE_TZ: a naive datetime is the site's time
        value = timezone.make_aware(value)
    return value.astimezone(UTC).isoformat().removesuffix("+00:00") + "Z"
