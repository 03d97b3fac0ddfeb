"""The API's validation messages: DRF's default messages, rewritten once as sentences to show.

DRF's defaults read badly in an answer ("Ensure this field has at least 1 elements.", "Invalid
data. Expected a dictionary, but got list."). :func:`sentences` rewrites each message of an error
tree that is one of DRF's templates (:data:`SENTENCES`, keyed by DRF's English text) into ours, with
the same values; the exception handler (``integration.storefront.api.errors``) applies it to every validation
error before it answers. Messages of our own fields and validators are sentences already, and
pass unchanged.

Rewriting the answer rather than each field's ``error_messages`` covers every place DRF builds a
message: the fields, the validators they make at construction (lengths, bounds), the lists of
nested serializers.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import ErrorDetail

DATETIME_EXAMPLE = "2026-11-24T09:30:00Z or 2026-11-24T10:30:00+01:00"

#: DRF's template (its English text, placeholders included) → ours. In ours, ``{n:item|items}``
#: writes the number with the noun it takes ("1 item", "2 items").
SENTENCES: dict[str, str] = {
    # Any field
    "This field is required.": "This field is required.",
    "This field may not be null.": "This field cannot be null.",
    # Text
    "Not a valid string.": "This must be a string.",
    "This field may not be blank.": "This field cannot be empty.",
    "Ensure this field has no more than {max_length} characters.": (
        "This must be at most {max_length:character|characters} long."
    ),
    "Ensure this field has at least {min_length} characters.": (
        "This must be at least {min_length:character|characters} long."
    ),
    "Null characters are not allowed.": "This must not contain NUL characters.",
    "Surrogate characters are not allowed: U+{code_point:X}.": (
        "This must not contain surrogate characters (U+{code_point})."
    ),
    "Enter a valid email address.": "This must be an email address.",
    "Must be a valid UUID.": "This must be a UUID.",
    # Numbers
    "A valid integer is required.": "This must be an integer.",
    "A valid number is required.": "This must be a number.",
    "Ensure this value is less than or equal to {max_value}.": "This must be at most {max_value}.",
    "Ensure this value is greater than or equal to {min_value}.": "This must be at least {min_value}.",
    "String value too large.": "This number is too long.",
    "Ensure that there are no more than {max_digits} digits in total.": (
        "This must have at most {max_digits:digit|digits}."
    ),
    "Ensure that there are no more than {max_decimal_places} decimal places.": (
        "This must have at most {max_decimal_places:decimal place|decimal places}."
    ),
    "Ensure that there are no more than {max_whole_digits} digits before the decimal point.": (
        "This must have at most {max_whole_digits:digit|digits} before the decimal point."
    ),
    # Choices, booleans
    '"{input}" is not a valid choice.': '"{input}" is not one of the values this field takes.',
    "Must be a valid boolean.": "This must be true or false.",
    # Dates and times
    "Datetime has wrong format. Use one of these formats instead: {format}.": (
        f"This must be an ISO 8601 date and time, such as {DATETIME_EXAMPLE}."
    ),
    "Expected a datetime but got a date.": "This must be a date and time, not only a date.",
    'Invalid datetime for the timezone "{timezone}".': "This date and time does not exist in {timezone}.",
    "Datetime value out of range.": "This date and time is out of range.",
    "Date has wrong format. Use one of these formats instead: {format}.": (
        "This must be an ISO 8601 date, such as 2026-11-24."
    ),
    # Objects and lists
    "Invalid data. Expected a dictionary, but got {datatype}.": "This must be a JSON object, not {datatype:json}.",
    'Expected a dictionary of items but got type "{input_type}".': (
        "This must be a JSON object, not {input_type:json}."
    ),
    "This dictionary may not be empty.": "This object cannot be empty.",
    'Expected a list of items but got type "{input_type}".': "This must be a JSON array, not {input_type:json}.",
    "This list may not be empty.": "This list cannot be empty.",
    "Ensure this field has at least {min_length} elements.": "This list needs at least {min_length:item|items}.",
    "Ensure this field has no more than {max_length} elements.": (
        "This list takes at most {max_length:item|items}."
    ),
    "Value must be valid JSON.": "This must be a value JSON can carry.",
}

#: What a Python type's name (in DRF's messages) is in JSON.
JSON_TYPES = {
    "dict": "an object",
    "list": "an array",
    "str": "a string",
    "int": "a number",
    "float": "a number",
    "bool": "a boolean",
    "NoneType": "null",
}


class _Sentence(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "json":
            return JSON_TYPES.get(str(value), str(value))
        if "|" in format_spec:
            one, many = format_spec.split("|", 1)
            return f"{value} {one if str(value) == '1' else many}"
        return super().format_field(value, format_spec)


_PLACEHOLDER = re.compile(r"\{(\w+)(?::[^}]*)?\}")


def _pattern(template: str) -> re.Pattern[str]:
    """A template as a regular expression that captures its values."""
    parts = _PLACEHOLDER.split(template)  # literal, name, literal, name, ..., literal
    regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.*?)" for i, part in enumerate(parts))
    return re.compile(regex, re.DOTALL)


_PATTERNS = [(_pattern(theirs), ours) for theirs, ours in SENTENCES.items()]
_FORMATTER = _Sentence()


def sentence(message: str) -> str:
    """Ours for a message DRF wrote from one of its templates; any other message as it is."""
    for pattern, ours in _PATTERNS:
        match = pattern.fullmatch(message)
        if match:
            return _FORMATTER.format(ours, **match.groupdict())
    return message


def sentences(detail: Any) -> Any:
    """A DRF error tree with each of its messages rewritten by :func:`sentence` (codes kept)."""
    if isinstance(detail, Mapping):
        return {key: sentences(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [sentences(value) for value in detail]
    if isinstance(detail, str):
        return ErrorDetail(sentence(str(detail)), code=getattr(detail, "code", None))
    return detail
