"""Limits on JSON taken from outside: how deep it nests, how big it is, no NUL character.

Checked without recursion, so that a value nested thousands of levels deep is refused with a
message instead of exhausting Python's stack in whatever reads it next (a serializer, the admin's
JSON widget, ``json.dumps``). PostgreSQL stores no NUL character, in text or in JSON.
"""

from __future__ import annotations

import json
from typing import Any


def json_depth(value: Any) -> int:
    """How deep ``value`` nests: 0 for a scalar, 1 for a flat list or object, and so on."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            stack.extend((inner, depth + 1) for inner in item.values())
        elif isinstance(item, list):
            stack.extend((inner, depth + 1) for inner in item)
        else:
            continue
        deepest = max(deepest, depth + 1)
    return deepest


def json_problem(value: Any, *, max_depth: int, max_bytes: int | None = None) -> str:
    """Why ``value`` may not be kept, as a sentence; ``""`` when it may."""
    depth = json_depth(value)
    if depth > max_depth:
        return f"This nests {depth} levels deep; at most {max_depth} are allowed."
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "This must not contain NUL characters."
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    if max_bytes is not None:
        size = len(json.dumps(value, ensure_ascii=False).encode())
        if size > max_bytes:
            return f"This is {size} bytes of JSON; at most {max_bytes} are allowed."
    return ""
