"""Which backend each part of the platform runs on, chosen from a URL.

Pure functions, kept out of settings.py so that tests can check the choice for any URL without
reloading the settings of the running process.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import environ

SQLITE_ENGINE = "django.db.backends.sqlite3"


def database_config(url: str) -> dict[str, Any]:
    """Django's DATABASES entry for a DATABASE_URL (sqlite:///path, postgres://user@host:port/name)."""
    config: dict[str, Any] = environ.Env.db_url_config(url)
    if config["ENGINE"] == SQLITE_ENGINE:
        # Several processes (web, qcluster, simulator) share the file: WAL lets readers run beside
        # the writer, IMMEDIATE takes the write lock at BEGIN so that a read-then-write transaction
        # never fails half-way with "database is locked", and the busy timeout makes writers queue.
        config.setdefault("OPTIONS", {}).update(
            {
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            }
        )
        # Tests get a file too, not Django's shared-cache memory database: with one connection per
        # thread or process, a file is what makes concurrency tests compete for the real lock. One
        # file per test process, so that two test runs in one checkout never share (and destroy)
        # each other's database.
        name = str(config.get("NAME", ""))
        if name and name != ":memory:":
            test_name = Path(tempfile.gettempdir()) / f"{Path(name).stem}-test-{os.getpid()}.sqlite3"
            config.setdefault("TEST", {}).setdefault("NAME", str(test_name))
    config.setdefault("TEST", {})
    return config


def q_cluster_config(
    redis_url: str,
    *,
    name: str = "platform",
    workers: int = 2,
    timeout: int = 120,
    retry: int = 180,
    max_attempts: int = 3,
    save_limit: int = 5000,
    scheduler: bool = True,
) -> dict[str, object]:
    """django-q2's Q_CLUSTER: the Redis broker when redis_url is set, else the database (ORM) broker.

    The timeout is below retry so that a task is never handed to a second worker while the first
    may still be running it; attempts are bounded so that a poisoned task ends up failed (and
    visible in the admin) instead of looping; results are kept for the admin.

    ``scheduler``: whether this cluster turns due schedules into tasks. Every cluster does by
    default; a deployment of several machines leaves it on in one host's clusters only (the schedule
    owner, ``Q_SCHEDULER``), so that one process decides when each schedule runs. Two owners by
    mistake still make one task per due run (django-q2 locks the schedule rows while it reads
    them), and the tasks themselves never overlap (``integration.core.locks.one_at_a_time``).
    """
    if timeout >= retry:
        raise ValueError(f"Q_TIMEOUT ({timeout}) must be below Q_RETRY ({retry})")
    config: dict[str, object] = {
        "name": name,
        "workers": workers,
        "timeout": timeout,
        "retry": retry,
        "max_attempts": max_attempts,
        "ack_failures": True,
        "save_limit": save_limit,
        "catch_up": False,
        "label": "Task queue",
        "poll": 0.5,
        "scheduler": scheduler,
    }
    if redis_url:
        config["redis"] = redis_url
    else:
        config["orm"] = "default"
    return config
