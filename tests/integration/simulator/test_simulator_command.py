"""`manage.py as400_simulator`: every subcommand through call_command, and bad arguments."""

from __future__ import annotations

import threading
from datetime import datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_django import Settings

from integration.as400.codec import PARIS
from integration.as400.simulator import Simulator, SimulatorConfig, StepReport
from integration.as400.simulator.testing import drop, item_with_stock, order_records, out_names

COMMAND = "as400_simulator"


@pytest.fixture
def configured(tmp_path: Path, settings: Settings) -> SimulatorConfig:
    """The settings point the command at tmp files; nothing moves unless a subcommand says so."""
    settings.AS400_SIMULATOR_DB = tmp_path / "as400.sqlite3"
    settings.AS400_EXCHANGE_DIR = tmp_path / "exchange"
    settings.AS400_SIMULATOR = {
        "start": datetime(2025, 11, 24, 10, 0, tzinfo=PARIS),
        "items": 150,
        "store_sales_per_hour": 0,
        "price_changes_per_day": 0,
        "auto_lifecycle": False,
        "sql_lock_wait_seconds": 0.0,
    }
    return SimulatorConfig.from_settings()


def run(*args: str) -> str:
    out = StringIO()
    call_command(COMMAND, *args, stdout=out)
    return out.getvalue()


def test_config_from_settings_uses_the_settings_paths(configured: SimulatorConfig, tmp_path: Path) -> None:
    assert configured.db_path == tmp_path / "as400.sqlite3"
    assert configured.exchange_dir == tmp_path / "exchange"
    assert configured.items == 150


def test_seed_is_idempotent_and_creates_the_exchange_folders(configured: SimulatorConfig) -> None:
    first = run("seed")
    second = run("seed")
    forced = run("seed", "--force", "--items", "40", "--seed", "3")

    assert "Seeded 150 items" in first
    assert "Nothing to do" in second
    assert "Seeded 40 items" in forced
    for sub in ("IN", "IN/DONE", "IN/ERR", "OUT"):
        assert (configured.exchange_dir / sub).is_dir()


def test_step_export_import_and_status(configured: SimulatorConfig) -> None:
    run("seed")

    stepped = run("step", "--minutes", "10")
    exported = run("export", "full", "stkbal")
    with Simulator(configured) as sim:
        item = item_with_stock(sim, 900)
    drop(configured, "ORDIMP", 1, order_records("WEB-CLI", [(item, 1, 900)]))
    imported = run("import")
    status = run("status")

    assert "wrote STKBAL_000001, STKBAL_000002" in stepped
    assert "Wrote STKBAL_000003 (F, 4650 records)" in exported
    assert "1 file(s) applied" in imported
    assert "A=1" in imported
    assert "2025-11-24 10:10:01" in status  # the ack is a second after the extract taken at 10:10:00
    assert "Web orders       O=1" in status
    assert "OUT ORDACK 000001" in status


def test_order_lifecycle_subcommands(configured: SimulatorConfig) -> None:
    run("seed")
    with Simulator(configured) as sim:
        item = item_with_stock(sim, 900, 5)
    drop(configured, "ORDIMP", 1, order_records("WEB-OPS", [(item, 3, 900)]))
    run("import")

    picked = run("pick", "WEB-OPS", "--line", "1", "--qty", "1")
    shipped = run("ship", "WEB-OPS")
    returned = run("return-store", "WEB-OPS", "--line", "1", "--qty", "1", "--store", "5")
    order = run("order", "WEB-OPS")

    assert "ORDSTS P WEB-OPS line 001" in picked
    assert "x1" in picked
    assert "ORDSTS E WEB-OPS line 001" in shipped
    assert "tracking 6A" in shipped
    assert "STRRTN R WEB-OPS line 001" in returned
    assert "at store 005" in returned
    assert "shipped 3" in order
    assert "returned 1" in order
    assert len(out_names(configured, "ORDSTS")) == 2
    assert out_names(configured, "STRRTN") == ["STRRTN_000001"]


def test_fault_subcommands(configured: SimulatorConfig) -> None:
    run("seed")

    on = run("fault", "on", "slow", "--value", "30")
    listed = run("fault", "list")
    off = run("fault", "off", "slow")
    corrupt = run("fault", "on", "corrupt", "--value", "digit", "--file", "stkbal")

    assert on.strip() == "slow: ON value=30"
    assert "slow: ON value=30" in listed
    assert "down: off" in listed
    assert off.strip() == "slow: off"
    assert corrupt.strip() == "corrupt: ON value=digit file=STKBAL (one-shot)"


def test_fault_on_with_an_item_and_the_new_faults_listed(configured: SimulatorConfig) -> None:
    run("seed")
    with Simulator(configured) as sim:
        item = item_with_stock(sim, 900)

    on = run("fault", "on", "price", "--value", "4.5", "--item", item)
    listed = run("fault", "list")

    assert on.strip() == f"price: ON value=4.50 item={item} (one-shot)"
    for name in ("lose", "duplicate", "nodelta", "noordsts", "price", "status"):
        assert f"{name}: " in listed
    with pytest.raises(CommandError, match="takes no item"):
        run("fault", "on", "lose", "--item", item)


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("nonsense",),
        ("seed", "--items", "0"),
        ("seed", "--items", "many"),
        ("step", "--minutes", "-5"),
        ("run", "--speed", "0"),
        ("export", "full"),
        ("export", "full", "ORDACK"),
        ("export", "everything", "STKBAL"),
        ("fault", "on", "meteor"),
        ("fault", "on", "slow", "--value", "later"),
        ("fault", "on", "refuse", "--file", "STKBAL"),
        ("fault",),
        ("ship", "NO-SUCH-ORDER"),
        ("ship", "WEB-1", "--qty", "2"),
        ("receive",),
    ],
)
def test_a_bad_argument_is_a_command_error(configured: SimulatorConfig, args: tuple[str, ...]) -> None:
    run("seed")

    with pytest.raises(CommandError):
        run(*args)


def test_commands_other_than_seed_need_a_seeded_simulator(configured: SimulatorConfig) -> None:
    with pytest.raises(CommandError, match="not seeded"):
        run("step", "--minutes", "5")


def test_run_stops_cleanly_when_asked(configured: SimulatorConfig) -> None:
    run("seed")
    stop = threading.Event()
    steps: list[datetime] = []

    def asked_after_the_first_step(report: StepReport) -> None:  # as the command's SIGTERM handler would
        steps.append(report.end)
        stop.set()

    with Simulator(configured) as sim:
        start = sim.now()
        bound = threading.Timer(60, stop.set)  # a bound should the loop never step, not a wait
        bound.start()
        try:
            ticks = sim.run(speed=600, tick=0.05, stop=stop, on_step=asked_after_the_first_step)
        finally:
            bound.cancel()

        assert steps, "the loop never stepped"
        assert ticks == 1  # it stopped at the first tick after being asked
        assert sim.now() == steps[0] > start
        for file in ("ITMMST", "STKBAL", "WEBORD"):
            assert out_names(configured, file)  # the initial full extracts, OUT/ had none
