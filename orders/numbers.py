"""Web order numbers: the storefront's, which become the AS400's web order number as they are.

The rule is :mod:`integration.core.identifiers`' alphabet, ``^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$``: at most
as many characters as the shortest web order number field of the exchange files' DDS (OHWEBN,
OLWEBN, OAWEBN, RIWEBN, AKWEBN, OSWEBN, SRWEBN, WOWEBN: 20 in the contract), case-sensitive,
never trimmed. :func:`order_number_problem` is the one check; the API's serializers (orders and
returns), the checkout service ``order_place`` and the OpenAPI description all use it.
"""

from __future__ import annotations

from integration.as400.records import web_order_number_size
from integration.core.identifiers import identifier_pattern, identifier_problem
from orders.models import Order


def _max_length() -> int:
    model = Order._meta.get_field("order_number").max_length or 20
    return min(model, web_order_number_size())


ORDER_NUMBER_MAX_LENGTH = _max_length()
ORDER_NUMBER_PATTERN = identifier_pattern(ORDER_NUMBER_MAX_LENGTH)
ORDER_NUMBER_RULE = (
    f"1 to {ORDER_NUMBER_MAX_LENGTH} characters: an ASCII letter or digit, then ASCII letters, digits, "
    "'.', '_' or '-' (no blank, no other character); case-sensitive, never trimmed"
)


def order_number_problem(value: object) -> str | None:
    """Why ``value`` cannot be a web order number, or None when it can."""
    return identifier_problem(value, ORDER_NUMBER_MAX_LENGTH)
