"""Names of exchange pairs and the atomic, never-overwriting write of a pair."""

from __future__ import annotations

from pathlib import Path

import pytest

from integration.as400.control import control_total
from integration.as400.files import PairName, pair_name, write_pair
from tests.races import race


def test_pair_names_parse_and_format() -> None:
    assert PairName.parse("STKBAL_000012.DAT") == (PairName("STKBAL", 12), "DAT")
    assert PairName.parse("STKBAL_000012.OK") == (PairName("STKBAL", 12), "OK")
    assert PairName.parse("STKBAL_12.DAT") is None
    assert PairName.parse(".STKBAL_000012.DAT.1-ab.tmp") is None
    assert pair_name("ORDIMP", 7).dat == "ORDIMP_000007.DAT"
    with pytest.raises(ValueError, match="does not fit in six digits"):
        pair_name("ORDIMP", 1_000_000)
    with pytest.raises(ValueError, match="not a file name of the exchange"):
        pair_name("ord imp", 1)


def test_a_pair_is_written_whole_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    dat, ok = write_pair(tmp_path, "ORDIMP", 3, b"records", b"control")

    assert (dat.read_bytes(), ok.read_bytes()) == (b"records", b"control")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ORDIMP_000003.DAT", "ORDIMP_000003.OK"]


def test_a_sequence_number_is_never_written_twice(tmp_path: Path) -> None:
    write_pair(tmp_path, "ORDIMP", 3, b"first", b"ok1")

    with pytest.raises(FileExistsError, match="ORDIMP_000003 already exists"):
        write_pair(tmp_path, "ORDIMP", 3, b"second", b"ok2")

    assert (tmp_path / "ORDIMP_000003.DAT").read_bytes() == b"first"
    assert len(list(tmp_path.iterdir())) == 2


def test_two_writers_racing_for_one_sequence_leave_exactly_one_whole_pair(tmp_path: Path) -> None:
    def writer(n: int) -> str:
        try:
            write_pair(tmp_path, "ORDIMP", 1, f"data-{n}".encode() * 10_000, f"ok-{n}".encode())
            return "written"
        except FileExistsError:
            return "refused"

    outcomes = [outcome.get() for outcome in race(writer, [(n,) for n in range(8)])]

    dat = (tmp_path / "ORDIMP_000001.DAT").read_bytes()
    ok = (tmp_path / "ORDIMP_000001.OK").read_bytes()
    assert dat.startswith(b"data-")
    winner = dat[5 : dat.index(b"data-", 5)]
    assert ok == b"ok-" + winner  # the .DAT and the .OK come from the same writer
    assert sorted(outcomes) == ["refused"] * 7 + ["written"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ORDIMP_000001.DAT", "ORDIMP_000001.OK"]


def test_a_file_outside_the_contract_has_no_control_total() -> None:
    with pytest.raises(ValueError, match="NOPE is not an exchange file of the contract"):
        control_total("NOPE", b"")
