"""The ``simulator`` fixture: the simulated AS400 with a small catalogue applied, for every suite.

A pytest plugin (listed in tests/conftest.py's ``pytest_plugins``), so that the orders, returns,
flows, webhooks and admin tests take the same fixture by name instead of importing it; a module
or a directory may still define a ``simulator`` of its own. The helpers to place orders on it are
in tests/factories/orders.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integration.as400.simulator.engine import Simulator
from integration.as400.sync import exchange_sync
from inventory.models import Category
from inventory.reference import locations_seed_default
from tests.moments import TUESDAY


@pytest.fixture
def simulator(tmp_path: Path, settings: Any) -> Iterator[Simulator]:
    settings.AS400_SIMULATOR_DB = tmp_path / "as400.sqlite3"
    settings.AS400_EXCHANGE_DIR = tmp_path / "exchange"
    settings.AS400_EXCHANGE_BACKEND = "simulator"  # the simulator is the AS400: its clock dates the files
    sim = Simulator.from_settings(items=60, auto_lifecycle=False, start=TUESDAY, store_sales_per_hour=0)
    sim.seed(seed=3, items=60)
    locations_seed_default()
    sim.initial_exports()
    exchange_sync()
    Category.objects.update(rollout_stage=Category.Stage.LIVE)
    yield sim
    sim.close()
