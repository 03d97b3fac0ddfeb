"""What the simulated AS400 writes to OUT/: extracts, deltas and event files.

Every file is a ``.DAT``/``.OK`` pair ``<FILE>_<SEQ:06d>``, written by :func:`integration.as400.files.
write_pair` (temporary names, rename, ``.OK`` last), with one sequence counter per file name.
The control record is computed by :func:`integration.as400.control.control_for` on the data as encoded;
the ``corrupt`` fault spoils the ``.DAT`` after that, so that the ``.OK`` describes the good data
and a correct reader refuses the file.

- Full extracts (CTKIND F): ITMMST, STKBAL, WEBORD, every row in key order.
- Deltas (CTKIND D): the ITMMST and STKBAL rows changed since the previous file of that name
  (full or delta), from the change log (SIM_CHGLOG).
- Event files (CTKIND D): ORDACK, ORDSTS and STRRTN records waiting in SIM_OUTBOX.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from django.utils.translation import gettext_noop

from integration.as400.codec import RecordCodec
from integration.as400.control import control_for
from integration.as400.dds import load_layout
from integration.as400.files import write_pair
from integration.as400.simulator.clock import epoch
from integration.as400.simulator.config import SimulatorConfig
from integration.as400.simulator.db import log_event, money, state_get, state_set
from integration.as400.simulator.errors import SimulatorError
from integration.as400.simulator.faults import fault_active, fault_consume, fault_set

FULL_FILES = ("ITMMST", "STKBAL", "WEBORD")
DELTA_FILES = ("ITMMST", "STKBAL")
EVENT_FILES = ("ORDACK", "ORDSTS", "STRRTN")
MONEY_FIELDS = {"IMPRIX", "WOTOTL"}
# Where the platform moves what it read from OUT/ (integration.as400.exchange): a sequence seen there is used.
PLATFORM_OUT_SUBDIRS = ("ARCHIVE", "QUARANTINE")


@dataclass(frozen=True)
class ExportedFile:
    """One pair written to OUT/."""

    file: str
    seq: int
    kind: str
    records: int
    dat: Path
    ok: Path
    note: str = ""

    @property
    def name(self) -> str:
        return f"{self.file}_{self.seq:06d}"


# --- Sequence numbers -------------------------------------------------------------------------


def seq_last(conn: sqlite3.Connection, direction: str, file: str) -> int:
    row = conn.execute(
        "SELECT LAST FROM SIM_SEQ WHERE DIRECTION = ? AND FILE = ?", (direction, file)
    ).fetchone()
    return 0 if row is None else int(row["LAST"])


def seq_record(conn: sqlite3.Connection, direction: str, file: str, value: int) -> None:
    conn.execute(
        "INSERT INTO SIM_SEQ (DIRECTION, FILE, LAST) VALUES (?, ?, ?) "
        "ON CONFLICT (DIRECTION, FILE) DO UPDATE SET LAST = MAX(LAST, excluded.LAST)",
        (direction, file, value),
    )


def seq_next(conn: sqlite3.Connection, folder: Path, file: str, *, skip: bool = False) -> int:
    """The next OUT sequence number of ``file``; one more is skipped with ``skip``.

    A number whose pair is already in the folder is never reused (a database re-created beside an
    old exchange folder goes on after what is there).
    """
    seq = seq_last(conn, "OUT", file) + (2 if skip else 1)
    while _used(folder, file, seq):
        seq += 1
    seq_record(conn, "OUT", file, seq)
    return seq


def _used(folder: Path, file: str, seq: int) -> bool:
    """Whether a part of that pair is in OUT/ or where the platform moves what it read from there."""
    stem = f"{file}_{seq:06d}"
    return any((place / f"{stem}.{ext}").exists() for place in _out_places(folder) for ext in ("DAT", "OK"))


def _out_places(folder: Path) -> tuple[Path, ...]:
    return (folder, *(folder / sub for sub in PLATFORM_OUT_SUBDIRS))


# --- Writing a file ---------------------------------------------------------------------------


def file_record(
    conn: sqlite3.Connection,
    *,
    direction: str,
    name: str,
    file: str,
    seq: int,
    kind: str,
    records: int,
    outcome: str,
    at: datetime,
    detail: str = "",
    sha256: str = "",
) -> None:
    """Note a file written or read, for the status page (and, for IN, to never apply it twice)."""
    conn.execute(
        "INSERT INTO SIM_FILE (DIRECTION, NAME, FILE, SEQ, KIND, RECORDS, OUTCOME, DETAIL, SHA256, SIM_AT, REAL_AT) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (direction, name, file, seq, kind, records, outcome, detail, sha256, epoch(at), time.time()),
    )


def corrupt_data(codec: RecordCodec, data: bytes, how: str) -> tuple[bytes, str]:
    """Spoil one packed field of the middle record: an invalid sign nibble, or a digit above 9."""
    size = codec.record_length
    count = len(data) // size
    recno = count // 2
    record = data[recno * size : (recno + 1) * size]
    fmt = codec.format_of(record)
    field = next((f for f in fmt.fields if f.type == "P"), None)
    if field is None:
        raise SimulatorError(gettext_noop("{file} has no packed field to corrupt"), file=codec.layout.name)
    spoiled = bytearray(data)
    start = recno * size + field.offset
    if how == "digit":
        spoiled[start] = 0xA0 | (spoiled[start] & 0x0F)
    else:
        last = start + field.size - 1
        spoiled[last] = (spoiled[last] & 0xF0) | 0x07
    return bytes(spoiled), f"record {recno + 1} field {field.name} corrupted ({how})"


def write_export(
    conn: sqlite3.Connection,
    config: SimulatorConfig,
    *,
    file: str,
    kind: str,
    records: list[dict[str, Any]],
    at: datetime,
) -> list[ExportedFile]:
    """Encode and write one file to OUT/, applying the one-shot export faults that concern it."""
    codec = RecordCodec.for_file(file, config.ccsid)
    data = codec.encode_many(records)
    skip = fault_consume(conn, "skip", file, at=at)
    seq = seq_next(conn, config.out_dir, file, skip=skip is not None)
    control = control_for(file, data, seq=seq, kind=kind, at=at, ccsid=config.ccsid)
    written, notes = data, []
    if skip is not None:
        notes.append(f"sequence {seq - 1} skipped (fault skip)")
    corrupt = fault_active(conn, "corrupt", file)
    if corrupt is not None and records:
        fault_consume(conn, "corrupt", file, at=at)
        written, what = corrupt_data(codec, data, corrupt.value or "sign")
        notes.append(f"{what} (fault corrupt)")
    dat_path, ok_path = write_pair(config.out_dir, file, seq, written, control.encode(config.ccsid))
    note = "; ".join(notes)
    results = [ExportedFile(file, seq, kind, len(records), dat_path, ok_path, note)]
    twice = fault_consume(conn, "twice", file, at=at)
    if twice is not None:
        again = seq_next(conn, config.out_dir, file)
        copy = replace(control, seq=again)
        dat2, ok2 = write_pair(config.out_dir, file, again, written, copy.encode(config.ccsid))
        results.append(
            ExportedFile(
                file, again, kind, len(records), dat2, ok2, f"copy of {results[0].name} (fault twice)"
            )
        )
    for result in results:
        file_record(
            conn, direction="OUT", name=result.name, file=file, seq=result.seq, kind=kind,
            records=result.records, outcome="written", at=at, detail=result.note,
            sha256=hashlib.sha256(written).hexdigest(),
        )  # fmt: skip
        log_event(conn, at, "export", f"{result.name} {kind} {result.records} records {result.note}".rstrip())
    state_set(conn, f"last_extract:{file}", epoch(at))
    return results


# --- Extracts ---------------------------------------------------------------------------------


def _record(row: sqlite3.Row) -> dict[str, Any]:
    values = dict(row)
    for name in MONEY_FIELDS & values.keys():
        values[name] = money(values[name])
    return values


def _key_order(file: str, alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + key for key in load_layout(file).keys)


def _columns(file: str, alias: str) -> str:
    return ", ".join(f"{alias}.{f.name}" for f in load_layout(file).fields)


def export_full(
    conn: sqlite3.Connection, config: SimulatorConfig, file: str, *, at: datetime
) -> list[ExportedFile]:
    """A full extract of ITMMST, STKBAL or WEBORD (CTKIND F), in key order."""
    if file not in FULL_FILES:
        raise SimulatorError(
            gettext_noop("full extracts are {files}, not {file!r}"), files=", ".join(FULL_FILES), file=file
        )
    rows = conn.execute(
        f"SELECT {_columns(file, 't')} FROM {file} t ORDER BY {_key_order(file, 't')}"
    ).fetchall()
    top = _change_top(conn, file)
    results = write_export(conn, config, file=file, kind="F", records=[_record(r) for r in rows], at=at)
    if file in DELTA_FILES:
        state_set(conn, f"hwm:{file}", top)
    return results


def export_delta(
    conn: sqlite3.Connection, config: SimulatorConfig, file: str, *, at: datetime, force: bool = False
) -> list[ExportedFile]:
    """The ITMMST or STKBAL rows changed since the previous file of that name (CTKIND D).

    An empty delta is written too (as the schedule says) unless the configuration says otherwise
    and ``force`` is not given.
    """
    if file not in DELTA_FILES:
        raise SimulatorError(
            gettext_noop("deltas are {files}, not {file!r}"), files=", ".join(DELTA_FILES), file=file
        )
    since = int(state_get(conn, f"hwm:{file}", 0))
    top = _change_top(conn, file)
    join = "c.ITEM = t.IMITEM AND c.MAG = 0" if file == "ITMMST" else "c.ITEM = t.SBITEM AND c.MAG = t.SBMAG"
    rows = conn.execute(
        f"SELECT {_columns(file, 't')} FROM {file} t JOIN SIM_CHGLOG c ON c.FILE = ? AND {join} "
        f"WHERE c.CHGNO > ? ORDER BY {_key_order(file, 't')}",
        (file, since),
    ).fetchall()
    if not rows and not config.write_empty_deltas and not force:
        return []
    if _delta_lost(conn, file, at=at):
        # Consumed, not written: the next delta starts after these changes, and no sequence
        # number is used, so the platform sees no gap; only the next full extract has them.
        state_set(conn, f"hwm:{file}", top)
        log_event(conn, at, "fault", f"{file} delta of {len(rows)} records never exported (fault nodelta)")
        return []
    results = write_export(conn, config, file=file, kind="D", records=[_record(r) for r in rows], at=at)
    state_set(conn, f"hwm:{file}", top)
    return results


def _delta_lost(conn: sqlite3.Connection, file: str, *, at: datetime) -> bool:
    """Whether the ``nodelta`` fault takes this delta (STKBAL's when no file was named); switched off."""
    state = fault_active(conn, "nodelta", file)
    if state is None or (state.file or "STKBAL") != file:
        return False
    fault_set(conn, "nodelta", active=False, at=at)
    return True


def _change_top(conn: sqlite3.Connection, file: str) -> int:
    row = conn.execute("SELECT MAX(CHGNO) FROM SIM_CHGLOG WHERE FILE = ?", (file,)).fetchone()
    return int(row[0] or 0)


# --- Event files (ORDACK, ORDSTS, STRRTN) -----------------------------------------------------


def outbox_add(conn: sqlite3.Connection, file: str, record: dict[str, Any], *, at: datetime) -> None:
    """Queue one record of an event file; it goes out with the next flush."""
    if file not in EVENT_FILES:
        raise ValueError(f"{file} is not an event file")
    conn.execute(
        "INSERT INTO SIM_OUTBOX (FILE, RECORD, CREATED_AT) VALUES (?, ?, ?)",
        (file, json.dumps(record), epoch(at)),
    )


def outbox_pending(conn: sqlite3.Connection) -> dict[str, int]:
    return {
        row["FILE"]: row["N"]
        for row in conn.execute("SELECT FILE, COUNT(*) AS N FROM SIM_OUTBOX GROUP BY FILE ORDER BY FILE")
    }


def outbox_flush(
    conn: sqlite3.Connection,
    config: SimulatorConfig,
    *,
    at: datetime,
    files: tuple[str, ...] = EVENT_FILES,
    delay_seconds: int = 0,
) -> list[ExportedFile]:
    """Write one file per event file name with the records queued at least ``delay_seconds`` ago."""
    written: list[ExportedFile] = []
    cutoff = epoch(at) - delay_seconds
    for file in files:
        rows = conn.execute(
            "SELECT ID, RECORD FROM SIM_OUTBOX WHERE FILE = ? AND CREATED_AT <= ? ORDER BY ID", (file, cutoff)
        ).fetchall()
        if not rows:
            continue
        records = [json.loads(r["RECORD"]) for r in rows]
        written += write_export(conn, config, file=file, kind="D", records=records, at=at)
        conn.executemany("DELETE FROM SIM_OUTBOX WHERE ID = ?", [(r["ID"],) for r in rows])
    return written


def out_has_pairs(folder: Path, file: str) -> bool:
    """Whether OUT/ (or where the platform archives it) holds any pair of ``file``."""
    pattern = f"{file}_[0-9][0-9][0-9][0-9][0-9][0-9].OK"
    return any(any(place.glob(pattern)) for place in _out_places(folder))
