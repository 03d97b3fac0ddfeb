"""Shopify, the second storefront, as a system the platform talks to: its GraphQL Admin API and its webhooks.

This package is the connector, and knows nothing of what products, stock or orders mean here (that
is the ``shopify_channel`` app's). It owns:

- ``schema/``: the subset of Shopify's Admin GraphQL schema (the pinned ``SHOPIFY_API_VERSION``)
  that the connector uses, vendored as SDL; ``documents/``: every query and mutation the connector
  sends, one ``.graphql`` file each, validated against that schema (``documents.py``);
- ``client.py``: the Admin API client (httpx): the access token by the client credentials grant,
  cached and renewed before it expires; pacing by the cost every answer carries; retries;
- ``webhooks.py``: the webhook intake: the HMAC check, the raw event stored once per event id, and
  the registry of what each topic means (``webhook_topic_register``, filled by ``shopify_channel``);
- ``calls.py``: calls to Shopify as outbox-like messages (retried with backoff, dead after a limit,
  retryable in the admin), and the registry of what each kind of call sends;
- ``simulator/``: a Shopify to test against, an HTTP server on loopback serving the same schema.

It is its own Django app (label ``shopify``) so that its tables and migrations stand apart.

May import: ``integration.core``, ``integration.alerts``, ``integration.models``, Django, httpx,
tenacity, graphql-core. Never a domain app.
"""
