"""The inventory's fixtures: stores and the warehouse, and the AS400's side writing into OUT/.

The helpers that write real ITMMST/STKBAL pairs are in tests/factories/as400.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from inventory.models import Location
from tests.factories.as400 import AS400Writer, as400_writer


@pytest.fixture
def locations(db: None) -> list[Location]:
    stores = [Location(code=n, name=f"Magasin {n:03d}", click_and_collect=n <= 5) for n in range(1, 31)]
    warehouse = Location(code=900, name="Entrepôt central", kind=Location.Kind.WAREHOUSE)
    return Location.objects.bulk_create([*stores, warehouse])


@pytest.fixture
def as400_out(exchange_dir: Path) -> AS400Writer:
    """write(file, seq, records, kind="F", at=datetime) → the .DAT path, written as the AS400 would."""
    return as400_writer(exchange_dir)
