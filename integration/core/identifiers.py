"""Identifiers that cross to the AS400 or name something in a URL: one alphabet, checked in one place.

An AS400 character field is blank-padded when written and read back without its trailing blanks
(the contract's ``A`` type, ``integration.as400.codec``), and its bytes are those of an EBCDIC code page.
A key that is looked up afterwards (a web order number in ORDACK, ORDSTS, STRRTN, WEBORD; a
storefront client's name in our own tables; either in an API path) must therefore come back
exactly as it went: no blank anywhere (leading or trailing blanks are lost or kept depending on
who reads the field), no control character, nothing a code page may not hold or may fold, nothing
that means something in a URL path (``/``, ``?``, ``%``, ``#``, ``.`` and ``..`` segments).

The alphabet, for every CCSID the codec supports (297, 1147, 37 hold all of it, at different code
points, and give it back unchanged)::

    ^[A-Za-z0-9][A-Za-z0-9._-]{0,N-1}$

ASCII letters and digits first, then letters, digits, ``.``, ``_`` and ``-``; at most N characters
(N: the field's length in the DDS). **Case is kept and significant**: the contract says nothing of
case, and a DDS key without ALTSEQ/SRTSEQ (WEBORD's ``UNIQUE`` key on WOWEBN) compares the bytes,
so ``web-1`` and ``WEB-1`` are two orders at the AS400 as here. Nothing is trimmed, folded or
upper-cased: a value outside the alphabet is refused, never repaired.

Used for web order numbers (``orders.numbers``, 20 characters) and storefront clients' names (64).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

__all__ = ["identifier_pattern", "identifier_problem", "storefront_client_name_validate"]

_FIRST = "A-Za-z0-9"
_REST = "A-Za-z0-9._-"


def identifier_pattern(max_length: int) -> str:
    """The alphabet as a regular expression anchored at both ends (as OpenAPI's ``pattern`` reads it).

    In Python, match it with :func:`re.fullmatch` (as :func:`identifier_problem` does): ``$`` alone
    also matches before a final newline.
    """
    if max_length < 1:
        raise ValueError("an identifier holds at least one character")
    return f"^[{_FIRST}][{_REST}]{{0,{max_length - 1}}}$"


def _regex(max_length: int) -> re.Pattern[str]:
    return re.compile(identifier_pattern(max_length)[1:-1])


def identifier_problem(value: object, max_length: int) -> str | None:
    """Why ``value`` is not an identifier of at most ``max_length`` characters, or None if it is one."""
    if not isinstance(value, str):
        return f"{value!r} is not text"
    if not value:
        return "it is empty"
    if len(value) > max_length:
        return f"it is {len(value)} characters long, at most {max_length} are allowed"
    if _regex(max_length).fullmatch(value):
        return None
    if not re.fullmatch(f"[{_FIRST}]", value[0]):
        return f"it starts with {value[0]!r}; it must start with an ASCII letter or digit"
    bad = next(c for c in value[1:] if not re.fullmatch(f"[{_REST}]", c))
    return f"it holds {bad!r} (U+{ord(bad):04X}); only ASCII letters, digits, '.', '_' and '-' are allowed"


STOREFRONT_CLIENT_NAME_MAX_LENGTH = 64


def storefront_client_name_validate(value: str) -> None:
    """A storefront client's name is an identifier too: orders, reservations and events are looked up by it."""
    problem = identifier_problem(value, STOREFRONT_CLIENT_NAME_MAX_LENGTH)
    if problem is not None:
        raise ValidationError(f"This is not a client name: {problem}.", code="invalid")
