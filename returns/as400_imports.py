"""What returns write to the AS400: the RTNIMP records of a web return's message, registered with
the outbox at start-up (``returns.apps``)."""

from __future__ import annotations

from typing import Any

from integration.as400.codec import from_datetime
from integration.models import OutboxMessage
from integration.outbox.dispatch import records_register
from orders.models import Order
from orders.selectors import message_orders


def rtnimp_records(messages: list[OutboxMessage]) -> list[dict[str, Any]]:
    """The RTNIMP records of one file's messages, in their order."""
    orders = message_orders(messages)
    return [record for message in messages for record in _return_records(message, orders[message.subject])]


def _return_records(message: OutboxMessage, order: Order) -> list[dict[str, Any]]:
    """The RTNIMP records of one web return, a record per returned line, from its payload."""
    day, clock = from_datetime(message.created_at)
    payload = message.payload
    return [
        {
            "RIWEBN": order.order_number,
            "RIRMA": str(payload["rma"]),
            "RILIGN": int(line["line"]),
            "RIITEM": str(line["item"]),
            "RIQTE": int(line["quantity"]),
            "RIRSN": str(payload.get("reason", "")),
            "RIMAG": int(payload["store"]),
            "RIDATE": day,
            "RITIME": clock,
        }
        for line in payload["lines"]
    ]


def register() -> None:
    records_register(OutboxMessage.Kind.RTNIMP, rtnimp_records)
