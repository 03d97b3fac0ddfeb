"""The simulated AS400 as one object: its clock, its jobs, its operators, its faults, its SQL.

:class:`Simulator` is what the management command, the admin page and tests use. ``step`` moves
simulated time and does everything that falls due on the way, in this order at each instant:

1. store sales and price changes since the previous instant (stores open 09:00-20:00, Mon-Sat);
   the one-shot faults by which the AS400 changes its own data (``price``, ``status``);
2. at the start of the nightly batch window: the night's deliveries (restock);
3. after the window ends: the full extracts ITMMST, STKBAL, WEBORD (once a night);
4. outside the window: orders moving on by themselves, announced returns arriving;
5. every ``import_interval_minutes``: the import job (not in the window, not when down), then
6. every ``stkbal_delta_minutes`` / ``itmmst_delta_minutes``: the deltas, and
7. the queued ORDACK / ORDSTS / STRRTN records as files.

Periodic jobs run on a grid (10:00, 10:05...) so that two runs over the same steps write the same
files. ``run`` is the same thing against the real clock times a speed factor.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils.translation import gettext_noop

from integration.as400.simulator import activity
from integration.as400.simulator.catalogue import SeedReport, catalogue_seed
from integration.as400.simulator.clock import (
    BatchWindow,
    clock_advance,
    clock_init,
    clock_now,
    epoch,
    from_epoch,
)
from integration.as400.simulator.config import SimulatorConfig
from integration.as400.simulator.db import (
    connect,
    create_schema,
    log_event,
    prune_log,
    schema_ready,
    state_get,
    state_set,
    transaction,
)
from integration.as400.simulator.errors import NotSeededError, SimulatorError
from integration.as400.simulator.exports import (
    DELTA_FILES,
    EVENT_FILES,
    FULL_FILES,
    ExportedFile,
    export_delta,
    export_full,
    out_has_pairs,
    outbox_flush,
    outbox_pending,
    seq_last,
)
from integration.as400.simulator.faults import FaultState, fault_active, fault_list, fault_set
from integration.as400.simulator.imports import (
    BATCH_FAULT,
    BATCH_NIGHTLY,
    NOT_RUN_BATCH,
    NOT_RUN_DOWN,
    ImportReport,
    import_job,
    pending_pairs,
)
from integration.as400.simulator.orders import (
    lifecycle_tick,
    order_cancel,
    order_lines,
    order_pick,
    order_ready,
    order_ship,
    return_receive,
    status_fault,
    store_cancel,
    store_return,
)
from integration.as400.simulator.sql import LiveReader, LockState, StockReading

logger = logging.getLogger(__name__)

MAX_SLICE = timedelta(minutes=5)


@dataclass
class StepReport:
    """What a step did, from ``start`` to ``end`` (simulated)."""

    start: datetime
    end: datetime
    exported: list[ExportedFile] = field(default_factory=list)
    imports: list[ImportReport] = field(default_factory=list)
    sales: int = 0
    price_changes: int = 0
    restocked: int = 0
    events: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{self.start:%Y-%m-%d %H:%M:%S} -> {self.end:%Y-%m-%d %H:%M:%S}"]
        if len(self.exported) > 8:
            first, last = self.exported[0].name, self.exported[-1].name
            parts.append(f"wrote {len(self.exported)} files ({first} ... {last})")
        elif self.exported:
            parts.append("wrote " + ", ".join(f.name for f in self.exported))
        read = [r for r in self.imports if r.ran and (r.done or r.refused)]
        if read:
            parts.append("import: " + " | ".join(r.summary() for r in read))
        if self.sales or self.price_changes:
            parts.append(f"{self.sales} store sale(s), {self.price_changes} price change(s)")
        if self.restocked:
            parts.append(f"{self.restocked} balance(s) restocked")
        if self.events:
            parts.append(f"{self.events} order event(s)")
        parts += self.notes
        return "; ".join(parts)


@dataclass(frozen=True)
class SimulatorStatus:
    """Everything the status command and the admin page show."""

    now: datetime
    speed: float
    batch_window: bool
    batch_reason: str
    seeded: dict[str, Any] | None
    db_path: str
    exchange_dir: str
    items: int
    stock_rows: int
    orders: dict[str, int]
    pending_events: dict[str, int]
    returns_expected: int
    in_waiting: list[str]
    sequences: list[tuple[str, str, int]]
    last_files: list[dict[str, Any]]
    faults: list[FaultState]
    log: list[tuple[datetime, str, str]]

    def lines(self) -> list[str]:
        """The status as text, for the command line."""
        out = [
            f"Simulated time   {self.now:%Y-%m-%d %H:%M:%S %Z} (speed x{self.speed:g})",
            f"Batch window     {'ON: ' + self.batch_reason if self.batch_window else 'off'}",
            f"Database         {self.db_path}",
            f"Exchange folder  {self.exchange_dir}",
        ]
        if self.seeded:
            out.append(
                f"Catalogue        {self.items} items, {self.stock_rows} stock balances "
                f"(seed {self.seeded['seed']}, {self.seeded['families']} families)"
            )
        else:
            out.append("Catalogue        not seeded (as400_simulator seed)")
        orders = ", ".join(f"{k}={v}" for k, v in sorted(self.orders.items())) or "none"
        out.append(f"Web orders       {orders}")
        pending = ", ".join(f"{k}={v}" for k, v in sorted(self.pending_events.items())) or "none"
        out.append(f"Pending records  {pending}; returns expected: {self.returns_expected}")
        out.append(f"IN/ waiting      {', '.join(self.in_waiting) or 'nothing'}")
        out.append("Faults           " + "; ".join(f.describe() for f in self.faults if f.active) if any(
            f.active for f in self.faults) else "Faults           none on")  # fmt: skip
        out.append(
            "Sequences        " + (", ".join(f"{d} {f} {n:06d}" for d, f, n in self.sequences) or "none")
        )
        out.append("Last files:")
        for f in self.last_files[:10]:
            detail = f" ({f['detail']})" if f["detail"] else ""
            out.append(
                f"  {f['at']:%m-%d %H:%M:%S} {f['direction']:<3} {f['name']} {f['outcome']} {f['records']} rec{detail}"
            )
        return out


class Simulator:
    """One simulated AS400 over one database file and one exchange folder.

    Opening it creates the folders and the tables if missing; nothing else happens until asked.
    Not thread-safe: give each thread (or request) its own, all can share the files.
    """

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        config.ensure_folders()
        self.conn = connect(config.db_path)
        # A database already set up is opened without the write lock: a live reader must not queue
        # behind the run loop writing a full extract.
        if not schema_ready(self.conn):
            create_schema(self.conn)
            with transaction(self.conn):
                clock_init(self.conn, config.start)
                if state_get(self.conn, "speed") is None:
                    state_set(self.conn, "speed", config.speed)
        self.window = BatchWindow(config.batch_start, config.batch_end)
        self.reader = LiveReader(config, self.lock_state)

    @classmethod
    def from_settings(cls, **overrides: Any) -> Simulator:
        """The platform's simulator (see :meth:`SimulatorConfig.from_settings`)."""
        return cls(SimulatorConfig.from_settings(**overrides))

    def close(self) -> None:
        self.reader.close()
        self.conn.close()

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- Clock and state ---------------------------------------------------------------------

    def now(self) -> datetime:
        """The simulated time (Paris)."""
        return clock_now(self.conn)

    @property
    def speed(self) -> float:
        return float(state_get(self.conn, "speed", self.config.speed))

    def batch_reason(self, at: datetime | None = None) -> str:
        """Why the batch window is on at ``at`` (now), or "" when it is off."""
        at = at or self.now()
        if self.window.contains(at):
            return BATCH_NIGHTLY.format(start=f"{self.config.batch_start:%H:%M}", end=f"{self.config.batch_end:%H:%M}")
        if fault_active(self.conn, "batch"):
            return BATCH_FAULT.format()
        return ""

    def in_batch_window(self, at: datetime | None = None) -> bool:
        return bool(self.batch_reason(at))

    def lock_state(self) -> LockState:
        """What SQL readers meet now: the AS400 down, or files locked (and why)."""
        if fault_active(self.conn, "down"):
            return LockState(down=True, reason="fault down")
        reason = self.batch_reason()
        if reason:
            return LockState(locked=frozenset(FULL_FILES), reason=reason)
        lock = fault_active(self.conn, "lock")
        if lock:
            tables = frozenset({lock.file}) if lock.file else frozenset(FULL_FILES)
            return LockState(locked=tables, reason="fault lock: a job holds the file")
        return LockState()

    def is_seeded(self) -> bool:
        return bool(state_get(self.conn, "seeded"))

    def require_seeded(self) -> None:
        if not self.is_seeded():
            raise NotSeededError(
                gettext_noop("the simulator at {path} is not seeded: run 'as400_simulator seed'"),
                path=self.config.db_path,
            )

    # --- Seeding -----------------------------------------------------------------------------

    def seed(self, *, seed: int | None = None, items: int | None = None, force: bool = False) -> SeedReport:
        """Seed the catalogue and stock (idempotent without ``force``)."""
        report = catalogue_seed(
            self.conn,
            seed=self.config.seed if seed is None else seed,
            items=self.config.items if items is None else items,
            at=self.now(),
            force=force,
        )
        if report.seeded:
            with transaction(self.conn):
                log_event(self.conn, self.now(), "seed", report.message)
        return report

    # --- Time passing ------------------------------------------------------------------------

    def step(self, minutes: float = 0, *, seconds: int | None = None) -> StepReport:
        """Move the clock forward and do everything that falls due on the way (deterministic)."""
        self.require_seeded()
        total = round(minutes * 60) if seconds is None else int(seconds)
        if total < 0:
            raise SimulatorError(gettext_noop("the simulated clock only goes forward"))
        start = self.now()
        target = start + timedelta(seconds=total)
        report = StepReport(start=start, end=start)
        t = start
        while True:
            self._live(t, report)
            self._run_due(t, report)
            t = self.now()  # the import job may have nudged it by a second
            if t >= target:
                break
            nxt = min(self._next_due(t), target)
            with transaction(self.conn):
                # Another process (the run loop) may have moved the shared clock further meanwhile.
                t = clock_advance(self.conn, nxt)
        with transaction(self.conn):
            prune_log(self.conn, self.config.log_keep)
        report.end = self.now()
        return report

    def run(
        self,
        *,
        speed: float | None = None,
        tick: float | None = None,
        stop: threading.Event | None = None,
        max_ticks: int | None = None,
        on_step: Callable[[StepReport], None] | None = None,
    ) -> int:
        """The loop: every ``tick`` real seconds, advance by the real time elapsed × ``speed``.

        Writes the full extracts first if OUT/ has none. Returns the number of ticks, when ``stop``
        is set (SIGTERM/SIGINT in the command) or after ``max_ticks``.
        """
        self.require_seeded()
        if speed is not None:
            if speed <= 0:
                raise SimulatorError(gettext_noop("the speed factor must be positive"))
            with transaction(self.conn):
                state_set(self.conn, "speed", speed)
        speed = self.speed
        tick = self.config.tick_seconds if tick is None else tick
        if tick <= 0:
            raise SimulatorError(gettext_noop("the tick must be a positive number of seconds"))
        stop = stop or threading.Event()
        for exported in self.initial_exports():
            logger.info("initial full extract %s", exported.name)
        last = time.monotonic()
        carry = 0.0
        ticks = 0
        while not stop.wait(tick):
            now = time.monotonic()
            carry += (now - last) * speed
            last = now
            whole = int(carry)
            carry -= whole
            try:
                report = self.step(seconds=whole)
            except Exception:  # the loop must outlive one bad tick (a locked file, a full disk)
                logger.exception("simulator tick failed")
            else:
                if on_step is not None:
                    on_step(report)
            ticks += 1
            if max_ticks is not None and ticks >= max_ticks:
                break
        return ticks

    def initial_exports(self) -> list[ExportedFile]:
        """Full extracts of the files OUT/ holds no pair of (what ``run`` does first)."""
        if fault_active(self.conn, "down"):
            return []
        written: list[ExportedFile] = []
        at = self.now()
        for file in FULL_FILES:
            if not out_has_pairs(self.config.out_dir, file):
                with transaction(self.conn):
                    written += export_full(self.conn, self.config, file, at=at)
        return written

    def _live(self, t: datetime, report: StepReport) -> None:
        with transaction(self.conn):
            report.notes += self._own_changes(t)
            since = state_get(self.conn, "life:at")
            state_set(self.conn, "life:at", epoch(t))
            if since is None or since >= epoch(t):
                return
            start = from_epoch(since)
            report.sales += activity.store_sales(self.conn, self.config, start, t)
            report.price_changes += activity.price_changes(self.conn, self.config, start, t)

    def _own_changes(self, t: datetime) -> list[str]:
        """The one-shot faults by which the AS400 changes its own data, at the next instant it lives
        (a step, or an export asked for): ``price``, ``status``. What they did."""
        notes = (activity.price_fault(self.conn, t), status_fault(self.conn, t))
        return [note for note in notes if note]

    def _slow_seconds(self) -> int:
        slow = fault_active(self.conn, "slow")
        return slow.minutes * 60 if slow else 0

    def _job_due(self, name: str, interval_minutes: int, t: datetime, delay: int = 0) -> bool:
        """Whether a periodic job's next grid point (shifted by ``delay``) has come; marks it done."""
        interval = max(1, interval_minutes) * 60
        point = (epoch(t) - delay) // interval * interval
        key = f"due:{name}"
        with transaction(self.conn):
            last = state_get(self.conn, key)
            if last is None:  # a new schedule: its first run is the next grid point (then the delay)
                state_set(self.conn, key, epoch(t) // interval * interval)
                return False
            if point > last:
                state_set(self.conn, key, point)
                return True
            return False

    def _job_next(self, name: str, interval_minutes: int, t: datetime, delay: int = 0) -> datetime:
        interval = max(1, interval_minutes) * 60
        point = (epoch(t) - delay) // interval * interval
        return from_epoch(point + interval + delay)

    def _night_marks(self, t: datetime) -> tuple[datetime, datetime]:
        """The latest window (start, end); a new simulator counts the current night as done."""
        begin, end = self.window.last_start(t)
        with transaction(self.conn):
            for key in ("night:full", "night:restock"):
                if state_get(self.conn, key) is None:
                    state_set(self.conn, key, begin.date().isoformat())
        return begin, end

    def _run_due(self, t: datetime, report: StepReport) -> None:
        conn, config = self.conn, self.config
        delay = self._slow_seconds()
        down = fault_active(conn, "down") is not None
        natural = self.window.contains(t)
        batch = natural or fault_active(conn, "batch") is not None
        begin, end = self._night_marks(t)
        night = begin.date().isoformat()

        if natural and config.nightly_restock and state_get(conn, "night:restock") != night:
            with transaction(conn):
                # Checked again under the write lock: another process may have restocked meanwhile.
                if state_get(conn, "night:restock") != night:
                    report.restocked += activity.nightly_restock(conn, config, t)
                    state_set(conn, "night:restock", night)
                    log_event(conn, t, "batch", f"nightly batch: {report.restocked} balance(s) restocked")

        def fulls_due() -> tuple[bool, bool]:
            nightly = t >= end + timedelta(seconds=delay) and state_get(conn, "night:full") != night
            return nightly, nightly or bool(state_get(conn, "full:pending"))

        if not batch and not down and fulls_due()[1]:
            # One unit of work, checked again under the write lock: another process stepping the
            # same simulator may have written them meanwhile.
            with transaction(conn):
                nightly, due = fulls_due()
                if due:
                    for file in FULL_FILES:
                        report.exported += export_full(conn, config, file, at=t)
                    if nightly:
                        state_set(conn, "night:full", night)
                    state_set(conn, "full:pending", False)
            # A delta due at the same instant would be empty: the full already carries everything.
            self._job_due("delta:STKBAL", config.stkbal_delta_minutes, t, delay)
            self._job_due("delta:ITMMST", config.itmmst_delta_minutes, t, delay)

        if not batch:
            with transaction(conn):
                report.events += lifecycle_tick(conn, config, at=t)

        if self._job_due("import", config.import_interval_minutes, t):
            if down:
                report.notes.append("import job skipped: the AS400 is down")
            elif batch:
                report.notes.append("import job stopped: batch window")
            else:
                t = self._import(t, report, delay)

        for file, minutes in (
            ("STKBAL", config.stkbal_delta_minutes),
            ("ITMMST", config.itmmst_delta_minutes),
        ):
            if self._job_due(f"delta:{file}", minutes, t, delay) and not down and not batch:
                with transaction(conn):
                    report.exported += export_delta(conn, config, file, at=t)

        if not down and not batch:
            with transaction(conn):
                report.exported += outbox_flush(conn, config, at=t, delay_seconds=delay)

    def _import(self, t: datetime, report: StepReport, delay: int) -> datetime:
        # An ORDACK must be later than any STKBAL extract that does not count its order: the job
        # nudges the clock by a second when needed, inside the transaction that applies the order.
        result = import_job(self.conn, self.config, at=t, delay_seconds=delay)
        report.imports.append(result)
        return max(t, self.now())

    def _next_due(self, t: datetime) -> datetime:
        delay = self._slow_seconds()
        candidates = [
            t + MAX_SLICE,
            self.window.next_boundary(t),
            self._job_next("import", self.config.import_interval_minutes, t),
            self._job_next("delta:STKBAL", self.config.stkbal_delta_minutes, t, delay),
            self._job_next("delta:ITMMST", self.config.itmmst_delta_minutes, t, delay),
        ]
        if delay:
            _, end = self.window.last_start(t)
            candidates.append(end + timedelta(seconds=delay))
        row = self.conn.execute(
            "SELECT MIN(DUE_AT) FROM SIM_RETURN WHERE RECEIVED_AT IS NULL AND DUE_AT > ?", (epoch(t),)
        ).fetchone()
        if row[0] is not None:
            candidates.append(from_epoch(row[0]))
        return max(min(c for c in candidates if c > t), t + timedelta(seconds=1))

    # --- Jobs on demand ----------------------------------------------------------------------

    def _refuse_export_when_unavailable(self) -> None:
        if fault_active(self.conn, "down"):
            raise SimulatorError(gettext_noop("the AS400 is down (fault down): nothing is exported"))
        at = self.now()
        if self.window.contains(at):
            raise SimulatorError(
                gettext_noop("the nightly batch window is on ({start}-{end}): nothing is exported"),
                start=f"{self.config.batch_start:%H:%M}", end=f"{self.config.batch_end:%H:%M}",
            )  # fmt: skip
        if self.batch_reason(at):
            raise SimulatorError(gettext_noop("the batch window is on (fault batch): nothing is exported"))

    def import_now(self) -> ImportReport:
        """Run the import job now and write what it answers (ORDACK, ORDSTS A), as the schedule would."""
        self.require_seeded()
        if fault_active(self.conn, "down"):
            return ImportReport(ran=False, reason=NOT_RUN_DOWN.format())
        reason = self.batch_reason()
        if reason:
            return ImportReport(ran=False, reason=NOT_RUN_BATCH.format(reason=reason))
        delay = self._slow_seconds()
        step = StepReport(start=self.now(), end=self.now())
        t = self._import(self.now(), step, delay)
        with transaction(self.conn):
            outbox_flush(self.conn, self.config, at=t, delay_seconds=delay)
        return step.imports[0]

    def export(self, kind: str, file: str | None = None) -> list[ExportedFile]:
        """Write a file now: ``full`` (ITMMST, STKBAL, WEBORD), ``delta`` (ITMMST, STKBAL), or
        ``pending`` (the queued ORDACK/ORDSTS/STRRTN records, of ``file`` or all)."""
        self.require_seeded()
        self._refuse_export_when_unavailable()
        at = self.now()
        file = file.upper() if file else None
        with transaction(self.conn):
            self._own_changes(at)
            if kind == "full":
                if file not in FULL_FILES:
                    raise SimulatorError(gettext_noop("a full extract is one of {files}"), files=", ".join(FULL_FILES))
                return export_full(self.conn, self.config, file, at=at)
            if kind == "delta":
                if file not in DELTA_FILES:
                    raise SimulatorError(gettext_noop("a delta is one of {files}"), files=", ".join(DELTA_FILES))
                return export_delta(self.conn, self.config, file, at=at, force=True)
            if kind == "pending":
                if file is not None and file not in EVENT_FILES:
                    raise SimulatorError(gettext_noop("pending records are {files}"), files=", ".join(EVENT_FILES))
                return outbox_flush(self.conn, self.config, at=at, files=(file,) if file else EVENT_FILES)
        raise SimulatorError(gettext_noop("export full, delta or pending, not {kind!r}"), kind=kind)

    # --- Operators ---------------------------------------------------------------------------

    def _operate(
        self, action: Callable[..., list[dict[str, Any]]], webn: str, **kwargs: Any
    ) -> list[dict[str, Any]]:
        self.require_seeded()
        at = self.now()
        with transaction(self.conn):
            records = action(self.conn, webn, at=at, **kwargs)
            log_event(
                self.conn,
                at,
                "operator",
                f"{action.__name__} {webn} {kwargs or ''}: {len(records)} record(s)",
            )
        self._flush_if_up(at)
        return records

    def _flush_if_up(self, at: datetime) -> None:
        """Operator events go out at once when the AS400 is up; otherwise with a later step."""
        if fault_active(self.conn, "down") or self.batch_reason(at) or self._slow_seconds():
            return
        with transaction(self.conn):
            outbox_flush(self.conn, self.config, at=at)

    def pick(self, webn: str, *, line: int | None = None, qty: int | None = None) -> list[dict[str, Any]]:
        """The order (or a line) is picked: ORDSTS P."""
        return self._operate(order_pick, webn, line=line, qty=qty)

    def ship(self, webn: str, *, line: int | None = None, qty: int | None = None) -> list[dict[str, Any]]:
        """A home delivery leaves the warehouse: ORDSTS E with a tracking number; SBQOH and SBQRS fall."""
        return self._operate(order_ship, webn, line=line, qty=qty)

    def ready(self, webn: str, *, line: int | None = None, qty: int | None = None) -> list[dict[str, Any]]:
        """A click and collect order is ready in store: ORDSTS L; SBQOH and SBQRS fall."""
        return self._operate(order_ready, webn, line=line, qty=qty)

    def cancel(self, webn: str, *, line: int | None = None, qty: int | None = None) -> list[dict[str, Any]]:
        """The AS400 cancels what is still open: ORDSTS A; SBQRS released."""
        return self._operate(order_cancel, webn, line=line, qty=qty)

    def return_store(
        self, webn: str, *, line: int | None = None, qty: int | None = None, store: int | None = None
    ) -> list[dict[str, Any]]:
        """Goods brought back to a store counter: STRRTN R; SBQOH rises at that store."""
        return self._operate(store_return, webn, line=line, qty=qty, store=store)

    def cancel_store(
        self, webn: str, *, line: int | None = None, qty: int | None = None
    ) -> list[dict[str, Any]]:
        """Click and collect not picked up, cancelled at the counter: STRRTN C; SBQOH rises."""
        return self._operate(store_cancel, webn, line=line, qty=qty)

    def receive_return(self, webn: str, *, line: int | None = None) -> list[dict[str, Any]]:
        """The goods of an announced return (RTNIMP) arrive now: ORDSTS R; SBQOH rises."""
        return self._operate(return_receive, webn, line=line)

    def order(self, webn: str) -> list[Any]:
        """The lines of a web order as the AS400 holds them."""
        return order_lines(self.conn, webn)

    # --- Faults ------------------------------------------------------------------------------

    def fault_on(
        self, name: str, *, value: str | None = None, file: str | None = None, item: str | None = None
    ) -> FaultState:
        """Switch a fault on (see :data:`integration.as400.simulator.faults.FAULTS`)."""
        at = self.now()
        with transaction(self.conn):
            state = fault_set(self.conn, name, active=True, at=at, value=value, file=file, item=item)
            log_event(self.conn, at, "fault", state.describe())
        return state

    def fault_off(self, name: str) -> FaultState:
        at = self.now()
        with transaction(self.conn):
            state = fault_set(self.conn, name, active=False, at=at)
            log_event(self.conn, at, "fault", state.describe())
        return state

    def faults(self) -> list[FaultState]:
        return fault_list(self.conn)

    # --- Reading live ------------------------------------------------------------------------

    def sql(
        self,
        query: str,
        params: Sequence[Any] = (),
        *,
        wait: float | None = None,
        timeout: float | None = None,
    ) -> list[tuple[Any, ...]]:
        """A SELECT on ITMMST/STKBAL/WEBORD as DB2 for i would answer it (SQL0913 when locked)."""
        return self.reader.query(query, params, wait=wait, timeout=timeout)

    def read_stock(self, item: str, location: int, *, wait: float | None = None) -> StockReading | None:
        """SBQOH and SBQRS of one item at one location, read live."""
        return self.reader.read_stock(item, location, wait=wait)

    # --- Status ------------------------------------------------------------------------------

    def status(self) -> SimulatorStatus:
        conn = self.conn
        now = self.now()
        orders = {r[0]: r[1] for r in conn.execute("SELECT WOSTAT, COUNT(*) FROM WEBORD GROUP BY WOSTAT")}
        files = [
            {
                "direction": r["DIRECTION"],
                "name": r["NAME"],
                "kind": r["KIND"],
                "records": r["RECORDS"],
                "outcome": r["OUTCOME"],
                "detail": r["DETAIL"],
                "at": from_epoch(r["SIM_AT"]),
            }
            for r in conn.execute("SELECT * FROM SIM_FILE ORDER BY ID DESC LIMIT 20")
        ]
        sequences = [
            (r["DIRECTION"], r["FILE"], r["LAST"])
            for r in conn.execute("SELECT * FROM SIM_SEQ ORDER BY DIRECTION DESC, FILE")
        ]
        log = [
            (from_epoch(r["SIM_AT"]), r["KIND"], r["MESSAGE"])
            for r in conn.execute("SELECT * FROM SIM_LOG ORDER BY ID DESC LIMIT 30")
        ]
        returns = conn.execute("SELECT COUNT(*) FROM SIM_RETURN WHERE RECEIVED_AT IS NULL").fetchone()[0]
        return SimulatorStatus(
            now=now,
            speed=self.speed,
            batch_window=self.in_batch_window(now),
            batch_reason=self.batch_reason(now),
            seeded=state_get(conn, "seeded"),
            db_path=str(self.config.db_path),
            exchange_dir=str(self.config.exchange_dir),
            items=conn.execute("SELECT COUNT(*) FROM ITMMST").fetchone()[0],
            stock_rows=conn.execute("SELECT COUNT(*) FROM STKBAL").fetchone()[0],
            orders=orders,
            pending_events=outbox_pending(conn),
            returns_expected=returns,
            in_waiting=[p.stem for p in pending_pairs(self.config)],
            sequences=sequences,
            last_files=files,
            faults=self.faults(),
            log=log,
        )

    def last_seq(self, file: str, direction: str = "OUT") -> int:
        return seq_last(self.conn, direction, file)
