"""Fixtures of the simulator's tests: a small seeded simulator on its own files.

Every test gets its own SQLite file and exchange folder in tmp_path; the clock starts on a
Monday at 10:00 Paris time; store sales, price changes, the night's restock and the automatic
order lifecycle are off unless a test switches them on, so that stock moves only when the test
says. ``make_config`` builds a variant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from integration.as400.codec import PARIS
from integration.as400.simulator import Simulator, SimulatorConfig

START = datetime(2025, 11, 24, 10, 0, tzinfo=PARIS)  # a Monday
ITEMS = 200
SEED = 42

MakeConfig = Callable[..., SimulatorConfig]


def config_for(root: Path, **changes: Any) -> SimulatorConfig:
    values: dict[str, Any] = {
        "db_path": root / "as400.sqlite3",
        "exchange_dir": root / "exchange",
        "start": START,
        "seed": SEED,
        "items": ITEMS,
        "store_sales_per_hour": 0,
        "price_changes_per_day": 0,
        "auto_lifecycle": False,
        "nightly_restock": False,
        "sql_lock_wait_seconds": 0.0,
    }
    values.update(changes)
    return SimulatorConfig(**values)


@pytest.fixture
def make_config(tmp_path: Path) -> MakeConfig:
    """make_config(folder="x", **changes): a config on tmp_path/folder with those changes."""

    def make(folder: str = "sim", **changes: Any) -> SimulatorConfig:
        return config_for(tmp_path / folder, **changes)

    return make


@pytest.fixture
def config(make_config: MakeConfig) -> SimulatorConfig:
    return make_config()


@pytest.fixture
def sim(config: SimulatorConfig) -> Iterator[Simulator]:
    simulator = Simulator(config)
    simulator.seed()
    yield simulator
    simulator.close()


@pytest.fixture
def night_sim(make_config: MakeConfig) -> Iterator[Simulator]:
    """A seeded simulator for steps over hours: hourly STKBAL deltas, so fewer files to write."""
    simulator = Simulator(make_config("night", stkbal_delta_minutes=60))
    simulator.seed()
    yield simulator
    simulator.close()
