"""Webhook bodies, REST-shaped as Shopify documents them (tests/fixtures/shopify/<topic>.json)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from integration.shopify.simulator.shop import Shop, gid, stamp


def _t(value: str | None) -> str | None:
    return stamp(dt.datetime.fromisoformat(value)) if value else None


def money_set(amount: str) -> dict[str, Any]:
    return {
        "shop_money": {"amount": amount, "currency_code": "EUR"},
        "presentment_money": {"amount": amount, "currency_code": "EUR"},
    }


def product_payload(shop: Shop, product: dict[str, Any]) -> dict[str, Any]:
    variants = [shop.state["variants"][str(v)] for v in product["variant_ids"]]
    return {
        "admin_graphql_api_id": gid("Product", product["id"]),
        "body_html": product["description_html"],
        "created_at": _t(product["created_at"]),
        "handle": product["handle"],
        "id": product["id"],
        "product_type": "",
        "published_at": _t(product["created_at"]),
        "template_suffix": None,
        "title": product["title"],
        "updated_at": _t(product["updated_at"]),
        "vendor": product["vendor"],
        "status": product["status"].lower(),
        "published_scope": "global",
        "tags": ", ".join(product["tags"]),
        "variants": [
            {
                "admin_graphql_api_id": gid("ProductVariant", v["id"]),
                "barcode": v["barcode"],
                "compare_at_price": None,
                "created_at": _t(v["created_at"]),
                "id": v["id"],
                "inventory_policy": v["inventory_policy"].lower(),
                "position": v["position"],
                "price": v["price"],
                "product_id": product["id"],
                "sku": v["sku"],
                "taxable": v["taxable"],
                "title": v["title"],
                "updated_at": _t(v["updated_at"]),
                "option1": v["title"],
                "option2": None,
                "option3": None,
                "image_id": None,
                "inventory_item_id": v["inventory_item_id"],
                "inventory_quantity": sum(
                    lv["available"] for lv in shop.levels_of_item(v["inventory_item_id"])
                ),
                "old_inventory_quantity": sum(
                    lv["available"] for lv in shop.levels_of_item(v["inventory_item_id"])
                ),
            }
            for v in variants
        ],
        "options": [
            {
                "name": "Title",
                "id": product["id"] + 1,
                "product_id": product["id"],
                "position": 1,
                "values": [v["title"] for v in variants],
            }
        ],
        "images": [],
        "image": None,
        "media": [],
        "variant_gids": [
            {"admin_graphql_api_id": gid("ProductVariant", v["id"]), "updated_at": v["updated_at"]}
            for v in variants
        ],
    }


def bulk_finish_payload(op: dict[str, Any]) -> dict[str, Any]:
    return {
        "admin_graphql_api_id": gid("BulkOperation", op["id"]),
        "completed_at": op.get("completed_at"),
        "created_at": op["created_at"],
        "error_code": (op.get("error_code") or "").lower() or None,
        "status": op["status"].lower(),
        "type": op["type"].lower(),
    }
