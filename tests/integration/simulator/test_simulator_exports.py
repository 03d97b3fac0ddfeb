"""Exports to OUT/: full extracts, deltas of changed rows only, the nightly schedule, life between."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from integration.as400.codec import RecordCodec, from_datetime
from integration.as400.control import ControlRecord, check_pair
from integration.as400.simulator import Simulator, SimulatorConfig
from integration.as400.simulator.db import stock_move
from integration.as400.simulator.testing import latest_seq, out_names, read_control, read_out


def test_full_extracts_decode_with_the_codec_and_their_ok_verifies(sim: Simulator) -> None:
    config = sim.config
    sim.export("full", "ITMMST")
    sim.export("full", "STKBAL")
    sim.export("full", "WEBORD")

    for file, rows in (("ITMMST", config.items), ("STKBAL", config.items * 31), ("WEBORD", 0)):
        data = (config.out_dir / f"{file}_000001.DAT").read_bytes()
        control = ControlRecord.decode((config.out_dir / f"{file}_000001.OK").read_bytes(), 297)

        assert check_pair(file, data, control, ccsid=297) == []
        assert (control.file, control.seq, control.kind, control.count) == (file, 1, "F", rows)
        assert (control.date, control.time) == from_datetime(sim.now())
        assert len(list(RecordCodec.for_file(file, 297).iter_decode(data))) == rows
    items = read_out(config, "ITMMST", 1)
    table = {r["IMITEM"]: r for r in sim.conn.execute("SELECT * FROM ITMMST")}
    first = items[0]
    assert first["IMDESC"] == table[first["IMITEM"]]["IMDESC"]
    assert isinstance(first["IMPRIX"], Decimal)
    assert [r["IMITEM"] for r in items] == sorted(table)
    stock = read_out(config, "STKBAL", 1)
    assert {r["SBMAG"] for r in stock} == {*range(1, 31), 900}
    assert any(r["SBQOH"] < 0 for r in stock)
    assert read_control(config, "STKBAL", 1).hash == sum(r["SBQOH"] for r in stock)


def test_no_temporary_file_is_left_in_out(sim: Simulator) -> None:
    sim.export("full", "STKBAL")

    assert sorted(p.name for p in sim.config.out_dir.iterdir() if p.is_file()) == [
        "STKBAL_000001.DAT",
        "STKBAL_000001.OK",
    ]


def test_a_delta_carries_only_the_rows_changed_since_the_previous_file_of_that_name(sim: Simulator) -> None:
    sim.export("full", "STKBAL")
    rows = sim.conn.execute("SELECT SBITEM, SBMAG FROM STKBAL ORDER BY SBITEM, SBMAG LIMIT 3").fetchall()
    with sim.conn:
        sim.conn.execute("BEGIN IMMEDIATE")
        for item, mag in rows[:2]:
            stock_move(sim.conn, item=item, location=mag, on_hand=-1, at=sim.now())

    sim.export("delta", "STKBAL")
    first = read_out(sim.config, "STKBAL", 2)
    sim.export("delta", "STKBAL")
    second = read_out(sim.config, "STKBAL", 3)

    assert [(r["SBITEM"], r["SBMAG"]) for r in first] == [tuple(r) for r in rows[:2]]
    assert read_control(sim.config, "STKBAL", 2).kind == "D"
    assert all(from_datetime(sim.now()) == (r["SBDTCH"], r["SBHRCH"]) for r in first)
    assert second == []
    assert read_control(sim.config, "STKBAL", 3).count == 0


def test_a_full_extract_resets_what_the_next_delta_carries(sim: Simulator) -> None:
    item, mag = sim.conn.execute("SELECT SBITEM, SBMAG FROM STKBAL LIMIT 1").fetchone()
    with sim.conn:
        sim.conn.execute("BEGIN IMMEDIATE")
        stock_move(sim.conn, item=item, location=mag, on_hand=5, at=sim.now())

    sim.export("full", "STKBAL")
    sim.export("delta", "STKBAL")

    assert read_out(sim.config, "STKBAL", 2) == []


def test_sequences_are_counted_per_file_name(sim: Simulator) -> None:
    sim.export("full", "ITMMST")
    sim.export("delta", "ITMMST")
    sim.export("full", "STKBAL")

    assert out_names(sim.config, "ITMMST") == ["ITMMST_000001", "ITMMST_000002"]
    assert out_names(sim.config, "STKBAL") == ["STKBAL_000001"]


def test_a_sequence_already_in_out_or_archived_by_the_platform_is_never_reused(sim: Simulator) -> None:
    archive = sim.config.out_dir / "ARCHIVE"
    archive.mkdir()
    (archive / "STKBAL_000001.OK").write_bytes(b"")
    (archive / "STKBAL_000001.DAT").write_bytes(b"")

    sim.export("delta", "STKBAL")

    assert out_names(sim.config, "STKBAL") == ["STKBAL_000002"]


def test_step_writes_deltas_on_the_schedule(sim: Simulator) -> None:
    sim.step(minutes=60)

    assert len(out_names(sim.config, "STKBAL")) == 12  # every 5 minutes, 10:05 to 11:00
    assert len(out_names(sim.config, "ITMMST")) == 1  # hourly
    assert read_control(sim.config, "STKBAL", 1).time == 100500


def test_nightly_full_extracts_come_after_the_batch_window(night_sim: Simulator) -> None:
    sim = night_sim
    sim.step(minutes=(24 + 3) * 60 + 29 - 10 * 60)  # to Tuesday 03:29: the window is still on
    before = {f: latest_seq(sim.config, f) for f in ("ITMMST", "STKBAL", "WEBORD")}

    sim.step(minutes=1)  # 03:30: the batch is over

    assert before["WEBORD"] == 0
    for file in ("ITMMST", "STKBAL", "WEBORD"):
        control = read_control(sim.config, file, latest_seq(sim.config, file))
        assert control.kind == "F"
        assert control.time == 33000
    assert read_control(sim.config, "STKBAL", latest_seq(sim.config, "STKBAL")).count == sim.config.items * 31
    sim.step(minutes=24 * 60)
    fulls = [
        seq
        for seq in range(1, latest_seq(sim.config, "WEBORD") + 1)
        if read_control(sim.config, "WEBORD", seq).kind == "F"
    ]
    assert fulls == [1, 2]  # one a night


def test_no_delta_is_written_during_the_batch_window(night_sim: Simulator) -> None:
    sim = night_sim
    sim.step(minutes=15 * 60)  # Tuesday 01:00
    count = latest_seq(sim.config, "STKBAL")

    sim.step(minutes=150 - 1)  # until 03:29

    assert latest_seq(sim.config, "STKBAL") == count


def test_stores_sell_between_extracts_and_the_next_delta_carries_it(
    make_config: Callable[..., SimulatorConfig],
) -> None:
    with Simulator(make_config(store_sales_per_hour=600, price_changes_per_day=48)) as sim:
        sim.seed()
        before = sim.conn.execute("SELECT SUM(SBQOH) FROM STKBAL").fetchone()[0]
        store_before = sim.conn.execute("SELECT SUM(SBQOH) FROM STKBAL WHERE SBMAG <> 900").fetchone()[0]

        report = sim.step(minutes=60)

        after = sim.conn.execute("SELECT SUM(SBQOH) FROM STKBAL").fetchone()[0]
        store_after = sim.conn.execute("SELECT SUM(SBQOH) FROM STKBAL WHERE SBMAG <> 900").fetchone()[0]
        assert report.sales > 0
        assert after < before
        assert store_after < store_before
        changed = [r for seq in range(1, 13) for r in read_out(sim.config, "STKBAL", seq)]
        assert changed
        table = {
            (r["SBITEM"], r["SBMAG"]): r["SBQOH"]
            for r in sim.conn.execute("SELECT SBITEM, SBMAG, SBQOH FROM STKBAL")
        }
        latest_rows = {(r["SBITEM"], r["SBMAG"]): r["SBQOH"] for r in changed}
        assert all(table[key] == value for key, value in latest_rows.items())
        assert report.price_changes > 0
        prices = read_out(sim.config, "ITMMST", 1)
        assert prices
        assert all(r["IMDTCH"] == 1251124 for r in prices)


def test_store_sales_are_reproducible(make_config: Callable[..., SimulatorConfig]) -> None:
    def run(folder: str) -> list[tuple[object, ...]]:
        with Simulator(make_config(folder, store_sales_per_hour=300)) as sim:
            sim.seed()
            sim.step(minutes=30)
            sim.step(minutes=30)
            return [tuple(r) for r in sim.conn.execute("SELECT * FROM STKBAL ORDER BY SBITEM, SBMAG")]

    assert run("a") == run("b")


def test_stores_do_not_sell_at_night(make_config: Callable[..., SimulatorConfig]) -> None:
    with Simulator(make_config(store_sales_per_hour=60, stkbal_delta_minutes=60)) as sim:
        sim.seed()
        sim.step(minutes=10 * 60 + 30)  # to 20:30, the stores closed

        report = sim.step(minutes=10 * 60)

        assert report.sales == 0
        assert (report.start.hour, report.end.hour) == (20, 6)
