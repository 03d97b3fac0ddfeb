"""``AS400_EXCHANGE_BACKEND=sftp bash bin/run`` (or ftp, ftps), end to end: an order goes to the
simulated AS400 and its ack comes back through the file server that bin/run starts.

The server is started exactly as bin/run starts it (``python -m
integration.as400.simulator.file_server``, a real sshd or pyftpdlib on loopback), and the platform
takes the ``AS400_EXCHANGE_*`` settings from the env file it writes, as bin/run exports them. The
simulator works on its local folder, as the AS400 on its IFS; the platform reaches it only through
the server. With the server stopped, the next order waits in the outbox, not lost.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from integration import tasks
from integration.as400.exchange import get_exchange_folder
from integration.as400.files import PairName
from integration.as400.simulator.engine import Simulator
from integration.as400.simulator.exchange import SimulatorClock
from integration.as400.simulator.file_server import read_env
from integration.models import OutboxMessage
from orders.models import Order
from tests.factories.orders import as400_orders, place, warehouse_items
from tests.file_servers import accepts
from tests.moments import TUESDAY
from tests.processes import Owned, Processes, wait_until

FIRST = PairName("ORDIMP", 1)
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.clock(TUESDAY)]


def serve(processes: Processes, protocol: str, root: Path, where: Path) -> tuple[Owned, dict[str, str]]:
    """bin/run's file server over ``root``, and the settings it wrote once listening."""
    where.mkdir()
    env_file = where / "as400-exchange.env"
    server = processes.start(
        [sys.executable, "-m", "integration.as400.simulator.file_server", protocol,
         "--root", root, "--state", where / "file-server", "--env-file", env_file],
        label=f"file server ({protocol})", log=where / "file-server.log",
    )  # fmt: skip

    def written() -> bool:
        if server.poll() is not None:
            raise AssertionError(f"the file server ended with {server.returncode}:\n{server.log_text()}")
        return env_file.exists()

    wait_until(f"the {protocol} server's env file", written)
    env = read_env(env_file)
    port = int(env["AS400_EXCHANGE_URL"].rsplit(":", 1)[1].split("/", 1)[0])
    wait_until(f"the {protocol} server on port {port}", lambda: written() and accepts(port))
    return server, env


@pytest.mark.parametrize("protocol", ["sftp", "ftp", "ftps"])
def test_an_order_reaches_the_simulator_and_its_ack_comes_back_through_the_file_server(
    protocol: str, simulator: Simulator, processes: Processes, settings: Any, tmp_path: Path
) -> None:
    local = Path(settings.AS400_EXCHANGE_DIR)
    server, env = serve(processes, protocol, local, tmp_path / "served")
    assert env["AS400_EXCHANGE_BACKEND"] == f"simulator-{protocol}"
    for name, value in env.items():
        setattr(settings, name, value)  # what bin/run exports to the platform's processes
    with get_exchange_folder() as folder:
        assert folder.where.startswith(f"{protocol}://127.0.0.1:")
        assert isinstance(folder, SimulatorClock)  # the simulator's clock judges its files' dates
    (product,) = warehouse_items(1)

    place(1, product, 2)
    tasks.outbox_dispatch()  # through the server, into the simulator's IN/
    assert [p.name for p in (local / "IN").glob("ORDIMP_*.OK")] == [FIRST.ok]
    simulator.import_now()  # the AS400's job, on its own disk
    tasks.as400_sync()  # the ack read through the server

    assert as400_orders(simulator) == ["WEB-000001"]
    order = Order.objects.get(order_number="WEB-000001")
    assert order.status == Order.Status.ACCEPTED
    assert order.as400_order_number
    assert OutboxMessage.objects.get(subject=order.pk).state == OutboxMessage.State.ACKED
    assert sorted(p.name for p in (local / "IN" / "DONE").iterdir()) == [FIRST.dat, FIRST.ok]

    server.stop()  # the transport gone: the platform has no other way to the folder
    place(2, product, 1)
    tasks.outbox_dispatch()

    assert not list((local / "IN").glob("ORDIMP_*"))
    waiting = OutboxMessage.objects.get(subject=Order.objects.get(order_number="WEB-000002").pk)
    assert waiting.state == OutboxMessage.State.PENDING  # kept, to be sent once the server is back
