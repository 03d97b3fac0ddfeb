"""From the simulated AS400 to the storefront's availability: its real files, through the real sync.

The simulator writes its extracts (EBCDIC pairs) into OUT/ as the AS400 would; the platform's sync
applies them; the figures the platform ends up with are checked against the simulator's own
tables. Faults of the simulator (a corrupt field, a skipped sequence number, a file exported twice)
must end as the contract and the issue say.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from integration.as400.codec import PARIS
from integration.as400.simulator.engine import Simulator
from integration.as400.sync import exchange_sync
from integration.models import Alert, FileRun
from inventory.models import Category, Product, StockLevel
from inventory.reference import locations_seed_default
from inventory.selectors import availability_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def simulator(tmp_path: Path, settings: Any) -> Iterator[Simulator]:
    settings.AS400_SIMULATOR_DB = tmp_path / "as400.sqlite3"
    settings.AS400_EXCHANGE_DIR = tmp_path / "exchange"
    tuesday_morning = datetime(2026, 11, 24, 10, 0, tzinfo=PARIS)  # stores open: deltas carry sales
    sim = Simulator.from_settings(items=300, auto_lifecycle=False, start=tuesday_morning)
    sim.seed(seed=11, items=300)
    locations_seed_default()
    yield sim
    sim.close()


def as400_stock(sim: Simulator) -> dict[tuple[str, int], tuple[int, int]]:
    rows = sim.sql("SELECT SBITEM, SBMAG, SBQOH, SBQRS FROM STKBAL")
    return {(str(i).strip(), int(m)): (int(q), int(r)) for i, m, q, r in rows}


def our_stock() -> dict[tuple[str, int], tuple[int, int]]:
    return {
        (s.product.item_number, s.location_id): (s.on_hand, s.promised)
        for s in StockLevel.objects.select_related("product")
    }


def assert_same_stock(sim: Simulator) -> None:
    """Every pair we hold has the AS400's figures, and every pair the AS400 holds stock for is ours."""
    theirs, ours = as400_stock(sim), our_stock()
    assert {k: theirs.get(k, (0, 0)) for k in ours} == ours
    assert {k for k, v in theirs.items() if v != (0, 0)} <= set(ours)


def outcomes(file: str) -> list[tuple[int, str]]:
    return list(FileRun.objects.filter(file=file).order_by("seq", "id").values_list("seq", "outcome"))


def test_the_nightly_extracts_and_the_days_deltas_end_in_the_as400s_figures(simulator: Simulator) -> None:
    simulator.initial_exports()

    first = exchange_sync()

    assert {r.file: r.outcome for r in first.runs} == {
        "ITMMST": "applied",
        "STKBAL": "applied",
        "WEBORD": "applied",
    }
    assert Product.objects.count() == 300
    assert_same_stock(simulator)
    simulator.step(minutes=180)  # a day of store sales, price changes and deltas every few minutes

    exchange_sync()

    assert [o for _, o in outcomes("STKBAL")] == ["applied"] * len(outcomes("STKBAL"))
    assert len(outcomes("STKBAL")) > 10
    assert_same_stock(simulator)
    prices = dict(simulator.sql("SELECT IMITEM, IMPRIX FROM ITMMST"))
    assert {p.item_number: p.price for p in Product.objects.all()} == {
        str(k).strip(): v for k, v in prices.items()
    }


def test_availability_obeys_the_formula_on_the_simulators_data(simulator: Simulator) -> None:
    simulator.initial_exports()
    exchange_sync()
    Category.objects.update(rollout_stage=Category.Stage.LIVE, safety_stock=2)
    product = Product.objects.filter(
        status="A", stock_levels__location_id=900, stock_levels__on_hand__gt=5
    ).first()
    assert product is not None
    sku = product.mapping.sku

    result = availability_for(skus=[sku], include_pilot=False)[sku]

    on_hand, promised = as400_stock(simulator)[(product.item_number, 900)]
    assert result.home_delivery == max(0, on_hand - promised - 2)
    assert result.as_of == FileRun.objects.get(file="STKBAL").taken_at


def test_a_corrupt_field_is_quarantined_and_the_next_full_extract_heals(simulator: Simulator) -> None:
    simulator.initial_exports()
    exchange_sync()
    simulator.fault_on("corrupt", file="STKBAL")
    simulator.step(minutes=12)  # two deltas of store sales, the first one corrupt

    exchange_sync()

    assert [o for _, o in outcomes("STKBAL")] == ["applied", "quarantined", "quarantined"], outcomes("STKBAL")
    run = FileRun.objects.filter(file="STKBAL", outcome="quarantined").order_by("seq").first()
    assert run is not None
    assert "not a valid packed decimal" in run.error or "not a valid zoned decimal" in run.error
    assert Alert.objects.filter(kind="file_refused").exists()
    assert Alert.objects.filter(kind="sequence_gap").exists()  # the delta after the refused one
    simulator.export("full", "STKBAL")
    exchange_sync()
    assert outcomes("STKBAL")[-1][1] == "applied"
    assert_same_stock(simulator)


def test_a_skipped_sequence_number_quarantines_the_delta_after_the_gap(simulator: Simulator) -> None:
    simulator.initial_exports()
    exchange_sync()
    simulator.fault_on("skip", file="STKBAL")
    simulator.step(minutes=30)

    exchange_sync()

    seqs = outcomes("STKBAL")
    assert seqs[0] == (1, "applied")
    assert seqs[1][0] == 3
    assert all(o == "quarantined" for _, o in seqs[1:])
    assert "STKBAL_000002 never arrived" in FileRun.objects.get(file="STKBAL", seq=3).error


def test_a_file_exported_twice_changes_nothing_the_second_time(simulator: Simulator) -> None:
    simulator.initial_exports()
    exchange_sync()
    simulator.step(minutes=60)
    exchange_sync()
    simulator.fault_on("twice", file="STKBAL")
    simulator.export("delta", "STKBAL")

    exchange_sync()

    assert [o for _, o in outcomes("STKBAL")] == ["applied"] * len(outcomes("STKBAL"))
    assert_same_stock(simulator)
