"""Telling operations how the exchange is doing: the health of queues, files and freshness.

``health.py`` gathers the outbox's and the exports' figures and problems (``outbox_health``), shown
by ``views.py`` (``GET /health/outbox``) and in the admin (``health_admin.py``). Alerts themselves
are raised by every part, through ``integration.alerts``. ``metrics.py`` is ``GET /metrics`` for
Prometheus (figures counted from the database at scrape time; the domain's registered by the
domain apps), ``counters.py`` the few counts that leave no row, kept in the shared cache.

May import: ``integration.as400``, ``integration.outbox``, ``integration.alerts``,
``integration.core``, ``integration.models``, ``integration.shopify`` and
``integration.storefront``'s models. Never a domain app.
"""
