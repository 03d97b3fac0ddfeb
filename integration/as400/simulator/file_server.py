"""The simulator's exchange folder served over SFTP, FTP or FTPS on loopback: ``bin/run`` over a transport.

``AS400_EXCHANGE_BACKEND=sftp bash bin/run`` (or ``ftp``, ``ftps``) runs::

    python -m integration.as400.simulator.file_server sftp --root var/exchange --state var/file-server \\
        --env-file var/run/as400-exchange.env

It serves ``--root`` (the folder the simulator works on, as the AS400 works on its IFS: its local
disk) on a free loopback port, and once the server listens it writes ``--env-file``: the
``AS400_EXCHANGE_*`` variables (backend ``simulator-sftp``, URL, pinned host key, client key,
password, CA file) that ``bin/run`` exports to the platform's processes, which then read and write
only through the server. The tests start it the same way (tests/flows/test_bin_run_transports.py).

- **SFTP** is Debian's OpenSSH ``sshd`` (``openssh-server``), the server the AS400 itself runs (IBM
  i ships OpenSSH), as the adapter's tests use: the real ``posix-rename@openssh.com``, the real
  host-key exchange, nothing of ours in between. This process writes the configuration and then
  *becomes* sshd (``exec``), so that stopping it stops the server. It listens on 127.0.0.1 only,
  accepts only the client key kept in ``--state`` (no password, no forwarding, no terminal), and
  logs in as the user running ``bin/run``; the URL's path is the absolute path of ``--root``.
  Without sshd it stops at once, saying how to install it.
- **FTP/FTPS** is pyftpdlib (already the FTP tests' server), in this process: one user ``as400``
  whose home is ``--root``, its password generated once; FTPS is explicit TLS with a certificate for
  127.0.0.1 generated once, which the platform checks as its own CA.

Keys, password and certificate are generated once and kept in ``--state`` (mode 600), so that the
host key the platform pins stays the same from one run to the next. Only for one machine's demo:
a real AS400 is reached with the same settings set by hand (README, "Environment variables").
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import ipaddress
import os
import secrets
import shlex
import shutil
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SSHD_CANDIDATES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd")
FTP_USER = "as400"
PROTOCOLS = ("sftp", "ftp", "ftps")


class CannotServe(Exception):
    """What is missing to serve the folder (sshd not installed...), said so that it can be fixed."""


def free_port() -> int:
    """A loopback port free now (sshd must be told one before it starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write_private(path: Path, data: bytes) -> None:
    """A secret file, mode 600 from its first byte, replaced whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def ssh_key(path: Path) -> str:
    """An Ed25519 key in OpenSSH's format at ``path`` (made the first time), and its public line."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        )
        _write_private(path, pem)
    key = serialization.load_ssh_private_key(path.read_bytes(), password=None)
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return f"{public.decode()} {path.name}"


def sshd_config(
    *, port: int, host_key: Path, authorized_keys: Path, pid_file: Path, subsystem: str, user: str
) -> str:
    """A private sshd's configuration: loopback, one port, key logins of ``user`` only, SFTP only.

    ``subsystem`` is what serves SFTP (``internal-sftp``; the tests put their fault relay there).
    """
    return "\n".join([
        f"Port {port}",
        "ListenAddress 127.0.0.1",
        f"HostKey {host_key}",
        f"PidFile {pid_file}",
        f"AuthorizedKeysFile {authorized_keys}",
        f"AllowUsers {user}",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",  # when the user is root (CI), by key only
        "UsePAM no",
        "StrictModes no",  # the keys live in the project's var/, whatever its parents' modes
        "DisableForwarding yes",
        "PermitTTY no",
        "MaxStartups 100",
        "LogLevel VERBOSE",
        f"Subsystem sftp {subsystem}",
    ]) + "\n"  # fmt: skip


def find_sshd() -> str:
    """OpenSSH's sshd, or :class:`CannotServe` saying how to install it."""
    found = shutil.which("sshd") or next((p for p in SSHD_CANDIDATES if os.path.exists(p)), None)
    if found is None:
        raise CannotServe(
            "OpenSSH's sshd is needed to serve the exchange folder over SFTP and is not installed: "
            "apt-get install openssh-server (Debian/Ubuntu; the service need not run, bin/run starts its "
            "own on loopback), or run with AS400_EXCHANGE_BACKEND=ftp or ftps"
        )
    return found


def self_signed_certificate(where: Path) -> Path:
    """A certificate for 127.0.0.1 and its key in one PEM, ``where/server.pem`` (the server's), also
    its own CA, ``where/ca.pem`` (the client's). Returns the CA's path."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "as400 simulator file server")])
    # Valid ten years either side of Python's now: OpenSSL checks it against the machine's real clock,
    # which the tests' clock-ahead run (tests/clock_ahead) leaves two years behind Python's.
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
    _write_private(
        where / "server.pem",
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )
    ca = where / "ca.pem"
    ca.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return ca


def write_env(path: Path, values: Mapping[str, str]) -> None:
    """``export NAME=value`` lines, quoted for the shell (bin/run sources them); whole or not at all."""
    text = "".join(f"export {name}={shlex.quote(value)}\n" for name, value in values.items())
    _write_private(path, text.encode())


def read_env(path: Path) -> dict[str, str]:
    """What :func:`write_env` wrote, as a mapping (what the shell that sources it sees)."""
    values = {}
    for line in path.read_text().splitlines():
        (assignment,) = shlex.split(line.removeprefix("export "))
        name, _, value = assignment.partition("=")
        values[name] = value
    return values


@dataclass(frozen=True)
class SshdSetup:
    """A private sshd's files: its configuration, its host key (the known_hosts line to pin) and the
    client key it accepts."""

    config: Path
    host_key: str
    client_key: Path
    user: str


def sshd_setup(where: Path, port: int, *, subsystem: str = "internal-sftp") -> SshdSetup:
    """The keys (made once, kept in ``where``), the authorized key and sshd's configuration."""
    user = getpass.getuser()
    host_key = ssh_key(where / "ssh_host_ed25519_key")
    client_pub = ssh_key(where / "client_ed25519_key")
    (where / "authorized_keys").write_text(client_pub + "\n")
    config = where / "sshd_config"
    config.write_text(
        sshd_config(
            port=port,
            host_key=where / "ssh_host_ed25519_key",
            authorized_keys=where / "authorized_keys",
            pid_file=where / "sshd.pid",
            subsystem=subsystem,
            user=user,
        )
    )
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    return SshdSetup(config, host_key, where / "client_ed25519_key", user)


def serve_sftp(root: Path, state: Path, env_file: Path) -> None:
    """Write the settings, then become sshd (in the foreground, logging to stderr)."""
    sshd = find_sshd()
    port = free_port()
    setup = sshd_setup(state, port)
    env = {
        "AS400_EXCHANGE_BACKEND": "simulator-sftp",
        "AS400_EXCHANGE_URL": f"sftp://{setup.user}@127.0.0.1:{port}{root}",
        "AS400_EXCHANGE_SSH_KEY_FILE": str(setup.client_key),
        "AS400_EXCHANGE_SSH_HOST_KEY": setup.host_key,
    }
    write_env(env_file, env)
    sys.stderr.write(f"serving {root} over SFTP: {env['AS400_EXCHANGE_URL']} (OpenSSH's {sshd})\n")
    sys.stderr.flush()
    os.execv(sshd, [sshd, "-D", "-e", "-f", str(setup.config)])


def serve_ftp(root: Path, state: Path, env_file: Path, *, tls: bool) -> None:
    """pyftpdlib in this process until it is stopped: the user ``as400`` at home in ``root``."""
    try:
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler
        from pyftpdlib.servers import FTPServer
    except ImportError as exc:
        raise CannotServe(
            f"pyftpdlib is needed to serve the exchange folder over FTP ({exc}): it is in "
            "requirements-dev.txt, which bin/bootstrap installs"
        ) from None
    password_file = state / "ftp-password"
    if not password_file.exists():
        _write_private(password_file, secrets.token_urlsafe(24).encode())
    password = password_file.read_text().strip()
    authorizer = DummyAuthorizer()
    authorizer.add_user(FTP_USER, password, str(root), perm="elradfmwMT")
    handler: type[FTPHandler] = FTPHandler
    env = {"AS400_EXCHANGE_BACKEND": "simulator-ftps" if tls else "simulator-ftp"}
    if tls:
        if not (state / "server.pem").exists():
            self_signed_certificate(state)

        class Handler(TLS_FTPHandler):  # type: ignore[misc]
            certfile = str(state / "server.pem")
            tls_control_required = True
            tls_data_required = True

        handler = Handler
        env["AS400_EXCHANGE_TLS_CA_FILE"] = str(state / "ca.pem")
    handler.authorizer = authorizer
    handler.passive_ports = None
    server = FTPServer(("127.0.0.1", 0), handler)
    port = server.socket.getsockname()[1]
    scheme = "ftps" if tls else "ftp"
    env |= {
        "AS400_EXCHANGE_URL": f"{scheme}://{FTP_USER}@127.0.0.1:{port}/",
        "AS400_EXCHANGE_PASSWORD": password,
    }
    write_env(env_file, env)
    sys.stderr.write(f"serving {root} over {scheme.upper()}: {env['AS400_EXCHANGE_URL']} (pyftpdlib)\n")
    sys.stderr.flush()
    server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("protocol", choices=PROTOCOLS)
    parser.add_argument("--root", type=Path, required=True, help="the folder to serve (the simulator's)")
    parser.add_argument(
        "--state", type=Path, required=True, help="where keys, password, certificate are kept"
    )
    parser.add_argument("--env-file", type=Path, required=True, help="written once the server listens")
    args = parser.parse_args(argv)
    root, state = args.root.resolve(), args.state.resolve()
    root.mkdir(parents=True, exist_ok=True)  # only the root: IN/ and OUT/ are the simulator's to make
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o700)
    args.env_file.unlink(missing_ok=True)  # a stale one would be taken for this server's
    try:
        if args.protocol == "sftp":
            serve_sftp(root, state, args.env_file)
        else:
            serve_ftp(root, state, args.env_file, tls=args.protocol == "ftps")
    except CannotServe as exc:
        print(f"file_server: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
