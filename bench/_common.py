"""What the HTTP benches share: a throwaway database, a seeded platform, gunicorn, percentiles.

``bench/orders_peak.py`` and ``bench/availability.py`` measure the platform the way a storefront
meets it: a simulated AS400's catalogue and stock applied into a database of their own, then
gunicorn serving it on a loopback port. Both set the same things up; they do it here, once.

Import this module *after* ``django.setup()`` (each script sets its own environment first).
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import httpx
from django.conf import settings
from django.db import connection

from integration.as400.codec import PARIS
from integration.as400.simulator.engine import Simulator
from integration.as400.sync import exchange_sync
from inventory.models import Category
from inventory.reference import locations_seed_default

ROOT = Path(__file__).resolve().parents[1]


def pct(values: list[float], q: int) -> float:
    """The ``q``-th percentile of ``values`` (seconds), in milliseconds."""
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 2 else float("nan")


@contextmanager
def bench_database(name: str) -> Iterator[Path]:
    """A PostgreSQL database of the bench's own (Django's test database, named ``name``) and a
    temporary folder; both are gone at the end. Refuses anything but PostgreSQL."""
    if connection.vendor != "postgresql":
        raise SystemExit("This benchmark is about PostgreSQL: set DATABASE_URL=postgres://...")
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            yield Path(tmp)
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)


def database_url() -> str:
    """The URL of the database this process uses now (the bench's), for the processes it starts."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def platform_seeded(tmp: Path, items: int = 300) -> Simulator:
    """A simulated AS400 with ``items`` items, its first exports applied, every category live.

    The simulator is left open (the caller closes it): orders_peak lets it import the backlog.
    """
    settings.AS400_SIMULATOR_DB = tmp / "as400.sqlite3"
    settings.AS400_EXCHANGE_DIR = tmp / "exchange"
    sim = Simulator.from_settings(
        items=items, auto_lifecycle=False, store_sales_per_hour=0, start=datetime.now(PARIS)
    )
    sim.seed(seed=5, items=items)
    locations_seed_default()
    sim.initial_exports()
    exchange_sync()
    Category.objects.update(rollout_stage=Category.Stage.LIVE)
    with connection.cursor() as cursor:
        # Statistics, as autovacuum keeps them in a database that has been running: a database
        # loaded a second ago looks empty to the planner, which then plans as for empty tables.
        cursor.execute("ANALYZE")
    return sim


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn(workers: int, **env: str) -> Iterator[str]:
    """gunicorn serving the platform on a loopback port, on this process's database (and ``env``);
    yields its base URL once it answers, stops it at the end."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--log-level", "warning"],
        cwd=str(ROOT),
        env={**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "config.settings", **env},
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            if server.poll() is not None:
                raise SystemExit(f"gunicorn stopped with code {server.returncode}")
            try:
                httpx.get(f"{base}/api/schema/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise SystemExit("gunicorn did not answer within 30 s")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
