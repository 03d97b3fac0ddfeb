"""Contract conformance of the simulated AS400: rules of docs/as400/README.md that the
simulator once bent, and the robustness its users rely on (crashes, two processes at once).

Each test states the rule it holds the simulator to, as given / when / then.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from integration.as400.codec import from_datetime
from integration.as400.simulator import Simulator, SimulatorConfig
from integration.as400.simulator import engine as engine_module
from integration.as400.simulator import imports as imports_module
from integration.as400.simulator.testing import (
    drop,
    item_with_stock,
    latest,
    order_records,
    out_names,
    read_control,
    read_out,
    stock,
)

WAREHOUSE = 900


class Died(BaseException):
    """The import job's process dies here (not an Exception: nothing may catch it)."""


def acks(sim: Simulator) -> dict[str, dict[str, Any]]:
    return {str(r["AKWEBN"]): r for r in latest(sim.config, "ORDACK")}


def orders(sim: Simulator) -> int:
    return int(sim.conn.execute("SELECT COUNT(*) FROM WEBORD").fetchone()[0])


def in_names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file())


# --- Duplicates: D for a known web order number, and nothing else ------------------------------


def test_the_same_pair_sent_again_after_it_was_read_is_read_again_and_answered_d(sim: Simulator) -> None:
    """Contract: "A web order number it already has is answered D and not imported twice. Nothing
    else protects it from duplicates."

    Given ORDIMP_000001 read (order WEB-1 accepted) and moved to IN/DONE/,
    when the platform drops the very same pair again (same name, same bytes),
    then the import job reads it like any other pair: WEB-1 is answered D with its AS400 order
    number, nothing is promised twice, and the second copy goes to IN/DONE/ beside the first.
    """
    item = item_with_stock(sim, WAREHOUSE, 5)
    records = order_records("WEB-1", [(item, 2, WAREHOUSE)])
    drop(sim.config, "ORDIMP", 1, records)
    sim.import_now()
    first = acks(sim)["WEB-1"]
    promised = stock(sim, item, WAREHOUSE)
    drop(sim.config, "ORDIMP", 1, records)

    report = sim.import_now()

    assert report.done == ["ORDIMP_000001"]
    assert report.acks == {"D": 1}
    again = acks(sim)["WEB-1"]
    assert (again["AKSTAT"], again["AKCDE"]) == ("D", first["AKCDE"])
    assert stock(sim, item, WAREHOUSE) == promised
    assert orders(sim) == 1
    assert in_names(sim.config.done_dir) == [
        "ORDIMP_000001.DAT",
        "ORDIMP_000001.DAT.1",
        "ORDIMP_000001.OK",
        "ORDIMP_000001.OK.1",
    ]
    assert in_names(sim.config.in_dir) == []


# --- Crash safety: a pair is applied once even if the job dies before moving it ----------------


def test_a_pair_applied_when_the_job_dies_before_moving_it_is_applied_once(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given ORDIMP_000001 in IN/ and an import job that dies after it applied the pair and before
    it moved it (the pair is still in IN/),
    when the next import run comes,
    then the pair is moved to IN/DONE/ without being applied again: one ORDACK A, one order, the
    quantity promised once."""
    item = item_with_stock(sim, WAREHOUSE, 5)
    on_hand, promised = stock(sim, item, WAREHOUSE)
    drop(sim.config, "ORDIMP", 1, order_records("WEB-1", [(item, 2, WAREHOUSE)]))
    real_move = imports_module._move_pair

    def die(*args: Any, **kwargs: Any) -> None:
        raise Died

    monkeypatch.setattr(imports_module, "_move_pair", die)
    with pytest.raises(Died):
        sim.import_now()
    assert in_names(sim.config.in_dir) == ["ORDIMP_000001.DAT", "ORDIMP_000001.OK"]
    assert stock(sim, item, WAREHOUSE) == (on_hand, promised + 2)
    monkeypatch.setattr(imports_module, "_move_pair", real_move)

    report = sim.import_now()

    assert report.acks == {}
    assert stock(sim, item, WAREHOUSE) == (on_hand, promised + 2)
    assert orders(sim) == 1
    assert [str(r["AKSTAT"]) for r in latest(sim.config, "ORDACK")] == ["A"]
    assert len(out_names(sim.config, "ORDACK")) == 1
    assert in_names(sim.config.in_dir) == []
    assert in_names(sim.config.done_dir) == ["ORDIMP_000001.DAT", "ORDIMP_000001.OK"]


def test_a_pair_half_moved_when_the_job_died_follows_its_ok_and_is_not_applied_again(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given an import job that applied ORDIMP_000001, moved its .OK to IN/DONE/ and died before
    moving the .DAT,
    when the next import run comes,
    then the lone .DAT (never opened: it has no .OK in IN/) joins its .OK, nothing is applied again.
    """
    item = item_with_stock(sim, WAREHOUSE, 5)
    drop(sim.config, "ORDIMP", 1, order_records("WEB-1", [(item, 2, WAREHOUSE)]))
    real_replace = imports_module.os.replace
    moved: list[str] = []

    def replace_then_die(src: Any, dst: Any) -> None:
        if moved:
            raise Died
        moved.append(str(src))
        real_replace(src, dst)

    monkeypatch.setattr(imports_module.os, "replace", replace_then_die)
    with pytest.raises(Died):
        sim.import_now()
    monkeypatch.setattr(imports_module.os, "replace", real_replace)
    assert in_names(sim.config.in_dir) == ["ORDIMP_000001.DAT"]
    promised = stock(sim, item, WAREHOUSE)

    report = sim.import_now()

    assert report.acks == {}
    assert stock(sim, item, WAREHOUSE) == promised
    assert orders(sim) == 1
    assert in_names(sim.config.in_dir) == []
    assert in_names(sim.config.done_dir) == ["ORDIMP_000001.DAT", "ORDIMP_000001.OK"]


# --- Two processes on one database -----------------------------------------------------------


def test_two_import_jobs_racing_on_one_pair_apply_it_once(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given two simulator processes on the same database and exchange folder (the run loop and an
    `import` command), and ORDIMP_000001 in IN/,
    when the second has read the pair's bytes and, before it applies them, the first reads, applies
    and moves the same pair,
    then the pair is applied once: one ORDACK record, one order, the quantity promised once, no error.
    """
    item = item_with_stock(sim, WAREHOUSE, 5)
    on_hand, promised = stock(sim, item, WAREHOUSE)
    drop(sim.config, "ORDIMP", 1, order_records("WEB-1", [(item, 2, WAREHOUSE)]))
    other = Simulator(sim.config)
    real_transaction = imports_module.transaction
    raced: list[bool] = []

    def racing(conn: Any) -> AbstractContextManager[Any]:
        if conn is sim.conn and not raced:
            raced.append(True)
            other.import_now()  # the other process gets there first
        return real_transaction(conn)

    monkeypatch.setattr(imports_module, "transaction", racing)
    try:
        sim.import_now()
    finally:
        other.close()

    assert raced
    assert stock(sim, item, WAREHOUSE) == (on_hand, promised + 2)
    assert orders(sim) == 1
    records = [r for seq in range(1, sim.last_seq("ORDACK") + 1) for r in read_out(sim.config, "ORDACK", seq)]
    assert [(r["AKWEBN"], r["AKSTAT"]) for r in records] == [("WEB-1", "A")]
    assert in_names(sim.config.in_dir) == []
    assert in_names(sim.config.done_dir) == ["ORDIMP_000001.DAT", "ORDIMP_000001.OK"]


def test_an_ack_is_later_than_a_stock_extract_another_process_wrote_meanwhile(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Contract: "A STKBAL extract taken after an ORDACK's time already counts that order."

    Given ORDIMP_000001 in IN/ and an import run starting at 10:00:00,
    when another process writes a STKBAL delta at 10:00:00 just before the order is applied
    (so the delta does not count it),
    then the ORDACK's time is later than that extract's, and the files the run writes afterwards
    are not stamped earlier than the ack.
    """
    item = item_with_stock(sim, WAREHOUSE, 5)
    drop(sim.config, "ORDIMP", 1, order_records("WEB-1", [(item, 2, WAREHOUSE)]))
    other = Simulator(sim.config)
    real_transaction = imports_module.transaction
    extracts: list[Any] = []

    def racing(conn: Any) -> AbstractContextManager[Any]:
        if conn is sim.conn and not extracts:
            extracts.extend(other.export("delta", "STKBAL"))
        return real_transaction(conn)

    monkeypatch.setattr(imports_module, "transaction", racing)
    try:
        sim.import_now()
    finally:
        other.close()

    extract = read_control(sim.config, "STKBAL", extracts[0].seq)
    ack = acks(sim)["WEB-1"]
    assert (ack["AKDATE"], ack["AKTIME"]) > (extract.date, extract.time)
    written = read_control(sim.config, "ORDACK", sim.last_seq("ORDACK"))
    assert (written.date, written.time) >= (ack["AKDATE"], ack["AKTIME"])
    assert (ack["AKDATE"], ack["AKTIME"]) == from_datetime(sim.now())


def test_the_nightly_restock_happens_once_when_two_processes_step(
    night_sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given two simulator processes stepping the same database into the nightly batch window,
    when the second one restocks between the moment the first sees the night not restocked yet and
    the moment the first restocks,
    then the night's deliveries are received once."""
    sim = night_sim
    config: SimulatorConfig = sim.config.with_changes(nightly_restock=True)
    first, second = Simulator(config), Simulator(config)
    restocks: list[int] = []
    real_restock = engine_module.activity.nightly_restock
    real_state_get = engine_module.state_get
    raced: list[bool] = []

    def counting_restock(*args: Any, **kwargs: Any) -> int:
        restocks.append(1)
        return real_restock(*args, **kwargs)

    def stale_state_get(conn: Any, name: str, default: Any = None) -> Any:
        value = real_state_get(conn, name, default)
        if name == "night:restock" and conn is first.conn and not conn.in_transaction and not raced:
            raced.append(True)
            second.step()  # the other process restocks now; what `first` read is stale
        return value

    monkeypatch.setattr(engine_module.activity, "nightly_restock", counting_restock)
    monkeypatch.setattr(engine_module, "state_get", stale_state_get)
    try:
        first.step(minutes=15 * 60 + 5)  # Monday 10:00 -> Tuesday 01:05, inside the window
        second.step(minutes=5)
    finally:
        first.close()
        second.close()

    assert len(restocks) == 1


# --- ORDANN ----------------------------------------------------------------------------------


def test_a_cancellation_sent_with_its_order_before_the_ack_finds_no_order(sim: Simulator) -> None:
    """Contract: ORDANN is the "cancellation of a web order already imported"; the job reads the
    pairs "in sequence order", one counter per file name, and promises no order between names.
    The simulator reads the names in alphabetical order, as a job listing the folder would
    (ORDANN, ORDIMP, RTNIMP), so a platform that sends a cancellation before it has the order's
    ORDACK learns here, not in production, that the AS400 may read it first.

    Given ORDIMP_000001 (order WEB-1) and ORDANN_000001 (WEB-1, whole order) in IN/ together,
    when the import job runs,
    then the cancellation finds no order and is answered with nothing, WEB-1 is accepted and its
    quantity stays promised.
    """
    item = item_with_stock(sim, WAREHOUSE, 5)
    on_hand, promised = stock(sim, item, WAREHOUSE)
    drop(sim.config, "ORDIMP", 1, order_records("WEB-1", [(item, 2, WAREHOUSE)]))
    drop(sim.config, "ORDANN", 1, [{"OAWEBN": "WEB-1", "OALIGN": 0, "OAQTE": 0, "OARSN": "CLIE"}])

    report = sim.import_now()

    assert report.done == ["ORDANN_000001", "ORDIMP_000001"]
    assert acks(sim)["WEB-1"]["AKSTAT"] == "A"
    assert out_names(sim.config, "ORDSTS") == []
    assert stock(sim, item, WAREHOUSE) == (on_hand, promised + 2)
    assert sim.conn.execute("SELECT WOSTAT FROM WEBORD").fetchone()[0] == "O"


def test_a_line_cancellation_of_quantity_zero_cancels_nothing(sim: Simulator) -> None:
    """Contract (ORDANN DDS): OALIGN 0 is the whole order; otherwise OAQTE is the quantity to cancel
    on that line. Nothing says that a quantity of 0 means the whole line, so the simulator does not
    read it so: a platform that relied on it would see its cancellations ignored in production.

    Given order WEB-1 accepted with 3 on line 1,
    when an ORDANN asks to cancel line 1 with OAQTE 0,
    then nothing is cancelled and nothing is answered; the 3 stay promised.
    """
    item = item_with_stock(sim, WAREHOUSE, 5)
    drop(sim.config, "ORDIMP", 1, order_records("WEB-1", [(item, 3, WAREHOUSE)]))
    sim.import_now()
    promised = stock(sim, item, WAREHOUSE)
    drop(sim.config, "ORDANN", 1, [{"OAWEBN": "WEB-1", "OALIGN": 1, "OAQTE": 0, "OARSN": "CLIE"}])

    report = sim.import_now()

    assert report.done == ["ORDANN_000001"]
    assert report.cancelled_lines == 0
    assert out_names(sim.config, "ORDSTS") == []
    assert stock(sim, item, WAREHOUSE) == promised
    assert [line.qtann for line in sim.order("WEB-1")] == [0]
