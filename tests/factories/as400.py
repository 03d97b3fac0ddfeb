"""The AS400's side of the exchange: real ITMMST/STKBAL pairs written into OUT/ as it writes them.

- ``as400_writer(exchange_dir)`` → ``write(file, seq, records, kind="F", at=datetime)``, which
  encodes the records (CCSID 297), writes the .DAT and its .OK control into OUT/ and returns the
  .DAT path; ``AS400Writer`` is its type (and the ``as400_out`` fixture's, tests/inventory/conftest.py).
- ``item(number, **values)``: an ITMMST record; ``stock(number, location, on_hand, promised=0)``: a
  STKBAL record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from integration.as400.codec import PARIS, RecordCodec
from integration.as400.control import control_for
from integration.as400.files import write_pair

AS400Writer = Callable[..., Path]


def as400_writer(exchange_dir: Path) -> AS400Writer:
    def write(
        file: str,
        seq: int,
        records: Iterable[Mapping[str, Any]],
        *,
        kind: str = "F",
        at: datetime | None = None,
    ) -> Path:
        data = RecordCodec.for_file(file, 297).encode_many(records)
        control = control_for(
            file, data, seq=seq, kind=kind, at=at or datetime(2026, 11, 22, 3, 45, tzinfo=PARIS), ccsid=297
        )
        dat, _ = write_pair(exchange_dir / "OUT", file, seq, data, control.encode(297))
        return dat

    return write


def item(number: str, **values: Any) -> dict[str, Any]:
    return {"IMITEM": number, "IMEAN": 0, "IMDESC": f"Article {number}", "IMFAMC": "F001", "IMPRIX": "10.00",
            "IMTVA": "1", "IMSTAT": "A", "IMDTCH": 1261120, **values}  # fmt: skip


def stock(number: str, location: int, on_hand: int, promised: int = 0) -> dict[str, Any]:
    return {
        "SBITEM": number,
        "SBMAG": location,
        "SBQOH": on_hand,
        "SBQRS": promised,
        "SBDTCH": 1261122,
        "SBHRCH": 30000,
    }
