"""The simulated shop's state and what Shopify does to it (no HTTP, no GraphQL here).

The whole state is one JSON-able dict (ids as string keys) so that the CLI can persist it to a
file; every operation runs under the simulator's lock (taken by the caller).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
CENT = Decimal("0.01")


class ShopError(Exception):
    """A request the shop refuses (the control API answers it as 409 with the message)."""


def gid(kind: str, number: int | str) -> str:
    return f"gid://shopify/{kind}/{number}"


def gid_parse(value: str, kind: str | None = None) -> tuple[str, int] | None:
    match = re.fullmatch(r"gid://shopify/(\w+)/(\d+)(\?.*)?", value or "")
    if not match or (kind and match.group(1) != kind):
        return None
    return match.group(1), int(match.group(2))


def money(value: Any) -> str:
    return str(Decimal(str(value)).quantize(CENT, ROUND_HALF_UP))


def utc_z(moment: dt.datetime) -> str:
    """A GraphQL ``DateTime`` as Shopify gives it ("2026-10-03T20:47:55Z": UTC, seconds, Z)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stamp(moment: dt.datetime) -> str:
    """Shopify's REST time stamps: the shop's zone, seconds, offset."""
    return moment.astimezone(PARIS).replace(microsecond=0).isoformat()


def new_state(shop: str) -> dict[str, Any]:
    return {
        "shop": {"domain": shop, "name": shop.split(".")[0], "email": f"owner@{shop}", "id": 1},
        "next_id": 1_000_000,
        "next_order_number": 1001,
        "locations": {},
        "products": {},
        "variants": {},
        "items": {},
        "levels": {},
        "orders": {},
        "fulfillment_orders": {},
        "fulfillments": {},
        "refunds": {},
        "subscriptions": {},
        "bulk_operations": {},
        "uploads": {},
        "adjustment_groups": {},
    }


class Shop:
    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state
        self._skus: dict[str, list[str]] | None = None  # SKU → variant keys, oldest first, kept by the variant writes
        self._handles: dict[str, str] | None = None  # handle → product key, kept by the product writes

    # --- ids, time ---------------------------------------------------------------------------------

    def next_id(self) -> int:
        self.state["next_id"] += 1
        return int(self.state["next_id"])

    @staticmethod
    def now() -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    @classmethod
    def now_z(cls) -> str:
        """Now as the GraphQL Admin API writes a DateTime: ISO 8601 in UTC, seconds, ``Z``."""
        return utc_z(cls.now())

    # --- locations ---------------------------------------------------------------------------------

    def location_add(
        self, name: str, *, pickup: bool = False, fulfills_online_orders: bool = True, city: str = "Paris"
    ) -> dict[str, Any]:
        for location in self.state["locations"].values():
            if location["name"] == name:
                return dict(location)
        location = {
            "id": self.next_id(),
            "name": name,
            "pickup": pickup,
            "active": True,
            "fulfills_online_orders": fulfills_online_orders,
            "city": city,
        }
        self.state["locations"][str(location["id"])] = location
        # As at Shopify, the items that exist are not stocked at a new location until activated there
        # (inventoryActivate); the variants created from now on are stocked at every location.
        return dict(location)

    def locations_seed(self) -> list[dict[str, Any]]:
        """The warehouse "Entrepôt" and two pickup-capable stores."""
        return [
            self.location_add("Entrepôt", pickup=False),
            self.location_add("Boutique Paris", pickup=True, fulfills_online_orders=False),
            self.location_add("Boutique Lyon", pickup=True, fulfills_online_orders=False, city="Lyon"),
        ]

    def location(self, ref: int | str | None) -> dict[str, Any]:
        if ref is None:
            for location in self.state["locations"].values():
                if location["fulfills_online_orders"] and location["active"]:
                    return location  # type: ignore[no-any-return]
            raise ShopError("no location fulfils online orders (seed the locations first)")
        if isinstance(ref, str) and ref.startswith("gid://"):
            parsed = gid_parse(ref, "Location")
            ref = parsed[1] if parsed else -1
        for location in self.state["locations"].values():
            if str(location["id"]) == str(ref) or location["name"] == ref:
                return location  # type: ignore[no-any-return]
        raise ShopError(f"no location {ref!r}")

    # --- inventory ---------------------------------------------------------------------------------

    def _level(self, item_id: int, location_id: int) -> dict[str, Any]:
        key = f"{item_id}:{location_id}"
        level = self.state["levels"].get(key)
        if level is None:
            level = {
                "item_id": item_id,
                "location_id": location_id,
                "available": 0,
                "committed": 0,
                "on_hand": 0,
                "updated_at": self.now_z(),
            }
            self.state["levels"][key] = level
        return level  # type: ignore[no-any-return]

    def level(self, item_id: int, location_id: int) -> dict[str, Any] | None:
        return self.state["levels"].get(f"{item_id}:{location_id}")  # type: ignore[no-any-return]

    def levels_of_item(self, item_id: int) -> list[dict[str, Any]]:
        """The item's level at each location, looked up by key (not a scan of every level)."""
        levels = self.state["levels"]
        keys = (f"{item_id}:{location_id}" for location_id in self.state["locations"])
        return [levels[key] for key in keys if key in levels]

    def level_change(self, item_id: int, location_id: int, **deltas: int) -> dict[str, Any]:
        level = self._level(item_id, location_id)
        for name, delta in deltas.items():
            level[name] += delta
        level["updated_at"] = self.now_z()
        return level

    def inventory_set_quantities(
        self, data: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """Shopify's inventorySetQuantities: all quantities or none, compare-and-set on
        changeFromQuantity. Returns (adjustment group, user errors)."""
        name, reason = data["name"], data["reason"]
        errors: list[dict[str, Any]] = []
        if name not in ("available", "on_hand"):
            errors.append(
                {
                    "field": ["input", "name"],
                    "code": "INVALID_NAME",
                    "message": "The quantity name must be either 'available' or 'on_hand'.",
                }
            )
        if reason not in REASONS:
            errors.append(
                {
                    "field": ["input", "reason"],
                    "code": "INVALID_REASON",
                    "message": "The specified reason is invalid.",
                }
            )
        plan: list[tuple[dict[str, Any], int]] = []
        seen: set[tuple[int, int]] = set()
        for index, row in enumerate(data["quantities"]):
            field = ["input", "quantities", str(index)]
            item = gid_parse(row["inventoryItemId"], "InventoryItem")
            location = gid_parse(row["locationId"], "Location")
            if not item or str(item[1]) not in self.state["items"]:
                errors.append(
                    {
                        "field": [*field, "inventoryItemId"],
                        "code": "INVALID_INVENTORY_ITEM",
                        "message": "The specified inventory item could not be found.",
                    }
                )
                continue
            if not location or str(location[1]) not in self.state["locations"]:
                errors.append(
                    {
                        "field": [*field, "locationId"],
                        "code": "INVALID_LOCATION",
                        "message": "The specified location could not be found.",
                    }
                )
                continue
            if (item[1], location[1]) in seen:
                errors.append(
                    {
                        "field": field,
                        "code": "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                        "message": "The combination of inventoryItemId and locationId must be unique.",
                    }
                )
                continue
            seen.add((item[1], location[1]))
            level = self.level(item[1], location[1])
            if level is None:
                errors.append(
                    {
                        "field": [*field, "locationId"],
                        "code": "ITEM_NOT_STOCKED_AT_LOCATION",
                        "message": "The specified inventory item is not stocked at the location.",
                    }
                )
                continue
            if row["quantity"] < 0:
                errors.append(
                    {
                        "field": [*field, "quantity"],
                        "code": "INVALID_QUANTITY_NEGATIVE",
                        "message": "The quantity can't be negative.",
                    }
                )
                continue
            if "changeFromQuantity" not in row:  # mandatory since 2026-04: a value, or null to skip
                errors.append(
                    {
                        "field": [*field, "changeFromQuantity"],
                        "code": None,
                        "message": "changeFromQuantity must be given (null to skip the compare).",
                    }
                )
                continue
            expected = row["changeFromQuantity"]
            if expected is not None and expected != level[name]:
                errors.append(
                    {
                        "field": [*field, "changeFromQuantity"],
                        "code": "CHANGE_FROM_QUANTITY_STALE",
                        "message": "The changeFromQuantity does not match the quantity currently stored.",
                    }
                )
                continue
            plan.append((level, row["quantity"]))
        if errors:
            return None, errors
        changes = []
        for level, quantity in plan:
            delta = quantity - level[name]
            other = "on_hand" if name == "available" else "available"
            self.level_change(level["item_id"], level["location_id"], **{name: delta, other: delta})
            changes.append(
                {
                    "name": name,
                    "delta": delta,
                    "quantityAfterChange": level[name],
                    "item_id": level["item_id"],
                    "location_id": level["location_id"],
                }
            )
            if delta:
                changes.append(
                    {
                        "name": other,
                        "delta": delta,
                        "quantityAfterChange": level[other],
                        "item_id": level["item_id"],
                        "location_id": level["location_id"],
                    }
                )
        group = {
            "id": self.next_id(),
            "created_at": self.now_z(),
            "reason": reason,
            "reference_document_uri": data.get("referenceDocumentUri"),
            "changes": changes,
        }
        self.state["adjustment_groups"][str(group["id"])] = group
        return group, []

    # --- products ----------------------------------------------------------------------------------

    def variants_by_sku(self, sku: str) -> list[dict[str, Any]]:
        """Every variant holding this SKU, oldest first, through an index (a first sync of 50,000
        products looks every SKU up: a scan each time made the simulator's bulk run quadratic).
        Shopify does not make a SKU unique: two products may hold the same one."""
        if self._skus is None:
            self._skus = {}
            for key, v in self.state["variants"].items():
                if v["sku"]:
                    self._skus.setdefault(v["sku"], []).append(key)
        found = [self.state["variants"].get(key) for key in self._skus.get(sku, [])]
        return [v for v in found if v is not None and v["sku"] == sku]

    def product_by_handle(self, handle: str) -> dict[str, Any] | None:
        """The product of this handle (unique per shop), through an index as for SKUs."""
        if self._handles is None:
            self._handles = {p["handle"]: key for key, p in self.state["products"].items()}
        product = self.state["products"].get(self._handles.get(handle, ""))
        return product if product is not None and product["handle"] == handle else None

    def variant_by_sku(self, sku: str) -> dict[str, Any] | None:
        """The oldest variant holding this SKU."""
        found = self.variants_by_sku(sku)
        return found[0] if found else None

    def product_set(
        self, data: dict[str, Any], identifier: dict[str, Any] | None
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]], bool]:
        """Shopify's productSet: creates or updates the product and makes its variants exactly the
        ones given. Returns (product, user errors, created)."""
        now = self.now_z()
        product = None
        ref_id = (identifier or {}).get("id") or data.get("id")
        handle = (identifier or {}).get("handle")  # an upsert by handle (input.handle is no lookup)
        if ref_id:
            parsed = gid_parse(ref_id, "Product")
            product = self.state["products"].get(str(parsed[1])) if parsed else None
            if product is None:
                return (
                    None,
                    [
                        {
                            "field": ["input", "id"],
                            "code": "PRODUCT_DOES_NOT_EXIST",
                            "message": "Product does not exist",
                        }
                    ],
                    False,
                )
        elif handle:
            product = self.product_by_handle(handle)
        created = product is None
        wanted = data.get("handle")
        if wanted:  # unique per shop, validated when given (since 2025-01)
            holder = self.product_by_handle(wanted)
            if holder is not None and (product is None or holder["id"] != product["id"]):
                return (
                    None,
                    [
                        {
                            "field": ["input", "handle"],
                            "code": "DUPLICATED_VALUE",
                            "message": f"Handle '{wanted}' already in use. Please provide a new handle.",
                        }
                    ],
                    False,
                )
        if created and not data.get("title"):
            return (
                None,
                [{"field": ["input", "title"], "code": "INVALID_INPUT", "message": "Title can't be blank"}],
                False,
            )
        variants_in = data.get("variants")
        errors: list[dict[str, Any]] = []
        if variants_in is not None:
            skus = [v.get("sku") for v in variants_in if v.get("sku")]
            for index, variant_in in enumerate(variants_in):
                sku = variant_in.get("sku")
                if sku and skus.count(sku) > 1:
                    errors.append(
                        {
                            "field": ["input", "variants", str(index), "sku"],
                            "code": "DUPLICATED_VALUE",
                            "message": f"SKU {sku} is given twice",
                        }
                    )
                if variant_in.get("barcode") is not None and variant_in.get("barcodes") is not None:
                    errors.append(
                        {
                            "field": ["input", "variants", str(index), "barcodes"],
                            "code": "INVALID_INPUT",
                            "message": "A variant input can't set both barcode and barcodes",
                        }
                    )
                if len(variant_in.get("barcodes") or []) > 20:
                    errors.append(
                        {
                            "field": ["input", "variants", str(index), "barcodes"],
                            "code": "INVALID_INPUT",
                            "message": "A variant accepts up to 20 barcodes",
                        }
                    )
                if variant_in.get("price") is not None:
                    try:
                        Decimal(str(variant_in["price"]))
                    except ArithmeticError:
                        errors.append(
                            {
                                "field": ["input", "variants", str(index), "price"],
                                "code": "INVALID_VARIANT",
                                "message": "Price is invalid",
                            }
                        )
        if errors:
            return None, errors, False
        if product is None:
            product = {
                "id": self.next_id(),
                "title": data["title"],
                "created_at": now,
                "variant_ids": [],
                "handle": data.get("handle") or handle or self._free_handle(_handle(data["title"])),
                "description_html": "",
                "tags": [],
                "vendor": self.state["shop"]["name"],
                "status": "ACTIVE",
            }
            self.state["products"][str(product["id"])] = product
        for key, field in (
            ("title", "title"),
            ("descriptionHtml", "description_html"),
            ("status", "status"),
            ("tags", "tags"),
            ("vendor", "vendor"),
            ("handle", "handle"),
        ):
            if data.get(key) is not None:
                product[field] = data[key]
        if self._handles is not None:
            self._handles[product["handle"]] = str(product["id"])
        product["updated_at"] = now
        if variants_in is not None:
            kept = []
            for position, variant_in in enumerate(variants_in, start=1):
                variant = None
                if variant_in.get("id"):
                    parsed = gid_parse(variant_in["id"], "ProductVariant")
                    variant = self.state["variants"].get(str(parsed[1])) if parsed else None
                if variant is None and variant_in.get("sku"):  # the product's own variant of that SKU
                    variant = next(
                        (v for v in self.variants_by_sku(variant_in["sku"]) if v["product_id"] == product["id"]),
                        None,
                    )
                if variant is None:
                    variant = self._variant_new(product, variant_in)
                self._variant_apply(variant, variant_in, position)
                kept.append(variant["id"])
            for variant_id in product["variant_ids"]:
                if variant_id not in kept:
                    self._variant_delete(variant_id)
            product["variant_ids"] = kept
        return product, [], created

    def _free_handle(self, base: str) -> str:
        """Shopify's handle for a product given none: from its title, ``-1``, ``-2``... once taken."""
        handle, n = base, 0
        while self.product_by_handle(handle) is not None:
            n += 1
            handle = f"{base}-{n}"
        return handle

    def _variant_new(self, product: dict[str, Any], variant_in: dict[str, Any]) -> dict[str, Any]:
        now = self.now_z()
        variant = {
            "id": self.next_id(),
            "product_id": product["id"],
            "sku": None,
            "barcode": None,
            "price": "0.00",
            "taxable": True,
            "inventory_policy": "DENY",
            "title": "Default Title",
            "created_at": now,
            "updated_at": now,
            "position": 1,
        }
        item = {"id": self.next_id(), "variant_id": variant["id"], "tracked": True}
        variant["inventory_item_id"] = item["id"]
        self.state["variants"][str(variant["id"])] = variant
        self.state["items"][str(item["id"])] = item
        for location in self.state["locations"].values():
            self._level(item["id"], location["id"])
        return variant

    def _variant_apply(self, variant: dict[str, Any], variant_in: dict[str, Any], position: int) -> None:
        if variant_in.get("sku") is not None and self._skus is not None and variant_in["sku"] != variant["sku"]:
            key = str(variant["id"])
            if key in self._skus.get(variant["sku"] or "", []):
                self._skus[variant["sku"]].remove(key)
            self._skus.setdefault(variant_in["sku"], []).append(key)
        for key, field in (
            ("sku", "sku"),
            ("barcode", "barcode"),
            ("taxable", "taxable"),
            ("inventoryPolicy", "inventory_policy"),
        ):
            if variant_in.get(key) is not None:
                variant[field] = variant_in[key]
        if variant_in.get("barcodes") is not None:  # the set replaced; barcode reads the first
            variant["barcode"] = next((b["value"] for b in variant_in["barcodes"]), None)
        if variant_in.get("price") is not None:
            variant["price"] = money(variant_in["price"])
        values = [v.get("name") for v in variant_in.get("optionValues") or [] if v.get("name")]
        if values:
            variant["title"] = " / ".join(values)
        variant["position"] = position
        variant["updated_at"] = self.now_z()
        item = self.state["items"][str(variant["inventory_item_id"])]
        tracked = (variant_in.get("inventoryItem") or {}).get("tracked")
        if tracked is not None:
            item["tracked"] = tracked
        for row in variant_in.get("inventoryQuantities") or []:
            location = self.location(row["locationId"])
            level = self._level(item["id"], location["id"])
            name = row["name"] if row["name"] in ("available", "on_hand") else "available"
            delta = row["quantity"] - level[name]
            self.level_change(item["id"], location["id"], available=delta, on_hand=delta)

    def _variant_delete(self, variant_id: int) -> None:
        variant = self.state["variants"].pop(str(variant_id))
        self.state["items"].pop(str(variant["inventory_item_id"]), None)
        for key in [
            k for k, lv in self.state["levels"].items() if lv["item_id"] == variant["inventory_item_id"]
        ]:
            del self.state["levels"][key]

    def product_update_in_admin(self, sku: str, **changes: Any) -> dict[str, Any]:
        variant = self.variant_by_sku(sku)
        if variant is None:
            raise ShopError(f"no variant with SKU {sku!r}")
        product = self.state["products"][str(variant["product_id"])]
        now = self.now_z()
        for key in ("title", "status", "description_html", "tags"):
            if key in changes:
                product[key] = changes[key]
        for key in ("barcode", "taxable"):
            if key in changes:
                variant[key] = changes[key]
        if "price" in changes:
            variant["price"] = money(changes["price"])
        product["updated_at"] = variant["updated_at"] = now
        return product  # type: ignore[no-any-return]


REASONS = {
    "correction", "cycle_count_available", "damaged", "movement_created", "movement_updated",
    "movement_received", "movement_canceled", "other", "promotion", "quality_control", "received",
    "reservation_created", "reservation_deleted", "reservation_updated", "restock", "safety_stock",
    "shrinkage",
}  # fmt: skip


def _handle(title: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-") or "product"
