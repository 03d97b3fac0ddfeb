"""Both sides of the folders together: the platform's exchange port and the simulated AS400.

What the simulator writes, the port lists and verifies; what the port writes, the simulator
imports; a corrupted export is refused by the port; the port sees where its pairs went.
"""

from __future__ import annotations

import pytest

from integration.as400.codec import RecordCodec
from integration.as400.control import control_for
from integration.as400.exchange import Location, PairRefused
from integration.as400.exchange.local import LocalExchangeFolder
from integration.as400.files import PairName
from integration.as400.simulator import Simulator
from integration.as400.simulator.testing import item_with_stock, order_records


def port(sim: Simulator) -> LocalExchangeFolder:
    return LocalExchangeFolder(sim.config.exchange_dir, sim.config.ccsid)


def test_the_port_verifies_every_file_the_simulator_writes(sim: Simulator) -> None:
    item = item_with_stock(sim, 900)
    folder = port(sim)
    sim.export("full", "ITMMST")
    sim.export("full", "STKBAL")
    sim.export("full", "WEBORD")
    data = RecordCodec.for_file("ORDIMP", 297).encode_many(order_records("WEB-P1", [(item, 1, 900)]))
    folder.write_pair(control_for("ORDIMP", data, seq=1, kind="D", at=sim.now(), ccsid=297), data)
    sim.step(minutes=5)
    sim.ship("WEB-P1")

    ready = folder.ready_pairs(Location.OUT)

    assert {p.file for p in ready} == {"ITMMST", "STKBAL", "WEBORD", "ORDACK", "ORDSTS"}
    for name in ready:
        verified = folder.read_pair(name)
        assert verified.control.seq == name.seq
    assert folder.sent_state(file="ORDIMP").where(PairName("ORDIMP", 1)) == Location.IN_DONE
    assert folder.list_pairs(Location.OUT).anomalies() == []


def test_the_port_refuses_a_corrupted_export(sim: Simulator) -> None:
    sim.fault_on("corrupt", file="STKBAL")
    sim.export("full", "STKBAL")

    with pytest.raises(PairRefused, match="SBQOH"):
        port(sim).read_pair(PairName("STKBAL", 1))


def test_the_port_sees_a_refused_pair_in_err(sim: Simulator) -> None:
    item = item_with_stock(sim, 900)
    folder = port(sim)
    data = RecordCodec.for_file("ORDIMP", 297).encode_many(order_records("WEB-E", [(item, 1, 900)]))
    folder.write_pair(control_for("ORDIMP", data, seq=1, kind="D", at=sim.now(), ccsid=297), data)
    sim.fault_on("refuse")

    sim.import_now()

    assert folder.sent_state(file="ORDIMP").where(PairName("ORDIMP", 1)) == Location.IN_ERR
