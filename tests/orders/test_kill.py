"""Dispatchers killed with SIGKILL at random moments: nothing lost, nothing sent twice.

Real processes (``manage.py shell`` running the dispatcher in a loop on the test database) are
killed while they claim, write or mark files; then a last dispatcher finishes whatever they left,
and the simulated AS400 reads the folder. Every order must be in exactly one file, and imported
once.
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from integration.as400.codec import RecordCodec
from integration.as400.simulator.engine import Simulator
from integration.models import OutboundFile, OutboxMessage
from integration.outbox.dispatch import outbox_dispatch
from inventory.models import StockLevel
from tests.factories.orders import as400_orders, place, warehouse_items
from tests.processes import Processes, bounded_loop

ORDERS = 150
KILLS = 10
# Killed long before; bounded all the same, and ended if this test's process is gone.
DISPATCH_LOOP = bounded_loop(
    "outbox_dispatch()", seconds=120, setup="from integration.outbox.dispatch import outbox_dispatch"
)


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_dispatchers_killed_at_random_lose_nothing_and_send_nothing_twice(
    simulator: Simulator, settings: Any, processes: Processes
) -> None:
    sim = simulator
    products = warehouse_items(3)
    StockLevel.objects.filter(product__in=products).update(on_hand=10_000)
    with sim.conn:
        sim.conn.execute(
            "UPDATE STKBAL SET SBQOH = 10000 WHERE SBMAG = 900 AND SBITEM IN (?, ?, ?)",
            [p.item_number for p in products],
        )
    for n in range(ORDERS):
        place(n, products[n % 3])
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "AS400_EXCHANGE_DIR": str(settings.AS400_EXCHANGE_DIR),
        "AS400_BATCH_WINDOW": "00:00-00:00",  # the loop runs on the real clock
        "OUTBOX_MAX_ORDERS_PER_FILE": "1",  # a file an order: many claims and writes to be killed in
        "OUTBOX_MAX_ORDERS_PER_MINUTE": "100000",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    env.pop("REDIS_URL", None)
    rng = random.Random(7)
    killed_mid_work = 0
    for round_ in range(KILLS):
        before = OutboundFile.objects.count()
        worker = processes.manage("shell", "-c", DISPATCH_LOOP, label=f"dispatcher {round_}", env=env)
        target = before + rng.randint(1, 6)
        deadline = time.monotonic() + 60
        while OutboundFile.objects.count() < target and time.monotonic() < deadline:
            time.sleep(0.005)  # the worker is claiming and writing: kill it somewhere in there
        time.sleep(rng.uniform(0, 0.02))  # a random moment, not a wait for anything
        worker.signal_group(signal.SIGKILL)
        worker.reap()
        if OutboxMessage.objects.filter(state="pending").exists():
            killed_mid_work += 1
    assert killed_mid_work == KILLS  # every kill stopped a worker with work left to do

    settings.OUTBOX_MAX_ORDERS_PER_FILE = 50
    settings.AS400_BATCH_WINDOW = "00:00-00:00"
    for _ in range(10):  # the next worker finishes whatever the killed ones left
        outbox_dispatch()
    sim.import_now()

    assert OutboxMessage.objects.exclude(state="sent").count() == 0
    assert not OutboundFile.objects.filter(state="writing").exists()
    codec = RecordCodec.for_file("ORDIMP", 297)
    in_files: list[str] = []
    for dat in sorted((Path(settings.AS400_EXCHANGE_DIR) / "IN" / "DONE").glob("ORDIMP_*.DAT")):
        in_files += [str(r["OHWEBN"]) for r in codec.iter_decode(dat.read_bytes()) if r.get("OHTYPE") == "H"]
    numbers = [f"WEB-{n:06d}" for n in range(ORDERS)]
    assert sorted(in_files) == numbers  # every order in exactly one file
    assert as400_orders(sim) == numbers  # imported once each
    leftovers = [p.name for p in (Path(settings.AS400_EXCHANGE_DIR) / "IN").iterdir() if p.is_file()]
    assert [name for name in leftovers if not name.startswith(".")] == []
