"""The ``legacy`` database alias (the AS400's DB2, read by the live reader) for a test module.

pytest-django makes test databases for the aliases it knows when the session starts; the AS400's
is not ours and gets none. :func:`legacy_alias` adds the alias to ``settings.DATABASES`` and to
Django's connections after that, and takes it out of both at the end.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.test import override_settings

from integration.as400.live.legacy import LEGACY_ALIAS


@contextmanager
def legacy_alias(config: dict[str, Any]) -> Iterator[None]:
    configured = connections.configure_settings({DEFAULT_DB_ALIAS: {}, LEGACY_ALIAS: config})[LEGACY_ALIAS]
    assert LEGACY_ALIAS not in connections.settings, "a legacy alias is configured already"
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Overriding setting DATABASES")
        override = override_settings(DATABASES={**connections.settings, LEGACY_ALIAS: configured})
        override.enable()
    connections.settings[LEGACY_ALIAS] = configured
    try:
        yield
    finally:
        if any(c.alias == LEGACY_ALIAS for c in connections.all(initialized_only=True)):
            connections[LEGACY_ALIAS].close()
            del connections[LEGACY_ALIAS]
        del connections.settings[LEGACY_ALIAS]
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Overriding setting DATABASES")
            override.disable()
