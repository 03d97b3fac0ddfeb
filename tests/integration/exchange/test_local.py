"""What is particular to the local-directory adapter: its folders, and a rename that fails."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from integration.as400.exchange import ExchangeUnavailable, Location, MoveFailed
from integration.as400.exchange.local import LocalExchangeFolder
from integration.as400.files import PairName

CCSID = 297


@contextmanager
def immutable(path: Path) -> Iterator[None]:
    """A file that nobody, root included, can rename: a real failure, nothing mocked."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not available")
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("this filesystem or user cannot make a file immutable")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_no_folder_is_ever_created_and_the_missing_ones_are_named(tmp_path: Path) -> None:
    # given a share that is not mounted: its root is there, empty
    root = tmp_path / "exchange"
    root.mkdir()
    folder = LocalExchangeFolder(root, CCSID)

    # when the folders are checked, and read as a sync would
    with pytest.raises(
        ExchangeUnavailable, match=r"lacks IN/, IN/DONE/, IN/ERR/, OUT/: the share is not mounted"
    ):
        folder.check_folders()
    folder.list_pairs(Location.OUT)

    # then nothing was created
    assert list(root.iterdir()) == []


def test_archive_and_quarantine_are_made_inside_out_on_their_first_use(exchange_dir: Path) -> None:
    folder = LocalExchangeFolder(exchange_dir, CCSID)
    folder.check_folders()  # IN/, IN/DONE/, IN/ERR/ and OUT/: enough
    (exchange_dir / "OUT" / "STKBAL_000001.DAT").write_bytes(b"")
    (exchange_dir / "OUT" / "STKBAL_000001.OK").write_bytes(b"ok")

    folder.quarantine(PairName("STKBAL", 1), "a test")

    assert sorted(p.name for p in (exchange_dir / "OUT" / "QUARANTINE").iterdir()) == [
        "STKBAL_000001.DAT",
        "STKBAL_000001.OK",
        "STKBAL_000001.REASON.txt",
    ]
    assert not (exchange_dir / "OUT" / "ARCHIVE").exists()


def test_existing_folders_and_files_are_left_as_they_are(tmp_path: Path) -> None:
    (tmp_path / "OUT").mkdir()
    (tmp_path / "OUT" / "STKBAL_000001.DAT").write_bytes(b"x")

    LocalExchangeFolder(tmp_path, CCSID)

    assert (tmp_path / "OUT" / "STKBAL_000001.DAT").read_bytes() == b"x"


def test_a_dat_that_cannot_move_puts_its_ok_back(exchange_dir: Path) -> None:
    # given a pair whose .DAT cannot be renamed
    folder = LocalExchangeFolder(exchange_dir, CCSID)
    out = exchange_dir / "OUT"
    (out / "STKBAL_000001.DAT").write_bytes(b"")
    (out / "STKBAL_000001.OK").write_bytes(b"ok")

    with immutable(out / "STKBAL_000001.DAT"):
        # when
        with pytest.raises(MoveFailed, match=r"could not move STKBAL_000001\.DAT .*; nothing moved"):
            folder.archive(PairName("STKBAL", 1))

        # then the pair is whole and ready in OUT/ again, and nothing is in the archive
        assert folder.ready_pairs(Location.OUT) == [PairName("STKBAL", 1)]
        assert list((out / "ARCHIVE").iterdir()) == []
