"""The stock picture a full STKBAL leaves for the night's run: our projection of each pair just
before the extract, beside the extract's own figures, written by the sync's hooks in its
transaction (real EBCDIC pairs in a real folder, applied by the real sync)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from integration.as400.codec import PARIS
from integration.as400.sync import exchange_sync
from inventory.models import Location
from reconciliation.checks.stock import drift_by_category
from reconciliation.models import StockPicture
from tests.factories.as400 import AS400Writer, as400_writer, item, stock

pytestmark = pytest.mark.django_db

NIGHT = datetime(2026, 11, 22, 3, 45, tzinfo=PARIS)
MORNING = datetime(2026, 11, 22, 9, 15, tzinfo=PARIS)
NEXT_NIGHT = datetime(2026, 11, 23, 3, 45, tzinfo=PARIS)


@pytest.fixture
def as400_out(exchange_dir: Path) -> AS400Writer:
    Location.objects.bulk_create([Location(code=1, name="Magasin 001"), Location(code=900, name="Entrepôt")])
    return as400_writer(exchange_dir)


def picture() -> dict[tuple[str, int], tuple[int, int, int, int, int]]:
    """(item, location) → (seq, projected on hand, projected promised, on hand, promised)."""
    from inventory.models import Product

    items = dict(Product.objects.values_list("id", "item_number"))
    return {
        (items[p.product_id], p.location_id): (p.seq, p.projected_on_hand, p.projected_promised, p.on_hand, p.promised)
        for p in StockPicture.objects.all()
    }


def test_a_full_extract_keeps_our_projection_beside_its_figures_and_a_delta_leaves_it(
    as400_out: AS400Writer,
) -> None:
    # Given the first full extract (no stock before it), C3@900 holding nothing
    as400_out("ITMMST", 1, [item("A1"), item("B2"), item("C3")])
    as400_out(
        "STKBAL", 1, [stock("A1", 900, 10, 2), stock("A1", 1, 3), stock("B2", 900, 4), stock("C3", 900, 0)], at=NIGHT
    )
    exchange_sync()
    first = {("A1", 900): (1, 0, 0, 10, 2), ("A1", 1): (1, 0, 0, 3, 0), ("B2", 900): (1, 0, 0, 4, 0)}
    assert picture() == first  # a pair with nothing on either side is not kept

    # When a delta moves our projection, the picture stays the night's
    as400_out("STKBAL", 2, [stock("A1", 900, 7, 2)], kind="D", at=MORNING)
    exchange_sync()
    assert picture() == first

    # And the next full extract replaces it whole: ours just before (the delta's figures), the
    # extract's beside them, the pairs it zeroed and the one it carries for the first time
    as400_out("STKBAL", 3, [stock("A1", 900, 5, 1), stock("A1", 1, 3), stock("C3", 1, 2)], at=NEXT_NIGHT)
    exchange_sync()
    assert picture() == {
        ("A1", 900): (3, 7, 2, 5, 1),
        ("A1", 1): (3, 3, 0, 3, 0),
        ("B2", 900): (3, 4, 0, 0, 0),
        ("C3", 1): (3, 0, 0, 2, 0),
    }
    # The drift of the day, read from it: A1@900 showed 5 free units, the extract holds 4; B2 showed 4, holds 0
    assert sum(drift_by_category().values()) == 1 + 4
