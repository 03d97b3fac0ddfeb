"""The AS400 simulator: a full implementation of the exchange contract, for development and tests.

It keeps its own data (a SQLite file shaped as the AS400's DDS files), writes the AS400's exports
to OUT/, runs the AS400's import job on IN/, keeps a simulated clock with the nightly batch window,
and takes faults switched on at runtime. See README.md in this folder.

    from integration.as400.simulator import Simulator, SimulatorConfig

    with Simulator(SimulatorConfig(db_path=tmp / "as400.sqlite3", exchange_dir=tmp / "exchange")) as sim:
        sim.seed(items=200)
        sim.step(minutes=5)
"""

from integration.as400.simulator.config import SimulatorConfig
from integration.as400.simulator.engine import Simulator, SimulatorStatus, StepReport
from integration.as400.simulator.errors import (
    AS400SQLError,
    AS400UnavailableError,
    NothingToDoError,
    NotSeededError,
    ObjectInUseError,
    OrderNotFoundError,
    SimulatorError,
)
from integration.as400.simulator.faults import FAULTS
from integration.as400.simulator.sql import StockReading

__all__ = [
    "FAULTS",
    "AS400SQLError",
    "AS400UnavailableError",
    "NotSeededError",
    "NothingToDoError",
    "ObjectInUseError",
    "OrderNotFoundError",
    "Simulator",
    "SimulatorConfig",
    "SimulatorError",
    "SimulatorStatus",
    "StepReport",
    "StockReading",
]
