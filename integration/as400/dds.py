"""DDS sources to record layouts.

The AS400 describes its physical files in DDS, in the positional A-spec form that it compiles.
We read the subset the exchange contract uses, so that a site whose AS400 differs edits a
``.dds`` file, not Python code:

====== ======================================================================
column what it holds
====== ======================================================================
1-5    sequence number (ignored)
6      form type, always ``A``
7      ``*`` makes the line a comment
17     name type: ``R`` record format, ``K`` key field, blank for a field
19-28  name
30-34  length: characters for ``A``, digits for ``S`` and ``P``
35     data type: ``A`` character, ``S`` zoned decimal, ``P`` packed decimal
36-37  decimal positions
45-    keywords (``TEXT('...')`` with doubled quotes, ``UNIQUE``, ...) to the end of the line
       (source members are often wider than 80 columns); a keyword area that ends in ``-`` or
       ``+`` continues on the next line
====== ======================================================================

Keywords before the first record format are file-level (``UNIQUE``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.conf import settings

DATA_TYPES = {"A", "S", "P"}
MAX_DIGITS = 63
MAX_CHARS = 32766
_NAME = re.compile(r"^[A-Z@#$][A-Z0-9@#$_]{0,9}$")
_KEYWORD = re.compile(r"\s*([A-Z][A-Z0-9]*)(?:\(((?:[^()']|'(?:[^']|'')*')*)\))?")


class DDSError(ValueError):
    """A DDS source that cannot be read; the message names the file and the line."""


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a record format. ``offset`` is 0-based, ``size`` in bytes."""

    name: str
    type: str
    digits: int
    decimals: int
    offset: int
    size: int
    text: str = ""

    @property
    def is_numeric(self) -> bool:
        return self.type in ("S", "P")


@dataclass(frozen=True, slots=True)
class RecordFormat:
    name: str
    fields: tuple[Field, ...]
    text: str = ""

    @property
    def length(self) -> int:
        return sum(f.size for f in self.fields)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name}")


@dataclass(frozen=True, slots=True)
class FileLayout:
    """A physical file: its record formats, key fields and file-level keywords.

    Every record of a file is ``record_length`` long: a file with several formats (ORDIMP) pads
    the shorter ones with blanks, and a record's format is selected by its first byte, which
    holds the format's type code (the first field, one character long: ``H`` or ``L``).
    """

    name: str
    formats: tuple[RecordFormat, ...]
    keys: tuple[str, ...] = ()
    keywords: dict[str, str] = field(default_factory=dict)
    source: str = ""

    @property
    def record_length(self) -> int:
        return max(f.length for f in self.formats)

    @property
    def unique(self) -> bool:
        return "UNIQUE" in self.keywords

    @property
    def is_multi_format(self) -> bool:
        return len(self.formats) > 1

    def format(self, name: str) -> RecordFormat:
        for fmt in self.formats:
            if fmt.name == name:
                return fmt
        raise KeyError(f"{self.name} has no record format {name}")

    @property
    def fields(self) -> tuple[Field, ...]:
        """The fields of a single-format file."""
        if self.is_multi_format:
            raise ValueError(f"{self.name} has several record formats; pick one")
        return self.formats[0].fields


def _parse_keywords(text: str, where: str) -> dict[str, str]:
    keywords: dict[str, str] = {}
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _KEYWORD.match(text, pos)
        if not m or m.end() == pos:
            raise DDSError(f"{where}: cannot read the keywords at {text[pos:]!r}")
        name, arg = m.group(1), m.group(2)
        if arg is not None:
            arg = arg.strip()
            if arg.startswith("'") and arg.endswith("'") and len(arg) >= 2:
                arg = arg[1:-1].replace("''", "'")
        keywords[name] = arg if arg is not None else ""
        pos = m.end()
        while pos < len(text) and text[pos] == " ":
            pos += 1
    return keywords


def _lines(text: str, source: str) -> Iterator[tuple[int, str, str]]:
    """Yield (line number, spec columns 1-44, keyword area) with continuations joined."""
    pending: tuple[int, str, str] | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        line = line.ljust(80)
        if line[6] == "*":
            continue
        spec, kw = line[:44], line[44:].rstrip()
        if pending is not None:
            p_lineno, p_spec, p_kw = pending
            if spec[6:44].strip():
                raise DDSError(f"{source}, line {lineno}: a continued keyword must go on from column 45 only")
            joined = p_kw[:-1] + (kw if p_kw.endswith("-") else kw.lstrip())
            pending = None
            spec, kw, lineno = p_spec, joined, p_lineno
        if kw.endswith(("-", "+")):
            pending = (lineno, spec, kw)
            continue
        yield lineno, spec, kw
    if pending is not None:
        raise DDSError(f"{source}, line {pending[0]}: a keyword continues past the end of the source")


def parse_dds(text: str, *, name: str, source: str = "") -> FileLayout:
    """Read a DDS source into a :class:`FileLayout`. Raises :class:`DDSError` naming the line."""
    where_file = source or name
    file_keywords: dict[str, str] = {}
    formats: list[RecordFormat] = []
    keys: list[str] = []
    current: tuple[str, str, list[Field]] | None = None  # (name, text, fields)
    offset = 0

    def close() -> None:
        if current is not None:
            fmt_name, fmt_text, fields = current
            if not fields:
                raise DDSError(f"{where_file}: record format {fmt_name} has no fields")
            formats.append(RecordFormat(name=fmt_name, fields=tuple(fields), text=fmt_text))

    for lineno, spec, kw_text in _lines(text, where_file):
        where = f"{where_file}, line {lineno}"
        if spec[5] != "A":
            raise DDSError(f"{where}: column 6 must hold the form type A, found {spec[5]!r}")
        keywords = _parse_keywords(kw_text, where)
        name_type = spec[16]
        fname = spec[18:28].strip()
        length_s, dtype, dec_s = spec[29:34].strip(), spec[34].strip(), spec[35:37].strip()

        if name_type == "R":
            if not _NAME.match(fname):
                raise DDSError(f"{where}: {fname!r} is not a valid record format name")
            close()
            current = (fname, keywords.get("TEXT", ""), [])
            offset = 0
        elif name_type == "K":
            if not fname:
                raise DDSError(f"{where}: a key line needs a field name")
            keys.append(fname)
        elif name_type == " ":
            if not fname:
                if current is None and not length_s:
                    file_keywords.update(keywords)
                    continue
                if not length_s and current is not None:
                    continue  # record-level keyword line: nothing the codec needs
                raise DDSError(f"{where}: a field line needs a name in columns 19-28")
            if current is None:
                raise DDSError(f"{where}: field {fname} comes before any record format (R)")
            if not _NAME.match(fname):
                raise DDSError(f"{where}: {fname!r} is not a valid field name")
            if not length_s.isdigit():
                raise DDSError(f"{where}: field {fname} needs a length in columns 30-34, found {length_s!r}")
            length = int(length_s)
            if dec_s and not dec_s.isdigit():
                raise DDSError(f"{where}: field {fname} has decimal positions {dec_s!r}, not a number")
            if not dtype:
                dtype = "P" if dec_s else "A"  # what the AS400 assumes for a physical file
            if dtype not in DATA_TYPES:
                raise DDSError(
                    f"{where}: field {fname} has data type {dtype!r}; only A, S and P are supported"
                )
            decimals = int(dec_s) if dec_s else 0
            if dtype == "A":
                if dec_s:
                    raise DDSError(f"{where}: character field {fname} cannot have decimal positions")
                if not 1 <= length <= MAX_CHARS:
                    raise DDSError(f"{where}: character field {fname} has length {length}")
                size = length
            else:
                if not 1 <= length <= MAX_DIGITS:
                    raise DDSError(f"{where}: numeric field {fname} has {length} digits (1 to 63)")
                if decimals > length:
                    raise DDSError(f"{where}: field {fname} has more decimal positions than digits")
                size = length if dtype == "S" else length // 2 + 1
            fields = current[2]
            if any(f.name == fname for f in fields):
                raise DDSError(f"{where}: field {fname} is defined twice in {current[0]}")
            fields.append(
                Field(
                    name=fname,
                    type=dtype,
                    digits=length,
                    decimals=decimals,
                    offset=offset,
                    size=size,
                    text=keywords.get("TEXT", ""),
                )
            )
            offset += size
        else:
            raise DDSError(f"{where}: column 17 holds {name_type!r}; expected R, K or blank")

    close()
    if not formats:
        raise DDSError(f"{where_file}: no record format (R line) found")
    all_fields = {f.name for fmt in formats for f in fmt.fields}
    for key in keys:
        if key not in all_fields:
            raise DDSError(f"{where_file}: key {key} is not a field of the file")
    if len(formats) > 1:
        for fmt in formats:
            first = fmt.fields[0]
            if first.type != "A" or first.size != 1:
                raise DDSError(
                    f"{where_file}: format {fmt.name} must start with a 1-character type field, "
                    "since the file has several record formats"
                )
    return FileLayout(
        name=name, formats=tuple(formats), keys=tuple(keys), keywords=file_keywords, source=where_file
    )


def read_dds(path: Path | str) -> FileLayout:
    """Read a ``.dds`` file; the layout is named after the file (``STKBAL.dds`` → STKBAL)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DDSError(f"{path}: cannot read the DDS source: {exc}") from exc
    return parse_dds(text, name=path.stem.upper(), source=str(path))


@cache
def _load(dds_dir: str, name: str) -> FileLayout:
    path = Path(dds_dir) / f"{name}.dds"
    if not path.exists():
        known = sorted(p.stem for p in Path(dds_dir).glob("*.dds"))
        raise DDSError(f"no DDS source for {name} in {dds_dir} (known: {', '.join(known) or 'none'})")
    return read_dds(path)


def load_layout(name: str) -> FileLayout:
    """The layout of an exchange file (``"STKBAL"``), read from ``settings.AS400_DDS_DIR``."""
    return _load(str(settings.AS400_DDS_DIR), name.upper())
