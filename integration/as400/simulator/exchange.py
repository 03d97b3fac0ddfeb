"""The exchange folder when the simulator is the AS400 (``AS400_EXCHANGE_BACKEND=simulator``, what
``bin/run`` sets): the folders it writes, judged against its clock.

The simulator's clock may run many times faster than ours (``run --speed 60``: a real hour is two
and a half simulated days), and it dates its extracts by that clock. Against our clock they would
look days ahead and be quarantined as implausible; against its own they are on time, and a file
dated 2099 is still refused. Stock ``as_of`` is then the simulator's time, as the AS400's would be.

The folders are read locally (``simulator``) or through a file server that serves them
(``simulator-sftp``, ``simulator-ftp``, ``simulator-ftps``: ``bin/run`` with
``AS400_EXCHANGE_BACKEND=sftp``, :mod:`.file_server`): the same SFTP and FTP adapters as with a real
AS400, only the clock is the simulator's.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Self

from django.conf import settings

from integration.as400.exchange.base import ExchangeFolder
from integration.as400.exchange.ftp import FtpExchangeFolder, FtpsExchangeFolder
from integration.as400.exchange.local import LocalExchangeFolder
from integration.as400.exchange.sftp import SftpExchangeFolder
from integration.as400.simulator.clock import CLOCK, from_epoch


def simulator_clock(simulator_db: Path, now: datetime) -> datetime:
    """The later of ours and the simulator's: a simulator behind us dates nothing ahead of us."""
    if not simulator_db.exists():
        return now
    # Read only, without the simulator's connection set-up: no lock, nothing created.
    conn = sqlite3.connect(f"file:{simulator_db}?mode=ro", uri=True, timeout=2)
    try:
        row = conn.execute("SELECT VALUE FROM SIM_STATE WHERE NAME = ?", (CLOCK,)).fetchone()
    except sqlite3.Error:
        return now
    finally:
        conn.close()
    return max(now, from_epoch(json.loads(row[0]))) if row else now


class SimulatorClock(ExchangeFolder):
    """An adapter whose AS400 clock is the simulator's (``AS400_SIMULATOR_DB``); put it first in
    the bases, before the adapter whose ``from_settings`` it completes."""

    simulator_db = Path()

    @classmethod
    def from_settings(cls, root: Path | str | None = None) -> Self:
        folder = super().from_settings(root)
        folder.simulator_db = Path(settings.AS400_SIMULATOR_DB)
        return folder

    def as400_clock(self, now: datetime) -> datetime:
        return simulator_clock(self.simulator_db, now)


class SimulatorExchangeFolder(SimulatorClock, LocalExchangeFolder):
    """:class:`LocalExchangeFolder` whose AS400 clock is the simulator's."""

    def __init__(self, root: Path | str, ccsid: int, simulator_db: Path | str) -> None:
        super().__init__(root, ccsid)
        self.simulator_db = Path(simulator_db)

    @classmethod
    def from_settings(cls, root: Path | str | None = None) -> Self:
        return cls(
            root if root is not None else settings.AS400_EXCHANGE_DIR,
            int(settings.AS400_CCSID),
            settings.AS400_SIMULATOR_DB,
        )


class SimulatorSftpExchangeFolder(SimulatorClock, SftpExchangeFolder):
    """The simulator's folders through the SFTP adapter (``AS400_EXCHANGE_URL`` and the rest as for
    a real AS400)."""


class SimulatorFtpExchangeFolder(SimulatorClock, FtpExchangeFolder):
    """The simulator's folders through the FTP adapter."""


class SimulatorFtpsExchangeFolder(SimulatorClock, FtpsExchangeFolder):
    """The simulator's folders through the FTPS adapter."""
