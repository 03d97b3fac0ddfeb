"""The AS400's import job: IN/ pairs, control checks, ORDIMP decisions, ORDANN, RTNIMP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from integration.as400.codec import RecordCodec, from_datetime
from integration.as400.control import control_for
from integration.as400.simulator import Simulator, SimulatorConfig
from integration.as400.simulator.testing import (
    drop,
    drop_raw,
    item_with_stock,
    latest,
    order_records,
    out_names,
    stock,
)

WAREHOUSE = 900
MakeConfig = Callable[..., SimulatorConfig]


def acks(sim: Simulator) -> dict[str, dict[str, object]]:
    return {str(r["AKWEBN"]): r for r in latest(sim.config, "ORDACK")}


def test_an_accepted_order_is_acked_a_and_promised_at_once(sim: Simulator) -> None:
    item = item_with_stock(sim, WAREHOUSE, 5)
    on_hand, promised = stock(sim, item, WAREHOUSE)
    drop(sim.config, "ORDIMP", 1, order_records("WEB-1001", [(item, 3, WAREHOUSE)]))

    report = sim.import_now()

    assert report.acks == {"A": 1}
    ack = acks(sim)["WEB-1001"]
    assert ack["AKSTAT"] == "A"
    assert len(str(ack["AKCDE"])) == 10
    assert (ack["AKRSN"], ack["AKMSG"]) == ("", "")
    assert (ack["AKDATE"], ack["AKTIME"]) == from_datetime(sim.now())
    assert stock(sim, item, WAREHOUSE) == (on_hand, promised + 3)
    web = sim.conn.execute("SELECT * FROM WEBORD WHERE WOWEBN = 'WEB-1001'").fetchone()
    assert (web["WOCDE"], web["WOSTAT"], web["WONBL"], web["WOQTC"], web["WOQTE"]) == (
        ack["AKCDE"],
        "O",
        1,
        3,
        0,
    )
    assert (sim.config.done_dir / "ORDIMP_000001.DAT").exists()
    assert (sim.config.done_dir / "ORDIMP_000001.OK").exists()
    assert not list(sim.config.in_dir.glob("ORDIMP_*"))


def test_pairs_are_read_in_sequence_order(sim: Simulator) -> None:
    item = item_with_stock(sim, WAREHOUSE, 2)
    drop(sim.config, "ORDIMP", 2, order_records("WEB-2", [(item, 1, WAREHOUSE)]))
    drop(sim.config, "ORDIMP", 1, order_records("WEB-1", [(item, 1, WAREHOUSE)]))

    sim.import_now()

    assert [str(r["AKWEBN"]) for r in latest(sim.config, "ORDACK")] == ["WEB-1", "WEB-2"]
    cdes = [r["WOCDE"] for r in sim.conn.execute("SELECT WOCDE FROM WEBORD ORDER BY WOWEBN")]
    assert cdes == sorted(cdes)
    assert sim.last_seq("ORDIMP", "IN") == 2


def test_a_dat_without_its_ok_is_never_opened(sim: Simulator) -> None:
    item = item_with_stock(sim, WAREHOUSE)
    dat = drop(sim.config, "ORDIMP", 1, order_records("WEB-1", [(item, 1, WAREHOUSE)]), with_ok=False)

    report = sim.import_now()

    assert report.done == []
    assert dat.exists()
    assert out_names(sim.config, "ORDACK") == []
    assert sim.conn.execute("SELECT COUNT(*) FROM WEBORD").fetchone()[0] == 0


def test_a_file_whose_control_does_not_match_goes_to_err_whole(sim: Simulator) -> None:
    item = item_with_stock(sim, WAREHOUSE, 5)
    codec = RecordCodec.for_file("ORDIMP", 297)
    data = codec.encode_many(order_records("WEB-1", [(item, 2, WAREHOUSE)]))
    good = control_for("ORDIMP", data, seq=1, kind="D", at=sim.now(), ccsid=297)
    drop_raw(sim.config, "ORDIMP", 1, data, replace(good, count=good.count + 1))
    drop_raw(sim.config, "ORDIMP", 2, data, replace(good, seq=2, hash=good.hash + 1))
    drop_raw(sim.config, "ORDIMP", 3, data[:-10], replace(good, seq=3))
    spoiled = bytearray(data)
    spoiled[codec.record_length + 48] = 0xFA  # OLMAG (3S 0, bytes 49-51 of the L record): a digit above 9
    drop_raw(sim.config, "ORDIMP", 4, bytes(spoiled), replace(good, seq=4))
    drop_raw(sim.config, "ORDIMP", 5, data, replace(good, seq=6))
    before = stock(sim, item, WAREHOUSE)

    report = sim.import_now()

    assert sorted(report.refused) == [f"ORDIMP_00000{n}" for n in (1, 2, 3, 4, 5)]
    assert "CTRCNT" in report.refused["ORDIMP_000001"][0]
    assert "CTHASH" in report.refused["ORDIMP_000002"][0]
    assert "whole number" in report.refused["ORDIMP_000003"][0]
    assert "record 2" in report.refused["ORDIMP_000004"][0]
    assert "sequence 6" in report.refused["ORDIMP_000005"][0]
    for n in range(1, 6):
        assert (sim.config.err_dir / f"ORDIMP_00000{n}.DAT").exists()
        assert (sim.config.err_dir / f"ORDIMP_00000{n}.OK").exists()
    assert stock(sim, item, WAREHOUSE) == before
    assert out_names(sim.config, "ORDACK") == []  # refused whole: nobody is told


def test_a_web_order_number_already_known_is_answered_d_and_not_imported_twice(sim: Simulator) -> None:
    item = item_with_stock(sim, WAREHOUSE, 5)
    records = order_records("WEB-7", [(item, 2, WAREHOUSE)])
    drop(sim.config, "ORDIMP", 1, records)
    sim.import_now()
    first = acks(sim)["WEB-7"]
    after_first = stock(sim, item, WAREHOUSE)
    drop(sim.config, "ORDIMP", 2, records)

    sim.import_now()

    second = acks(sim)["WEB-7"]
    assert second["AKSTAT"] == "D"
    assert second["AKCDE"] == first["AKCDE"]
    assert stock(sim, item, WAREHOUSE) == after_first
    assert sim.conn.execute("SELECT COUNT(*) FROM WEBORD").fetchone()[0] == 1


def test_the_same_order_under_another_number_becomes_two_orders(sim: Simulator) -> None:
    item = item_with_stock(sim, WAREHOUSE, 5)
    drop(sim.config, "ORDIMP", 1, order_records("WEB-8", [(item, 1, WAREHOUSE)]))
    drop(sim.config, "ORDIMP", 2, order_records("WEB-8-BIS", [(item, 1, WAREHOUSE)]))

    sim.import_now()

    assert {str(r["AKSTAT"]) for r in latest(sim.config, "ORDACK")} == {"A"}
    assert sim.conn.execute("SELECT COUNT(*) FROM WEBORD").fetchone()[0] == 2


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (("NO-SUCH-ITEM", 1, WAREHOUSE), "ART0"),
        (("{item}", 1, 31), "MAG0"),
        (("{item}", 10_000, WAREHOUSE), "STK0"),
    ],
)
def test_a_bad_line_refuses_the_whole_order(sim: Simulator, line: tuple[str, int, int], code: str) -> None:
    good = item_with_stock(sim, WAREHOUSE, 5)
    other = item_with_stock(sim, WAREHOUSE, 5, skip=1)
    bad = (line[0].format(item=other), line[1], line[2])
    before = stock(sim, good, WAREHOUSE)
    drop(sim.config, "ORDIMP", 1, order_records("WEB-9", [(good, 1, WAREHOUSE), bad]))

    sim.import_now()

    ack = acks(sim)["WEB-9"]
    assert (ack["AKSTAT"], ack["AKRSN"], ack["AKCDE"]) == ("R", code, "")
    assert ack["AKMSG"]
    assert stock(sim, good, WAREHOUSE) == before
    assert sim.conn.execute("SELECT COUNT(*) FROM WEBORD").fetchone()[0] == 0


def test_stk0_counts_what_is_already_promised_and_earlier_orders_of_the_same_file(sim: Simulator) -> None:
    item = item_with_stock(sim, WAREHOUSE, 5)
    on_hand, promised = stock(sim, item, WAREHOUSE)
    available = on_hand - promised
    drop(
        sim.config,
        "ORDIMP",
        1,
        order_records("WEB-A", [(item, available - 1, WAREHOUSE)])
        + order_records("WEB-B", [(item, 2, WAREHOUSE)])
        + order_records("WEB-C", [(item, 1, WAREHOUSE)]),
    )

    sim.import_now()

    answers = acks(sim)
    assert [answers[w]["AKSTAT"] for w in ("WEB-A", "WEB-B", "WEB-C")] == ["A", "R", "A"]
    assert answers["WEB-B"]["AKRSN"] == "STK0"
    assert stock(sim, item, WAREHOUSE) == (on_hand, on_hand)


def test_an_order_whose_records_disagree_is_refused_err0(sim: Simulator) -> None:
    item = item_with_stock(sim, WAREHOUSE, 5)
    records = order_records("WEB-X", [(item, 1, WAREHOUSE)])
    records[0]["OHNBL"] = 3
    drop(sim.config, "ORDIMP", 1, records)

    sim.import_now()

    assert acks(sim)["WEB-X"]["AKRSN"] == "ERR0"


def test_an_ack_is_later_than_any_stock_extract_that_does_not_count_its_order(sim: Simulator) -> None:
    item = item_with_stock(sim, WAREHOUSE, 5)
    sim.export("delta", "STKBAL")
    extract_time = sim.now()
    drop(sim.config, "ORDIMP", 1, order_records("WEB-T", [(item, 1, WAREHOUSE)]))

    sim.import_now()

    ack = acks(sim)["WEB-T"]
    assert (ack["AKDATE"], ack["AKTIME"]) > from_datetime(extract_time)


def test_shipping_takes_the_quantity_off_on_hand_and_promised(sim: Simulator) -> None:
    item = item_with_stock(sim, WAREHOUSE, 5)
    on_hand, promised = stock(sim, item, WAREHOUSE)
    drop(sim.config, "ORDIMP", 1, order_records("WEB-S", [(item, 3, WAREHOUSE)]))
    sim.import_now()

    records = sim.ship("WEB-S")

    assert [r["OSEVT"] for r in records] == ["P", "E"]
    assert stock(sim, item, WAREHOUSE) == (on_hand - 3, promised)
    events = latest(sim.config, "ORDSTS")
    assert [(r["OSEVT"], r["OSQTE"], r["OSLIGN"], r["OSITEM"]) for r in events] == [
        ("P", 3, 1, item),
        ("E", 3, 1, item),
    ]
    assert events[1]["OSTRK"]
    assert events[1]["OSCDE"] == acks(sim)["WEB-S"]["AKCDE"]
    web = sim.conn.execute("SELECT WOSTAT, WOQTE FROM WEBORD").fetchone()
    assert tuple(web) == ("E", 3)


def test_a_partial_shipment_leaves_the_rest_promised(sim: Simulator) -> None:
    item = item_with_stock(sim, WAREHOUSE, 5)
    on_hand, promised = stock(sim, item, WAREHOUSE)
    drop(sim.config, "ORDIMP", 1, order_records("WEB-P", [(item, 4, WAREHOUSE)]))
    sim.import_now()

    sim.pick("WEB-P")
    sim.ship("WEB-P", line=1, qty=1)

    assert stock(sim, item, WAREHOUSE) == (on_hand - 1, promised + 3)
    assert [r["OSEVT"] for r in latest(sim.config, "ORDSTS")] == ["E"]
    assert sim.conn.execute("SELECT WOSTAT FROM WEBORD").fetchone()[0] == "O"


def test_click_and_collect_is_made_ready_in_store(sim: Simulator) -> None:
    item = item_with_stock(sim, 12, 2)
    on_hand, promised = stock(sim, item, 12)
    drop(sim.config, "ORDIMP", 1, order_records("WEB-C1", [(item, 2, 12)], mode="C", pickup=12))
    sim.import_now()

    sim.ready("WEB-C1")

    assert [r["OSEVT"] for r in latest(sim.config, "ORDSTS")] == ["P", "L"]
    assert stock(sim, item, 12) == (on_hand - 2, promised)


def test_ordann_cancels_what_can_still_be_cancelled_and_answers_a(sim: Simulator) -> None:
    first = item_with_stock(sim, WAREHOUSE, 5)
    second = item_with_stock(sim, WAREHOUSE, 5, skip=1)
    drop(sim.config, "ORDIMP", 1, order_records("WEB-N", [(first, 4, WAREHOUSE), (second, 2, WAREHOUSE)]))
    sim.import_now()
    sim.ship("WEB-N", line=2)
    before_first, before_second = stock(sim, first, WAREHOUSE), stock(sim, second, WAREHOUSE)
    drop(
        sim.config,
        "ORDANN",
        1,
        [
            {"OAWEBN": "WEB-N", "OALIGN": 1, "OAQTE": 3, "OARSN": "CLIE"},
            {"OAWEBN": "WEB-N", "OALIGN": 2, "OAQTE": 2, "OARSN": "CLIE"},  # shipped: nothing to cancel
            {"OAWEBN": "WEB-UNKNOWN", "OALIGN": 0, "OAQTE": 0, "OARSN": "CLIE"},
        ],
    )

    sim.import_now()
    sim.step()

    events = latest(sim.config, "ORDSTS")
    assert [(r["OSEVT"], r["OSLIGN"], r["OSQTE"]) for r in events] == [("A", 1, 3)]
    assert stock(sim, first, WAREHOUSE) == (before_first[0], before_first[1] - 3)
    assert stock(sim, second, WAREHOUSE) == before_second
    assert (sim.config.done_dir / "ORDANN_000001.OK").exists()


def test_ordann_line_zero_cancels_the_whole_order(sim: Simulator) -> None:
    first = item_with_stock(sim, WAREHOUSE, 5)
    second = item_with_stock(sim, WAREHOUSE, 5, skip=1)
    drop(sim.config, "ORDIMP", 1, order_records("WEB-Z", [(first, 1, WAREHOUSE), (second, 2, WAREHOUSE)]))
    sim.import_now()
    drop(sim.config, "ORDANN", 1, [{"OAWEBN": "WEB-Z", "OALIGN": 0, "OAQTE": 0, "OARSN": "CLIE"}])

    sim.step(minutes=5)

    events = latest(sim.config, "ORDSTS")
    assert [(r["OSEVT"], r["OSLIGN"], r["OSQTE"]) for r in events] == [("A", 1, 1), ("A", 2, 2)]
    assert stock(sim, first, WAREHOUSE)[1] == 0
    assert sim.conn.execute("SELECT WOSTAT, WOQTE FROM WEBORD").fetchone()[:] == ("A", 0)


def test_an_announced_return_is_answered_r_when_the_goods_arrive(make_config: MakeConfig) -> None:
    with Simulator(make_config(return_arrival_minutes=120)) as sim:
        sim.seed()
        announced_return_arrives(sim)


def announced_return_arrives(sim: Simulator) -> None:
    item = item_with_stock(sim, WAREHOUSE, 5)
    drop(sim.config, "ORDIMP", 1, order_records("WEB-R", [(item, 2, WAREHOUSE)]))
    sim.import_now()
    sim.ship("WEB-R")
    shipped = stock(sim, item, WAREHOUSE)
    drop(
        sim.config,
        "RTNIMP",
        1,
        [{"RIWEBN": "WEB-R", "RIRMA": "RMA-0001", "RILIGN": 1, "RIITEM": item, "RIQTE": 1, "RIRSN": "DEFE",
          "RIMAG": WAREHOUSE}],
    )  # fmt: skip
    status_files = len(out_names(sim.config, "ORDSTS"))

    sim.step(minutes=5)  # read: the return is expected, nothing arrived yet
    assert len(out_names(sim.config, "ORDSTS")) == status_files
    assert stock(sim, item, WAREHOUSE) == shipped

    sim.step(minutes=sim.config.return_arrival_minutes)

    events = latest(sim.config, "ORDSTS")
    assert [(r["OSEVT"], r["OSLIGN"], r["OSQTE"], r["OSITEM"]) for r in events] == [("R", 1, 1, item)]
    assert stock(sim, item, WAREHOUSE) == (shipped[0] + 1, shipped[1])


def test_returns_and_cancellations_at_store_counters_are_strrtn(sim: Simulator) -> None:
    item = item_with_stock(sim, 7, 3)
    on_hand, _ = stock(sim, item, 7)
    drop(sim.config, "ORDIMP", 1, order_records("WEB-CC", [(item, 2, 7)], mode="C", pickup=7))
    drop(sim.config, "ORDIMP", 2, order_records("WEB-HD", [(item_with_stock(sim, WAREHOUSE), 1, WAREHOUSE)]))
    sim.import_now()
    sim.ready("WEB-CC")
    sim.ship("WEB-HD")

    sim.cancel_store("WEB-CC")
    cancelled = latest(sim.config, "STRRTN")
    sim.return_store("WEB-HD", store=3)
    returned = latest(sim.config, "STRRTN")

    assert [(r["SRTYPE"], r["SRMAG"], r["SRQTE"], r["SRWEBN"]) for r in cancelled] == [("C", 7, 2, "WEB-CC")]
    assert [(r["SRTYPE"], r["SRMAG"], r["SRQTE"], r["SRWEBN"]) for r in returned] == [("R", 3, 1, "WEB-HD")]
    assert stock(sim, item, 7) == (on_hand, 0)
    assert sim.conn.execute("SELECT WOSTAT FROM WEBORD WHERE WOWEBN = 'WEB-CC'").fetchone()[0] == "A"


def test_the_import_job_runs_on_its_schedule(sim: Simulator) -> None:
    item = item_with_stock(sim, WAREHOUSE)
    drop(sim.config, "ORDIMP", 1, order_records("WEB-1", [(item, 1, WAREHOUSE)]))

    sim.step(minutes=4)
    assert out_names(sim.config, "ORDACK") == []

    sim.step(minutes=1)
    assert out_names(sim.config, "ORDACK") == ["ORDACK_000001"]
