"""Two hosts' worth of processes on one PostgreSQL and one Redis: each order reaches the AS400 once.

What ``deploy/`` describes, started for real: two gunicorn processes with the repository's
``deploy/gunicorn.conf.py`` (two workers each) on two ports, as two hosts behind a load balancer
would be, and two ``qcluster`` processes, the first the schedule owner (``Q_SCHEDULER=true``) and
the second not, all on the test database and Redis, with one secret key (the tests' own, which
signs the tasks every process puts on the queue). Orders are placed through the storefront API of
both web processes, alternately, with a real reservation each. Nothing is enqueued by the test:
the migrations' own "Outbox dispatch" and "AS400 exports sync" schedules, due at once, are turned
into tasks by the schedule owner alone (django-q2's scheduler runs in a cluster's sentinel about
30 s after it starts, then each minute), and either cluster's workers take them. The simulated
AS400 imports what is in IN/ and its ORDACKs are applied. Each order must be in exactly one
ORDIMP file the AS400 read, in its WEBORD once, and accepted.

Why it once failed (orders "not all acknowledged within 120 s"): the processes were given a
secret key of their own while the test enqueued the dispatch tasks signed with the tests' key;
every cluster's pusher refused them (``BadSignature``, one log line each) and nothing was ever
dispatched. The platform says it: ``DJANGO_SECRET_KEY`` is the same on every process.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import time
import uuid
from collections import Counter
from importlib import import_module
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.apps import apps as django_apps
from django.conf import settings as django_settings
from django.utils import translation
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import Schedule, Task

from integration.as400.simulator.engine import Simulator
from integration.as400.sync import exchange_sync
from integration.models import OutboxMessage
from inventory.models import StockLevel
from orders.models import Order
from tests.factories.api import CUSTOMER, MakeApi
from tests.factories.clusters import database_url
from tests.factories.orders import as400_orders, ordimp_orders, warehouse_items
from tests.processes import Processes, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ORDERS = 24
GUNICORN = Path(sys.executable).parent / "gunicorn"
CONFIG = Path(__file__).resolve().parents[1] / "deploy" / "gunicorn.conf.py"
#: The migrations that create the schedules this test needs, and their functions.
SCHEDULES = {"0005_outbox_schedule": "Outbox dispatch", "0002_sync_schedule": "AS400 exports sync"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code in (200, 503)
    except httpx.HTTPError:
        return False


def schedules_as_migrated() -> None:
    """Only the schedules this test is about, made by their migrations' own functions (a
    transactional test's flush empties the table), due at once."""
    Schedule.objects.all().delete()
    for migration in SCHEDULES:
        import_module(f"integration.migrations.{migration}").create_schedule(django_apps, None)
    assert set(Schedule.objects.values_list("name", flat=True)) == set(SCHEDULES.values())


def scheduled_by(log: Path) -> Counter[str]:
    """The schedules whose tasks this cluster's scheduler created, by name: its JSON log lines
    saying so, in django-q2's words in the settings' language (the workers' lines name the
    schedule too, and are not counted)."""
    with translation.override(django_settings.LANGUAGE_CODE):
        said = translation.gettext("%(process_name)s created task %(task_name)s from schedule [%(schedule)s]")
    pattern = re.compile(
        re.escape(said % {"process_name": "\x00", "task_name": "\x00", "schedule": "\x01"})
        .replace(re.escape("\x00"), r"\S+")
        .replace(re.escape("\x01"), "(.+)")
    )
    names: Counter[str] = Counter()
    for line in log.read_text(errors="replace").splitlines():
        try:
            created = pattern.fullmatch(str(json.loads(line).get("message", "")))
        except ValueError:
            continue
        if created:
            names[created.group(1)] += 1
    return names


def test_two_web_processes_and_two_clusters_send_each_order_to_the_as400_once(
    simulator: Simulator, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    processes: Processes, make_api: MakeApi,
) -> None:  # fmt: skip
    sim = simulator
    started = time.monotonic()
    name = f"hosts-{uuid.uuid4().hex[:12]}"
    monkeypatch.setattr(Conf, "PREFIX", name)  # this test's queue, emptied at the end
    monkeypatch.setattr(Conf, "CLUSTER_NAME", name)
    schedules_as_migrated()
    products = warehouse_items(3)
    StockLevel.objects.filter(product__in=products, location_id=900).update(on_hand=1000)
    token = str(make_api("two-hosts").token)  # type: ignore[attr-defined]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": str(django_settings.SECRET_KEY),  # one key on every host: it signs the tasks
        "DJANGO_DEBUG": "false",
        "DJANGO_HTTPS": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url(),
        "REDIS_URL": str(django_settings.REDIS_URL),
        "Q_CLUSTER_NAME": name,
        "Q_WORKERS": "2",
        "AS400_EXCHANGE_DIR": str(settings.AS400_EXCHANGE_DIR),
        "AS400_EXCHANGE_BACKEND": "simulator",
        "AS400_SIMULATOR_DB": str(settings.AS400_SIMULATOR_DB),
        "AS400_BATCH_WINDOW": "00:00-00:00",  # the processes run on the real clock
        "OUTBOX_MAX_ORDERS_PER_FILE": "5",  # several files, several claims
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "GUNICORN_WORKERS": "2",
    }
    logs = tmp_path / "logs"
    logs.mkdir()
    webs = []
    for host in ("a", "b"):
        port = free_port()
        processes.start(
            [GUNICORN, "-c", CONFIG], label=f"web-{host}", log=logs / f"web-{host}.log",
            env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
        )  # fmt: skip
        webs.append(f"http://127.0.0.1:{port}")
    for host, owner in (("a", "true"), ("b", "false")):
        processes.manage("qcluster", label=f"qcluster-{host}", log=logs / f"qcluster-{host}.log",
                         env={**env, "Q_SCHEDULER": owner})  # fmt: skip
    try:
        for web in webs:
            wait_until(f"{web} to answer", lambda web=web: answers(f"{web}/health/outbox"), timeout=60)

        numbers = [f"HOSTS-{n:04d}" for n in range(ORDERS)]
        served: Counter[str] = Counter()
        for n, number in enumerate(numbers):
            web, product = webs[n % 2], products[n % 3]
            sku = product.mapping.sku
            headers = {"Authorization": f"Bearer {token}"}
            reservation = httpx.post(f"{web}/api/v1/reservations/", headers=headers, timeout=30,
                                     json={"lines": [{"sku": sku, "quantity": 1}]})  # fmt: skip
            assert reservation.status_code == 201, reservation.text
            placed = httpx.post(f"{web}/api/v1/orders/", headers=headers, timeout=30, json={
                "order_number": number, "reservation": reservation.json()["id"], "delivery": "home",
                "customer": CUSTOMER, "lines": [{"sku": sku, "quantity": 1, "unit_price": str(product.price)}],
            })  # fmt: skip
            assert placed.status_code == 201, placed.text
            served[web] += 1
        assert len(served) == 2
        assert set(served.values()) == {ORDERS // 2}
        assert Order.objects.count() == ORDERS

        def all_accepted() -> bool:  # the AS400's import job, then its ORDACKs applied
            sim.import_now()
            exchange_sync()
            return not OutboxMessage.objects.exclude(state="acked").exists()

        # The owner's first scheduler pass comes about 30 s after it started; a run that came
        # before the last order leaves the rest to the next minute's.
        wait_until("every order acknowledged by the AS400", all_accepted, timeout=240, every=0.2)
    finally:
        get_broker().delete_queue()
    elapsed = time.monotonic() - started

    exchange = Path(settings.AS400_EXCHANGE_DIR)
    sent = ordimp_orders(exchange / "IN" / "DONE")
    assert sorted(sent) == numbers  # every order in exactly one file the AS400 read
    assert ordimp_orders(exchange / "IN" / "ERR") == []
    assert as400_orders(sim) == numbers  # and imported once each
    assert set(Order.objects.values_list("status", flat=True)) == {"accepted"}
    # The dispatch ran from the schedule, made into tasks by the owner alone.
    assert Task.objects.filter(group="Outbox dispatch", success=True).exists()
    assert scheduled_by(logs / "qcluster-a.log")["Outbox dispatch"] >= 1
    assert scheduled_by(logs / "qcluster-b.log") == Counter()
    print(f"\ntwo hosts: {ORDERS} orders placed through two gunicorns, all acknowledged in {elapsed:.1f} s")
