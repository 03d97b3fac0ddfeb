"""Helpers to play the AS400's side: write real ITMMST/STKBAL pairs into OUT/."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from integration.as400.codec import PARIS, RecordCodec
from integration.as400.control import control_for
from integration.as400.files import write_pair
from inventory.models import Location


@pytest.fixture
def locations(db: None) -> list[Location]:
    stores = [Location(code=n, name=f"Magasin {n:03d}", click_and_collect=n <= 5) for n in range(1, 31)]
    warehouse = Location(code=900, name="Entrepôt central", kind=Location.Kind.WAREHOUSE)
    return Location.objects.bulk_create([*stores, warehouse])


AS400Writer = Callable[..., Path]


@pytest.fixture
def as400_out(exchange_dir: Path) -> AS400Writer:
    """write(file, seq, records, kind="F", at=datetime) → the .DAT path, written as the AS400 would."""
    return _as400_writer(exchange_dir)


def _as400_writer(exchange_dir: Path) -> AS400Writer:
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
