"""The Shopify simulator as its own process (bin/run): the CLI, its state kept in a JSON file."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import httpx

from integration.shopify.simulator import ShopifySimulator
from tests.factories.shopify import SimAdmin
from tests.processes import Processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_state_survives_a_restart(tmp_path: Path) -> None:
    # given: a simulator with its state in a file, a product made and the simulator stopped
    state = tmp_path / "shop.json"
    first = ShopifySimulator(state_file=state)
    first.start()
    first.seed_locations()
    SimAdmin(first).product_create("Vase", {"sku": "VASE-1", "price": "30.00"})
    first.set_available("VASE-1", 6)
    first.stop()

    # when: another starts from the same file
    second = ShopifySimulator(state_file=state)
    second.start()
    try:
        # then: the product and its stock are there
        assert second.available("VASE-1") == 6
        assert SimAdmin(second).data("products_page", {"first": 5})["products"]["nodes"][0]["title"] == "Vase"
    finally:
        second.stop()


def test_the_cli_serves_the_api_and_persists(processes: Processes, tmp_path: Path) -> None:
    # given: the simulator started as a process
    port = free_port()
    state = tmp_path / "shop.json"
    proc = processes.start([sys.executable, "-m", "integration.shopify.simulator", "--port", str(port),
                            "--state", str(state), "--client-secret", "s3cret"], label="shopify simulator")  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            answer = httpx.post(f"{url}/admin/oauth/access_token", data={
                "grant_type": "client_credentials", "client_id": "sim-client-id", "client_secret": "s3cret"})  # fmt: skip
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, proc.log_text()
            time.sleep(0.1)

    # when: the locations are asked for
    token = answer.json()["access_token"]
    body = {"query": "{ locations(first: 5) { nodes { name } } }"}
    names = httpx.post(f"{url}/admin/api/2026-10/graphql.json", json=body,
                       headers={"X-Shopify-Access-Token": token}).json()  # fmt: skip

    # then: seeded, and written to the state file
    assert [n["name"] for n in names["data"]["locations"]["nodes"]] == [
        "Entrepôt",
        "Boutique Paris",
        "Boutique Lyon",
    ]
    assert state.exists()
    proc.stop()
