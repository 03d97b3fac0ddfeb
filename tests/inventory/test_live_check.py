"""The optional live stock check, against the simulator's own tables (its SQL read path).

The simulator is the AS400 test environment, not a mock: it answers SQL0913 during its batch
window, as DB2 for i would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integration.as400.live import LiveReadUnavailable, SimulatorLiveReader, get_live_reader
from integration.as400.simulator.engine import Simulator
from inventory.errors import InsufficientStock
from inventory.models import LiveCheckCounter, StockLevel
from inventory.reservations import LineRequest, reservation_create
from tests.factories.inventory import Catalogue
from tests.moments import TUESDAY


@pytest.fixture
def simulator(tmp_path: Path, settings: Any) -> Iterator[Simulator]:
    settings.AS400_SIMULATOR_DB = tmp_path / "as400.sqlite3"
    settings.AS400_EXCHANGE_DIR = tmp_path / "exchange"
    settings.AS400_LIVE_READER = "simulator"
    settings.AS400_LIVE_TIMEOUT = 30  # a read meant to succeed does, however busy the machine
    sim = Simulator.from_settings(items=50, sql_lock_wait_seconds=0.2, start=TUESDAY)  # not in its batch
    sim.seed(seed=7, items=50)
    yield sim
    sim.close()


def a_warehouse_item(sim: Simulator) -> tuple[str, int, int]:
    """An item the AS400 has free units of at 900: (item, on hand, promised)."""
    rows = sim.sql(
        "SELECT SBITEM, SBQOH, SBQRS FROM STKBAL WHERE SBMAG = 900 AND SBQOH - SBQRS BETWEEN 2 AND 50"
    )
    item, on_hand, promised = rows[0]
    return str(item).strip(), int(on_hand), int(promised)


@pytest.mark.django_db
def test_the_lower_live_figure_is_trusted(simulator: Simulator) -> None:
    item, on_hand, promised = a_warehouse_item(simulator)
    live_free = on_hand - promised
    catalogue = Catalogue()
    catalogue.product(item, stock={900: live_free + 100})  # our projection says far more

    with pytest.raises(InsufficientStock):
        reservation_create(lines=[LineRequest(item, live_free + 1)])
    reservation_create(lines=[LineRequest(item, live_free)])

    assert StockLevel.objects.get().reserved == live_free
    assert LiveCheckCounter.objects.get(outcome="used").count == 2


@pytest.mark.django_db
def test_the_batch_window_falls_back_to_the_projection_and_is_counted(
    simulator: Simulator, settings: Any
) -> None:
    settings.AS400_LIVE_TIMEOUT = 0.2  # waited out before the fallback: the batch window holds for sure
    item, _, _ = a_warehouse_item(simulator)
    catalogue = Catalogue()
    catalogue.product(item, stock={900: 500})
    simulator.fault_on("batch")

    reservation = reservation_create(lines=[LineRequest(item, 200)])

    assert reservation.lines.get().quantity == 200
    assert LiveCheckCounter.objects.get(outcome="fallback_object_in_use").count == 1


def test_the_reader_reports_sql0913_as_object_in_use(simulator: Simulator) -> None:
    item, _, _ = a_warehouse_item(simulator)
    simulator.fault_on("batch")

    with pytest.raises(LiveReadUnavailable) as excinfo:
        SimulatorLiveReader().read([(item, 900)], timeout=0.2)

    assert excinfo.value.kind == "object_in_use"
    assert "SQL0913" in str(excinfo.value)


def test_an_unknown_reader_is_a_configuration_error(settings: Any) -> None:
    from django.core.exceptions import ImproperlyConfigured

    settings.AS400_LIVE_READER = "nope.Reader"
    with pytest.raises(ImproperlyConfigured, match="AS400_LIVE_READER is 'nope.Reader'"):
        get_live_reader()
