"""Web orders inside the simulated AS400: acceptance, then the life of each line.

A line goes through these quantities (SIM_ORDLIN):

- QTCDE ordered; QTPRP picked (P); QTEXP shipped home (E) or made ready in store (L);
- QTANN cancelled by the AS400 (A: an ORDANN, or the operator); QTMAN cancelled at the store
  counter (STRRTN C: click and collect not picked up); QTRET returned (ORDSTS R for a return
  announced by RTNIMP, STRRTN R for one brought to a store counter).

Stock follows the contract: acceptance adds the quantity to SBQRS at the picking location
(OLMAG); shipping, or making ready in store, takes it off both SBQOH and SBQRS; a cancellation
releases SBQRS; goods coming back (a counter cancellation, a return) go back to SBQOH where they
arrive. Every change stamps SBDTCH/SBHRCH and the change log, so the next STKBAL delta carries it.

Functions here run inside the caller's transaction and return the records they queued.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from integration.as400.dds import load_layout
from integration.as400.simulator.clock import epoch, from_epoch
from integration.as400.simulator.config import SimulatorConfig
from integration.as400.simulator.db import counter_next, log_event, money, stamp, state_get, stock_move, to_db
from integration.as400.simulator.errors import NothingToDoError, OrderNotFoundError, SimulatorError
from integration.as400.simulator.exports import outbox_add
from integration.as400.simulator.faults import fault_active, fault_consume

# Reason codes of ORDACK R. ART0, MAG0 and STK0 are the contract's; ERR0 is the simulator's own, for
# an order whose records contradict each other (no lines, OHNBL wrong, a line of another order...).
UNKNOWN_ITEM = "ART0"
UNKNOWN_LOCATION = "MAG0"
NO_STOCK = "STK0"
INCONSISTENT = "ERR0"
# STRRTN reason codes the simulated stores write.
STORE_RETURN_REASON = "RMAG"
STORE_CANCEL_REASON = "NRET"
MODES = ("D", "C")


@dataclass(frozen=True)
class Decision:
    """What the import job answered for one web order (one ORDACK record)."""

    webn: str
    status: str
    cde: str = ""
    reason: str = ""
    message: str = ""


@dataclass(frozen=True)
class Line:
    """One order line and how far it has gone."""

    webn: str
    lign: int
    item: str
    mag: int
    qtcde: int
    qtprp: int
    qtexp: int
    qtann: int
    qtman: int
    qtret: int
    picked_at: int | None
    done_at: int | None
    collected: bool
    cde: str
    mode: str
    magl: int

    @property
    def open(self) -> int:
        """Still promised (counted in SBQRS): neither shipped nor cancelled."""
        return self.qtcde - self.qtann - self.qtexp

    @property
    def to_pick(self) -> int:
        return self.qtcde - self.qtann - self.qtprp

    @property
    def delivered(self) -> int:
        """Shipped or ready in store, less what came back or was cancelled at the counter."""
        return self.qtexp - self.qtman - self.qtret


# --- Acceptance (ORDIMP) ----------------------------------------------------------------------


def known_locations(conn: sqlite3.Connection) -> set[int]:
    return {row[0] for row in conn.execute("SELECT MAG FROM SIM_LOCATION")}


def order_cde(conn: sqlite3.Connection, webn: str) -> str | None:
    row = conn.execute("SELECT WOCDE FROM WEBORD WHERE WOWEBN = ?", (webn,)).fetchone()
    return None if row is None else row[0]


def order_import(
    conn: sqlite3.Connection,
    header: dict[str, Any],
    lines: list[dict[str, Any]],
    *,
    at: datetime,
    source: str,
    problem: str = "",
) -> Decision:
    """Decide on one web order (H and its L records) and, when accepted, record it.

    Known number → D. Records that contradict each other → R ERR0. An unknown item or location on
    any line → R ART0 / MAG0, an order for more than SBQOH − SBQRS at the picking location → R
    STK0: the whole order is refused. Otherwise A: a new AS400 order number, WEBORD status O, the
    quantities promised (SBQRS) at once.
    """
    webn = str(header["OHWEBN"])
    existing = order_cde(conn, webn)
    if existing is not None:
        return Decision(webn, "D", existing, "", f"Commande déjà reçue ({existing})")
    refusal = problem or _inconsistency(header, lines)
    if refusal:
        return Decision(webn, "R", "", INCONSISTENT, refusal)
    refusal_code, refusal_text = _refusal(conn, header, lines)
    if refusal_code:
        return Decision(webn, "R", "", refusal_code, refusal_text)

    return Decision(webn, "A", _record_order(conn, webn, header, lines, at=at, source=source))


def _record_order(
    conn: sqlite3.Connection,
    webn: str,
    header: dict[str, Any],
    lines: list[dict[str, Any]],
    *,
    at: datetime,
    source: str,
) -> str:
    """Record an accepted order under ``webn``: a new AS400 number (returned), WEBORD O, SBQRS."""
    cde = f"W{counter_next(conn, 'cde') + 100_000:09d}"
    day, _ = stamp(at)
    quantity = sum(int(line["OLQTE"]) for line in lines)
    conn.execute(
        "INSERT INTO WEBORD (WOWEBN, WOCDE, WOSTAT, WONBL, WOQTC, WOQTE, WOTOTL, WODATE) VALUES (?, ?, 'O', ?, ?, 0, ?, ?)",
        (webn, cde, len(lines), quantity, to_db(header["OHTOTL"]), header["OHDATE"] or day),
    )
    conn.execute(
        "INSERT INTO SIM_ORDER (WEBN, CDE, MODE, MAGL, NOM, PRN, CP, VIL, PAYS, MAIL, ACCEPTED_AT, SOURCE) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            webn, cde, header["OHMODE"], header["OHMAGL"], header["OHNOM"], header["OHPRN"], header["OHCP"],
            header["OHVIL"], header["OHPAYS"], header["OHMAIL"], epoch(at), source,
        ),
    )  # fmt: skip
    for line in lines:
        conn.execute(
            "INSERT INTO SIM_ORDLIN (WEBN, LIGN, ITEM, MAG, QTCDE, PRIX) VALUES (?, ?, ?, ?, ?, ?)",
            (webn, line["OLLIGN"], line["OLITEM"], line["OLMAG"], line["OLQTE"], to_db(line["OLPRIX"])),
        )
        stock_move(
            conn, item=str(line["OLITEM"]), location=int(line["OLMAG"]), promised=int(line["OLQTE"]), at=at
        )
    return cde


#: What the ``duplicate`` fault appends to a web order number for its copy (WOWEBN is 20A).
DUPLICATE_SUFFIX = "-DUP"


def duplicate_number(conn: sqlite3.Connection, webn: str) -> str:
    """The web order number of the copy the ``duplicate`` fault makes: ``<webn>-DUP``, then
    ``-DUP2``, ``-DUP3``... if taken, the number cut so that the whole fits WOWEBN's 20 characters."""
    size = load_layout("WEBORD").formats[0].field("WOWEBN").size
    n = 1
    while True:
        suffix = DUPLICATE_SUFFIX + (str(n) if n > 1 else "")
        candidate = webn.rstrip()[: size - len(suffix)] + suffix
        if order_cde(conn, candidate) is None:
            return candidate
        n += 1


def order_duplicate(
    conn: sqlite3.Connection,
    header: dict[str, Any],
    lines: list[dict[str, Any]],
    *,
    at: datetime,
    source: str,
) -> Decision:
    """Import an order accepted just now a second time under another number (fault ``duplicate``).

    As if a second file had carried it under that number: a second AS400 order, in WEBORD, its
    quantities promised again (SBQRS counts both), picked and shipped like any order. No check
    runs and no ORDACK is queued: the copy is there even if the stock does not cover both.
    """
    webn = duplicate_number(conn, str(header["OHWEBN"]))
    copy = {**header, "OHWEBN": webn}
    copied = [{**line, "OLWEBN": webn} for line in lines]
    return Decision(webn, "A", _record_order(conn, webn, copy, copied, at=at, source=source))


def _inconsistency(header: dict[str, Any], lines: list[dict[str, Any]]) -> str:
    if header.get("OHMODE") not in MODES:
        return f"Mode de livraison {header.get('OHMODE')!r} inconnu"
    if not lines:
        return "Commande sans ligne"
    if int(header.get("OHNBL") or 0) != len(lines):
        return f"OHNBL={header.get('OHNBL')} pour {len(lines)} lignes"
    numbers = [int(line["OLLIGN"]) for line in lines]
    if len(set(numbers)) != len(numbers):
        return "Numéro de ligne en double"
    for line in lines:
        if int(line["OLQTE"]) <= 0:
            return f"Quantité {line['OLQTE']} ligne {int(line['OLLIGN']):03d}"
    return ""


def _refusal(
    conn: sqlite3.Connection, header: dict[str, Any], lines: list[dict[str, Any]]
) -> tuple[str, str]:
    locations = known_locations(conn)
    if int(header["OHMAGL"]) not in locations:
        return UNKNOWN_LOCATION, f"Magasin de retrait inconnu : {int(header['OHMAGL']):03d}"
    for line in lines:
        lign = int(line["OLLIGN"])
        known = conn.execute("SELECT 1 FROM ITMMST WHERE IMITEM = ?", (line["OLITEM"],)).fetchone()
        if known is None:
            return UNKNOWN_ITEM, f"Article inconnu : {line['OLITEM']} (ligne {lign:03d})"[:50]
        if int(line["OLMAG"]) not in locations:
            return UNKNOWN_LOCATION, f"Magasin inconnu : {int(line['OLMAG']):03d} (ligne {lign:03d})"
    wanted: dict[tuple[str, int], int] = {}
    for line in lines:
        key = (str(line["OLITEM"]), int(line["OLMAG"]))
        wanted[key] = wanted.get(key, 0) + int(line["OLQTE"])
        row = conn.execute("SELECT SBQOH, SBQRS FROM STKBAL WHERE SBITEM = ? AND SBMAG = ?", key).fetchone()
        available = 0 if row is None else int(row["SBQOH"]) - int(row["SBQRS"])
        if wanted[key] > available:
            text = f"Stock insuffisant {key[0]} mag {key[1]:03d} dispo {max(available, 0)}"
            return NO_STOCK, text[:50]
    return "", ""


def order_lose(conn: sqlite3.Connection, webn: str, *, at: datetime) -> int:
    """The AS400 loses an order it accepted (fault ``lose``); the number of lines lost.

    It is gone from WEBORD and from the simulator's own tables, so nothing ever happens to it
    again (no ORDSTS; an ORDANN for it finds nothing; the number sent again is a new order), and
    what it still promised is taken back off SBQRS (stamped, so the next STKBAL delta carries it).
    """
    lines = order_lines(conn, webn)
    for line in lines:
        if line.open > 0:
            stock_move(conn, item=line.item, location=line.mag, promised=-line.open, at=at)
    conn.execute("DELETE FROM WEBORD WHERE WOWEBN = ?", (webn,))
    for table in ("SIM_ORDLIN", "SIM_RETURN", "SIM_ORDER"):
        conn.execute(f"DELETE FROM {table} WHERE WEBN = ?", (webn,))
    return len(lines)


def ack_record(decision: Decision, at: datetime) -> dict[str, Any]:
    """The ORDACK record of a decision; AKDATE/AKTIME are the processing time."""
    day, clock = stamp(at)
    return {
        "AKWEBN": decision.webn,
        "AKCDE": decision.cde,
        "AKSTAT": decision.status,
        "AKRSN": decision.reason,
        "AKMSG": decision.message[:50] if decision.status == "R" else "",
        "AKDATE": day,
        "AKTIME": clock,
    }


# --- Lines ------------------------------------------------------------------------------------


def order_lines(conn: sqlite3.Connection, webn: str, line: int | None = None) -> list[Line]:
    """The lines of an order (or one of them); OrderNotFoundError if there is no such order or line."""
    order = conn.execute("SELECT CDE, MODE, MAGL FROM SIM_ORDER WHERE WEBN = ?", (webn,)).fetchone()
    if order is None:
        raise OrderNotFoundError(f"the AS400 has no web order {webn!r}")
    sql = (
        "SELECT * FROM SIM_ORDLIN WHERE WEBN = ?"
        + (" AND LIGN = ?" if line is not None else "")
        + " ORDER BY LIGN"
    )
    params: tuple[Any, ...] = (webn,) if line is None else (webn, line)
    rows = conn.execute(sql, params).fetchall()
    if not rows:
        raise OrderNotFoundError(f"web order {webn} has no line {line}")
    return [
        Line(
            r["WEBN"],
            r["LIGN"],
            r["ITEM"],
            r["MAG"],
            r["QTCDE"],
            r["QTPRP"],
            r["QTEXP"],
            r["QTANN"],
            r["QTMAN"],
            r["QTRET"],
            r["PICKED_AT"],
            r["DONE_AT"],
            bool(r["COLLECTED"]),
            order["CDE"],
            order["MODE"],
            order["MAGL"],
        )
        for r in rows
    ]


def _status_record(line: Line, event: str, quantity: int, at: datetime, tracking: str = "") -> dict[str, Any]:
    day, clock = stamp(at)
    return {
        "OSWEBN": line.webn,
        "OSCDE": line.cde,
        "OSLIGN": line.lign,
        "OSITEM": line.item,
        "OSQTE": quantity,
        "OSEVT": event,
        "OSTRK": tracking,
        "OSDATE": day,
        "OSTIME": clock,
    }


def _queue_status(
    conn: sqlite3.Connection, line: Line, event: str, quantity: int, at: datetime, tracking: str = ""
) -> dict[str, Any]:
    record = _status_record(line, event, quantity, at, tracking)
    outbox_add(conn, "ORDSTS", record, at=at)
    return record


def _amount(available: int, qty: int | None, what: str, line: Line, *, strict: bool) -> int:
    if qty is None:
        return available
    if qty <= 0:
        raise SimulatorError(f"a quantity must be positive, not {qty}")
    if qty > available:
        if strict:
            raise NothingToDoError(
                f"line {line.lign} of {line.webn}: only {available} left to {what}, not {qty}"
            )
        return available
    return qty


def _check_qty_scope(line: int | None, qty: int | None) -> None:
    if qty is not None and line is None:
        raise SimulatorError("a quantity (--qty) needs a line (--line)")


def order_pick(
    conn: sqlite3.Connection, webn: str, *, line: int | None = None, qty: int | None = None, at: datetime
) -> list[dict[str, Any]]:
    """The warehouse or the store picks (P): nothing moves in stock yet."""
    _check_qty_scope(line, qty)
    events = []
    for item in order_lines(conn, webn, line):
        amount = _amount(item.to_pick, qty, "pick", item, strict=True)
        if amount <= 0:
            continue
        conn.execute(
            "UPDATE SIM_ORDLIN SET QTPRP = QTPRP + ?, PICKED_AT = ? WHERE WEBN = ? AND LIGN = ?",
            (amount, epoch(at), webn, item.lign),
        )
        events.append(_queue_status(conn, item, "P", amount, at))
    if not events:
        raise NothingToDoError(f"nothing left to pick on {webn}" + (f" line {line}" if line else ""))
    return events


def order_ship(
    conn: sqlite3.Connection, webn: str, *, line: int | None = None, qty: int | None = None, at: datetime
) -> list[dict[str, Any]]:
    """Ship a home delivery (E, with a tracking number); what was not picked yet is picked first (P)."""
    return _deliver(conn, webn, line=line, qty=qty, at=at, mode="D")


def order_ready(
    conn: sqlite3.Connection, webn: str, *, line: int | None = None, qty: int | None = None, at: datetime
) -> list[dict[str, Any]]:
    """Make a click and collect order ready in store (L); what was not picked yet is picked first (P)."""
    return _deliver(conn, webn, line=line, qty=qty, at=at, mode="C")


def _deliver(
    conn: sqlite3.Connection, webn: str, *, line: int | None, qty: int | None, at: datetime, mode: str
) -> list[dict[str, Any]]:
    _check_qty_scope(line, qty)
    lines = order_lines(conn, webn, line)
    if lines[0].mode != mode:
        wanted = "ready (click and collect)" if lines[0].mode == "C" else "ship (home delivery)"
        raise SimulatorError(
            f"web order {webn} is {'click and collect' if lines[0].mode == 'C' else 'home delivery'}: use {wanted}"
        )
    event = "E" if mode == "D" else "L"
    tracking = f"6A{counter_next(conn, 'tracking') + 10_000_000_000:011d}" if mode == "D" else ""
    events = []
    moved = False
    silent: bool | None = None  # whether this shipment writes no ORDSTS E (decided at its first line)
    for item in lines:
        amount = _amount(item.open, qty, "ship" if mode == "D" else "make ready", item, strict=True)
        if amount <= 0:
            continue
        unpicked = amount - (item.qtprp - item.qtexp)
        if unpicked > 0:
            conn.execute(
                "UPDATE SIM_ORDLIN SET QTPRP = QTPRP + ?, PICKED_AT = ? WHERE WEBN = ? AND LIGN = ?",
                (unpicked, epoch(at), webn, item.lign),
            )
            events.append(_queue_status(conn, item, "P", unpicked, at))
        conn.execute(
            "UPDATE SIM_ORDLIN SET QTEXP = QTEXP + ?, DONE_AT = ?, TRACKING = ? WHERE WEBN = ? AND LIGN = ?",
            (amount, epoch(at), tracking, webn, item.lign),
        )
        stock_move(conn, item=item.item, location=item.mag, on_hand=-amount, promised=-amount, at=at)
        moved = True
        if event == "E" and silent is None:
            silent = fault_consume(conn, "noordsts", "ORDSTS", at=at) is not None
        if silent:
            log_event(
                conn,
                at,
                "fault",
                f"{webn} line {item.lign:03d} shipped x{amount}, no ORDSTS E (fault noordsts)",
            )
        else:
            events.append(_queue_status(conn, item, event, amount, at, tracking))
    if not moved:
        raise NothingToDoError(f"nothing left to deliver on {webn}" + (f" line {line}" if line else ""))
    weborder_refresh(conn, webn)
    return events


def order_cancel(
    conn: sqlite3.Connection,
    webn: str,
    *,
    line: int | None = None,
    qty: int | None = None,
    at: datetime,
    strict: bool = True,
) -> list[dict[str, Any]]:
    """Cancel (A) what can still be cancelled: neither shipped nor ready in store; SBQRS released.

    ``strict`` (operator): asking for more than is left, or for nothing, is an error. Not strict
    (an ORDANN): cancels what it can, up to the quantity asked, and answers nothing for the rest.
    """
    _check_qty_scope(line, qty)
    events = []
    for item in order_lines(conn, webn, line):
        amount = _amount(item.open, qty, "cancel", item, strict=strict)
        if amount <= 0:
            continue
        # What was picked but not shipped goes back on the shelf: the picked count follows.
        picked = min(item.qtprp, item.qtcde - item.qtann - amount)
        conn.execute(
            "UPDATE SIM_ORDLIN SET QTANN = QTANN + ?, QTPRP = ? WHERE WEBN = ? AND LIGN = ?",
            (amount, picked, webn, item.lign),
        )
        stock_move(conn, item=item.item, location=item.mag, promised=-amount, at=at)
        events.append(_queue_status(conn, item, "A", amount, at))
    if not events and strict:
        raise NothingToDoError(f"nothing left to cancel on {webn}" + (f" line {line}" if line else ""))
    if events:
        weborder_refresh(conn, webn)
    return events


def _store_record(
    line: Line, kind: str, store: int, quantity: int, reason: str, at: datetime
) -> dict[str, Any]:
    day, clock = stamp(at)
    return {
        "SRWEBN": line.webn,
        "SRMAG": store,
        "SRLIGN": line.lign,
        "SRITEM": line.item,
        "SRQTE": quantity,
        "SRTYPE": kind,
        "SRRSN": reason,
        "SRDATE": day,
        "SRTIME": clock,
    }


def store_cancel(
    conn: sqlite3.Connection,
    webn: str,
    *,
    line: int | None = None,
    qty: int | None = None,
    at: datetime,
    reason: str = STORE_CANCEL_REASON,
) -> list[dict[str, Any]]:
    """A click and collect order not picked up, cancelled at the store counter (STRRTN C).

    Only what is ready in store and not collected; the goods go back on the store's shelf (SBQOH).
    """
    _check_qty_scope(line, qty)
    events = []
    for item in order_lines(conn, webn, line):
        if item.mode != "C":
            raise SimulatorError(
                f"web order {webn} is a home delivery: only click and collect is cancelled at a counter"
            )
        waiting = 0 if item.collected else item.delivered
        amount = _amount(waiting, qty, "cancel at the counter", item, strict=True)
        if amount <= 0:
            continue
        conn.execute(
            "UPDATE SIM_ORDLIN SET QTMAN = QTMAN + ? WHERE WEBN = ? AND LIGN = ?", (amount, webn, item.lign)
        )
        stock_move(conn, item=item.item, location=item.magl, on_hand=amount, at=at)
        record = _store_record(item, "C", item.magl, amount, reason, at)
        outbox_add(conn, "STRRTN", record, at=at)
        events.append(record)
    if not events:
        raise NothingToDoError(f"nothing of {webn} waits in store to be cancelled")
    weborder_refresh(conn, webn)
    return events


def store_return(
    conn: sqlite3.Connection,
    webn: str,
    *,
    line: int | None = None,
    qty: int | None = None,
    store: int | None = None,
    at: datetime,
    reason: str = STORE_RETURN_REASON,
) -> list[dict[str, Any]]:
    """Goods of a web order brought back to a store counter (STRRTN R); they go back on its shelf."""
    _check_qty_scope(line, qty)
    lines = order_lines(conn, webn, line)
    where = store if store is not None else (lines[0].magl if lines[0].magl != 900 else None)
    if where is None:
        raise SimulatorError(
            f"web order {webn} was delivered home: say which store takes the return (--store)"
        )
    if where not in known_locations(conn) or where == 900:
        raise SimulatorError(f"{where:03d} is not a store (001 to 030)")
    events = []
    for item in lines:
        amount = _amount(item.delivered, qty, "return", item, strict=True)
        if amount <= 0:
            continue
        conn.execute(
            "UPDATE SIM_ORDLIN SET QTRET = QTRET + ?, COLLECTED = 1 WHERE WEBN = ? AND LIGN = ?",
            (amount, webn, item.lign),
        )
        stock_move(conn, item=item.item, location=where, on_hand=amount, at=at)
        record = _store_record(item, "R", where, amount, reason, at)
        outbox_add(conn, "STRRTN", record, at=at)
        events.append(record)
    if not events:
        raise NothingToDoError(f"nothing of {webn} was delivered that could be returned")
    return events


# --- Announced returns (RTNIMP) ---------------------------------------------------------------


def return_announce(
    conn: sqlite3.Connection, config: SimulatorConfig, record: dict[str, Any], *, at: datetime, source: str
) -> bool:
    """Expect the goods of an RTNIMP record; False (and a log line) if the order or line is unknown."""
    webn, lign = str(record["RIWEBN"]), int(record["RILIGN"])
    known = conn.execute("SELECT 1 FROM SIM_ORDLIN WHERE WEBN = ? AND LIGN = ?", (webn, lign)).fetchone()
    if known is None or int(record["RIMAG"]) not in known_locations(conn) or int(record["RIQTE"]) <= 0:
        log_event(conn, at, "import", f"{source}: return {record['RIRMA']} for {webn} line {lign} ignored")
        return False
    due = at + timedelta(minutes=config.return_arrival_minutes)
    conn.execute(
        "INSERT INTO SIM_RETURN (WEBN, RMA, LIGN, ITEM, QTE, RSN, MAG, ANNOUNCED_AT, DUE_AT, SOURCE) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (webn, record["RIRMA"], lign, record["RIITEM"], record["RIQTE"], record["RIRSN"], record["RIMAG"],
         epoch(at), epoch(due), source),
    )  # fmt: skip
    return True


def return_receive(
    conn: sqlite3.Connection, webn: str, *, line: int | None = None, at: datetime, only_due: bool = False
) -> list[dict[str, Any]]:
    """The goods of announced returns arrive: ORDSTS R, back into SBQOH at the receiving location."""
    sql = "SELECT * FROM SIM_RETURN WHERE WEBN = ? AND RECEIVED_AT IS NULL"
    params: list[Any] = [webn]
    if line is not None:
        sql += " AND LIGN = ?"
        params.append(line)
    if only_due:
        sql += " AND DUE_AT <= ?"
        params.append(epoch(at))
    rows = conn.execute(sql + " ORDER BY ID", params).fetchall()
    if not rows and not only_due:
        raise NothingToDoError(f"no return of {webn} is expected" + (f" for line {line}" if line else ""))
    events = []
    for ret in rows:
        item = order_lines(conn, ret["WEBN"], ret["LIGN"])[0]
        quantity = int(ret["QTE"])
        conn.execute("UPDATE SIM_RETURN SET RECEIVED_AT = ? WHERE ID = ?", (epoch(at), ret["ID"]))
        conn.execute("UPDATE SIM_ORDLIN SET QTRET = QTRET + ?, COLLECTED = 1 WHERE WEBN = ? AND LIGN = ?",
                     (quantity, item.webn, item.lign))  # fmt: skip
        stock_move(conn, item=str(ret["ITEM"]), location=int(ret["MAG"]), on_hand=quantity, at=at)
        record = _status_record(item, "R", quantity, at)
        record["OSITEM"] = str(ret["ITEM"])
        outbox_add(conn, "ORDSTS", record, at=at)
        events.append(record)
    return events


# --- WEBORD -----------------------------------------------------------------------------------


def weborder_refresh(conn: sqlite3.Connection, webn: str) -> None:
    """WOSTAT, WOQTC, WOQTE and WOTOTL from the lines: O open, E all shipped, A all cancelled, S
    closed with both; the units and the amount ordered less those cancelled (at the AS400 or at a
    store counter); the units shipped (or handed in store) and kept."""
    rows = conn.execute(
        "SELECT QTCDE - QTANN - QTEXP AS OPEN, QTEXP - QTMAN AS SHIPPED, QTANN + QTMAN AS CANCELLED, "
        "QTCDE - QTANN - QTMAN AS DUE, PRIX FROM SIM_ORDLIN WHERE WEBN = ?",
        (webn,),
    ).fetchall()
    if not rows:
        return
    opened = sum(int(r["OPEN"]) for r in rows)
    shipped = sum(int(r["SHIPPED"]) for r in rows)
    cancelled = sum(int(r["CANCELLED"]) for r in rows)
    due = sum(int(r["DUE"]) for r in rows)
    amount = sum((money(r["PRIX"]) * int(r["DUE"]) for r in rows), Decimal(0))
    if opened > 0:
        status = "O"
    elif shipped == 0:
        status = "A"
    elif cancelled == 0:
        status = "E"
    else:
        status = "S"
    conn.execute(
        "UPDATE WEBORD SET WOSTAT = ?, WOQTC = ?, WOQTE = ?, WOTOTL = ? WHERE WOWEBN = ?",
        (status, due, shipped, to_db(amount), webn),
    )


def status_fault(conn: sqlite3.Connection, at: datetime) -> str:
    """The ``status`` fault, if on: the oldest open web order's WOSTAT forced now; what it did.

    The oldest is the first accepted (then the lowest number) of those WEBORD shows O. Nothing
    else changes: no ORDSTS is written, the lines are as they were (an event on the order later
    sets WOSTAT from its lines again, as the AS400's own programs would). With no open order
    the fault waits for one.
    """
    fault = fault_active(conn, "status")
    if fault is None:
        return ""
    row = conn.execute(
        "SELECT w.WOWEBN FROM WEBORD w JOIN SIM_ORDER o ON o.WEBN = w.WOWEBN WHERE w.WOSTAT = 'O' "
        "ORDER BY o.ACCEPTED_AT, w.WOWEBN LIMIT 1"
    ).fetchone()
    if row is None:
        return ""
    fault_consume(conn, "status", at=at)
    status = fault.value or "S"
    conn.execute("UPDATE WEBORD SET WOSTAT = ? WHERE WOWEBN = ?", (status, row["WOWEBN"]))
    note = f"fault status: web order {row['WOWEBN']} O -> {status}, no ORDSTS"
    log_event(conn, at, "fault", note)
    return note


def order_total(conn: sqlite3.Connection, webn: str) -> Decimal:
    row = conn.execute("SELECT WOTOTL FROM WEBORD WHERE WOWEBN = ?", (webn,)).fetchone()
    return money(row[0]) if row else Decimal(0)


# --- What happens by itself -------------------------------------------------------------------


def _percent(seed: int, *parts: object) -> int:
    """A stable number 0-99 for a decision (not collected, returned...), the same on every run."""
    digest = hashlib.sha256(":".join(str(p) for p in (seed, *parts)).encode()).hexdigest()
    return int(digest[:8], 16) % 100


def lifecycle_tick(conn: sqlite3.Connection, config: SimulatorConfig, *, at: datetime) -> int:
    """Move orders on by themselves (picking, shipping, collection, returns); the number of records."""
    now = epoch(at)
    count = 0
    for row in conn.execute(
        "SELECT DISTINCT WEBN FROM SIM_RETURN WHERE RECEIVED_AT IS NULL AND DUE_AT <= ? ORDER BY WEBN", (now,)
    ).fetchall():
        count += len(return_receive(conn, row["WEBN"], at=at, only_due=True))
    if not config.auto_lifecycle:
        return count
    seed = int((state_get(conn, "seeded") or {}).get("seed", config.seed))

    pick_before = now - config.pick_after_minutes * 60
    for row in conn.execute(
        "SELECT DISTINCT l.WEBN FROM SIM_ORDLIN l JOIN SIM_ORDER o ON o.WEBN = l.WEBN "
        "WHERE l.QTCDE - l.QTANN - l.QTPRP > 0 AND o.ACCEPTED_AT <= ? ORDER BY o.ACCEPTED_AT, l.WEBN",
        (pick_before,),
    ).fetchall():
        count += len(order_pick(conn, row["WEBN"], at=at))

    ship_before = now - config.ship_after_minutes * 60
    for row in conn.execute(
        "SELECT DISTINCT l.WEBN, o.MODE FROM SIM_ORDLIN l JOIN SIM_ORDER o ON o.WEBN = l.WEBN "
        "WHERE l.QTPRP - l.QTEXP > 0 AND l.PICKED_AT <= ? ORDER BY l.WEBN",
        (ship_before,),
    ).fetchall():
        deliver = order_ship if row["MODE"] == "D" else order_ready
        for item in order_lines(conn, row["WEBN"]):
            waiting = item.qtprp - item.qtexp
            if waiting > 0:
                count += len(deliver(conn, item.webn, line=item.lign, qty=waiting, at=at))

    collect_before = now - config.collect_within_minutes * 60
    for row in conn.execute(
        "SELECT l.WEBN, l.LIGN FROM SIM_ORDLIN l JOIN SIM_ORDER o ON o.WEBN = l.WEBN "
        "WHERE o.MODE = 'C' AND l.COLLECTED = 0 AND l.QTEXP - l.QTMAN - l.QTRET > 0 AND l.DONE_AT <= ? "
        "ORDER BY l.WEBN, l.LIGN",
        (collect_before,),
    ).fetchall():
        if _percent(seed, row["WEBN"], row["LIGN"], "collect") < config.not_collected_percent:
            count += len(store_cancel(conn, row["WEBN"], line=row["LIGN"], at=at))
        conn.execute(
            "UPDATE SIM_ORDLIN SET COLLECTED = 1 WHERE WEBN = ? AND LIGN = ?", (row["WEBN"], row["LIGN"])
        )

    return_before = now - config.store_return_after_minutes * 60
    for row in conn.execute(
        "SELECT l.WEBN, l.LIGN, o.MODE, o.MAGL FROM SIM_ORDLIN l JOIN SIM_ORDER o ON o.WEBN = l.WEBN "
        "WHERE l.AFTERCARE = 0 AND l.QTEXP - l.QTMAN - l.QTRET > 0 AND l.DONE_AT <= ? "
        "AND (o.MODE = 'D' OR l.COLLECTED = 1) ORDER BY l.WEBN, l.LIGN",
        (return_before,),
    ).fetchall():
        conn.execute(
            "UPDATE SIM_ORDLIN SET AFTERCARE = 1 WHERE WEBN = ? AND LIGN = ?", (row["WEBN"], row["LIGN"])
        )
        if _percent(seed, row["WEBN"], row["LIGN"], "return") < config.store_return_percent:
            store = row["MAGL"] if row["MODE"] == "C" else 1 + _percent(seed, row["WEBN"], "store") % 30
            count += len(store_return(conn, row["WEBN"], line=row["LIGN"], qty=1, store=store, at=at))
    return count


def line_summary(line: Line) -> str:
    picked = from_epoch(line.picked_at).strftime("%d/%m %H:%M") if line.picked_at else "-"
    return (
        f"{line.webn} line {line.lign:03d} {line.item} at {line.mag:03d}: ordered {line.qtcde}, picked {line.qtprp} "
        f"({picked}), shipped {line.qtexp}, cancelled {line.qtann}, counter-cancelled {line.qtman}, returned {line.qtret}"
    )
