"""What the SFTP and FTP adapters share: one connection per folder, and publishing by rename.

A remote adapter (:mod:`.sftp`, :mod:`.ftp`) implements a handful of file-server operations on
paths under its root (list a folder, stat, get, put, rename, delete, make a folder);
:class:`RemoteExchangeFolder` turns them into the port's transport primitives, the same way for
both protocols:

- Publishing is atomic for a reader: each part is stored under a temporary name that is not a pair
  (``.<FILE>_<SEQ>.DAT.<pid>-<hex>.tmp``, the local writer's, so that
  :meth:`~.base.ExchangeFolder.remove_stale_temporaries` cleans what a dropped connection left),
  then renamed to its name, the ``.DAT`` first and the ``.OK`` last. A reader of ``IN/`` sees a
  pair only once both parts are whole.
- Nothing is overwritten: a rename is made only after the target was found absent (the SFTP
  ``posix-rename`` and most FTP servers' RNTO replace silently). The platform is the only writer of
  its sequence numbers in ``IN/`` and the only mover in ``OUT/``, so checking first is enough, as
  it is for the local adapter.
- One connection per folder object, opened on first use and kept for the run (a dispatch, a
  sync); :meth:`close` (or ``with``) ends it, and it is also closed when the object is collected.
  A transport failure (connection dropped, refused, timed out) closes it and raises
  :class:`~.base.ExchangeUnreachable`: the caller's run fails cleanly, and the next use connects
  again. The callers already treat it as a failed run to retry: it is an ``OSError`` for the
  dispatcher's writes and an ``ExchangeError`` for the sync's moves.

Credentials come from the settings and are never put in a message, a log or a ``repr``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import weakref
from abc import abstractmethod
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from integration.as400.exchange.base import (
    ExchangeFolder,
    ExchangeUnreachable,
    FileInfo,
    Location,
    PairExists,
    TransferRefused,
)
from integration.as400.files import PairName

T = TypeVar("T")

#: Our own folders, inside OUT/: made on their first use (OUT/ itself must be there).
_OURS = (Location.OUT_ARCHIVE, Location.OUT_QUARANTINE)


class RemoteError(Exception):
    """Raised by an adapter's operation when the connection itself failed (not a missing file)."""


def parse_exchange_url(url: str, schemes: tuple[str, ...]) -> tuple[str, str, int | None, str]:
    """``scheme://user@host:port/path`` → (user, host, port, path); no password in it.

    The password is its own setting (``AS400_EXCHANGE_PASSWORD``) so that the URL may be shown.
    """
    parts = urlsplit(url)
    if parts.scheme not in schemes:
        raise ImproperlyConfigured(
            f"AS400_EXCHANGE_URL must start with {' or '.join(s + '://' for s in schemes)}; it starts with "
            f"{parts.scheme + '://' if parts.scheme else 'no scheme'}"
        )
    if parts.password is not None:
        raise ImproperlyConfigured(
            "AS400_EXCHANGE_URL holds a password: put it in AS400_EXCHANGE_PASSWORD instead, so that the URL "
            "can be shown and logged"
        )
    if not parts.hostname or not parts.username:
        raise ImproperlyConfigured("AS400_EXCHANGE_URL needs a user and a host: sftp://user@host:22/path")
    path = unquote(parts.path) or "/"
    return unquote(parts.username), parts.hostname, parts.port, path


class RemoteExchangeFolder(ExchangeFolder):
    """The exchange folders on a file server; subclasses speak its protocol.

    ``root`` is the absolute path on the server of the folder holding ``IN/`` and ``OUT/``.
    """

    #: Shown in messages: "SFTP", "FTP", "FTPS".
    protocol = "remote"

    def __init__(self, root: str, ccsid: int, *, host: str, port: int, timeout: float) -> None:
        super().__init__(ccsid)
        self.root = PurePosixPath(root)
        self.host, self.port, self.timeout = host, port, timeout
        self._lock = threading.RLock()  # one request at a time on the connection
        self._connection: Any = None
        self._finalizer: weakref.finalize | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.where!r}, ccsid={self.ccsid})"

    @property
    def where(self) -> str:
        return f"{self.protocol.lower()}://{self.host}:{self.port}{self.root}"

    # -- the connection --

    @abstractmethod
    def _connect(self) -> Any:
        """A new logged-in connection; RemoteError (or an OSError) if it cannot be had."""

    @staticmethod
    @abstractmethod
    def _disconnect(connection: Any) -> None:
        """End a connection, quietly (it may be dead already). Static: the finalizer calls it."""

    @abstractmethod
    def _transport_errors(self) -> tuple[type[BaseException], ...]:
        """The exceptions of the protocol library that mean the connection failed."""

    def _failures(self) -> tuple[type[BaseException], ...]:
        return (RemoteError, OSError, EOFError, *self._transport_errors())

    def close(self) -> None:
        """End the connection, if one is open. The folder may be used again: it reconnects."""
        with self._lock:
            connection, self._connection = self._connection, None
            if self._finalizer is not None:
                self._finalizer.detach()
                self._finalizer = None
            if connection is not None:
                self._disconnect(connection)

    @property
    def connected(self) -> bool:
        return self._connection is not None

    def _call(self, operation: Callable[[Any], T], what: str) -> T:
        """Run ``operation(connection)`` on the open connection (opened now if none is).

        FileNotFoundError and FileExistsError pass as they are (they are answers); a failure of the
        connection closes it and raises :class:`ExchangeUnreachable` naming the server and what
        was being done.
        """
        with self._lock:
            try:
                if self._connection is None:
                    self._connection = self._connect()
                    self._finalizer = weakref.finalize(self, self._disconnect, self._connection)
                return operation(self._connection)
            except (FileNotFoundError, FileExistsError, PairExists, TransferRefused):
                raise  # answers of a server still connected
            except self._failures() as exc:
                self.close()
                reason = str(exc) or type(exc).__name__
                raise ExchangeUnreachable(
                    f"{self.protocol} {self.host}:{self.port}: {what}: {reason}"
                ) from exc

    # -- the file server's operations, on absolute paths --

    @abstractmethod
    def _r_is_dir(self, c: Any, path: str) -> bool: ...

    @abstractmethod
    def _r_list(self, c: Any, path: str) -> list[str]:
        """Names of the regular files directly in ``path``; FileNotFoundError if it is not there."""

    @abstractmethod
    def _r_stat(self, c: Any, path: str) -> FileInfo | None:
        """Size and modification time of a regular file, None if there is none."""

    @abstractmethod
    def _r_get(self, c: Any, path: str) -> bytes:
        """A whole file; FileNotFoundError if it is not there."""

    @abstractmethod
    def _r_put(self, c: Any, path: str, data: bytes) -> None:
        """Store a new file (a temporary name of ours)."""

    @abstractmethod
    def _r_rename(self, c: Any, source: str, target: str) -> None:
        """Rename atomically; the target is known to be absent, or ours to replace."""

    @abstractmethod
    def _r_delete(self, c: Any, path: str) -> None:
        """Delete a file; FileNotFoundError if it is not there."""

    @abstractmethod
    def _r_mkdir(self, c: Any, path: str) -> None: ...

    # -- the port's transport primitives --

    def _path(self, location: Location, filename: str = "") -> str:
        path = self.root / location.value
        return str(path / filename) if filename else str(path)

    def _folder_exists(self, location: Location) -> bool:
        return self._call(lambda c: self._r_is_dir(c, self._path(location)), f"looking for {location.value}/")

    def _names(self, location: Location) -> list[str]:
        def names(c: Any) -> list[str]:
            try:
                return self._r_list(c, self._path(location))
            except FileNotFoundError:
                return []

        return self._call(names, f"listing {location.value}/")

    def _stat(self, location: Location, filename: str) -> FileInfo | None:
        return self._call(
            lambda c: self._r_stat(c, self._path(location, filename)), f"stat {location.value}/{filename}"
        )

    def _read(self, location: Location, filename: str) -> bytes:
        return self._call(
            lambda c: self._r_get(c, self._path(location, filename)), f"reading {location.value}/{filename}"
        )

    def _publish_pair(self, location: Location, name: PairName, dat: bytes, ok: bytes) -> None:
        self._publish(location, [(name.dat, dat), (name.ok, ok)])

    def _publish_one(self, location: Location, filename: str, data: bytes) -> None:
        self._publish(location, [(filename, data)])

    def _publish(self, location: Location, parts: list[tuple[str, bytes]]) -> None:
        """Store every part under a temporary name, then rename each into place, in order."""
        token = f"{os.getpid()}-{secrets.token_hex(4)}"  # two writers never share a temporary file
        temporaries = {filename: self._path(location, f".{filename}.{token}.tmp") for filename, _ in parts}

        def publish(c: Any) -> None:
            for filename, _ in parts:
                if self._r_stat(c, self._path(location, filename)) is not None:
                    raise PairExists(f"{location.value}/{filename} exists; not replaced")
            stored: list[str] = []
            try:
                for filename, data in parts:
                    stored.append(filename)  # before: a put that fails half way leaves a part
                    self._r_put(c, temporaries[filename], data)
                for filename, _ in parts:
                    if self._r_stat(c, self._path(location, filename)) is not None:
                        raise PairExists(f"{location.value}/{filename} appeared meanwhile; not replaced")
                    self._r_rename(c, temporaries[filename], self._path(location, filename))
                    stored.remove(filename)
            except BaseException:
                # What can still be removed now is; after a dropped connection the temporaries stay,
                # under names no reader takes, until remove_stale_temporaries.
                for filename in stored:
                    with contextlib.suppress(Exception):
                        self._r_delete(c, temporaries[filename])  # one never stored: FileNotFoundError
                raise

        self._call(publish, f"writing {', '.join(f'{location.value}/{f}' for f, _ in parts)}")

    def _move(self, source: Location, target: Location, filename: str) -> None:
        def move(c: Any) -> None:
            if location_is_ours(target) and not self._r_is_dir(c, self._path(target)):
                self._r_mkdir(c, self._path(target))
            if self._r_stat(c, self._path(target, filename)) is not None:
                raise PairExists(f"{target.value}/{filename} exists; not replaced")
            if self._r_stat(c, self._path(source, filename)) is None:
                raise FileNotFoundError(f"{source.value}/{filename} is not there")
            self._r_rename(c, self._path(source, filename), self._path(target, filename))

        self._call(move, f"moving {source.value}/{filename} to {target.value}/")

    def _put_text(self, location: Location, filename: str, text: str) -> None:
        tmp = self._path(location, f".{filename}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
        final = self._path(location, filename)

        def put(c: Any) -> None:
            if location_is_ours(location) and not self._r_is_dir(c, self._path(location)):
                self._r_mkdir(c, self._path(location))
            self._r_put(c, tmp, text.encode("utf-8"))
            self._r_rename_replacing(c, tmp, final)

        self._call(put, f"writing {location.value}/{filename}")

    def _r_rename_replacing(self, c: Any, source: str, target: str) -> None:
        """Rename, replacing the target (our reason file). Servers whose rename refuses to replace
        override this; by default the target is deleted first when it is there."""
        if self._r_stat(c, target) is not None:
            self._r_delete(c, target)
        self._r_rename(c, source, target)

    def _delete(self, location: Location, filename: str) -> None:
        self._call(
            lambda c: self._r_delete(c, self._path(location, filename)),
            f"deleting {location.value}/{filename}",
        )


def location_is_ours(location: Location) -> bool:
    """ARCHIVE/ and QUARANTINE/ are ours, made on first use; the others are the share's."""
    return location in _OURS
