"""The outbox dispatcher against the simulated AS400: its real import job reads what we write.

Crash points are reproduced by stopping our own code where a killed process would stop (the
claim recorded, the pair not yet written; the pair written, not yet marked), then running the
next dispatch as the next worker would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from integration.as400.codec import PARIS
from integration.as400.control import control_for
from integration.as400.exchange import get_exchange_folder
from integration.as400.simulator.engine import Simulator
from integration.models import Alert, OutboundFile, OutboxMessage
from integration.outbox.dispatch import _claim, _file_data, outbox_dispatch
from tests.factories.orders import as400_orders, place, warehouse_items
from tests.moments import TUESDAY
from tests.races import race, raised

pytestmark = pytest.mark.clock(TUESDAY)


@pytest.mark.django_db
def test_pending_orders_reach_the_as400_in_one_file_and_are_imported_once(simulator: Simulator) -> None:
    product = warehouse_items(1)[0]
    for n in range(5):
        place(n, product)

    report = outbox_dispatch(now=TUESDAY)
    simulator.import_now()

    assert (report.files, report.messages) == (["ORDIMP_000001"], 5)
    assert as400_orders(simulator) == [f"WEB-{n:06d}" for n in range(5)]
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {"sent"}
    assert outbox_dispatch(now=TUESDAY).files == []  # nothing pending: nothing written


@pytest.mark.django_db
def test_a_peak_goes_out_at_the_pace_of_the_caps(simulator: Simulator, settings: Any) -> None:
    settings.OUTBOX_MAX_ORDERS_PER_FILE = 2
    settings.OUTBOX_MAX_ORDERS_PER_MINUTE = 5
    product = warehouse_items(1)[0]
    for n in range(7):
        place(n, product)

    first = outbox_dispatch(now=TUESDAY)
    same_minute = outbox_dispatch(now=TUESDAY + timedelta(seconds=20))
    next_minute = outbox_dispatch(now=TUESDAY + timedelta(minutes=2))

    assert (first.files, first.messages) == (["ORDIMP_000001", "ORDIMP_000002", "ORDIMP_000003"], 5)
    assert first.held == "the per-minute cap"
    assert same_minute.files == []
    assert (next_minute.files, next_minute.messages) == (["ORDIMP_000004"], 2)
    simulator.import_now()
    assert len(as400_orders(simulator)) == 7


@pytest.mark.django_db
def test_nothing_is_sent_during_the_batch_window(simulator: Simulator) -> None:
    place(1, warehouse_items(1)[0])

    report = outbox_dispatch(now=datetime(2026, 11, 25, 2, 0, tzinfo=PARIS))

    assert (report.files, report.held) == ([], "the AS400's batch window")
    assert OutboxMessage.objects.get().state == "pending"


@pytest.mark.django_db
def test_a_worker_killed_after_claiming_leaves_a_file_the_next_run_writes_once(simulator: Simulator) -> None:
    place(1, warehouse_items(1)[0])
    folder = get_exchange_folder()
    _claim("ORDIMP", 10, TUESDAY, folder=folder, probe=False)  # ...and the process dies here

    report = outbox_dispatch(now=TUESDAY)
    simulator.import_now()

    assert report.files == ["ORDIMP_000001"]
    assert OutboundFile.objects.get().state == "written"
    assert as400_orders(simulator) == ["WEB-000001"]


@pytest.mark.django_db
def test_a_worker_killed_right_after_writing_the_pair_is_not_written_again(simulator: Simulator) -> None:
    place(1, warehouse_items(1)[0])
    folder = get_exchange_folder()
    outbound = _claim("ORDIMP", 10, TUESDAY, folder=folder, probe=False)
    assert outbound is not None
    data = _file_data(outbound)
    folder.write_pair(
        control_for("ORDIMP", data, seq=1, kind="D", at=TUESDAY, ccsid=297), data
    )  # ...then dies

    outbox_dispatch(now=TUESDAY)
    simulator.import_now()

    assert OutboundFile.objects.get().state == "written"
    assert sorted(p.name for p in (Path(folder_root(folder)) / "IN" / "DONE").glob("ORDIMP_*")) == [
        "ORDIMP_000001.DAT", "ORDIMP_000001.OK",
    ]  # fmt: skip
    assert as400_orders(simulator) == ["WEB-000001"]


def folder_root(folder: Any) -> Path:
    return Path(folder.root)


@pytest.mark.django_db
def test_the_breaker_holds_while_the_as400_does_not_read_and_resumes_when_it_does(
    simulator: Simulator,
) -> None:
    product = warehouse_items(1)[0]
    place(1, product)
    simulator.fault_on("down")
    outbox_dispatch(now=TUESDAY)
    place(2, product)

    later = TUESDAY + timedelta(minutes=30)
    held = outbox_dispatch(now=later)

    assert held.files == []
    assert "has not read 1 file" in held.held
    assert Alert.objects.filter(kind="outbox_breaker_open").exists()
    simulator.fault_off("down")
    simulator.import_now()
    resumed = outbox_dispatch(now=later + timedelta(minutes=1))
    assert resumed.files == ["ORDIMP_000002"]


@pytest.mark.django_db
def test_files_the_as400_keeps_refusing_open_the_breaker_then_a_probe_tests_it(
    simulator: Simulator, settings: Any
) -> None:
    settings.OUTBOX_BREAKER_REFUSED_FILES = 2
    settings.OUTBOX_BREAKER_COOLDOWN_MINUTES = 10
    product = warehouse_items(1)[0]
    t = TUESDAY
    for n in range(2):
        place(n, product)
        simulator.fault_on("refuse", file="ORDIMP")
        outbox_dispatch(now=t)
        simulator.import_now()
        t += timedelta(minutes=1)
    for n in range(2, 5):
        place(n, product)

    held = outbox_dispatch(now=t)
    probe = outbox_dispatch(now=t + timedelta(minutes=11))
    waiting = outbox_dispatch(now=t + timedelta(minutes=12))
    simulator.import_now()
    resumed = outbox_dispatch(now=t + timedelta(minutes=13))

    assert (held.files, held.held) == ([], "the AS400 refused the last 2 files")
    assert (probe.messages, probe.held) == (1, "probe sent while the circuit breaker is open")
    assert waiting.files == []
    assert "probe" in waiting.held
    assert resumed.messages == 2


@pytest.fixture
def unwritable_in(settings: Any) -> Iterator[Path]:
    """IN/ made immutable (chattr +i stops even root): writing a pair fails for real."""
    in_dir = Path(settings.AS400_EXCHANGE_DIR) / "IN"
    if subprocess.run(["chattr", "+i", str(in_dir)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available on this filesystem")
    yield in_dir
    subprocess.run(["chattr", "-i", str(in_dir)], check=True)


@pytest.mark.django_db
def test_a_folder_that_cannot_be_written_retries_with_backoff_then_the_message_dies(
    simulator: Simulator, settings: Any, unwritable_in: Path
) -> None:
    settings.OUTBOX_MAX_ATTEMPTS = 2
    place(1, warehouse_items(1)[0])

    first = outbox_dispatch(now=TUESDAY)
    message = OutboxMessage.objects.get()
    assert (first.files, message.state, message.attempts) == ([], "pending", 1)
    assert message.next_attempt_at > TUESDAY
    second = outbox_dispatch(now=TUESDAY + timedelta(hours=2))

    message.refresh_from_db()
    assert (second.dead, message.state, message.attempts) == (1, "dead", 2)
    assert "Operation not permitted" in message.last_error
    assert Alert.objects.filter(kind="outbox_dead").exists()
    assert set(OutboundFile.objects.values_list("state", flat=True)) == {"abandoned"}


@pytest.mark.django_db
def test_a_write_that_fails_is_alerted_at_once_and_its_sequence_number_is_given_again(
    simulator: Simulator, settings: Any, unwritable_in: Path
) -> None:
    # given an order, and IN/ that cannot be written
    place(1, warehouse_items(1)[0])

    # when the dispatcher tries, then tries again once IN/ can be written
    failed = outbox_dispatch(now=TUESDAY)
    alert = Alert.objects.get(kind="outbox_write_failed")
    subprocess.run(["chattr", "-i", str(unwritable_in)], check=True)
    again = outbox_dispatch(now=TUESDAY + timedelta(hours=2))
    simulator.import_now()

    # then the failure was alerted at once, not when the message died, naming the file; and the
    # number it burnt is used again: the AS400 sees ORDIMP_000001, no gap, and imports the order
    assert failed.files == []
    assert alert.severity == "critical"
    assert "ORDIMP_000001 could not be written into IN/" in alert.message
    assert again.files == ["ORDIMP_000001"]
    assert as400_orders(simulator) == ["WEB-000001"]
    in_dir = Path(settings.AS400_EXCHANGE_DIR) / "IN"
    assert sorted(p.name for p in (in_dir / "DONE").iterdir()) == ["ORDIMP_000001.DAT", "ORDIMP_000001.OK"]
    assert list((in_dir / "ERR").iterdir()) == []


@pytest.mark.django_db
def test_a_number_whose_file_lies_in_in_is_not_given_again(simulator: Simulator, settings: Any) -> None:
    # given a file abandoned after its .DAT reached IN/ (a lone .DAT the AS400 never reads)
    place(1, warehouse_items(1)[0])
    OutboundFile.objects.create(file="ORDIMP", seq=1, state=OutboundFile.State.ABANDONED)
    (Path(settings.AS400_EXCHANGE_DIR) / "IN" / "ORDIMP_000001.DAT").write_bytes(b"")

    # when the next file is written
    report = outbox_dispatch(now=TUESDAY)

    # then it takes the next number: the one in IN/ is the AS400's now
    assert report.files == ["ORDIMP_000002"]


@pytest.mark.django_db
@pytest.mark.parametrize("missing", ["IN", "IN/DONE", "OUT"])
def test_a_missing_exchange_folder_is_never_created_and_holds_everything(
    simulator: Simulator, settings: Any, missing: str
) -> None:
    # given an order and an exchange folder that lacks one of its folders (a share not mounted)
    place(1, warehouse_items(1)[0])
    root = Path(settings.AS400_EXCHANGE_DIR)
    shutil.rmtree(root / missing)

    # when the dispatcher runs
    report = outbox_dispatch(now=TUESDAY)

    # then nothing is written, nothing created, and operations are told which folder is missing
    assert report.files == []
    assert not (root / missing).exists()
    assert f"lacks {missing}/" in report.held
    assert OutboxMessage.objects.get().state == "pending"
    assert f"lacks {missing}/" in Alert.objects.get(kind="exchange_unavailable").message


@pytest.mark.django_db
def test_a_share_that_is_not_there_holds_everything_and_alerts(simulator: Simulator, settings: Any) -> None:
    place(1, warehouse_items(1)[0])
    settings.AS400_EXCHANGE_DIR = Path("/proc/no-such-share")

    report = outbox_dispatch(now=TUESDAY)

    assert report.held.startswith("the exchange folder cannot be opened")
    assert OutboxMessage.objects.get().state == "pending"
    assert Alert.objects.filter(kind="exchange_unavailable").exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_dispatchers_put_each_message_in_exactly_one_file(
    simulator: Simulator, settings: Any
) -> None:
    sim = simulator
    settings.OUTBOX_MAX_ORDERS_PER_FILE = 3
    product = warehouse_items(1)[0]
    for n in range(30):
        place(n, product)

    def dispatch() -> None:
        for _ in range(5):
            outbox_dispatch(now=timezone.now())

    errors = raised(race(dispatch, [()] * 4, timeout=120))
    sim.import_now()

    assert errors == []
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {"sent"}
    assert sorted(as400_orders(sim)) == [f"WEB-{n:06d}" for n in range(30)]
    seqs = sorted(OutboundFile.objects.values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


@pytest.mark.django_db
def test_a_worker_killed_between_the_dat_and_the_ok_leaves_a_pair_the_next_run_completes(
    simulator: Simulator,
) -> None:
    from integration.as400.files import publish_file

    place(1, warehouse_items(1)[0])
    folder = get_exchange_folder()
    outbound = _claim("ORDIMP", 10, TUESDAY, folder=folder, probe=False)
    assert outbound is not None
    in_dir = Path(folder_root(folder)) / "IN"
    publish_file(in_dir, "ORDIMP_000001.DAT", _file_data(outbound))  # ...and dies before the .OK

    outbox_dispatch(now=TUESDAY)
    simulator.import_now()

    assert OutboundFile.objects.get().state == "written"
    assert as400_orders(simulator) == ["WEB-000001"]
    assert sorted(p.name for p in (in_dir / "DONE").glob("ORDIMP_*")) == [
        "ORDIMP_000001.DAT",
        "ORDIMP_000001.OK",
    ]


@pytest.mark.django_db
def test_the_temporary_files_of_writers_that_died_are_cleaned_from_in(simulator: Simulator) -> None:
    in_dir = simulator.config.in_dir
    left = in_dir / ".ORDIMP_000003.DAT.999-0badf00d.tmp"  # a writer killed an hour and more ago
    writing = in_dir / ".ORDIMP_000004.DAT.998-12345678.tmp"  # another one writing right now
    for path in (left, writing):
        path.write_bytes(b"half a file")
    hours_ago = (TUESDAY - timedelta(hours=2)).timestamp()
    os.utime(left, (hours_ago, hours_ago))
    os.utime(writing, (TUESDAY.timestamp(), TUESDAY.timestamp()))
    place(1, warehouse_items(1)[0])

    report = outbox_dispatch(now=TUESDAY + timedelta(minutes=1))

    assert report.files == ["ORDIMP_000001"]
    assert not left.exists()
    assert writing.exists()
