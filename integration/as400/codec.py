"""Fixed-width EBCDIC records: decode and encode by DDS layout and CCSID.

What the contract's "Encoding of a record" says, and nothing looser:

- ``A``: the code page's characters, left-aligned, padded with blanks (X'40'); decoded values are
  stripped of trailing blanks.
- ``S`` zoned: one digit a byte, zone F, the sign in the zone of the last byte.
- ``P`` packed: two digits a byte, the sign in the low half of the last byte.
- Signs read: F, C, A, E positive; D, B negative; anything else, or a digit above 9, is refused.
  Signs written: F and D, as the AS400 does.
- Decimal positions are implied; decoded numbers with decimals are :class:`~decimal.Decimal`,
  without are ``int``.

Two decoders share the field rules: :meth:`RecordCodec.decode` (a record at a time, a dict) and
:meth:`RecordCodec.decode_columns` (a whole single-format file at once, as columns, vectorised
with NumPy), which is what importers use on multi-million-record extracts.

Dates and times: see :func:`to_datetime` for the rule on the hour that does not exist and the
hour that happens twice when the clocks change.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import ebcdic  # noqa: F401  (registers the cp297 and cp1147 codecs)
import numpy as np
from django.conf import settings

from integration.as400.dds import Field, FileLayout, RecordFormat, load_layout

__all__ = [
    "PARIS",
    "EncodeError",
    "RecordCodec",
    "RecordError",
    "codec_name",
    "fold_text",
    "from_datetime",
    "to_date",
    "to_datetime",
]

PARIS = ZoneInfo("Europe/Paris")
CODEC_NAMES = {297: "cp297", 1147: "cp1147", 37: "cp037"}
POSITIVE_SIGNS = frozenset({0xF, 0xC, 0xA, 0xE})
NEGATIVE_SIGNS = frozenset({0xD, 0xB})
BLANK = 0x40
COLUMN_CHUNK_RECORDS = 65_536  # the column decoder's working set: fast, and memory stays flat

# Byte lookup tables for the column decoder; 255 marks an invalid digit, 0 an invalid sign.
_PACKED_PAIR = np.array(
    [(b >> 4) * 10 + (b & 0xF) if b >> 4 <= 9 and b & 0xF <= 9 else 255 for b in range(256)], dtype=np.int64
)
_ZONED_DIGIT = np.array(
    [b & 0xF if b >> 4 == 0xF and b & 0xF <= 9 else 255 for b in range(256)], dtype=np.int64
)
_SIGN = np.array(
    [1 if n in POSITIVE_SIGNS else -1 if n in NEGATIVE_SIGNS else 0 for n in range(16)], dtype=np.int64
)

Value = str | int | Decimal


class _Invalid(Exception):
    """A field failed the record decoder's fast path; the slow path says which and why."""


_PACKED_SIGN_HEX = frozenset("fcaedb")


class RecordError(ValueError):
    """A record that cannot be decoded: names the file, the record (1-based), the field and the bytes."""

    def __init__(
        self, reason: str, *, source: str = "", record: int | None = None, field: str = "", raw: bytes = b""
    ) -> None:
        self.reason, self.source, self.record, self.field, self.raw = reason, source, record, field, raw
        parts = [source] if source else []
        if record is not None:
            parts.append(f"record {record}")
        if field:
            parts.append(f"field {field}")
        where = ", ".join(parts) or "data"
        shown = f" (bytes X'{raw.hex().upper()}')" if raw else ""
        super().__init__(f"{where}: {reason}{shown}")


class EncodeError(ValueError):
    """A value that cannot be written into its field: names the field and what is wrong."""

    def __init__(self, reason: str, *, field: str, value: object = None) -> None:
        self.reason, self.field, self.value = reason, field, value
        super().__init__(f"field {field}: {reason}")


def codec_name(ccsid: int) -> str:
    try:
        return CODEC_NAMES[ccsid]
    except KeyError:
        raise ValueError(f"CCSID {ccsid} is not supported (use one of {sorted(CODEC_NAMES)})") from None


# --- Characters and folding -----------------------------------------------------------------

# Characters many code pages lack, and what a person would write instead. Applied only to a
# character the code page cannot hold; the rest falls back to the base letter without accents.
_FOLDS = {
    "œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "ẞ": "SS",
    "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ø": "O", "ø": "o", "Þ": "Th", "þ": "th",
    "ı": "i", "ħ": "h", "Ħ": "H",
    "’": "'", "‘": "'", "‚": ",", "′": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"',
    "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-", "…": "...", "€": "EUR",
    "\u00a0": " ", "\u202f": " ", "\u2009": " ",
}  # fmt: skip


@cache
def _charset(ccsid: int) -> frozenset[str]:
    """Every character the code page can hold."""
    table = bytes(range(256)).decode(codec_name(ccsid), errors="replace")
    return frozenset(c for c in table if c != "\ufffd" and c.isprintable())


def fold_text(text: str, ccsid: int) -> str:
    """Replace characters the code page lacks by what a person would type on the AS400.

    ``œ`` → ``oe``, ``Ł`` → ``L``, ``’`` → ``'``, accented letters the code page lacks → their
    base letter. Characters with no sensible fallback (most non-Latin letters) are kept, so that
    encoding refuses them by name rather than writing something else.
    """
    charset = _charset(ccsid)
    out: list[str] = []
    for ch in text:
        if ch in charset:
            out.append(ch)
            continue
        folded = _FOLDS.get(ch)
        if folded is None:
            base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            folded = base if base and all(c in charset for c in base) else ch
        out.append(folded if all(c in charset for c in folded) else ch)
    return "".join(out)


# --- Numbers ----------------------------------------------------------------------------------


def _scaled_int(f: Field, value: object) -> int:
    """The field's value as an integer without its decimal point, or EncodeError."""
    if isinstance(value, bool) or value is None:
        raise EncodeError(f"{value!r} is not a number", field=f.name, value=value)
    if isinstance(value, int):
        scaled = value * 10**f.decimals
    else:
        if isinstance(value, float):
            raise EncodeError(
                "floats are refused; give an int, a Decimal or a string", field=f.name, value=value
            )
        try:
            dec = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
        except InvalidOperation:
            raise EncodeError(f"{value!r} is not a number", field=f.name, value=value) from None
        if not dec.is_finite():
            raise EncodeError(f"{value!r} is not a finite number", field=f.name, value=value)
        shifted = dec.scaleb(f.decimals)
        if shifted != shifted.to_integral_value():
            raise EncodeError(f"{value} has more than {f.decimals} decimal places", field=f.name, value=value)
        scaled = int(shifted)
    if abs(scaled) >= 10**f.digits:
        raise EncodeError(
            f"{value} does not fit in {f.digits} digits with {f.decimals} decimals", field=f.name, value=value
        )
    return scaled


def _encode_number(f: Field, value: object) -> bytes:
    scaled = _scaled_int(f, value)
    negative = scaled < 0
    if f.type == "P":
        digits = f"{abs(scaled):0{f.size * 2 - 1}d}"
        return bytes.fromhex(digits + ("d" if negative else "f"))
    digits = f"{abs(scaled):0{f.digits}d}"
    out = bytearray(0xF0 | int(d) for d in digits)
    if negative:
        out[-1] = 0xD0 | (out[-1] & 0x0F)
    return bytes(out)


def _decode_packed(raw: bytes) -> int | None:
    """The packed value as an int, or None if a digit or the sign is invalid."""
    h = raw.hex()
    digits, sign = h[:-1], int(h[-1], 16)
    if not digits.isdigit():
        return None
    if sign in POSITIVE_SIGNS:
        return int(digits)
    if sign in NEGATIVE_SIGNS:
        return -int(digits)
    return None


def _decode_zoned(raw: bytes) -> int | None:
    """The zoned value as an int, or None if a zone, a digit or the sign is invalid."""
    h = raw.hex()
    zones, digits = h[0::2], h[1::2]
    sign = zones[-1]
    if zones[:-1].strip("f") or not digits.isdigit() or sign not in _PACKED_SIGN_HEX:
        return None
    return -int(digits) if sign in "db" else int(digits)


# --- Dates and times --------------------------------------------------------------------------


def to_date(cyymmdd: int) -> date | None:
    """CYYMMDD (C=0 for 19xx, 1 for 20xx) to a date; 0 means no date."""
    if cyymmdd == 0:
        return None
    ymd = cyymmdd + 19_000_000
    try:
        return date(ymd // 10_000, ymd // 100 % 100, ymd % 100)
    except ValueError:
        raise ValueError(f"{cyymmdd} is not a date in CYYMMDD form") from None


def _date_problem(value: Value) -> str:
    if not isinstance(value, int) or value == 0:
        return ""
    try:
        to_date(value)
    except ValueError as exc:
        return str(exc)
    return ""


def _time_problem(value: Value) -> str:
    if not isinstance(value, int):
        return ""
    if not 0 <= value <= 235959 or value // 100 % 100 > 59 or value % 100 > 59:
        return f"{value} is not a time in HHMMSS form"
    return ""


def to_datetime(cyymmdd: int, hhmmss: int) -> datetime | None:
    """A CYYMMDD/HHMMSS pair in AS400 local time to an aware datetime in Europe/Paris.

    The AS400 stores Paris wall-clock time and no offset, so two wall times are not one instant:

    - the hour that does not exist (last Sunday of March, 02:00-02:59) is read as if the clocks
      had not moved yet: 02:30 is 01:30 UTC, shown as 03:30 CEST;
    - the hour that happens twice (last Sunday of October, 02:00-02:59) is read as its first
      occurrence, in summer time (CEST, UTC+2).

    Both are Python's ``fold=0`` rule, applied the same way everywhere, so a pair always gives
    the same instant. A date of 0 means "no date" and gives None.
    """
    day = to_date(cyymmdd)
    if day is None:
        return None
    if not 0 <= hhmmss <= 235959 or hhmmss // 100 % 100 > 59 or hhmmss % 100 > 59:
        raise ValueError(f"{hhmmss} is not a time in HHMMSS form")
    wall = datetime.combine(day, time(hhmmss // 10_000, hhmmss // 100 % 100, hhmmss % 100), tzinfo=PARIS)
    # Normalise through UTC so that a wall time in the gap comes back as a real Paris time.
    return wall.astimezone(ZoneInfo("UTC")).astimezone(PARIS)


def from_datetime(moment: datetime) -> tuple[int, int]:
    """An aware datetime to the AS400's (CYYMMDD, HHMMSS) in Paris time."""
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is needed; the AS400 runs on Europe/Paris time")
    local = moment.astimezone(PARIS)
    return (local.year - 1900) * 10_000 + local.month * 100 + local.day, (
        local.hour * 10_000 + local.minute * 100 + local.second
    )


# --- The codec --------------------------------------------------------------------------------


def _field_set(option: bool | Collection[str], fmt: RecordFormat) -> frozenset[str]:
    if option is True:
        return frozenset(f.name for f in fmt.fields if f.type == "A")
    if option is False:
        return frozenset()
    return frozenset(option)


@dataclass(frozen=True, slots=True)
class _Format:
    fmt: RecordFormat
    type_code: str  # the first byte's character, for multi-format files


class RecordCodec:
    """Decode and encode the records of one exchange file."""

    def __init__(self, layout: FileLayout, ccsid: int | None = None) -> None:
        self.layout = layout
        self.ccsid = ccsid if ccsid is not None else int(settings.AS400_CCSID)
        self.encoding = codec_name(self.ccsid)
        self.record_length = layout.record_length
        self._blank = " ".encode(self.encoding)
        # A control character that no text field should hold separates values in the column decoder.
        self._separator_char = "\n"
        encoded_separator = self._separator_char.encode(self.encoding)
        self._separator: int | None = encoded_separator[0] if len(encoded_separator) == 1 else None
        self._by_type: dict[int, RecordFormat] = {}
        # Per format: its length and, per field, what the record decoder needs without lookups.
        self._plans: dict[str, tuple[int, tuple[tuple[str, int, int, str, int, int], ...]]] = {
            fmt.name: (
                fmt.length,
                tuple(
                    (f.name, f.offset, f.offset + f.size, f.type, f.decimals, 10**f.digits)
                    for f in fmt.fields
                ),
            )
            for fmt in layout.formats
        }
        if layout.is_multi_format:
            for fmt in layout.formats:
                code = self._type_code(fmt)
                self._by_type[code.encode(self.encoding)[0]] = fmt

    @classmethod
    def for_file(cls, name: str, ccsid: int | None = None) -> RecordCodec:
        return cls(load_layout(name), ccsid)

    @staticmethod
    def _type_code(fmt: RecordFormat) -> str:
        """The type code a format's first field holds: the format name's last letter (ORDIMPH → H)."""
        return fmt.name[-1]

    # -- decoding --

    def format_of(self, record: bytes, *, recno: int | None = None, source: str = "") -> RecordFormat:
        if not self.layout.is_multi_format:
            return self.layout.formats[0]
        fmt = self._by_type.get(record[0]) if record else None
        if fmt is None:
            known = ", ".join(self._type_code(f) for f in self.layout.formats)
            raise RecordError(
                f"the first byte selects no record format (expected one of {known})",
                source=source, record=recno, field=self.layout.formats[0].fields[0].name, raw=record[:1],
            )  # fmt: skip
        return fmt

    def decode(self, record: bytes, *, recno: int | None = None, source: str = "") -> dict[str, Value]:
        """One record to a dict keyed by the DDS field names."""
        if len(record) != self.record_length:
            raise RecordError(
                f"is {len(record)} bytes long, a {self.layout.name} record is {self.record_length}",
                source=source, record=recno,
            )  # fmt: skip
        fmt = self.format_of(record, recno=recno, source=source)
        length, plan = self._plans[fmt.name]
        out: dict[str, Value] = {}
        encoding = self.encoding
        try:
            for name, start, end, kind, decimals, limit in plan:
                raw = record[start:end]
                if kind == "A":
                    out[name] = raw.decode(encoding).rstrip(" ")
                    continue
                if kind == "P":
                    h = raw.hex()
                    digits, sign = h[:-1], h[-1]
                    if not digits.isdigit() or sign not in _PACKED_SIGN_HEX:
                        raise _Invalid
                    value = int(digits)
                    if value >= limit:
                        raise _Invalid
                    if sign in "db":
                        value = -value
                else:
                    zoned = _decode_zoned(raw)
                    if zoned is None:
                        raise _Invalid
                    value = zoned
                out[name] = Decimal(value).scaleb(-decimals) if decimals else value
        except (_Invalid, UnicodeDecodeError):
            # the slow path finds and names the field
            for f in fmt.fields:
                self._decode_field(f, record[f.offset : f.offset + f.size], recno=recno, source=source)
            raise AssertionError("a field failed the fast path but passed the slow one") from None
        if length < self.record_length:
            pad = record[length:]
            if pad.strip(self._blank):
                raise RecordError(
                    f"format {fmt.name} is {length} bytes; the rest of the record must be blanks",
                    source=source, record=recno, raw=pad.rstrip(self._blank)[:16],
                )  # fmt: skip
        return out

    def _decode_field(self, f: Field, raw: bytes, *, recno: int | None, source: str) -> Value:
        if f.type == "A":
            try:
                return raw.decode(self.encoding).rstrip(" ")
            except UnicodeDecodeError:
                raise RecordError(
                    f"holds a byte with no character in CCSID {self.ccsid}", source=source, record=recno,
                    field=f.name, raw=raw,
                ) from None  # fmt: skip
        value = _decode_packed(raw) if f.type == "P" else _decode_zoned(raw)
        if value is None:
            kind = "packed" if f.type == "P" else "zoned"
            raise RecordError(
                f"is not a valid {kind} decimal (a digit above 9 or an unknown sign)",
                source=source, record=recno, field=f.name, raw=raw,
            )  # fmt: skip
        if f.type == "P" and value != 0 and len(str(abs(value))) > f.digits:
            raise RecordError(
                f"holds more than its {f.digits} digits", source=source, record=recno, field=f.name, raw=raw
            )
        return Decimal(value).scaleb(-f.decimals) if f.decimals else value

    def check_length(self, data: bytes, *, source: str = "") -> int:
        """The number of records in ``data``; RecordError if it is not a whole number of them."""
        count, rest = divmod(len(data), self.record_length)
        if rest:
            raise RecordError(
                f"{len(data)} bytes is not a whole number of {self.record_length}-byte "
                f"{self.layout.name} records ({count} records and {rest} bytes left over)",
                source=source,
            )
        return count

    def iter_decode(self, data: bytes, *, source: str = "") -> Iterator[dict[str, Value]]:
        """Every record of a file's data, in order; the size is checked before the first."""
        count = self.check_length(data, source=source)
        n = self.record_length
        view = memoryview(data)
        for i in range(count):
            yield self.decode(bytes(view[i * n : (i + 1) * n]), recno=i + 1, source=source)

    def decode_columns(self, data: bytes, *, source: str = "") -> dict[str, list[Value]]:
        """A whole single-format file at once, as one list per field (the importers' fast path).

        The same rules as :meth:`decode`, applied to all records together with NumPy: a bad
        digit or sign anywhere is reported with its record number, field and bytes.
        """
        fields = self.layout.fields
        count = self.check_length(data, source=source)
        columns: dict[str, list[Value]] = {f.name: [] for f in fields}
        step = COLUMN_CHUNK_RECORDS * self.record_length
        view = memoryview(data)
        for first in range(0, count, COLUMN_CHUNK_RECORDS):
            chunk = view[first * self.record_length : first * self.record_length + step]
            try:
                part = self._decode_columns_chunk(chunk, source)
            except RecordError as exc:
                raise RecordError(
                    exc.reason,
                    source=exc.source,
                    record=(exc.record or 0) + first,
                    field=exc.field,
                    raw=exc.raw,
                ) from None
            for name, values in part.items():
                columns[name].extend(values)
        return columns

    def check_dates_and_times(self, columns: dict[str, list[Value]], *, source: str = "") -> None:
        """Every SAAMMJJ date and HHMMSS time of decoded columns is one that exists; RecordError if not.

        The DDS says which fields they are (their TEXT ends with the format). The codec itself
        carries any value a field can hold (its round trips); the sync calls this before anything
        is applied, so that a record with ``AKDATE 1261399`` quarantines its pair, naming its record
        and field, instead of failing the applier at every run.
        """
        for f in self.layout.fields:
            words = f.text.split()
            form = words[-1] if words else ""
            if form not in ("SAAMMJJ", "HHMMSS"):
                continue
            values = columns.get(f.name, [])
            for value in set(values):  # few distinct dates or times in a file: check each once
                problem = _date_problem(value) if form == "SAAMMJJ" else _time_problem(value)
                if problem:
                    raise RecordError(problem, source=source, record=values.index(value) + 1, field=f.name)

    def _decode_columns_chunk(self, data: memoryview, source: str) -> dict[str, list[Value]]:
        fields = self.layout.fields
        count = len(data) // self.record_length
        columns: dict[str, list[Value]] = {}
        matrix = np.frombuffer(data, dtype=np.uint8).reshape(count, self.record_length)
        first_error: RecordError | None = None  # report the first bad record, as decode() would
        for f in fields:
            try:
                if f.type == "A":
                    columns[f.name] = self._text_column(f, matrix, count, source)
                    continue
                ints = self._numeric_column(f, matrix, source)
            except RecordError as exc:
                if first_error is None or (exc.record or 0) < (first_error.record or 0):
                    first_error = exc
                continue
            if f.decimals:
                columns[f.name] = [Decimal(v).scaleb(-f.decimals) for v in ints.tolist()]
            else:
                columns[f.name] = ints.tolist()
        if first_error is not None:
            raise first_error
        return columns

    def numeric_column(self, data: bytes, field: str, *, source: str = "") -> np.ndarray:
        """One numeric field of every record, as integers without their decimal point."""
        count = self.check_length(data, source=source)
        f = self.layout.formats[0].field(field)
        if count == 0:
            return np.zeros(0, dtype=np.int64)
        matrix = np.frombuffer(data, dtype=np.uint8).reshape(count, self.record_length)
        return self._numeric_column(f, matrix, source)

    def _text_column(self, f: Field, matrix: np.ndarray, count: int, source: str) -> list[Value]:
        block = matrix[:, f.offset : f.offset + f.size]
        # Cut each value's trailing blanks and end it with a separator in one NumPy pass, then
        # decode and split in C: no Python-level work per record.
        nonblank = block != BLANK
        lengths = np.where(nonblank.any(axis=1), f.size - np.argmax(nonblank[:, ::-1], axis=1), 0)
        separator = self._separator
        if separator is None or (block == separator).any():
            return self._text_column_sliced(f, block, count, source)
        framed = np.empty((count, f.size + 1), dtype=np.uint8)
        framed[:, : f.size] = block
        framed[:, f.size] = separator
        keep = np.arange(f.size + 1) < (lengths[:, None])
        keep[:, f.size] = True
        raw = framed[keep].tobytes()
        try:
            text = raw.decode(self.encoding)
        except UnicodeDecodeError:
            return self._text_column_sliced(f, block, count, source)  # finds and names the record
        values: list[Value] = list(text.split(self._separator_char))
        values.pop()  # the last separator leaves an empty tail
        return values

    def _text_column_sliced(self, f: Field, block: np.ndarray, count: int, source: str) -> list[Value]:
        raw = np.ascontiguousarray(block).tobytes()
        try:
            text = raw.decode(self.encoding)
        except UnicodeDecodeError as exc:
            recno = exc.start // f.size
            raise RecordError(
                f"holds a byte with no character in CCSID {self.ccsid}", source=source, record=recno + 1,
                field=f.name, raw=raw[recno * f.size : (recno + 1) * f.size],
            ) from None  # fmt: skip
        size = f.size
        return [text[i : i + size].rstrip(" ") for i in range(0, count * size, size)]

    def _numeric_column(self, f: Field, matrix: np.ndarray, source: str) -> np.ndarray:
        block = matrix[:, f.offset : f.offset + f.size]
        count = block.shape[0]
        if f.digits > 18:  # beyond int64: exact Python integers, a record at a time
            ints = [
                self._decode_field(f, bytes(row), recno=i + 1, source=source) for i, row in enumerate(block)
            ]
            return np.array([int(Decimal(v).scaleb(f.decimals)) for v in ints], dtype=object)
        values = np.zeros(count, dtype=np.int64)
        bad = np.zeros(count, dtype=bool)
        if f.type == "P":
            for k in range(f.size - 1):
                pair = _PACKED_PAIR[block[:, k]]
                bad |= pair > 99
                values = values * 100 + pair
            last = block[:, -1]
            high = last >> 4
            bad |= high > 9
            values = values * 10 + high
            sign = last & 0x0F
            if f.digits % 2 == 0:  # an even digit count leaves a spare leading digit: it must be 0
                bad |= (block[:, 0] >> 4) != 0
        else:
            for k in range(f.size - 1):
                digit = _ZONED_DIGIT[block[:, k]]
                bad |= digit > 9
                values = values * 10 + digit
            last = block[:, -1]
            low = last & 0x0F
            bad |= low > 9
            values = values * 10 + low
            sign = last >> 4
        multiplier = _SIGN[sign]
        bad |= multiplier == 0
        if bad.any():
            recno = int(np.argmax(bad))
            kind = "packed" if f.type == "P" else "zoned"
            raise RecordError(
                f"is not a valid {kind} decimal (a digit above 9 or an unknown sign)",
                source=source, record=recno + 1, field=f.name, raw=block[recno].tobytes(),
            )  # fmt: skip
        return values * multiplier

    # -- encoding --

    def encode(
        self,
        values: Mapping[str, Any],
        *,
        format: str | None = None,
        fold: bool | Collection[str] = False,
        cut: bool | Collection[str] = False,
    ) -> bytes:
        """One record from a mapping of DDS field names to values.

        Missing fields are blanks (``A``) or zero (``S``/``P``); an unknown field name is refused.
        ``fold`` and ``cut`` (True for every character field, or a set of field names) are for
        free text such as names and addresses only: folding replaces what the code page lacks
        (see :func:`fold_text`), cutting truncates to the field's length. Identifiers are never
        folded or cut: without them, a value that does not fit is refused.
        """
        fmt = self._format_for_encode(values, format)
        known = {f.name for f in fmt.fields}
        unknown = set(values) - known
        if unknown:
            raise EncodeError(
                f"not in format {fmt.name} (fields: {', '.join(f.name for f in fmt.fields)})",
                field=", ".join(sorted(unknown)),
            )
        fold_fields, cut_fields = _field_set(fold, fmt), _field_set(cut, fmt)
        out = bytearray()
        for f in fmt.fields:
            value = values.get(f.name)
            if f.type == "A":
                out += self._encode_text(f, value, f.name in fold_fields, f.name in cut_fields)
            else:
                out += _encode_number(f, 0 if value is None else value)
        out += self._blank * (self.record_length - len(out))
        return bytes(out)

    def _format_for_encode(self, values: Mapping[str, Any], format: str | None) -> RecordFormat:
        if format is not None:
            return self.layout.format(format)
        if not self.layout.is_multi_format:
            return self.layout.formats[0]
        for fmt in self.layout.formats:
            type_field = fmt.fields[0].name
            if type_field in values:
                if values[type_field] != self._type_code(fmt):
                    raise EncodeError(
                        f"{values[type_field]!r} is not {fmt.name}'s type code {self._type_code(fmt)!r}",
                        field=type_field,
                    )
                return fmt
        names = ", ".join(f"{f.fields[0].name}={self._type_code(f)!r}" for f in self.layout.formats)
        raise EncodeError(
            f"{self.layout.name} has several formats: give format= or one of {names}", field="-"
        )

    def _encode_text(self, f: Field, value: object, fold: bool, cut: bool) -> bytes:
        if value is None:
            value = ""
        if not isinstance(value, str):
            if isinstance(value, int | Decimal) and not isinstance(value, bool):
                value = str(value)
            else:
                raise EncodeError(f"{value!r} is not text", field=f.name, value=value)
        text = fold_text(value, self.ccsid) if fold else value
        charset = _charset(self.ccsid)
        if not charset.issuperset(text):
            bad = next(c for c in text if c not in charset)
            # A control character (CR, LF, tab...) encodes to a byte in EBCDIC too, but no field
            # may hold one: what reads the record back would not get the same text.
            if not bad.isprintable():
                why = "is a control or formatting character, which no field may hold"
            else:
                why = f"has no place in CCSID {self.ccsid}" + ("" if fold else " (free text may be folded)")
            raise EncodeError(f"character {bad!r} (U+{ord(bad):04X}) {why}", field=f.name, value=value)
        encoded = text.encode(self.encoding)
        if len(encoded) > f.size:
            if not cut:
                raise EncodeError(
                    f"{value!r} is {len(encoded)} characters, the field holds {f.size}",
                    field=f.name,
                    value=value,
                )
            encoded = encoded[: f.size]
        return encoded + self._blank * (f.size - len(encoded))

    def encode_many(self, records: Iterable[Mapping[str, Any]], **options: Any) -> bytes:
        return b"".join(self.encode(r, **options) for r in records)
