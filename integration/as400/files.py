"""Names of exchange files and the atomic write of a pair, shared by both sides of the exchange.

A pair is ``<FILE>_<SEQ>.DAT`` and ``<FILE>_<SEQ>.OK``, SEQ six digits. A reader never opens a
``.DAT`` whose ``.OK`` is not there yet, so the writer writes both under temporary names,
makes them durable, and renames them into place, the ``.OK`` last.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

PAIR_NAME = re.compile(r"^(?P<file>[A-Z][A-Z0-9]{0,9})_(?P<seq>\d{6})\.(?P<ext>DAT|OK)$")
MAX_SEQ = 999_999


@dataclass(frozen=True, slots=True, order=True)
class PairName:
    file: str
    seq: int

    @property
    def stem(self) -> str:
        return f"{self.file}_{self.seq:06d}"

    @property
    def dat(self) -> str:
        return f"{self.stem}.DAT"

    @property
    def ok(self) -> str:
        return f"{self.stem}.OK"

    @classmethod
    def parse(cls, filename: str) -> tuple[PairName, str] | None:
        """(pair, "DAT" or "OK") for a name of the exchange, None for anything else."""
        m = PAIR_NAME.match(filename)
        if not m:
            return None
        return cls(m["file"], int(m["seq"])), m["ext"]


def pair_name(file: str, seq: int) -> PairName:
    if not 0 <= seq <= MAX_SEQ:
        raise ValueError(f"sequence {seq} does not fit in six digits")
    name = PairName(file, seq)
    if not PAIR_NAME.match(name.dat):
        raise ValueError(f"{file!r} is not a file name of the exchange (1 to 10 letters and digits)")
    return name


def _fsync_dir(folder: Path) -> None:
    """Make renames in ``folder`` durable; a share that cannot sync a folder is left to its server."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK}


def _publish(tmp: Path, final: Path) -> None:
    """Give ``tmp`` its final name, never replacing a file already there.

    A hard link fails if the name exists, atomically; on a share without hard links we fall back
    to a check then a rename, which only a second writer of the same sequence could race.
    """
    try:
        os.link(tmp, final)
    except FileExistsError:
        raise FileExistsError(f"{final.name} already exists in {final.parent}") from None
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        if final.exists():
            raise FileExistsError(f"{final.name} already exists in {final.parent}") from None
        os.replace(tmp, final)
        return
    os.unlink(tmp)


def _write_durably(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def publish_file(folder: Path, filename: str, data: bytes) -> Path:
    """Write one file durably under a temporary name, then give it ``filename``, never replacing one."""
    folder = Path(folder)
    final = folder / filename
    tmp = folder / f".{filename}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
    try:
        _write_durably(tmp, data)
        _publish(tmp, final)
        _fsync_dir(folder)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return final


def write_pair(folder: Path, file: str, seq: int, dat: bytes, ok: bytes) -> tuple[Path, Path]:
    """Write ``<FILE>_<SEQ>.DAT`` and ``.OK`` into ``folder`` atomically, the ``.OK`` last.

    Refuses to overwrite an existing pair: a sequence number is used once.
    """
    name = pair_name(file, seq)
    folder = Path(folder)
    dat_path, ok_path = folder / name.dat, folder / name.ok
    if dat_path.exists() or ok_path.exists():
        raise FileExistsError(f"{name.stem} already exists in {folder}")
    token = f"{os.getpid()}-{secrets.token_hex(4)}"  # two writers never share a temporary file
    tmp_dat, tmp_ok = folder / f".{name.dat}.{token}.tmp", folder / f".{name.ok}.{token}.tmp"
    try:
        _write_durably(tmp_dat, dat)
        _write_durably(tmp_ok, ok)
        _publish(tmp_dat, dat_path)
        _fsync_dir(folder)  # the .DAT is in place before the .OK says it is complete
        _publish(tmp_ok, ok_path)
        _fsync_dir(folder)
    finally:
        for tmp in (tmp_dat, tmp_ok):
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    return dat_path, ok_path
