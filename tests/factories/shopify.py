"""Plain helpers to talk to the Shopify simulator with httpx in tests (not the platform's client)."""

from __future__ import annotations

from typing import Any

import httpx

from integration.shopify.documents import document
from integration.shopify.simulator import ShopifySimulator


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
        data = self.data(
            "product_set", {"input": {"title": title, "status": "ACTIVE", "variants": list(variants)}}
        )
        assert data["productSet"]["userErrors"] == [], data
        product: dict[str, Any] = data["productSet"]["product"]
        return product
