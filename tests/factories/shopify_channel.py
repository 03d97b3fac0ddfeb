"""The Shopify channel's test helpers: the simulator's shop read through the Admin API, its locations mapped.

``Shop(sim)`` maps the simulator's warehouse to our 900 and its first pickup location to our
store 1 (``ShopifyLocation``), and reads Shopify's state the way Shopify tells it: ``product(sku)``
(status, title, variant's sku, barcode, price, taxable) with the ``products_page`` document,
``available(sku, location)`` with ``inventory_levels``; ``checkout(sku, quantity)`` is a Shopify
customer buying at the simulator's checkout. Nothing here stands in for our own code.
"""

from __future__ import annotations

from typing import Any

from integration.shopify.client import ShopifyClient, shopify_client
from shopify_channel.models import ShopifyLocation, ShopifyProduct


class Shop:
    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.client: ShopifyClient = shopify_client()
        nodes = self.client.execute("locations", {"first": 50}).data["locations"]["nodes"]
        pickup = [n for n in nodes if n.get("localPickupSettingsV2")]
        shipping = [n for n in nodes if not n.get("localPickupSettingsV2")]
        self.warehouse = shipping[0]["id"]
        self.store = pickup[0]["id"] if pickup else None
        self.gid = {900: self.warehouse, 1: self.store}

    def map_locations(self) -> None:
        ShopifyLocation.objects.create(location_id=900, shopify_location_id=self.warehouse)
        if self.store:
            ShopifyLocation.objects.create(location_id=1, shopify_location_id=self.store, pickup=True)

    def products(self) -> dict[str, dict[str, Any]]:
        """Every product in the shop by its variant's SKU (the simulator's state, read under its lock)."""
        with self.sim.lock:
            state = self.sim.shop.state
            out: dict[str, dict[str, Any]] = {}
            for product in state["products"].values():
                for variant_id in product["variant_ids"]:
                    variant = state["variants"][str(variant_id)]
                    out[variant["sku"]] = {
                        "id": f"gid://shopify/Product/{product['id']}", "status": product["status"],
                        "title": product["title"], "barcode": variant["barcode"], "price": str(variant["price"]),
                        "taxable": variant["taxable"], "item": f"gid://shopify/InventoryItem/{variant['inventory_item_id']}",
                    }  # fmt: skip
            return out

    def product(self, sku: str) -> dict[str, Any]:
        return self.products()[sku]

    def available(self, product: Any, location: int = 900) -> int:
        """Shopify's available for the product at our location's Shopify location, read through the API."""
        item = ShopifyProduct.objects.get(product=product).inventory_item_id
        node = self.client.execute("inventory_levels", {"ids": [item]}).data["nodes"][0]
        for level in node["inventoryLevels"]["nodes"]:
            if level["location"]["id"] == self.gid[location]:
                return int(next(q["quantity"] for q in level["quantities"] if q["name"] == "available"))
        raise AssertionError(f"{product} is not stocked at {location}")

    def checkout(self, sku: str, quantity: int, **kwargs: Any) -> Any:
        """A Shopify customer buys at the simulator's checkout (its available falls at once)."""
        if hasattr(self.sim, "checkout"):
            return self.sim.checkout(lines=[{"sku": sku, "quantity": quantity}], **kwargs)
        # Until the simulator's checkout lands: its figure falls as a sale makes it fall.
        return self.sim.set_available(sku, self.sim.available(sku, self.warehouse) - quantity, self.warehouse)
