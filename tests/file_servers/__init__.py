"""Real file servers on loopback for the exchange adapters: OpenSSH's sshd, pyftpdlib (FTP, FTPS).

Each is started through :class:`tests.processes.Processes` and waited for by its port, never by a
fixed sleep. Both serve the real filesystem, so that a test puts and reads files in its own
exchange directory as the AS400 does while the adapter goes through the server. Faults are armed by
creating a file in ``faults`` (see ftpd.py and sftp_proxy.py beside this file).

sshd is Debian's ``openssh-server`` (.ci/run installs it); without it the SFTP tests fail and say
so, they never skip.
"""

from __future__ import annotations

import datetime as dt
import getpass
import ipaddress
import os
import shutil
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import Owned, Processes, wait_until

HERE = Path(__file__).resolve().parent
SFTP_SERVER_CANDIDATES = (
    "/usr/lib/openssh/sftp-server",
    "/usr/libexec/openssh/sftp-server",
    "/usr/libexec/sftp-server",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


def _keygen(processes: Processes, path: Path) -> str:
    processes.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", path], check=True)
    return path.with_suffix(".pub").read_text().strip()


def start_sshd(processes: Processes, where: Path) -> SshServer:
    """A private sshd on a free loopback port: its own host key, config and authorized key, and the
    fault relay in front of OpenSSH's sftp-server as its SFTP subsystem."""
    sshd = shutil.which("sshd") or ("/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else None)
    sftp_server = next((p for p in SFTP_SERVER_CANDIDATES if os.path.exists(p)), None)
    if sshd is None or sftp_server is None or shutil.which("ssh-keygen") is None:
        pytest.fail(
            "OpenSSH's sshd and sftp-server are needed for the SFTP adapter's tests and are not installed: "
            "apt-get install openssh-server (.ci/run does)"
        )
    where.mkdir(parents=True, exist_ok=True)
    faults = where / "faults"
    faults.mkdir()
    host_key = _keygen(processes, where / "host_ed25519")
    other_host_key = _keygen(processes, where / "other_host_ed25519")
    client_pub = _keygen(processes, where / "client_ed25519")
    (where / "authorized_keys").write_text(client_pub + "\n")
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    port = free_port()
    config = where / "sshd_config"
    config.write_text(
        "\n".join([
            f"Port {port}",
            "ListenAddress 127.0.0.1",
            f"HostKey {where / 'host_ed25519'}",
            f"PidFile {where / 'sshd.pid'}",
            f"AuthorizedKeysFile {where / 'authorized_keys'}",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            "UsePAM no",
            "StrictModes no",
            "MaxStartups 100",
            "LogLevel VERBOSE",
            f"Subsystem sftp {sys.executable} {HERE / 'sftp_proxy.py'} {faults} {sftp_server}",
        ]) + "\n"
    )  # fmt: skip
    process = processes.start([sshd, "-D", "-e", "-f", config], label="sshd", log=where / "sshd.log")
    wait_until(
        f"sshd on port {port} (log: {where / 'sshd.log'})",
        lambda: (process.poll() is None and accepts(port)) or _died(process),
    )
    return SshServer(
        port, getpass.getuser(), host_key, other_host_key, where / "client_ed25519", faults, process
    )


def _died(process: Owned) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"{process.label} ended with {process.returncode}:\n{process.log_text()}")
    return False


def self_signed_certificate(where: Path) -> Path:
    """A certificate for 127.0.0.1 and its key in one PEM (the server's), also its own CA (the client's)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "as400 test server")])
    # Valid ten years either side of Python's now: OpenSSL checks it against the machine's real clock,
    # which the clock-ahead run (tests/clock_ahead) leaves two years behind Python's.
    now = dt.datetime.now(dt.UTC)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=3650)).not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    pem = where / "server.pem"
    pem.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    ca = where / "ca.pem"
    ca.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return ca


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
