"""The ExchangeFolder contract, run against every adapter (see conftest.ADAPTERS).

Pairs are built with the record codec and the control record, as the AS400 would write them, and
put straight into the folders; everything else goes through the port.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from integration.as400.codec import PARIS, RecordCodec
from integration.as400.control import ControlRecord, control_for
from integration.as400.exchange import (
    Location,
    PairExists,
    PairNotFound,
    PairRefused,
    RefusalKind,
)
from integration.as400.files import PairName

CCSID = 297
AT = datetime(2025, 11, 22, 10, 15, tzinfo=PARIS)
STKBAL_LENGTH = 36


def stkbal_records(n: int) -> list[dict[str, Any]]:
    return [
        {
            "SBITEM": f"ITEM{i:05d}",
            "SBMAG": 1,
            "SBQOH": 10 + i,
            "SBQRS": i % 3,
            "SBDTCH": 1251122,
            "SBHRCH": 101500,
        }
        for i in range(n)
    ]


def ordann_records(n: int) -> list[dict[str, Any]]:
    return [
        {"OAWEBN": f"WEB{i:08d}", "OALIGN": 0, "OAQTE": 1 + i % 5, "OARSN": "CLI", "OADATE": 1251122}
        for i in range(n)
    ]


RECORDS = {"STKBAL": stkbal_records, "ORDANN": ordann_records}


def build(file: str, seq: int, n: int = 3, kind: str = "D") -> tuple[PairName, bytes, ControlRecord]:
    """A good pair: its name, its data and its control record."""
    data = RecordCodec.for_file(file, CCSID).encode_many(RECORDS[file](n))
    return PairName(file, seq), data, control_for(file, data, seq=seq, kind=kind, at=AT, ccsid=CCSID)


def put_good(exchange: Any, file: str, seq: int, n: int = 3, location: Location = Location.OUT) -> PairName:
    name, data, control = build(file, seq, n)
    exchange.put_pair(location, name, data, control.encode(CCSID))
    return name


# --- Listing ----------------------------------------------------------------------------------


def test_ready_pairs_come_in_sequence_order_per_file_name(exchange: Any) -> None:
    # given pairs of two files, written in no particular order
    for file, seq in [("STKBAL", 10), ("ITMMST", 2), ("STKBAL", 9), ("STKBAL", 100), ("ITMMST", 1)]:
        exchange.put_pair("OUT", PairName(file, seq), b"", b"")

    # when
    ready = exchange.folder.ready_pairs("OUT")
    stkbal = exchange.folder.ready_pairs("OUT", file="STKBAL")

    # then
    assert ready == [
        PairName("ITMMST", 1),
        PairName("ITMMST", 2),
        PairName("STKBAL", 9),
        PairName("STKBAL", 10),
        PairName("STKBAL", 100),
    ]
    assert stkbal == [PairName("STKBAL", 9), PairName("STKBAL", 10), PairName("STKBAL", 100)]


def test_a_dat_without_its_ok_is_not_ready(exchange: Any) -> None:
    # given a .DAT still being written, beside a ready pair
    exchange.put("OUT", "STKBAL_000002.DAT", b"\x00" * 7)
    put_good(exchange, "STKBAL", 1)

    # when
    listing = exchange.folder.list_pairs("OUT")

    # then it is listed apart, with its size, and not as an anomaly
    assert listing.ready == (PairName("STKBAL", 1),)
    assert [(p.name, p.part, p.size, p.elsewhere) for p in listing.not_ready] == [
        (PairName("STKBAL", 2), "DAT", 7, None)
    ]
    assert listing.orphans == ()
    assert listing.anomalies() == []
    with pytest.raises(PairNotFound, match=r"STKBAL_000002\.OK is not there"):
        exchange.folder.read_pair(PairName("STKBAL", 2))


def test_an_ok_without_its_dat_is_reported_as_an_orphan(exchange: Any) -> None:
    # given
    name, _, control = build("STKBAL", 4)
    exchange.put("OUT", name.ok, control.encode(CCSID))

    # when
    listing = exchange.folder.list_pairs("OUT")

    # then
    assert listing.ready == ()
    assert [(p.name, p.part) for p in listing.orphans] == [(name, "OK")]
    assert listing.anomalies() == ["OUT/STKBAL_000004.OK: .OK without its .DAT"]
    with pytest.raises(PairNotFound, match=r"STKBAL_000004\.DAT is not"):
        exchange.folder.read_pair(name)


def test_names_off_the_pattern_are_ignored_but_visible(exchange: Any) -> None:
    # given
    put_good(exchange, "STKBAL", 1)
    strays = [
        "stkbal_000002.dat",
        "STKBAL_2.DAT",
        "README.txt",
        ".STKBAL_000003.DAT.tmp",
        "STKBAL_000003.DAT.bak",
    ]
    for stray in strays:
        exchange.put("OUT", stray, b"x")
    (exchange.path("OUT") / "STKBAL_000005.DAT.d").mkdir()

    # when
    listing = exchange.folder.list_pairs("OUT")

    # then
    assert listing.ready == (PairName("STKBAL", 1),)
    assert listing.not_ready == ()
    assert listing.orphans == ()
    assert listing.ignored == tuple(sorted(strays))
    assert "OUT/README.txt: not an exchange file name, ignored" in listing.anomalies()


def test_listing_reads_nothing_and_moves_nothing(exchange: Any) -> None:
    # given
    put_good(exchange, "STKBAL", 1)
    exchange.put("OUT", "STKBAL_000002.DAT", b"partial")
    before = exchange.everything()

    # when
    exchange.folder.list_pairs("OUT")
    exchange.folder.sent_state()

    # then
    assert exchange.everything() == before


# --- Reading and verifying --------------------------------------------------------------------


def test_a_good_pair_verifies(exchange: Any) -> None:
    # given
    name, data, control = build("STKBAL", 7, n=5)
    exchange.put_pair("OUT", name, data, control.encode(CCSID))

    # when
    pair = exchange.folder.read_pair(name)

    # then
    assert pair.name == name
    assert pair.location is Location.OUT
    assert pair.control == control
    assert pair.control.count == 5
    assert pair.data == data
    assert pair.size == 5 * STKBAL_LENGTH
    assert pair.sha256 == hashlib.sha256(data).hexdigest()


def test_an_empty_delta_verifies(exchange: Any) -> None:
    name, data, control = build("STKBAL", 1, n=0)
    exchange.put_pair("OUT", name, data, control.encode(CCSID))

    assert exchange.folder.read_pair(name).control.count == 0


def bad_sign_in_record_2(data: bytes) -> bytes:
    # SBQOH is 9P 0 at offset 18, 5 bytes; its last byte holds the sign in its low half.
    at = STKBAL_LENGTH + 18 + 4
    return data[:at] + bytes([(data[at] & 0xF0) | 0x7]) + data[at + 1 :]


REFUSALS = {
    "truncated .DAT": (
        lambda d, c: (d[:-5], c.encode(CCSID)),
        RefusalKind.SIZE,
        "103 bytes is not a whole number of 36-byte STKBAL records (2 records and 31 bytes left over)",
    ),
    "one byte too many": (
        lambda d, c: (d + b"\x40", c.encode(CCSID)),
        RefusalKind.SIZE,
        "(3 records and 1 bytes left over)",
    ),
    "a record missing": (
        lambda d, c: (d[:-STKBAL_LENGTH], c.encode(CCSID)),
        RefusalKind.CONTENT,
        "the control record counts 3 records (CTRCNT), the file holds 2",
    ),
    "wrong count": (
        lambda d, c: (d, replace(c, count=4).encode(CCSID)),
        RefusalKind.CONTENT,
        "the control record counts 4 records (CTRCNT), the file holds 3",
    ),
    "wrong hash": (
        lambda d, c: (d, replace(c, hash=c.hash + 1).encode(CCSID)),
        RefusalKind.CONTENT,
        "the control total (CTHASH) is 34, the sum of SBQOH over the records is 33",
    ),
    "bad packed sign": (
        lambda d, c: (bad_sign_in_record_2(d), c.encode(CCSID)),
        RefusalKind.CONTENT,
        "STKBAL_000001.DAT, record 2, field SBQOH: is not a valid packed decimal",
    ),
    "CTFILE not the file name": (
        lambda d, c: (d, replace(c, file="ITMMST").encode(CCSID)),
        RefusalKind.NAME,
        "STKBAL_000001.OK holds CTFILE 'ITMMST' and CTSEQ 000001, the file name says 'STKBAL' and 000001",
    ),
    "CTSEQ not the file name": (
        lambda d, c: (d, replace(c, seq=2).encode(CCSID)),
        RefusalKind.NAME,
        "holds CTFILE 'STKBAL' and CTSEQ 000002, the file name says 'STKBAL' and 000001",
    ),
    "garbage .OK": (
        lambda d, c: (d, b"OK\n"),
        RefusalKind.CONTROL,
        "the .OK does not decode: STKBAL_000001.OK: is 3 bytes, a control record is 38",
    ),
    ".OK with a bad kind": (
        lambda d, c: (d, replace(c, kind="X").encode(CCSID)),
        RefusalKind.CONTROL,
        "CTKIND is 'X', expected F or D",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_pair_that_does_not_match_is_refused_naming_what_is_wrong(exchange: Any, case: str) -> None:
    # given
    spoil, kind, reason = REFUSALS[case]
    name, data, control = build("STKBAL", 1, n=3)
    dat, ok = spoil(data, control)
    exchange.put_pair("OUT", name, dat, ok)
    before = exchange.everything()

    # when
    with pytest.raises(PairRefused) as refused:
        exchange.folder.read_pair(name)

    # then
    assert refused.value.name == name
    assert refused.value.kind is kind
    assert reason in refused.value.reason
    assert exchange.everything() == before  # a read moves nothing, refused or not


def test_every_problem_is_listed_when_there_are_several(exchange: Any) -> None:
    name, data, control = build("STKBAL", 1, n=3)
    exchange.put_pair("OUT", name, data, replace(control, count=9, hash=0).encode(CCSID))

    with pytest.raises(PairRefused) as refused:
        exchange.folder.read_pair(name)

    assert len(refused.value.problems) == 2
    assert "(CTRCNT)" in refused.value.problems[0]
    assert "(CTHASH)" in refused.value.problems[1]


def test_a_file_the_as400_does_not_write_is_refused_in_out(exchange: Any) -> None:
    name = put_good(exchange, "ORDANN", 1)

    with pytest.raises(PairRefused) as refused:
        exchange.folder.read_pair(name)

    assert refused.value.kind is RefusalKind.UNKNOWN_FILE
    assert "ORDANN is not a file of OUT/" in refused.value.reason


# --- Archive and quarantine -------------------------------------------------------------------


def test_archive_moves_both_parts_and_keeps_them(exchange: Any) -> None:
    # given
    name, data, control = build("STKBAL", 3)
    exchange.put_pair("OUT", name, data, control.encode(CCSID))
    put_good(exchange, "STKBAL", 4)

    # when
    exchange.folder.archive(name)

    # then
    assert exchange.files("OUT") == {"STKBAL_000004.DAT", "STKBAL_000004.OK"}
    assert exchange.files("OUT/ARCHIVE") == {"STKBAL_000003.DAT", "STKBAL_000003.OK"}
    assert exchange.path("OUT/ARCHIVE", name.dat).read_bytes() == data
    assert exchange.path("OUT/ARCHIVE", name.ok).read_bytes() == control.encode(CCSID)
    assert exchange.folder.ready_pairs("OUT") == [PairName("STKBAL", 4)]


def test_archive_again_changes_nothing(exchange: Any) -> None:
    name = put_good(exchange, "STKBAL", 3)
    exchange.folder.archive(name)
    before = exchange.everything()

    exchange.folder.archive(name)

    assert exchange.everything() == before


def test_archive_never_replaces_an_archived_pair(exchange: Any) -> None:
    # given the same name already in the archive
    name = put_good(exchange, "STKBAL", 3)
    exchange.put("OUT/ARCHIVE", name.dat, b"older")
    before = exchange.everything()

    # when / then
    with pytest.raises(PairExists, match=r"OUT/ARCHIVE/ already holds STKBAL_000003\.DAT; nothing moved"):
        exchange.folder.archive(name)
    assert exchange.everything() == before


def test_archive_refuses_a_pair_that_is_not_ready(exchange: Any) -> None:
    exchange.put("OUT", "STKBAL_000003.DAT", b"still being written")
    before = exchange.everything()

    with pytest.raises(PairNotFound, match="has no .OK; its writer may be at work"):
        exchange.folder.archive(PairName("STKBAL", 3))
    assert exchange.everything() == before


def test_an_interrupted_archive_is_visible_and_finished_by_archiving_again(exchange: Any) -> None:
    # given a move that stopped after the .OK (the order the port uses)
    name, data, control = build("STKBAL", 3)
    exchange.put("OUT", name.dat, data)
    exchange.put("OUT/ARCHIVE", name.ok, control.encode(CCSID))

    # when
    listing = exchange.folder.list_pairs("OUT")

    # then it is not ready, and an operator sees where its .OK went
    assert listing.ready == ()
    assert [(p.name, p.elsewhere) for p in listing.half_moved] == [(name, Location.OUT_ARCHIVE)]
    assert listing.anomalies() == [
        "OUT/STKBAL_000003.DAT: .DAT without its .OK, which is in OUT/ARCHIVE/ (an interrupted move)"
    ]

    # and archiving again finishes the move
    exchange.folder.archive(name)
    assert exchange.files("OUT") == set()
    assert exchange.files("OUT/ARCHIVE") == {name.dat, name.ok}


def test_quarantine_moves_both_parts_with_the_reason_beside_them(exchange: Any) -> None:
    # given
    name, data, control = build("STKBAL", 5)
    exchange.put_pair("OUT", name, data[:-1], control.encode(CCSID))
    with pytest.raises(PairRefused) as refused:
        exchange.folder.read_pair(name)

    # when
    exchange.folder.quarantine(name, refused.value.reason, at=AT)

    # then
    assert exchange.files("OUT") == set()
    assert exchange.files("OUT/QUARANTINE") == {name.dat, name.ok, "STKBAL_000005.REASON.txt"}
    assert exchange.path("OUT/QUARANTINE", name.dat).read_bytes() == data[:-1]
    text = exchange.path("OUT/QUARANTINE", "STKBAL_000005.REASON.txt").read_text(encoding="utf-8")
    assert text == (
        "STKBAL_000005 quarantined at 2025-11-22T10:15:00+01:00\n"
        "parts: STKBAL_000005.DAT, STKBAL_000005.OK\n"
        f"reason: {refused.value.reason}\n"
    )
    assert exchange.folder.quarantine_reason(name) == text
    quarantined = exchange.folder.list_pairs(Location.OUT_QUARANTINE)
    assert quarantined.ready == (name,)
    assert quarantined.ignored == ()  # the reason file belongs there


def test_quarantine_takes_an_orphan_ok_alone(exchange: Any) -> None:
    name, _, control = build("STKBAL", 6)
    exchange.put("OUT", name.ok, control.encode(CCSID))

    exchange.folder.quarantine(name, "an .OK without its .DAT", at=AT)

    assert exchange.files("OUT") == set()
    assert exchange.files("OUT/QUARANTINE") == {name.ok, "STKBAL_000006.REASON.txt"}
    assert "parts: STKBAL_000006.OK\n" in (exchange.folder.quarantine_reason(name) or "")


def test_quarantine_leaves_a_dat_without_ok_alone(exchange: Any) -> None:
    exchange.put("OUT", "STKBAL_000007.DAT", b"being written")
    before = exchange.everything()

    with pytest.raises(PairNotFound):
        exchange.folder.quarantine(PairName("STKBAL", 7), "whatever", at=AT)
    assert exchange.everything() == before


# --- Writing into IN/ -------------------------------------------------------------------------


def test_write_pair_publishes_both_parts_and_no_temporary_file(exchange: Any) -> None:
    # given
    _, data, control = build("ORDANN", 12, n=4)

    # when
    name = exchange.folder.write_pair(control, data)

    # then
    assert name == PairName("ORDANN", 12)
    assert exchange.files("IN") == {"ORDANN_000012.DAT", "ORDANN_000012.OK"}
    assert exchange.path("IN", name.dat).read_bytes() == data
    assert ControlRecord.decode(exchange.path("IN", name.ok).read_bytes(), CCSID) == control
    assert exchange.folder.read_pair(name, location="IN").data == data


@pytest.mark.parametrize("where", ["IN", "IN/DONE", "IN/ERR"])
def test_write_pair_refuses_a_sequence_already_used(exchange: Any, where: str) -> None:
    # given ORDANN 12 written before, and wherever the AS400 has put it since
    put_good(exchange, "ORDANN", 12, location=Location(where))
    before = exchange.everything()
    _, data, control = build("ORDANN", 12, n=1)

    # when / then
    with pytest.raises(PairExists, match=f"ORDANN_000012 is already used: {where}/"):
        exchange.folder.write_pair(control, data)
    assert exchange.everything() == before


def test_write_pair_refuses_what_the_as400_would_refuse(exchange: Any) -> None:
    _, data, control = build("ORDANN", 1, n=2)

    with pytest.raises(PairRefused) as refused:
        exchange.folder.write_pair(replace(control, count=3), data)

    assert refused.value.kind is RefusalKind.CONTENT
    assert exchange.files("IN") == set()


def test_write_pair_refuses_a_file_the_as400_does_not_import(exchange: Any) -> None:
    _, data, control = build("STKBAL", 1)

    with pytest.raises(PairRefused) as refused:
        exchange.folder.write_pair(control, data)

    assert refused.value.kind is RefusalKind.UNKNOWN_FILE
    assert exchange.files("IN") == set()


# --- What became of what we wrote -------------------------------------------------------------


def test_sent_state_tells_waiting_done_and_refused_pairs_apart(exchange: Any) -> None:
    # given four pairs written, then handled by the AS400
    for seq in (1, 2, 3, 4):
        _, data, control = build("ORDANN", seq)
        exchange.folder.write_pair(control, data)
    exchange.move("IN", "IN/DONE", "ORDANN_000001.DAT")
    exchange.move("IN", "IN/DONE", "ORDANN_000001.OK")
    exchange.move("IN", "IN/ERR", "ORDANN_000002.DAT")
    exchange.move("IN", "IN/ERR", "ORDANN_000002.OK")
    exchange.move("IN", "IN/DONE", "ORDANN_000003.DAT")  # the AS400 is moving this one right now

    # when
    state = exchange.folder.sent_state()

    # then
    assert state.pending.ready == (PairName("ORDANN", 4),)
    assert state.done.ready == (PairName("ORDANN", 1),)
    assert state.refused.ready == (PairName("ORDANN", 2),)
    assert [(p.filename, p.elsewhere) for p in state.pending.orphans] == [
        ("ORDANN_000003.OK", Location.IN_DONE)
    ]
    assert state.highest_seq == {"ORDANN": 4}
    assert state.next_seq("ORDANN") == 5
    assert state.next_seq("RTNIMP") == 1
    assert state.where(PairName("ORDANN", 2)) is Location.IN_ERR
    assert state.where(PairName("ORDANN", 3)) is None


def test_highest_seq_counts_every_folder_and_can_keep_one_file(exchange: Any) -> None:
    put_good(exchange, "ORDANN", 40, location=Location.IN_DONE)
    put_good(exchange, "ORDANN", 7, location=Location.IN)
    exchange.put("IN/ERR", "RTNIMP_000051.DAT", b"")

    assert exchange.folder.sent_state().highest_seq == {"ORDANN": 40, "RTNIMP": 51}
    assert exchange.folder.sent_state(file="RTNIMP").highest_seq == {"RTNIMP": 51}


def test_a_refused_pair_is_read_back_from_err(exchange: Any) -> None:
    # given one of our pairs the AS400 refused for its content, one for a reason of its own
    bad_name, bad_data, bad_control = build("ORDANN", 8)
    exchange.put_pair("IN/ERR", bad_name, bad_data, replace(bad_control, hash=0).encode(CCSID))
    good_name, good_data, good_control = build("ORDANN", 9)
    exchange.put_pair("IN/ERR", good_name, good_data, good_control.encode(CCSID))

    # when
    bad = exchange.folder.read_refused(bad_name)
    good = exchange.folder.read_refused(good_name)

    # then the data is there to resend either way, with what our check says of it
    assert bad.data == bad_data
    assert bad.location is Location.IN_ERR
    assert bad.refusal is not None
    assert bad.refusal.kind is RefusalKind.CONTENT
    assert bad.control == replace(bad_control, hash=0)
    assert good.data == good_data
    assert good.control == good_control
    assert good.refusal is None
    assert good.sha256 == hashlib.sha256(good_data).hexdigest()


# --- A reader beside a writer ------------------------------------------------------------------


def test_a_reader_never_sees_an_ok_before_its_dat_is_complete(exchange: Any) -> None:
    # given a writer that publishes pairs of about 400 KB, and a reader that lists IN/ meanwhile
    pairs = 25
    _, data, _ = build("ORDANN", 1, n=10_000)
    seen: set[PairName] = set()
    problems: list[str] = []
    writer_done = threading.Event()

    def write() -> None:
        try:
            for seq in range(1, pairs + 1):
                control = control_for("ORDANN", data, seq=seq, kind="D", at=AT, ccsid=CCSID)
                exchange.folder.write_pair(control, data)
        except Exception as exc:  # reported by the test below
            problems.append(f"writer: {exc!r}")
        finally:
            writer_done.set()

    def read() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            finished = writer_done.is_set()  # taken before listing: the last listing sees everything
            listing = exchange.folder.list_pairs("IN")
            if listing.orphans:
                problems.append(f"orphans seen: {listing.orphans}")
            for name in listing.ready:
                if name not in seen:
                    seen.add(name)
                    try:
                        exchange.folder.read_pair(name, location="IN")
                    except Exception as exc:
                        problems.append(f"{name.stem}: {exc!r}")
            if finished:
                return
        problems.append("the reader ran out of time")

    # when
    threads = [threading.Thread(target=write), threading.Thread(target=read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)

    # then
    assert not any(t.is_alive() for t in threads)
    assert problems == []
    assert seen == {PairName("ORDANN", seq) for seq in range(1, pairs + 1)}


def test_our_stale_temporary_files_in_in_are_removed_and_nothing_else(exchange: Any) -> None:
    # given what killed writers left (old), a write in progress (fresh), and files that are not ours
    old = time.time() - 2 * 3600
    stale = [".ORDIMP_000007.DAT.4242-9f3a0c1e.tmp", ".ORDANN_000002.OK.17-0badf00d.tmp"]
    fresh = ".ORDIMP_000008.DAT.4243-12345678.tmp"
    not_ours = [".ITMMST_000001.DAT.1-12345678.tmp", "notes.tmp", ".ORDIMP_000009.DAT.tmp"]
    for filename in [*stale, *not_ours]:
        exchange.put("IN", filename, b"x")
        os.utime(exchange.path("IN", filename), (old, old))
    exchange.put("IN", fresh, b"x")
    now = time.time()  # the file system's clock may not be ours (CI's clock-ahead run): say "fresh" on ours
    os.utime(exchange.path("IN", fresh), (now, now))
    name = put_good(exchange, "ORDANN", 6, location=Location.IN)
    os.utime(exchange.path("IN", name.dat), (old, old))

    # when
    removed = exchange.folder.remove_stale_temporaries(older_than=timedelta(hours=1))

    # then only our old temporaries are gone; pairs, fresh writes and others' files stay
    assert sorted(removed) == sorted(stale)
    assert exchange.files("IN") == {fresh, *not_ours, name.dat, name.ok}
    assert exchange.folder.remove_stale_temporaries(older_than=timedelta(hours=1)) == []
