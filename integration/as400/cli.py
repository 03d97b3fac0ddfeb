"""Operations on exchange files, for the ``as400`` management command: decode, verify, encode.

The command (``integration/management/commands/as400.py``) only parses arguments and prints;
what a subcommand does lives here, so that it can be tested and reused without a command line.
Every problem an operator must hear about is raised as :class:`OperationError`, whose message
says what is wrong and where (file, line or record, field, bytes); the command turns it into a
``CommandError``: a message on stderr and a non-zero exit, never a traceback.

Files are read in chunks of :data:`CHUNK_RECORDS` records, so that a 56 MB STKBAL extract is
never held decoded in memory at once: decoding prints as it goes, verifying keeps only totals.

Values are shown raw, as the AS400 stores them: text stripped of its trailing blanks, numbers
without decimals as integers, numbers with decimals as exact decimal strings (``"19.99"``), and
dates and times as the CYYMMDD and HHMMSS integers, not converted.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from django.utils import timezone

from integration.as400.codec import EncodeError, RecordCodec, RecordError, Value
from integration.as400.control import (
    CONTROL_LAYOUT,
    HASH_FIELDS,
    ControlError,
    ControlRecord,
    control_for,
)
from integration.as400.dds import DDSError, FileLayout, load_layout
from integration.as400.files import MAX_SEQ, PairName, write_pair

__all__ = [
    "CHUNK_RECORDS",
    "OUTPUT_FORMATS",
    "EncodeResult",
    "OperationError",
    "VerifyReport",
    "csv_columns",
    "decode_file",
    "encode_jsonl",
    "iter_chunks",
    "iter_plain_records",
    "layout_name_for",
    "open_codec",
    "read_jsonl_source",
    "verify_pair",
]

#: Records read and decoded at a time (36 bytes each for STKBAL: 2.4 MB a chunk).
CHUNK_RECORDS = 65_536
#: Lines handed to the writer at a time by :func:`decode_file`.
WRITE_BATCH = 4_096
#: How many undecodable records :func:`verify_pair` lists one by one before it only counts them.
MAX_LISTED_RECORDS = 20
OUTPUT_FORMATS = ("jsonl", "csv")

PlainValue = str | int


class OperationError(Exception):
    """A problem to report to the operator; the message is complete and needs no traceback."""


# --- Layouts, codecs and reading ---------------------------------------------------------------


def layout_name_for(path: Path, layout: str | None) -> str:
    """The layout to read ``path`` with: ``layout`` when given, else from the exchange name.

    ``STKBAL_000001.DAT`` is read as STKBAL and ``STKBAL_000001.OK`` as the control record
    (CTLREC). Any other name needs ``--layout``.
    """
    if layout:
        return layout.upper()
    parsed = PairName.parse(path.name)
    if parsed is None:
        raise OperationError(
            f"{path}: cannot tell the layout from the name (expected <FILE>_<SEQ>.DAT or .OK, "
            "such as STKBAL_000001.DAT); give --layout"
        )
    pair, ext = parsed
    return CONTROL_LAYOUT if ext == "OK" else pair.file


def open_codec(layout_name: str, ccsid: int | None) -> RecordCodec:
    """The codec of a layout; an unknown layout or CCSID is an :class:`OperationError`."""
    try:
        layout: FileLayout = load_layout(layout_name)
    except DDSError as exc:
        raise OperationError(str(exc)) from exc
    try:
        return RecordCodec(layout, ccsid)
    except ValueError as exc:  # an unsupported CCSID
        raise OperationError(str(exc)) from exc


def _open_for_reading(path: Path) -> io.BufferedReader:
    if not path.exists():
        raise OperationError(f"{path}: no such file")
    if not path.is_file():
        raise OperationError(f"{path}: not a regular file")
    try:
        return open(path, "rb")
    except OSError as exc:
        raise OperationError(f"{path}: cannot be read: {exc.strerror or exc}") from exc


def _shifted(exc: RecordError, first: int) -> RecordError:
    """``exc`` raised on a chunk, renumbered as in the whole file (``first`` records before it)."""
    record = None if exc.record is None else exc.record + first
    return RecordError(exc.reason, source=exc.source, record=record, field=exc.field, raw=exc.raw)


def _size_problem(codec: RecordCodec, size: int, source: str) -> str | None:
    """What is wrong with a file of ``size`` bytes, or None when it is a whole number of records."""
    count, rest = divmod(size, codec.record_length)
    if not rest:
        return None
    return (
        f"{source}: {size} bytes is not a whole number of {codec.record_length}-byte "
        f"{codec.layout.name} records ({count} records and {rest} bytes left over)"
    )


def iter_chunks(
    fh: io.BufferedReader, record_length: int, chunk_records: int | None = None
) -> Iterator[tuple[int, bytes]]:
    """(records before the chunk, the chunk's bytes) for whole records, until the end of ``fh``.

    Chunks are ``chunk_records`` records long (default :data:`CHUNK_RECORDS`). A short last read
    (a truncated file) yields what whole records it holds and leaves the rest.
    """
    first = 0
    size = record_length * (chunk_records or CHUNK_RECORDS)
    while True:
        data = fh.read(size)
        whole = len(data) - len(data) % record_length
        if whole:
            yield first, data[:whole]
            first += whole // record_length
        if len(data) < size:
            return


def _plain(value: Value) -> PlainValue:
    """A decoded value as shown to operators: decimals as exact strings, the rest as they are."""
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def iter_plain_records(codec: RecordCodec, path: Path) -> Iterator[dict[str, PlainValue]]:
    """Every record of the file at ``path``, in order, as a dict keyed by the DDS field names.

    The size is checked before the first record, so a truncated file yields nothing. A record
    that does not decode stops the iteration with :class:`OperationError` naming the record,
    the field and the bytes; the records before it have been yielded.
    """
    source = path.name
    with _open_for_reading(path) as fh:
        problem = _size_problem(codec, os.fstat(fh.fileno()).st_size, source)
        if problem:
            raise OperationError(problem)
        try:
            if codec.layout.is_multi_format:
                yield from _iter_multi_format(codec, fh, source)
            else:
                yield from _iter_single_format(codec, fh, source)
        except RecordError as exc:
            raise OperationError(str(exc)) from exc


def _iter_single_format(
    codec: RecordCodec, fh: io.BufferedReader, source: str
) -> Iterator[dict[str, PlainValue]]:
    fields = codec.layout.fields
    names = [f.name for f in fields]
    decimal_fields = [f for f in fields if f.decimals]
    n = codec.record_length
    for first, chunk in iter_chunks(fh, n):
        try:
            columns = codec.decode_columns(chunk, source=source)
        except RecordError as exc:
            # Record by record, to yield the good records before the first bad one and to name
            # that one (the column decoder names the first bad record of the first bad field).
            view = memoryview(chunk)
            for i in range(len(chunk) // n):
                values = codec.decode(bytes(view[i * n : (i + 1) * n]), recno=first + i + 1, source=source)
                yield {name: _plain(value) for name, value in values.items()}
            raise _shifted(exc, first) from None  # not reached: both decoders apply the same rules
        for f in decimal_fields:
            columns[f.name] = [format(v, "f") for v in columns[f.name]]  # type: ignore[arg-type]
        for row in zip(*(columns[name] for name in names), strict=True):
            yield dict(zip(names, row, strict=True))  # type: ignore[arg-type]


def _iter_multi_format(
    codec: RecordCodec, fh: io.BufferedReader, source: str
) -> Iterator[dict[str, PlainValue]]:
    n = codec.record_length
    for first, chunk in iter_chunks(fh, n):
        view = memoryview(chunk)
        for i in range(len(chunk) // n):
            values = codec.decode(bytes(view[i * n : (i + 1) * n]), recno=first + i + 1, source=source)
            yield {name: _plain(value) for name, value in values.items()}


def csv_columns(layout: FileLayout) -> list[str]:
    """The CSV header: every field of every format, in DDS order, each name once.

    For a file with several formats (ORDIMP: OHTYPE..OHNBL then OLTYPE..OLMAG), a record fills
    its own format's columns and leaves the others empty; its type field (OHTYPE or OLTYPE)
    says which format it is.
    """
    seen: dict[str, None] = {}
    for fmt in layout.formats:
        for f in fmt.fields:
            seen.setdefault(f.name, None)
    return list(seen)


def decode_file(
    path: Path,
    *,
    layout: str | None = None,
    ccsid: int | None = None,
    output: str = "jsonl",
    write: Callable[[str], object],
) -> int:
    """Decode the file at ``path`` and hand its text to ``write``, in batches; returns the count.

    ``jsonl``: one JSON object a line, keyed by the field names in DDS order. ``csv``: a header
    row (see :func:`csv_columns`), then one row a record. A record that does not decode stops
    the output there with :class:`OperationError`: what was written before it stays written.
    """
    if output not in OUTPUT_FORMATS:
        raise OperationError(f"unknown output format {output!r} (use one of {', '.join(OUTPUT_FORMATS)})")
    _open_for_reading(path).close()  # a missing file is said before a name that tells no layout
    codec = open_codec(layout_name_for(path, layout), ccsid)
    records = iter_plain_records(codec, path)
    count = 0
    if output == "jsonl":
        dumps = json.JSONEncoder(ensure_ascii=False).encode
        batch: list[str] = []
        try:
            for record in records:
                batch.append(dumps(record))
                count += 1
                if len(batch) == WRITE_BATCH:
                    write("\n".join(batch) + "\n")
                    batch = []
        finally:  # on a bad record too: the records before it are shown
            if batch:
                write("\n".join(batch) + "\n")
        return count
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=csv_columns(codec.layout), restval="", lineterminator="\n")
    writer.writeheader()
    try:
        for record in records:
            writer.writerow(record)
            count += 1
            if count % WRITE_BATCH == 0:
                write(buffer.getvalue())
                buffer.seek(0)
                buffer.truncate()
    finally:
        if buffer.tell():
            write(buffer.getvalue())
    return count


# --- Verify ------------------------------------------------------------------------------------


@dataclass
class VerifyReport:
    """What :func:`verify_pair` found. ``problems`` is empty when the pair matches."""

    dat: Path
    control: ControlRecord | None = None
    count: int = 0
    total: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """One line: ``OK: N records, CTHASH H, kind F, taken at <Paris time>``."""
        assert self.control is not None
        taken = self.control.created_at
        when = taken.isoformat(sep=" ") if taken else "no date"
        return (
            f"OK: {self.count} records, CTHASH {self.control.hash}, kind {self.control.kind}, taken at {when}"
        )


def _pair_paths(path: Path) -> tuple[Path, Path, PairName]:
    parsed = PairName.parse(path.name)
    if parsed is None:
        raise OperationError(
            f"{path}: not the name of an exchange file (<FILE>_<SEQ>.DAT, such as STKBAL_000001.DAT); "
            "verify needs it to find the .OK and the layout"
        )
    pair, _ext = parsed
    return path.with_name(pair.dat), path.with_name(pair.ok), pair


def _read_control(ok_path: Path, ccsid: int | None, problems: list[str]) -> ControlRecord | None:
    """The control record, or None with the reason in ``problems``.

    When the record is readable but refused (an unknown CTKIND, an impossible date), its other
    fields are still returned so that the count and the total can be compared as well.
    """
    if not ok_path.exists():
        problems.append(f"{ok_path.name} is missing: a .DAT is not read before its .OK is there")
        return None
    try:
        raw = ok_path.read_bytes()
    except OSError as exc:
        problems.append(f"{ok_path.name}: cannot be read: {exc.strerror or exc}")
        return None
    try:
        return ControlRecord.decode(raw, ccsid, source=ok_path.name)
    except ControlError as exc:
        problems.append(str(exc))
    codec = RecordCodec.for_file(CONTROL_LAYOUT, ccsid)
    if len(raw) != codec.record_length:
        return None
    try:
        values = codec.decode(raw, recno=1, source=ok_path.name)
    except RecordError:
        return None  # already reported by ControlRecord.decode
    return ControlRecord(
        file=str(values["CTFILE"]),
        seq=int(values["CTSEQ"]),
        kind=str(values["CTKIND"]),
        date=int(values["CTCDAT"]),
        time=int(values["CTCTIM"]),
        count=int(values["CTRCNT"]),
        hash=int(values["CTHASH"]),
    )


@dataclass
class _Scan:
    count: int = 0
    total: int = 0
    bad: list[str] = field(default_factory=list)
    bad_count: int = 0

    def refuse(self, exc: RecordError) -> None:
        self.bad_count += 1
        if len(self.bad) < MAX_LISTED_RECORDS:
            self.bad.append(str(exc))


def _scaled(value: Value, decimals: int) -> int:
    """A decoded number as an integer without its decimal point, as CTHASH sums it."""
    if isinstance(value, Decimal):
        return int(value.scaleb(decimals))
    return int(value) * 10**decimals


def _scan(codec: RecordCodec, fh: io.BufferedReader, source: str) -> _Scan:
    """Decode every whole record, keep the count and CTHASH's sum, and list the bad records."""
    scan = _Scan()
    spec = HASH_FIELDS.get(codec.layout.name)
    hash_field = spec[1] if spec else None
    decimals = codec.layout.format(spec[0]).field(spec[1]).decimals if spec else 0
    n = codec.record_length
    for first, chunk in iter_chunks(fh, n):
        count = len(chunk) // n
        scan.count += count
        if not codec.layout.is_multi_format:
            try:
                columns = codec.decode_columns(chunk, source=source)
            except RecordError:
                pass  # found again, with every other bad record of the chunk, one at a time below
            else:
                if hash_field:
                    scan.total += sum(_scaled(v, decimals) for v in columns[hash_field])
                continue
        view = memoryview(chunk)
        for i in range(count):
            record = bytes(view[i * n : (i + 1) * n])
            try:
                values = codec.decode(record, recno=first + i + 1, source=source)
            except RecordError as exc:
                scan.refuse(exc)
                continue
            if hash_field and hash_field in values:
                scan.total += _scaled(values[hash_field], decimals)
    return scan


def verify_pair(path: Path, *, ccsid: int | None = None) -> VerifyReport:
    """Check a ``.DAT`` against the ``.OK`` beside it, as a reader must before applying it.

    Checked: the name, the control record itself, CTFILE and CTSEQ against the name, the size
    (a whole number of records), CTRCNT, CTHASH, and that every field of every record decodes.
    Every problem found is listed, not only the first (bad records up to
    :data:`MAX_LISTED_RECORDS`, then counted). ``path`` may name the ``.DAT`` or the ``.OK``.
    A file that cannot be checked at all (no ``.DAT``, a name that is not an exchange name, no
    layout for the file) is an :class:`OperationError`.
    """
    dat_path, ok_path, pair = _pair_paths(path)
    codec = open_codec(pair.file, ccsid)
    report = VerifyReport(dat=dat_path)
    problems = report.problems
    with _open_for_reading(dat_path) as fh:
        control = report.control = _read_control(ok_path, ccsid, problems)
        if control is not None:
            if control.file != pair.file:
                problems.append(f"{ok_path.name}: CTFILE is {control.file!r}, the name says {pair.file!r}")
            if control.seq != pair.seq:
                problems.append(f"{ok_path.name}: CTSEQ is {control.seq}, the name says {pair.seq}")
        size = os.fstat(fh.fileno()).st_size
        size_problem = _size_problem(codec, size, dat_path.name)
        if size_problem:
            problems.append(size_problem)
        scan = _scan(codec, fh, dat_path.name)
    report.count = scan.count
    problems.extend(scan.bad)
    if scan.bad_count > len(scan.bad):
        problems.append(
            f"{dat_path.name}: ... and {scan.bad_count - len(scan.bad)} more records that do not decode "
            f"({scan.bad_count} in all)"
        )
    if not scan.bad_count:
        report.total = scan.total
    if control is None:
        return report
    whole = "whole records" if size_problem else "records"
    if control.count != scan.count:
        problems.append(
            f"the control record counts {control.count} records (CTRCNT), "
            f"{dat_path.name} holds {scan.count} {whole}"
        )
    spec = HASH_FIELDS.get(pair.file)
    what = f"the sum of {spec[1]}" if spec else "0 (nothing is summed for this file)"
    if scan.bad_count:
        problems.append(
            f"CTHASH not checked: {scan.bad_count} records of {dat_path.name} do not decode, "
            f"so {what} cannot be taken"
        )
    elif control.hash != scan.total:
        problems.append(
            f"the control total (CTHASH) is {control.hash}, {what} over the records is {scan.total}"
        )
    return report


# --- Encode ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EncodeResult:
    """What :func:`encode_jsonl` wrote: the ``.DAT``, and the ``.OK``'s control record if asked."""

    dat: Path
    count: int
    ok: Path | None = None
    control: ControlRecord | None = None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number the AS400 can hold")


def read_jsonl_source(source: str, *, stdin: TextIO | None = None) -> list[str]:
    """The lines of a JSON lines file (UTF-8, a BOM allowed), or of ``stdin`` for ``"-"``.

    Files typed by hand are small: they are read whole, so that nothing is written before every
    line has been checked.
    """
    if source == "-":
        if stdin is None:
            raise OperationError("no standard input to read")
        return stdin.read().splitlines()
    path = Path(source)
    with _open_for_reading(path) as fh:
        data = fh.read()
    try:
        return data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        lineno = data[: exc.start].count(b"\n") + 1
        raise OperationError(
            f"{path.name}, line {lineno}: not UTF-8 text (byte X'{data[exc.start]:02X}')"
        ) from None


def _read_jsonl(lines: Iterable[str], codec: RecordCodec, source: str, fold: bool, cut: bool) -> bytes:
    out = bytearray()
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{source}, line {lineno}"
        try:
            values = json.loads(line, parse_float=Decimal, parse_constant=_refuse_constant)
        except json.JSONDecodeError as exc:
            raise OperationError(f"{where}: not valid JSON: {exc.msg} (column {exc.colno})") from None
        except ValueError as exc:
            raise OperationError(f"{where}: {exc}") from None
        if not isinstance(values, dict):
            raise OperationError(
                f"{where}: expected a JSON object keyed by field names, found {type(values).__name__}"
            )
        try:
            out += codec.encode(values, fold=fold, cut=cut)
        except EncodeError as exc:
            raise OperationError(f"{where}: {exc}") from None
    return bytes(out)


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OperationError(f"{path}: cannot be written: {exc.strerror or exc}") from exc


def _output_path(out: Path, layout: str, seq: int | None, with_ok: bool) -> tuple[Path, int | None]:
    """Where the ``.DAT`` goes, and the sequence number for its ``.OK``."""
    if seq is not None and not 0 <= seq <= MAX_SEQ:
        raise OperationError(f"--seq {seq} does not fit in six digits")
    if out.is_dir():
        if seq is None:
            raise OperationError(f"{out} is a folder: give --seq to name the file {layout}_<SEQ>.DAT in it")
        return out / PairName(layout, seq).dat, seq
    if not out.parent.is_dir():
        raise OperationError(f"{out.parent}: no such folder")
    parsed = PairName.parse(out.name)
    if parsed is None or parsed[1] != "DAT":
        if with_ok:
            raise OperationError(
                f"{out.name}: with --ok the output must be named {layout}_<SEQ>.DAT "
                "(or be a folder, with --seq), as the exchange names a pair"
            )
        if seq is not None:
            raise OperationError("--seq is used with --ok, or to name the file when OUT is a folder")
        return out, None
    pair = parsed[0]
    if with_ok and pair.file != layout:
        raise OperationError(f"{out.name} is named for {pair.file}, but the layout is {layout}")
    if seq is not None and seq != pair.seq:
        raise OperationError(f"--seq {seq} does not match the sequence {pair.seq} in the name {out.name}")
    return out, pair.seq


def encode_jsonl(
    lines: Iterable[str],
    out: Path,
    *,
    layout: str,
    source: str = "<input>",
    ccsid: int | None = None,
    with_ok: bool = False,
    seq: int | None = None,
    kind: str | None = None,
    fold: bool = False,
    cut: bool = False,
    now: datetime | None = None,
) -> EncodeResult:
    """Write the records given as JSON lines into a ``.DAT`` (and its ``.OK`` with ``with_ok``).

    Each non-blank line is one JSON object keyed by the DDS field names (a multi-format file
    picks the format by its type field, OHTYPE or OLTYPE); missing fields are blank or zero.
    Numbers are read exactly: ``19.99`` and ``"19.99"`` are the same, and a value with more
    decimals than the field has is refused, not rounded. ``fold`` and ``cut`` apply to every
    character field (see :meth:`RecordCodec.encode`). Nothing is written unless every line is
    good. Without ``with_ok`` the ``.DAT`` is written alone (atomically); with it, the pair is
    written as :func:`~integration.as400.files.write_pair` does, the ``.OK`` last, its control record
    taken ``now``. An existing file is never overwritten.
    """
    codec = open_codec(layout, ccsid)
    name = codec.layout.name
    if kind not in (None, "F", "D"):
        raise OperationError(f"--kind must be F (full) or D (delta), not {kind!r}")
    if kind is not None and not with_ok:
        raise OperationError("--kind is used with --ok only")
    if with_ok and name not in HASH_FIELDS:
        raise OperationError(f"{name} is not an exchange file: it has no control record (--ok)")
    dat_path, pair_seq = _output_path(out, name, seq, with_ok)
    if dat_path.exists():
        raise OperationError(f"{dat_path} already exists: it is not overwritten")
    data = _read_jsonl(lines, codec, source, fold, cut)
    count = len(data) // codec.record_length
    if not with_ok:
        _write_atomically(dat_path, data)
        return EncodeResult(dat=dat_path, count=count)
    assert pair_seq is not None
    try:
        control = control_for(
            name, data, seq=pair_seq, kind=kind or "F", at=now or timezone.now(), ccsid=codec.ccsid
        )
    except RecordError as exc:  # what was encoded does not read back: a codec fault, not the input's
        raise OperationError(f"the encoded records do not decode: {exc}") from exc
    try:
        written, ok_path = write_pair(dat_path.parent, name, pair_seq, data, control.encode(codec.ccsid))
    except FileExistsError as exc:
        raise OperationError(f"{exc}: it is not overwritten") from exc
    except OSError as exc:
        raise OperationError(f"{dat_path}: cannot be written: {exc.strerror or exc}") from exc
    return EncodeResult(dat=written, count=count, ok=ok_path, control=control)
