"""The control record (``.OK``) of an exchange file, and the checks a pair must pass.

A ``.DAT`` is applied only if its ``.OK`` says the same as its content: the file name, a whole
number of records, the record count, and CTHASH — the sum of one numeric field over all records,
as an integer without its decimal point (see :data:`HASH_FIELDS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from integration.as400.codec import RecordCodec, RecordError, from_datetime, to_datetime

#: A single-format file's records decoded, one list per DDS field (``RecordCodec.decode_columns``).
Columns = dict[str, list[Any]]

CONTROL_LAYOUT = "CTLREC"
KINDS = {"F": "full", "D": "delta"}

#: file name → (record format, field) whose sum is CTHASH; None: CTHASH is 0 (ORDACK).
HASH_FIELDS: dict[str, tuple[str, str] | None] = {
    "ITMMST": ("ITMMSTR", "IMPRIX"),
    "STKBAL": ("STKBALR", "SBQOH"),
    "ORDSTS": ("ORDSTSR", "OSQTE"),
    "STRRTN": ("STRRTNR", "SRQTE"),
    "ORDANN": ("ORDANNR", "OAQTE"),
    "RTNIMP": ("RTNIMPR", "RIQTE"),
    "ORDIMP": ("ORDIMPL", "OLQTE"),
    "WEBORD": ("WEBORDR", "WOQTC"),
    "ORDACK": None,
}


class ControlError(ValueError):
    """A control record that cannot be read or does not match its file."""


@dataclass(frozen=True, slots=True)
class ControlRecord:
    """One CTLRECR record. ``date``/``time`` are the AS400's raw CYYMMDD and HHMMSS."""

    file: str
    seq: int
    kind: str
    date: int
    time: int
    count: int
    hash: int

    @property
    def created_at(self) -> datetime | None:
        """When the extract was taken, as an aware Paris datetime."""
        return to_datetime(self.date, self.time)

    @property
    def is_full(self) -> bool:
        return self.kind == "F"

    def encode(self, ccsid: int | None = None) -> bytes:
        return RecordCodec.for_file(CONTROL_LAYOUT, ccsid).encode(
            {
                "CTFILE": self.file,
                "CTSEQ": self.seq,
                "CTKIND": self.kind,
                "CTCDAT": self.date,
                "CTCTIM": self.time,
                "CTRCNT": self.count,
                "CTHASH": self.hash,
            }
        )

    @classmethod
    def decode(cls, data: bytes, ccsid: int | None = None, *, source: str = "") -> ControlRecord:
        codec = RecordCodec.for_file(CONTROL_LAYOUT, ccsid)
        if len(data) != codec.record_length:
            raise ControlError(
                f"{source or 'control record'}: is {len(data)} bytes, a control record is {codec.record_length}"
            )
        try:
            values = codec.decode(data, recno=1, source=source)
        except RecordError as exc:
            raise ControlError(str(exc)) from exc
        kind = str(values["CTKIND"])
        if kind not in KINDS:
            raise ControlError(f"{source or 'control record'}: CTKIND is {kind!r}, expected F or D")
        record = cls(
            file=str(values["CTFILE"]),
            seq=int(values["CTSEQ"]),
            kind=kind,
            date=int(values["CTCDAT"]),
            time=int(values["CTCTIM"]),
            count=int(values["CTRCNT"]),
            hash=int(values["CTHASH"]),
        )
        try:
            record.created_at  # noqa: B018  (a control record with an impossible date is refused)
        except ValueError as exc:
            raise ControlError(f"{source or 'control record'}: CTCDAT/CTCTIM: {exc}") from exc
        return record


def control_total(file: str, data: bytes, *, ccsid: int | None = None, source: str = "") -> tuple[int, int]:
    """(record count, CTHASH) of a file's data; RecordError if any record does not decode."""
    count, total, _ = _decoded_total(file, data, ccsid=ccsid, source=source)
    return count, total


def _decoded_total(file: str, data: bytes, *, ccsid: int | None, source: str) -> tuple[int, int, Columns | None]:
    """(record count, CTHASH, the decoded columns of a single-format file, else None)."""
    if file not in HASH_FIELDS:
        raise ValueError(f"{file} is not an exchange file of the contract (known: {', '.join(HASH_FIELDS)})")
    codec = RecordCodec.for_file(file, ccsid)
    spec = HASH_FIELDS[file]
    if codec.layout.is_multi_format:
        total = count = 0
        for record in codec.iter_decode(data, source=source):
            count += 1
            if spec is not None and spec[1] in record:
                f = codec.layout.format(spec[0]).field(spec[1])
                total += int(record[spec[1]] * 10**f.decimals)  # type: ignore[operator]
        return count, total, None
    columns = codec.decode_columns(data, source=source)  # decodes every field: a bad one is refused
    count = len(next(iter(columns.values())))
    if spec is None:
        return count, 0, columns
    decimals = codec.layout.formats[0].field(spec[1]).decimals
    return count, int(sum(columns[spec[1]]) * 10**decimals), columns  # type: ignore[arg-type]


def control_for(
    file: str, data: bytes, *, seq: int, kind: str, at: datetime, ccsid: int | None = None
) -> ControlRecord:
    """The control record that describes ``data``, taken at ``at``."""
    if kind not in KINDS:
        raise ValueError(f"kind must be F or D, not {kind!r}")
    count, total = control_total(file, data, ccsid=ccsid)
    day, clock = from_datetime(at)
    return ControlRecord(file=file, seq=seq, kind=kind, date=day, time=clock, count=count, hash=total)


def check_pair(file: str, data: bytes, control: ControlRecord, *, ccsid: int | None = None) -> list[str]:
    """What does not match between a ``.DAT``'s data and its control record; empty when all does."""
    return check_pair_decoded(file, data, control, ccsid=ccsid)[0]


def check_pair_decoded(
    file: str, data: bytes, control: ControlRecord, *, ccsid: int | None = None
) -> tuple[list[str], Columns | None]:
    """:func:`check_pair`, and the columns it decoded to check them (a single-format file), so that
    whoever applies the pair does not decode it a second time; None for a multi-format file, or
    when the data does not decode."""
    problems: list[str] = []
    if control.file != file:
        problems.append(f"the control record names file {control.file!r}, expected {file!r}")
        return problems, None
    try:
        count, total, columns = _decoded_total(file, data, ccsid=ccsid, source=f"{file}_{control.seq:06d}.DAT")
    except RecordError as exc:
        problems.append(str(exc))
        return problems, None
    if count != control.count:
        problems.append(f"the control record counts {control.count} records (CTRCNT), the file holds {count}")
    if total != control.hash:
        spec = HASH_FIELDS.get(file)
        what = f"the sum of {spec[1]}" if spec else "0"
        problems.append(f"the control total (CTHASH) is {control.hash}, {what} over the records is {total}")
    return problems, columns
