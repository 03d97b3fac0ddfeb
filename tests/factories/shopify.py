"""Shopify in tests: order payloads in Shopify's documented REST shape (tests/fixtures/shopify/); the
shop, its credentials and a signed delivery are tests/factories/shopify_connector.py's.

- ``order_payload(shopify_id=..., name=..., lines=[("A", 2)], updated_at=..., ...)``: the
  orders/create fixture with these lines (sku, quantity[, unit price[, discount on the line]]),
  shipping, pickup location and times;
- ``refund_payload(order, [(line_item_id, quantity, restock_type)])``: the refunds/create fixture;
- ``shopify_shop()``: the small catalogue of tests/factories/returns.Shop, a Shopify pickup location
  for store 1, and the Shopify storefront client.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from integration.models import StorefrontClient
from integration.shopify.documents import document
from integration.shopify.simulator import ShopifySimulator
from shopify_channel.models import ShopifyLocation
from tests.factories.returns import Shop

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "shopify"
PARIS_GID = "gid://shopify/Location/70000000001"


def fixture(topic: str) -> dict[str, Any]:
    """The documented payload of ``topic`` (orders/create → orders_create.json)."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{topic.replace('/', '_')}.json").read_text())
    return data


def order_payload(
    *,
    shopify_id: int = 5678901234001,
    name: str = "#1001",
    lines: list[tuple[Any, ...]] | None = None,
    updated_at: datetime | None = None,
    financial_status: str = "pending",
    shipping: str = "4.90",
    shipping_discount: str = "0.00",
    pickup_location_id: int | None = None,
    last_name: str = "Lefèvre",
) -> dict[str, Any]:
    payload = copy.deepcopy(fixture("orders/create"))
    template = payload["line_items"][0]
    items = []
    for n, line in enumerate(lines or [("A", 3)]):
        sku, quantity, price, discount = (*line, *("", 0, "9.90", "0.00")[len(line) :])
        item = copy.deepcopy(template)
        item.update(id=shopify_id * 10 + n, sku=sku, quantity=quantity, price=str(price),
                    total_discount=str(discount),
                    discount_allocations=[{"amount": str(discount), "discount_application_index": 0,
                                           "amount_set": {"shop_money": {"amount": str(discount),
                                                                         "currency_code": "EUR"}}}]
                    if Decimal(str(discount)) else [])  # fmt: skip
        items.append(item)
    payload["line_items"] = items
    goods = sum((Decimal(i["price"]) * i["quantity"] - Decimal(i["total_discount"]) for i in items), Decimal(0))
    paid_shipping = Decimal(shipping) - Decimal(shipping_discount)
    payload.update(
        id=shopify_id, admin_graphql_api_id=f"gid://shopify/Order/{shopify_id}", name=name,
        financial_status=financial_status, location_id=pickup_location_id,
        total_discounts=str(sum((Decimal(i["total_discount"]) for i in items), Decimal(0))),
        current_total_price=str(goods + paid_shipping), total_price=str(goods + paid_shipping),
    )  # fmt: skip
    if updated_at is not None:
        payload["updated_at"] = updated_at.isoformat()
    payload["shipping_lines"][0].update(price=shipping, discounted_price=str(paid_shipping))
    if pickup_location_id is not None:
        payload["shipping_lines"][0].update(title="Retrait en magasin", code="Paris", price="0.00",
                                            discounted_price="0.00")  # fmt: skip
        payload["shipping_address"] = None
    for block in ("shipping_address", "billing_address", "customer"):
        if payload.get(block):
            payload[block]["last_name"] = last_name
    return payload


def refund_payload(order: dict[str, Any], lines: list[tuple[int, int, str]], *, refund_id: int = 9012345678001) -> dict[str, Any]:
    payload = copy.deepcopy(fixture("refunds/create"))
    template = payload["refund_line_items"][0]
    payload.update(id=refund_id, order_id=order["id"])
    payload["refund_line_items"] = [
        {**copy.deepcopy(template), "id": refund_id * 10 + n, "line_item_id": item, "quantity": quantity,
         "restock_type": restock}
        for n, (item, quantity, restock) in enumerate(lines)
    ]  # fmt: skip
    return payload


def shopify_shop() -> Shop:
    shop = Shop()
    ShopifyLocation.objects.create(location_id=1, shopify_location_id=PARIS_GID, pickup=True)
    return shop


def shopify_client(*, pilot: bool = False) -> StorefrontClient:
    return StorefrontClient.objects.create(
        name="shopify", token_prefix="shp", token_hash="0" * 64, can_see_pilot=pilot
    )


# --- The simulator's Admin API with plain httpx, a webhook receiver, shapes (wt-sim) ---


def sim_token(sim: ShopifySimulator) -> str:
    answer = httpx.post(f"{sim.url}/admin/oauth/access_token", data={
        "grant_type": "client_credentials", "client_id": sim.client_id, "client_secret": sim.client_secret})  # fmt: skip
    answer.raise_for_status()
    return str(answer.json()["access_token"])


class SimAdmin:
    """The Admin API of the simulator, by document name, with a token taken once."""

    def __init__(self, sim: ShopifySimulator) -> None:
        self.sim = sim
        self.token = sim_token(sim)

    def post(self, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        return httpx.post(self.sim.graphql_url, json={"query": query, "variables": variables or {}},
                          headers={"X-Shopify-Access-Token": self.token}, timeout=10)  # fmt: skip

    def run(self, name: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = self.post(document(name), variables)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def data(self, name: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.run(name, variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def location_ids(self) -> dict[str, str]:
        nodes = self.data("locations", {"first": 50})["locations"]["nodes"]
        return {node["name"]: node["id"] for node in nodes}

    def product_create(self, title: str, *variants: dict[str, Any]) -> dict[str, Any]:
        """A product with these variants; each without option values gets its own (``optionValues``
        is required on a variant input), under one option "Title" when there is one variant."""
        given = [
            {"optionValues": [{"optionName": "Title", "name": v.get("sku") or f"Variant {n}"}], **v}
            if len(variants) > 1
            else {"optionValues": [{"optionName": "Title", "name": "Default Title"}], **v}
            for n, v in enumerate(variants, 1)
        ]
        data = self.data("product_set", {"input": {"title": title, "status": "ACTIVE", "variants": given}})
        assert data["productSet"]["userErrors"] == [], data
        product: dict[str, Any] = data["productSet"]["product"]
        return product


class HookReceiver:
    """A webhook endpoint on loopback recording every request (raw body and headers); answers
    ``statuses`` in turn (then 200)."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.requests: list[dict[str, Any]] = []
        self.statuses = list(statuses or [])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.requests.append({"headers": dict(self.headers), "body": body, "status": status})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def accepted(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["status"] == 200]

    def topics(self) -> list[str]:
        return [r["headers"]["X-Shopify-Topic"] for r in self.accepted()]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def same_shape(sample: Any, fixture: Any, path: str = "$") -> list[str]:
    """Where ``sample`` differs from ``fixture`` in keys or JSON types (null matches anything; lists
    by their first element)."""
    if sample is None or fixture is None:
        return []
    if isinstance(fixture, dict):
        if not isinstance(sample, dict):
            return [f"{path}: {type(sample).__name__}, expected object"]
        problems = [f"{path}.{k}: missing" for k in fixture if k not in sample]
        problems += [f"{path}.{k}: not in the fixture" for k in sample if k not in fixture]
        for key in fixture.keys() & sample.keys():
            problems += same_shape(sample[key], fixture[key], f"{path}.{key}")
        return problems
    if isinstance(fixture, list):
        if not isinstance(sample, list):
            return [f"{path}: {type(sample).__name__}, expected list"]
        return same_shape(sample[0], fixture[0], f"{path}[0]") if sample and fixture else []
    kinds = (bool, int, float, str)
    expected = next(k for k in kinds if isinstance(fixture, k))
    if type(sample) is not expected and not (expected is float and isinstance(sample, int)):
        return [f"{path}: {type(sample).__name__}, expected {expected.__name__}"]
    return []
