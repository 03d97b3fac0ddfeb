"""The AS400's exports as named values: the one place their field names are read.

The codec decodes a pair into columns keyed by the DDS field names (``SBQOH``, ``AKSTAT``...);
this module turns them into values named for what they are (``on_hand``, ``status``), so the domain
apps never read an AS400 field name. Nothing here says what a value *does* to the business (the
appliers the domain apps register do); only what the contract (``dds/``) says each field holds,
trimmed and typed.

- :class:`ItemMaster` (ITMMST) and :class:`StockBalances` (STKBAL) stay columnar, one list per
  field: a nightly extract has hundreds of thousands of records, applied in bulk;
- :class:`AckRecord` (ORDACK) and :class:`EventRecord` (ORDSTS, STRRTN) are one value per record,
  applied one by one, in the file's order.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_noop

from integration.as400.codec import to_date, to_datetime
from integration.as400.dds import load_layout
from integration.core.stored_texts import StoredText

# What an order's history says of the record that changed it ("ORDSTS E in ORDSTS_000004 #3"): stored
# in English, shown in the reader's language (integration.core.stored_texts).
RECORD_CAUSE = StoredText(gettext_noop("{file} {code} in {source} #{number}"))

Columns = dict[str, list[Any]]


def _when(day: Any, time: Any) -> datetime | None:
    """A CYYMMDD/HHMMSS pair as an aware datetime; None when blank or not a moment."""
    try:
        return to_datetime(int(day), int(time))
    except (TypeError, ValueError):
        return None


#: Every field that carries the web order number, per exchange file.
WEB_NUMBER_FIELDS = {
    "ORDIMP": ("OHWEBN", "OLWEBN"),
    "ORDANN": ("OAWEBN",),
    "RTNIMP": ("RIWEBN",),
    "ORDACK": ("AKWEBN",),
    "ORDSTS": ("OSWEBN",),
    "STRRTN": ("SRWEBN",),
    "WEBORD": ("WOWEBN",),
}


def web_order_number_size() -> int:
    """The length of the shortest web order number field of the contract (20): a longer number
    cannot travel through every file."""
    return min(
        f.size
        for file, names in WEB_NUMBER_FIELDS.items()
        for fmt in load_layout(file).formats
        for f in fmt.fields
        if f.name in names
    )


# --- ITMMST -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemMaster:
    """An ITMMST file's records, one list per field, in the file's order."""

    item: list[str]
    ean: list[str]  # 13 digits, "" when the AS400 has none (0)
    description: list[str]
    family: list[str]  # trimmed; "" when the item has none
    price: list[Decimal]  # euros, VAT included
    vat_code: list[str]
    status: list[str]  # as the AS400 wrote it: A, S, D, or anything else (the applier judges)
    changed_on: list[date | None]

    def __len__(self) -> int:
        return len(self.item)

    @classmethod
    def of(cls, columns: Columns) -> ItemMaster:
        return cls(
            item=list(columns["IMITEM"]),
            ean=[f"{e:013d}" if e else "" for e in columns["IMEAN"]],
            description=list(columns["IMDESC"]),
            family=[f.strip() for f in columns["IMFAMC"]],
            price=[Decimal(p) for p in columns["IMPRIX"]],
            vat_code=list(columns["IMTVA"]),
            status=list(columns["IMSTAT"]),
            changed_on=[to_date(d) if d else None for d in columns["IMDTCH"]],
        )


# --- STKBAL -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StockBalances:
    """A STKBAL file's records, one list per field, in the file's order."""

    item: list[str]
    location: list[int]  # a store's number, or 900 for the warehouse
    on_hand: list[int]  # may be negative
    promised: list[int]  # what the AS400 has already promised of it

    def __len__(self) -> int:
        return len(self.item)

    @classmethod
    def of(cls, columns: Columns) -> StockBalances:
        return cls(
            item=columns["SBITEM"],
            location=columns["SBMAG"],
            on_hand=columns["SBQOH"],
            promised=columns["SBQRS"],
        )


@dataclass(frozen=True)
class WebOrders:
    """A WEBORD file's records (every web order the AS400 knows), one list per field."""

    order_number: list[str]  # the web number (trimmed)
    as400_order_number: list[str]  # "" when blank
    status: list[str]  # O open, E shipped, A cancelled, S closed (shipped and cancelled)
    line_count: list[int]
    ordered: list[int]  # units ordered, as the AS400 counts them
    shipped: list[int]  # units shipped
    total: list[Decimal]  # amount incl. VAT
    ordered_on: list[date | None]

    def __len__(self) -> int:
        return len(self.order_number)

    @classmethod
    def of(cls, columns: Columns) -> WebOrders:
        return cls(
            order_number=[str(v).strip() for v in columns["WOWEBN"]],
            as400_order_number=[str(v).strip() for v in columns["WOCDE"]],
            status=[str(v).strip() for v in columns["WOSTAT"]],
            line_count=[int(v) for v in columns["WONBL"]],
            ordered=[int(v) for v in columns["WOQTC"]],
            shipped=[int(v) for v in columns["WOQTE"]],
            total=[Decimal(v) for v in columns["WOTOTL"]],
            ordered_on=[_day(v) for v in columns["WODATE"]],
        )


def _day(value: Any) -> date | None:
    try:
        return to_date(int(value))
    except (TypeError, ValueError):
        return None


# --- ORDACK -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AckRecord:
    """One ORDACK record: the AS400's answer to one web order it read."""

    order_number: str
    status: str  # A accepted, R refused, D duplicate (or anything else: the applier judges)
    as400_order_number: str  # "" when blank
    reason_code: str  # trimmed; a refusal's
    reason: str  # the code and its text, trimmed
    processed_at: datetime | None  # None when the AS400 gave no date


def ack_records(columns: Columns) -> list[AckRecord]:
    """An ORDACK file's records, in the file's order (a date that is not one raises ValueError)."""
    return [
        AckRecord(
            order_number=str(webn),
            status=str(columns["AKSTAT"][i]),
            as400_order_number=str(columns["AKCDE"][i]),
            reason_code=str(columns["AKRSN"][i]).strip(),
            reason=f"{columns['AKRSN'][i]} {columns['AKMSG'][i]}".strip(),
            processed_at=to_datetime(columns["AKDATE"][i], columns["AKTIME"][i]),  # not a date: ValueError
        )
        for i, webn in enumerate(columns["AKWEBN"])
    ]


# --- ORDSTS and STRRTN ------------------------------------------------------------------------


@dataclass(frozen=True)
class EventRecord:
    """One ORDSTS or STRRTN record, in the same shape for both files."""

    file: str
    source: str  # the pair it came in (ORDSTS_000012)
    number: int  # its position in the file, from 1
    key: str  # :func:`record_keys`: the same record in another file has the same key
    code: str  # the event's code, trimmed (ORDSTS OSEVT, STRRTN SRTYPE)
    order_number: str
    line_number: int
    item: str
    quantity: int
    as400_order_number: str = ""
    tracking: str = ""
    store: int | None = None
    reason: str = ""
    occurred_at: datetime | None = None

    @property
    def cause(self) -> str:
        return RECORD_CAUSE.format(file=self.file, code=self.code or "?", source=self.source, number=self.number)


def record_keys(file: str, columns: Columns) -> list[str]:
    """The key of each record: SHA-256 of the file name and its fields (``#n`` for a copy in the file)."""
    names = list(columns)
    count = len(columns[names[0]]) if names else 0
    seen: Counter[str] = Counter()
    keys = []
    for i in range(count):
        text = json.dumps([file, *[[name, str(columns[name][i])] for name in names]], ensure_ascii=False)
        seen[text] += 1
        if seen[text] > 1:
            text += f"#{seen[text]}"
        keys.append(hashlib.sha256(text.encode()).hexdigest())
    return keys


def ordsts_records(columns: Columns, source: str) -> list[EventRecord]:
    """An ORDSTS file's records (the AS400's events on web orders), in the file's order."""
    records = []
    for i, key in enumerate(record_keys("ORDSTS", columns)):
        value = {name: values[i] for name, values in columns.items()}
        records.append(
            EventRecord(
                file="ORDSTS", source=source, number=i + 1, key=key, code=str(value["OSEVT"]).strip(),
                order_number=str(value["OSWEBN"]), line_number=int(value["OSLIGN"]),
                item=str(value["OSITEM"]).strip(), quantity=int(value["OSQTE"]),
                as400_order_number=str(value["OSCDE"]), tracking=str(value["OSTRK"]).strip(),
                occurred_at=_when(value["OSDATE"], value["OSTIME"]),
            )
        )  # fmt: skip
    return records


def strrtn_records(columns: Columns, source: str) -> list[EventRecord]:
    """A STRRTN file's records (the stores' returns and counter cancellations), in the file's order."""
    records = []
    for i, key in enumerate(record_keys("STRRTN", columns)):
        value = {name: values[i] for name, values in columns.items()}
        records.append(
            EventRecord(
                file="STRRTN", source=source, number=i + 1, key=key, code=str(value["SRTYPE"]).strip(),
                order_number=str(value["SRWEBN"]), line_number=int(value["SRLIGN"]),
                item=str(value["SRITEM"]).strip(), quantity=int(value["SRQTE"]), store=int(value["SRMAG"]),
                reason=str(value["SRRSN"]).strip(), occurred_at=_when(value["SRDATE"], value["SRTIME"]),
            )
        )  # fmt: skip
    return records
