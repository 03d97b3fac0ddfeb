"""The order path to the AS400 when resends fail, files are refused and staff step in: each case a
defect that was found, proven by its test first.

Real database, the simulator's real import job reading the real files; nothing of ours mocked.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from integration.as400.exchange.base import Location, PairName
from integration.as400.exchange.local import LocalExchangeFolder
from integration.as400.simulator.engine import Simulator
from integration.as400.sync import exchange_sync
from integration.models import OutboxMessage
from integration.outbox.dispatch import outbox_dispatch, outbox_follow_up
from inventory.models import StockLevel
from orders.cancellation import order_cancel
from orders.models import Order, OrderLine
from orders.outbox_actions import OutboxActionRefused, outbox_message_cancel, outbox_message_retry
from tests.factories.orders import as400_orders, place, warehouse_items
from tests.moments import TUESDAY

pytestmark = pytest.mark.clock(TUESDAY)

WEBN = "WEB-000001"


@pytest.fixture
def in_dir(settings: Any) -> Iterator[Path]:
    """IN/; ``lock(True)`` makes it immutable (chattr +i stops even root): writing a pair fails for real."""
    path = Path(settings.AS400_EXCHANGE_DIR) / "IN"
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available on this filesystem")
    subprocess.run(["chattr", "-i", str(path)], check=True)
    yield path
    subprocess.run(["chattr", "-i", str(path)], check=True)


def _lock(path: Path, locked: bool) -> None:
    subprocess.run(["chattr", "+i" if locked else "-i", str(path)], check=True)


def _read_by_the_as400_then_resend_fails(simulator: Simulator, in_dir: Path) -> OutboxMessage:
    """ORDIMP_000001 read and imported by the AS400 (its ORDACK not applied here yet: late, lost);
    after the ack deadline it is sent again, and that second file cannot be written."""
    outbox_dispatch(now=TUESDAY)
    assert simulator.import_now().done == ["ORDIMP_000001"]
    assert as400_orders(simulator) == [WEBN]
    assert outbox_follow_up(now=TUESDAY + timedelta(minutes=61)).resent == 1
    _lock(in_dir, True)
    try:
        failed = outbox_dispatch(now=TUESDAY + timedelta(minutes=62))
    finally:
        _lock(in_dir, False)
    assert failed.files == []
    return OutboxMessage.objects.get(kind="ORDIMP")


@pytest.mark.django_db
def test_a_message_once_read_by_the_as400_still_counts_as_sent_after_a_failed_resend(
    simulator: Simulator, settings: Any, in_dir: Path
) -> None:
    """The claim of a resend used to clear ``sent_at``: after the resend's file failed, the message looked
    as if it had never left, and staff could cancel an order the AS400 holds (it then ships)."""
    settings.OUTBOX_ACK_DEADLINE_MINUTES = 60
    place(1, warehouse_items(1)[0], quantity=3)

    message = _read_by_the_as400_then_resend_fails(simulator, in_dir)

    assert (message.state, message.attempts) == ("pending", 2)
    assert message.sent_at is not None  # it was written once, and read
    with pytest.raises(OutboxActionRefused):
        outbox_message_cancel(message=message, user=None)
    message.refresh_from_db()
    assert message.state == "pending"


@pytest.mark.django_db
def test_a_dead_resend_retried_by_staff_then_cancelled_in_part_goes_through_the_as400(
    simulator: Simulator, settings: Any, in_dir: Path
) -> None:
    """Dead after a failed resend, retried from the admin (attempts from zero): a partial cancellation used
    to be released here and the next ORDIMP carried 2 units; the AS400 answered D and kept its 3."""
    settings.OUTBOX_ACK_DEADLINE_MINUTES = 60
    settings.OUTBOX_MAX_ATTEMPTS = 2
    product = warehouse_items(1)[0]
    place(1, product, quantity=3)
    message = _read_by_the_as400_then_resend_fails(simulator, in_dir)
    assert message.state == "dead"
    outbox_message_retry(message=message, user=None, now=TUESDAY + timedelta(minutes=63))

    [cancellation] = order_cancel(
        order_number=WEBN,
        client="web",
        lines=[(1, 1)],
        requested_by="web",
        now=TUESDAY + timedelta(minutes=63),
    )

    assert cancellation.state == "requested"  # the AS400 has the order: it decides
    line = OrderLine.objects.get(order__order_number=WEBN)
    assert (line.cancelled, line.in_flight) == (0, 3)
    assert StockLevel.objects.get(product=product, location_id=900).in_flight == 3
    outbox_dispatch(now=TUESDAY + timedelta(minutes=64))  # the order again: answered D
    simulator.import_now()
    exchange_sync()
    assert Order.objects.get(order_number=WEBN).as400_order_number
    outbox_dispatch(file="ORDANN", now=TUESDAY + timedelta(minutes=65))
    simulator.import_now()
    row = simulator.conn.execute("SELECT QTCDE, QTANN FROM SIM_ORDLIN WHERE WEBN = ?", (WEBN,)).fetchone()
    assert (int(row["QTCDE"]), int(row["QTANN"])) == (3, 1)


@pytest.mark.django_db
def test_an_ordann_file_the_as400_refused_is_sent_again_and_acked_once_read(simulator: Simulator) -> None:
    place(1, warehouse_items(1)[0], quantity=3)
    outbox_dispatch(now=TUESDAY)
    simulator.import_now()
    exchange_sync()
    order_cancel(order_number=WEBN, client="web", lines=[(1, 2)], requested_by="web")
    simulator.fault_on("refuse", file="ORDANN")
    assert outbox_dispatch(file="ORDANN", now=TUESDAY).files == ["ORDANN_000001"]
    assert simulator.import_now().refused.keys() == {"ORDANN_000001"}

    follow_up = outbox_follow_up(file="ORDANN", now=TUESDAY + timedelta(minutes=1))
    again = outbox_dispatch(file="ORDANN", now=TUESDAY + timedelta(minutes=2))
    simulator.import_now()
    read = outbox_follow_up(file="ORDANN", now=TUESDAY + timedelta(minutes=3))

    assert (follow_up.refused_files, follow_up.resent, again.files) == (
        ["ORDANN_000001"],
        1,
        ["ORDANN_000002"],
    )
    assert read.resent == 0
    ordann = OutboxMessage.objects.get(kind="ORDANN")
    assert (ordann.state, ordann.attempts) == ("acked", 1)
    row = simulator.conn.execute("SELECT QTCDE, QTANN FROM SIM_ORDLIN WHERE WEBN = ?", (WEBN,)).fetchone()
    assert (int(row["QTCDE"]), int(row["QTANN"])) == (3, 2)  # cancelled once, not twice


@pytest.mark.django_db
def test_an_order_whose_file_could_never_be_written_is_cancelled_at_once_by_the_customer(
    simulator: Simulator, settings: Any, in_dir: Path
) -> None:
    """The share refused the write before the ``.OK``: the AS400 cannot have the order. The customer's
    cancellation used to wait for an ack that could not come (units in flight, an ORDANN pending); it is
    released at once, and nothing reaches the AS400 once the share is back."""
    settings.OUTBOX_MAX_ATTEMPTS = 2
    product = warehouse_items(1)[0]
    place(1, product, quantity=3)
    _lock(in_dir, True)
    try:
        outbox_dispatch(now=TUESDAY)
        message = OutboxMessage.objects.get(kind="ORDIMP")
        assert (message.state, message.attempts, message.left_in_failed_write) == ("pending", 1, False)

        [cancellation] = order_cancel(order_number=WEBN, client="web", requested_by="web")
    finally:
        _lock(in_dir, False)

    assert cancellation.state == "released"
    order = Order.objects.get(order_number=WEBN)
    assert order.status == "cancelled"
    assert StockLevel.objects.get(product=product, location_id=900).in_flight == 0
    assert OrderLine.objects.get(order=order).in_flight == 0
    assert OutboxMessage.objects.get(kind="ORDIMP").state == "cancelled"
    assert not OutboxMessage.objects.filter(kind="ORDANN").exists()
    assert outbox_dispatch(now=TUESDAY + timedelta(hours=1)).files == []
    simulator.import_now()
    assert as400_orders(simulator) == []


@pytest.mark.django_db
def test_a_dead_order_never_written_cancelled_by_staff_after_the_customer_asked_releases_its_units(
    simulator: Simulator, settings: Any, in_dir: Path
) -> None:
    """The customer asked while a dispatcher held the order's file (claimed, so it may have been leaving:
    the ask is sent as an ORDANN); that write then failed before its ``.OK`` and the message died. Staff
    cancelled it: the order used to stay cancellation_requested for ever, its units in flight and its
    ORDANN pending.

    The race itself (a cancellation between the claim and the failed write) cannot be timed from a test
    without a second writer on the database, so the claim is taken as the dispatcher takes it: the
    message's state moved to sent, under a file being written."""
    settings.OUTBOX_MAX_ATTEMPTS = 2
    product = warehouse_items(1)[0]
    place(1, product, quantity=3)
    _lock(in_dir, True)
    try:
        outbox_dispatch(now=TUESDAY)
        OutboxMessage.objects.filter(kind="ORDIMP").update(state="sent")  # a dispatcher's claim, in flight
        [cancellation] = order_cancel(order_number=WEBN, client="web", requested_by="web")
        OutboxMessage.objects.filter(kind="ORDIMP").update(state="pending")  # its write failed before .OK
        outbox_dispatch(now=TUESDAY + timedelta(hours=2))
    finally:
        _lock(in_dir, False)
    message = OutboxMessage.objects.get(kind="ORDIMP")
    assert (cancellation.state, message.state, message.sent_at) == ("requested", "dead", None)

    result = outbox_message_cancel(message=message, user=None)

    assert (result.order_cancelled, result.units_released) == (True, 3)
    order = Order.objects.get(order_number=WEBN)
    assert order.status == "cancelled"
    assert StockLevel.objects.get(product=product, location_id=900).in_flight == 0
    assert OrderLine.objects.get(order=order).in_flight == 0
    assert OutboxMessage.objects.get(kind="ORDANN").state == "cancelled"
    cancellation.refresh_from_db()
    assert cancellation.state == "released"
    outbox_dispatch(now=TUESDAY + timedelta(hours=3))
    assert outbox_dispatch(file="ORDANN", now=TUESDAY + timedelta(hours=3)).files == []
    simulator.import_now()
    assert as400_orders(simulator) == []


class PublishedThenLost(LocalExchangeFolder):
    """A share whose connection drops right after the rename that published a pair: the ``.OK`` is in
    ``IN/`` (the AS400 will read it) yet the writer gets an error, as over SMB or SFTP."""

    def _publish_pair(self, location: Location, name: PairName, dat: bytes, ok: bytes) -> None:
        super()._publish_pair(location, name, dat, ok)
        raise OSError(f"connection reset after {name.ok} was renamed")


@pytest.mark.django_db
def test_a_write_that_failed_after_publishing_counts_as_at_the_as400(
    simulator: Simulator, settings: Any
) -> None:
    """The pair went out though the write failed: the message is marked, the customer's cancellation
    waits for the AS400 (an ORDANN), staff cannot cancel it by hand, and the order is imported once."""
    settings.OUTBOX_MAX_ATTEMPTS = 2
    product = warehouse_items(1)[0]
    place(1, product, quantity=3)

    failed = outbox_dispatch(now=TUESDAY, folder=PublishedThenLost.from_settings())

    assert failed.files == []
    message = OutboxMessage.objects.get(kind="ORDIMP")
    assert (message.state, message.left_in_failed_write) == ("pending", True)
    assert "yet published: IN/ORDIMP_000001.OK" in message.last_error
    [cancellation] = order_cancel(order_number=WEBN, client="web", requested_by="web")
    assert cancellation.state == "requested"
    assert StockLevel.objects.get(product=product, location_id=900).in_flight == 3
    with pytest.raises(OutboxActionRefused, match="publi"):
        outbox_message_cancel(message=message, user=None)
    assert OutboxMessage.objects.get(kind="ORDIMP").state == "pending"

    simulator.import_now()  # the AS400 read the pair the failed write published
    outbox_dispatch(now=TUESDAY + timedelta(hours=1))  # sent again under the next number: answered D
    simulator.import_now()
    assert as400_orders(simulator) == [WEBN]
