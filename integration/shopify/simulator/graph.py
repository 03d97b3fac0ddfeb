"""GraphQL over the simulated shop: the views of its records (dicts graphql-core's default resolver
reads; fields with arguments are callables), the root resolvers, the query cost, @idempotent."""

from __future__ import annotations

import base64
from typing import Any

import graphql

from integration.shopify.simulator.shop import Shop, gid, gid_parse

MUTATION_COST = 10


def connection(
    items: list[Any], view: Any, first: int | None = None, after: str | None = None
) -> dict[str, Any]:
    start = 0
    if after:
        try:
            start = int(base64.b64decode(after).decode().split(":")[1]) + 1
        except (ValueError, IndexError):
            raise graphql.GraphQLError(f"Invalid cursor for current pagination sort: {after}") from None
    end = len(items) if first is None else start + first
    window = items[start:end]
    cursors = [base64.b64encode(f"i:{start + i}".encode()).decode() for i in range(len(window))]
    nodes = [view(item) for item in window]
    return {
        "edges": [{"cursor": c, "node": n} for c, n in zip(cursors, nodes, strict=True)],
        "nodes": nodes,
        "pageInfo": {
            "hasNextPage": end < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        },
    }


class Views:
    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.state = shop.state

    def shop_view(self) -> dict[str, Any]:
        s = self.state["shop"]
        return {
            "id": gid("Shop", s["id"]),
            "name": s["name"],
            "myshopifyDomain": s["domain"],
            "email": s["email"],
            "currencyCode": "EUR",
            "ianaTimezone": "Europe/Paris",
        }

    def location(self, loc: dict[str, Any]) -> dict[str, Any]:
        return {
            "__typename": "Location",
            "id": gid("Location", loc["id"]),
            "legacyResourceId": str(loc["id"]),
            "name": loc["name"],
            "isActive": loc["active"],
            "fulfillsOnlineOrders": loc["fulfills_online_orders"],
            "hasActiveInventory": True,
            "localPickupSettingsV2": {"instructions": "", "pickupTime": "Usually ready in 24 hours"}
            if loc["pickup"]
            else None,
            "address": {"address1": None, "city": loc["city"], "zip": None, "countryCode": "FR"},
            "inventoryLevel": lambda _info, inventoryItemId: self._level_by(inventoryItemId, loc["id"]),
        }

    def _level_by(self, item_gid: str, location_id: int) -> dict[str, Any] | None:
        parsed = gid_parse(item_gid, "InventoryItem")
        level = self.shop.level(parsed[1], location_id) if parsed else None
        return self.level(level) if level else None

    def product(self, p: dict[str, Any]) -> dict[str, Any]:
        variants = [self.state["variants"][str(v)] for v in p["variant_ids"]]
        return {
            "__typename": "Product",
            "id": gid("Product", p["id"]),
            "legacyResourceId": str(p["id"]),
            "title": p["title"],
            "handle": p["handle"],
            "descriptionHtml": p["description_html"],
            "status": p["status"],
            "tags": p["tags"],
            "vendor": p["vendor"],
            "createdAt": p["created_at"],
            "updatedAt": p["updated_at"],
            "variants": lambda _info, first=None, after=None: connection(
                variants, self.variant, first, after
            ),
        }

    def variant(self, v: dict[str, Any]) -> dict[str, Any]:
        item = self.state["items"][str(v["inventory_item_id"])]
        levels = self.shop.levels_of_item(item["id"])
        return {
            "__typename": "ProductVariant",
            "id": gid("ProductVariant", v["id"]),
            "legacyResourceId": str(v["id"]),
            "title": v["title"],
            "sku": v["sku"],
            "barcode": v["barcode"],
            "price": v["price"],
            "taxable": v["taxable"],
            "inventoryPolicy": v["inventory_policy"],
            "inventoryQuantity": sum(lv["available"] for lv in levels),
            "product": lambda _info: self.product(self.state["products"][str(v["product_id"])]),
            "inventoryItem": lambda _info: self.item(item),
            "createdAt": v["created_at"],
            "updatedAt": v["updated_at"],
        }

    def item(self, item: dict[str, Any]) -> dict[str, Any]:
        variant = self.state["variants"][str(item["variant_id"])]
        return {
            "__typename": "InventoryItem",
            "id": gid("InventoryItem", item["id"]),
            "legacyResourceId": str(item["id"]),
            "sku": variant["sku"],
            "tracked": item["tracked"],
            "variant": lambda _info: self.variant(variant),
            "inventoryLevel": lambda _info, locationId: self._level_at(item["id"], locationId),
            "inventoryLevels": lambda _info, first=None, after=None: connection(
                self.shop.levels_of_item(item["id"]), self.level, first, after
            ),
        }

    def _level_at(self, item_id: int, location_gid: str) -> dict[str, Any] | None:
        parsed = gid_parse(location_gid, "Location")
        level = self.shop.level(item_id, parsed[1]) if parsed else None
        return self.level(level) if level else None

    def level(self, lv: dict[str, Any]) -> dict[str, Any]:
        level_gid = f"gid://shopify/InventoryLevel/{lv['location_id']}?inventory_item_id={lv['item_id']}"

        def quantities(_info: Any, names: list[str]) -> list[dict[str, Any]]:
            known = {
                "available",
                "on_hand",
                "committed",
                "incoming",
                "reserved",
                "damaged",
                "safety_stock",
                "quality_control",
            }
            bad = [n for n in names if n not in known]
            if bad:
                raise graphql.GraphQLError(f"Invalid quantity name: {bad[0]}")
            return [
                {
                    "id": f"{level_gid}&name={n}",
                    "name": n,
                    "quantity": lv.get(n, 0),
                    "updatedAt": lv["updated_at"],
                }
                for n in names
            ]

        return {
            "__typename": "InventoryLevel",
            "id": level_gid,
            "updatedAt": lv["updated_at"],
            "item": lambda _info: self.item(self.state["items"][str(lv["item_id"])]),
            "location": lambda _info: self.location(self.state["locations"][str(lv["location_id"])]),
            "quantities": quantities,
        }

    def adjustment_group(self, g: dict[str, Any]) -> dict[str, Any]:
        def changes(
            _info: Any, inventoryItemIds=None, locationIds=None, quantityNames=None
        ) -> list[dict[str, Any]]:
            rows = []
            for c in g["changes"]:
                if quantityNames and c["name"] not in quantityNames:
                    continue
                if inventoryItemIds and gid("InventoryItem", c["item_id"]) not in inventoryItemIds:
                    continue
                if locationIds and gid("Location", c["location_id"]) not in locationIds:
                    continue
                item = self.state["items"].get(str(c["item_id"]))
                rows.append(
                    {
                        "name": c["name"],
                        "delta": c["delta"],
                        "quantityAfterChange": c["quantityAfterChange"],
                        "item": self.item(item) if item else None,
                        "location": self.location(self.state["locations"][str(c["location_id"])]),
                    }
                )
            return rows

        return {
            "__typename": "InventoryAdjustmentGroup",
            "id": gid("InventoryAdjustmentGroup", g["id"]),
            "createdAt": g["created_at"],
            "reason": g["reason"],
            "referenceDocumentUri": g["reference_document_uri"],
            "changes": changes,
        }

    def bulk_operation(self, op: dict[str, Any]) -> dict[str, Any]:
        return {
            "__typename": "BulkOperation",
            "id": gid("BulkOperation", op["id"]),
            "status": op["status"],
            "type": op["type"],
            "errorCode": op.get("error_code"),
            "createdAt": op["created_at"],
            "completedAt": op.get("completed_at"),
            "objectCount": str(op.get("object_count", 0)),
            "rootObjectCount": str(op.get("root_object_count", 0)),
            "fileSize": str(op["file_size"]) if op.get("file_size") is not None else None,
            "url": op.get("url"),
            "partialDataUrl": None,
            "query": op["query"],
        }

    def subscription(self, s: dict[str, Any]) -> dict[str, Any]:
        return {
            "__typename": "WebhookSubscription",
            "id": gid("WebhookSubscription", s["id"]),
            "legacyResourceId": str(s["id"]),
            "topic": s["topic"],
            "uri": s["uri"],
            "format": s["format"],
            "includeFields": s.get("include_fields", []),
            "createdAt": s["created_at"],
            "updatedAt": s["created_at"],
        }

    def node(self, node_gid: str) -> dict[str, Any] | None:
        parsed = gid_parse(node_gid)
        if not parsed:
            return None
        kind, number = parsed
        tables = {
            "Product": ("products", self.product),
            "ProductVariant": ("variants", self.variant),
            "InventoryItem": ("items", self.item),
            "Location": ("locations", self.location),
            "BulkOperation": ("bulk_operations", self.bulk_operation),
            "WebhookSubscription": ("subscriptions", self.subscription),
            "InventoryAdjustmentGroup": ("adjustment_groups", self.adjustment_group),
        }
        tables.update(self.extra_tables())
        if kind == "InventoryLevel":
            item = node_gid.partition("inventory_item_id=")[2]
            level = self.shop.level(int(item), number) if item.isdigit() else None
            return self.level(level) if level else None
        if kind not in tables:
            return None
        table, view = tables[kind]
        record = self.state[table].get(str(number))
        return view(record) if record else None

    def extra_tables(self) -> dict[str, Any]:
        return {}


def query_cost(
    schema: graphql.GraphQLSchema,
    doc: graphql.DocumentNode,
    operation: graphql.OperationDefinitionNode,
    variables: dict[str, Any],
) -> int:
    """Shopify's requested cost, calculated the documented way: a mutation 10, an object 1, a
    scalar or enum 0, a connection 2 plus its size (first) times the cost of one node."""
    fragments = {d.name.value: d for d in doc.definitions if isinstance(d, graphql.FragmentDefinitionNode)}
    root = (
        schema.mutation_type if operation.operation == graphql.OperationType.MUTATION else schema.query_type
    )
    assert root is not None

    def arg(field: graphql.FieldNode, name: str) -> Any:
        for a in field.arguments or ():
            if a.name.value == name:
                return graphql.value_from_ast_untyped(a.value, variables)
        return None

    def cost(selection_set: graphql.SelectionSetNode | None, parent: graphql.GraphQLNamedType) -> int:
        if selection_set is None:
            return 0
        total = 0
        for sel in selection_set.selections:
            if isinstance(sel, graphql.InlineFragmentNode):
                target = schema.get_type(sel.type_condition.name.value) if sel.type_condition else parent
                total += cost(sel.selection_set, target or parent)
                continue
            if isinstance(sel, graphql.FragmentSpreadNode):
                fragment = fragments.get(sel.name.value)
                if fragment:
                    total += cost(
                        fragment.selection_set, schema.get_type(fragment.type_condition.name.value) or parent
                    )
                continue
            assert isinstance(sel, graphql.FieldNode)
            fields = getattr(parent, "fields", {})
            if sel.name.value not in fields:
                continue
            field_type = graphql.get_named_type(fields[sel.name.value].type)
            if graphql.is_leaf_type(field_type):
                continue
            if field_type.name.endswith("Connection"):
                size = arg(sel, "first") or arg(sel, "last") or 1
                node_type = schema.get_type(field_type.name[: -len("Connection")])
                inner = 0
                for sub in sel.selection_set.selections if sel.selection_set else ():
                    if (
                        isinstance(sub, graphql.FieldNode)
                        and sub.name.value in ("edges", "nodes")
                        and node_type
                    ):
                        node_sel = sub.selection_set
                        if sub.name.value == "edges" and node_sel:
                            node_sel = next(
                                (
                                    s.selection_set
                                    for s in node_sel.selections
                                    if isinstance(s, graphql.FieldNode) and s.name.value == "node"
                                ),
                                None,
                            )
                        inner = max(inner, 1 + cost(node_sel, node_type))
                total += 2 + int(size) * inner
            elif graphql.is_list_type(graphql.get_nullable_type(fields[sel.name.value].type)):
                total += 1 + cost(sel.selection_set, field_type)
            else:
                total += 1 + cost(sel.selection_set, field_type)
        return total

    if root is schema.mutation_type:
        return MUTATION_COST * len(operation.selection_set.selections)
    return max(1, cost(operation.selection_set, root))


def actual_cost(data: Any, requested: int, is_mutation: bool) -> int:
    """The cost of what was answered: a mutation 10, else one per object returned (at most the
    requested cost)."""
    if is_mutation:
        return requested

    def count(value: Any) -> int:
        if isinstance(value, dict):
            return 1 + sum(count(v) for v in value.values())
        if isinstance(value, list):
            return sum(count(v) for v in value)
        return 0

    return max(1, min(requested, count(data) - 1))


def idempotency_key(field: graphql.FieldNode, variables: dict[str, Any]) -> str | None:
    for directive in field.directives or ():
        if directive.name.value == "idempotent":
            for a in directive.arguments or ():
                if a.name.value == "key":
                    return str(graphql.value_from_ast_untyped(a.value, variables))
    return None
