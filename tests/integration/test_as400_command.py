"""``manage.py as400``: decode, verify and encode exchange files.

The files decoded here are built by hand from the contract's "Encoding of a record" and "The
control record" (``bytes.fromhex`` and ``'text'.encode('cp297')``), never by RecordCodec.encode,
so that decoding is held to the contract and not only to our own encoder. Encoding is then held
to the same hand-built bytes.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from integration.as400 import cli
from integration.as400.codec import PARIS
from tests.processes import Processes

BLANK = b"\x40"


# --- Hand-built bytes, from the contract -------------------------------------------------------


def text(value: str, size: int, codepage: str = "cp297") -> bytes:
    """An A field: the code page's bytes, left-aligned, padded with blanks (X'40')."""
    raw = value.encode(codepage)
    assert len(raw) <= size
    return raw + BLANK * (size - len(raw))


def stkbal(item: str, mag: str, qoh: str, qrs: str, dtch: str, hrch: str) -> bytes:
    """A STKBAL record (36 bytes); numeric fields given as hex: SBMAG 3S 0 (3 bytes), SBQOH and
    SBQRS 9P 0 (5 bytes), SBDTCH 7P 0 and SBHRCH 6P 0 (4 bytes each)."""
    record = text(item, 15) + b"".join(bytes.fromhex(h) for h in (mag, qoh, qrs, dtch, hrch))
    assert len(record) == 36
    return record


# Three records: -1234 is X'000001234D' (the contract's 9P 0 example), 1251122 is 2025-11-22.
STK_1 = stkbal("ART-000042", "F0F0F1", "000001234D", "000000005F", "1251122F", "0143000F")
STK_2 = stkbal("ÉTÉ-2025", "F9F0F0", "000000042F", "000000000F", "1251121F", "0235959F")
# Signs a reader also accepts: C and A, E positive, B negative.
STK_3 = stkbal("X", "F0F3F0", "000000007C", "000000003B", "0991231A", "0000000E")
STK_ROWS = [
    {"SBITEM": "ART-000042", "SBMAG": 1, "SBQOH": -1234, "SBQRS": 5, "SBDTCH": 1251122, "SBHRCH": 143000},
    {"SBITEM": "ÉTÉ-2025", "SBMAG": 900, "SBQOH": 42, "SBQRS": 0, "SBDTCH": 1251121, "SBHRCH": 235959},
    {"SBITEM": "X", "SBMAG": 30, "SBQOH": 7, "SBQRS": -3, "SBDTCH": 991231, "SBHRCH": 0},
]
STK_HASH = -1234 + 42 + 7  # CTHASH of STKBAL sums SBQOH


def itmmst(
    item: str, ean: str, desc: str, fam: str, prix: str, tva: str, stat: str, dtch: str, cp: str = "cp297"
) -> bytes:
    """An ITMMST record (73 bytes): IMEAN 13S 0 as digits (zone F), IMPRIX 9P 2 as hex."""
    zoned = bytes(0xF0 | int(d) for d in ean)
    record = (
        text(item, 15)
        + zoned
        + text(desc, 30, cp)
        + text(fam, 4)
        + bytes.fromhex(prix)
        + text(tva, 1)
        + text(stat, 1)
        + bytes.fromhex(dtch)
    )
    assert len(record) == 73
    return record


def ordann(webn: str, lign: str, qte: str, rsn: str, date: str, time: str) -> bytes:
    """An ORDANN record (39 bytes): OALIGN 3S 0 and the packed fields as hex."""
    record = text(webn, 20) + bytes.fromhex(lign + qte) + text(rsn, 4) + bytes.fromhex(date + time)
    assert len(record) == 39
    return record


def ordimp_h(webn: str, nom: str, total: str, nbl: str) -> bytes:
    """An ORDIMP H record: 249 bytes, the longest format."""
    record = (
        text("H", 1)
        + text(webn, 20)
        + bytes.fromhex("1251122F" + "0101500F")  # OHDATE 7P 0, OHTIME 6P 0
        + text("D", 1)
        + bytes.fromhex("F9F0F0")  # OHMAGL 3S 0
        + text(nom, 30)
        + text("Zoé", 20)
        + text("1 rue de la Paix", 30)
        + text("", 30)
        + text("75002", 5)
        + text("Paris", 25)
        + text("FR", 2)
        + text("", 15)
        + text("zoe@example.fr", 50)
        + bytes.fromhex(total)  # OHTOTL 11P 2: 6 bytes
        + bytes.fromhex(nbl)  # OHNBL 3S 0
    )
    assert len(record) == 249
    return record


def ordimp_l(webn: str, lign: str, item: str, qte: str, prix: str) -> bytes:
    """An ORDIMP L record: 51 bytes of fields, padded with blanks to 249."""
    record = (
        text("L", 1)
        + text(webn, 20)
        + bytes.fromhex(lign)
        + text(item, 15)
        + bytes.fromhex(qte)  # OLQTE 7P 0: 4 bytes
        + bytes.fromhex(prix)  # OLPRIX 9P 2: 5 bytes
        + bytes.fromhex("F9F0F0")  # OLMAG 3S 0
    )
    assert len(record) == 51
    return record + BLANK * (249 - 51)


def ctlrec(file: str, seq: int, kind: str, date: str, time: str, count: int, total: int) -> bytes:
    """A CTLREC control record (38 bytes): CTSEQ 6S 0, CTCDAT 7P 0, CTCTIM 6P 0, CTRCNT 9P 0,
    CTHASH 15P 0."""
    sign = "D" if total < 0 else "F"
    record = (
        text(file, 10)
        + bytes(0xF0 | int(d) for d in f"{seq:06d}")
        + text(kind, 1)
        + bytes.fromhex(date + time)
        + bytes.fromhex(f"{count:09d}F")
        + bytes.fromhex(f"{abs(total):015d}{sign}")
    )
    assert len(record) == 38
    return record


def write_stkbal_pair(folder: Path, seq: int = 1, records: bytes | None = None, **ok: object) -> Path:
    """STKBAL_<seq>.DAT with the three hand-built records and a matching .OK (fields overridable)."""
    data = STK_1 + STK_2 + STK_3 if records is None else records
    control = {
        "file": "STKBAL",
        "seq": seq,
        "kind": "F",
        "date": "1251122F",
        "time": "0143000F",
        "count": 3,
        "total": STK_HASH,
    }
    control.update(ok)
    dat = folder / f"STKBAL_{seq:06d}.DAT"
    dat.write_bytes(data)
    dat.with_suffix(".OK").write_bytes(ctlrec(**control))  # type: ignore[arg-type]
    return dat


# --- Running the command ------------------------------------------------------------------------


def as400(*args: str | Path) -> str:
    """Run ``manage.py as400 ...`` in process; its standard output."""
    out = StringIO()
    call_command("as400", *[str(a) for a in args], stdout=out, stderr=StringIO())
    return out.getvalue()


def refused(*args: str | Path) -> str:
    """Run a command that must fail; its message."""
    with pytest.raises(CommandError) as excinfo:
        as400(*args)
    return str(excinfo.value)


def jsonl(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines()]


# --- decode ---------------------------------------------------------------------------------------


def test_decode_reads_hand_built_records_as_the_contract_says(tmp_path: Path) -> None:
    dat = tmp_path / "STKBAL_000001.DAT"
    dat.write_bytes(STK_1 + STK_2 + STK_3)

    output = as400("decode", dat, "--layout", "STKBAL")

    assert jsonl(output) == STK_ROWS
    assert output.splitlines()[0] == (
        '{"SBITEM": "ART-000042", "SBMAG": 1, "SBQOH": -1234, "SBQRS": 5, "SBDTCH": 1251122, "SBHRCH": 143000}'
    )


def test_decode_takes_the_layout_from_the_name(tmp_path: Path) -> None:
    dat = write_stkbal_pair(tmp_path, seq=12)

    assert jsonl(as400("decode", dat)) == STK_ROWS
    assert jsonl(as400("decode", dat.with_suffix(".OK"))) == [
        {
            "CTFILE": "STKBAL",
            "CTSEQ": 12,
            "CTKIND": "F",
            "CTCDAT": 1251122,
            "CTCTIM": 143000,
            "CTRCNT": 3,
            "CTHASH": STK_HASH,
        }
    ]


def test_decode_zoned_example_and_decimals_as_strings(tmp_path: Path) -> None:
    # 3S 0 holding -42 is X'F0F4D2'; 7P 0 holding 3 is X'0000003F'.
    ann = tmp_path / "ann.bin"
    ann.write_bytes(ordann("WEB-1", "F0F4D2", "0000003F", "CL01", "1251122F", "0235959F"))
    assert jsonl(as400("decode", ann, "--layout", "ordann")) == [
        {"OAWEBN": "WEB-1", "OALIGN": -42, "OAQTE": 3, "OARSN": "CL01", "OADATE": 1251122, "OATIME": 235959}
    ]
    # 9P 2 holding 1999 means 19.99: printed as the string "19.99", exactly; -0.50 keeps its zero.
    itm = tmp_path / "ITMMST_000003.DAT"
    itm.write_bytes(
        itmmst("ART-1", "3012345678901", "Crème brûlée", "DESS", "000001999F", "2", "A", "1251122F")
        + itmmst("ART-2", "0000000000000", "", "", "000000050D", " ", "S", "0000000F")
    )
    output = as400("decode", itm)
    assert jsonl(output) == [
        {
            "IMITEM": "ART-1",
            "IMEAN": 3012345678901,
            "IMDESC": "Crème brûlée",
            "IMFAMC": "DESS",
            "IMPRIX": "19.99",
            "IMTVA": "2",
            "IMSTAT": "A",
            "IMDTCH": 1251122,
        },
        {
            "IMITEM": "ART-2",
            "IMEAN": 0,
            "IMDESC": "",
            "IMFAMC": "",
            "IMPRIX": "-0.50",
            "IMTVA": "",
            "IMSTAT": "S",
            "IMDTCH": 0,
        },
    ]
    assert '"IMPRIX": "19.99"' in output


def test_decode_csv_has_a_header_of_field_names(tmp_path: Path) -> None:
    dat = write_stkbal_pair(tmp_path)

    output = as400("decode", dat, "--format", "csv")

    assert output.splitlines() == [
        "SBITEM,SBMAG,SBQOH,SBQRS,SBDTCH,SBHRCH",
        "ART-000042,1,-1234,5,1251122,143000",
        "ÉTÉ-2025,900,42,0,1251121,235959",
        "X,30,7,-3,991231,0",
    ]


def test_decode_multi_format_file_each_record_with_its_own_fields(tmp_path: Path) -> None:
    dat = tmp_path / "ORDIMP_000001.DAT"
    dat.write_bytes(
        ordimp_h("WEB-0001", "Côté", "00000003998F", "F0F0F2")
        + ordimp_l("WEB-0001", "F0F0F1", "ART-1", "0000002F", "000001999F")
        + ordimp_l("WEB-0001", "F0F0F2", "ART-2", "0000001F", "000000000F")
    )

    header, line1, line2 = jsonl(as400("decode", dat))

    assert list(header) == [
        "OHTYPE", "OHWEBN", "OHDATE", "OHTIME", "OHMODE", "OHMAGL", "OHNOM", "OHPRN", "OHADR1", "OHADR2",
        "OHCP", "OHVIL", "OHPAYS", "OHTEL", "OHMAIL", "OHTOTL", "OHNBL",
    ]  # fmt: skip
    assert header["OHNOM"] == "Côté"
    assert header["OHTOTL"] == "39.98"
    assert header["OHTIME"] == 101500
    assert line1 == {
        "OLTYPE": "L",
        "OLWEBN": "WEB-0001",
        "OLLIGN": 1,
        "OLITEM": "ART-1",
        "OLQTE": 2,
        "OLPRIX": "19.99",
        "OLMAG": 900,
    }
    assert line2["OLPRIX"] == "0.00"

    rows = as400("decode", dat, "--format", "csv").splitlines()
    assert rows[0].split(",") == [*header, *line1]  # one column per field of every format
    assert rows[1].startswith("H,WEB-0001,1251122,101500,D,900,Côté,Zoé,")
    assert rows[1].endswith(",39.98,2,,,,,,,")
    assert rows[2] == ",,,,,,,,,,,,,,,,,L,WEB-0001,1,ART-1,2,19.99,900"


def test_decode_other_ccsid(tmp_path: Path) -> None:
    # CCSID 1147 is 297 with the euro sign at X'9F'.
    dat = tmp_path / "ITMMST_000001.DAT"
    dat.write_bytes(itmmst("A", "0" * 13, "Prix en €", "", "000000100F", "1", "A", "0000000F", "cp1147"))
    assert dat.read_bytes()[15 + 13 + 8] == 0x9F

    assert jsonl(as400("decode", dat, "--ccsid", "1147"))[0]["IMDESC"] == "Prix en €"
    assert jsonl(as400("decode", dat, "--ccsid", "297"))[0]["IMDESC"] == "Prix en ¤"


@pytest.mark.parametrize("output", ["jsonl", "csv"])
def test_decode_streams_chunk_by_chunk_and_stops_at_the_first_bad_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, output: str
) -> None:
    monkeypatch.setattr(cli, "CHUNK_RECORDS", 4)
    monkeypatch.setattr(cli, "WRITE_BATCH", 3)
    bad_qoh = stkbal("BAD", "F0F0F1", "0000012347", "000000000F", "0000000F", "0000000F")  # sign 7
    bad_qrs = stkbal("BAD", "F0F0F1", "000000000F", "00000A000F", "0000000F", "0000000F")
    dat = tmp_path / "STKBAL_000001.DAT"
    # Records 1-5 good, 6 bad in SBQRS, 7 bad in SBQOH (a field before SBQRS), all in chunk 2.
    dat.write_bytes(STK_1 + STK_2 + STK_3 + STK_1 + STK_2 + bad_qrs + bad_qoh + STK_3)
    out = StringIO()

    with pytest.raises(CommandError) as excinfo:
        call_command("as400", "decode", str(dat), "--format", output, stdout=out)

    # What came before the bad record was printed, across chunks and write batches.
    if output == "jsonl":
        assert jsonl(out.getvalue()) == [*STK_ROWS, *STK_ROWS[:2]]
    else:
        assert len(out.getvalue().splitlines()) == 1 + 5
    assert str(excinfo.value) == (
        "STKBAL_000001.DAT, record 6, field SBQRS: is not a valid packed decimal "
        "(a digit above 9 or an unknown sign) (bytes X'00000A000F')"
    )


def test_decode_a_large_file_in_many_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "CHUNK_RECORDS", 7)
    dat = tmp_path / "STKBAL_000001.DAT"
    dat.write_bytes((STK_1 + STK_2 + STK_3) * 100)

    assert jsonl(as400("decode", dat)) == STK_ROWS * 100


# --- decode refuses -------------------------------------------------------------------------------


def test_decode_refuses_a_truncated_file_before_printing_anything(tmp_path: Path) -> None:
    dat = tmp_path / "STKBAL_000001.DAT"
    dat.write_bytes(STK_1 + STK_2[:20])
    out = StringIO()

    with pytest.raises(CommandError) as excinfo:
        call_command("as400", "decode", str(dat), stdout=out)

    assert out.getvalue() == ""
    assert str(excinfo.value) == (
        "STKBAL_000001.DAT: 56 bytes is not a whole number of 36-byte STKBAL records "
        "(1 records and 20 bytes left over)"
    )


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (
            stkbal("A", "F0F0F1", "000000000F", "0000012347", "0000000F", "0000000F"),
            "record 2, field SBQRS: is not a valid packed decimal (a digit above 9 or an unknown sign) "
            "(bytes X'0000012347')",
        ),
        (
            stkbal("A", "F0F0F1", "00000A234F", "000000000F", "0000000F", "0000000F"),
            "record 2, field SBQOH: is not a valid packed decimal (a digit above 9 or an unknown sign) "
            "(bytes X'00000A234F')",
        ),
        (
            stkbal("A", "F0FAF1", "000000000F", "000000000F", "0000000F", "0000000F"),
            "record 2, field SBMAG: is not a valid zoned decimal (a digit above 9 or an unknown sign) "
            "(bytes X'F0FAF1')",
        ),
        (
            stkbal("A", "F0F041", "000000000F", "000000000F", "0000000F", "0000000F"),
            "record 2, field SBMAG: is not a valid zoned decimal (a digit above 9 or an unknown sign) "
            "(bytes X'F0F041')",
        ),
    ],
    ids=["bad-sign-nibble", "packed-digit-above-9", "zoned-digit-above-9", "zoned-sign-4"],
)
def test_decode_refuses_a_bad_field_naming_record_field_and_bytes(
    tmp_path: Path, record: bytes, message: str
) -> None:
    dat = tmp_path / "STKBAL_000001.DAT"
    dat.write_bytes(STK_1 + record)

    assert refused("decode", dat) == f"STKBAL_000001.DAT, {message}"
    assert refused("decode", dat, "--format", "csv") == f"STKBAL_000001.DAT, {message}"


def test_decode_refuses_a_multi_format_record_of_no_format(tmp_path: Path) -> None:
    dat = tmp_path / "ORDIMP_000001.DAT"
    dat.write_bytes(ordimp_h("W", "N", "00000000000F", "F0F0F0") + text("X", 249))

    message = refused("decode", dat)

    assert message.startswith(
        "ORDIMP_000001.DAT, record 2, field OHTYPE: the first byte selects no record format"
    )
    assert message.endswith("(bytes X'E7')")


def test_decode_refuses_missing_files_bad_names_and_layouts(tmp_path: Path) -> None:
    assert (
        refused("decode", tmp_path / "STKBAL_000001.DAT") == f"{tmp_path / 'STKBAL_000001.DAT'}: no such file"
    )
    assert refused("decode", tmp_path) == f"{tmp_path}: not a regular file"
    stray = tmp_path / "export.bin"
    stray.write_bytes(STK_1)
    assert "cannot tell the layout from the name" in refused("decode", stray)
    assert refused("decode", stray, "--layout", "STOCK").startswith("no DDS source for STOCK in ")
    assert "known: CTLREC, ITMMST" in refused("decode", stray, "--layout", "STOCK")
    assert "invalid choice: 'xml'" in refused("decode", stray, "--layout", "STKBAL", "--format", "xml")
    assert "invalid choice: 500" in refused("decode", stray, "--layout", "STKBAL", "--ccsid", "500")
    assert "required: SUBCOMMAND" in refused()


def test_a_bad_file_from_the_real_command_line_gives_a_message_not_a_traceback(
    tmp_path: Path, processes: Processes
) -> None:
    dat = tmp_path / "STKBAL_000001.DAT"
    dat.write_bytes(STK_1[:-1])
    manage = Path(settings.BASE_DIR) / "manage.py"

    result = processes.run([sys.executable, manage, "as400", "decode", dat], timeout=120)

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "CommandError: STKBAL_000001.DAT: 35 bytes is not a whole number of 36-byte STKBAL records "
        "(0 records and 35 bytes left over)\n"
    )


# --- verify ---------------------------------------------------------------------------------------


def test_verify_a_matching_pair(tmp_path: Path) -> None:
    dat = write_stkbal_pair(tmp_path, seq=7)

    output = as400("verify", dat)

    assert output == f"OK: 3 records, CTHASH {STK_HASH}, kind F, taken at 2025-11-22 14:30:00+01:00\n"
    assert as400("verify", dat.with_suffix(".OK")) == output  # named by its .OK, the same check


def test_verify_names_every_mismatch_one_a_line(tmp_path: Path) -> None:
    dat = write_stkbal_pair(tmp_path, seq=7, file="ITMMST", count=4, total=999)

    message = refused("verify", dat)

    assert message.splitlines() == [
        "STKBAL_000007.DAT does not match its .OK (3 problems):",
        "STKBAL_000007.OK: CTFILE is 'ITMMST', the name says 'STKBAL'",
        "the control record counts 4 records (CTRCNT), STKBAL_000007.DAT holds 3 records",
        "the control total (CTHASH) is 999, the sum of SBQOH over the records is -1185",
    ]


def test_verify_sequence_and_kind(tmp_path: Path) -> None:
    dat = tmp_path / "STKBAL_000007.DAT"
    dat.write_bytes(STK_1 + STK_2 + STK_3)
    dat.with_suffix(".OK").write_bytes(ctlrec("STKBAL", 8, "X", "1251122F", "0143000F", 3, STK_HASH))

    assert refused("verify", dat).splitlines() == [
        "STKBAL_000007.DAT does not match its .OK (2 problems):",
        "STKBAL_000007.OK: CTKIND is 'X', expected F or D",
        "STKBAL_000007.OK: CTSEQ is 8, the name says 7",
    ]


def test_verify_a_truncated_file_and_its_bad_records(tmp_path: Path) -> None:
    bad = stkbal("A", "F0F0F1", "0000012347", "000000000F", "0000000F", "0000000F")
    dat = write_stkbal_pair(tmp_path, records=STK_1 + bad + STK_3 + bad + STK_1[:10])

    assert refused("verify", dat).splitlines() == [
        "STKBAL_000001.DAT does not match its .OK (5 problems):",
        "STKBAL_000001.DAT: 154 bytes is not a whole number of 36-byte STKBAL records "
        "(4 records and 10 bytes left over)",
        "STKBAL_000001.DAT, record 2, field SBQOH: is not a valid packed decimal "
        "(a digit above 9 or an unknown sign) (bytes X'0000012347')",
        "STKBAL_000001.DAT, record 4, field SBQOH: is not a valid packed decimal "
        "(a digit above 9 or an unknown sign) (bytes X'0000012347')",
        "the control record counts 3 records (CTRCNT), STKBAL_000001.DAT holds 4 whole records",
        "CTHASH not checked: 2 records of STKBAL_000001.DAT do not decode, so the sum of SBQOH cannot be taken",
    ]


def test_verify_lists_many_bad_records_then_counts_them(tmp_path: Path) -> None:
    bad = stkbal("A", "F0F0F1", "00000A000F", "000000000F", "0000000F", "0000000F")
    dat = write_stkbal_pair(tmp_path, records=bad * 25, count=25, total=0)

    lines = refused("verify", dat).splitlines()

    assert lines[0] == "STKBAL_000001.DAT does not match its .OK (22 problems):"
    assert lines[1].startswith("STKBAL_000001.DAT, record 1, field SBQOH:")
    assert lines[20].startswith("STKBAL_000001.DAT, record 20, field SBQOH:")
    assert lines[21] == "STKBAL_000001.DAT: ... and 5 more records that do not decode (25 in all)"
    assert lines[22].startswith("CTHASH not checked: 25 records")


def test_verify_a_multi_format_pair_sums_the_l_records(tmp_path: Path) -> None:
    dat = tmp_path / "ORDIMP_000004.DAT"
    dat.write_bytes(
        ordimp_h("WEB-0001", "Côté", "00000003998F", "F0F0F2")
        + ordimp_l("WEB-0001", "F0F0F1", "ART-1", "0000002F", "000001999F")
        + ordimp_l("WEB-0001", "F0F0F2", "ART-2", "0000005F", "000000000F")
    )
    ok = dat.with_suffix(".OK")
    ok.write_bytes(ctlrec("ORDIMP", 4, "D", "1251122F", "0101500F", 3, 7))
    assert as400("verify", dat) == "OK: 3 records, CTHASH 7, kind D, taken at 2025-11-22 10:15:00+01:00\n"

    ok.write_bytes(ctlrec("ORDIMP", 4, "D", "1251122F", "0101500F", 3, 2))
    assert refused("verify", dat).splitlines()[1] == (
        "the control total (CTHASH) is 2, the sum of OLQTE over the records is 7"
    )


def test_verify_refuses_what_it_cannot_check(tmp_path: Path) -> None:
    dat = tmp_path / "STKBAL_000001.DAT"
    assert refused("verify", dat) == f"{dat}: no such file"

    dat.write_bytes(STK_1)
    assert refused("verify", dat).splitlines() == [
        "STKBAL_000001.DAT does not match its .OK (1 problem):",
        "STKBAL_000001.OK is missing: a .DAT is not read before its .OK is there",
    ]
    dat.with_suffix(".OK").write_bytes(b"\x40" * 37)
    assert refused("verify", dat).splitlines()[1] == ("STKBAL_000001.OK: is 37 bytes, a control record is 38")

    stray = tmp_path / "stock.dat"
    stray.write_bytes(STK_1)
    assert "not the name of an exchange file" in refused("verify", stray)
    unknown = tmp_path / "FOO_000001.DAT"
    unknown.write_bytes(STK_1)
    assert refused("verify", unknown).startswith("no DDS source for FOO")


# --- encode ---------------------------------------------------------------------------------------


def write_lines(path: Path, *lines: str) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def test_encode_writes_the_bytes_the_contract_says(tmp_path: Path) -> None:
    src = write_lines(
        tmp_path / "stock.jsonl",
        json.dumps(STK_ROWS[0]),
        "",  # blank lines are skipped
        json.dumps(STK_ROWS[1], ensure_ascii=False),
    )
    out = tmp_path / "stock.dat"

    assert as400("encode", "--layout", "STKBAL", src, out) == f"Wrote 2 records to {out}\n"

    # The writer uses F and D signs only, as the AS400 does.
    assert out.read_bytes() == STK_1 + STK_2
    assert not list(tmp_path.glob(".*.tmp"))


def test_encode_reads_decimals_exactly_from_numbers_and_strings(tmp_path: Path) -> None:
    row = {
        "IMITEM": "ART-1",
        "IMEAN": 3012345678901,
        "IMDESC": "Crème brûlée",
        "IMFAMC": "DESS",
        "IMTVA": "2",
        "IMSTAT": "A",
        "IMDTCH": 1251122,
    }
    src = write_lines(
        tmp_path / "items.jsonl",
        json.dumps({**row, "IMPRIX": 19.99}),  # a JSON float, read as Decimal('19.99')
        json.dumps({**row, "IMPRIX": "19.99"}),
        json.dumps({**row, "IMPRIX": 1999e-2}),
    )
    out = tmp_path / "items.dat"

    as400("encode", "--layout", "ITMMST", src, out)

    expected = itmmst("ART-1", "3012345678901", "Crème brûlée", "DESS", "000001999F", "2", "A", "1251122F")
    assert out.read_bytes() == expected * 3


def test_encode_verify_decode_round_trip(tmp_path: Path) -> None:
    src = write_lines(tmp_path / "stock.jsonl", *(json.dumps(r, ensure_ascii=False) for r in STK_ROWS))
    before = datetime.now(PARIS).replace(microsecond=0)

    output = as400("encode", "--layout", "STKBAL", src, tmp_path / "STKBAL_000123.DAT", "--ok", "--kind", "D")

    dat, ok = tmp_path / "STKBAL_000123.DAT", tmp_path / "STKBAL_000123.OK"
    assert output.splitlines()[0] == f"Wrote 3 records to {dat}"
    assert output.splitlines()[1].startswith(f"Wrote {ok}: CTRCNT 3, CTHASH {STK_HASH}, kind D, taken at ")
    assert dat.read_bytes() == STK_1 + STK_2 + stkbal(
        "X", "F0F3F0", "000000007F", "000000003D", "0991231F", "0000000F"
    )
    control = jsonl(as400("decode", ok))[0]
    assert control["CTFILE"] == "STKBAL"
    assert control["CTSEQ"] == 123
    assert control["CTKIND"] == "D"
    assert (control["CTRCNT"], control["CTHASH"]) == (3, STK_HASH)
    day, clock = int(control["CTCDAT"]), int(control["CTCTIM"])  # type: ignore[call-overload]
    taken = datetime.strptime(f"{day + 19_000_000} {clock:06d}", "%Y%m%d %H%M%S")
    assert before.replace(tzinfo=None) <= taken <= datetime.now(PARIS).replace(tzinfo=None)

    verified = as400("verify", dat)
    assert verified.startswith(f"OK: 3 records, CTHASH {STK_HASH}, kind D, taken at ")

    decoded = as400("decode", dat)
    assert jsonl(decoded) == STK_ROWS
    again = write_lines(tmp_path / "again.jsonl", *decoded.splitlines())
    as400("encode", "--layout", "STKBAL", again, tmp_path / "STKBAL_000124.DAT", "--ok")
    assert (tmp_path / "STKBAL_000124.DAT").read_bytes() == dat.read_bytes()


def test_encode_a_multi_format_file_with_folding(tmp_path: Path) -> None:
    src = write_lines(
        tmp_path / "orders.jsonl",
        json.dumps({"OHTYPE": "H", "OHWEBN": "W-1", "OHNOM": "Lœtitia", "OHTOTL": 19.99, "OHNBL": 1}),
        json.dumps(
            {"OLTYPE": "L", "OLWEBN": "W-1", "OLLIGN": 1, "OLITEM": "A", "OLQTE": 4, "OLPRIX": "19.99"}
        ),
    )

    assert "character 'œ' (U+0153) has no place in CCSID 297" in refused(
        "encode", "--layout", "ORDIMP", src, tmp_path / "ORDIMP_000001.DAT", "--ok"
    )
    as400("encode", "--layout", "ORDIMP", src, tmp_path, "--seq", "1", "--ok", "--fold")

    assert as400("verify", tmp_path / "ORDIMP_000001.DAT").startswith("OK: 2 records, CTHASH 4, kind F")
    header, line = jsonl(as400("decode", tmp_path / "ORDIMP_000001.DAT"))
    assert header["OHNOM"] == "Loetitia"
    assert header["OHTOTL"] == "19.99"
    assert line["OLPRIX"] == "19.99"


def test_encode_cut_shortens_long_text(tmp_path: Path) -> None:
    src = write_lines(tmp_path / "a.jsonl", json.dumps({"SBITEM": "X" * 20}))

    assert refused("encode", "--layout", "STKBAL", src, tmp_path / "a.dat") == (
        "a.jsonl, line 1: field SBITEM: 'XXXXXXXXXXXXXXXXXXXX' is 20 characters, the field holds 15"
    )
    as400("encode", "--layout", "STKBAL", src, tmp_path / "a.dat", "--cut")
    assert (tmp_path / "a.dat").read_bytes()[:16] == "X".encode("cp297") * 15 + b"\xf0"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"SBITEM": "A", "SBQOH": 12', "line 2: not valid JSON: Expecting ',' delimiter (column 28)"),
        ('["A", 1]', "line 2: expected a JSON object keyed by field names, found list"),
        ('{"SBQOH": 1234567890}', "line 2: field SBQOH: 1234567890 does not fit in 9 digits with 0 decimals"),
        ('{"SBQOH": 1.5}', "line 2: field SBQOH: 1.5 has more than 0 decimal places"),
        ('{"SBQOH": NaN}', "line 2: NaN is not a number the AS400 can hold"),
        ('{"SBQOH": "many"}', "line 2: field SBQOH: 'many' is not a number"),
        ('{"SBITEM": "A", "COLOUR": "red"}', "line 2: field COLOUR: not in format STKBALR (fields: SBITEM,"),
        ('{"SBITEM": "Ω"}', "line 2: field SBITEM: character 'Ω' (U+03A9) has no place in CCSID 297"),
    ],
)
def test_encode_refuses_a_bad_line_naming_it_and_writes_nothing(
    tmp_path: Path, line: str, message: str
) -> None:
    src = write_lines(tmp_path / "in.jsonl", json.dumps(STK_ROWS[0]), line)
    out = tmp_path / "STKBAL_000001.DAT"

    assert refused("encode", "--layout", "STKBAL", src, out, "--ok").startswith(f"in.jsonl, {message}")
    assert list(tmp_path.iterdir()) == [src]


def test_encode_refuses_inconsistent_outputs(tmp_path: Path) -> None:
    src = write_lines(tmp_path / "in.jsonl", json.dumps(STK_ROWS[0]))
    stkbal_layout = ("encode", "--layout", "STKBAL", src)

    assert refused(*stkbal_layout, tmp_path / "stock.dat", "--ok") == (
        "stock.dat: with --ok the output must be named STKBAL_<SEQ>.DAT (or be a folder, with --seq), "
        "as the exchange names a pair"
    )
    assert refused(*stkbal_layout, tmp_path / "ITMMST_000001.DAT", "--ok") == (
        "ITMMST_000001.DAT is named for ITMMST, but the layout is STKBAL"
    )
    assert refused(*stkbal_layout, tmp_path / "STKBAL_000001.DAT", "--ok", "--seq", "2") == (
        "--seq 2 does not match the sequence 1 in the name STKBAL_000001.DAT"
    )
    assert refused(*stkbal_layout, tmp_path, "--ok") == (
        f"{tmp_path} is a folder: give --seq to name the file STKBAL_<SEQ>.DAT in it"
    )
    assert refused(*stkbal_layout, tmp_path / "x.dat", "--kind", "D") == "--kind is used with --ok only"
    assert refused(*stkbal_layout, tmp_path / "no" / "x.dat") == f"{tmp_path / 'no'}: no such folder"
    assert refused("encode", "--layout", "CTLREC", src, tmp_path / "CTLREC_000001.DAT", "--ok") == (
        "CTLREC is not an exchange file: it has no control record (--ok)"
    )
    assert refused("encode", "--layout", "NOPE", src, tmp_path / "x.dat").startswith("no DDS source for NOPE")
    assert refused("encode", "--layout", "STKBAL", tmp_path / "none.jsonl", tmp_path / "x.dat") == (
        f"{tmp_path / 'none.jsonl'}: no such file"
    )
    assert "the following arguments are required: --layout" in refused("encode", src, tmp_path / "x.dat")

    as400(*stkbal_layout, tmp_path / "STKBAL_000001.DAT", "--ok")
    assert refused(*stkbal_layout, tmp_path / "STKBAL_000001.DAT", "--ok") == (
        f"{tmp_path / 'STKBAL_000001.DAT'} already exists: it is not overwritten"
    )
    (tmp_path / "STKBAL_000002.OK").write_bytes(b"")
    assert refused(*stkbal_layout, tmp_path / "STKBAL_000002.DAT", "--ok") == (
        f"STKBAL_000002 already exists in {tmp_path}: it is not overwritten"
    )


def test_encode_reads_standard_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", StringIO(json.dumps(STK_ROWS[2]) + "\n{oops\n"))

    assert refused("encode", "--layout", "STKBAL", "-", tmp_path / "x.dat") == (
        "<stdin>, line 2: not valid JSON: Expecting property name enclosed in double quotes (column 2)"
    )

    monkeypatch.setattr(sys, "stdin", StringIO(json.dumps(STK_ROWS[2]) + "\n"))
    as400("encode", "--layout", "stkbal", "-", tmp_path / "x.dat")
    assert jsonl(as400("decode", tmp_path / "x.dat", "--layout", "STKBAL")) == [STK_ROWS[2]]


def test_encode_refuses_text_that_is_not_utf8(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"SBITEM": "A"}\n{"SBITEM": "\xe9"}\n')

    assert refused("encode", "--layout", "STKBAL", src, tmp_path / "x.dat") == (
        "in.jsonl, line 2: not UTF-8 text (byte X'E9')"
    )
