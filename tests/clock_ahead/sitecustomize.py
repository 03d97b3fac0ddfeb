"""Moves the clock of every Python process of a test run ahead, when CI asks for it.

CI runs the suite a second time with ``PYTHONPATH=tests/clock_ahead`` and
``TEST_CLOCK_AHEAD_SECONDS`` set: Python imports this module at start-up, in the test process and
in every process the tests start (``manage.py`` dispatchers, clusters, servers, the simulator), so
they all live that far ahead, on one clock that still ticks. A test that fixed a date while the
code read the real clock fails there, long before that date comes. ``time.monotonic()`` is left
alone, so waits and timeouts run on real time.

CI picks the offset so that the run starts two years ahead *and* at 01:05 Paris time, inside the
AS400's nightly batch window (01:00-03:30): a test that only passes in daytime (a simulator or a
dispatcher left on the real clock) fails there too, not on the night someone runs the suite.
:func:`offset_to` computes such an offset; every process of the run applies the same one, so they
agree on the time.

``TEST_CLOCK_AHEAD_DAYS`` (whole days) is still read, for a run by hand. Without either variable
this module does nothing. It lives under ``tests/`` and is never on a production process's path.

libfaketime was tried first: with Python 3.11 it breaks ``time.sleep`` (EINVAL from
``clock_nanosleep``) when the monotonic clock is left alone, and hangs timed lock waits when it is
not.
"""

from __future__ import annotations

import datetime as _datetime
import os


def offset_to(days: int, paris_time: str) -> int:
    """Seconds from now to ``paris_time`` (HH:MM, Paris) on the day ``days`` days from now."""
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    now = _datetime.datetime.now(paris)
    hours, minutes = (int(part) for part in paris_time.split(":"))
    day = (now + _datetime.timedelta(days=days)).date()
    target = _datetime.datetime(day.year, day.month, day.day, hours, minutes, tzinfo=paris)
    return int((target - now).total_seconds())


def _offset_seconds() -> int:
    seconds = os.environ.get("TEST_CLOCK_AHEAD_SECONDS", "").strip()
    if seconds:
        return int(seconds)
    days = os.environ.get("TEST_CLOCK_AHEAD_DAYS", "").strip()
    return int(days) * 86400 if days else 0


_seconds = _offset_seconds()
if _seconds:
    import time_machine as _time_machine

    _ahead = _time_machine.travel(
        _datetime.datetime.now(_datetime.UTC) + _datetime.timedelta(seconds=_seconds), tick=True
    )
    _ahead.start()  # for the life of the process
