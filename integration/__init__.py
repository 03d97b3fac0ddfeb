"""The ground the domain apps stand on: the systems the platform talks to, and shared mechanisms.

One package per system or mechanism, each saying what it owns and what it may import:

- ``as400/``: the AS400's exchange contract: DDS, codec, control records, exchange folders, the
  file sync and the appliers' registry, the live reader, the simulator;
- ``outbox/``: messages to the AS400 as import files: dispatcher, follow-up, breaker;
- ``storefront/``: storefront clients and tokens, the REST API's plumbing, events and webhooks;
- ``monitoring/``: health (of queues, files, freshness); ``alerts.py``: alerts, raised by every part;
- ``core/``: what every part shares: the domain errors' base, identifiers, JSON limits, the wire
  format of dates, locks, field ownership, admin bases.

Django's own files stay at the top, beside ``alerts.py``: ``models.py`` (every model of the app, one module so that
its migrations stay as they are), ``admin.py``, ``tasks.py`` (django-q's entry points, named by
the schedules in the database), ``management/commands/``.

``integration`` never imports a domain app (``inventory``, ``orders``, ``returns``,
``reconciliation``): they register what the AS400's files mean to them (``as400.appliers``) and
what happens when their messages leave (``outbox.dispatch.sent_hook_register``). The contract is
checked by ``lint-imports`` (pyproject.toml) in CI and in tests/test_architecture.py.
"""
