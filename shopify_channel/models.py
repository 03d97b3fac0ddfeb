"""Shopify's side of the catalogue, the stock and the orders, as the platform keeps it."""
