"""What orders write to the AS400: the records of an order's ORDIMP and ORDANN messages.

The one home of the ORDIMP field map: which order field is which ORDIMP field
(:data:`FREE_TEXT` for the customer's free text, :data:`GIVEN` for the rest the storefront gives;
:func:`ordimp_given_fields` builds them, for the file and for the checkout's check in
``orders.services``, which encodes them before an order is taken), and how an order becomes its H
and L records. The outbox writes the files
(``integration.outbox.dispatch``) with the builders registered here at start-up (``orders.apps``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from integration.as400.codec import from_datetime
from integration.models import OutboxMessage
from integration.outbox.dispatch import records_register
from orders.models import Order
from orders.selectors import message_orders

#: Order fields → ORDIMP header fields, for free text that is folded in the file (and must then fit).
FREE_TEXT = {
    "last_name": "OHNOM",
    "first_name": "OHPRN",
    "address_line1": "OHADR1",
    "address_line2": "OHADR2",
    "postal_code": "OHCP",
    "city": "OHVIL",
    "phone": "OHTEL",
    "email": "OHMAIL",
}
#: Order fields → ORDIMP header fields the storefront gives, beyond the free text (errors name them).
GIVEN = {"order_number": "OHWEBN", "country": "OHPAYS"}


def ordimp_given_fields(person: Any, *, order_number: str, country: str) -> dict[str, Any]:
    """The header fields of an order that come from the storefront as it gave them: its number,
    country and the customer's free text (``person``: an order, or a checkout's customer)."""
    return {
        "OHTYPE": "H", GIVEN["order_number"]: order_number, GIVEN["country"]: country,
        **{f: getattr(person, name) for name, f in FREE_TEXT.items()},
    }  # fmt: skip


def ordimp_records(messages: list[OutboxMessage]) -> list[dict[str, Any]]:
    """The H and L records of the orders of one file's messages, in their order."""
    orders = message_orders(messages)
    return [record for message in messages for record in ordimp_order_records(orders[message.subject])]


def ordimp_order_records(order: Order) -> list[dict[str, Any]]:
    """The H and L records of one order, as the AS400 expects them (free text folded later).

    Units the customer cancelled before the order left are not sent: each line carries what is left
    of it (a line cancelled whole is left out, the others keep their numbers), and OHNBL and OHTOTL
    count only the lines sent, as the AS400 checks them against the L records.
    """
    day, clock = from_datetime(order.created_at)
    every_line = list(order.lines.select_related("product").order_by("line_number"))
    lines = [line for line in every_line if line.quantity > line.cancelled]
    total = order.total
    if any(line.cancelled for line in every_line):
        total = sum((line.unit_price * (line.quantity - line.cancelled) for line in lines), Decimal(0))
    header = {
        **ordimp_given_fields(order, order_number=order.order_number, country=order.country),
        "OHDATE": day, "OHTIME": clock,
        "OHMODE": "C" if order.delivery == "click_and_collect" else "D", "OHMAGL": order.pickup_location_id,
        "OHTOTL": total, "OHNBL": len(lines),
    }  # fmt: skip
    return [header] + [
        {
            "OLTYPE": "L",
            "OLWEBN": order.order_number,
            "OLLIGN": line.line_number,
            "OLITEM": line.product.item_number,
            "OLQTE": line.quantity - line.cancelled,
            "OLPRIX": line.unit_price,
            "OLMAG": line.location_id,
        }
        for line in lines
    ]


def ordann_records(messages: list[OutboxMessage]) -> list[dict[str, Any]]:
    """One ORDANN record per message: a cancellation of the whole order (line 0) or of units of a line.

    Everything it says was fixed when the cancellation was asked (the message's payload).
    """
    orders = message_orders(messages)
    return [_ordann_record(message, orders[message.subject]) for message in messages]


def _ordann_record(message: OutboxMessage, order: Order) -> dict[str, Any]:
    day, clock = from_datetime(message.created_at)
    payload = message.payload
    return {
        "OAWEBN": order.order_number,
        "OALIGN": int(payload.get("line", 0)),
        "OAQTE": int(payload["quantity"]),
        "OARSN": str(payload.get("reason", "")),
        "OADATE": day,
        "OATIME": clock,
    }


def register() -> None:
    records_register(OutboxMessage.Kind.ORDIMP, ordimp_records, folded=frozenset(FREE_TEXT.values()))
    records_register(OutboxMessage.Kind.ORDANN, ordann_records)
