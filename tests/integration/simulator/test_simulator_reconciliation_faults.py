"""The faults that make the AS400's data go wrong (for reconciliation), seen in the files it writes.

Each test switches one fault on, lets the simulator do the work that fault acts on, then reads
OUT/ through the codec (WEBORD and STKBAL full extracts, deltas, ORDACK, ORDSTS) and checks the
fault is off again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from integration.as400.simulator import Simulator, SimulatorConfig, SimulatorError
from integration.as400.simulator.errors import OrderNotFoundError
from integration.as400.simulator.testing import (
    drop,
    item_with_stock,
    latest,
    order_records,
    out_names,
    read_out,
    stock,
)

WAREHOUSE = 900


def is_on(sim: Simulator, name: str) -> bool:
    return next(f for f in sim.faults() if f.name == name).active


def full(sim: Simulator, file: str) -> list[dict[str, Any]]:
    """A full extract written now, decoded from OUT/."""
    written = sim.export("full", file)
    return read_out(sim.config, file, written[0].seq)


def weborders(sim: Simulator) -> dict[str, dict[str, Any]]:
    """WEBORD as a full extract written now shows it, by web order number."""
    return {str(r["WOWEBN"]): r for r in full(sim, "WEBORD")}


def balance(records: list[dict[str, Any]], item: str, location: int = WAREHOUSE) -> dict[str, Any]:
    return next(r for r in records if str(r["SBITEM"]) == item and int(r["SBMAG"]) == location)


def every_record(config: SimulatorConfig, file: str) -> list[dict[str, Any]]:
    """The records of every OUT/ file of that name, in sequence order."""
    return [r for name in out_names(config, file) for r in read_out(config, file, int(name[-6:]))]


@pytest.fixture
def lively(make_config: Callable[..., SimulatorConfig]) -> Iterator[Simulator]:
    """A simulator whose orders get picked and shipped by themselves (hourly STKBAL deltas)."""
    simulator = Simulator(make_config("lively", auto_lifecycle=True, stkbal_delta_minutes=60))
    simulator.seed()
    yield simulator
    simulator.close()


# --- lose ---------------------------------------------------------------------------------------


def test_lose_acknowledges_the_next_accepted_order_then_loses_it(lively: Simulator) -> None:
    sim = lively
    item = item_with_stock(sim, WAREHOUSE)
    _, promised = stock(sim, item, WAREHOUSE)
    drop(sim.config, "ORDIMP", 1, order_records("WEB-LOST", [(item, 2, WAREHOUSE)]))
    drop(sim.config, "ORDIMP", 2, order_records("WEB-KEPT", [(item, 1, WAREHOUSE)]))
    sim.fault_on("lose")

    sim.import_now()

    acks = {str(r["AKWEBN"]): r for r in latest(sim.config, "ORDACK")}
    assert {w: str(a["AKSTAT"]) for w, a in acks.items()} == {"WEB-LOST": "A", "WEB-KEPT": "A"}
    assert str(acks["WEB-LOST"]["AKCDE"]).startswith("W")
    assert not is_on(sim, "lose")  # one-shot: WEB-KEPT, accepted next, is kept
    assert list(weborders(sim)) == ["WEB-KEPT"]
    assert int(balance(full(sim, "STKBAL"), item)["SBQRS"]) == promised + 1  # WEB-KEPT's only

    sim.step(minutes=4 * 60)  # picked after 45 min, shipped 2 h later: WEB-KEPT only

    events = every_record(sim.config, "ORDSTS")
    assert {str(r["OSEVT"]) for r in events} == {"P", "E"}
    assert {str(r["OSWEBN"]) for r in events} == {"WEB-KEPT"}
    with pytest.raises(OrderNotFoundError):
        sim.ship("WEB-LOST")
    assert int(balance(full(sim, "STKBAL"), item)["SBQRS"]) == promised


# --- duplicate ----------------------------------------------------------------------------------


def test_duplicate_imports_the_next_accepted_order_again_under_another_number(sim: Simulator) -> None:
    item = item_with_stock(sim, WAREHOUSE)
    _, promised = stock(sim, item, WAREHOUSE)
    long_number = "WEB-2025-11-24-00042"  # WOWEBN is 20A: the copy's number is cut to fit
    drop(sim.config, "ORDIMP", 1, order_records(long_number, [(item, 2, WAREHOUSE)]))
    drop(sim.config, "ORDIMP", 2, order_records("WEB-ONCE", [(item, 1, WAREHOUSE)]))
    sim.fault_on("duplicate")

    sim.import_now()

    assert [str(r["AKWEBN"]) for r in latest(sim.config, "ORDACK")] == [long_number, "WEB-ONCE"]
    assert out_names(sim.config, "ORDACK") == ["ORDACK_000001"]
    assert not is_on(sim, "duplicate")
    orders = weborders(sim)
    copy = "WEB-2025-11-24-0-DUP"
    assert set(orders) == {long_number, copy, "WEB-ONCE"}
    assert orders[copy]["WOCDE"] != orders[long_number]["WOCDE"]
    for name in ("WOSTAT", "WONBL", "WOQTC", "WOTOTL", "WODATE"):
        assert orders[copy][name] == orders[long_number][name]
    assert int(balance(full(sim, "STKBAL"), item)["SBQRS"]) == promised + 2 + 2 + 1

    sim.ship(copy)  # the copy lives like any order: the AS400 ships it

    shipped = latest(sim.config, "ORDSTS")
    assert {(str(r["OSWEBN"]), str(r["OSEVT"])) for r in shipped} == {(copy, "P"), (copy, "E")}


def test_duplicate_numbers_fit_wowebn_and_never_reuse_one(sim: Simulator) -> None:
    item = item_with_stock(sim, WAREHOUSE)
    for seq in (1, 2):
        drop(sim.config, "ORDIMP", seq, order_records(f"WEB-{seq}", [(item, 1, WAREHOUSE)]))
    drop(sim.config, "ORDIMP", 3, order_records("WEB-1-DUP", [(item, 1, WAREHOUSE)]))
    sim.import_now()  # WEB-1-DUP is a real order now
    drop(sim.config, "ORDIMP", 4, order_records("WEB-1", [(item, 1, WAREHOUSE)]))
    sim.fault_on("duplicate")

    sim.import_now()  # WEB-1 again: D, not accepted, so the fault waits for the next accepted one
    assert is_on(sim, "duplicate")
    drop(sim.config, "ORDIMP", 5, order_records("WEB-1-", [(item, 1, WAREHOUSE)]))
    sim.import_now()

    assert "WEB-1--DUP" in weborders(sim)
    assert not is_on(sim, "duplicate")


# --- nodelta ------------------------------------------------------------------------------------


def test_nodelta_swallows_the_next_stkbal_delta_without_a_gap(sim: Simulator) -> None:
    first = item_with_stock(sim, WAREHOUSE)
    second = item_with_stock(sim, WAREHOUSE, skip=1)
    _, promised = stock(sim, first, WAREHOUSE)
    drop(sim.config, "ORDIMP", 1, order_records("WEB-1", [(first, 2, WAREHOUSE)]))
    sim.import_now()  # 10:00: SBQRS of the first item +2
    sim.fault_on("nodelta")

    report = sim.step(minutes=5)  # the 10:05 delta would carry it

    assert [f.file for f in report.exported] == []
    assert out_names(sim.config, "STKBAL") == []
    assert not is_on(sim, "nodelta")

    drop(sim.config, "ORDIMP", 2, order_records("WEB-2", [(second, 1, WAREHOUSE)]))
    sim.import_now()
    sim.step(minutes=5)  # 10:10: a delta again, sequence 1, without the swallowed change

    assert out_names(sim.config, "STKBAL") == ["STKBAL_000001"]
    delta = read_out(sim.config, "STKBAL", 1)
    assert [(str(r["SBITEM"]), int(r["SBMAG"])) for r in delta] == [(second, WAREHOUSE)]
    sim.step(minutes=5)
    assert all(str(r["SBITEM"]) != first for r in latest(sim.config, "STKBAL"))
    assert int(balance(full(sim, "STKBAL"), first)["SBQRS"]) == promised + 2  # only the full tells


def test_nodelta_on_itmmst_leaves_the_stkbal_deltas_alone(sim: Simulator) -> None:
    sim.fault_on("nodelta", file="ITMMST")

    sim.export("delta", "STKBAL")
    assert is_on(sim, "nodelta")
    assert sim.export("delta", "ITMMST") == []
    sim.export("delta", "ITMMST")

    assert out_names(sim.config, "STKBAL") == ["STKBAL_000001"]
    assert out_names(sim.config, "ITMMST") == ["ITMMST_000001"]
    assert not is_on(sim, "nodelta")


# --- noordsts -----------------------------------------------------------------------------------


def test_noordsts_ships_the_next_shipment_without_its_ordsts(sim: Simulator) -> None:
    item = item_with_stock(sim, WAREHOUSE)
    on_hand, promised = stock(sim, item, WAREHOUSE)
    drop(sim.config, "ORDIMP", 1, order_records("WEB-QUIET", [(item, 2, WAREHOUSE)]))
    drop(sim.config, "ORDIMP", 2, order_records("WEB-LOUD", [(item, 1, WAREHOUSE)]))
    sim.import_now()
    sim.pick("WEB-QUIET")  # ORDSTS P, as usual
    sim.fault_on("noordsts")

    assert sim.ship("WEB-QUIET") == []
    sim.ship("WEB-LOUD")  # one-shot: this one is told

    events = [(str(r["OSWEBN"]), str(r["OSEVT"])) for r in every_record(sim.config, "ORDSTS")]
    assert events == [("WEB-QUIET", "P"), ("WEB-LOUD", "P"), ("WEB-LOUD", "E")]
    assert not is_on(sim, "noordsts")
    orders = weborders(sim)
    assert (str(orders["WEB-QUIET"]["WOSTAT"]), int(orders["WEB-QUIET"]["WOQTE"])) == ("E", 2)
    row = balance(full(sim, "STKBAL"), item)
    assert (int(row["SBQOH"]), int(row["SBQRS"])) == (on_hand - 3, promised)


# --- price --------------------------------------------------------------------------------------


def first_active_item(sim: Simulator) -> str:
    return str(sim.conn.execute("SELECT MIN(IMITEM) FROM ITMMST WHERE IMSTAT = 'A'").fetchone()[0])


def test_price_changes_the_first_active_item_and_the_next_itmmst_delta_carries_it(sim: Simulator) -> None:
    item = first_active_item(sim)
    sim.export("delta", "ITMMST")  # ITMMST_000001: nothing changed yet
    assert read_out(sim.config, "ITMMST", 1) == []
    sim.fault_on("price", value="12.3")

    report = sim.step(minutes=60)  # the price changes at once; the 11:00 ITMMST delta carries it

    assert any("fault price" in note for note in report.notes)
    assert not is_on(sim, "price")
    assert out_names(sim.config, "ITMMST") == ["ITMMST_000001", "ITMMST_000002"]
    delta = read_out(sim.config, "ITMMST", 2)
    assert [(str(r["IMITEM"]), r["IMPRIX"], int(r["IMDTCH"])) for r in delta] == [
        (item, Decimal("12.30"), 1251124)
    ]
    sim.step(minutes=60)
    assert latest(sim.config, "ITMMST") == []  # one-shot: nothing changes again


def test_price_of_a_named_item_is_carried_by_a_delta_asked_for_at_once(sim: Simulator) -> None:
    item = item_with_stock(sim, WAREHOUSE, skip=3)
    state = sim.fault_on("price", value="1999.99", item=item)
    assert state.describe() == f"price: ON value=1999.99 item={item} (one-shot)"

    written = sim.export("delta", "ITMMST")

    assert [(str(r["IMITEM"]), r["IMPRIX"]) for r in read_out(sim.config, "ITMMST", written[0].seq)] == [
        (item, Decimal("1999.99"))
    ]
    assert not is_on(sim, "price")


@pytest.mark.parametrize("value", [None, "12.345", "0", "-3", "ten", "10000000", "nan"])
def test_price_needs_a_price_in_euros(sim: Simulator, value: str | None) -> None:
    with pytest.raises(SimulatorError, match="price"):
        sim.fault_on("price", value=value)
    assert not is_on(sim, "price")


def test_an_item_is_only_for_price_and_must_exist(sim: Simulator) -> None:
    with pytest.raises(SimulatorError, match="no item 'NO-SUCH-ITEM'"):
        sim.fault_on("price", value="5", item="NO-SUCH-ITEM")
    with pytest.raises(SimulatorError, match="takes no item"):
        sim.fault_on("lose", item=first_active_item(sim))


def test_a_database_made_before_fault_items_gets_the_column_when_opened(config: SimulatorConfig) -> None:
    with Simulator(config) as sim:
        sim.seed()
        sim.fault_on("slow", value="10")
        item = first_active_item(sim)
    old = sqlite3.connect(config.db_path)
    old.executescript(
        "CREATE TABLE OLD_FAULT (NAME TEXT PRIMARY KEY, ACTIVE INTEGER NOT NULL, VALUE TEXT, FILE TEXT,"
        " CHANGED_AT INTEGER);"
        "INSERT INTO OLD_FAULT SELECT NAME, ACTIVE, VALUE, FILE, CHANGED_AT FROM SIM_FAULT;"
        "DROP TABLE SIM_FAULT; ALTER TABLE OLD_FAULT RENAME TO SIM_FAULT;"
    )
    old.close()

    with Simulator(config) as sim:
        sim.fault_on("price", value="2", item=item)
        states = {f.name: f for f in sim.faults()}

    assert (states["slow"].active, states["slow"].value) == (True, "10")
    assert states["price"].item == item


# --- status -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "forced"), [(None, "S"), ("a", "A"), ("E", "E")])
def test_status_forces_the_oldest_open_orders_wostat_without_ordsts(
    sim: Simulator, value: str | None, forced: str
) -> None:
    item = item_with_stock(sim, WAREHOUSE)
    drop(sim.config, "ORDIMP", 1, order_records("WEB-B-OLDEST", [(item, 1, WAREHOUSE)]))
    sim.import_now()
    sim.step(minutes=5)
    drop(sim.config, "ORDIMP", 2, order_records("WEB-A-NEWER", [(item, 1, WAREHOUSE)]))
    sim.import_now()
    sim.fault_on("status", value=value)

    report = sim.step(minutes=5)

    assert any("fault status" in note for note in report.notes)
    assert not is_on(sim, "status")
    orders = weborders(sim)
    assert {w: str(r["WOSTAT"]) for w, r in orders.items()} == {"WEB-B-OLDEST": forced, "WEB-A-NEWER": "O"}
    assert int(orders["WEB-B-OLDEST"]["WOQTE"]) == 0  # nothing shipped: only the status changed
    assert out_names(sim.config, "ORDSTS") == []
    sim.step(minutes=5)
    assert str(weborders(sim)["WEB-A-NEWER"]["WOSTAT"]) == "O"  # one-shot


def test_status_waits_for_an_open_order(sim: Simulator) -> None:
    sim.fault_on("status")
    sim.step(minutes=10)
    assert is_on(sim, "status")

    item = item_with_stock(sim, WAREHOUSE)
    drop(sim.config, "ORDIMP", 1, order_records("WEB-1", [(item, 1, WAREHOUSE)]))
    sim.import_now()
    sim.export("full", "WEBORD")  # the AS400 lives: the status changes before the extract

    assert [(str(r["WOWEBN"]), str(r["WOSTAT"])) for r in latest(sim.config, "WEBORD")] == [("WEB-1", "S")]
    assert not is_on(sim, "status")


@pytest.mark.parametrize("value", ["O", "X", "SS"])
def test_status_forces_a_closed_status_only(sim: Simulator, value: str) -> None:
    with pytest.raises(SimulatorError, match="E, A, S"):
        sim.fault_on("status", value=value)
