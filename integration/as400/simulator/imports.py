"""The AS400's import job: what it does with the pairs the platform drops into IN/.

As the contract says:

- It reads the ``.OK``/``.DAT`` pairs of IN/ in sequence order, and never opens a ``.DAT`` whose
  ``.OK`` is not there yet. The contract promises no order between file names (a counter per
  name); the job takes them as a listing of the folder gives them, in name order: ORDANN, then
  ORDIMP, then RTNIMP. A cancellation sent before its order was acknowledged may therefore find
  no order (ORDANN is for "a web order already imported"), as it may on the real AS400.
- A pair whose control record does not match (size not a whole number of records, count, CTHASH,
  a field that does not decode, a control record naming another file or sequence) is refused
  whole: both parts go to IN/ERR/, nobody is told. An accepted pair goes to IN/DONE/.
- ORDIMP: one ORDACK record per web order read (A, R with its reason, D); see
  :func:`integration.as400.simulator.orders.order_import`. ORDANN: ORDSTS A for what it could still
  cancel. RTNIMP: the return is expected; ORDSTS R when the goods arrive.

Each pair is applied in one transaction, which also notes it as applied and not moved yet
(SIM_INMOVE); the note goes once the pair is out of IN/. A pair found in IN/ with that note (the
job died between its commit and the move) is moved, not applied twice. A pair dropped again after
it was moved is read again like any other: the contract's only protection against duplicates is
the D answer for a web order number the AS400 already has.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.utils.translation import gettext_noop

from integration.as400.codec import RecordCodec, RecordError
from integration.as400.control import ControlError, ControlRecord, check_pair
from integration.as400.files import PairName
from integration.as400.simulator.clock import clock_advance, clock_now, epoch, from_epoch
from integration.as400.simulator.config import SimulatorConfig
from integration.as400.simulator.db import log_event, state_get, transaction
from integration.as400.simulator.errors import SimulatorError
from integration.as400.simulator.exports import file_record, outbox_add, seq_record
from integration.as400.simulator.faults import fault_consume
from integration.as400.simulator.orders import (
    INCONSISTENT,
    Decision,
    ack_record,
    order_cancel,
    order_cde,
    order_duplicate,
    order_import,
    order_lose,
    return_announce,
)
from integration.core.stored_texts import StoredText

IMPORT_FILES = ("ORDANN", "ORDIMP", "RTNIMP")  # the order the job reads the names in

# Why the import job did not run, in English (the command line, the log); the admin's page says it
# in the reader's language (integration.core.stored_texts).
NOT_RUN = StoredText(gettext_noop("import job not run: {reason}"), texts=("reason",))
NOT_RUN_DOWN = StoredText(gettext_noop("the AS400 is down (fault down)"))
NOT_RUN_BATCH = StoredText(gettext_noop("batch window ({reason})"), texts=("reason",))
BATCH_NIGHTLY = StoredText(gettext_noop("nightly batch {start}-{end}"))
BATCH_FAULT = StoredText(gettext_noop("fault batch"))


@dataclass
class ImportReport:
    """What one run of the import job did."""

    ran: bool = True
    reason: str = ""
    done: list[str] = field(default_factory=list)
    refused: dict[str, list[str]] = field(default_factory=dict)
    waiting: list[str] = field(default_factory=list)
    acks: Counter[str] = field(default_factory=Counter)
    cancelled_lines: int = 0
    returns_expected: int = 0

    @property
    def orders_read(self) -> int:
        return sum(self.acks.values())

    def summary(self) -> str:
        if not self.ran:
            return NOT_RUN.format(reason=self.reason)
        parts = [f"{len(self.done)} file(s) applied", f"{len(self.refused)} refused to IN/ERR/"]
        if self.acks:
            parts.append("orders " + ", ".join(f"{k}={v}" for k, v in sorted(self.acks.items())))
        if self.cancelled_lines:
            parts.append(f"{self.cancelled_lines} cancellation event(s)")
        if self.returns_expected:
            parts.append(f"{self.returns_expected} return(s) expected")
        if self.waiting:
            parts.append(f"{len(self.waiting)} waiting")
        return "; ".join(parts)


def pending_pairs(config: SimulatorConfig) -> list[PairName]:
    """The pairs of IN/ whose ``.OK`` is there, in the order the job reads them."""
    pairs = []
    for path in config.in_dir.iterdir() if config.in_dir.exists() else ():
        parsed = PairName.parse(path.name)
        if parsed is None or parsed[1] != "OK" or parsed[0].file not in IMPORT_FILES:
            continue
        pairs.append(parsed[0])
    return sorted(pairs, key=lambda p: (IMPORT_FILES.index(p.file), p.seq))


def _in_move(conn: sqlite3.Connection, pair: PairName) -> sqlite3.Row | None:
    """The note of a pair applied (or refused) whose move out of IN/ has not been seen to finish."""
    row: sqlite3.Row | None = conn.execute(
        "SELECT NAME, SHA256, OUTCOME FROM SIM_INMOVE WHERE NAME = ?", (pair.stem,)
    ).fetchone()
    return row


def _moved(conn: sqlite3.Connection, config: SimulatorConfig) -> None:
    """Forget the notes of pairs that are out of IN/ (their move finished)."""
    with transaction(conn):
        for row in conn.execute("SELECT NAME FROM SIM_INMOVE").fetchall():
            if not any((config.in_dir / f"{row['NAME']}.{ext}").exists() for ext in ("OK", "DAT")):
                conn.execute("DELETE FROM SIM_INMOVE WHERE NAME = ?", (row["NAME"],))
                conn.execute("DELETE FROM SIM_INSEEN WHERE NAME = ?", (row["NAME"],))


def _move(path: Path, folder: Path) -> Path | None:
    """Move a file into ``folder`` (beside, never over, a file of the same name); None if another
    process moved it first."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    n = 1
    while target.exists():  # never lose an earlier file of the same name
        target = folder / f"{path.name}.{n}"
        n += 1
    try:
        os.replace(path, target)
    except FileNotFoundError:
        return None
    return target


def _move_pair(config: SimulatorConfig, pair: PairName, folder: Path) -> None:
    # The .OK first, as every mover of the exchange does: a crash between the two leaves a .DAT
    # alone in IN/, which is never opened, and which the next run sends after its .OK.
    dat, ok = config.in_dir / pair.dat, config.in_dir / pair.ok
    if ok.exists():
        _move(ok, folder)
    if dat.exists():
        _move(dat, folder)


def _finish_interrupted_moves(config: SimulatorConfig) -> None:
    """A .DAT left alone in IN/ whose .OK is already in DONE/ or ERR/ follows it there."""
    for path in config.in_dir.glob("*.DAT"):
        parsed = PairName.parse(path.name)
        if parsed is None or (config.in_dir / parsed[0].ok).exists():
            continue
        for folder in (config.done_dir, config.err_dir):
            if (folder / parsed[0].ok).exists() and not (folder / parsed[0].dat).exists():
                _move(path, folder)
                break


def import_job(
    conn: sqlite3.Connection, config: SimulatorConfig, *, at: datetime, delay_seconds: int = 0
) -> ImportReport:
    """Read every complete pair of IN/ once; pairs first seen less than ``delay_seconds`` ago wait.

    ``at`` is when the job runs; the clock may be nudged by a second before an ORDIMP is applied
    (see :func:`_ack_time`).
    """
    report = ImportReport()
    _finish_interrupted_moves(config)
    _moved(conn, config)
    for pair in pending_pairs(config):
        if not (config.in_dir / pair.dat).exists():
            report.waiting.append(pair.stem)  # an .OK without its .DAT: not a pair to read
            continue
        if delay_seconds:
            with transaction(conn):
                conn.execute(
                    "INSERT OR IGNORE INTO SIM_INSEEN (NAME, SEEN_AT) VALUES (?, ?)", (pair.stem, epoch(at))
                )
                seen = conn.execute("SELECT SEEN_AT FROM SIM_INSEEN WHERE NAME = ?", (pair.stem,)).fetchone()[
                    0
                ]
            if seen + delay_seconds > epoch(at):
                report.waiting.append(pair.stem)
                continue
        _import_pair(conn, config, pair, at=at, report=report)
    return report


def _import_pair(
    conn: sqlite3.Connection, config: SimulatorConfig, pair: PairName, *, at: datetime, report: ImportReport
) -> None:
    try:
        ok_bytes = (config.in_dir / pair.ok).read_bytes()
        data = (config.in_dir / pair.dat).read_bytes()
    except FileNotFoundError:  # another process's import job took it meanwhile
        return
    digest = hashlib.sha256(ok_bytes + b"\0" + data).hexdigest()
    with transaction(conn):
        if not (config.in_dir / pair.ok).exists():
            return  # another process's job applied and moved it since we read it
        noted = _in_move(conn, pair)
        if noted is not None and noted["SHA256"] == digest:
            outcome = noted["OUTCOME"]  # applied (or refused) already; the job died before the move
        else:
            if pair.file == "ORDIMP":
                at = _ack_time(conn, at)
            problems = _problems(conn, config, pair, ok_bytes, data, at=at)
            if problems:
                outcome = "err"
                report.refused[pair.stem] = problems
                file_record(
                    conn, direction="IN", name=pair.stem, file=pair.file, seq=pair.seq, kind="-", records=0,
                    outcome="err", at=at, detail="; ".join(problems)[:1000], sha256=digest,
                )  # fmt: skip
                log_event(conn, at, "import", f"{pair.stem} refused to IN/ERR/: {'; '.join(problems)}"[:500])
            else:
                outcome = "done"
                records = list(
                    RecordCodec.for_file(pair.file, config.ccsid).iter_decode(data, source=pair.dat)
                )
                _apply(conn, config, pair, records, at=at, report=report)
                file_record(
                    conn, direction="IN", name=pair.stem, file=pair.file, seq=pair.seq, kind="-",
                    records=len(records), outcome="done", at=at, sha256=digest,
                )  # fmt: skip
                seq_record(conn, "IN", pair.file, pair.seq)
                report.done.append(pair.stem)
            conn.execute(
                "INSERT INTO SIM_INMOVE (NAME, SHA256, OUTCOME) VALUES (?, ?, ?) ON CONFLICT (NAME) DO UPDATE "
                "SET SHA256 = excluded.SHA256, OUTCOME = excluded.OUTCOME",
                (pair.stem, digest, outcome),
            )
    _move_pair(config, pair, config.done_dir if outcome == "done" else config.err_dir)
    with transaction(conn):
        conn.execute("DELETE FROM SIM_INMOVE WHERE NAME = ?", (pair.stem,))
        conn.execute("DELETE FROM SIM_INSEEN WHERE NAME = ?", (pair.stem,))


def _ack_time(conn: sqlite3.Connection, at: datetime) -> datetime:
    """When an order read now is acknowledged: ``at``, or one second after the latest STKBAL
    extract if that one was taken at ``at`` or later (it does not count the order; the contract:
    "A STKBAL extract taken after an ORDACK's time already counts that order"). Inside the
    pair's transaction, so that no other process writes an extract in between."""
    last = state_get(conn, "last_extract:STKBAL")
    if last is not None and int(last) >= epoch(at):
        return clock_advance(conn, from_epoch(int(last) + 1))
    return max(at, clock_now(conn))


def _problems(
    conn: sqlite3.Connection,
    config: SimulatorConfig,
    pair: PairName,
    ok_bytes: bytes,
    data: bytes,
    *,
    at: datetime,
) -> list[str]:
    if fault_consume(conn, "refuse", pair.file, at=at) is not None:
        return ["refused on purpose (fault refuse)"]
    try:
        control = ControlRecord.decode(ok_bytes, config.ccsid, source=pair.ok)
    except ControlError as exc:
        return [str(exc)]
    problems = []
    if control.seq != pair.seq:
        problems.append(f"the control record says sequence {control.seq}, the name says {pair.seq}")
    problems += check_pair(pair.file, data, control, ccsid=config.ccsid)
    if not problems:
        try:  # check_pair decodes every field already; this also catches a multi-format surprise
            for _ in RecordCodec.for_file(pair.file, config.ccsid).iter_decode(data, source=pair.dat):
                pass
        except RecordError as exc:
            problems.append(str(exc))
    return problems


def _apply(
    conn: sqlite3.Connection,
    config: SimulatorConfig,
    pair: PairName,
    records: list[dict[str, Any]],
    *,
    at: datetime,
    report: ImportReport,
) -> None:
    if pair.file == "ORDIMP":
        for header, lines, problem in group_orders(records):
            if header is None:
                webn = str(lines[0]["OLWEBN"])
                decision = Decision(
                    webn, "R", order_cde(conn, webn) or "", INCONSISTENT, "Lignes sans en-tête"
                )
                if decision.cde:
                    decision = Decision(webn, "D", decision.cde, "", "")
            else:
                decision = order_import(conn, header, lines, at=at, source=pair.stem, problem=problem)
            outbox_add(conn, "ORDACK", ack_record(decision, at), at=at)
            report.acks[decision.status] += 1
            detail = (
                f" {decision.reason} {decision.message}" if decision.status == "R" else f" {decision.cde}"
            )
            log_event(conn, at, "order", f"{pair.stem}: {decision.webn} -> {decision.status}{detail}")
            if decision.status == "A" and header is not None:
                _accepted_faults(conn, decision, header, lines, at=at, source=pair.stem)
    elif pair.file == "ORDANN":
        for record in records:
            webn, line, asked = str(record["OAWEBN"]), int(record["OALIGN"]), int(record["OAQTE"])
            if line and asked <= 0:
                # Line 0 is the whole order; on a line, OAQTE is the quantity to cancel, and nothing
                # in the contract makes 0 mean "all of it": nothing is cancelled, nothing answered.
                log_event(
                    conn,
                    at,
                    "import",
                    f"{pair.stem}: cancellation of {webn} line {line} for {asked}: nothing to do",
                )
                continue
            qty = asked if line else None
            try:
                events = order_cancel(conn, webn, line=line or None, qty=qty, at=at, strict=False)
            except SimulatorError as exc:  # an unknown order or line: the AS400 answers nothing
                log_event(
                    conn, at, "import", f"{pair.stem}: cancellation of {webn} line {line} ignored: {exc}"
                )
                continue
            report.cancelled_lines += len(events)
            log_event(conn, at, "order", f"{pair.stem}: {webn} line {line}: {len(events)} line(s) cancelled")
    elif pair.file == "RTNIMP":
        for record in records:
            if return_announce(conn, config, record, at=at, source=pair.stem):
                report.returns_expected += 1


def _accepted_faults(
    conn: sqlite3.Connection,
    decision: Decision,
    header: dict[str, Any],
    lines: list[dict[str, Any]],
    *,
    at: datetime,
    source: str,
) -> None:
    """The one-shot faults that act on an order just accepted (its ORDACK A is queued already).

    With both on, the copy is made first, then the original is lost.
    """
    if fault_consume(conn, "duplicate", "ORDIMP", at=at) is not None:
        copy = order_duplicate(conn, header, lines, at=at, source=f"{source} (fault duplicate)")
        log_event(
            conn, at, "fault",
            f"{source}: {decision.webn} imported again as {copy.webn} ({copy.cde}), no ORDACK (fault duplicate)",
        )  # fmt: skip
    if fault_consume(conn, "lose", "ORDIMP", at=at) is not None:
        lost = order_lose(conn, decision.webn, at=at)
        log_event(
            conn, at, "fault", f"{source}: {decision.webn} ({decision.cde}, {lost} line(s)) lost (fault lose)"
        )


def group_orders(
    records: list[dict[str, Any]],
) -> list[tuple[dict[str, Any] | None, list[dict[str, Any]], str]]:
    """ORDIMP records as (H record, its L records, a problem); L records before any H form their own group."""
    groups: list[tuple[dict[str, Any] | None, list[dict[str, Any]], list[str]]] = []
    for record in records:
        if "OHTYPE" in record:
            groups.append((record, [], []))
            continue
        header = groups[-1][0] if groups else None
        if header is None:
            if groups and groups[-1][1] and groups[-1][1][0]["OLWEBN"] == record["OLWEBN"]:
                groups[-1][1].append(record)
            else:
                groups.append((None, [record], []))
            continue
        if record["OLWEBN"] != header["OHWEBN"]:
            groups[-1][2].append(f"Ligne {int(record['OLLIGN']):03d} d'une autre commande")
            continue
        groups[-1][1].append(record)
    return [(h, lines, problems[0] if problems else "") for h, lines, problems in groups]
