"""Moments tests freeze the clock at (``@pytest.mark.clock(TUESDAY)``) or start a simulator at.

A test whose code path looks at the time of day (the AS400's nightly batch window, 01:00-03:30
Paris, holds the dispatcher back and locks the simulator's files) takes one of these, for the
process clock and for the simulator's own clock alike, so that it passes at any hour: CI runs the
suite once with the clock set inside that window (tests/clock_ahead/sitecustomize.py).
"""

from __future__ import annotations

from datetime import datetime

from integration.as400.codec import PARIS

TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)  # a working day, mid-morning: no batch window
