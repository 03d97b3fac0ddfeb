"""The live stock reader: its registry, and one contract run against every adapter that reads SQL.

The contract suite takes the ``reader`` fixture and so runs once per adapter, on the same rows
(``ROWS``): ``simulator`` (the AS400 simulator's STKBAL, opened at TUESDAY so that it is not in its
batch window) and ``legacy`` (a real ``legacy`` database alias, as the adapter expects, on a SQLite
file holding STKBAL as the DDS lays it out, attached as ``ERPLIB`` so that the adapter's own
``ERPLIB.STKBAL`` is what it reads).

The ``legacy`` alias is added for this module only (``legacy_database``, module-scoped, so that it
is there before pytest-django's per-test setup checks the aliases a test names): after the test
databases are set up (none is made for it, it is the AS400's), to ``settings.DATABASES`` and to
Django's connections, and taken out of both at the end.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS

from integration.as400.dds import load_layout
from integration.as400.live import (
    READERS,
    LegacyDatabaseReader,
    LegacyRouter,
    LiveFigures,
    LiveReadUnavailable,
    LiveStockReader,
    NoLiveReader,
    SimulatorLiveReader,
    get_live_reader,
    live_reader_class,
)
from integration.as400.simulator.db import table_ddl, transaction
from integration.as400.simulator.engine import Simulator
from tests.legacy_alias import legacy_alias
from tests.moments import TUESDAY

#: STKBAL rows (SBITEM, SBMAG, SBQOH, SBQRS), given alike to the simulator and the legacy database.
ROWS = [
    ("1000123", 900, 12, 5),
    ("1000123", 101, 3, 0),
    ("1000456", 900, 4, 7),  # more promised than on hand: free is negative, as the AS400 says
    ("1000789", 900, 0, 0),
]
LEGACY = "legacy"

# --- The registry ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "cls"),
    [("none", NoLiveReader), ("simulator", SimulatorLiveReader), ("legacy", LegacyDatabaseReader)],
)
def test_a_short_name_gives_its_adapter(settings: Any, name: str, cls: type[LiveStockReader]) -> None:
    settings.AS400_LIVE_READER = name

    assert live_reader_class(name) is cls
    assert type(get_live_reader()) is cls


def test_a_dotted_path_to_a_reader_is_taken(settings: Any) -> None:
    settings.AS400_LIVE_READER = "integration.as400.live.none.NoLiveReader"

    assert type(get_live_reader()) is NoLiveReader
    assert set(READERS) == {"none", "simulator", "legacy"}


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("nope.Reader", "which cannot be imported"),
        ("db2", "which cannot be imported"),  # not a short name, and not a dotted path
        ("integration.as400.live.get_live_reader", "which is not a class (a function)"),
        ("integration.as400.live.READERS", "which is not a class (a dict)"),
        ("integration.as400.live.LegacyRouter", "which is not a concrete LiveStockReader subclass"),
        ("integration.as400.live.base.LiveStockReader", "which is not a concrete LiveStockReader subclass"),
    ],
)
def test_the_registry_refuses_what_is_not_a_reader(settings: Any, value: str, says: str) -> None:
    settings.AS400_LIVE_READER = value

    with pytest.raises(ImproperlyConfigured) as excinfo:
        get_live_reader()

    message = str(excinfo.value)
    assert message.startswith(f"AS400_LIVE_READER is {value!r}, {says}")
    assert "none, simulator, legacy" in message


# --- The adapters -------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def legacy_database(tmp_path_factory: pytest.TempPathFactory, django_db_setup: None) -> Iterator[Path]:
    """The AS400's DB2 as the ``legacy`` alias: a SQLite file with ERPLIB.STKBAL holding ROWS."""
    path = tmp_path_factory.mktemp("legacy") / "db2.sqlite3"
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(table_ddl(load_layout("STKBAL")))
        conn.executemany("INSERT INTO STKBAL (SBITEM, SBMAG, SBQOH, SBQRS) VALUES (?, ?, ?, ?)", ROWS)
    quoted = str(path).replace("'", "''")
    config = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {"init_command": f"ATTACH DATABASE '{quoted}' AS ERPLIB"},
    }
    with legacy_alias(config):
        yield path


@pytest.fixture
def simulator(tmp_path: Path, settings: Any) -> Iterator[Simulator]:
    """The simulator holding ROWS in its STKBAL (not seeded: nothing else is there)."""
    settings.AS400_SIMULATOR_DB = tmp_path / "as400.sqlite3"
    settings.AS400_EXCHANGE_DIR = tmp_path / "exchange"
    sim = Simulator.from_settings(sql_lock_wait_seconds=0.2, start=TUESDAY)  # not in its batch
    with transaction(sim.conn):
        sim.conn.executemany("INSERT INTO STKBAL (SBITEM, SBMAG, SBQOH, SBQRS) VALUES (?, ?, ?, ?)", ROWS)
    yield sim
    sim.close()


@pytest.fixture(
    params=[
        "simulator",
        pytest.param("legacy", marks=pytest.mark.django_db(databases=[LEGACY])),
    ]
)
def reader(request: pytest.FixtureRequest, settings: Any) -> LiveStockReader:
    """Each SQL adapter, as the registry gives it, on ROWS."""
    if request.param == "simulator":
        request.getfixturevalue("simulator")
    settings.AS400_LIVE_READER = request.param
    return get_live_reader()


TIMEOUT = 30.0  # a read meant to succeed does, however busy the machine


def test_the_figures_of_each_pair_are_read(reader: LiveStockReader) -> None:
    figures = reader.read([("1000123", 900), ("1000123", 101), ("1000456", 900)], timeout=TIMEOUT)

    assert figures == {
        ("1000123", 900): LiveFigures(on_hand=12, promised=5),
        ("1000123", 101): LiveFigures(on_hand=3, promised=0),
        ("1000456", 900): LiveFigures(on_hand=4, promised=7),
    }
    assert [f.free for f in figures.values()] == [7, 3, -3]
    assert all(type(f.on_hand) is int and type(f.promised) is int for f in figures.values())


def test_a_pair_the_as400_has_no_row_for_is_left_out(reader: LiveStockReader) -> None:
    figures = reader.read([("1000123", 102), ("9999999", 900), ("1000789", 900)], timeout=TIMEOUT)

    assert figures == {("1000789", 900): LiveFigures(0, 0)}  # a row of zeros is a row


def test_no_pairs_read_nothing(reader: LiveStockReader) -> None:
    assert reader.read([], timeout=TIMEOUT) == {}


def test_the_pairs_may_be_any_iterable(reader: LiveStockReader) -> None:
    pairs = {("1000123", 900): None}.keys()

    assert reader.read(iter(pairs), timeout=TIMEOUT) == {("1000123", 900): LiveFigures(12, 5)}


# --- What each adapter does when the AS400 cannot answer -------------------------------------


def test_the_simulator_down_is_unavailable_as_down(simulator: Simulator) -> None:
    simulator.fault_on("down")

    with pytest.raises(LiveReadUnavailable) as excinfo:
        SimulatorLiveReader().read([("1000123", 900)], timeout=0.2)

    assert excinfo.value.kind == "down"


def test_the_simulator_in_its_batch_is_unavailable_as_object_in_use(simulator: Simulator) -> None:
    simulator.fault_on("batch")

    with pytest.raises(LiveReadUnavailable) as excinfo:
        SimulatorLiveReader().read([("1000123", 900)], timeout=0.2)

    assert excinfo.value.kind == "object_in_use"
    assert "SQL0913" in str(excinfo.value)


@pytest.mark.django_db(databases=[LEGACY])
def test_a_legacy_table_that_is_not_there_is_unavailable(settings: Any) -> None:
    settings.AS400_LIVE_TABLE = "ERPLIB.NOSUCH"

    with pytest.raises(LiveReadUnavailable) as excinfo:
        LegacyDatabaseReader().read([("1000123", 900)], timeout=TIMEOUT)

    assert excinfo.value.kind == "error"
    assert "NOSUCH" in str(excinfo.value)


def test_legacy_without_its_alias_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LegacyDatabaseReader, "alias", "legacy_missing")

    with pytest.raises(ImproperlyConfigured, match="no 'legacy' database is configured"):
        LegacyDatabaseReader().read([("1000123", 900)], timeout=TIMEOUT)


def test_nothing_is_ever_migrated_on_the_legacy_alias() -> None:
    router = LegacyRouter()

    assert router.allow_migrate(LEGACY, "inventory") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "inventory") is None
    assert router.db_for_write(object()) is None


def test_the_none_reader_by_its_dotted_path_checks_nothing_live(settings: Any) -> None:
    """Named by its path it used to switch live checks on with a reader that answers nothing: every
    pair then counted 0 free and every reservation failed."""
    from integration.as400.live import live_check_enabled

    settings.AS400_LIVE_READER = "integration.as400.live.none.NoLiveReader"
    assert live_check_enabled() is False
    settings.AS400_LIVE_READER = "simulator"
    assert live_check_enabled() is True
