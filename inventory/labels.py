"""How the admin names a product beside its code: « 1000006 · SKU-123 — Perceuse sans fil 18 V ».

Staff know a product by what it is, not by the AS400's item number or the storefront's SKU
alone; every admin line that shows a product (an order's lines, a return's, the stock lists) says
both. The name is the storefront's title, or the AS400's short description while it has none.
"""

from __future__ import annotations

from inventory.models import Product


def product_name(product: Product) -> str:
    """What the product is: its storefront title, else the AS400's description, else its item number."""
    return product.title or product.as400_description or product.item_number


def product_sku(product: Product) -> str:
    """The storefronts' SKU of the product (its mapping's), or its AS400 item number while unmapped."""
    mapping = getattr(product, "mapping", None)
    return mapping.sku if mapping is not None else product.item_number


def product_label(product: Product) -> str:
    """The product's SKU (its item number when it is not mapped) and its name."""
    code = product_sku(product)
    name = product_name(product)
    return code if name == code else f"{code} — {name}"
