"""Who owns which field of a product: the one declaration the importers, the admin and the API share.

The AS400 owns what it knows (item number, EAN, price, VAT, status, family, stock); the storefront
owns what sells (title, long description, images, merchandising attributes). An AS400 import never
writes a storefront field, a storefront write never an AS400 field.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class System(StrEnum):
    AS400 = "as400"
    STOREFRONT = "storefront"


PRODUCT_FIELDS: dict[str, System] = {
    "item_number": System.AS400,
    "ean": System.AS400,
    "as400_description": System.AS400,
    "category": System.AS400,
    "price": System.AS400,
    "vat_code": System.AS400,
    "status": System.AS400,
    "as400_changed_on": System.AS400,
    "title": System.STOREFRONT,
    "long_description": System.STOREFRONT,
    "images": System.STOREFRONT,
    "attributes": System.STOREFRONT,
}


class FieldOwnershipError(PermissionError):
    """A write to fields another system owns. ``code`` is the API's stable error code."""

    def __init__(self, writer: System, fields: list[str]) -> None:
        self.writer, self.fields = writer, fields
        owners = sorted({PRODUCT_FIELDS[f].value for f in fields if f in PRODUCT_FIELDS})
        self.code = "field_owned_by_" + "_".join(owners) if owners else "unknown_field"
        super().__init__(
            f"{writer.value} may not write {', '.join(fields)} (owned by {', '.join(owners) or 'nobody'})"
        )


def fields_owned_by(system: System) -> tuple[str, ...]:
    return tuple(name for name, owner in PRODUCT_FIELDS.items() if owner == system)


def check_product_write(writer: System, fields: Iterable[str]) -> None:
    """Refuse a write by ``writer`` to any field it does not own (or that is not declared)."""
    refused = [f for f in fields if PRODUCT_FIELDS.get(f) != writer]
    if refused:
        raise FieldOwnershipError(writer, refused)
