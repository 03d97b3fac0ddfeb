"""Nothing lost: files the AS400 refused, and orders it read without acknowledging, are sent again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django_q.models import Schedule

from integration.as400.simulator.engine import Simulator
from integration.as400.sync import exchange_sync
from integration.models import Alert, OutboxMessage
from integration.outbox.dispatch import outbox_dispatch, outbox_follow_up
from orders.models import Order
from tests.factories.orders import as400_orders, place, warehouse_items
from tests.moments import TUESDAY

pytestmark = [pytest.mark.django_db, pytest.mark.clock(TUESDAY)]


def test_a_file_the_as400_refused_is_detected_and_its_orders_sent_again(simulator: Simulator) -> None:
    product = warehouse_items(1)[0]
    place(1, product)
    place(2, product)
    simulator.fault_on("refuse", file="ORDIMP")
    outbox_dispatch(now=TUESDAY)
    simulator.import_now()  # the AS400 moves ORDIMP_000001 to IN/ERR/ and tells nobody

    follow_up = outbox_follow_up(now=TUESDAY + timedelta(minutes=1))
    again = outbox_dispatch(now=TUESDAY + timedelta(minutes=2))
    simulator.import_now()
    exchange_sync()

    assert (follow_up.refused_files, follow_up.resent) == (["ORDIMP_000001"], 2)
    assert Alert.objects.get(kind="in_file_refused").subject == "ORDIMP_000001"
    assert (again.files, again.messages) == (["ORDIMP_000002"], 2)
    assert as400_orders(simulator) == ["WEB-000001", "WEB-000002"]
    assert set(Order.objects.values_list("status", flat=True)) == {"accepted"}
    assert outbox_follow_up(now=TUESDAY + timedelta(minutes=3)).resent == 0  # handled once


def test_an_order_read_but_never_acknowledged_is_sent_again_and_answered_d(
    simulator: Simulator, settings: Any
) -> None:
    settings.OUTBOX_ACK_DEADLINE_MINUTES = 60
    place(1, warehouse_items(1)[0])
    outbox_dispatch(now=TUESDAY)
    simulator.import_now()  # read, and acknowledged in an ORDACK we have not picked up (lost, say)

    early = outbox_follow_up(now=TUESDAY + timedelta(minutes=30))
    late = outbox_follow_up(now=TUESDAY + timedelta(minutes=61))
    outbox_dispatch(now=TUESDAY + timedelta(minutes=62))
    simulator.import_now()
    report = exchange_sync()

    assert (early.resent, late.resent) == (0, 1)
    acks = [r.counts for r in report.runs if r.file == "ORDACK"]
    assert [c.get("accepted", 0) for c in acks] == [1, 0]
    assert [c.get("duplicate", 0) for c in acks] == [0, 1]
    assert as400_orders(simulator) == ["WEB-000001"]  # imported once
    order = Order.objects.get()
    assert order.status == "accepted"
    assert OutboxMessage.objects.get().attempts == 1


def test_a_message_that_never_gets_an_answer_dies_and_is_alerted(simulator: Simulator, settings: Any) -> None:
    settings.OUTBOX_ACK_DEADLINE_MINUTES = 60
    settings.OUTBOX_MAX_ATTEMPTS = 1
    place(1, warehouse_items(1)[0])
    outbox_dispatch(now=TUESDAY)
    simulator.import_now()

    report = outbox_follow_up(now=TUESDAY + timedelta(hours=2))

    assert report.dead == 1
    message = OutboxMessage.objects.get()
    assert (message.state, message.last_error) == (
        "dead",
        "no ORDACK 60 minutes after ORDIMP_000001 was read",
    )
    assert Alert.objects.filter(kind="outbox_dead").exists()


def test_the_dispatcher_runs_every_minute_as_a_task(simulator: Simulator, settings: Any) -> None:
    from integration.tasks import outbox_dispatch as task

    settings.AS400_BATCH_WINDOW = "00:00-00:00"  # the task runs on the real clock: no batch window now
    place(1, warehouse_items(1)[0])

    result = task()

    assert Schedule.objects.get(func="integration.tasks.outbox_dispatch").minutes == 1
    assert (result["ORDIMP"]["files"], result["ORDIMP"]["messages"]) == (["ORDIMP_000001"], 1)
