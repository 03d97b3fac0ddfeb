"""Web order numbers: the storefront's, which become the AS400's web order number as they are.

The rule is :mod:`integration.core.identifiers`' alphabet, ``^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$``: at most
as many characters as the shortest web order number field of the exchange files' DDS (OHWEBN,
OLWEBN, OAWEBN, RIWEBN, AKWEBN, OSWEBN, SRWEBN, WOWEBN: 20 in the contract), case-sensitive,
never trimmed. :func:`order_number_problem` is the one check; the API's serializers (orders and
returns), the checkout service ``order_place`` and the OpenAPI description all use it.
"""

from __future__ import annotations

from integration.as400.dds import load_layout
from integration.core.identifiers import identifier_pattern, identifier_problem
from orders.models import Order

#: Every field that carries the web order number, per exchange file.
WEB_NUMBER_FIELDS = {
    "ORDIMP": ("OHWEBN", "OLWEBN"),
    "ORDANN": ("OAWEBN",),
    "RTNIMP": ("RIWEBN",),
    "ORDACK": ("AKWEBN",),
    "ORDSTS": ("OSWEBN",),
    "STRRTN": ("SRWEBN",),
    "WEBORD": ("WOWEBN",),
}


def _max_length() -> int:
    sizes = [
        f.size
        for file, names in WEB_NUMBER_FIELDS.items()
        for fmt in load_layout(file).formats
        for f in fmt.fields
        if f.name in names
    ]
    model = Order._meta.get_field("order_number").max_length or 20
    return min([model, *sizes])


ORDER_NUMBER_MAX_LENGTH = _max_length()
ORDER_NUMBER_PATTERN = identifier_pattern(ORDER_NUMBER_MAX_LENGTH)
ORDER_NUMBER_RULE = (
    f"1 to {ORDER_NUMBER_MAX_LENGTH} characters: an ASCII letter or digit, then ASCII letters, digits, "
    "'.', '_' or '-' (no blank, no other character); case-sensitive, never trimmed"
)


def order_number_problem(value: object) -> str | None:
    """Why ``value`` cannot be a web order number, or None when it can."""
    return identifier_problem(value, ORDER_NUMBER_MAX_LENGTH)
