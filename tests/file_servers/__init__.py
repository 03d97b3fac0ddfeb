"""Real file servers on loopback for the exchange adapters: OpenSSH's sshd, pyftpdlib (FTP, FTPS).

sshd's configuration and the FTPS certificate are bin/run's own
(integration/as400/simulator/file_server.py); the tests' servers add the fault relays.

Each is started through :class:`tests.processes.Processes` and waited for by its port, never by a
fixed sleep. Both serve the real filesystem, so that a test puts and reads files in its own
exchange directory as the AS400 does while the adapter goes through the server. Faults are armed by
creating a file in ``faults`` (see ftpd.py and sftp_proxy.py beside this file).

sshd is Debian's ``openssh-server`` (.ci/run installs it); without it the SFTP tests fail and say
so, they never skip.
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from integration.as400.simulator.file_server import (
    CannotServe,
    find_sshd,
    free_port,
    self_signed_certificate,
    ssh_key,
    sshd_setup,
)
from tests.processes import Owned, Processes, wait_until

HERE = Path(__file__).resolve().parent
SFTP_SERVER_CANDIDATES = (
    "/usr/lib/openssh/sftp-server",
    "/usr/libexec/openssh/sftp-server",
    "/usr/libexec/sftp-server",
)


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def connections_to(port: int) -> int:
    """Established TCP connections of this process's machine towards ``port`` on loopback (the
    clients' ends), from /proc/net/tcp: what an adapter holds open."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            remote, state = fields[2], fields[3]
            if state == "01" and int(remote.rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


@dataclass(frozen=True)
class SshServer:
    port: int
    user: str
    host_key: str  # the .pub line: "ssh-ed25519 AAAA... comment"
    other_host_key: str  # a key the server does not have: to show an unknown key refused
    client_key: Path
    faults: Path
    process: Owned

    def arm(self, fault: str) -> None:
        (self.faults / fault).touch()


@dataclass(frozen=True)
class FtpServer:
    port: int
    user: str
    password: str
    faults: Path
    ca_file: Path | None
    process: Owned

    def arm(self, fault: str) -> None:
        (self.faults / fault).touch()


def start_sshd(processes: Processes, where: Path) -> SshServer:
    """A private sshd on a free loopback port: its own host key, config and authorized key, and the
    fault relay in front of OpenSSH's sftp-server as its SFTP subsystem."""
    sftp_server = next((p for p in SFTP_SERVER_CANDIDATES if os.path.exists(p)), None)
    try:
        sshd = find_sshd()
    except CannotServe as exc:
        pytest.fail(f"{exc} (.ci/run installs it)")
    if sftp_server is None:
        pytest.fail(
            "OpenSSH's sftp-server is needed for the SFTP adapter's tests and is not installed: "
            "apt-get install openssh-server (.ci/run does)"
        )
    where.mkdir(parents=True, exist_ok=True)
    faults = where / "faults"
    faults.mkdir()
    port = free_port()
    setup = sshd_setup(
        where, port, subsystem=f"{sys.executable} {HERE / 'sftp_proxy.py'} {faults} {sftp_server}"
    )
    other_host_key = ssh_key(where / "other_host_ed25519")
    process = processes.start([sshd, "-D", "-e", "-f", setup.config], label="sshd", log=where / "sshd.log")
    wait_until(
        f"sshd on port {port} (log: {where / 'sshd.log'})",
        lambda: (process.poll() is None and accepts(port)) or _died(process),
    )
    return SshServer(port, setup.user, setup.host_key, other_host_key, setup.client_key, faults, process)


def _died(process: Owned) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"{process.label} ended with {process.returncode}:\n{process.log_text()}")
    return False


def start_ftpd(processes: Processes, where: Path, *, tls: bool) -> FtpServer:
    """pyftpdlib on a free loopback port (it says which), FTPS with a fresh certificate when ``tls``."""
    where.mkdir(parents=True, exist_ok=True)
    faults = where / "faults"
    faults.mkdir()
    ca_file = self_signed_certificate(where) if tls else None
    port_file = where / "port"
    args: list[str | os.PathLike[str]] = [
        sys.executable,
        HERE / "ftpd.py",
        "--port-file",
        port_file,
        "--faults",
        faults,
    ]
    if tls:
        args += ["--cert", where / "server.pem"]
    process = processes.start(args, label="ftpd", log=where / "ftpd.log")
    wait_until(f"pyftpdlib's port (log: {where / 'ftpd.log'})", lambda: port_file.exists() or _died(process))
    port = int(port_file.read_text())
    wait_until(f"pyftpdlib on port {port}", lambda: accepts(port) or _died(process))
    return FtpServer(port, "as400", "as400-secret", faults, ca_file, process)
