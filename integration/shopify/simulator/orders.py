"""Orders in the simulated shop: views, root fields, the checkout (filled in the next step)."""

from __future__ import annotations

from typing import Any

from integration.shopify.simulator.graph import Views


def tables(views: Views) -> dict[str, Any]:
    return {}


class OrderViews:
    def __init__(self, views: Views) -> None:
        self.views = views

    def resolvers(self, root: Any, first_of: Any) -> dict[str, Any]:
        return {}
