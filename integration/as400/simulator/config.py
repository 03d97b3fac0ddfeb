"""Everything the simulator needs to know, passed explicitly.

Every entry point takes a :class:`SimulatorConfig`, so that a test runs the simulator on its own
SQLite file and its own exchange folder. :meth:`SimulatorConfig.from_settings` builds the one the
platform uses, from ``settings.AS400_SIMULATOR_DB``, ``AS400_EXCHANGE_DIR`` and ``AS400_CCSID``,
with any field overridden by the optional ``settings.AS400_SIMULATOR`` dict.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime, time
from pathlib import Path
from typing import Any

EXCHANGE_SUBDIRS = ("IN", "IN/DONE", "IN/ERR", "OUT")


@dataclass(frozen=True)
class SimulatorConfig:
    """Paths, code page and the behaviour knobs of one simulated AS400.

    Times are simulated minutes unless the name says otherwise.
    """

    db_path: Path
    exchange_dir: Path
    ccsid: int = 297
    seed: int = 297
    items: int = 5000
    # The clock: where a new simulator starts (None: the real time now) and how fast `run` goes.
    start: datetime | None = None
    speed: float = 60.0
    tick_seconds: float = 1.0
    # The import job and the exports.
    import_interval_minutes: int = 5
    stkbal_delta_minutes: int = 5
    itmmst_delta_minutes: int = 60
    write_empty_deltas: bool = True
    # The nightly batch window, Paris wall-clock time.
    batch_start: time = time(1, 0)
    batch_end: time = time(3, 30)
    nightly_restock: bool = True
    # Life between extracts: store sales (whole chain, per hour while stores are open) and prices.
    store_sales_per_hour: float = 240.0
    warehouse_sales_share: float = 0.05
    store_open: time = time(9, 0)
    store_close: time = time(20, 0)
    store_open_days: tuple[int, ...] = (0, 1, 2, 3, 4, 5)  # Monday..Saturday
    price_changes_per_day: float = 12.0
    # What the warehouse and the stores do with accepted orders when nobody drives them by hand.
    auto_lifecycle: bool = True
    pick_after_minutes: int = 45
    ship_after_minutes: int = 120
    collect_within_minutes: int = 3 * 24 * 60
    not_collected_percent: int = 10
    store_return_percent: int = 2
    store_return_after_minutes: int = 4 * 24 * 60
    # Announced returns (RTNIMP) arrive this long after the announcement (ORDSTS R), always.
    return_arrival_minutes: int = 2 * 24 * 60
    # The SQL read API: how long a read waits on a locked file (real seconds), how long it may run.
    sql_lock_wait_seconds: float = 3.0
    sql_timeout_seconds: float = 10.0
    # Housekeeping of the event log kept for the admin page.
    log_keep: int = 2000

    @property
    def in_dir(self) -> Path:
        return self.exchange_dir / "IN"

    @property
    def done_dir(self) -> Path:
        return self.exchange_dir / "IN" / "DONE"

    @property
    def err_dir(self) -> Path:
        return self.exchange_dir / "IN" / "ERR"

    @property
    def out_dir(self) -> Path:
        return self.exchange_dir / "OUT"

    def ensure_folders(self) -> None:
        """Create IN/, IN/DONE/, IN/ERR/ and OUT/ under the exchange folder, and the DB's folder."""
        for sub in EXCHANGE_SUBDIRS:
            (self.exchange_dir / sub).mkdir(parents=True, exist_ok=True)
        self.db_path.parent.mkdir(parents=True, exist_ok=True)

    def with_changes(self, **changes: Any) -> SimulatorConfig:
        """A copy with some fields changed (unknown names are refused)."""
        return replace(self, **_checked(changes))

    @classmethod
    def from_settings(cls, **overrides: Any) -> SimulatorConfig:
        """The platform's simulator: paths from the settings, knobs from ``settings.AS400_SIMULATOR``."""
        from django.conf import settings

        values: dict[str, Any] = {
            "db_path": Path(settings.AS400_SIMULATOR_DB),
            "exchange_dir": Path(settings.AS400_EXCHANGE_DIR),
            "ccsid": int(getattr(settings, "AS400_CCSID", 297)),
        }
        values.update(_checked(dict(getattr(settings, "AS400_SIMULATOR", {}) or {})))
        values.update(_checked(overrides))
        values["db_path"] = Path(values["db_path"])
        values["exchange_dir"] = Path(values["exchange_dir"])
        return cls(**values)


def _checked(values: dict[str, Any]) -> dict[str, Any]:
    known = {f.name for f in fields(SimulatorConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(
            f"unknown simulator setting(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    return values
