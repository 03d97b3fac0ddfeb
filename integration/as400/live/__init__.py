"""Reading stock live from the AS400's own tables (optional): the port, its adapters, chosen by settings.

``get_live_reader()`` returns the :class:`LiveStockReader` that ``AS400_LIVE_READER`` names:

- ``"none"`` (default): no live reads (:mod:`.none`);
- ``"simulator"``: the AS400 simulator's tables, development and tests (:mod:`.simulator`);
- ``"legacy"``: the Django database alias ``legacy`` (DB2 through ibm-db-django, or a replica),
  read-only through :class:`~.legacy.LegacyRouter` (:mod:`.legacy`);
- the dotted path of a concrete :class:`LiveStockReader` subclass.

Anything else is refused with ImproperlyConfigured, naming the setting and its value. The port
and its result and error types are in :mod:`.base`; they and the adapters are re-exported here,
so that ``integration.as400.live`` is the one name callers import.

May import: its own modules. The simulator only inside the simulator adapter's ``read``.
"""

from __future__ import annotations

import inspect
import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from integration.as400.live.base import (
    ItemPair,
    LiveFigures,
    LiveReadUnavailable,
    LiveStockReader,
    failure_kind,
)
from integration.as400.live.legacy import LegacyDatabaseReader, LegacyRouter
from integration.as400.live.none import NoLiveReader
from integration.as400.live.simulator import SimulatorLiveReader

__all__ = [
    "READERS",
    "ItemPair",
    "LegacyDatabaseReader",
    "LegacyRouter",
    "LiveFigures",
    "LiveReadUnavailable",
    "LiveStockReader",
    "NoLiveReader",
    "SimulatorLiveReader",
    "failure_kind",
    "get_live_reader",
    "live_check_enabled",
    "live_reader_class",
]

logger = logging.getLogger(__name__)

_classify = failure_kind  # the name live.py gave it, before the package

#: Short names of the adapters that ship with the project.
READERS: dict[str, str] = {
    "none": "integration.as400.live.none.NoLiveReader",
    "simulator": "integration.as400.live.simulator.SimulatorLiveReader",
    "legacy": "integration.as400.live.legacy.LegacyDatabaseReader",
}

_EXPECTED = f"use one of {', '.join(READERS)} or the dotted path of a LiveStockReader subclass"


def live_reader_class(name: str) -> type[LiveStockReader]:
    """The adapter class for a short name or dotted path; ImproperlyConfigured if none fits."""
    try:
        cls = import_string(READERS.get(name, name))
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"AS400_LIVE_READER is {name!r}, which cannot be imported: {_EXPECTED} ({exc})"
        ) from exc
    if not isinstance(cls, type):
        raise ImproperlyConfigured(
            f"AS400_LIVE_READER is {name!r}, which is not a class (a {type(cls).__name__}): {_EXPECTED}"
        )
    if not issubclass(cls, LiveStockReader) or inspect.isabstract(cls):
        raise ImproperlyConfigured(
            f"AS400_LIVE_READER is {name!r}, which is not a concrete LiveStockReader subclass: {_EXPECTED}"
        )
    return cls


def get_live_reader() -> LiveStockReader:
    """The live stock reader the settings choose."""
    return live_reader_class(str(getattr(settings, "AS400_LIVE_READER", "none")))()


def live_check_enabled() -> bool:
    """Whether reservations check the AS400's live figures: not with the ``none`` reader, whatever
    name the settings give it (its dotted path, a subclass); a setting that names no reader raises."""
    name = str(getattr(settings, "AS400_LIVE_READER", "none"))
    if name == "none":
        return False
    return not issubclass(live_reader_class(name), NoLiveReader)
