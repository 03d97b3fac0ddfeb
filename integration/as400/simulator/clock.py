"""The simulated clock and the nightly batch window.

Simulated time is one number in SIM_STATE (seconds since the epoch), so every process that opens
the simulator's database sees the same time. It only moves when someone moves it: the run loop
(real elapsed time × speed), ``step`` (tests and operators) or the import job's one-second nudge.
Nothing reads the real clock to know the simulated time, which keeps tests deterministic.

The AS400 runs on Paris wall-clock time; the batch window is given in it (01:00 to 03:30 by
default) and may run over midnight.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from integration.as400.codec import PARIS
from integration.as400.simulator.db import state_get, state_set

UTC = ZoneInfo("UTC")
CLOCK = "clock"
SPEED = "speed"


def epoch(moment: datetime) -> int:
    """Whole seconds since the epoch of an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError("the simulator's clock needs an aware datetime")
    return int(moment.timestamp())


def from_epoch(seconds: int | float) -> datetime:
    """Seconds since the epoch as an aware datetime in Paris time."""
    return datetime.fromtimestamp(int(seconds), tz=UTC).astimezone(PARIS)


def real_now() -> datetime:
    return datetime.now(tz=PARIS).replace(microsecond=0)


def clock_init(conn: sqlite3.Connection, start: datetime | None) -> None:
    """Set the clock once, when the database is new (``start`` or the real time)."""
    if state_get(conn, CLOCK) is None:
        state_set(conn, CLOCK, epoch(start or real_now()))


def clock_now(conn: sqlite3.Connection) -> datetime:
    """The simulated time now (Paris)."""
    value = state_get(conn, CLOCK)
    if value is None:
        raise RuntimeError("the simulator's clock is not set; create the schema first")
    return from_epoch(value)


def clock_set(conn: sqlite3.Connection, moment: datetime) -> None:
    """Move the clock; it never goes backwards (a step of 0 stays where it is)."""
    current = state_get(conn, CLOCK)
    target = epoch(moment)
    if current is not None and target < int(current):
        raise ValueError(f"the simulated clock cannot go back from {from_epoch(current)} to {moment}")
    state_set(conn, CLOCK, target)


def clock_advance(conn: sqlite3.Connection, moment: datetime) -> datetime:
    """Move the clock to ``moment`` unless another process already moved it further; the new time."""
    current = int(state_get(conn, CLOCK) or 0)
    target = max(current, epoch(moment))
    state_set(conn, CLOCK, target)
    return from_epoch(target)


@dataclass(frozen=True)
class BatchWindow:
    """The nightly window, as wall-clock times in Paris."""

    start: time
    end: time

    def _length(self, day: date) -> timedelta:
        begin = datetime.combine(day, self.start)
        finish = datetime.combine(day, self.end)
        if finish <= begin:
            finish += timedelta(days=1)
        return finish - begin

    def window_of(self, day: date) -> tuple[datetime, datetime]:
        """The window that starts on ``day`` (wall-clock start and end, as aware Paris datetimes)."""
        begin = datetime.combine(day, self.start)
        finish = begin + self._length(day)
        return _wall(begin), _wall(finish)

    def last_start(self, moment: datetime) -> tuple[datetime, datetime]:
        """The most recent window that started at or before ``moment``."""
        local = moment.astimezone(PARIS)
        for back in (0, 1, 2):
            begin, finish = self.window_of(local.date() - timedelta(days=back))
            if begin <= moment:
                return begin, finish
        raise AssertionError("unreachable: a window starts every day")

    def contains(self, moment: datetime) -> bool:
        """Whether the batch runs at ``moment``."""
        begin, finish = self.last_start(moment)
        return begin <= moment < finish

    def next_boundary(self, moment: datetime) -> datetime:
        """The next start or end of a window strictly after ``moment``."""
        local = moment.astimezone(PARIS)
        candidates = []
        for ahead in (-1, 0, 1, 2):
            begin, finish = self.window_of(local.date() + timedelta(days=ahead))
            candidates += [begin, finish]
        return min(c for c in candidates if c > moment)


def _wall(naive: datetime) -> datetime:
    """A Paris wall-clock time as an aware datetime; a time in the spring gap moves forward."""
    return naive.replace(tzinfo=PARIS).astimezone(UTC).astimezone(PARIS)
