"""``python -m integration.shopify.simulator --port P --state FILE [--webhook-url URL]``: the Shopify
simulator as its own process (bin/run), its shop kept in FILE as JSON between runs."""

from __future__ import annotations

import argparse
import os
import signal
import threading

from integration.shopify.simulator.server import ShopifySimulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m integration.shopify.simulator", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="loopback port (0: any free one)")
    parser.add_argument("--state", help="JSON file the shop is loaded from and saved to")
    parser.add_argument("--webhook-url", default=os.environ.get("SHOPIFY_SIM_WEBHOOK_URL"),
                        help="where every webhook goes besides the subscriptions")  # fmt: skip
    parser.add_argument("--shop", default=os.environ.get("SHOPIFY_SHOP") or "test-shop.myshopify.com")
    parser.add_argument("--client-id", default=os.environ.get("SHOPIFY_CLIENT_ID") or "sim-client-id")
    parser.add_argument(
        "--client-secret", default=os.environ.get("SHOPIFY_CLIENT_SECRET") or "sim-client-secret"
    )
    parser.add_argument("--api-version", default=os.environ.get("SHOPIFY_API_VERSION") or "2026-10")
    parser.add_argument("--no-seed", action="store_true", help="do not seed the three locations")
    args = parser.parse_args(argv)
    sim = ShopifySimulator(shop=args.shop, client_id=args.client_id, client_secret=args.client_secret,
                           api_version=args.api_version, webhook_url=args.webhook_url, port=args.port,
                           state_file=args.state)  # fmt: skip
    url = sim.start()
    if not args.no_seed:
        sim.seed_locations()
        sim.save()
    print(f"Shopify simulator for {args.shop} at {url} (API {args.api_version})", flush=True)
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    done.wait()
    sim.stop()


if __name__ == "__main__":
    main()
