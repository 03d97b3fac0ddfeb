"""Validators of the catalogue's fields, shared by the model (admin, imports) and the API."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from integration.core.json_limits import json_problem

#: Merchandising attributes: a JSON object of at most this many levels and bytes.
ATTRIBUTES_MAX_DEPTH = 8
ATTRIBUTES_MAX_BYTES = 64 * 1024


def validate_attributes(value: Any) -> None:
    problem = json_problem(value, max_depth=ATTRIBUTES_MAX_DEPTH, max_bytes=ATTRIBUTES_MAX_BYTES)
    if problem:
        raise ValidationError(problem, code="attributes_too_large")
