"""The exchange folders over SFTP: the AS400's IFS through its OpenSSH (``AS400_EXCHANGE_BACKEND=sftp``).

paramiko, because it is synchronous (a django-q2 worker runs one task at a time and has no event
loop to give), pure Python on top of ``cryptography``, and the most used SSH library for Python.

- The server's host key is pinned (``AS400_EXCHANGE_SSH_HOST_KEY``: a known_hosts line or a
  ``SHA256:`` fingerprint as ``ssh-keygen -lf`` prints it); any other key, or none set, is refused
  before a credential is sent.
- Login by key (``AS400_EXCHANGE_SSH_KEY_FILE``) or password (``AS400_EXCHANGE_PASSWORD``).
- Publishing renames with ``posix-rename@openssh.com``: plain SFTP RENAME (version 3) is loosely
  specified, and OpenSSH implements it as a hard link then an unlink, which fails on filesystems
  without links and then falls back to a non-atomic stat-and-rename. Servers without the extension
  (answering "unsupported") get the plain RENAME. Either way the target was checked absent first
  (:mod:`.remote`).
- Every request has ``AS400_EXCHANGE_TIMEOUT``: a server that stops answering is a failed run,
  not a worker stuck for ever.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import hashlib
import io
import socket
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import paramiko
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from integration.as400.exchange.base import FileInfo, TransferRefused
from integration.as400.exchange.remote import RemoteError, RemoteExchangeFolder, parse_exchange_url

#: The host key algorithms paramiko may negotiate for each kind of pinned key.
_KEY_ALGORITHMS = {"ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]}


class PinnedHostKey:
    """The one host key the server may present: a known_hosts line (``[host:port] type base64``,
    the hosts optional) or an OpenSSH ``SHA256:...`` fingerprint."""

    def __init__(self, text: str) -> None:
        text = text.strip()
        if not text:
            raise ImproperlyConfigured(
                "AS400_EXCHANGE_SSH_HOST_KEY is empty: pin the AS400's host key (a line of known_hosts, or its "
                "SHA256: fingerprint from ssh-keygen -lf); an unknown key is never accepted"
            )
        self.key_type: str | None = None
        self.key_bytes: bytes | None = None
        self.fingerprint: str | None = None
        if text.startswith("SHA256:"):
            self.fingerprint = text.removeprefix("SHA256:").rstrip("=")
            return
        fields = text.split()
        if len(fields) >= 2 and not fields[0].startswith(("ssh-", "ecdsa-", "sk-")):
            fields = fields[1:]  # the host names of a known_hosts line
        try:
            self.key_type, self.key_bytes = fields[0], base64.b64decode(fields[1], validate=True)
        except (IndexError, ValueError) as exc:
            raise ImproperlyConfigured(
                "AS400_EXCHANGE_SSH_HOST_KEY is neither a known_hosts line ('ssh-ed25519 AAAA...') nor a "
                f"'SHA256:' fingerprint ({exc})"
            ) from None

    def key_algorithms(self) -> list[str] | None:
        """What to ask the server for, so that it shows the pinned key when it has several."""
        if self.key_type is None:
            return None
        return _KEY_ALGORITHMS.get(self.key_type, [self.key_type])

    def check(self, key: paramiko.PKey, where: str) -> None:
        """Refuse (RemoteError) any key but the pinned one."""
        shown = "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")
        if self.fingerprint is not None:
            good = shown.removeprefix("SHA256:") == self.fingerprint
        else:
            good = key.asbytes() == self.key_bytes
        if not good:
            raise RemoteError(
                f"{where} presented the host key {key.get_name()} {shown}, which is not the one pinned in "
                "AS400_EXCHANGE_SSH_HOST_KEY: refused (a new key must be checked and pinned by hand)"
            )


class _Session:
    """One SSH connection and its SFTP channel."""

    def __init__(self, transport: paramiko.Transport, sftp: paramiko.SFTPClient) -> None:
        self.transport, self.sftp = transport, sftp
        self.posix_rename = True  # until the server says it has not the extension

    def alive(self) -> bool:
        channel = self.sftp.get_channel()
        return self.transport.is_active() and channel is not None and not channel.closed


class SftpExchangeFolder(RemoteExchangeFolder):
    """``root`` is the absolute path, on the server, of the folder that holds ``IN/`` and ``OUT/``."""

    protocol = "SFTP"

    def __init__(
        self,
        root: str,
        ccsid: int,
        *,
        host: str,
        port: int = 22,
        user: str,
        host_key: str,
        key_file: Path | str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        super().__init__(root, ccsid, host=host, port=port, timeout=timeout)
        self.user = user
        self.host_key = PinnedHostKey(host_key)
        self._key_file = Path(key_file) if key_file else None
        self._password = password or None
        if self._key_file is None and self._password is None:
            raise ImproperlyConfigured(
                "the SFTP exchange needs AS400_EXCHANGE_SSH_KEY_FILE (a private key) or AS400_EXCHANGE_PASSWORD"
            )

    @classmethod
    def from_settings(cls, root: Path | str | None = None) -> Self:
        user, host, port, path = parse_exchange_url(str(settings.AS400_EXCHANGE_URL), ("sftp",))
        return cls(
            str(root) if root is not None else path,
            int(settings.AS400_CCSID),
            host=host,
            port=port or 22,
            user=user,
            host_key=str(settings.AS400_EXCHANGE_SSH_HOST_KEY),
            key_file=str(settings.AS400_EXCHANGE_SSH_KEY_FILE) or None,
            password=str(settings.AS400_EXCHANGE_PASSWORD) or None,
            timeout=float(settings.AS400_EXCHANGE_TIMEOUT),
        )

    # -- the connection --

    def _connect(self) -> _Session:
        where = f"{self.host}:{self.port}"
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        transport = paramiko.Transport(sock)
        try:
            transport.banner_timeout = transport.auth_timeout = transport.handshake_timeout = self.timeout
            algorithms = self.host_key.key_algorithms()
            if algorithms is not None:
                transport.get_security_options().key_types = algorithms
            transport.start_client(timeout=self.timeout)
            self.host_key.check(transport.get_remote_server_key(), where)
            try:
                if self._key_file is not None:
                    transport.auth_publickey(self.user, paramiko.PKey.from_path(self._key_file))
                else:
                    transport.auth_password(self.user, self._password or "")
            except paramiko.AuthenticationException as exc:
                raise RemoteError(f"the server refused the login of {self.user!r} ({exc})") from None
            sftp = paramiko.SFTPClient.from_transport(transport)
            if sftp is None:
                raise RemoteError("the server opened no SFTP channel")
            channel = sftp.get_channel()
            assert channel is not None
            channel.settimeout(self.timeout)
            return _Session(transport, sftp)
        except BaseException:
            transport.close()
            raise

    @staticmethod
    def _disconnect(connection: Any) -> None:
        try:
            connection.sftp.close()
        finally:
            connection.transport.close()

    def _transport_errors(self) -> tuple[type[BaseException], ...]:
        return (paramiko.SSHException,)

    @contextlib.contextmanager
    def _request(self, c: _Session, what: str) -> Iterator[None]:
        """A server's refusal becomes :class:`TransferRefused` when the channel is still open;
        FileNotFoundError and a failed connection pass as they are."""
        try:
            yield
        except OSError as exc:
            if (
                isinstance(exc, FileNotFoundError)
                or type(exc) not in (OSError, PermissionError)
                or not c.alive()
            ):
                raise
            raise TransferRefused(
                exc.errno or errno.EIO, f"the server refused {what}: {exc.strerror or exc}"
            ) from exc

    # -- the file server's operations --

    def _r_is_dir(self, c: _Session, path: str) -> bool:
        try:
            with self._request(c, f"stat {path}"):
                mode = c.sftp.stat(path).st_mode
        except FileNotFoundError:
            return False
        return mode is not None and stat.S_ISDIR(mode)

    def _r_list(self, c: _Session, path: str) -> list[str]:
        with self._request(c, f"listing {path}"):
            entries = c.sftp.listdir_attr(path)
        return [e.filename for e in entries if e.st_mode is not None and stat.S_ISREG(e.st_mode)]

    def _r_stat(self, c: _Session, path: str) -> FileInfo | None:
        try:
            with self._request(c, f"stat {path}"):
                st = c.sftp.stat(path)
        except FileNotFoundError:
            return None
        if st.st_mode is None or not stat.S_ISREG(st.st_mode):
            return None
        return FileInfo(size=st.st_size or 0, modified_at=datetime.fromtimestamp(st.st_mtime or 0, tz=UTC))

    def _r_get(self, c: _Session, path: str) -> bytes:
        buffer = io.BytesIO()
        with self._request(c, f"reading {path}"):
            size = c.sftp.getfo(path, buffer, prefetch=True)
        expected = self._r_stat(c, path)
        if expected is not None and expected.size != size:  # cut short, or being written
            raise TransferRefused(errno.EIO, f"{path}: read {size} bytes of {expected.size}")
        return buffer.getvalue()

    def _r_put(self, c: _Session, path: str, data: bytes) -> None:
        # Not pipelined: each block's answer is read, so that a refusal (a full disk) is told as such.
        with self._request(c, f"writing {path}"), c.sftp.open(path, "wbx") as fh:
            fh.write(data)
        written = self._r_stat(c, path)
        if written is None or written.size != len(data):
            raise TransferRefused(
                errno.EIO, f"{path}: {written.size if written else 'no'} bytes stored of {len(data)}"
            )

    def _r_rename(self, c: _Session, source: str, target: str) -> None:
        with self._request(c, f"renaming {source} to {target}"):
            if c.posix_rename:
                try:
                    c.sftp.posix_rename(source, target)
                    return
                except OSError as exc:
                    if not (c.alive() and type(exc) is OSError and "unsupported" in str(exc).lower()):
                        raise
                    c.posix_rename = False  # the server has not the extension: plain RENAME from now on
            c.sftp.rename(source, target)

    def _r_delete(self, c: _Session, path: str) -> None:
        with self._request(c, f"deleting {path}"):
            c.sftp.remove(path)

    def _r_mkdir(self, c: _Session, path: str) -> None:
        try:
            with self._request(c, f"making {path}"):
                c.sftp.mkdir(path)
        except TransferRefused:
            if not self._r_is_dir(c, path):  # else made meanwhile by another worker
                raise
