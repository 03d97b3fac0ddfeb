"""Golden exchange files: bytes made from the contract alone, that the codec and the simulator must match.

The fixtures in ``tests/fixtures/as400/`` are written by ``make_golden.py`` beside them, which
imports nothing of the project: layouts copied by hand from ``docs/as400/dds/``, each field packed
by hand from ``docs/as400/README.md``. The simulator writes its exports with the platform's own
codec, so a codec bug on both sides would pass every round-trip test; these files do not move
when the codec does.
"""

from __future__ import annotations

import importlib.util
import sqlite3
import sys
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from integration.as400.codec import PARIS, RecordCodec
from integration.as400.control import ControlRecord, check_pair, control_for
from integration.as400.dds import load_layout
from integration.as400.simulator import Simulator
from integration.as400.simulator.config import SimulatorConfig
from integration.as400.simulator.db import connect, create_schema, to_db, transaction
from integration.as400.simulator.exports import export_full, outbox_add, outbox_flush, seq_record

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "as400"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_golden", FIXTURES / "make_golden.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


make_golden = _load_generator()
GOLDEN: tuple[Any, ...] = make_golden.GOLDEN
EXPORTS = ("ITMMST", "STKBAL", "ORDACK", "ORDSTS", "STRRTN")
IMPORTS = ("ORDIMP", "ORDANN", "RTNIMP")


def golden_id(golden: Any) -> str:
    return f"{golden.stem}-{golden.ccsid}"


def dat(golden: Any) -> bytes:
    return (FIXTURES / golden.folder / f"{golden.stem}.DAT").read_bytes()


def ok(golden: Any) -> bytes:
    return (FIXTURES / golden.folder / f"{golden.stem}.OK").read_bytes()


def taken_at(golden: Any) -> datetime:
    """The Paris moment of the golden control record's CTCDAT/CTCTIM."""
    ymd = golden.date + 19_000_000
    return datetime(
        ymd // 10_000, ymd // 100 % 100, ymd % 100,
        golden.time // 10_000, golden.time // 100 % 100, golden.time % 100, tzinfo=PARIS,
    )  # fmt: skip


def test_the_golden_set_covers_every_file_we_exchange_except_webord_and_both_code_pages() -> None:
    assert {g.file for g in GOLDEN if g.ccsid == 297} == {*EXPORTS, *IMPORTS}
    assert {g.ccsid for g in GOLDEN} == {297, 1147}
    assert any("€" in str(v) for g in GOLDEN if g.ccsid == 1147 for _, r in g.records for v in r.values())


def test_the_generators_hand_copied_layouts_are_the_dds_files_of_the_project() -> None:
    # The generator's table is typed from docs/as400/dds; the project reads integration/dds.
    for file, formats in make_golden.LAYOUTS.items():
        layout = load_layout(file)
        assert layout.record_length == make_golden.record_length(file)
        for fmt in layout.formats:
            assert [(f.name, f.offset, f.size, f.type, f.digits, f.decimals) for f in fmt.fields] == [
                tuple(spec) for spec in formats[fmt.name]
            ]
        assert {fmt.name for fmt in layout.formats} == set(formats)


def test_the_generators_packing_gives_the_contracts_own_examples() -> None:
    assert make_golden.zoned(-42, 3, 0) == bytes.fromhex("F0F4D2")
    assert make_golden.packed(-1234, 9, 0) == bytes.fromhex("000001234D")
    assert make_golden.packed(Decimal("19.99"), 9, 2) == bytes.fromhex("000001999F")  # 9P 2: 1999 means 19.99
    assert make_golden.packed(1251122, 7, 0) == bytes.fromhex("1251122F")  # 2025-11-22, CYYMMDD


@pytest.mark.parametrize("golden", GOLDEN, ids=golden_id)
def test_the_codec_decodes_each_golden_file_into_the_generators_values(golden: Any) -> None:
    codec = RecordCodec.for_file(golden.file, golden.ccsid)
    data = dat(golden)

    decoded = list(codec.iter_decode(data, source=golden.stem))

    assert decoded == [values for _, values in golden.records]
    size = codec.record_length
    assert [codec.format_of(data[i : i + size]).name for i in range(0, len(data), size)] == [
        fmt for fmt, _ in golden.records
    ]
    if not codec.layout.is_multi_format:
        columns = codec.decode_columns(data, source=golden.stem)
        assert columns == {name: [values[name] for _, values in golden.records] for name in columns}


@pytest.mark.parametrize("golden", GOLDEN, ids=golden_id)
def test_each_golden_control_record_decodes_and_verifies_its_file(golden: Any) -> None:
    control = ControlRecord.decode(ok(golden), golden.ccsid, source=f"{golden.stem}.OK")

    assert control == ControlRecord(
        file=golden.file, seq=golden.seq, kind=golden.kind, date=golden.date, time=golden.time,
        count=golden.count, hash=golden.hash_total,
    )  # fmt: skip
    assert control.created_at == taken_at(golden)
    assert check_pair(golden.file, dat(golden), control, ccsid=golden.ccsid) == []


@pytest.mark.parametrize("golden", GOLDEN, ids=golden_id)
def test_the_codec_encodes_the_generators_values_into_the_golden_bytes(golden: Any) -> None:
    codec = RecordCodec.for_file(golden.file, golden.ccsid)

    data = b"".join(codec.encode(values, format=fmt) for fmt, values in golden.records)
    control = control_for(
        golden.file, data, seq=golden.seq, kind=golden.kind, at=taken_at(golden), ccsid=golden.ccsid
    )

    size = codec.record_length  # hex shown a record a group, so that a failure points at the record
    assert data.hex(" ", -size) == dat(golden).hex(" ", -size)
    assert control.encode(golden.ccsid).hex() == ok(golden).hex()


# --- The simulator's writer -------------------------------------------------------------------


@pytest.fixture
def as400(tmp_path: Path) -> Iterator[tuple[sqlite3.Connection, Path]]:
    """An empty simulated AS400 (schema only, no seed) and its exchange folder."""
    conn = connect(tmp_path / "as400.sqlite3")
    create_schema(conn)
    yield conn, tmp_path / "exchange"
    conn.close()


def simulator_writes(conn: sqlite3.Connection, config: SimulatorConfig, golden: Any) -> tuple[bytes, bytes]:
    """Have the simulator write the golden file's business values through its own export path."""
    at = taken_at(golden)
    with transaction(conn):
        seq_record(conn, "OUT", golden.file, golden.seq - 1)
        if golden.file in ("ITMMST", "STKBAL"):
            # A full extract reads the rows from the simulator's table, as the nightly batch does.
            for _, values in golden.records:
                names = list(values)
                conn.execute(
                    f"INSERT INTO {golden.file} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                    [to_db(values[n]) for n in names],
                )
            [written] = export_full(conn, config, golden.file, at=at)
        else:
            # An event file goes out from the simulator's outbox, as the import job and the stores queue it.
            for _, values in golden.records:
                outbox_add(conn, golden.file, dict(values), at=at)
            [written] = outbox_flush(conn, config, at=at, files=(golden.file,))
    assert (written.file, written.seq, written.kind) == (golden.file, golden.seq, golden.kind)
    return written.dat.read_bytes(), written.ok.read_bytes()


@pytest.mark.parametrize("golden", [g for g in GOLDEN if g.file in EXPORTS], ids=golden_id)
def test_the_simulators_writer_produces_the_golden_bytes(
    golden: Any, as400: tuple[sqlite3.Connection, Path]
) -> None:
    conn, exchange = as400
    config = SimulatorConfig(
        db_path=exchange.parent / "as400.sqlite3", exchange_dir=exchange, ccsid=golden.ccsid
    )
    config.ensure_folders()

    data, control = simulator_writes(conn, config, golden)

    size = RecordCodec.for_file(golden.file, golden.ccsid).record_length
    assert data.hex(" ", -size) == dat(golden).hex(" ", -size)
    assert control.hex() == ok(golden).hex()  # the simulator's clock is the golden CTCDAT/CTCTIM


# --- The fixtures are the generator's output --------------------------------------------------


def test_the_generator_reproduces_the_committed_fixtures_byte_for_byte(tmp_path: Path) -> None:
    written = make_golden.write_all(tmp_path)

    produced = {p.relative_to(tmp_path).as_posix(): p.read_bytes() for p in written}
    committed = {
        p.relative_to(FIXTURES).as_posix(): p.read_bytes()
        for p in FIXTURES.rglob("*")
        if p.is_file() and p.suffix in (".DAT", ".OK", ".txt")
    }
    assert sorted(produced) == sorted(committed)
    for name, content in produced.items():
        assert content == committed[name], f"{name} differs from what make_golden.py writes: run it again"


# --- The simulator's reader -------------------------------------------------------------------


@pytest.mark.parametrize("golden", [g for g in GOLDEN if g.file in IMPORTS], ids=golden_id)
def test_the_simulators_import_job_accepts_each_golden_import_pair(golden: Any, tmp_path: Path) -> None:
    config = SimulatorConfig(
        db_path=tmp_path / "as400.sqlite3", exchange_dir=tmp_path / "exchange", ccsid=golden.ccsid,
        start=datetime(2025, 11, 24, 10, 0, tzinfo=PARIS), items=20, auto_lifecycle=False,
        store_sales_per_hour=0, price_changes_per_day=0, nightly_restock=False,
    )  # fmt: skip
    with Simulator(config) as sim:
        sim.seed()
        for suffix in (".DAT", ".OK"):
            (config.in_dir / f"{golden.stem}{suffix}").write_bytes(
                (FIXTURES / golden.folder / f"{golden.stem}{suffix}").read_bytes()
            )

        report = sim.import_now()
        acks = [
            (r["AKWEBN"], r["AKSTAT"])
            for p in sorted(config.out_dir.glob("ORDACK_*.DAT"))
            for r in RecordCodec.for_file("ORDACK", golden.ccsid).iter_decode(p.read_bytes())
        ]

    assert (report.done, report.refused) == ([golden.stem], {})
    assert sorted(p.name for p in config.done_dir.iterdir()) == [f"{golden.stem}.DAT", f"{golden.stem}.OK"]
    if golden.file == "ORDIMP":  # read whole, its order number answered (refused: nothing in it is real)
        assert acks == [("WEB-2025-000128", "R")]
