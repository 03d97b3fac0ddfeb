"""The base of every serializer that reads a JSON body: a key it does not declare is an error.

DRF drops the keys a serializer does not declare, so that a typo (``"qty"`` for ``"quantity"``,
a top-level ``"expires"``) is silently ignored and the request answered as if it were right. A
:class:`BodySerializer` (or a serializer with :class:`RefusesUnknownFields` first among its bases)
refuses them at its own level; its nested serializers, being body serializers too, refuse theirs,
so that every level of a body is checked. Each unknown key is reported as an error of code
:data:`UNKNOWN_FIELD` at its place in the error tree; the exception handler
(``integration.storefront.api.errors``) answers 400 ``unknown_field`` with their paths (``lines[0].qty``).

Query parameters are not read with these: an unknown query parameter is ignored by design.

In the OpenAPI document, every body serializer's object has ``additionalProperties: false``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.settings import api_settings

from integration.storefront.api.codes import ErrorCode

#: The code of an unknown key's error in a serializer's error tree.
UNKNOWN_FIELD = ErrorCode.UNKNOWN_FIELD


class RefusesUnknownFields:
    """A serializer mixin: keys of the object that name no writable field are errors."""

    fields: Any

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return super().to_internal_value(data)  # type: ignore[misc]  # DRF's "not an object"
        known = {name for name, field in self.fields.items() if not field.read_only}
        unknown = [key for key in data if key not in known]
        if not unknown:
            return super().to_internal_value(data)  # type: ignore[misc]
        # The known fields are still read, so that unknown keys nested in them are found too: a
        # client learns every typo of its body at once.
        errors: dict[Any, Any] = {}
        try:
            super().to_internal_value(data)  # type: ignore[misc]
        except serializers.ValidationError as exc:
            detail = exc.detail
            errors = (
                dict(detail) if isinstance(detail, Mapping) else {api_settings.NON_FIELD_ERRORS_KEY: detail}
            )
        for key in unknown:
            errors[key] = [ErrorDetail("No such field.", code=UNKNOWN_FIELD)]
        raise serializers.ValidationError(errors)


class BodySerializer(RefusesUnknownFields, serializers.Serializer):
    """The base of a JSON body's serializer, and of the objects nested in it."""


class BodySchema(OpenApiSerializerExtension):
    """In the OpenAPI document, a body's objects admit no other property (the API refuses them)."""

    target_class = RefusesUnknownFields
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema["additionalProperties"] = False
        return schema
