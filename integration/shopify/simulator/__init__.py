"""A Shopify to test against: one shop behind a real HTTP server on loopback, serving the connector's
schema subset (schema/admin.graphql) with graphql-core; no Django, no database (README.md)."""

from integration.shopify.simulator.server import ShopifySimulator
from integration.shopify.simulator.shop import ShopError

__all__ = ["ShopError", "ShopifySimulator"]
