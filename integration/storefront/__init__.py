"""What the storefronts see of the platform, whatever sells: clients, the API's plumbing, events.

- ``clients.py``: storefront clients, their tokens and scopes, their webhook endpoints;
- ``api/``: the REST API's shared parts: token authentication, the one error shape
  (``api/errors.py``, with the code-to-status table), strict bodies, renderers, the OpenAPI schema;
  the endpoints themselves are the domain apps' (``inventory.api``, ``orders.api``, ``returns.api``);
- ``events.py``: an order's storefront events, written with the change they tell
  (``event_emit``); ``event_reads.py``: reading them back by cursor;
- ``webhooks.py``: the signed, retried delivery of those events; ``netcheck.py``: where a webhook
  may be sent.

May import: ``integration.core``, ``integration.alerts``, ``integration.models``. Never a domain
app: what an event says of an order comes through ``events.EventSubject``.
"""
