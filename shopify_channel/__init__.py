"""What Shopify, the second storefront, means to this platform's catalogue, stock and orders.

The connector (``integration.shopify``) talks to Shopify; this app decides what is said:

- ``catalogue.py``: which products exist in Shopify, the AS400-owned fields we push (SKU, barcode,
  price, taxability, status), Shopify's own fields brought back, and ownership violations;
- ``stock.py``: what Shopify may sell per location, pushed as compare-and-set against what we last
  knew Shopify to hold;
- ``orders.py``: a Shopify order as a platform order (units taken from the one pool, oversold
  flagged), its cancellations and refunds; ``fulfilment.py``: the AS400's events back to Shopify;
- ``webhooks.py``: the topics this app registers with the connector's intake.

May import: ``integration``, ``inventory``, ``orders``, ``returns``. Imported by ``reconciliation``
(its Shopify check) and ``demo`` only.
"""
