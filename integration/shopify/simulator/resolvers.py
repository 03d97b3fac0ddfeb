"""The root fields of the simulated Admin API (queries and mutations)."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import uuid
from typing import TYPE_CHECKING, Any

import graphql

from integration.shopify.simulator.graph import Views, connection
from integration.shopify.simulator.payloads import bulk_finish_payload, product_payload
from integration.shopify.simulator.shop import gid, gid_parse

if TYPE_CHECKING:
    from integration.shopify.simulator.server import Root

FILTER = re.compile(r"(\w+):(>=|<=|>|<)?'?([^' ]+)'?")


def matches(record: dict[str, Any], query: str | None, fields: dict[str, Any]) -> bool:
    """Shopify's search syntax, the part we use: ``field:value`` and ``field:>'time'`` terms, ANDed."""
    for name, op, value in FILTER.findall(query or ""):
        getter = fields.get(name)
        if getter is None:
            continue
        actual = getter(record)
        if name.endswith("_at"):
            want = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            have = dt.datetime.fromisoformat(actual)
            ok = {
                ">": have > want,
                ">=": have >= want,
                "<": have < want,
                "<=": have <= want,
                "": have == want,
            }[op]
        else:
            ok = str(actual).lower() == value.lower() if not isinstance(actual, list) else value in actual
        if not ok:
            return False
    return True


def resolvers(root: Root) -> dict[str, Any]:
    sim = root.sim
    shop = sim.shop
    state = shop.state
    views = Views(shop)
    from integration.shopify.simulator import orders

    views.extra_tables = lambda: orders.tables(views)  # type: ignore[method-assign]
    order_views = orders.OrderViews(views)

    def first_of(first: int | None) -> int | None:
        if first is None and not root.bulk:
            raise graphql.GraphQLError("you must provide one of first or last")
        if first is not None and first > 250:
            raise graphql.GraphQLError("The first argument may not exceed 250")
        return first

    def products(_info: Any, first=None, after=None, query=None, sortKey=None, reverse=False) -> Any:
        rows = [
            p
            for p in state["products"].values()
            if matches(
                p,
                query,
                {
                    "status": lambda p: p["status"],
                    "handle": lambda p: p["handle"],
                    "updated_at": lambda p: p["updated_at"],
                    "sku": lambda p: [state["variants"][str(v)]["sku"] for v in p["variant_ids"]],
                },
            )
        ]
        key = {"UPDATED_AT": "updated_at", "TITLE": "title", "CREATED_AT": "created_at"}.get(
            sortKey or "ID", "id"
        )
        rows.sort(key=lambda p: (p[key], p["id"]), reverse=bool(reverse))
        return connection(rows, views.product, first_of(first), after)

    def product_variants(_info: Any, first=None, after=None, query=None) -> Any:
        rows = [
            v
            for v in state["variants"].values()
            if matches(
                v,
                query,
                {
                    "sku": lambda v: v["sku"],
                    "barcode": lambda v: v["barcode"],
                    "product_id": lambda v: v["product_id"],
                    "updated_at": lambda v: v["updated_at"],
                },
            )
        ]
        return connection(rows, views.variant, first_of(first), after)

    def inventory_items(_info: Any, first=None, after=None, query=None) -> Any:
        rows = [
            i
            for i in state["items"].values()
            if matches(
                i,
                query,
                {"sku": lambda i: state["variants"][str(i["variant_id"])]["sku"], "id": lambda i: i["id"]},
            )
        ]
        return connection(rows, views.item, first_of(first), after)

    def by_gid(kind: str, table: str, view: Any) -> Any:
        def resolve(_info: Any, id: str) -> Any:
            parsed = gid_parse(id, kind)
            record = state[table].get(str(parsed[1])) if parsed else None
            return view(record) if record else None

        return resolve

    def product_set(_info: Any, input: dict[str, Any], identifier=None, synchronous=True) -> Any:
        product, errors, created = shop.product_set(input, identifier)
        if product is not None and not created:
            root.outbox.append(("products/update", product_payload(shop, product)))
        if product is not None and created:
            root.outbox.append(("products/create", product_payload(shop, product)))
        return {
            "product": views.product(product) if product else None,
            "productSetOperation": None,
            "userErrors": errors,
        }

    def inventory_set_quantities(_info: Any, input: dict[str, Any]) -> Any:
        group, errors = shop.inventory_set_quantities(input)
        return {
            "inventoryAdjustmentGroup": views.adjustment_group(group) if group else None,
            "userErrors": errors,
        }

    def inventory_activate(
        _info: Any, inventoryItemId: str, locationId: str, available=None, onHand=None, stockAtLegacyLocation=False
    ) -> Any:
        if not any(d.name.value == "idempotent" for d in _info.field_nodes[0].directives or ()):
            raise graphql.GraphQLError(  # required since 2026-04
                "inventoryActivate requires an idempotency key: add @idempotent(key: ...)",
                extensions={"code": "BAD_REQUEST"},
            )
        item = gid_parse(inventoryItemId, "InventoryItem")
        location = gid_parse(locationId, "Location")
        if not item or str(item[1]) not in state["items"]:
            return {"inventoryLevel": None, "userErrors": [
                {"field": ["inventoryItemId"], "message": "The product couldn't be stocked because it wasn't found."}]}  # fmt: skip
        if not location or str(location[1]) not in state["locations"]:
            return {"inventoryLevel": None, "userErrors": [
                {"field": ["locationId"], "message": "The location couldn't be found."}]}  # fmt: skip
        level = shop.level(item[1], location[1])
        if level is None:  # stocked from now on, at 0 unless quantities are given
            level = shop.level_change(item[1], location[1])
            quantity = available if available is not None else onHand
            if quantity:
                shop.level_change(item[1], location[1], available=quantity, on_hand=quantity)
        return {"inventoryLevel": views.level(level), "userErrors": []}

    def webhook_subscriptions(_info: Any, first=None, after=None, topics=None) -> Any:
        rows = [s for s in state["subscriptions"].values() if not topics or s["topic"] in topics]
        return connection(rows, views.subscription, first_of(first), after)

    def webhook_subscription_create(_info: Any, topic: str, webhookSubscription: dict[str, Any]) -> Any:
        uri = webhookSubscription.get("uri") or ""
        if not re.match(r"https?://", uri):
            return {
                "webhookSubscription": None,
                "userErrors": [
                    {"field": ["webhookSubscription", "callbackUrl"], "message": "Address is invalid"}
                ],
            }
        if any(s["topic"] == topic and s["uri"] == uri for s in state["subscriptions"].values()):
            return {
                "webhookSubscription": None,
                "userErrors": [
                    {
                        "field": ["webhookSubscription", "callbackUrl"],
                        "message": "Address for this topic has already been taken",
                    }
                ],
            }
        sub = {
            "id": shop.next_id(),
            "topic": topic,
            "uri": uri,
            "format": webhookSubscription.get("format") or "JSON",
            "include_fields": webhookSubscription.get("includeFields") or [],
            "created_at": shop.now_z(),
        }
        state["subscriptions"][str(sub["id"])] = sub
        return {"webhookSubscription": views.subscription(sub), "userErrors": []}

    def webhook_subscription_delete(_info: Any, id: str) -> Any:
        parsed = gid_parse(id, "WebhookSubscription")
        if not parsed or str(parsed[1]) not in state["subscriptions"]:
            return {
                "deletedWebhookSubscriptionId": None,
                "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
            }
        del state["subscriptions"][str(parsed[1])]
        return {"deletedWebhookSubscriptionId": id, "userErrors": []}

    def staged_uploads_create(_info: Any, input: list[dict[str, Any]]) -> Any:
        targets: list[dict[str, Any]] = []
        for row in input:
            key = f"tmp/{state['shop']['id']}/bulk/{uuid.uuid4()}/{row['filename']}"
            state["uploads"][key] = {"key": key, "content": None, "mime_type": row["mimeType"]}
            if row.get("httpMethod") == "PUT":
                targets.append(
                    {
                        "url": f"{sim.url}/_sim/staged-uploads/{key}",
                        "resourceUrl": f"{sim.url}/_sim/staged-uploads/{key}",
                        "parameters": [],
                    }
                )
            else:
                targets.append(
                    {
                        "url": f"{sim.url}/_sim/staged-uploads",
                        "resourceUrl": None,
                        "parameters": [
                            {"name": "Content-Type", "value": row["mimeType"]},
                            {"name": "success_action_status", "value": "201"},
                            {"name": "acl", "value": "private"},
                            {"name": "key", "value": key},
                        ],
                    }
                )
        return {"stagedTargets": targets, "userErrors": []}

    def running(kind: str) -> bool:
        return any(
            op["type"] == kind and op["status"] in ("CREATED", "RUNNING")
            for op in state["bulk_operations"].values()
        )

    def bulk_run_mutation(_info: Any, mutation: str, stagedUploadPath: str, clientIdentifier=None) -> Any:
        if running("MUTATION"):
            return {
                "bulkOperation": None,
                "userErrors": [
                    {
                        "field": None,
                        "code": "OPERATION_IN_PROGRESS",
                        "message": "A bulk mutation operation for this app and shop is already in progress.",
                    }
                ],
            }
        try:
            doc = graphql.parse(mutation)
            problems = [e.message for e in graphql.validate(sim.schema, doc)]
        except graphql.GraphQLError as error:
            problems = [error.message]
        if problems:
            return {
                "bulkOperation": None,
                "userErrors": [
                    {"field": ["mutation"], "code": "INVALID_MUTATION", "message": "; ".join(problems)}
                ],
            }
        upload = state["uploads"].get(stagedUploadPath)
        if upload is None or upload["content"] is None:
            return {
                "bulkOperation": None,
                "userErrors": [
                    {
                        "field": ["stagedUploadPath"],
                        "code": "NO_SUCH_FILE",
                        "message": "The JSONL file could not be found. Try uploading the file again, and check that you've entered the URL correctly for the stagedUploadPath mutation argument.",
                    }
                ],
            }
        op = bulk_new("MUTATION", mutation)
        lines = upload["content"].splitlines()
        threading.Thread(target=sim.bulk_run, args=(op["id"], mutation, lines), daemon=True).start()
        return {"bulkOperation": views.bulk_operation(op), "userErrors": []}

    def bulk_run_query(_info: Any, query: str) -> Any:
        if running("QUERY"):
            return {
                "bulkOperation": None,
                "userErrors": [
                    {
                        "field": None,
                        "code": "OPERATION_IN_PROGRESS",
                        "message": "A bulk query operation for this app and shop is already in progress.",
                    }
                ],
            }
        try:
            doc = graphql.parse(query)
            problems = [e.message for e in graphql.validate(sim.schema, doc)]
        except graphql.GraphQLError as error:
            problems = [error.message]
        if problems:
            return {
                "bulkOperation": None,
                "userErrors": [{"field": ["query"], "code": "INVALID", "message": "; ".join(problems)}],
            }
        op = bulk_new("QUERY", query)
        threading.Thread(target=sim.bulk_run, args=(op["id"], query, None), daemon=True).start()
        return {"bulkOperation": views.bulk_operation(op), "userErrors": []}

    def bulk_new(kind: str, text: str) -> dict[str, Any]:
        op = {
            "id": shop.next_id(),
            "type": kind,
            "status": "CREATED",
            "query": text,
            "created_at": shop.now_z(),
            "object_count": 0,
            "root_object_count": 0,
        }
        state["bulk_operations"][str(op["id"])] = op
        return op

    def location(_info: Any, id: str | None = None) -> Any:
        if id is None:
            return views.location(shop.location(None)) if state["locations"] else None
        return views.node(id) if id.startswith("gid://shopify/Location/") else None

    def current_bulk(_info: Any, type: str = "QUERY") -> Any:
        ops = [op for op in state["bulk_operations"].values() if op["type"] == (type or "QUERY")]
        return views.bulk_operation(max(ops, key=lambda o: o["id"])) if ops else None

    return {
        "shop": lambda _info: views.shop_view(),
        "node": lambda _info, id: views.node(id),
        "nodes": lambda _info, ids: [views.node(i) for i in ids],
        "location": location,
        "locations": lambda _info, first=None, after=None, includeInactive=False, includeLegacy=False: (
            connection(
                [loc for loc in state["locations"].values() if includeInactive or loc["active"]],
                views.location,
                first_of(first),
                after,
            )
        ),
        "product": by_gid("Product", "products", views.product),
        "products": products,
        "productVariant": by_gid("ProductVariant", "variants", views.variant),
        "productVariants": product_variants,
        "inventoryItem": by_gid("InventoryItem", "items", views.item),
        "inventoryItems": inventory_items,
        "inventoryLevel": lambda _info, id: views.node(id),
        "currentBulkOperation": current_bulk,
        "webhookSubscriptions": webhook_subscriptions,
        "productSet": product_set,
        "inventorySetQuantities": inventory_set_quantities,
        "inventoryActivate": inventory_activate,
        "stagedUploadsCreate": staged_uploads_create,
        "bulkOperationRunMutation": bulk_run_mutation,
        "bulkOperationRunQuery": bulk_run_query,
        "webhookSubscriptionCreate": webhook_subscription_create,
        "webhookSubscriptionDelete": webhook_subscription_delete,
        **order_views.resolvers(root, first_of),
    }


def flatten(data: dict[str, Any]) -> tuple[list[str], int]:
    """A bulk query's answer as Shopify's JSONL: each node of each connection one line, nested ones
    carrying ``__parentId``. Returns (lines, root object count)."""
    lines: list[str] = []

    def nodes_of(value: Any) -> list[dict[str, Any]] | None:
        if isinstance(value, dict) and ("edges" in value or "nodes" in value):
            if "edges" in value:
                return [e["node"] for e in value["edges"] if e.get("node")]
            return [n for n in value["nodes"] if n]
        return None

    def emit(node: dict[str, Any], parent: str | None) -> None:
        flat = {k: v for k, v in node.items() if nodes_of(v) is None}
        if parent:
            flat["__parentId"] = parent
        lines.append(json.dumps(flat, ensure_ascii=False))
        for value in node.values():
            children = nodes_of(value)
            for child in children or []:
                emit(child, node.get("id"))
            if children is None and isinstance(value, dict):
                walk(value, node.get("id"))

    def walk(obj: dict[str, Any], parent: str | None) -> None:
        for value in obj.values():
            children = nodes_of(value)
            for child in children or []:
                emit(child, parent)

    roots = 0
    for value in data.values():
        children = nodes_of(value)
        for child in children or []:
            roots += 1
            emit(child, None)
    return lines, roots


__all__ = ["bulk_finish_payload", "flatten", "gid", "resolvers"]
