"""The shared clock, the batch window in Paris wall-clock time, and orders moving on by themselves."""

from __future__ import annotations

import base64
import os
import pickle
from collections.abc import Callable
from datetime import datetime, time

import pytest

from integration.as400.codec import PARIS
from integration.as400.simulator import Simulator, SimulatorConfig, SimulatorError
from integration.as400.simulator.clock import BatchWindow
from integration.as400.simulator.testing import (
    drop,
    item_with_stock,
    latest,
    order_records,
    read_control,
    stock,
)
from tests.processes import Processes

WINDOW = BatchWindow(time(1, 0), time(3, 30))


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (datetime(2025, 11, 25, 0, 59, 59, tzinfo=PARIS), False),
        (datetime(2025, 11, 25, 1, 0, tzinfo=PARIS), True),
        (datetime(2025, 11, 25, 3, 29, 59, tzinfo=PARIS), True),
        (datetime(2025, 11, 25, 3, 30, tzinfo=PARIS), False),
        # The night the clocks go back (26 October 2025): 01:00 to 03:30 lasts 3 h 30 of real time.
        (datetime(2025, 10, 26, 2, 30, fold=1, tzinfo=PARIS), True),
        # The night they go forward (30 March 2025): 02:00-03:00 does not exist.
        (datetime(2025, 3, 30, 3, 15, tzinfo=PARIS), True),
        (datetime(2025, 3, 30, 3, 45, tzinfo=PARIS), False),
    ],
)
def test_the_batch_window_is_paris_wall_clock_time(moment: datetime, inside: bool) -> None:
    assert WINDOW.contains(moment) is inside


def test_a_window_over_midnight() -> None:
    window = BatchWindow(time(23, 0), time(1, 0))

    assert window.contains(datetime(2025, 11, 24, 23, 30, tzinfo=PARIS))
    assert window.contains(datetime(2025, 11, 25, 0, 30, tzinfo=PARIS))
    assert not window.contains(datetime(2025, 11, 25, 1, 0, tzinfo=PARIS))


def test_every_simulator_on_the_same_database_sees_the_same_time(sim: Simulator) -> None:
    sim.step(minutes=42)

    with Simulator(sim.config) as other:
        assert other.now() == sim.now() == datetime(2025, 11, 24, 10, 42, tzinfo=PARIS)
        other.step(minutes=3)
    assert sim.now() == datetime(2025, 11, 24, 10, 45, tzinfo=PARIS)


def test_the_clock_only_goes_forward(sim: Simulator) -> None:
    with pytest.raises(SimulatorError, match="forward"):
        sim.step(minutes=-1)


def test_extract_times_are_the_simulated_clock(sim: Simulator) -> None:
    sim.step(minutes=7)
    sim.export("full", "ITMMST")

    control = read_control(sim.config, "ITMMST", 1)
    assert (control.date, control.time) == (1251124, 100700)


STEP_IN_ANOTHER_PROCESS = """
import base64, pickle, django
django.setup()
from integration.as400.simulator import Simulator
with Simulator(pickle.loads(base64.b64decode({config!r}))) as sim:
    sim.step(minutes={minutes})
"""


def test_another_process_steps_the_same_simulator(sim: Simulator, processes: Processes) -> None:
    config = base64.b64encode(pickle.dumps(sim.config)).decode()
    child = processes.python(
        STEP_IN_ANOTHER_PROCESS.format(config=config, minutes=30),
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        log=sim.config.db_path.parent / "child.log",
    )

    assert child.wait(timeout=60) == 0, child.log_text()
    assert sim.now() == datetime(2025, 11, 24, 10, 30, tzinfo=PARIS)
    assert read_control(sim.config, "STKBAL", 6).time == 103000


# --- Orders moving on by themselves -------------------------------------------------------------


def test_orders_are_picked_shipped_and_made_ready_by_themselves(
    make_config: Callable[..., SimulatorConfig],
) -> None:
    config = make_config(auto_lifecycle=True, pick_after_minutes=30, ship_after_minutes=60)
    with Simulator(config) as sim:
        sim.seed()
        home = item_with_stock(sim, 900, 3)
        store = item_with_stock(sim, 4, 2)
        on_hand, promised = stock(sim, home, 900)
        drop(config, "ORDIMP", 1, order_records("WEB-HOME", [(home, 2, 900)]))
        drop(config, "ORDIMP", 2, order_records("WEB-CC", [(store, 1, 4)], mode="C", pickup=4))
        sim.step(minutes=5)  # accepted at 10:05

        sim.step(minutes=30)  # 10:35: picked
        picked = latest(config, "ORDSTS")
        sim.step(minutes=60)  # 11:35: shipped, ready in store
        delivered = latest(config, "ORDSTS")

        assert sorted((r["OSWEBN"], r["OSEVT"]) for r in picked) == [("WEB-CC", "P"), ("WEB-HOME", "P")]
        assert sorted((r["OSWEBN"], r["OSEVT"]) for r in delivered) == [("WEB-CC", "L"), ("WEB-HOME", "E")]
        assert all(r["OSTRK"] for r in delivered if r["OSEVT"] == "E")
        assert stock(sim, home, 900) == (on_hand - 2, promised)
        statuses = dict(sim.conn.execute("SELECT WOWEBN, WOSTAT FROM WEBORD").fetchall())
        assert statuses == {"WEB-HOME": "E", "WEB-CC": "E"}


def test_click_and_collect_not_picked_up_is_cancelled_at_the_counter(
    make_config: Callable[..., SimulatorConfig],
) -> None:
    config = make_config(auto_lifecycle=True, not_collected_percent=100, collect_within_minutes=60)
    with Simulator(config) as sim:
        sim.seed()
        item = item_with_stock(sim, 9, 2)
        on_hand, _ = stock(sim, item, 9)
        drop(config, "ORDIMP", 1, order_records("WEB-LATE", [(item, 2, 9)], mode="C", pickup=9))
        sim.step(minutes=5)
        sim.ready("WEB-LATE")

        sim.step(minutes=65)

        records = latest(config, "STRRTN")
        assert [(r["SRTYPE"], r["SRMAG"], r["SRQTE"]) for r in records] == [("C", 9, 2)]
        assert stock(sim, item, 9) == (on_hand, 0)
        assert sim.conn.execute("SELECT WOSTAT FROM WEBORD").fetchone()[0] == "A"
