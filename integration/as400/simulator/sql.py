"""Reading the simulated AS400 live, as SQL, the way a reader would read DB2 for i.

The DDS tables (ITMMST, STKBAL, WEBORD) can be read, never written, through their own read-only
connection, bare or qualified by the library (``ERPLIB.STKBAL``). Like the real thing:

- during the nightly batch window (or the ``batch`` fault), or while a job holds a file (the
  ``lock`` fault), a read waits for the lock, then fails with SQL0913 (:class:`ObjectInUseError`);
- a query that runs longer than its limit is ended (SQL0666);
- the internal SIM_* tables do not exist for a reader (SQL0204), anything but a SELECT is refused
  (SQL0551), and when the AS400 is down the connection fails (SQL30081).

Decimal columns come back as ``Decimal`` (SQLite stores prices with NUMERIC affinity).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from integration.as400.codec import to_datetime
from integration.as400.simulator.config import SimulatorConfig
from integration.as400.simulator.db import DDS_TABLES
from integration.as400.simulator.errors import (
    AS400SQLError,
    AS400UnavailableError,
    NotAuthorizedError,
    ObjectInUseError,
    ObjectNotFoundError,
    QueryTimeoutError,
    SQLSyntaxError,
)

LIBRARY = "ERPLIB"
_ALLOWED_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_FUNCTION, getattr(sqlite3, "SQLITE_RECURSIVE", 33)}


@dataclass(frozen=True)
class LockState:
    """Why the files cannot be read now: ``down`` (no connection at all) or the locked tables."""

    down: bool = False
    locked: frozenset[str] = frozenset()
    reason: str = ""


@dataclass(frozen=True)
class StockReading:
    """One STKBAL row as a live reader sees it."""

    item: str
    location: int
    on_hand: int
    promised: int
    changed_at: datetime | None


class _Attempt:
    def __init__(self, locked: frozenset[str]) -> None:
        self.locked = locked
        self.blocked: set[str] = set()
        self.unknown: set[str] = set()
        self.forbidden = False

    def authorize(
        self, action: int, arg1: str | None, arg2: str | None, dbname: str | None, source: str | None
    ) -> int:
        if action == sqlite3.SQLITE_READ:
            table = (arg1 or "").upper()
            if dbname not in (None, "main", LIBRARY) or table not in DDS_TABLES:
                self.unknown.add(arg1 or "?")
                return sqlite3.SQLITE_DENY
            if table in self.locked:
                self.blocked.add(table)
                return sqlite3.SQLITE_DENY
            return sqlite3.SQLITE_OK
        if action in _ALLOWED_ACTIONS:
            return sqlite3.SQLITE_OK
        self.forbidden = True
        return sqlite3.SQLITE_DENY


class LiveReader:
    """SELECTs on the simulator's DDS tables, with DB2 for i's failure modes."""

    def __init__(self, config: SimulatorConfig, lock_state: Callable[[], LockState]) -> None:
        self.config = config
        self._lock_state = lock_state
        self._conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            uri = self.config.db_path.resolve().as_uri() + "?mode=ro"
            conn = sqlite3.connect(uri, uri=True, timeout=5.0, isolation_level=None)
            conn.execute("ATTACH DATABASE ? AS " + LIBRARY, (uri,))
            self._conn = conn
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def query(
        self, sql: str, params: Sequence[Any] = (), *, wait: float | None = None, timeout: float | None = None
    ) -> list[tuple[Any, ...]]:
        """Run one SELECT; wait up to ``wait`` seconds for a locked file, run up to ``timeout``."""
        wait = self.config.sql_lock_wait_seconds if wait is None else wait
        timeout = self.config.sql_timeout_seconds if timeout is None else timeout
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            state = self._lock_state()
            if state.down:
                raise AS400UnavailableError(
                    f"A communication error was detected: the AS400 does not answer ({state.reason})."
                )
            attempt = _Attempt(state.locked)
            rows = self._try(sql, params, attempt, timeout)
            if rows is not None:
                return rows
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                table = sorted(attempt.blocked)[0]
                raise ObjectInUseError(
                    f"Row or object {table} in {LIBRARY} type *FILE in use ({state.reason}).", table=table
                )
            time.sleep(min(0.05, remaining))

    def _try(
        self, sql: str, params: Sequence[Any], attempt: _Attempt, timeout: float
    ) -> list[tuple[Any, ...]] | None:
        conn = self._connection()
        ends = time.monotonic() + timeout
        conn.set_authorizer(attempt.authorize)
        conn.set_progress_handler(lambda: int(time.monotonic() > ends), 1000)
        try:
            cursor = conn.execute(sql, tuple(params))
            if cursor.description is None:
                raise NotAuthorizedError(
                    "Not authorized: only SELECT statements are allowed on this connection."
                )
            rows = cursor.fetchall()
        except sqlite3.Warning as exc:  # several statements at once
            raise NotAuthorizedError(f"Statement not allowed: {exc}.") from None
        except sqlite3.DatabaseError as exc:
            if attempt.unknown:
                name = sorted(attempt.unknown)[0]
                raise ObjectNotFoundError(f"{name} in {LIBRARY} type *FILE not found.", table=name) from None
            if attempt.forbidden:
                raise NotAuthorizedError(
                    "Not authorized: only SELECT statements are allowed on this connection."
                ) from None
            if attempt.blocked:
                return None
            if "interrupted" in str(exc):
                raise QueryTimeoutError(
                    f"Query time limit of {timeout:g} seconds exceeded; the query was ended."
                ) from None
            raise SQLSyntaxError(f"Statement not valid: {exc}.") from None
        finally:
            conn.set_authorizer(None)
            conn.set_progress_handler(None, 0)
        return [tuple(Decimal(repr(v)) if isinstance(v, float) else v for v in row) for row in rows]

    def read_stock(self, item: str, location: int, *, wait: float | None = None) -> StockReading | None:
        """On hand and promised of one item at one location, or None if the AS400 has no such row."""
        rows = self.query(
            "SELECT SBQOH, SBQRS, SBDTCH, SBHRCH FROM STKBAL WHERE SBITEM = ? AND SBMAG = ?",
            (item, location),
            wait=wait,
        )
        if not rows:
            return None
        on_hand, promised, day, clock = rows[0]
        return StockReading(item, location, int(on_hand), int(promised), to_datetime(int(day), int(clock)))


__all__ = ["AS400SQLError", "LiveReader", "LockState", "StockReading"]
