"""Telling operations how the exchange is doing: the health of queues, files and freshness.

``health.py`` gathers the outbox's and the exports' figures and problems (``outbox_health``), shown
by ``views.py`` (``GET /health/outbox``) and in the admin (``health_admin.py``). Alerts themselves
are raised by every part, through ``integration.alerts``.

May import: ``integration.as400``, ``integration.outbox``, ``integration.alerts``,
``integration.core``, ``integration.models``. Never a domain app.
"""
