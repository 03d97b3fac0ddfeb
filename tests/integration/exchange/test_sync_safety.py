"""The sync and the exchange folder together: no file lost, none applied twice, none stuck.

Real EBCDIC pairs in a real folder, written as the AS400 writes them; the real sync applies them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from integration.as400.codec import PARIS, RecordCodec
from integration.as400.control import control_for
from integration.as400.exchange import Location
from integration.as400.files import PairName, write_pair
from integration.as400.sync import exchange_sync
from integration.models import Alert, FileRun
from inventory.models import Location as StockLocation
from inventory.models import StockLevel

pytestmark = pytest.mark.django_db

LAST_YEAR = datetime(2025, 11, 22, 3, 45, tzinfo=PARIS)
NIGHT = datetime(2026, 11, 22, 3, 45, tzinfo=PARIS)
MORNING = datetime(2026, 11, 22, 9, 15, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def warehouse(db: None) -> None:
    StockLocation.objects.create(code=900, name="Entrepôt", kind=StockLocation.Kind.WAREHOUSE)


def pair_bytes(
    file: str, seq: int, records: Iterable[Mapping[str, Any]], *, kind: str, at: datetime
) -> tuple[bytes, bytes]:
    data = RecordCodec.for_file(file, 297).encode_many(records)
    return data, control_for(file, data, seq=seq, kind=kind, at=at, ccsid=297).encode(297)


def as400_writes(root: Path, file: str, seq: int, records: Iterable[Mapping[str, Any]], *, kind: str = "F",
                 at: datetime = NIGHT, where: str = "OUT") -> PairName:  # fmt: skip
    data, ok = pair_bytes(file, seq, records, kind=kind, at=at)
    (root / where).mkdir(exist_ok=True)  # OUT/ARCHIVE/ and OUT/QUARANTINE/ are made on their first use
    write_pair(root / where, file, seq, data, ok)
    return PairName(file, seq)


def item(number: str) -> dict[str, Any]:
    return {"IMITEM": number, "IMEAN": 0, "IMDESC": f"Article {number}", "IMFAMC": "F001", "IMPRIX": "10.00",
            "IMTVA": "1", "IMSTAT": "A", "IMDTCH": 1261120}  # fmt: skip


def stock(number: str, on_hand: int) -> dict[str, Any]:
    return {"SBITEM": number, "SBMAG": 900, "SBQOH": on_hand, "SBQRS": 0, "SBDTCH": 1261122, "SBHRCH": 30000}


def on_hand() -> dict[str, int]:
    return {s.product.item_number: s.on_hand for s in StockLevel.objects.select_related("product")}


def files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.is_file()}


def test_a_pair_whose_archive_name_is_taken_is_applied_once_alerted_and_blocks_nothing(
    exchange_dir: Path,
) -> None:
    # given last year's STKBAL_000001 still in the archive (its runs long purged), and the AS400,
    # its counter reset, sending a new STKBAL_000001 and then 000002
    as400_writes(exchange_dir, "ITMMST", 1, [item("A1")])
    exchange_sync(files=["ITMMST"])
    as400_writes(exchange_dir, "STKBAL", 1, [stock("A1", 3)], at=LAST_YEAR, where="OUT/ARCHIVE")
    old = {n: (exchange_dir / "OUT/ARCHIVE" / n).read_bytes() for n in files(exchange_dir / "OUT/ARCHIVE")}
    as400_writes(exchange_dir, "STKBAL", 1, [stock("A1", 10)])
    as400_writes(exchange_dir, "STKBAL", 2, [stock("A1", 7)], kind="D", at=MORNING)

    # when two runs go by
    first = exchange_sync(files=["STKBAL"])
    second = exchange_sync(files=["STKBAL"])

    # then both files are applied once each, in order, and the run did not stop at the clash
    assert [(r.seq, r.outcome) for r in first.runs] == [(1, "applied"), (2, "applied")]
    assert second.runs == []
    assert on_hand() == {"A1": 7}
    # nothing is lost: the old archive is untouched, the new 000001 waits in OUT/, and staff know
    assert {n: (exchange_dir / "OUT/ARCHIVE" / n).read_bytes() for n in old} == old
    assert files(exchange_dir / "OUT") == {"STKBAL_000001.DAT", "STKBAL_000001.OK"}
    alert = Alert.objects.get(kind="archive_blocked", subject="STKBAL_000001")
    assert alert.severity == "critical"
    assert "already holds" in alert.message


def test_a_reused_name_whose_quarantine_is_taken_is_kept_in_out_and_alerted(exchange_dir: Path) -> None:
    # given ITMMST_000001 applied, a refused ITMMST_000001 of long ago in the quarantine, and the
    # AS400 sending ITMMST_000001 again with other content
    as400_writes(exchange_dir, "ITMMST", 1, [item("A1")])
    exchange_sync(files=["ITMMST"])
    archived = exchange_dir / "OUT/ARCHIVE"
    for part in ("DAT", "OK"):
        (archived / f"ITMMST_000001.{part}").rename(exchange_dir / f"kept.{part}")
    as400_writes(exchange_dir, "ITMMST", 1, [item("OLD")], where="OUT/QUARANTINE")
    as400_writes(exchange_dir, "ITMMST", 1, [item("B2")])
    as400_writes(exchange_dir, "STKBAL", 1, [stock("A1", 4)])

    # when
    report = exchange_sync()

    # then the clash neither raises nor stops the stock, the new pair stays in OUT/, staff know
    assert [(r.file, r.outcome) for r in report.runs] == [("STKBAL", "applied")]
    assert on_hand() == {"A1": 4}
    assert files(exchange_dir / "OUT") == {"ITMMST_000001.DAT", "ITMMST_000001.OK"}
    assert Alert.objects.filter(kind="sequence_reused", subject="ITMMST_000001").exists()
    assert Alert.objects.filter(kind="quarantine_blocked", subject="ITMMST_000001").exists()


def test_a_lower_sequence_taken_later_is_a_counter_reset_quarantined_not_ignored(exchange_dir: Path) -> None:
    # given STKBAL up to 000500 applied, then the AS400's counter restarting at 000001
    as400_writes(exchange_dir, "ITMMST", 1, [item("A1")])
    as400_writes(exchange_dir, "STKBAL", 500, [stock("A1", 10)], at=NIGHT)
    exchange_sync()
    as400_writes(exchange_dir, "STKBAL", 1, [stock("A1", 2)], at=MORNING)

    # when
    report = exchange_sync()

    # then it is neither applied nor silently ignored: it is quarantined, whole, and alerted
    assert [(r.seq, r.outcome) for r in report.runs] == [(1, "quarantined")]
    assert on_hand() == {"A1": 10}
    assert files(exchange_dir / "OUT/QUARANTINE") >= {"STKBAL_000001.DAT", "STKBAL_000001.OK"}
    alert = Alert.objects.get(kind="sequence_reset", subject="STKBAL_000001")
    assert alert.severity == "critical"


def test_an_old_redelivery_with_a_lower_sequence_is_still_ignored(exchange_dir: Path) -> None:
    as400_writes(exchange_dir, "ITMMST", 1, [item("A1")])
    as400_writes(exchange_dir, "STKBAL", 5, [stock("A1", 10)], at=MORNING)
    exchange_sync()
    as400_writes(exchange_dir, "STKBAL", 4, [stock("A1", 2)], at=NIGHT)

    report = exchange_sync()

    assert [(r.seq, r.outcome) for r in report.runs] == [(4, "ignored")]
    assert on_hand() == {"A1": 10}


def test_an_archive_interrupted_after_its_ok_is_finished_by_the_next_run(exchange_dir: Path) -> None:
    # given a run that committed STKBAL_000001 and stopped after moving its .OK
    as400_writes(exchange_dir, "ITMMST", 1, [item("A1")])
    as400_writes(exchange_dir, "STKBAL", 1, [stock("A1", 10)])
    exchange_sync()
    os.replace(exchange_dir / "OUT/ARCHIVE/STKBAL_000001.DAT", exchange_dir / "OUT/STKBAL_000001.DAT")
    StockLevel.objects.update(on_hand=99)  # so that a second application would show

    # when
    report = exchange_sync()

    # then the move is finished, nothing applied again
    assert report.runs == []
    assert files(exchange_dir / "OUT") == set()
    assert {"STKBAL_000001.DAT", "STKBAL_000001.OK"} <= files(exchange_dir / "OUT/ARCHIVE")
    assert on_hand() == {"A1": 99}
    assert FileRun.objects.filter(file="STKBAL").count() == 1


def test_a_quarantine_interrupted_after_its_ok_is_finished_by_the_next_run(exchange_dir: Path) -> None:
    # given a refused pair whose quarantine stopped after its .OK
    as400_writes(exchange_dir, "ITMMST", 1, [item("A1")])
    exchange_sync()
    name = as400_writes(exchange_dir, "STKBAL", 1, [stock("A1", 10)])
    dat = exchange_dir / "OUT" / name.dat
    dat.write_bytes(dat.read_bytes()[:-1])
    exchange_sync()
    os.replace(exchange_dir / "OUT/QUARANTINE" / name.dat, dat)

    # when
    exchange_sync()

    # then
    assert files(exchange_dir / "OUT") == set()
    assert {name.dat, name.ok} <= files(exchange_dir / "OUT/QUARANTINE")


def test_a_new_dat_under_an_archived_ok_that_does_not_match_is_left_alone(exchange_dir: Path) -> None:
    # given an archived .OK alone, and a .DAT in OUT/ that is not the one it describes
    as400_writes(exchange_dir, "ITMMST", 1, [item("A1")])
    as400_writes(exchange_dir, "STKBAL", 1, [stock("A1", 10)])
    exchange_sync()
    (exchange_dir / "OUT/ARCHIVE/STKBAL_000001.DAT").rename(exchange_dir / "kept.DAT")
    other, _ = pair_bytes("STKBAL", 1, [stock("A1", 1), stock("A1", 2)], kind="F", at=MORNING)
    (exchange_dir / "OUT/STKBAL_000001.DAT").write_bytes(other)
    old = datetime.now().timestamp() - timedelta(hours=1).total_seconds()
    os.utime(exchange_dir / "OUT/STKBAL_000001.DAT", (old, old))

    # when
    exchange_sync()

    # then it is not moved, and staff are told
    assert (exchange_dir / "OUT/STKBAL_000001.DAT").read_bytes() == other
    assert Alert.objects.filter(kind="half_moved", subject="STKBAL_000001").exists()


def test_the_port_finishes_only_moves_it_can_prove(exchange_dir: Path) -> None:
    from integration.as400.exchange.local import LocalExchangeFolder

    folder = LocalExchangeFolder(exchange_dir, 297)
    as400_writes(exchange_dir, "STKBAL", 1, [stock("A1", 10)])
    assert folder.finish_interrupted_move(PairName("STKBAL", 1)) is None  # whole in OUT/: nothing to do
    (exchange_dir / "OUT/ARCHIVE").mkdir()  # made by the first archiving, as the sync does
    os.replace(exchange_dir / "OUT/STKBAL_000001.OK", exchange_dir / "OUT/ARCHIVE/STKBAL_000001.OK")

    assert folder.finish_interrupted_move(PairName("STKBAL", 1)) is Location.OUT_ARCHIVE
    assert files(exchange_dir / "OUT/ARCHIVE") == {"STKBAL_000001.DAT", "STKBAL_000001.OK"}
