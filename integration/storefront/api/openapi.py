"""The API's OpenAPI schema class: drf-spectacular's, stating what it leaves out.

Kept apart from ``integration.storefront.api.schema`` (the document's hook): DRF imports the schema class
from its settings while views are being imported, so this module imports nothing of ours.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import is_list_serializer


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's, plus ``minItems``/``maxItems`` of a nested ``many=True`` serializer.

    DRF enforces a ListSerializer's ``min_length``/``max_length`` (an order's lines, 1 to 100) but
    spectacular does not describe them; a client reading the document must see the same bounds.
    """

    def _map_serializer_field(self, field: Any, direction: Any, bypass_extensions: bool = False) -> Any:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if is_list_serializer(field) and isinstance(schema, dict) and schema.get("type") == "array":
            if getattr(field, "min_length", None) is not None:
                schema["minItems"] = field.min_length
            if getattr(field, "max_length", None) is not None:
                schema["maxItems"] = field.max_length
        return schema
