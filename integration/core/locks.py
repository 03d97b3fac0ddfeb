"""Named locks across processes and machines, for jobs that must never run twice at once.

On PostgreSQL a session advisory lock (every process of every machine shares the server); on
SQLite a ``flock`` on a file beside the database (every process shares the file). Both are
released by the operating system or the server if the holder dies, so a killed worker never
leaves a lock behind. :func:`one_at_a_time` makes a scheduled task one run at a time with it.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ParamSpec, TypeVar

from django.db import connection


def _key(name: str) -> int:
    """A stable signed 64-bit key for the advisory lock."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextlib.contextmanager
def try_lock(name: str) -> Iterator[bool]:
    """Hold the lock ``name`` for the block if nobody else does; yields whether it was taken."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_key(name)])
            taken = bool(cursor.fetchone()[0])
        try:
            yield taken
        finally:
            if taken:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [_key(name)])
        return
    database = str(connection.settings_dict["NAME"])
    if database.startswith(("file:", ":memory:")):
        path = Path(os.environ.get("TMPDIR", "/tmp")) / f".{name}.{os.getpid()}.lock"
    else:  # beside the database, named after it: two databases never share a lock
        db_path = Path(database).resolve()
        path = db_path.parent / f".{db_path.name}.{name}.lock"
    with open(path, "a+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


P = ParamSpec("P")
R = TypeVar("R")


def one_at_a_time(name: str) -> Callable[[Callable[P, R]], Callable[P, R | str]]:
    """A scheduled task that never overlaps itself, on any number of clusters and machines.

    django-q2 makes one task per due run of a schedule, but does not wait for the last run to end:
    a run slower than its interval (a long catalogue push, a poll against a slow Shopify) would
    have a second one start beside it. Wrapped in this, the second run finds the lock ``name``
    (:func:`try_lock`: released by the server if the holder dies, so a killed worker never keeps
    it) taken and returns at once, saying so; the next due run tries again. Missed runs are not
    made up for either (``catch_up`` is off in ``Q_CLUSTER``).
    """

    def wrap(task: Callable[P, R]) -> Callable[P, R | str]:
        @functools.wraps(task)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R | str:
            with try_lock(f"schedule:{name}") as taken:
                if not taken:
                    return f"skipped: {name} is still running elsewhere"
                return task(*args, **kwargs)

        guarded.one_at_a_time = name  # type: ignore[attr-defined]  # what tests/test_doorbell.py checks
        return guarded

    return wrap
