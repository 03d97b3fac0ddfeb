"""The simulated AS400's own database: a SQLite file, apart from the platform's.

The AS400's physical files are tables named and shaped as their DDS (ITMMST, STKBAL, WEBORD; one
column per DDS field, same names, the key as primary key), generated from the layouts, so that a
live reader queries them as it would query DB2 for i::

    SELECT SBQOH, SBQRS FROM STKBAL WHERE SBITEM = ? AND SBMAG = ?

Character fields are stored without their trailing blanks (DB2 pads them and compares padded,
SQLite does not pad: stored trimmed, ``WHERE SBITEM = ?`` behaves the same). Decimal fields have
NUMERIC affinity: prices come back from SQLite as numbers and are rebuilt as ``Decimal`` here.

What the simulator needs besides lives in ``SIM_*`` tables (state, order lines, counters, faults,
the change log, pending events). Several processes share the file (the run loop, the management
command, tests, the admin page): WAL, a busy timeout, and one ``BEGIN IMMEDIATE`` transaction
per unit of work.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from integration.as400.codec import from_datetime
from integration.as400.dds import Field, FileLayout, load_layout

#: The AS400 files that the simulator keeps as tables (the rest are event files, never stored).
DDS_TABLES = ("ITMMST", "STKBAL", "WEBORD")
BUSY_TIMEOUT_SECONDS = 30.0

INTERNAL_DDL = (
    # Key/value state: the clock, the speed, schedule marks, seeding, counters.
    "CREATE TABLE IF NOT EXISTS SIM_STATE (NAME TEXT PRIMARY KEY, VALUE TEXT NOT NULL)",
    # Sequence numbers, one per file name and direction (OUT: what it wrote; IN: last it read).
    """CREATE TABLE IF NOT EXISTS SIM_SEQ (
        DIRECTION TEXT NOT NULL, FILE TEXT NOT NULL, LAST INTEGER NOT NULL,
        PRIMARY KEY (DIRECTION, FILE))""",
    """CREATE TABLE IF NOT EXISTS SIM_FAULT (
        NAME TEXT PRIMARY KEY, ACTIVE INTEGER NOT NULL, VALUE TEXT, FILE TEXT, CHANGED_AT INTEGER,
        ITEM TEXT)""",
    "CREATE TABLE IF NOT EXISTS SIM_LOCATION (MAG INTEGER PRIMARY KEY, NAME TEXT NOT NULL, KIND TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS SIM_FAMILY (FAMC TEXT PRIMARY KEY, NAME TEXT NOT NULL)",
    # Which row of ITMMST/STKBAL changed last at which change number: what a delta carries.
    """CREATE TABLE IF NOT EXISTS SIM_CHGLOG (
        FILE TEXT NOT NULL, ITEM TEXT NOT NULL, MAG INTEGER NOT NULL, CHGNO INTEGER NOT NULL,
        PRIMARY KEY (FILE, ITEM, MAG))""",
    "CREATE INDEX IF NOT EXISTS SIM_CHGLOG_NO ON SIM_CHGLOG (FILE, CHGNO)",
    # An accepted web order: what WEBORD does not hold of its H record.
    """CREATE TABLE IF NOT EXISTS SIM_ORDER (
        WEBN TEXT PRIMARY KEY, CDE TEXT NOT NULL UNIQUE, MODE TEXT NOT NULL, MAGL INTEGER NOT NULL,
        NOM TEXT, PRN TEXT, CP TEXT, VIL TEXT, PAYS TEXT, MAIL TEXT,
        ACCEPTED_AT INTEGER NOT NULL, SOURCE TEXT)""",
    # Its lines and how far each has gone: picked, shipped (or ready in store), cancelled by the
    # AS400, cancelled at the counter, returned.
    """CREATE TABLE IF NOT EXISTS SIM_ORDLIN (
        WEBN TEXT NOT NULL, LIGN INTEGER NOT NULL, ITEM TEXT NOT NULL, MAG INTEGER NOT NULL,
        QTCDE INTEGER NOT NULL, PRIX TEXT NOT NULL,
        QTPRP INTEGER NOT NULL DEFAULT 0, QTEXP INTEGER NOT NULL DEFAULT 0,
        QTANN INTEGER NOT NULL DEFAULT 0, QTMAN INTEGER NOT NULL DEFAULT 0,
        QTRET INTEGER NOT NULL DEFAULT 0,
        PICKED_AT INTEGER, DONE_AT INTEGER, TRACKING TEXT NOT NULL DEFAULT '',
        COLLECTED INTEGER NOT NULL DEFAULT 0, AFTERCARE INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (WEBN, LIGN))""",
    # Returns announced by RTNIMP, until the goods arrive.
    """CREATE TABLE IF NOT EXISTS SIM_RETURN (
        ID INTEGER PRIMARY KEY AUTOINCREMENT, WEBN TEXT NOT NULL, RMA TEXT NOT NULL,
        LIGN INTEGER NOT NULL, ITEM TEXT NOT NULL, QTE INTEGER NOT NULL, RSN TEXT NOT NULL,
        MAG INTEGER NOT NULL, ANNOUNCED_AT INTEGER NOT NULL, DUE_AT INTEGER NOT NULL,
        RECEIVED_AT INTEGER, SOURCE TEXT)""",
    # Records of ORDACK, ORDSTS and STRRTN waiting for their next file.
    """CREATE TABLE IF NOT EXISTS SIM_OUTBOX (
        ID INTEGER PRIMARY KEY AUTOINCREMENT, FILE TEXT NOT NULL, RECORD TEXT NOT NULL,
        CREATED_AT INTEGER NOT NULL)""",
    # Every file written to OUT/ or read from IN/, for the status page and to never apply twice.
    """CREATE TABLE IF NOT EXISTS SIM_FILE (
        ID INTEGER PRIMARY KEY AUTOINCREMENT, DIRECTION TEXT NOT NULL, NAME TEXT NOT NULL,
        FILE TEXT NOT NULL, SEQ INTEGER NOT NULL, KIND TEXT NOT NULL, RECORDS INTEGER NOT NULL,
        OUTCOME TEXT NOT NULL, DETAIL TEXT NOT NULL DEFAULT '', SHA256 TEXT NOT NULL DEFAULT '',
        SIM_AT INTEGER NOT NULL, REAL_AT REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS SIM_FILE_NAME ON SIM_FILE (DIRECTION, NAME)",
    # When each IN file was first seen (the `slow` fault delays it from there).
    "CREATE TABLE IF NOT EXISTS SIM_INSEEN (NAME TEXT PRIMARY KEY, SEEN_AT INTEGER NOT NULL)",
    # IN pairs applied (or refused) whose move to IN/DONE/ or IN/ERR/ has not been seen to finish:
    # found in IN/ again, such a pair is moved, not applied twice (the job died in between).
    """CREATE TABLE IF NOT EXISTS SIM_INMOVE (
        NAME TEXT PRIMARY KEY, SHA256 TEXT NOT NULL, OUTCOME TEXT NOT NULL)""",
    # What happened, for people.
    """CREATE TABLE IF NOT EXISTS SIM_LOG (
        ID INTEGER PRIMARY KEY AUTOINCREMENT, SIM_AT INTEGER NOT NULL, REAL_AT REAL NOT NULL,
        KIND TEXT NOT NULL, MESSAGE TEXT NOT NULL)""",
)

#: Columns added to internal tables after they were first released: a database made before gets
#: them when opened (table, column, definition).
ADDED_COLUMNS = (("SIM_FAULT", "ITEM", "TEXT"),)

#: Internal tables emptied by a forced re-seed (counters, faults and the clock survive it).
RESEEDED_TABLES = (
    "ITMMST", "STKBAL", "WEBORD", "SIM_LOCATION", "SIM_FAMILY", "SIM_CHGLOG", "SIM_ORDER",
    "SIM_ORDLIN", "SIM_RETURN", "SIM_OUTBOX", "SIM_INSEEN",
)  # fmt: skip


def column_type(f: Field) -> str:
    """The SQL type of a DDS field, as DB2 for i shows it: CHAR(n), DECIMAL(p,s) for packed, NUMERIC(p,s)
    for zoned (both have SQLite's NUMERIC affinity)."""
    if f.type == "A":
        return f"CHAR({f.size})"
    kind = "DECIMAL" if f.type == "P" else "NUMERIC"
    return f"{kind}({f.digits}, {f.decimals})"


def table_ddl(layout: FileLayout) -> str:
    """``CREATE TABLE`` for one DDS file: its fields in order, its key as primary key."""
    columns = []
    for f in layout.fields:
        default = "''" if f.type == "A" else "0"
        columns.append(f"{f.name} {column_type(f)} NOT NULL DEFAULT {default}")
    if layout.keys:
        columns.append(f"PRIMARY KEY ({', '.join(layout.keys)})")
    return f"CREATE TABLE IF NOT EXISTS {layout.name} (\n    " + ",\n    ".join(columns) + "\n)"


def connect(path: Path, *, timeout: float = BUSY_TIMEOUT_SECONDS) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, with a busy timeout."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One unit of work: ``BEGIN IMMEDIATE`` (the write lock at once) ... ``COMMIT``.

    Re-entrant: inside an open transaction it joins it, so that a unit of work can call another.
    """
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def schema_ready(conn: sqlite3.Connection) -> bool:
    """Whether every table exists and the clock and speed are set (reads only, no lock taken)."""
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    wanted = {*DDS_TABLES, *(ddl.split()[5] for ddl in INTERNAL_DDL if ddl.startswith("CREATE TABLE"))}
    if not wanted <= names:
        return False
    if any(column not in table_columns(conn, table) for table, column, _ in ADDED_COLUMNS):
        return False
    row = conn.execute("SELECT COUNT(*) FROM SIM_STATE WHERE NAME IN ('clock', 'speed')").fetchone()
    return bool(row[0] == 2)


def create_schema(conn: sqlite3.Connection) -> None:
    """Create the DDS tables and the internal ones, if missing."""
    with transaction(conn):
        for name in DDS_TABLES:
            conn.execute(table_ddl(load_layout(name)))
        for ddl in INTERNAL_DDL:
            conn.execute(ddl)
        for table, column, definition in ADDED_COLUMNS:
            if column not in table_columns(conn, table):
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")


def table_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row["name"] for row in conn.execute(f"PRAGMA table_info({table})")]


# --- Values -----------------------------------------------------------------------------------


def to_db(value: Any) -> Any:
    """A Python value as SQLite stores it: a Decimal as its exact text (NUMERIC affinity)."""
    return str(value) if isinstance(value, Decimal) else value


def money(value: Any) -> Decimal:
    """A NUMERIC(…, 2) value read back from SQLite as a two-decimal Decimal."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


def stamp(moment: datetime) -> tuple[int, int]:
    """(CYYMMDD, HHMMSS) of a moment, Paris time."""
    return from_datetime(moment)


# --- State ------------------------------------------------------------------------------------


def state_get(conn: sqlite3.Connection, name: str, default: Any = None) -> Any:
    row = conn.execute("SELECT VALUE FROM SIM_STATE WHERE NAME = ?", (name,)).fetchone()
    return default if row is None else json.loads(row["VALUE"])


def state_set(conn: sqlite3.Connection, name: str, value: Any) -> None:
    conn.execute(
        "INSERT INTO SIM_STATE (NAME, VALUE) VALUES (?, ?) ON CONFLICT (NAME) DO UPDATE SET VALUE = excluded.VALUE",
        (name, json.dumps(value)),
    )


def state_delete(conn: sqlite3.Connection, prefix: str) -> None:
    conn.execute("DELETE FROM SIM_STATE WHERE NAME LIKE ?", (prefix + "%",))


def counter_next(conn: sqlite3.Connection, name: str, step: int = 1) -> int:
    """The next value of a named counter (inside the caller's transaction)."""
    value = int(state_get(conn, name, 0)) + step
    state_set(conn, name, value)
    return value


# --- The change log (what a delta carries) ---------------------------------------------------


def mark_changed(conn: sqlite3.Connection, file: str, keys: Iterable[tuple[str, int]]) -> None:
    """Record that these rows of ITMMST (key (item, 0)) or STKBAL (item, location) changed now."""
    rows = list(keys)
    if not rows:
        return
    number = counter_next(conn, "chgno")
    conn.executemany(
        "INSERT INTO SIM_CHGLOG (FILE, ITEM, MAG, CHGNO) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (FILE, ITEM, MAG) DO UPDATE SET CHGNO = excluded.CHGNO",
        [(file, item, mag, number) for item, mag in rows],
    )


def stock_move(
    conn: sqlite3.Connection, *, item: str, location: int, on_hand: int = 0, promised: int = 0, at: datetime
) -> None:
    """Add to SBQOH and SBQRS of one balance, stamp SBDTCH/SBHRCH, and log the change."""
    day, clock = stamp(at)
    cur = conn.execute(
        "UPDATE STKBAL SET SBQOH = SBQOH + ?, SBQRS = SBQRS + ?, SBDTCH = ?, SBHRCH = ? "
        "WHERE SBITEM = ? AND SBMAG = ?",
        (on_hand, promised, day, clock, item, location),
    )
    if cur.rowcount == 0:
        conn.execute(
            "INSERT INTO STKBAL (SBITEM, SBMAG, SBQOH, SBQRS, SBDTCH, SBHRCH) VALUES (?, ?, ?, ?, ?, ?)",
            (item, location, on_hand, promised, day, clock),
        )
    mark_changed(conn, "STKBAL", [(item, location)])


def log_event(conn: sqlite3.Connection, at: datetime, kind: str, message: str) -> None:
    """Keep a line of what happened (shown by ``status`` and the admin page)."""
    conn.execute(
        "INSERT INTO SIM_LOG (SIM_AT, REAL_AT, KIND, MESSAGE) VALUES (?, ?, ?, ?)",
        (int(at.timestamp()), time.time(), kind, message),
    )


def prune_log(conn: sqlite3.Connection, keep: int) -> None:
    conn.execute("DELETE FROM SIM_LOG WHERE ID <= (SELECT MAX(ID) FROM SIM_LOG) - ?", (keep,))
    conn.execute(
        "DELETE FROM SIM_FILE WHERE ID <= (SELECT MAX(ID) FROM SIM_FILE) - ? AND DIRECTION = 'OUT'",
        (keep * 5,),
    )
