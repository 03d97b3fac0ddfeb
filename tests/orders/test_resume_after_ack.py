"""A pair whose writer died after writing it may be read and acknowledged before the next worker
finishes it: the acknowledgement stands, and the order is not sent again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from integration.as400.control import control_for
from integration.as400.exchange import get_exchange_folder
from integration.as400.simulator.engine import Simulator
from integration.as400.sync import exchange_sync
from integration.models import OutboundFile, OutboxMessage
from integration.outbox.dispatch import _claim, _file_data, outbox_dispatch, outbox_follow_up
from tests.factories.orders import as400_orders, place, warehouse_items
from tests.moments import TUESDAY

pytestmark = [pytest.mark.django_db, pytest.mark.clock(TUESDAY)]


def test_a_pair_acknowledged_before_the_next_worker_finishes_it_stays_acknowledged(
    simulator: Simulator,
) -> None:
    place(1, warehouse_items(1)[0])
    folder = get_exchange_folder()
    outbound = _claim("ORDIMP", 10, TUESDAY, folder=folder, probe=False)
    assert outbound is not None
    data = _file_data(outbound)
    folder.write_pair(control_for("ORDIMP", data, seq=1, kind="D", at=TUESDAY, ccsid=297), data)  # ...dies
    simulator.import_now()  # the AS400 reads the pair
    exchange_sync()  # and its ORDACK is applied
    assert OutboxMessage.objects.get().state == "acked"

    outbox_dispatch(now=TUESDAY + timedelta(minutes=1))  # the next worker finishes the recorded file
    later = outbox_follow_up(now=TUESDAY + timedelta(hours=2))  # past the ack deadline
    outbox_dispatch(now=TUESDAY + timedelta(hours=2))
    simulator.import_now()
    report = exchange_sync()

    message = OutboxMessage.objects.get()
    assert (message.state, message.attempts, later.resent) == ("acked", 0, 0)
    assert list(OutboundFile.objects.values_list("seq", "state")) == [(1, "written")]
    assert [r for r in report.runs if r.file == "ORDACK"] == []  # nothing sent again, nothing answered D
    assert as400_orders(simulator) == ["WEB-000001"]
