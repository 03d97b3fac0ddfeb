"""Real ``qcluster`` processes on PostgreSQL + Redis: the AS400 down, SIGKILL, a sales peak.

The claims of issue 4 §3 that are about processes, proven in the production setup: django-q2
clusters (``manage.py qcluster``, on the Redis broker that REDIS_URL selects) working on the test
database, each cluster in a process group of its own so that SIGKILL takes the cluster and all its
workers at once. Every process is the ``processes`` fixture's (tests/processes.py): whatever is
still running when a test ends, however it ends, is stopped with its children.

How the clusters are made to dispatch. In production the schedule of migration 0005 enqueues
``integration.tasks.outbox_dispatch`` every minute, django-q2's finest interval. Here the test
enqueues that very task on the cluster's Redis queue itself, a few times a second while fewer than
two wait (:class:`Dispatching`), so that a test lasts seconds, not minutes. The schedules the
migrations create are deleted first, so that only those tasks run (and the AS400 sync, which the
schedule would also run in the clusters, is run by the test between the simulator's imports).
Each test has a cluster name of its own (Q_CLUSTER_NAME: its Redis queue and its signing salt), so
two runs sharing one Redis never take each other's tasks; the test process joins that cluster for
the time of the test, as a web process started with the same Q_CLUSTER_NAME would.

The simulated AS400 is the test's: its import job runs when the test says (``sim.import_now()``),
its ORDACKs are applied by ``exchange_sync``. The clusters run on the real clock, so the batch
window is switched off for them (AS400_BATCH_WINDOW=00:00-00:00): the tests pass at any hour.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db.models import Sum
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import Schedule, Task
from django_q.tasks import async_task

from integration.as400.codec import RecordCodec
from integration.as400.simulator.engine import Simulator
from integration.as400.sync import exchange_sync
from integration.models import Alert, OutboundFile, OutboxMessage
from inventory.models import Product, StockLevel
from orders.models import Order, OrderLine
from orders.selectors import messages_with_order
from tests.factories.clusters import database_url
from tests.factories.orders import as400_orders, place, warehouse_items
from tests.processes import Owned, Processes

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

DISPATCH_TASK = "integration.tasks.outbox_dispatch"


# --- The clusters -------------------------------------------------------------------------------


class QCluster:
    """One ``manage.py qcluster`` (sentinel, pusher, monitor, workers), in a process group of its own."""

    def __init__(self, label: str, env: dict[str, str], log_dir: Path, owner: Processes) -> None:
        self.label, self.env, self.log_dir, self.owner = label, env, log_dir, owner
        self.proc: Owned | None = None
        self.starts = 0
        self.log_path = log_dir / f"{label}-0.log"

    def start(self) -> None:
        assert self.proc is None, f"{self.label} is already running"
        self.starts += 1
        self.log_path = self.log_dir / f"{self.label}-{self.starts}.log"
        self.proc = self.owner.manage("qcluster", label=self.label, env=self.env, log=self.log_path)

    def signal_group(self) -> Owned | None:
        """SIGKILL to the whole group (one killpg takes every worker), not waited for."""
        if self.proc is None:
            return None
        self.proc.signal_group(signal.SIGKILL)
        return self.proc

    def reap(self, proc: Owned | None) -> None:
        """Wait until no process of the group is left (a process in fsync dies when the call returns)."""
        if proc is None:
            return
        proc.reap()
        self.proc = None

    def kill(self) -> None:
        self.reap(self.signal_group())

    def stop(self) -> None:
        """SIGTERM to the cluster: django-q2 lets its workers finish their task and stops; SIGKILL
        to whatever did not stop in 30 s."""
        if self.proc is None:
            return
        self.proc.stop(grace=30, whole_group=False)  # the sentinel stops its workers itself
        self.proc = None

    def task_lines(self) -> int:
        """Lines of its logs (all its starts) naming the dispatch task: a worker logs one when it
        starts a task, the monitor one when it is done (in the settings' language)."""
        return sum(
            path.read_text(errors="replace").count(f"'{DISPATCH_TASK}'")
            for path in self.log_dir.glob(f"{self.label}-*.log")
        )

    def log_tail(self, lines: int = 15) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else "(no log)"
        return f"--- {self.log_path.name}\n" + "\n".join(text.splitlines()[-lines:])


def kill_together(clusters: list[QCluster]) -> None:
    """SIGKILL every group first, then wait for them: the kills land at the same moment."""
    groups = [(cluster, cluster.signal_group()) for cluster in clusters]
    for cluster, proc in groups:
        cluster.reap(proc)


class Dispatching:
    """Keeps ``outbox_dispatch`` tasks waiting on the cluster's Redis queue, as the schedule does.

    Every ``every`` seconds, one more task while fewer than ``depth`` wait; the clusters' workers take
    them. A dispatch run is short when there is nothing to send, so this keeps the machine busy only
    while there is work.
    """

    def __init__(self, depth: int, every: float = 0.25) -> None:
        self.depth, self.every = depth, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dispatching", daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            broker = get_broker()
            while not self._stop.wait(self.every):
                if broker.queue_size() < self.depth:
                    async_task(DISPATCH_TASK, broker=broker)
        except BaseException as exc:  # raised again in the test's thread
            self._error = exc

    def __enter__(self) -> Dispatching:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        if self._error is not None and exc is None:
            raise AssertionError(f"enqueuing dispatch tasks failed: {self._error!r}") from self._error


@dataclass
class Clusters:
    """The test's cluster name, the environment its processes get, and every process started."""

    name: str
    env: dict[str, str]
    log_dir: Path
    owner: Processes
    all: list[QCluster] = field(default_factory=list)

    def new(self, label: str, **env: str) -> QCluster:
        cluster = QCluster(label, {**self.env, **env}, self.log_dir, self.owner)
        self.all.append(cluster)
        return cluster

    def shell(self, label: str, code: str) -> tuple[Owned, Path]:
        """``manage.py shell -c code`` with the clusters' environment; stopped at the end if still running."""
        log = self.log_dir / f"{label}.log"
        return self.owner.manage("shell", "-c", code, label=label, env=self.env, log=log), log

    def logs(self) -> str:
        return "\n".join(cluster.log_tail() for cluster in self.all)


@pytest.fixture
def clusters(
    simulator: Simulator,
    settings: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    processes: Processes,
) -> Iterator[Clusters]:
    caplog.set_level(logging.WARNING, logger="django-q")  # not a line per task enqueued
    name = f"qtest-{uuid.uuid4().hex[:12]}"
    # The test process enqueues for this cluster: its queue, and its salt to sign the tasks.
    monkeypatch.setattr(Conf, "PREFIX", name)
    monkeypatch.setattr(Conf, "CLUSTER_NAME", name)
    Schedule.objects.all().delete()  # only the test's tasks run (see the module's docstring)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": str(django_settings.REDIS_URL),
        "Q_CLUSTER_NAME": name,
        "Q_WORKERS": "2",
        "AS400_EXCHANGE_DIR": str(settings.AS400_EXCHANGE_DIR),
        "AS400_SIMULATOR_DB": str(settings.AS400_SIMULATOR_DB),
        "AS400_BATCH_WINDOW": "00:00-00:00",  # the clusters run on the real clock
        "LOG_LEVEL": "INFO",
    }
    log_dir = tmp_path / "qcluster-logs"
    log_dir.mkdir()
    found = Clusters(name, env, log_dir, processes)
    try:
        yield found
    finally:
        try:
            processes.close()  # the clusters and the placers: SIGTERM, a grace, SIGKILL, reaped
        finally:
            get_broker().delete_queue()


# --- Helpers ------------------------------------------------------------------------------------


def plenty_of_stock(sim: Simulator, count: int, units: int) -> list[Product]:
    """``count`` warehouse items with ``units`` on hand, here and on the AS400."""
    products = warehouse_items(count)
    StockLevel.objects.filter(product__in=products, location_id=900).update(on_hand=units)
    with sim.conn:
        sim.conn.execute(
            f"UPDATE STKBAL SET SBQOH = ? WHERE SBMAG = 900 AND SBITEM IN ({','.join('?' * count)})",
            [units, *(p.item_number for p in products)],
        )
    return products


def dispatch_runs() -> int:
    """Dispatch tasks the clusters have finished (their results, saved by django-q2)."""
    return Task.objects.filter(func=DISPATCH_TASK).count()


def failed_tasks() -> list[str]:
    return [f"{t.name}: {t.result}" for t in Task.objects.filter(success=False)]


def pairs_in(folder: Path, ccsid: int) -> dict[str, list[str]]:
    """The web order numbers of each ORDIMP pair's .DAT in ``folder``, in file order."""
    codec = RecordCodec.for_file("ORDIMP", ccsid)
    return {
        dat.name: [str(r["OHWEBN"]).strip() for r in codec.iter_decode(dat.read_bytes()) if r.get("OHTYPE") == "H"]
        for dat in sorted(folder.glob("ORDIMP_*"))
        if ".DAT" in dat.name
    }  # fmt: skip


def progress(sim: Simulator) -> str:
    """Where things are, for a failure message."""
    messages = Counter(OutboxMessage.objects.values_list("state", flat=True))
    files = Counter(OutboundFile.objects.values_list("state", flat=True))
    orders = Counter(Order.objects.values_list("status", flat=True))
    return (
        f"outbox messages {dict(messages)}, outbound files {dict(files)}, orders {dict(orders)}, "
        f"WEBORD {len(as400_orders(sim))}, dispatch tasks finished {dispatch_runs()}, failed {failed_tasks()}"
    )


def wait_for(
    what: str,
    done: Callable[[], bool],
    *,
    timeout: float,
    sim: Simulator,
    clusters: Clusters,
    between: Callable[[], None] | None = None,
    every: float = 0.1,
) -> None:
    """Poll until ``done()``, running ``between`` meanwhile; past ``timeout``, fail saying what is missing."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"after {timeout:.0f} s still waiting for {what}: {progress(sim)}\n{clusters.logs()}"
            )
        if between is not None:
            between()
        time.sleep(every)


def the_as400_works(sim: Simulator, duplicates: Counter[str]) -> Callable[[], None]:
    """The AS400's import job, then the sync applying its ORDACKs (D answers counted)."""

    def work() -> None:
        sim.import_now()
        for run in exchange_sync().runs:
            if run.file == "ORDACK":
                duplicates["D"] += int(run.counts.get("duplicate", 0))

    return work


def check_files_against_the_as400(
    sim: Simulator, exchange: Path, numbers: list[str], *, per_file: int
) -> dict[str, list[str]]:
    """Every order in exactly one file the AS400 read, in order of placement within it, each file
    within the cap, nothing left over; each recorded file holds exactly its messages' orders;
    WEBORD has each order once."""
    ccsid = int(django_settings.AS400_CCSID)
    done = pairs_in(exchange / "IN" / "DONE", ccsid)
    assert pairs_in(exchange / "IN" / "ERR", ccsid) == {}, "the AS400 refused a file"
    assert [p.name for p in (exchange / "IN").glob("ORDIMP_*")] == [], "a pair was left in IN/"
    sent = [n for orders in done.values() for n in orders]
    assert len(sent) == len(set(sent)), (
        f"orders in two files: {[n for n, c in Counter(sent).items() if c > 1]}"
    )
    assert sorted(sent) == numbers, f"orders in no file: {sorted(set(numbers) - set(sent))[:20]}"
    oversized = {name: len(orders) for name, orders in done.items() if len(orders) > per_file}
    assert oversized == {}, f"files over the cap of {per_file}"
    # Order of placement: of the orders' outbox messages, written last in the placing transaction
    # (two orders placed at the same moment by two processes have no other order between them).
    ids = dict(messages_with_order(OutboxMessage.objects.filter(kind="ORDIMP")).values_list("order_number", "pk"))
    for name, in_file in done.items():
        placed = [ids[n] for n in in_file]
        assert placed == sorted(placed), f"{name}: not in order of placement"
    assert set(OutboundFile.objects.values_list("state", flat=True)) == {"written"}
    assert not OutboxMessage.objects.filter(outbound_file__isnull=True).exists(), "a message without its file"
    for outbound in OutboundFile.objects.all():  # each file holds exactly the messages recorded in it
        recorded = sorted(messages_with_order(outbound.messages.all()).values_list("order_number", flat=True))
        assert sorted(done[f"{outbound}.DAT"]) == recorded, f"{outbound} on disk is not what was recorded"
    assert as400_orders(sim) == numbers  # imported once each
    return done


# --- 1. The AS400 down while a thousand orders are placed ------------------------------------------

OUTAGE_ORDERS = 1000
OUTAGE_PER_FILE = 100


def test_the_as400_down_while_a_thousand_orders_are_placed_then_back_each_imported_once_in_order(
    simulator: Simulator, settings: Any, clusters: Clusters
) -> None:
    """Three qclusters (two workers each) dispatch while the AS400 is down, then back.

    The first order's file is written and left unread; the other 999 are placed while the clusters
    keep running dispatch tasks, which hold: the breaker. Then the AS400 reads again and the test
    applies its ORDACKs as they come, while the clusters send the backlog.

    OUTBOX_CONSUME_DEADLINE_MINUTES=0: the breaker holds as soon as a file of ours is still unread
    on the next run, which production does 15 minutes into an outage; the test cannot wait 15
    minutes. The per-minute cap is raised (the claim is exactly-once and order, not the pace) and
    the per-file cap lowered to 100, so that the thousand orders make ten files or more.
    """
    sim = simulator
    exchange = Path(settings.AS400_EXCHANGE_DIR)
    products = plenty_of_stock(sim, 5, units=10_000)
    sim.fault_on("down")
    env = {
        "OUTBOX_MAX_ORDERS_PER_FILE": str(OUTAGE_PER_FILE),
        "OUTBOX_MAX_ORDERS_PER_MINUTE": "100000",
        "OUTBOX_CONSUME_DEADLINE_MINUTES": "0",
    }
    running = [clusters.new(f"outage-{i}", **env) for i in range(3)]
    for cluster in running:
        cluster.start()
    duplicates: Counter[str] = Counter()
    started = time.monotonic()
    with Dispatching(depth=2):
        # The first order goes out and stays unread: from then on, the breaker holds.
        place(0, products[0])
        wait_for("the first order's file", lambda: OutboundFile.objects.filter(state="written").exists(),
                 timeout=60, sim=sim, clusters=clusters)  # fmt: skip
        runs = dispatch_runs()
        wait_for("six dispatch runs after the first file", lambda: dispatch_runs() >= runs + 6,
                 timeout=30, sim=sim, clusters=clusters)  # fmt: skip
        for n in range(1, OUTAGE_ORDERS):
            place(n, products[n % 5])
        placed_in = time.monotonic() - started
        runs = dispatch_runs()
        wait_for("six dispatch runs after the last order", lambda: dispatch_runs() >= runs + 6,
                 timeout=30, sim=sim, clusters=clusters)  # fmt: skip
        assert OutboundFile.objects.count() == 1, (
            f"the clusters sent while the AS400 was down: {progress(sim)}"
        )
        assert OutboxMessage.objects.filter(state="pending").count() == OUTAGE_ORDERS - 1
        assert Alert.objects.filter(kind="outbox_breaker_open").exists()  # held by the breaker
        assert sim.conn.execute("SELECT COUNT(*) FROM WEBORD").fetchone()[0] == 0  # nothing read
        held_at = time.monotonic() - started

        sim.fault_off("down")  # the AS400 is back
        wait_for(
            "every order accepted",
            lambda: Order.objects.filter(status="accepted").count() == OUTAGE_ORDERS,
            timeout=120, sim=sim, clusters=clusters, between=the_as400_works(sim, duplicates),
        )  # fmt: skip
    for cluster in running:
        cluster.stop()
    print(
        f"\noutage: {OUTAGE_ORDERS} placed in {placed_in:.1f} s, hold checked at {held_at:.1f} s, "
        f"all accepted at {time.monotonic() - started:.1f} s; {OutboundFile.objects.count()} files; "
        f"{dispatch_runs()} dispatch runs; task log lines per cluster {[c.task_lines() for c in running]}"
    )

    numbers = [f"WEB-{n:06d}" for n in range(OUTAGE_ORDERS)]
    done = check_files_against_the_as400(sim, exchange, numbers, per_file=OUTAGE_PER_FILE)
    for name, in_file in done.items():  # placed one after the other: the numbers say the order too
        assert in_file == sorted(in_file), f"{name} is not in order of placement"
    assert duplicates["D"] == 0  # the AS400 never saw an order twice
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {"acked"}
    assert failed_tasks() == []
    assert all(cluster.task_lines() > 0 for cluster in running), "a cluster never dispatched"


# --- 2. SIGKILL while writing a file, or right after ----------------------------------------------

KILL_ORDERS = 240
KILL_ROUNDS = 10


def what_the_kill_left(exchange: Path, temporaries_before: set[str]) -> Counter[str]:
    """Files recorded but not marked written, by what is on disk, and new temporary files in IN/."""
    left: Counter[str] = Counter()
    folders = [exchange / "IN", exchange / "IN" / "DONE", exchange / "IN" / "ERR"]
    for outbound in OutboundFile.objects.filter(state="writing"):
        dat = any((folder / f"{outbound}.DAT").exists() for folder in folders)
        ok = any((folder / f"{outbound}.OK").exists() for folder in folders)
        if dat and ok:
            left["pair written, not marked (killed right after writing)"] += 1
        elif dat:
            left[".DAT without .OK (killed between the two)"] += 1
        else:
            left["recorded, not written (killed before or while writing)"] += 1
    temporaries = {p.name for p in (exchange / "IN").glob(".*.tmp")} - temporaries_before
    if temporaries:
        left["temporary files left (killed while writing)"] += len(temporaries)
    return left


def files_recorded(at_least: int) -> Callable[[], bool]:
    return lambda: OutboundFile.objects.count() >= at_least


@pytest.mark.slow
@pytest.mark.timeout(1500)  # its waits are bounded at 720 s in all
def test_qclusters_killed_with_sigkill_while_writing_lose_nothing_and_import_nothing_twice(
    simulator: Simulator, settings: Any, clusters: Clusters
) -> None:
    """Two qclusters (two workers each), SIGKILLed together at random moments while they write.

    One order a file (OUTBOX_MAX_ORDERS_PER_FILE=1): each order is a claim, a pair written with
    its fsyncs and a mark, so that most of a worker's time is spent where a kill hurts. Between
    two rounds the AS400 reads what is complete (a pair written but not yet marked included).
    Then one cluster runs clean to the end.
    """
    sim = simulator
    exchange = Path(settings.AS400_EXCHANGE_DIR)
    products = plenty_of_stock(sim, 3, units=10_000)
    for n in range(KILL_ORDERS):
        place(n, products[n % 3])
    env = {"OUTBOX_MAX_ORDERS_PER_FILE": "1", "OUTBOX_MAX_ORDERS_PER_MINUTE": "100000"}
    pair = [clusters.new("kill-a", **env), clusters.new("kill-b", **env)]
    seed = random.randrange(1_000_000)
    print(f"kill rounds with random.Random({seed})")  # shown with a failure, to replay the same moments
    rng = random.Random(seed)
    evidence: Counter[str] = Counter()
    rounds_mid_write = 0
    temporaries: set[str] = set()
    duplicates: Counter[str] = Counter()
    as400 = the_as400_works(sim, duplicates)
    started = time.monotonic()
    with Dispatching(depth=2):
        for round_ in range(KILL_ROUNDS):
            before = OutboundFile.objects.count()
            for cluster in pair:
                cluster.start()
            target = before + rng.randint(2, 12)
            wait_for(f"round {round_}: {target} files recorded", files_recorded(target),
                     timeout=60, sim=sim, clusters=clusters)  # fmt: skip
            time.sleep(rng.uniform(0, 0.03))
            kill_together(pair)
            assert OutboxMessage.objects.filter(state="pending").exists(), "the kill came after the work"
            left = what_the_kill_left(exchange, temporaries)
            temporaries |= {p.name for p in (exchange / "IN").glob(".*.tmp")}
            evidence += left
            rounds_mid_write += bool(left)
            as400()  # meanwhile the AS400 reads what is complete, and its ORDACKs are applied

        pair[0].start()  # a last clean run
        wait_for(
            "every order sent, read by the AS400 and acknowledged",
            lambda: Order.objects.filter(status="accepted").count() == KILL_ORDERS,
            timeout=120, sim=sim, clusters=clusters, between=as400,
        )  # fmt: skip
    pair[0].stop()
    print(f"\nkills: {KILL_ROUNDS} rounds in {time.monotonic() - started:.1f} s, {rounds_mid_write} left a "
          f"file half-done: {dict(evidence)}; temporary files left in IN/: {len(temporaries)}")  # fmt: skip

    numbers = [f"WEB-{n:06d}" for n in range(KILL_ORDERS)]
    check_files_against_the_as400(sim, exchange, numbers, per_file=1)
    assert not OutboundFile.objects.filter(state="writing").exists()
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {"acked"}
    assert duplicates["D"] == 0  # nothing imported twice, not even answered D
    assert failed_tasks() == []
    assert rounds_mid_write > 0, f"no kill landed while a file was being written (seed {seed})"


# --- 3. A sales peak of 5,000 orders --------------------------------------------------------------

PEAK_ORDERS = 5000
PEAK_PLACERS = 2
PEAK_BACKLOG = 1000
# A placer: another process (a web worker, in production), placing every other order with the
# suite's own ``place`` (a reservation, then order_place), on the test database.
PLACER = """
import sys
sys.path.insert(0, {root!r})
from tests.factories.clusters import database_url
from tests.factories.orders import place
from inventory.models import Product
products = list(Product.objects.filter(pk__in={pks!r}).order_by("item_number"))
for n in range({first}, {orders}, {step}):
    place(n, products[n % len(products)], quantity=1 + n % 3)
"""


@pytest.mark.slow
@pytest.mark.timeout(1500)  # its waits are bounded at 720 s in all
def test_a_peak_of_five_thousand_orders_each_ends_accepted_acknowledged_and_settled(
    simulator: Simulator, settings: Any, clusters: Clusters
) -> None:
    """5,000 orders placed by two processes while two qclusters dispatch and the AS400 imports.

    Processes, not threads: placing an order is mostly Python, and one process's threads would
    take turns. Dispatching starts once 1,000 orders wait, as when a peak outruns the schedule, so
    that the first files are full. The per-file cap is the settings' (200). The per-minute cap is raised from 600 to
    100,000: at 600 a minute the peak would need nine minutes of dispatching, and the claim here is
    that each order ends in the right state under load, not the pace (test_dispatch.py proves the
    pace).
    """
    sim = simulator
    exchange = Path(settings.AS400_EXCHANGE_DIR)
    per_file = int(django_settings.OUTBOX_MAX_ORDERS_PER_FILE)
    products = plenty_of_stock(sim, 10, units=100_000)  # far more than the peak takes: nothing refused
    running = [clusters.new(f"peak-{i}", OUTBOX_MAX_ORDERS_PER_MINUTE="100000") for i in range(2)]
    for cluster in running:
        cluster.start()
    pks = sorted(p.pk for p in products)
    duplicates: Counter[str] = Counter()
    as400 = the_as400_works(sim, duplicates)
    started = time.monotonic()
    placers = [
        clusters.shell(f"placer-{i}", PLACER.format(
            root=str(Path(__file__).resolve().parents[2]), pks=pks, first=i, orders=PEAK_ORDERS, step=PEAK_PLACERS
        ))
        for i in range(PEAK_PLACERS)
    ]  # fmt: skip
    # The peak comes faster than the schedule: a backlog before the first dispatch, files at the cap.
    wait_for(f"{PEAK_BACKLOG} orders placed", lambda: Order.objects.count() >= PEAK_BACKLOG,
             timeout=120, sim=sim, clusters=clusters, every=0.5)  # fmt: skip
    with Dispatching(depth=2, every=1.0):  # a run sends everything pending: one a second is plenty
        wait_for(
            "every order placed",
            lambda: all(proc.poll() is not None for proc, _ in placers),
            timeout=300, sim=sim, clusters=clusters, between=as400, every=0.5,
        )  # fmt: skip
        placed_in = time.monotonic() - started
        for proc, log in placers:
            assert proc.returncode == 0, f"a placer failed:\n{log.read_text(errors='replace')[-3000:]}"
        wait_for(
            "every order answered by the AS400",
            lambda: Order.objects.filter(status__in=["accepted", "refused"]).count() == PEAK_ORDERS,
            timeout=300, sim=sim, clusters=clusters, between=as400, every=0.5,
        )  # fmt: skip
    for cluster in running:
        cluster.stop()
    elapsed = time.monotonic() - started

    refused = list(Order.objects.filter(status="refused").values_list("order_number", "refusal_reason")[:10])
    assert refused == [], "the AS400 refused orders: its stock was meant to be enough"
    numbers_placed = [f"WEB-{n:06d}" for n in range(PEAK_ORDERS)]
    done = check_files_against_the_as400(sim, exchange, numbers_placed, per_file=per_file)
    assert max(len(orders) for orders in done.values()) == per_file  # the cap was reached, and held
    assert duplicates["D"] == 0
    assert failed_tasks() == []
    # Accepted and acknowledged: an AS400 number each, every line acked, every message acked.
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {"acked"}
    ours = {
        o.order_number: (o.as400_order_number, sum(line.quantity for line in o.lines.all()))
        for o in Order.objects.prefetch_related("lines")
    }
    theirs = {
        str(w).strip(): (str(c).strip(), int(q))
        for w, c, q in sim.sql("SELECT WOWEBN, WOCDE, WOQTC FROM WEBORD")
    }
    assert ours == theirs  # the AS400's number for each order, and the quantities it holds for it
    assert len({number for number, _ in ours.values()}) == PEAK_ORDERS
    assert not OrderLine.objects.filter(acked_at__isnull=True).exists()
    # In flight: the lines' units, pair by pair, until an extract taken after the acks counts them.
    by_pair = {
        (row["product_id"], row["location_id"]): row["units"]
        for row in OrderLine.objects.values("product_id", "location_id").annotate(units=Sum("in_flight"))
    }
    levels = {(s.product_id, s.location_id): s.in_flight for s in StockLevel.objects.filter(in_flight__gt=0)}
    assert levels == by_pair
    assert sum(by_pair.values()) == OrderLine.objects.aggregate(units=Sum("quantity"))["units"]

    sim.step(minutes=5)  # the next STKBAL delta, taken after every ack
    exchange_sync()

    assert not StockLevel.objects.filter(in_flight__gt=0).exists()
    assert not OrderLine.objects.filter(in_flight__gt=0).exists()
    for product in products:
        level = StockLevel.objects.get(product=product, location_id=900)
        ((on_hand, promised),) = sim.sql(
            "SELECT SBQOH, SBQRS FROM STKBAL WHERE SBITEM = ? AND SBMAG = 900", (product.item_number,)
        )
        assert (level.on_hand, level.promised) == (int(on_hand), int(promised))
    print(
        f"\npeak: {PEAK_ORDERS} orders placed in {placed_in:.1f} s, all acknowledged at {elapsed:.1f} s; "
        f"{OutboundFile.objects.count()} files; {dispatch_runs()} dispatch runs; "
        f"task log lines per cluster {[c.task_lines() for c in running]}"
    )
