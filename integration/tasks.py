"""django-q2 entry points of the integration app. Tasks call services and hold no logic."""

from __future__ import annotations

from integration.sync import exchange_sync


def as400_sync() -> list[str]:
    """Apply every ready ITMMST/STKBAL pair of OUT/ (scheduled every minute)."""
    return exchange_sync().lines()


def outbox_dispatch() -> dict[str, object]:
    """Follow up on the files sent (refused, unacknowledged), then send what is pending (every minute)."""
    from integration.outbox import outbox_dispatch as dispatch
    from integration.outbox import outbox_follow_up

    follow_up = outbox_follow_up()
    report = dispatch()
    return {
        "resent": follow_up.resent,
        "files": report.files,
        "messages": report.messages,
        "held": report.held,
    }
