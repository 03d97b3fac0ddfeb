"""The batch window, the SQL read API, and every fault doing what it says."""

from __future__ import annotations

import sqlite3
import threading
import time
from decimal import Decimal

import pytest

from integration.as400.codec import RecordCodec, RecordError
from integration.as400.control import ControlRecord, check_pair
from integration.as400.simulator import (
    AS400SQLError,
    AS400UnavailableError,
    ObjectInUseError,
    Simulator,
    SimulatorError,
)
from integration.as400.simulator.errors import NotAuthorizedError, ObjectNotFoundError
from integration.as400.simulator.sql import StockReading
from integration.as400.simulator.testing import (
    drop,
    item_with_stock,
    latest_seq,
    order_records,
    out_names,
    read_control,
    read_out,
    stock,
)

WAREHOUSE = 900
TO_BATCH = 15 * 60  # Monday 10:00 -> Tuesday 01:00


# --- The SQL read API ---------------------------------------------------------------------------


def test_sql_reads_the_dds_tables_as_db2_would(sim: Simulator) -> None:
    item = item_with_stock(sim, WAREHOUSE)
    on_hand, promised = stock(sim, item, WAREHOUSE)

    rows = sim.sql("SELECT SBQOH, SBQRS FROM STKBAL WHERE SBITEM=? AND SBMAG=?", (item, WAREHOUSE))
    qualified = sim.sql("SELECT COUNT(*) FROM ERPLIB.ITMMST")
    price = sim.sql("SELECT IMPRIX FROM ITMMST WHERE IMITEM = ?", (item,))[0][0]
    reading = sim.read_stock(item, WAREHOUSE)

    assert rows == [(on_hand, promised)]
    assert qualified == [(sim.config.items,)]
    assert isinstance(price, Decimal | int)
    assert reading is not None
    assert (reading.on_hand, reading.promised) == (on_hand, promised)
    assert sim.read_stock("NO-SUCH-ITEM", 1) is None


def test_a_live_read_does_not_wait_for_a_writer(sim: Simulator) -> None:
    item = item_with_stock(sim, WAREHOUSE)
    readings: list[StockReading | None] = []
    errors: list[BaseException] = []
    read_done = threading.Event()

    def read() -> None:
        try:
            with Simulator(sim.config) as reader:
                readings.append(reader.read_stock(item, WAREHOUSE))
        except BaseException as exc:  # reported by the test below
            errors.append(exc)
        finally:
            read_done.set()

    writer = sqlite3.connect(sim.config.db_path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # the run loop writing a full extract, say
    try:
        reading_thread = threading.Thread(target=read)
        reading_thread.start()
        # The writer holds its lock until the read is done (60 s at most): a read that waited for
        # the writer could not be done meanwhile.
        done_while_writing = read_done.wait(timeout=60)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    reading_thread.join(timeout=60)

    assert done_while_writing, "the read waited for the writer"
    assert errors == []
    assert readings[0] is not None


def test_sql_refuses_internal_tables_and_writes(sim: Simulator) -> None:
    with pytest.raises(ObjectNotFoundError, match="SQL0204"):
        sim.sql("SELECT * FROM SIM_STATE")
    with pytest.raises(NotAuthorizedError, match="SQL0551"):
        sim.sql("DELETE FROM STKBAL")
    with pytest.raises(AS400SQLError, match="SQL0104"):
        sim.sql("SELEKT 1")
    assert sim.conn.execute("SELECT COUNT(*) FROM STKBAL").fetchone()[0] == sim.config.items * 31


def test_the_batch_window_makes_sql_reads_fail_with_sql0913_after_waiting(night_sim: Simulator) -> None:
    sim = night_sim
    sim.step(minutes=TO_BATCH)
    item = item_with_stock(sim, WAREHOUSE)

    started = time.monotonic()
    with pytest.raises(ObjectInUseError, match="SQL0913") as caught:
        sim.sql("SELECT SBQOH, SBQRS FROM STKBAL WHERE SBITEM=? AND SBMAG=?", (item, WAREHOUSE), wait=0.3)
    waited = time.monotonic() - started

    assert waited >= 0.3
    assert caught.value.code == "SQL0913"
    assert caught.value.table == "STKBAL"
    with pytest.raises(ObjectInUseError):
        sim.read_stock(item, WAREHOUSE)
    sim.step(minutes=150)  # 03:30
    assert sim.read_stock(item, WAREHOUSE) is not None


def test_the_batch_window_stops_the_import_job(night_sim: Simulator) -> None:
    sim = night_sim
    sim.step(minutes=TO_BATCH)
    item = item_with_stock(sim, WAREHOUSE)
    drop(sim.config, "ORDIMP", 1, order_records("WEB-NIGHT", [(item, 1, WAREHOUSE)]))

    report = sim.step(minutes=60)
    assert sim.import_now().ran is False

    assert "import job stopped: batch window" in report.notes
    assert (sim.config.in_dir / "ORDIMP_000001.OK").exists()
    sim.step(minutes=95)  # 03:35: the first run after the window
    assert (sim.config.done_dir / "ORDIMP_000001.OK").exists()
    assert out_names(sim.config, "ORDACK") == ["ORDACK_000001"]


# --- Faults -------------------------------------------------------------------------------------


def test_fault_list_and_bad_faults(sim: Simulator) -> None:
    names = [f.name for f in sim.faults()]

    exchange = ["down", "slow", "batch", "lock", "refuse", "corrupt", "skip", "twice"]
    data = ["lose", "duplicate", "nodelta", "noordsts", "price", "status"]
    assert names == exchange + data
    assert not any(f.active for f in sim.faults())
    with pytest.raises(SimulatorError, match="unknown fault"):
        sim.fault_on("meteor")
    with pytest.raises(SimulatorError, match="positive number of minutes"):
        sim.fault_on("slow", value="soon")
    with pytest.raises(SimulatorError, match="sign or digit"):
        sim.fault_on("corrupt", value="bits")
    with pytest.raises(SimulatorError, match="applies to"):
        sim.fault_on("refuse", file="STKBAL")


def test_faults_are_seen_by_every_process_on_the_same_database(sim: Simulator) -> None:
    sim.fault_on("slow", value="15")

    with Simulator(sim.config) as other:
        slow = next(f for f in other.faults() if f.name == "slow")
        assert (slow.active, slow.value) == (True, "15")
        assert other.now() == sim.now()


def test_down_reads_nothing_exports_nothing_and_sql_cannot_connect(sim: Simulator) -> None:
    item = item_with_stock(sim, WAREHOUSE)
    drop(sim.config, "ORDIMP", 1, order_records("WEB-1", [(item, 1, WAREHOUSE)]))
    sim.fault_on("down")

    report = sim.step(minutes=30)

    assert report.exported == []
    assert "import job skipped: the AS400 is down" in report.notes
    assert (sim.config.in_dir / "ORDIMP_000001.OK").exists()
    assert list(sim.config.out_dir.glob("*.OK")) == []
    with pytest.raises(AS400UnavailableError, match="SQL30081"):
        sim.read_stock(item, WAREHOUSE)
    with pytest.raises(SimulatorError, match="down"):
        sim.export("full", "STKBAL")

    sim.fault_off("down")
    sim.step(minutes=5)

    assert (sim.config.done_dir / "ORDIMP_000001.OK").exists()
    assert out_names(sim.config, "ORDACK") == ["ORDACK_000001"]


def test_slow_delays_imports_and_exports(sim: Simulator) -> None:
    item = item_with_stock(sim, WAREHOUSE)
    sim.fault_on("slow", value="20")
    drop(sim.config, "ORDIMP", 1, order_records("WEB-1", [(item, 1, WAREHOUSE)]))

    sim.step(minutes=15)
    assert (sim.config.in_dir / "ORDIMP_000001.OK").exists()
    assert out_names(sim.config, "STKBAL") == []  # the 10:05 delta is not out at 10:15

    sim.step(minutes=10)  # 10:25
    assert (sim.config.done_dir / "ORDIMP_000001.OK").exists()
    assert read_control(sim.config, "STKBAL", 1).time == 102500
    assert out_names(sim.config, "ORDACK") == []  # answered, but the answer is late too

    sim.step(minutes=20)
    assert out_names(sim.config, "ORDACK") == ["ORDACK_000001"]


def test_batch_fault_turns_the_window_on_now(sim: Simulator) -> None:
    item = item_with_stock(sim, WAREHOUSE)
    sim.fault_on("batch")
    drop(sim.config, "ORDIMP", 1, order_records("WEB-1", [(item, 1, WAREHOUSE)]))

    report = sim.step(minutes=10)

    assert sim.in_batch_window()
    assert "import job stopped: batch window" in report.notes
    with pytest.raises(ObjectInUseError, match="SQL0913"):
        sim.sql("SELECT COUNT(*) FROM ITMMST")
    sim.fault_off("batch")
    assert sim.sql("SELECT COUNT(*) FROM ITMMST") == [(sim.config.items,)]


def test_lock_holds_one_file_and_reads_time_out_with_sql0913(sim: Simulator) -> None:
    sim.fault_on("lock", file="STKBAL")

    with pytest.raises(ObjectInUseError, match="STKBAL"):
        sim.sql("SELECT COUNT(*) FROM STKBAL", wait=0.1)
    assert sim.sql("SELECT COUNT(*) FROM ITMMST") == [(sim.config.items,)]


def test_refuse_sends_the_next_in_file_to_err_once(sim: Simulator) -> None:
    item = item_with_stock(sim, WAREHOUSE)
    sim.fault_on("refuse")
    drop(sim.config, "ORDIMP", 1, order_records("WEB-1", [(item, 1, WAREHOUSE)]))
    drop(sim.config, "ORDIMP", 2, order_records("WEB-2", [(item, 1, WAREHOUSE)]))

    report = sim.import_now()

    assert list(report.refused) == ["ORDIMP_000001"]
    assert (sim.config.err_dir / "ORDIMP_000001.DAT").exists()
    assert (sim.config.err_dir / "ORDIMP_000001.OK").exists()
    assert report.done == ["ORDIMP_000002"]
    assert not next(f for f in sim.faults() if f.name == "refuse").active


@pytest.mark.parametrize("how", ["sign", "digit"])
def test_corrupt_spoils_one_field_of_the_next_export_with_an_ok_of_the_good_data(
    sim: Simulator, how: str
) -> None:
    sim.fault_on("corrupt", value=how, file="STKBAL")

    sim.export("full", "ITMMST")  # another file: untouched
    sim.export("full", "STKBAL")
    sim.export("delta", "STKBAL")  # one-shot: the next one is good

    data = (sim.config.out_dir / "STKBAL_000001.DAT").read_bytes()
    control = ControlRecord.decode((sim.config.out_dir / "STKBAL_000001.OK").read_bytes(), 297)
    problems = check_pair("STKBAL", data, control, ccsid=297)
    assert problems
    assert "SBQOH" in problems[0]
    with pytest.raises(RecordError, match="SBQOH"):
        list(RecordCodec.for_file("STKBAL", 297).iter_decode(data))
    assert control.count == sim.config.items * 31
    good = sim.conn.execute("SELECT SUM(SBQOH) FROM STKBAL").fetchone()[0]
    assert control.hash == good
    assert len(read_out(sim.config, "ITMMST", 1)) == sim.config.items
    assert read_out(sim.config, "STKBAL", 2) == []


def test_skip_jumps_one_sequence_number_once(sim: Simulator) -> None:
    sim.export("delta", "STKBAL")
    sim.fault_on("skip")

    sim.export("delta", "STKBAL")
    sim.export("delta", "STKBAL")

    assert out_names(sim.config, "STKBAL") == ["STKBAL_000001", "STKBAL_000003", "STKBAL_000004"]
    assert read_control(sim.config, "STKBAL", 3).seq == 3


def test_twice_writes_the_next_export_again_under_the_next_sequence(sim: Simulator) -> None:
    item = item_with_stock(sim, WAREHOUSE)
    drop(sim.config, "ORDIMP", 1, order_records("WEB-1", [(item, 1, WAREHOUSE)]))
    sim.fault_on("twice", file="ORDACK")

    sim.import_now()

    assert out_names(sim.config, "ORDACK") == ["ORDACK_000001", "ORDACK_000002"]
    first = (sim.config.out_dir / "ORDACK_000001.DAT").read_bytes()
    assert (sim.config.out_dir / "ORDACK_000002.DAT").read_bytes() == first
    assert read_control(sim.config, "ORDACK", 2).seq == 2
    assert read_control(sim.config, "ORDACK", 2).count == 1
    sim.export("delta", "STKBAL")
    assert latest_seq(sim.config, "STKBAL") == 1
