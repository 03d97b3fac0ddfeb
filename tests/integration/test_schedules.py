"""Schedules are doorbells too: each runs one at a time, and a missed run is not made up for.

- Every schedule the migrations create (and the demo's) names a task wrapped in
  :func:`integration.core.locks.one_at_a_time` under the schedule's own name, so that a run slower
  than its interval never has a second one beside it, on any number of clusters and machines.
- The guard itself, on PostgreSQL: while a run holds the schedule's lock, a second run (another
  connection, as another worker's) does nothing and says so; once the first is done, the next run
  works; and a holder that dies (its server session gone) leaves no lock behind.
- django-q2's scheduler, with the platform's ``Q_CLUSTER`` (``catch_up`` off), makes one task for
  a schedule ten runs late, not ten, and moves its next run past now.
"""

from __future__ import annotations

import os
import pkgutil
import signal
import threading
import uuid
from collections.abc import Iterator
from importlib import import_module
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import Schedule
from django_q.scheduler import scheduler

from demo.shopify import CHECKOUT_SCHEDULE, CHECKOUT_TASK
from integration.core.locks import one_at_a_time, try_lock
from tests.factories.clusters import database_url
from tests.processes import Processes, bounded_loop, wait_until


def migrations_schedules() -> dict[str, str]:
    """name → func of every schedule the apps' migrations create, made by their own functions."""
    Schedule.objects.all().delete()
    for config in django_apps.get_app_configs():
        try:
            package = import_module(f"{config.name}.migrations")
        except ModuleNotFoundError:
            continue
        for module in pkgutil.iter_modules(package.__path__):
            migration = import_module(f"{package.__name__}.{module.name}")
            for function in ("create_schedule", "create_schedules"):
                if callable(getattr(migration, function, None)):
                    getattr(migration, function)(django_apps, None)
    return dict(Schedule.objects.values_list("name", "func"))


def resolve(dotted: str) -> Any:
    module, _, name = dotted.rpartition(".")
    return getattr(import_module(module), name)


@pytest.mark.django_db
def test_every_schedule_runs_one_at_a_time_under_its_own_name() -> None:
    schedules = migrations_schedules()
    schedules[CHECKOUT_SCHEDULE] = CHECKOUT_TASK  # created by manage.py demo_data
    assert len(schedules) >= 11  # the outbox, the sync, webhooks, reservations, reconciliation, Shopify's
    unguarded = {
        name: func
        for name, func in schedules.items()
        if getattr(resolve(func), "one_at_a_time", None) != name
    }
    assert unguarded == {}


@pytest.mark.django_db(transaction=True)  # the scheduler closes the connection it finds
def test_a_schedule_ten_runs_late_makes_one_task_and_its_next_run_is_ahead() -> None:
    Schedule.objects.all().delete()
    late = Schedule.objects.create(
        name="late", func="integration.tasks.outbox_dispatch", schedule_type=Schedule.MINUTES, minutes=1,
        repeats=-1, next_run=timezone.now() - timezone.timedelta(minutes=10, seconds=30),
    )  # fmt: skip
    broker = get_broker(list_key=f"catch-up-{uuid.uuid4().hex[:12]}")
    try:
        scheduler(broker=broker)
        assert broker.queue_size() == 1
        late.refresh_from_db()
        assert late.next_run > timezone.now()
    finally:
        broker.delete_queue()
    assert Conf.CATCH_UP is False


@pytest.fixture
def held() -> Iterator[tuple[threading.Event, threading.Event]]:
    inside, release = threading.Event(), threading.Event()
    yield inside, release
    release.set()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_second_run_while_the_first_holds_the_schedule_does_nothing(
    held: tuple[threading.Event, threading.Event],
) -> None:
    inside, release = held
    runs: list[str] = []
    name = f"guard-{uuid.uuid4().hex[:8]}"

    @one_at_a_time(name)
    def job(who: str) -> str:
        runs.append(who)
        if who == "first":
            inside.set()
            assert release.wait(60), "never released"
        return f"{who} done"

    outcome: dict[str, object] = {}

    def first() -> None:
        try:
            outcome["first"] = job("first")
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert inside.wait(60), "the first run never started"
        assert job("second") == f"skipped: {name} is still running elsewhere"  # another connection
        assert runs == ["first"]
    finally:
        release.set()
        thread.join(60)
    assert outcome == {"first": "first done"}
    assert job("third") == "third done"  # the lock went with the first run
    assert runs == ["first", "third"]


HOLDER = """
from integration.core.locks import try_lock
with try_lock({name!r}) as taken:
    print("taken" if taken else "not taken", flush=True)
{loop}
"""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_holder_killed_with_sigkill_leaves_no_lock(processes: Processes, tmp_path: Any) -> None:
    name = f"schedule:killed-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": database_url()}
    log = tmp_path / "holder.log"
    loop = "\n".join("    " + line for line in bounded_loop("_time.sleep(0.05)", seconds=120).splitlines())
    holder = processes.manage("shell", "-c", HOLDER.format(name=name, loop=loop), env=env, log=log)
    said = lambda: {"taken", "not taken"} & set(holder.log_text().splitlines())  # noqa: E731
    wait_until("the holder to say whether it took the lock", lambda: bool(said()), timeout=60)
    assert said() == {"taken"}
    with try_lock(name) as taken:
        assert taken is False  # held by the other process's session
    holder.signal_group(signal.SIGKILL)
    holder.reap()

    def free() -> bool:  # the server ends the dead session's locks once it notices the socket closed
        with try_lock(name) as taken:
            return taken

    wait_until("the lock to be free again", free, timeout=60)
