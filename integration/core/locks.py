"""Named locks across processes and machines, for jobs that must never run twice at once.

On PostgreSQL a session advisory lock (every process of every machine shares the server); on
SQLite a ``flock`` on a file beside the database (every process shares the file). Both are
released by the operating system or the server if the holder dies, so a killed worker never
leaves a lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

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
