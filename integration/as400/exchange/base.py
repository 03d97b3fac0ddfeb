"""The AS400's exchange folders as one port: :class:`ExchangeFolder`, and what it returns.

The contract (``as400/README.md``, "Where files go" and "The control record"):

- ``OUT/`` is written by the AS400 and read by us; ``IN/`` is written by us and read by the AS400,
  which moves what it read to ``IN/DONE/`` or, when it refused the whole file, to ``IN/ERR/``.
  We move what we applied from ``OUT/`` to ``OUT/ARCHIVE/`` and what we refused to
  ``OUT/QUARANTINE/``. Nothing is ever deleted.
- A file is a pair ``<FILE>_<SEQ>.DAT`` + ``<FILE>_<SEQ>.OK``. The ``.OK`` is the commit marker: it
  appears last, and a ``.DAT`` without it is never opened.
- A pair is applied only if its ``.OK`` decodes, names the same file and sequence as the file
  name, and agrees with the ``.DAT`` on size (a whole number of records), record count and
  CTHASH, and every field of every record decodes.

What is a port here and what is an adapter: the public methods of :class:`ExchangeFolder` are the
port that callers use (applier, dispatcher, CLI, admin). They hold the contract's rules, once,
for every transport. An adapter (local directory, SFTP, FTP) implements only the few transport
primitives at the bottom of the class (list names, stat, read, publish a pair atomically, move
one file without overwriting, put a small text file); see :mod:`integration.as400.exchange.local`.
The contract test suite (``tests/integration/exchange/``) runs against every adapter.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Self

from django.utils import timezone

from integration.as400.codec import RecordCodec, RecordError
from integration.as400.control import HASH_FIELDS, Columns, ControlError, ControlRecord, check_pair_decoded
from integration.as400.files import PairName, pair_name

__all__ = [
    "IN_FILES",
    "OUT_FILES",
    "ExchangeError",
    "ExchangeFile",
    "ExchangeFolder",
    "ExchangeUnavailable",
    "ExchangeUnreachable",
    "FileInfo",
    "FolderListing",
    "Location",
    "LoosePart",
    "MoveFailed",
    "PairExists",
    "PairNotFound",
    "PairRefused",
    "RefusalKind",
    "SentState",
    "TransferRefused",
    "VerifiedPair",
]

#: The folders that must be there before anything is read or written. They are the share's
#: configuration (the AS400's IFS, a mount): never created by the platform, since a missing one
#: means the share is not mounted, or mounted elsewhere, and a new empty tree would hide it.
#: ``OUT/ARCHIVE/`` and ``OUT/QUARANTINE/`` are ours, inside ``OUT/``: made on their first use.
REQUIRED_FOLDERS = ("IN", "IN/DONE", "IN/ERR", "OUT")

#: The files each side writes, from the contract's table.
OUT_FILES = frozenset({"ITMMST", "STKBAL", "ORDACK", "ORDSTS", "STRRTN", "WEBORD"})
IN_FILES = frozenset({"ORDIMP", "ORDANN", "RTNIMP"})

REASON_SUFFIX = ".REASON.txt"
#: A temporary name of our writers (integration.as400.files): ``.ORDIMP_000012.DAT.4242-9f3a0c1e.tmp``.
OUR_TEMPORARY = re.compile(r"\.(?P<file>[A-Z]{6})_\d{6}\.(DAT|OK)\.\d+-[0-9a-f]{8}\.tmp")


class Location(StrEnum):
    """The six folders of the exchange, as paths relative to its root."""

    IN = "IN"
    IN_DONE = "IN/DONE"
    IN_ERR = "IN/ERR"
    OUT = "OUT"
    OUT_ARCHIVE = "OUT/ARCHIVE"
    OUT_QUARANTINE = "OUT/QUARANTINE"

    @property
    def direction(self) -> str:
        """``IN`` (we write) or ``OUT`` (the AS400 writes)."""
        return self.value.split("/")[0]

    @property
    def expected_files(self) -> frozenset[str]:
        return IN_FILES if self.direction == "IN" else OUT_FILES

    @property
    def related(self) -> tuple[Location, ...]:
        """Where the other half of a pair found here may have gone (or come from) in a move."""
        return _RELATED[self]


_RELATED: dict[Location, tuple[Location, ...]] = {
    Location.IN: (Location.IN_DONE, Location.IN_ERR),
    Location.IN_DONE: (Location.IN,),
    Location.IN_ERR: (Location.IN,),
    Location.OUT: (Location.OUT_ARCHIVE, Location.OUT_QUARANTINE),
    Location.OUT_ARCHIVE: (Location.OUT,),
    Location.OUT_QUARANTINE: (Location.OUT,),
}


# --- Errors -----------------------------------------------------------------------------------


class ExchangeError(Exception):
    """Something about the exchange folders that the caller must know; the message says what."""


class ExchangeUnavailable(ExchangeError):
    """A folder of the exchange is missing: nothing may be read or written until it is back."""


class ExchangeUnreachable(ExchangeUnavailable, ConnectionError):
    """The file server holding the folders cannot be reached now (refused, dropped, timed out).

    A failed run to try again: an ``OSError`` for the callers that treat a failed write as one,
    an :class:`ExchangeUnavailable` for those that hold everything while the share is away.
    """


class TransferRefused(ExchangeError, OSError):
    """The file server answered an operation with a refusal (disk full, permission denied, a
    rename it would not do, a transfer cut short); the connection itself is still good."""


class PairNotFound(ExchangeError):
    """The pair, or the part of it that the operation needs, is not where it was looked for."""


class PairExists(ExchangeError, FileExistsError):
    """Writing or moving would replace a file: a sequence is used once and nothing is overwritten."""


class MoveFailed(ExchangeError):
    """A move of a pair did not complete; the message says where each part is now."""


class RefusalKind(StrEnum):
    """Why a pair is refused, for the admin and alerts; :attr:`PairRefused.reason` says exactly."""

    CONTROL = "control"  # the .OK does not decode as a control record
    NAME = "name"  # CTFILE/CTSEQ do not match the file name
    UNKNOWN_FILE = "unknown_file"  # not a file the contract puts in this direction
    SIZE = "size"  # the .DAT is not a whole number of records
    CONTENT = "content"  # record count, CTHASH, or a field that does not decode


class PairRefused(ExchangeError):
    """A pair that must not be applied, not even in part.

    ``reason`` names what is wrong (the part, the record, the field, the two values that differ);
    ``problems`` lists every problem found when there are several (a count and a hash).
    """

    def __init__(
        self, name: PairName, kind: RefusalKind, reason: str, *, problems: tuple[str, ...] = ()
    ) -> None:
        self.name, self.kind, self.reason = name, kind, reason
        self.problems = problems or (reason,)
        super().__init__(f"{name.stem} refused ({kind.value}): {reason}")

    def __reduce__(self) -> tuple[object, ...]:  # so that a task queue can pickle it
        return (self.__class__, (self.name, self.kind, self.reason), {"problems": self.problems})


# --- Results ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileInfo:
    """What an adapter knows of one file without opening it."""

    size: int
    modified_at: datetime


@dataclass(frozen=True, slots=True)
class LoosePart:
    """Half of a pair whose other half is not beside it.

    A ``.DAT`` alone is normal while its writer is at work; one that stays (see ``modified_at``)
    is stuck. A ``.OK`` alone is never normal: no writer that follows the contract leaves one.
    ``elsewhere`` is the folder where the other half is, when a move was interrupted (ours
    between ``OUT/`` and ``ARCHIVE``/``QUARANTINE``, or the AS400's between ``IN/`` and
    ``DONE``/``ERR``).
    """

    name: PairName
    part: str  # "DAT" or "OK"
    size: int
    modified_at: datetime
    elsewhere: Location | None = None

    @property
    def filename(self) -> str:
        return name_of(self.name, self.part)


@dataclass(frozen=True, slots=True)
class FolderListing:
    """One folder at one moment, as the contract sees it. Every tuple is sorted by (file, seq).

    - ``ready``: both parts are there; only these may be read.
    - ``not_ready``: a ``.DAT`` without its ``.OK`` (being written, or stuck); never opened.
    - ``orphans``: a ``.OK`` without its ``.DAT``: an anomaly to show an operator.
    - ``ignored``: names that do not follow ``<FILE>_<SEQ>.DAT|OK`` (including writers' temporary
      files); never read, listed so that nothing lies in the folder unseen. Not filtered by file.
    """

    location: Location
    ready: tuple[PairName, ...] = ()
    not_ready: tuple[LoosePart, ...] = ()
    orphans: tuple[LoosePart, ...] = ()
    ignored: tuple[str, ...] = ()

    @property
    def half_moved(self) -> tuple[LoosePart, ...]:
        """Loose parts whose other half is in a related folder: a move that did not finish."""
        return tuple(p for p in (*self.not_ready, *self.orphans) if p.elsewhere is not None)

    def names(self) -> set[PairName]:
        """Every pair name present here in any form (ready, or one half of it)."""
        return {*self.ready, *(p.name for p in self.not_ready), *(p.name for p in self.orphans)}

    def anomalies(self) -> list[str]:
        """One line per thing an operator should look at (a lone ``.DAT`` is only reported
        when its other half is elsewhere, since it is normal while being written)."""
        lines = []
        for p in self.orphans:
            where = f"; its .DAT is in {p.elsewhere.value}/" if p.elsewhere else ""
            lines.append(f"{self.location.value}/{p.filename}: .OK without its .DAT{where}")
        for p in self.not_ready:
            if p.elsewhere:
                lines.append(
                    f"{self.location.value}/{p.filename}: .DAT without its .OK, which is in "
                    f"{p.elsewhere.value}/ (an interrupted move)"
                )
        lines.extend(f"{self.location.value}/{n}: not an exchange file name, ignored" for n in self.ignored)
        return lines


@dataclass(frozen=True, slots=True)
class VerifiedPair:
    """A pair that passed every check of the contract, with its data.

    Callers record ``name`` and ``sha256`` (of the ``.DAT``) when they apply it, so that a pair is
    applied at most once even if it is listed again before it is archived.
    """

    name: PairName
    location: Location
    control: ControlRecord
    data: bytes = field(repr=False)
    sha256: str
    #: The records as the verification decoded them (one list per field), so that the pair is
    #: decoded once; None for a multi-format file (or a pair built without them): decode ``data``.
    columns: Columns | None = field(default=None, repr=False, compare=False)

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True)
class ExchangeFile:
    """A pair as it is, verified or not: for reading back ``IN/ERR/`` or looking into quarantine.

    ``refusal`` is None when the pair passes the checks (then the AS400 refused it for
    something else); ``control`` is None when the ``.OK`` does not decode.
    """

    name: PairName
    location: Location
    data: bytes = field(repr=False)
    ok: bytes = field(repr=False)
    control: ControlRecord | None
    sha256: str
    refusal: PairRefused | None

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True)
class SentState:
    """Where the pairs we wrote are, for the dispatcher.

    - ``pending``: ``IN/``; ``pending.ready`` waits for the AS400, ``pending.not_ready`` is a
      write of ours that did not finish.
    - ``done``: ``IN/DONE/``, read by the AS400.
    - ``refused``: ``IN/ERR/``, refused whole by the AS400 (which alerts nobody).
    - ``highest_seq``: the highest sequence seen per file name in any of the three, in any form.
      A hint: the real counter lives in the database.
    """

    pending: FolderListing
    done: FolderListing
    refused: FolderListing
    highest_seq: Mapping[str, int]
    # Pair → folder, built once: the follow-up asks for every message it sent, and IN/DONE/ grows.
    _index: dict[PairName, Location] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[PairName, Location] = {}
        for listing in (self.refused, self.done, self.pending):  # the first folder wins, as it did
            index.update(dict.fromkeys(listing.ready, listing.location))
        object.__setattr__(self, "_index", index)

    def where(self, name: PairName) -> Location | None:
        """The folder that holds the pair ready (both parts); None when it is nowhere whole."""
        return self._index.get(name)

    def next_seq(self, file: str) -> int:
        return self.highest_seq.get(file, 0) + 1


def name_of(name: PairName, part: str) -> str:
    return name.dat if part == "DAT" else name.ok


# --- The port ---------------------------------------------------------------------------------


class ExchangeFolder(ABC):
    """The AS400's ``IN/`` and ``OUT/`` folders. Choose one with :func:`get_exchange_folder`.

    Reading (``OUT/``, the AS400's exports):

    - :meth:`list_pairs` / :meth:`ready_pairs`: pairs whose ``.OK`` exists, in (file, sequence)
      order; lone halves and foreign names are reported, never read.
    - :meth:`read_pair`: the data of a ready pair, verified against its ``.OK``; raises
      :class:`PairRefused` (with ``reason``) if it must not be applied. Reading moves nothing.
    - :meth:`archive` after applying, :meth:`quarantine` after refusing. Both keep both parts,
      never overwrite, and can be called again to finish a move that was interrupted.

    Writing (``IN/``, our imports):

    - :meth:`write_pair`: the ``.DAT`` then the ``.OK``, atomically; refuses a sequence already
      used in ``IN/``, ``IN/DONE/`` or ``IN/ERR/``, and a pair the AS400 would refuse.
    - :meth:`sent_state`: what the AS400 did with what we wrote; :meth:`read_refused` to read a
      pair back from ``IN/ERR/``.

    Order of the moves. A pair leaves ``OUT/`` ``.OK`` first, then ``.DAT``: the mirror of the
    write, where the ``.OK`` comes last. The ``.OK`` is the only thing that makes a pair ready, so
    taking it away first withdraws the pair at once; at every instant a reader of ``OUT/`` sees
    the whole pair, or a ``.DAT`` alone (not ready, never opened), and never a ready ``.OK`` whose
    ``.DAT`` has gone. Nobody reads ``ARCHIVE/`` or ``QUARANTINE/`` as an inbox, so the ``.OK``
    arriving there first is harmless. If the ``.DAT`` cannot be moved, the ``.OK`` is put back
    (nothing moved); if even that fails, :class:`MoveFailed` says where each part is, the listing
    shows the ``.DAT`` as not ready with its ``.OK`` ``elsewhere``, and calling the same
    operation again completes it.

    Adapters subclass this and implement the primitives at the end (names beginning with ``_``);
    :meth:`from_settings` builds one from the settings.
    """

    def __init__(self, ccsid: int) -> None:
        self.ccsid = ccsid

    def close(self) -> None:  # noqa: B027 - not abstract: most adapters hold nothing open
        """End what the adapter holds open (a remote connection); nothing for a local folder.
        The folder may be used again afterwards."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @classmethod
    @abstractmethod
    def from_settings(cls, root: Path | str | None = None) -> Self:
        """An instance rooted at ``root`` or ``settings.AS400_EXCHANGE_DIR``, in ``AS400_CCSID``.

        What :func:`get_exchange_folder` calls: an adapter reads here whatever other settings it
        needs (an SFTP host and key), so that callers never change when the backend does.
        """

    # -- the folders and the clock --

    def as400_clock(self, now: datetime) -> datetime:
        """The AS400's time when ours is ``now``: what the control records' CTCDAT/CTCTIM are judged by.

        Ours, for a real AS400 (both machines keep their clocks right); an adapter over a simulated
        AS400 whose clock runs faster (the simulator's) says its own.
        """
        return now

    def check_folders(self) -> None:
        """Raise :class:`ExchangeUnavailable`, naming them, if folders of :data:`REQUIRED_FOLDERS` are missing.

        What every run (sync, dispatch, health) does first: the folders are configuration, checked,
        never created. An adapter that cannot tell raises OSError, which callers treat alike.
        """
        missing = [name for name in REQUIRED_FOLDERS if not self._folder_exists(Location(name))]
        if missing:
            raise ExchangeUnavailable(
                f"the exchange folder {self} lacks {', '.join(f'{m}/' for m in missing)}: the share is not "
                "mounted or not where AS400_EXCHANGE_DIR says; nothing is read or written until it is back "
                "(the folders are never created by the platform)"
            )

    # -- listing --

    def list_pairs(
        self, location: Location | str = Location.OUT, *, file: str | None = None
    ) -> FolderListing:
        """One folder's pairs, lone halves and foreign names; ``file`` keeps one file name.

        Opens no file: names, and the size and time of lone halves only.
        """
        location = Location(location)
        pairs: dict[PairName, set[str]] = {}
        ignored: list[str] = []
        for filename in self._names(location):
            parsed = PairName.parse(filename)
            if parsed is None:
                if not _is_reason_file(location, filename):
                    ignored.append(filename)
                continue
            name, part = parsed
            if file is None or name.file == file:
                pairs.setdefault(name, set()).add(part)
        ready: list[PairName] = []
        loose: dict[str, list[LoosePart]] = {"DAT": [], "OK": []}
        for name in sorted(pairs):
            parts = pairs[name]
            if parts == {"DAT", "OK"}:
                ready.append(name)
                continue
            (part,) = parts
            info = self._stat(location, name_of(name, part))
            if info is None:  # gone since it was listed: it moved on, nothing to report
                continue
            other = "OK" if part == "DAT" else "DAT"
            elsewhere = next(
                (rel for rel in location.related if self._stat(rel, name_of(name, other)) is not None), None
            )
            loose[part].append(LoosePart(name, part, info.size, info.modified_at, elsewhere))
        return FolderListing(
            location=location,
            ready=tuple(ready),
            not_ready=tuple(loose["DAT"]),
            orphans=tuple(loose["OK"]),
            ignored=tuple(sorted(ignored)),
        )

    def ready_pairs(
        self, location: Location | str = Location.OUT, *, file: str | None = None
    ) -> list[PairName]:
        """The pairs whose ``.OK`` is there, sorted by (file name, sequence)."""
        return list(self.list_pairs(location, file=file).ready)

    # -- reading --

    def read_pair(self, name: PairName, *, location: Location | str = Location.OUT) -> VerifiedPair:
        """Read a ready pair and verify it; nothing is moved.

        Raises :class:`PairNotFound` if either part is missing (the caller retries later or
        reports it; it is not a verdict on the content), :class:`PairRefused` if the pair must
        not be applied.
        """
        location = Location(location)
        ok, data = self._read_parts(name, location)
        control, refusal, columns = self._verify_decoded(name, location, ok, data)
        if refusal is not None:
            raise refusal
        assert control is not None
        return VerifiedPair(name, location, control, data, hashlib.sha256(data).hexdigest(), columns)

    def inspect_pair(self, name: PairName, *, location: Location | str) -> ExchangeFile:
        """Read a pair as it is, with the verdict of the checks instead of an exception."""
        location = Location(location)
        ok, data = self._read_parts(name, location)
        control, refusal = self._verify(name, location, ok, data)
        return ExchangeFile(name, location, data, ok, control, hashlib.sha256(data).hexdigest(), refusal)

    def read_refused(self, name: PairName) -> ExchangeFile:
        """A pair of ours that the AS400 moved to ``IN/ERR/``, to find and resend its content."""
        return self.inspect_pair(name, location=Location.IN_ERR)

    def archived_sha256(self, name: PairName) -> str | None:
        """The SHA-256 of the ``.DAT`` of ``name`` in ``OUT/ARCHIVE/``, or None if none lies there."""
        if self._stat(Location.OUT_ARCHIVE, name.dat) is None:
            return None
        return hashlib.sha256(self._read(Location.OUT_ARCHIVE, name.dat)).hexdigest()

    def quarantine_reason(self, name: PairName) -> str | None:
        """The text left beside a quarantined pair, or None."""
        filename = f"{name.stem}{REASON_SUFFIX}"
        if self._stat(Location.OUT_QUARANTINE, filename) is None:
            return None
        return self._read(Location.OUT_QUARANTINE, filename).decode("utf-8")

    # -- moving what we read --

    def archive(self, name: PairName) -> None:
        """Move an applied pair from ``OUT/`` to ``OUT/ARCHIVE/``, ``.OK`` first.

        Idempotent: a pair already archived is left as it is; a move that was interrupted is
        completed. Raises :class:`PairNotFound` if the pair is not whole in ``OUT/``,
        :class:`PairExists` if ``ARCHIVE/`` already holds that name, :class:`MoveFailed`.
        """
        self._move_out_of_out(name, Location.OUT_ARCHIVE, reason=None, at=None)

    def quarantine(self, name: PairName, reason: str, *, at: datetime | None = None) -> None:
        """Move a refused pair from ``OUT/`` to ``OUT/QUARANTINE/`` with ``<stem>.REASON.txt``.

        The reason file (the reason and the time, appended to any earlier one) is written before
        anything moves, so a quarantined part never lies there unexplained. An ``.OK`` without
        its ``.DAT`` may be quarantined alone; a ``.DAT`` without its ``.OK`` may not, since its
        writer may still be at work. Otherwise as :meth:`archive`.
        """
        self._move_out_of_out(name, Location.OUT_QUARANTINE, reason=reason, at=at)

    def finish_interrupted_move(self, name: PairName) -> Location | None:
        """Finish a move out of ``OUT/`` that stopped after its ``.OK`` (a crash, a lost share).

        The ``.DAT`` left alone in ``OUT/`` joins its ``.OK`` in ``ARCHIVE/`` or ``QUARANTINE/``,
        but only when it is the ``.DAT`` that ``.OK`` describes: into ``ARCHIVE/`` if the two
        verify together, into ``QUARANTINE/`` if the reason file says this ``.DAT`` was being
        quarantined with it. Anything else (the AS400 writing a new ``.DAT`` under a reused name,
        say) is left where it is. Returns where the ``.DAT`` went, or None if nothing moved.
        """
        source = Location.OUT
        if self._stat(source, name.ok) is not None or self._stat(source, name.dat) is None:
            return None
        for target in (Location.OUT_ARCHIVE, Location.OUT_QUARANTINE):
            if self._stat(target, name.ok) is None or self._stat(target, name.dat) is not None:
                continue
            if target is Location.OUT_ARCHIVE:
                ok, data = self._read(target, name.ok), self._read(source, name.dat)
                if self._verify(name, source, ok, data)[1] is not None:
                    return None
            else:
                reason = self.quarantine_reason(name) or ""
                last = reason.rsplit(f"{name.stem} quarantined at ", 1)[-1]
                if f"\nparts: {name.dat}" not in last:
                    return None
            self._move(source, target, name.dat)
            return target
        return None

    # -- writing --

    def write_pair(self, control: ControlRecord, data: bytes) -> PairName:
        """Write ``data`` and its control record into ``IN/`` atomically, the ``.OK`` last.

        Refuses (:class:`PairExists`) a sequence already in ``IN/``, ``IN/DONE/`` or ``IN/ERR/``,
        and (:class:`PairRefused`) a pair that would not pass the AS400's own check: writing it
        would only get it moved to ``IN/ERR/`` with nobody told.
        """
        name = pair_name(control.file, control.seq)
        ok = control.encode(self.ccsid)
        _, refusal = self._verify(name, Location.IN, ok, data)
        if refusal is not None:
            raise refusal
        used = self.where_used(name)
        if used is not None:
            raise PairExists(f"{name.stem} is already used: {used} exists")
        self._publish_pair(Location.IN, name, data, ok)
        return name

    def where_used(self, name: PairName) -> str | None:
        """Where a part of ``name`` lies in ``IN/``, ``IN/DONE/`` or ``IN/ERR/`` (``IN/ERR/X.DAT``), or None.

        A name found nowhere there was never seen by the AS400: its number may be given again.
        """
        for location in (Location.IN, Location.IN_DONE, Location.IN_ERR):
            for filename in (name.dat, name.ok):
                if self._stat(location, filename) is not None:
                    return f"{location.value}/{filename}"
        return None

    def published_where(self, name: PairName) -> Location | None:
        """Where the ``.OK`` of ``name`` lies (``IN/``, ``IN/DONE/`` or ``IN/ERR/``): the AS400 reads, or read,
        a pair once its ``.OK`` is there; a lone ``.DAT`` it never reads. None if nowhere."""
        for location in (Location.IN, Location.IN_DONE, Location.IN_ERR):
            if self._stat(location, name.ok) is not None:
                return location
        return None

    def write_or_resume_pair(self, control: ControlRecord, data: bytes) -> PairName:
        """Write this exact pair into ``IN/``, or finish it where a writer that died left it.

        For a pair the caller recorded before writing: if its ``.DAT`` is already there (in
        ``IN/``, ``DONE/`` or ``ERR/``) with these very bytes, the pair is ours — only a missing
        ``.OK`` is published (a writer killed between the two). Different bytes under the name:
        :class:`PairExists`. Nothing there: an ordinary :meth:`write_pair`.
        """
        name = pair_name(control.file, control.seq)
        for location in (Location.IN, Location.IN_DONE, Location.IN_ERR):
            if self._stat(location, name.dat) is None:
                continue
            if self._read(location, name.dat) != data:
                raise PairExists(f"{name.stem} is already used by other data: {location.value}/{name.dat}")
            if location is Location.IN and self._stat(location, name.ok) is None:
                self._publish_one(Location.IN, name.ok, control.encode(self.ccsid))
            return name
        return self.write_pair(control, data)

    def remove_stale_temporaries(self, *, older_than: timedelta, now: datetime | None = None) -> list[str]:
        """Delete our own temporary files in ``IN/`` that a writer killed mid-write left behind.

        Only names our writers give (``.<FILE>_<SEQ>.DAT|OK.<pid>-<hex>.tmp`` of an import file)
        and only older than ``older_than``, so a write in progress is never touched. The AS400
        never reads them (their names are not pairs), but they would pile up on its share
        forever. Returns the names removed.
        """
        now = now or timezone.now()
        removed = []
        for filename in self._names(Location.IN):
            match = OUR_TEMPORARY.fullmatch(filename)
            if match is None or match["file"] not in IN_FILES:
                continue
            info = self._stat(Location.IN, filename)
            if info is None or now - info.modified_at < older_than:
                continue
            try:
                self._delete(Location.IN, filename)
            except FileNotFoundError:  # another dispatcher removed it first
                continue
            removed.append(filename)
        return removed

    def sent_state(self, *, file: str | None = None) -> SentState:
        """Which of our pairs wait in ``IN/``, were read (``DONE``) or refused (``ERR``)."""
        pending = self.list_pairs(Location.IN, file=file)
        done = self.list_pairs(Location.IN_DONE, file=file)
        refused = self.list_pairs(Location.IN_ERR, file=file)
        highest: dict[str, int] = {}
        for listing in (pending, done, refused):
            for name in listing.names():
                highest[name.file] = max(highest.get(name.file, 0), name.seq)
        return SentState(pending=pending, done=done, refused=refused, highest_seq=highest)

    # -- the rules, shared by every adapter --

    def _read_parts(self, name: PairName, location: Location) -> tuple[bytes, bytes]:
        where = location.value
        try:
            ok = self._read(location, name.ok)
        except FileNotFoundError:
            raise PairNotFound(f"{where}/{name.ok} is not there: the pair is not ready") from None
        try:
            data = self._read(location, name.dat)
        except FileNotFoundError:
            raise PairNotFound(f"{where}/{name.ok} is there but {name.dat} is not") from None
        return ok, data

    def _verify(
        self, name: PairName, location: Location, ok: bytes, data: bytes
    ) -> tuple[ControlRecord | None, PairRefused | None]:
        """The decoded control record and, if the pair must not be applied, why."""
        control, refusal, _ = self._verify_decoded(name, location, ok, data)
        return control, refusal

    def _verify_decoded(
        self, name: PairName, location: Location, ok: bytes, data: bytes
    ) -> tuple[ControlRecord | None, PairRefused | None, Columns | None]:
        """:meth:`_verify`, and the records it decoded to check them (see ``VerifiedPair.columns``)."""
        try:
            control = ControlRecord.decode(ok, self.ccsid, source=name.ok)
        except ControlError as exc:
            return None, PairRefused(name, RefusalKind.CONTROL, f"the .OK does not decode: {exc}"), None
        if (control.file, control.seq) != (name.file, name.seq):
            return control, PairRefused(
                name,
                RefusalKind.NAME,
                f"{name.ok} holds CTFILE {control.file!r} and CTSEQ {control.seq:06d}, "
                f"the file name says {name.file!r} and {name.seq:06d}",
            ), None
        expected = location.expected_files
        if name.file not in expected or name.file not in HASH_FIELDS:
            return control, PairRefused(
                name,
                RefusalKind.UNKNOWN_FILE,
                f"{name.file} is not a file of {location.direction}/ "
                f"(the contract puts there {', '.join(sorted(expected))})",
            ), None
        # A missing DDS source is a deployment fault, not a fault of the pair: it raises as is.
        codec = RecordCodec.for_file(name.file, self.ccsid)
        try:
            codec.check_length(data, source=name.dat)
        except RecordError as exc:
            return control, PairRefused(name, RefusalKind.SIZE, str(exc)), None
        problems, columns = check_pair_decoded(name.file, data, control, ccsid=self.ccsid)
        if problems:
            return control, PairRefused(
                name, RefusalKind.CONTENT, "; ".join(problems), problems=tuple(problems)
            ), None
        return control, None, columns

    def _move_out_of_out(
        self, name: PairName, target: Location, *, reason: str | None, at: datetime | None
    ) -> None:
        source = Location.OUT
        here = {part: self._stat(source, name_of(name, part)) is not None for part in ("OK", "DAT")}
        there = {part: self._stat(target, name_of(name, part)) is not None for part in ("OK", "DAT")}
        what = "archive" if target is Location.OUT_ARCHIVE else "quarantine"

        if not here["OK"] and not here["DAT"]:
            if there["OK"] and there["DAT"]:
                return  # done already
            raise PairNotFound(f"cannot {what} {name.stem}: neither part is in {source.value}/")
        clash = [name_of(name, part) for part in ("OK", "DAT") if here[part] and there[part]]
        if clash:
            raise PairExists(
                f"cannot {what} {name.stem}: {target.value}/ already holds {', '.join(clash)}; nothing moved"
            )
        if here["DAT"] and not here["OK"] and not there["OK"]:
            other = next((rel for rel in source.related if self._stat(rel, name.ok) is not None), None)
            if other is not None:
                raise MoveFailed(
                    f"cannot {what} {name.stem}: its .OK is in {other.value}/ (an interrupted move "
                    f"there); finish that one"
                )
            raise PairNotFound(
                f"cannot {what} {name.stem}: {source.value}/{name.dat} has no .OK; its writer may be at work"
            )
        if target is Location.OUT_ARCHIVE and here["OK"] and not here["DAT"]:
            raise PairNotFound(f"cannot archive {name.stem}: {source.value}/{name.dat} is not there")

        if reason is not None:
            self._write_reason(name, reason, at=at, parts=[p for p in ("DAT", "OK") if here[p]])
        if here["OK"]:
            self._move(source, target, name.ok)
        if not here["DAT"]:
            return
        try:
            self._move(source, target, name.dat)
        except OSError as exc:
            if not here["OK"]:  # resuming: the .OK was already there, leave it
                raise MoveFailed(
                    f"{name.stem}: could not move {name.dat} to {target.value}/ ({exc}); its .OK is in "
                    f"{target.value}/ already; {what} it again to finish"
                ) from exc
            try:
                self._move(target, source, name.ok)
            except OSError as back:
                raise MoveFailed(
                    f"{name.stem}: could not move {name.dat} to {target.value}/ ({exc}), nor put "
                    f"{name.ok} back ({back}): the .OK is in {target.value}/, the .DAT in "
                    f"{source.value}/; {what} it again to finish"
                ) from exc
            raise MoveFailed(
                f"{name.stem}: could not move {name.dat} to {target.value}/ ({exc}); nothing moved"
            ) from exc

    def _write_reason(self, name: PairName, reason: str, *, at: datetime | None, parts: list[str]) -> None:
        moment = timezone.localtime(at or timezone.now())
        filename = f"{name.stem}{REASON_SUFFIX}"
        earlier = ""
        if self._stat(Location.OUT_QUARANTINE, filename) is not None:
            earlier = self._read(Location.OUT_QUARANTINE, filename).decode("utf-8") + "\n"
        text = (
            f"{earlier}{name.stem} quarantined at {moment.isoformat(timespec='seconds')}\n"
            f"parts: {', '.join(name_of(name, p) for p in parts)}\n"
            f"reason: {reason}\n"
        )
        self._put_text(Location.OUT_QUARANTINE, filename, text)

    # -- transport primitives: what an adapter implements --

    @abstractmethod
    def _folder_exists(self, location: Location) -> bool:
        """Whether ``location`` is there as a folder. Never creates it."""

    @abstractmethod
    def _names(self, location: Location) -> list[str]:
        """The names of the regular files directly in ``location`` (no folders), in any order."""

    @abstractmethod
    def _stat(self, location: Location, filename: str) -> FileInfo | None:
        """Size and modification time of a file, None if it does not exist. Never opens it."""

    @abstractmethod
    def _read(self, location: Location, filename: str) -> bytes:
        """The whole content of a file; FileNotFoundError if it does not exist."""

    @abstractmethod
    def _publish_one(self, location: Location, filename: str, data: bytes) -> None:
        """Write one file atomically (temporary name, then its name), never replacing one."""

    @abstractmethod
    def _publish_pair(self, location: Location, name: PairName, dat: bytes, ok: bytes) -> None:
        """Write both parts under temporary names, then rename them into place, the ``.OK`` last.

        A reader must never see the ``.OK`` before the ``.DAT`` is complete under its name.
        Raises :class:`PairExists` if either name exists.
        """

    @abstractmethod
    def _move(self, source: Location, target: Location, filename: str) -> None:
        """Move one file by an atomic rename; FileExistsError (or :class:`PairExists`) rather than
        replace a file in ``target``, FileNotFoundError if it is not in ``source``."""

    @abstractmethod
    def _put_text(self, location: Location, filename: str, text: str) -> None:
        """Create or replace a small UTF-8 text file atomically (the quarantine's reason file)."""

    @abstractmethod
    def _delete(self, location: Location, filename: str) -> None:
        """Delete one file; FileNotFoundError if it is not there. Used only for our own temporaries."""


def _is_reason_file(location: Location, filename: str) -> bool:
    if location is not Location.OUT_QUARANTINE or not filename.endswith(REASON_SUFFIX):
        return False
    return PairName.parse(filename.removesuffix(REASON_SUFFIX) + ".OK") is not None
