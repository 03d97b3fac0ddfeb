"""The exchange folders as a local directory: development, and a mounted IFS share in production.

Moves are ``os.replace`` within one filesystem (``ARCHIVE/`` and ``QUARANTINE/`` live inside
``OUT/``, ``DONE/`` and ``ERR/`` inside ``IN/``), so each part moves atomically. The order of the
moves (``.OK`` first out of ``OUT/``) is the port's, see :class:`~.base.ExchangeFolder`. Pairs are
written by :func:`integration.as400.files.write_pair` (temporary names, fsync, rename, ``.OK`` last).
"""

from __future__ import annotations

import contextlib
import errno
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

from django.conf import settings

from integration.as400 import files
from integration.as400.exchange.base import ExchangeFolder, FileInfo, Location, PairExists
from integration.as400.files import PairName

# Some network filesystems refuse to fsync a directory; the rename is done all the same.
_FSYNC_DIR_UNSUPPORTED = {errno.EINVAL, errno.ENOTSUP, errno.EBADF}


#: Our own folders, inside OUT/: made on their first use (OUT/ itself must be there).
_OURS = (Location.OUT_ARCHIVE, Location.OUT_QUARANTINE)


class LocalExchangeFolder(ExchangeFolder):
    """``root`` holds ``IN/`` (with ``DONE/`` and ``ERR/``) and ``OUT/``, which must exist.

    Nothing is created when they are missing (see :meth:`~.base.ExchangeFolder.check_folders`):
    the embedded setup's folders are made by the simulator when it is seeded or run.
    """

    def __init__(self, root: Path | str, ccsid: int) -> None:
        super().__init__(ccsid)
        self.root = Path(root)

    @classmethod
    def from_settings(cls, root: Path | str | None = None) -> Self:
        return cls(root if root is not None else settings.AS400_EXCHANGE_DIR, int(settings.AS400_CCSID))

    def __repr__(self) -> str:
        return f"LocalExchangeFolder({str(self.root)!r}, ccsid={self.ccsid})"

    def _path(self, location: Location) -> Path:
        return self.root / location.value

    # -- transport primitives --

    def _folder_exists(self, location: Location) -> bool:
        return self._path(location).is_dir()

    def _ensure_ours(self, location: Location) -> None:
        if location in _OURS:
            self._path(location).mkdir(exist_ok=True)  # not parents: OUT/ must be there already

    def _names(self, location: Location) -> list[str]:
        try:
            with os.scandir(self._path(location)) as entries:
                return [e.name for e in entries if e.is_file()]
        except FileNotFoundError:
            return []

    def _stat(self, location: Location, filename: str) -> FileInfo | None:
        try:
            st = (self._path(location) / filename).stat()
        except FileNotFoundError:
            return None
        return FileInfo(size=st.st_size, modified_at=datetime.fromtimestamp(st.st_mtime, tz=UTC))

    def _read(self, location: Location, filename: str) -> bytes:
        return (self._path(location) / filename).read_bytes()

    def _publish_pair(self, location: Location, name: PairName, dat: bytes, ok: bytes) -> None:
        try:
            files.write_pair(self._path(location), name.file, name.seq, dat, ok)
        except FileExistsError as exc:
            raise PairExists(str(exc)) from exc

    def _publish_one(self, location: Location, filename: str, data: bytes) -> None:
        try:
            files.publish_file(self._path(location), filename, data)
        except FileExistsError as exc:
            raise PairExists(str(exc)) from exc

    def _move(self, source: Location, target: Location, filename: str) -> None:
        src, dst = self._path(source) / filename, self._path(target) / filename
        self._ensure_ours(target)
        # os.replace overwrites on POSIX; the exchange never does. The applier is the only mover
        # of OUT/, so checking first is enough.
        if dst.exists():
            raise PairExists(f"{target.value}/{filename} exists; not replaced")
        os.replace(src, dst)
        _fsync_dir(dst.parent)
        _fsync_dir(src.parent)

    def _delete(self, location: Location, filename: str) -> None:
        (self._path(location) / filename).unlink()

    def _put_text(self, location: Location, filename: str, text: str) -> None:
        folder = self._path(location)
        self._ensure_ours(location)
        tmp = folder / f".{filename}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, folder / filename)
        _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in _FSYNC_DIR_UNSUPPORTED:
            raise
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
