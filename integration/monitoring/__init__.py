"""Telling operations what goes wrong: alerts, and the health of queues, files and freshness.

- ``alerts.py``: raising (once per kind and subject while open) and resolving alerts;
- ``health.py``: the outbox's and the exports' figures and problems (``outbox_health``), shown by
  ``views.py`` (``GET /health/outbox``) and in the admin (``health_admin.py``).

May import: ``integration.as400``, ``integration.outbox``, ``integration.core``,
``integration.models``. Never a domain app.
"""
