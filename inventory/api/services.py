"""Writes the storefront API needs and ``inventory.services`` does not have (yet).

Kept beside the API only until the inventory's owner takes them over.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from integration.core.ownership import System, check_product_write
from inventory.models import Product


@transaction.atomic
def product_content_update(
    *, product: Product, content: Mapping[str, Any], now: datetime | None = None
) -> Product:
    """Write storefront-owned fields of a product; a field the storefront does not own refuses all.

    Refused writes raise :class:`~integration.core.ownership.FieldOwnershipError` before anything is
    written. Only the written fields are validated, so that AS400 data the platform merely
    mirrors never fails a storefront's write.
    """
    check_product_write(System.STOREFRONT, content.keys())
    if not content:
        return product
    for name, value in content.items():
        setattr(product, name, value)
    product.clean_fields(exclude=[f.name for f in Product._meta.fields if f.name not in content])
    product.updated_at = now or timezone.now()
    product.save(update_fields=[*content, "updated_at"])
    return product
