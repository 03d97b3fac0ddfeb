"""The exchange folders over FTP, or FTPS with explicit TLS: the AS400's own FTP server on its IFS.

``AS400_EXCHANGE_BACKEND=ftps`` (or ``ftp`` on a network where clear text is accepted). The
standard library's ftplib: nothing to install, and FTP's few commands need no more.

- FTPS is explicit TLS (``AUTH TLS`` on the control connection, ``PROT P`` for data), the server's
  certificate checked against ``AS400_EXCHANGE_TLS_CA_FILE`` (the system's CAs when empty) and its
  name against the URL's host; no certificate that fails is ever used.
- Listing and stat use MLSD and MLST (RFC 3659): exact sizes and UTC times, files told from
  folders, no parsing of a LIST line that each server words its own way. The server must offer
  them (``FEAT`` lists MLST): check the AS400's before choosing FTP over SFTP.
- Publishing is STOR under a temporary name, then RNFR/RNTO (:mod:`.remote`); a STOR is checked
  by the size the server then gives, so a transfer cut short is never taken for a file.
- Replies: 550 on a missing file is FileNotFoundError; 421, a closed or timed-out connection, is a
  failed connection; 452/552 (no space) and any other refusal are
  :class:`~.base.TransferRefused`, the connection kept.
"""

from __future__ import annotations

import contextlib
import errno
import ftplib
import io
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from django.conf import settings

from integration.as400.exchange.base import FileInfo, TransferRefused
from integration.as400.exchange.remote import RemoteError, RemoteExchangeFolder, parse_exchange_url

#: Replies that say the storage is full.
_NO_SPACE = ("452", "552")


def _facts(line: str) -> dict[str, str]:
    """The facts of an MLST/MLSD entry: ``type=file;size=12;modify=20251122101500; name``."""
    facts, _, _ = line.strip().partition(" ")
    return {
        key.lower(): value for key, _, value in (fact.partition("=") for fact in facts.split(";") if fact)
    }


def _info(facts: dict[str, str]) -> FileInfo | None:
    if facts.get("type", "").lower() != "file":
        return None
    modify = facts.get("modify", "19700101000000")
    moment = datetime.strptime(modify[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    return FileInfo(size=int(facts.get("size", "0")), modified_at=moment)


class FtpExchangeFolder(RemoteExchangeFolder):
    """``root`` is the absolute path, on the server, of the folder that holds ``IN/`` and ``OUT/``."""

    protocol = "FTP"
    schemes: tuple[str, ...] = ("ftp",)

    def __init__(
        self,
        root: str,
        ccsid: int,
        *,
        host: str,
        port: int = 21,
        user: str,
        password: str,
        timeout: float = 30.0,
        ca_file: Path | str | None = None,
    ) -> None:
        super().__init__(root, ccsid, host=host, port=port, timeout=timeout)
        self.user = user
        self._password = password
        self.ca_file = Path(ca_file) if ca_file else None

    @classmethod
    def from_settings(cls, root: Path | str | None = None) -> Self:
        user, host, port, path = parse_exchange_url(str(settings.AS400_EXCHANGE_URL), cls.schemes)
        return cls(
            str(root) if root is not None else path,
            int(settings.AS400_CCSID),
            host=host,
            port=port or 21,
            user=user,
            password=str(settings.AS400_EXCHANGE_PASSWORD),
            timeout=float(settings.AS400_EXCHANGE_TIMEOUT),
            ca_file=str(settings.AS400_EXCHANGE_TLS_CA_FILE) or None,
        )

    # -- the connection --

    def _client(self) -> ftplib.FTP:
        return ftplib.FTP(timeout=self.timeout)

    def _secure(self, ftp: ftplib.FTP) -> None:
        """Nothing in clear FTP; FTPS protects the control connection before the login."""

    def _connect(self) -> ftplib.FTP:
        ftp = self._client()
        try:
            ftp.connect(self.host, self.port, timeout=self.timeout)
            self._secure(ftp)
            try:
                ftp.login(self.user, self._password)
            except ftplib.error_perm as exc:
                raise RemoteError(f"the server refused the login of {self.user!r} ({exc})") from None
            self._after_login(ftp)
            ftp.voidcmd("TYPE I")
            return ftp
        except BaseException:
            ftp.close()
            raise

    def _after_login(self, ftp: ftplib.FTP) -> None:
        """Nothing in clear FTP; FTPS protects the data connections."""

    @staticmethod
    def _disconnect(connection: Any) -> None:
        try:
            connection.quit()
        except Exception:  # dead already: only the socket is left to close
            pass
        finally:
            connection.close()

    def _transport_errors(self) -> tuple[type[BaseException], ...]:
        return (ftplib.error_proto, ftplib.error_reply)

    @contextlib.contextmanager
    def _reply(self, what: str) -> Iterator[None]:
        """A refusal of the server, by its reply code (550 is handled by each operation)."""
        try:
            yield
        except (ftplib.error_perm, ftplib.error_temp) as exc:
            reply = str(exc)
            if reply.startswith("421"):
                raise RemoteError(f"the server closed the connection ({reply})") from exc
            code = errno.ENOSPC if reply.startswith(_NO_SPACE) else errno.EIO
            raise TransferRefused(code, f"the server refused {what}: {reply}") from exc

    def _mlst(self, c: ftplib.FTP, path: str) -> dict[str, str] | None:
        """The facts of ``path``, None if the server says there is nothing there (550)."""
        try:
            with self._reply(f"MLST {path}"):
                reply = c.sendcmd(f"MLST {path}")
        except TransferRefused as exc:
            if str(exc.__cause__).startswith("550"):
                return None
            raise
        # 250-Listing path\r\n type=file;size=..; /path\r\n250 End
        lines = [line for line in reply.splitlines()[1:] if line.startswith(" ")]
        if not lines:
            raise TransferRefused(errno.EIO, f"MLST {path}: no facts in the reply {reply!r}")
        return _facts(lines[0])

    # -- the file server's operations --

    def _r_is_dir(self, c: ftplib.FTP, path: str) -> bool:
        facts = self._mlst(c, path)
        return facts is not None and facts.get("type", "").lower() in ("dir", "cdir")

    def _r_list(self, c: ftplib.FTP, path: str) -> list[str]:
        if not self._r_is_dir(c, path):
            raise FileNotFoundError(path)
        with self._reply(f"MLSD {path}"):
            entries = list(c.mlsd(path, facts=["type", "size", "modify"]))
        return [name for name, facts in entries if facts.get("type", "").lower() == "file"]

    def _r_stat(self, c: ftplib.FTP, path: str) -> FileInfo | None:
        facts = self._mlst(c, path)
        return None if facts is None else _info(facts)

    def _r_get(self, c: ftplib.FTP, path: str) -> bytes:
        expected = self._r_stat(c, path)
        if expected is None:
            raise FileNotFoundError(path)
        buffer = io.BytesIO()
        with self._reply(f"reading {path}"):
            c.retrbinary(f"RETR {path}", buffer.write)
        if buffer.tell() != expected.size:  # cut short, or being written
            raise TransferRefused(errno.EIO, f"{path}: read {buffer.tell()} bytes of {expected.size}")
        return buffer.getvalue()

    def _r_put(self, c: ftplib.FTP, path: str, data: bytes) -> None:
        with self._reply(f"writing {path}"):
            c.storbinary(f"STOR {path}", io.BytesIO(data))
        written = self._r_stat(c, path)
        if written is None or written.size != len(data):
            raise TransferRefused(
                errno.EIO, f"{path}: {written.size if written else 'no'} bytes stored of {len(data)}"
            )

    def _r_rename(self, c: ftplib.FTP, source: str, target: str) -> None:
        try:
            with self._reply(f"renaming {source} to {target}"):
                c.rename(source, target)
        except TransferRefused:
            if self._r_stat(c, source) is None:
                raise FileNotFoundError(source) from None
            raise

    def _r_delete(self, c: ftplib.FTP, path: str) -> None:
        try:
            with self._reply(f"deleting {path}"):
                c.delete(path)
        except TransferRefused:
            if self._r_stat(c, path) is None:
                raise FileNotFoundError(path) from None
            raise

    def _r_mkdir(self, c: ftplib.FTP, path: str) -> None:
        try:
            with self._reply(f"making {path}"):
                c.mkd(path)
        except TransferRefused:
            if not self._r_is_dir(c, path):  # else made meanwhile by another worker
                raise


class FtpsExchangeFolder(FtpExchangeFolder):
    """FTP with explicit TLS, the server's certificate checked (``AS400_EXCHANGE_TLS_CA_FILE``)."""

    protocol = "FTPS"
    schemes = ("ftps", "ftp")

    def _client(self) -> ftplib.FTP:
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        return ftplib.FTP_TLS(context=context, timeout=self.timeout)

    def _secure(self, ftp: ftplib.FTP) -> None:
        assert isinstance(ftp, ftplib.FTP_TLS)
        with self._reply("AUTH TLS"):
            ftp.auth()

    def _after_login(self, ftp: ftplib.FTP) -> None:
        assert isinstance(ftp, ftplib.FTP_TLS)
        with self._reply("PROT P"):
            ftp.prot_p()
