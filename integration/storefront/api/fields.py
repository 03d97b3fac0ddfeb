"""Serializer fields that take JSON as typed: a string is a string, a number a number.

DRF's own fields coerce (``12`` becomes the title ``"12"``, ``"5"`` the quantity 5), which hides
client bugs and makes the API accept what its OpenAPI document says it refuses.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": "This must be a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)  # type: ignore[no-any-return]


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"invalid": "This must be an integer."}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, float) and data.is_integer() and abs(data) < 2**63:
            data = int(data)
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)  # type: ignore[no-any-return]
