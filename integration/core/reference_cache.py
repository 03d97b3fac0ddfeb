"""Reference data that every request reads, kept in the process for a moment instead of read each time.

The checkout reads the same few small tables on every request: whether online selling is
paused, which locations sell online, which locations Shopify sells from. They change a few times
a year, by staff, and each read was a query (with the ORM's cost of building it) on the hot path.

``reference(name, load)`` returns the value ``load()`` gave, loaded again when it is older than
``REFERENCE_CACHE_SECONDS`` (2 by default; 0 turns the cache off). The value is forgotten:

- at once in the process that changes the data: ``reference_forget_on_change(Model, name)``
  connects the model's ``post_save`` and ``post_delete``, and a write that bypasses them
  (``bulk_create``, ``update()``) calls :func:`reference_forget` itself;
- again when that transaction commits, so that a read made in between (which saw the old rows)
  does not stay;
- in every other process (another gunicorn worker, another host) after at most
  ``REFERENCE_CACHE_SECONDS``: that is the bound on how long a change takes to reach everyone.

None of what is kept here guards a unit of stock: the take's conditional update decides that in
the database, whatever a cache says. What a stale value can do is bounded by the TTL: selling
paused two seconds later on another worker, a new pickup store offered two seconds later.

The clock is ``time.monotonic``: a frozen or shifted ``timezone.now`` (tests, the simulator)
neither keeps a value for ever nor expires it early.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")

_values: dict[str, tuple[float, Any]] = {}
_lock = threading.Lock()


def _ttl() -> float:
    return float(getattr(settings, "REFERENCE_CACHE_SECONDS", 2.0))


def reference(name: str, load: Callable[[], T], *, keep_none: bool = True) -> T:
    """``load()``'s value, kept for ``REFERENCE_CACHE_SECONDS`` in this process.

    With ``keep_none=False`` a ``None`` is not kept (asked again next time): for names made from
    what a caller sends (a token's hash), so that unknown ones cannot fill the process's memory.
    """
    ttl = _ttl()
    if ttl <= 0:
        return load()
    now = time.monotonic()
    kept = _values.get(name)
    if kept is not None and kept[0] > now:
        return kept[1]  # type: ignore[no-any-return]
    value = load()
    if value is None and not keep_none:
        return value
    with _lock:
        _values[name] = (now + ttl, value)
    return value


def _drop(names: tuple[str, ...], prefix: bool) -> None:
    with _lock:
        if not names:
            gone = tuple(_values)
        elif prefix:
            gone = tuple(n for n in _values if n.startswith(names))
        else:
            gone = names
        for name in gone:
            _values.pop(name, None)


def reference_forget(*names: str, prefix: bool = False) -> None:
    """Forget these values (all, with no name; every name starting with one, with ``prefix``) now,
    and again when the current transaction commits."""
    _drop(names, prefix)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _drop(names, prefix))


def reference_forget_on_change(model: type[Model], *names: str, prefix: bool = False) -> None:
    """Forget these values whenever a row of ``model`` is saved or deleted (through the ORM's signals)."""

    def changed(sender: Any, **kwargs: Any) -> None:
        reference_forget(*names, prefix=prefix)

    uid = f"reference_cache:{model._meta.label}:{','.join(names)}"
    post_save.connect(changed, sender=model, dispatch_uid=uid + ":save", weak=False)
    post_delete.connect(changed, sender=model, dispatch_uid=uid + ":delete", weak=False)
