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
