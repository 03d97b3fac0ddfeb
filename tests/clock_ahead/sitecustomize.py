"""Moves the clock of every Python process of a test run ahead, when CI asks for it.

CI runs the suite a second time with ``PYTHONPATH=tests/clock_ahead`` and
``TEST_CLOCK_AHEAD_DAYS=730``: Python imports this module at start-up, in the test process and in
every process the tests start (``manage.py`` dispatchers, clusters, servers, the simulator), so
they all live two years ahead, on one clock that still ticks. A test that fixed a date while the
code read the real clock fails there, long before that date comes. ``time.monotonic()`` is left
alone, so waits and timeouts run on real time.

Without ``TEST_CLOCK_AHEAD_DAYS`` this module does nothing. It lives under ``tests/`` and is never
on a production process's path.

libfaketime was tried first: with Python 3.11 it breaks ``time.sleep`` (EINVAL from
``clock_nanosleep``) when the monotonic clock is left alone, and hangs timed lock waits when it is
not.
"""

from __future__ import annotations

import os

_days = os.environ.get("TEST_CLOCK_AHEAD_DAYS", "").strip()
if _days:
    import datetime as _datetime

    import time_machine as _time_machine

    _ahead = _time_machine.travel(
        _datetime.datetime.now(_datetime.UTC) + _datetime.timedelta(days=int(_days)), tick=True
    )
    _ahead.start()  # for the life of the process
