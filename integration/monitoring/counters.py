"""Counts of what leaves no row: a checkout refused, a reservation short of stock.

Most figures of ``/metrics`` are counted from the database at scrape time (``metrics.py``), which
every process and every host agree on. A refusal writes nothing, and a row per refusal would put a
write on the hot path of a sales peak where most of them happen; so these few are counted in the
shared cache instead: Redis when ``REDIS_URL`` is set (production), one atomic ``INCR`` shared by
every gunicorn worker and every host. On the embedded setup's local-memory cache a count is the
process's own (one web process there). A count never breaks what it counts: Redis down, it is lost
and logged, the checkout goes on.
"""

from __future__ import annotations

import logging

from django.core.cache import cache

logger = logging.getLogger(__name__)

PREFIX = "metrics-count"


def _key(name: str, label: str) -> str:
    return f"{PREFIX}:{name}:{label}"


def shared_count_add(name: str, label: str = "", by: int = 1) -> None:
    """Add ``by`` to the count ``name`` (with its one label value, or none)."""
    key = _key(name, label)
    try:
        cache.add(key, 0, timeout=None)
        cache.incr(key, by)
    except Exception:
        logger.warning("count %s could not be added to", key, exc_info=True)


def shared_counts(name: str, labels: list[str]) -> dict[str, int]:
    """The counts of ``name`` for each label value (0 for one never counted)."""
    keys = {_key(name, label): label for label in labels}
    try:
        found = cache.get_many(list(keys))
    except Exception:
        logger.warning("counts of %s could not be read", name, exc_info=True)
        return {}
    return {label: int(found.get(key, 0)) for key, label in keys.items()}
