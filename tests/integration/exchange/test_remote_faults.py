"""The SFTP, FTP and FTPS adapters when the server fails them, on real servers on loopback.

Each fault is injected where the server is ours to control (tests/file_servers/): OpenSSH's
sftp-server behind a relay for SFTP, a pyftpdlib handler for FTP(S). A full disk is the server's
answer to the writes ("No space left on device" on SFTP, "452 Insufficient storage space" on FTP),
since a real small filesystem needs privileges the tests do not take. Each run that fails ends in a
clean retry by the callers as they are (the dispatcher, the sync): every order reaches the AS400
once, every extract is applied once.
"""

from __future__ import annotations

import base64
import gc
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from integration.as400.codec import PARIS, RecordCodec
from integration.as400.control import ControlRecord, control_for
from integration.as400.exchange import (
    ExchangeError,
    ExchangeFolder,
    ExchangeUnreachable,
    Location,
    TransferRefused,
)
from integration.as400.simulator.engine import Simulator
from integration.as400.sync import exchange_sync
from integration.models import FileRun, OutboxMessage
from integration.outbox.dispatch import outbox_dispatch
from tests.factories.orders import as400_orders, place, warehouse_items
from tests.file_servers import (
    FtpServer,
    SshServer,
    connections_to,
    self_signed_certificate,
    start_ftpd,
    start_sshd,
)
from tests.moments import TUESDAY
from tests.processes import Processes, wait_until

TRANSPORTS = ("sftp", "ftp", "ftps")
#: the same fault, as each server's fault switch names it
FAULTS = {
    "sftp": {"write_drop": "write-drop", "read_drop": "read-drop", "disk_full": "write-full",
             "rename_fail": "rename-fail", "hold": "hold"},
    "ftp": {"write_drop": "stor-drop", "read_drop": "retr-drop", "disk_full": "stor-full",
            "rename_fail": "rnto-fail", "hold": "mlst-hold"},
}  # fmt: skip
FAULTS["ftps"] = FAULTS["ftp"]
AT = datetime(2025, 11, 22, 10, 15, tzinfo=PARIS)


@dataclass
class Remote:
    """A server of one transport, and how to open the adapter on it."""

    transport: str
    server: SshServer | FtpServer
    make: Callable[..., ExchangeFolder]

    def arm(self, fault: str) -> None:
        self.server.arm(FAULTS[self.transport][fault])

    def connections(self) -> int:
        return connections_to(self.server.port)

    def wait_connections(self, n: int) -> None:
        """Until the client holds ``n`` connections (a closed socket is torn down by paramiko's thread)."""
        wait_until(f"{n} connection(s) to the {self.transport} server", lambda: self.connections() == n)


@pytest.fixture(params=TRANSPORTS)
def remote(request: pytest.FixtureRequest, processes: Processes, tmp_path: Path) -> Remote:
    from integration.as400.exchange.ftp import FtpExchangeFolder, FtpsExchangeFolder
    from integration.as400.exchange.sftp import SftpExchangeFolder

    transport = request.param
    if transport == "sftp":
        ssh = start_sshd(processes, tmp_path / "sshd")

        def make_sftp(root: Path, **options: Any) -> ExchangeFolder:
            kwargs: dict[str, Any] = {
                "host": "127.0.0.1",
                "port": ssh.port,
                "user": ssh.user,
                "host_key": ssh.host_key,
                "key_file": ssh.client_key,
                "timeout": 30.0,
            }
            return SftpExchangeFolder(str(root), 297, **{**kwargs, **options})

        return Remote(transport, ssh, make_sftp)
    ftp = start_ftpd(processes, tmp_path / "ftpd", tls=transport == "ftps")
    cls = FtpsExchangeFolder if transport == "ftps" else FtpExchangeFolder

    def make_ftp(root: Path, **options: Any) -> ExchangeFolder:
        kwargs: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": ftp.port,
            "user": ftp.user,
            "password": ftp.password,
            "ca_file": ftp.ca_file,
            "timeout": 30.0,
        }
        return cls(str(root), 297, **{**kwargs, **options})

    return Remote(transport, ftp, make_ftp)


def _pairs(root: Path, location: str, pattern: str) -> list[str]:
    return sorted(p.name for p in (root / location).glob(pattern))


# --- Writing: the dispatcher's retry sends each order once -------------------------------------


@pytest.mark.django_db
@pytest.mark.clock(TUESDAY)
@pytest.mark.parametrize("fault", ["write_drop", "disk_full", "rename_fail"])
def test_a_write_that_fails_is_sent_again_by_the_dispatcher_and_reaches_the_as400_once(
    remote: Remote, fault: str, simulator: Simulator, settings: Any
) -> None:
    # given three orders waiting, and a server that fails the next write
    root = Path(settings.AS400_EXCHANGE_DIR)
    products = warehouse_items(1)
    for n in range(3):
        place(n, products[0])
    folder = remote.make(root)
    remote.arm(fault)

    # when the dispatcher runs
    failed = outbox_dispatch(folder=folder, now=TUESDAY)

    # then nothing is published, the orders wait for a retry, the AS400 has nothing to read
    assert failed.files == []
    assert _pairs(root, "IN", "ORDIMP_*") == []
    messages = OutboxMessage.objects.filter(kind="ORDIMP")
    assert {m.state for m in messages} == {"pending"}
    assert all(m.attempts == 1 and m.last_error for m in messages)
    simulator.import_now()
    assert as400_orders(simulator) == []

    # when it runs again after its back-off, through the same adapter
    retried = outbox_dispatch(folder=folder, now=TUESDAY + timedelta(hours=2))
    simulator.import_now()
    exchange_sync(folder=folder)

    # then the three orders are at the AS400 once, in one file
    assert len(retried.files) == 1
    assert as400_orders(simulator) == ["WEB-000000", "WEB-000001", "WEB-000002"]
    assert len(_pairs(root, "IN/DONE", "ORDIMP_*.OK")) == 1
    assert set(OutboxMessage.objects.filter(kind="ORDIMP").values_list("state", flat=True)) == {"acked"}
    folder.close()


# --- Reading and moving: the sync's retry applies each extract once ----------------------------


@pytest.mark.django_db
@pytest.mark.clock(TUESDAY)
def test_a_read_cut_short_fails_the_sync_and_the_next_one_applies_the_extract_once(
    remote: Remote, simulator: Simulator, settings: Any
) -> None:
    # given a stock extract waiting in OUT/, and a connection that drops in the middle of its read
    root = Path(settings.AS400_EXCHANGE_DIR)
    (exported,) = simulator.export("full", "STKBAL")
    stem = exported.dat.stem
    applied_before = FileRun.objects.filter(file="STKBAL", outcome="applied").count()
    folder = remote.make(root)
    remote.arm("read_drop")

    # when the sync runs, it fails as a whole (the task is run again by its schedule)
    with pytest.raises(ExchangeUnreachable):
        exchange_sync(files=["STKBAL"], folder=folder)

    # then nothing was applied nor moved
    assert FileRun.objects.filter(file="STKBAL", outcome="applied").count() == applied_before
    assert f"{stem}.OK" in _pairs(root, "OUT", "STKBAL_*")

    # when it runs again
    exchange_sync(files=["STKBAL"], folder=folder)

    # then the extract is applied once and archived
    assert FileRun.objects.filter(file="STKBAL", outcome="applied").count() == applied_before + 1
    assert _pairs(root, "OUT", "STKBAL_*") == []
    assert {f"{stem}.DAT", f"{stem}.OK"} <= set(_pairs(root, "OUT/ARCHIVE", "STKBAL_*"))
    folder.close()


@pytest.mark.django_db
@pytest.mark.clock(TUESDAY)
def test_an_archive_whose_rename_fails_stays_in_out_and_the_next_sync_archives_it_without_applying_again(
    remote: Remote, simulator: Simulator, settings: Any
) -> None:
    # given a stock extract waiting, and a server that refuses the next rename
    root = Path(settings.AS400_EXCHANGE_DIR)
    simulator.export("full", "STKBAL")
    applied_before = FileRun.objects.filter(file="STKBAL", outcome="applied").count()
    folder = remote.make(root)
    remote.arm("rename_fail")

    # when the sync runs: applied, but its archive is refused
    exchange_sync(files=["STKBAL"], folder=folder)
    assert FileRun.objects.filter(file="STKBAL", outcome="applied").count() == applied_before + 1
    assert len(_pairs(root, "OUT", "STKBAL_*.OK")) == 1  # the .OK was put back or never moved

    # when it runs again
    exchange_sync(files=["STKBAL"], folder=folder)

    # then it is archived, and not applied a second time
    assert _pairs(root, "OUT", "STKBAL_*") == []
    assert FileRun.objects.filter(file="STKBAL", outcome="applied").count() == applied_before + 1
    folder.close()


# --- The connection -----------------------------------------------------------------------------


def test_a_refused_login_is_a_failed_connection_that_names_it_and_leaves_nothing_open(
    remote: Remote, exchange_dir: Path
) -> None:
    if isinstance(remote.server, SshServer):
        folder = remote.make(exchange_dir, key_file=remote.server.client_key.parent / "other_host_ed25519")
    else:
        folder = remote.make(exchange_dir, password="not-the-password")

    with pytest.raises(ExchangeUnreachable, match="refused the login"):
        folder.check_folders()

    assert not folder.connected
    remote.wait_connections(0)


def test_a_server_slower_than_the_timeout_fails_the_call_and_the_next_one_reconnects(
    remote: Remote, exchange_dir: Path
) -> None:
    folder = remote.make(exchange_dir, timeout=1.0)
    folder.check_folders()
    remote.arm("hold")  # the next request is never answered

    started = time.monotonic()
    with pytest.raises(ExchangeUnreachable):
        folder.list_pairs("OUT")
    assert time.monotonic() - started >= 1.0  # it waited out its timeout, no less
    assert not folder.connected
    remote.wait_connections(0)

    assert folder.list_pairs("OUT").ready == ()
    assert remote.connections() == 1
    folder.close()


def _ordann(seq: int, n: int = 2000) -> tuple[ControlRecord, bytes]:
    """A good ORDANN pair of ``n`` records (80 KB at 2000): several blocks on the wire."""
    records = [
        {"OAWEBN": f"WEB{i:08d}", "OALIGN": 0, "OAQTE": 1 + i % 5, "OARSN": "CLI", "OADATE": 1251122}
        for i in range(n)
    ]
    data = RecordCodec.for_file("ORDANN", 297).encode_many(records)
    return control_for("ORDANN", data, seq=seq, kind="D", at=AT, ccsid=297), data


@pytest.mark.parametrize("fault", ["write_drop", "disk_full", "rename_fail"])
def test_a_failed_write_publishes_nothing_and_the_same_pair_is_written_once_after(
    remote: Remote, fault: str, exchange_dir: Path
) -> None:
    folder = remote.make(exchange_dir)
    control, data = _ordann(1)
    remote.arm(fault)

    with pytest.raises(ExchangeUnreachable if fault == "write_drop" else TransferRefused) as failed:
        folder.write_pair(control, data)

    # a reader of IN/ sees no pair, not even half of one; a refusal keeps the connection
    assert isinstance(failed.value, OSError)  # what the dispatcher treats as a failed write
    assert [p.name for p in (exchange_dir / "IN").glob("ORDANN_*")] == []
    assert folder.connected == (fault != "write_drop")
    if fault == "disk_full":
        assert "No space" in str(failed.value) or "452" in str(failed.value)
    if fault != "write_drop":  # still connected: the temporaries were removed at once
        assert [p.name for p in (exchange_dir / "IN").iterdir() if p.is_file()] == []

    name = folder.write_or_resume_pair(control, data)

    assert (exchange_dir / "IN" / name.dat).read_bytes() == data
    assert (exchange_dir / "IN" / name.ok).read_bytes() == control.encode(297)
    assert sorted(p.name for p in (exchange_dir / "IN").glob("ORDANN_*")) == [name.dat, name.ok]
    folder.close()


def _far_ahead() -> datetime:
    return datetime.now(UTC) + timedelta(days=1)


def test_a_dropped_write_leaves_only_a_temporary_that_the_housekeeping_removes(
    remote: Remote, exchange_dir: Path
) -> None:
    folder = remote.make(exchange_dir)
    control, data = _ordann(1)
    remote.arm("write_drop")
    with pytest.raises(ExchangeUnreachable):
        folder.write_pair(control, data)

    left = [p.name for p in (exchange_dir / "IN").iterdir() if p.is_file()]
    removed = folder.remove_stale_temporaries(older_than=timedelta(minutes=10), now=_far_ahead())

    assert sorted(removed) == sorted(left)
    assert all(name.startswith(".ORDANN_000001.") and name.endswith(".tmp") for name in left)
    assert [p for p in (exchange_dir / "IN").iterdir() if p.is_file()] == []
    folder.close()


def test_one_connection_serves_a_whole_run_and_none_is_left_after(remote: Remote, exchange_dir: Path) -> None:
    folder = remote.make(exchange_dir)
    for seq in range(1, 11):
        control, data = _ordann(seq, n=50)
        name = folder.write_pair(control, data)
        folder.read_pair(name, location=Location.IN)
        folder.sent_state()
    assert remote.connections() == 1

    folder.close()
    remote.wait_connections(0)
    assert folder.sent_state().pending.ready  # used again: it reconnects
    assert remote.connections() == 1

    del folder  # a caller that forgets to close it: collected, closed
    gc.collect()
    remote.wait_connections(0)


def test_the_server_must_show_the_pinned_identity(remote: Remote, exchange_dir: Path) -> None:
    if isinstance(remote.server, SshServer):
        folder = remote.make(exchange_dir, host_key=remote.server.other_host_key)
        with pytest.raises(ExchangeUnreachable, match="not the one pinned"):
            folder.check_folders()
    elif remote.transport == "ftps":
        other = self_signed_certificate(exchange_dir.parent)  # a CA that did not sign the server's
        folder = remote.make(exchange_dir, ca_file=other)
        with pytest.raises(ExchangeUnreachable, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            folder.check_folders()
    else:  # plain FTP has no identity to check; an FTPS client never falls back to clear text on it
        from integration.as400.exchange.ftp import FtpsExchangeFolder

        assert isinstance(remote.server, FtpServer)
        folder = FtpsExchangeFolder(str(exchange_dir), 297, host="127.0.0.1", port=remote.server.port,
                                    user=remote.server.user, password=remote.server.password)  # fmt: skip
        with pytest.raises(ExchangeError, match="AUTH TLS"):
            folder.check_folders()
    remote.wait_connections(0)


def test_sftp_pins_a_fingerprint_and_publishes_without_posix_rename_when_the_server_lacks_it(
    processes: Processes, tmp_path: Path, exchange_dir: Path
) -> None:
    from integration.as400.exchange.sftp import SftpExchangeFolder

    ssh = start_sshd(processes, tmp_path / "sshd")
    line = ssh.host_key.split()
    fingerprint = "SHA256:" + base64.b64encode(
        hashlib.sha256(base64.b64decode(line[1])).digest()
    ).decode().rstrip("=")
    folder = SftpExchangeFolder(str(exchange_dir), 297, host="127.0.0.1", port=ssh.port, user=ssh.user,
                                host_key=fingerprint, key_file=ssh.client_key)  # fmt: skip
    ssh.arm("no-posix-rename")

    name = folder.write_pair(*_ordann(3, n=10))

    assert sorted(p.name for p in (exchange_dir / "IN").iterdir() if p.is_file()) == [name.dat, name.ok]
    folder.close()
