"""Faults a test or an operator switches on at runtime, kept in the simulator's database.

The simulator speaks English (its command line, its log, its refusals). What the admin's simulator
page shows of a fault is marked for the catalogue here (``gettext_noop``: the help texts, and the
refusals' texts with their ``{placeholders}``) and translated by the page, in the reader's language.

Every process sees the same faults (they live in SIM_FAULT). Some stay on until switched off
(``down``, ``slow``, ``batch``, ``lock``); the others are one-shot: they act on the next file
(or order, or delta...) concerned and then switch themselves off. ``--file`` narrows a fault to
one file name.

Most faults spoil the exchange (a file refused, corrupted, skipped, sent twice). The last ones
(``lose`` and after) leave the files well formed and make the AS400's own data go wrong, the way
a real one does now and then, so that the nightly extracts disagree with the platform: that is
what reconciliation is there to find.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_noop

from integration.as400.simulator.clock import epoch, from_epoch
from integration.as400.simulator.errors import SimulatorError

OUT_FILES = ("ITMMST", "STKBAL", "WEBORD", "ORDACK", "ORDSTS", "STRRTN")
IN_FILES = ("ORDIMP", "ORDANN", "RTNIMP")
LOCKABLE_FILES = ("ITMMST", "STKBAL", "WEBORD")
DELTA_FILES = ("ITMMST", "STKBAL")
CORRUPTIONS = ("sign", "digit")
FORCED_STATUSES = ("E", "A", "S")  # what ``status`` makes of an open (O) web order
CENT = Decimal("0.01")
MAX_PRICE = Decimal("10000000")  # IMPRIX is 9P 2: 9999999.99 at most


@dataclass(frozen=True)
class FaultSpec:
    """What a fault does, and what its value and file mean."""

    name: str
    help: str
    one_shot: bool = False
    value_help: str = ""
    default_value: str | None = None
    files: tuple[str, ...] = ()
    #: What ``--item`` means for this fault ("" when it takes none): an item code of ITMMST.
    item_help: str = ""


FAULTS: dict[str, FaultSpec] = {
    spec.name: spec
    for spec in (
        FaultSpec("down", gettext_noop("The AS400 is down: nothing is read from IN/, nothing is written to OUT/, SQL "
                  "reads fail to connect.")),
        FaultSpec("slow", gettext_noop("Imports and exports are delayed by VALUE simulated minutes."),
                  value_help=gettext_noop("minutes"), default_value="30"),
        FaultSpec("batch", gettext_noop("The batch window is on now: imports stop, SQL reads fail with SQL0913.")),
        FaultSpec("lock", gettext_noop("A job holds the file (all of them without --file): SQL reads of it wait and "
                  "fail with SQL0913."), files=LOCKABLE_FILES),
        FaultSpec("refuse", gettext_noop("The next IN file (of --file) is refused whole and moved to IN/ERR/."),
                  one_shot=True, files=IN_FILES),
        FaultSpec("corrupt", gettext_noop("One field of the next export (of --file) is corrupted: VALUE 'sign' (an "
                  "invalid sign nibble) or 'digit' (a digit above 9), in a packed field; the .OK is "
                  "computed on the good data."), one_shot=True, value_help="sign|digit",
                  default_value="sign", files=OUT_FILES),
        FaultSpec("skip", gettext_noop("The next export (of --file) skips a sequence number."), one_shot=True,
                  files=OUT_FILES),
        FaultSpec("twice", gettext_noop("The next export (of --file) is written again under the next sequence number."),
                  one_shot=True, files=OUT_FILES),
        # Faults that make the AS400's data disagree with the platform's (for reconciliation).
        FaultSpec("lose", gettext_noop("The next web order the import accepts is acknowledged A, then lost: gone from "
                  "WEBORD, its quantities taken back off SBQRS, no ORDSTS ever."), one_shot=True),
        FaultSpec("duplicate", gettext_noop("The next web order the import accepts is imported again as <WEBN>-DUP, as "
                  "if a second file had carried it: two orders in WEBORD and SBQRS, one ORDACK."),
                  one_shot=True),
        FaultSpec("nodelta", gettext_noop("The next STKBAL delta (of --file ITMMST instead) is never exported: its changes "
                  "are consumed, no sequence number is skipped; only the next full shows them."),
                  one_shot=True, files=DELTA_FILES),
        FaultSpec("noordsts", gettext_noop("The next shipment (event E) happens (SBQOH and SBQRS fall, WEBORD shows it "
                  "shipped) but its ORDSTS E records are never written."), one_shot=True),
        FaultSpec("price", gettext_noop("At the next step the AS400 sets the price of --item (the first active item in "
                  "key order without it) to VALUE euros; the next ITMMST delta carries it."), one_shot=True,
                  value_help=gettext_noop("euros, like 12.34"),
                  item_help=gettext_noop("the item whose price changes (default: the first active item in key order)")),
        FaultSpec("status", gettext_noop("At the next step the AS400 sets the oldest open web order's WEBORD status to "
                  "VALUE on its own; no ORDSTS is written."), one_shot=True,
                  value_help=gettext_noop("WOSTAT E, A or S"), default_value="S"),
    )
}  # fmt: skip


@dataclass(frozen=True)
class FaultState:
    """One fault as it stands."""

    name: str
    active: bool
    value: str | None
    file: str | None
    changed_at: datetime | None
    item: str | None = None

    @property
    def spec(self) -> FaultSpec:
        return FAULTS[self.name]

    @property
    def minutes(self) -> int:
        """The value as a number of minutes (``slow``)."""
        return int(self.value or 0)

    def describe(self) -> str:
        if not self.active:
            return f"{self.name}: off"
        parts = [f"{self.name}: ON"]
        if self.value:
            parts.append(f"value={self.value}")
        if self.file:
            parts.append(f"file={self.file}")
        if self.item:
            parts.append(f"item={self.item}")
        if self.spec.one_shot:
            parts.append("(one-shot)")
        return " ".join(parts)


def _spec(name: str) -> FaultSpec:
    try:
        return FAULTS[name]
    except KeyError:
        raise SimulatorError(
            gettext_noop("unknown fault {name!r}; the faults are: {faults}"), name=name, faults=", ".join(FAULTS)
        ) from None


def _check_value(spec: FaultSpec, value: str | None) -> str | None:
    if value is None:
        if spec.name == "price":
            raise SimulatorError(gettext_noop("fault 'price' needs the new price in euros (--value 12.34)"))
        return spec.default_value
    if not spec.value_help:
        raise SimulatorError(gettext_noop("fault {name!r} takes no value"), name=spec.name)
    if spec.name == "slow":
        if not value.isdigit() or int(value) <= 0:
            raise SimulatorError(gettext_noop("fault 'slow' needs a positive number of minutes, not {value!r}"), value=value)
    elif spec.name == "corrupt" and value not in CORRUPTIONS:
        raise SimulatorError(
            gettext_noop("fault 'corrupt' takes {values}, not {value!r}"), values=" or ".join(CORRUPTIONS), value=value
        )
    elif spec.name == "price":
        return str(_price(value))
    elif spec.name == "status":
        value = value.strip().upper()
        if value not in FORCED_STATUSES:
            raise SimulatorError(
                gettext_noop("fault 'status' forces an open order's WOSTAT to {statuses}, not {value!r}"),
                statuses=", ".join(FORCED_STATUSES), value=value,
            )  # fmt: skip
    return value


def _price(text: str) -> Decimal:
    """A price in euros as IMPRIX (9P 2) holds it: positive, two decimals at most."""
    try:
        price = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        price = Decimal("NaN")
    if not price.is_finite() or price <= 0 or price != price.quantize(CENT) or price >= MAX_PRICE:
        raise SimulatorError(
            gettext_noop("fault 'price' needs a price in euros like 12.34 (under {limit}), not {text!r}"),
            limit=MAX_PRICE, text=text,
        )  # fmt: skip
    return price.quantize(CENT)


def _check_item(conn: sqlite3.Connection, spec: FaultSpec, item: str | None) -> str | None:
    if item is None:
        return None
    item = item.strip()
    if not spec.item_help:
        raise SimulatorError(gettext_noop("fault {name!r} takes no item"), name=spec.name)
    if conn.execute("SELECT 1 FROM ITMMST WHERE IMITEM = ?", (item,)).fetchone() is None:
        raise SimulatorError(gettext_noop("the AS400 has no item {item!r} (ITMMST)"), item=item)
    return item


def _check_file(spec: FaultSpec, file: str | None) -> str | None:
    if file is None:
        return None
    file = file.upper()
    if not spec.files:
        raise SimulatorError(gettext_noop("fault {name!r} applies to no particular file"), name=spec.name)
    if file not in spec.files:
        raise SimulatorError(
            gettext_noop("fault {name!r} applies to {files}, not {file!r}"), name=spec.name, files=", ".join(spec.files),
            file=file,
        )  # fmt: skip
    return file


def fault_set(
    conn: sqlite3.Connection,
    name: str,
    *,
    active: bool,
    at: datetime,
    value: str | None = None,
    file: str | None = None,
    item: str | None = None,
) -> FaultState:
    """Switch a fault on (with its value, file and item) or off."""
    spec = _spec(name)
    checked_value = _check_value(spec, value) if active else None
    checked_file = _check_file(spec, file) if active else None
    checked_item = _check_item(conn, spec, item) if active else None
    conn.execute(
        "INSERT INTO SIM_FAULT (NAME, ACTIVE, VALUE, FILE, ITEM, CHANGED_AT) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (NAME) DO UPDATE SET ACTIVE = excluded.ACTIVE, VALUE = excluded.VALUE, "
        "FILE = excluded.FILE, ITEM = excluded.ITEM, CHANGED_AT = excluded.CHANGED_AT",
        (name, int(active), checked_value, checked_file, checked_item, epoch(at)),
    )
    return FaultState(name, active, checked_value, checked_file, at, checked_item)


def fault_get(conn: sqlite3.Connection, name: str) -> FaultState:
    """A fault's state (off when it was never set)."""
    _spec(name)
    row = conn.execute("SELECT * FROM SIM_FAULT WHERE NAME = ?", (name,)).fetchone()
    if row is None:
        return FaultState(name, False, None, None, None)
    changed = from_epoch(row["CHANGED_AT"]) if row["CHANGED_AT"] is not None else None
    return FaultState(name, bool(row["ACTIVE"]), row["VALUE"], row["FILE"], changed, row["ITEM"])


def fault_active(conn: sqlite3.Connection, name: str, file: str | None = None) -> FaultState | None:
    """The fault if it is on (and, with ``file``, applies to that file), else None."""
    state = fault_get(conn, name)
    if not state.active:
        return None
    if file is not None and state.file is not None and state.file != file:
        return None
    return state


def fault_consume(
    conn: sqlite3.Connection, name: str, file: str | None = None, *, at: datetime
) -> FaultState | None:
    """A one-shot fault that applies to ``file`` (any, without): returned and switched off; None if it
    does not apply."""
    state = fault_active(conn, name, file)
    if state is None:
        return None
    fault_set(conn, name, active=False, at=at)
    return state


def fault_list(conn: sqlite3.Connection) -> list[FaultState]:
    """Every known fault, on or off, in the order of :data:`FAULTS`."""
    return [fault_get(conn, name) for name in FAULTS]


def faults_clear(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM SIM_FAULT")
