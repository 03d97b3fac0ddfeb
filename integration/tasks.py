"""django-q2 entry points of the integration app. Tasks call services and hold no logic.

Every scheduled entry point is one run at a time (:func:`one_at_a_time`); a doorbell (a task
queued right after a commit so that the work starts within seconds) has an entry point of its
own, not guarded, as its rows are leased: it runs beside the sweep, never on the same row.
"""

from __future__ import annotations

from integration.as400.sync import exchange_sync
from integration.core.locks import one_at_a_time


@one_at_a_time("AS400 exports sync")
def as400_sync() -> list[str]:
    """Apply every ready ITMMST/STKBAL pair of OUT/ (scheduled every minute)."""
    return exchange_sync().lines()


@one_at_a_time("Outbox dispatch")
def outbox_dispatch() -> dict[str, object]:
    """For each import file: follow up on what was sent (refused, unacknowledged), then send what is pending."""
    from integration.models import OutboxMessage
    from integration.outbox.dispatch import outbox_dispatch as dispatch
    from integration.outbox.dispatch import outbox_follow_up

    summary: dict[str, object] = {}
    # Cancellations first, as the AS400 reads them first (they are for orders it already has).
    for kind in (OutboxMessage.Kind.ORDANN, OutboxMessage.Kind.ORDIMP, OutboxMessage.Kind.RTNIMP):
        follow_up = outbox_follow_up(file=kind)
        report = dispatch(file=kind)
        summary[kind] = {
            "resent": follow_up.resent,
            "files": report.files,
            "messages": report.messages,
            "held": report.held,
        }
    return summary


@one_at_a_time("Webhooks delivery")
def webhooks_deliver() -> dict[str, object]:
    """Send the storefronts' due webhooks (the every-minute sweep)."""
    return webhooks_deliver_doorbell()


def webhooks_deliver_doorbell() -> dict[str, object]:
    """Send the storefronts' due webhooks now (queued after an event is emitted; deliveries are leased)."""
    from integration.storefront.webhooks import webhooks_deliver as deliver

    return deliver().as_dict()
