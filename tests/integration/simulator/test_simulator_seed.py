"""Seeding: the DDS-shaped tables, a reproducible and realistic catalogue, fast at full size."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from integration.as400.dds import load_layout
from integration.as400.simulator import Simulator, SimulatorConfig
from integration.as400.simulator.catalogue import LOCATIONS, ean13_check_digit, ean13_is_valid
from integration.as400.simulator.db import DDS_TABLES, money, table_columns


def test_tables_are_named_and_shaped_as_the_dds_files(sim: Simulator) -> None:
    for name in DDS_TABLES:
        layout = load_layout(name)

        assert table_columns(sim.conn, name) == [f.name for f in layout.fields]
        keys = [r["name"] for r in sim.conn.execute(f"PRAGMA table_info({name})") if r["pk"]]
        assert keys == list(layout.keys)
    ddl = sim.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'STKBAL'").fetchone()[0]
    assert "SBITEM CHAR(15)" in ddl
    assert "SBQOH DECIMAL(9, 0)" in ddl
    assert "SBMAG NUMERIC(3, 0)" in ddl
    internal = [r[0] for r in sim.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    assert all(n in DDS_TABLES or n.startswith(("SIM_", "sqlite_")) for n in internal)


def test_the_same_seed_gives_the_same_catalogue_and_another_seed_another(
    make_config: Callable[..., SimulatorConfig],
) -> None:
    def dump(folder: str, seed: int) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        with Simulator(make_config(folder, seed=seed)) as sim:
            sim.seed()
            items = [tuple(r) for r in sim.conn.execute("SELECT * FROM ITMMST ORDER BY IMITEM")]
            stock = [tuple(r) for r in sim.conn.execute("SELECT * FROM STKBAL ORDER BY SBITEM, SBMAG")]
        return items, stock

    first, again, other = dump("a", 7), dump("b", 7), dump("c", 8)

    assert first == again
    assert first[0] != other[0]
    assert first[1] != other[1]


def test_the_catalogue_is_realistic(sim: Simulator) -> None:
    items_wanted = sim.config.items
    items = sim.conn.execute("SELECT * FROM ITMMST").fetchall()
    stock = sim.conn.execute("SELECT * FROM STKBAL").fetchall()
    locations = [r[0] for r in sim.conn.execute("SELECT MAG FROM SIM_LOCATION ORDER BY MAG")]

    assert len(items) == items_wanted
    assert locations == [*range(1, 31), 900] == list(LOCATIONS)
    assert len(stock) == items_wanted * 31
    families = {r["IMFAMC"] for r in items}
    assert len(families) >= 20
    assert all(len(code) == 4 and code.isalpha() and code.isupper() for code in families)
    assert len({r["IMITEM"] for r in items}) == items_wanted
    assert len({r["IMEAN"] for r in items}) == items_wanted
    assert all(ean13_is_valid(r["IMEAN"]) for r in items)
    assert all(str(r["IMEAN"])[0] == "3" for r in items)  # French GS1 prefixes
    descriptions = [r["IMDESC"] for r in items]
    assert all(0 < len(d) <= 30 for d in descriptions)
    assert any(ch in "éèêàâçôûîù" for d in descriptions for ch in d)
    for d in descriptions:
        assert d.encode("cp297").decode("cp297") == d
    prices = [money(r["IMPRIX"]) for r in items]
    assert all(Decimal("0") < p < Decimal("10000000") and p == p.quantize(Decimal("0.01")) for p in prices)
    assert {r["IMTVA"] for r in items} <= {"1", "2", "3", "4"}
    assert len({r["IMTVA"] for r in items}) >= 3
    statuses = [r["IMSTAT"] for r in items]
    assert statuses.count("A") > 0.8 * items_wanted
    assert "S" in statuses
    assert "D" in statuses
    on_hand = [r["SBQOH"] for r in stock]
    assert on_hand.count(0) > 0.1 * len(stock)
    assert 0 < sum(q < 0 for q in on_hand) < 0.02 * len(stock)
    assert all(r["SBQRS"] == 0 for r in stock)
    assert all(r["SBDTCH"] > 1_000_000 and 0 <= r["SBHRCH"] <= 235959 for r in stock)


def test_ean13_check_digit_matches_known_codes() -> None:
    assert ean13_check_digit("400638133393") == 1  # 4006381333931, the usual example
    assert ean13_check_digit("590123412345") == 7  # 5901234123457, GS1's own example
    assert ean13_is_valid(5901234123457)
    assert not ean13_is_valid(5901234123450)


def test_seed_does_nothing_when_already_seeded_and_replaces_with_force(sim: Simulator) -> None:
    sim.conn.execute("UPDATE STKBAL SET SBQOH = 12345")

    again = sim.seed(seed=99)

    assert not again.seeded
    assert "already seeded" in again.message
    assert sim.conn.execute("SELECT MIN(SBQOH) FROM STKBAL").fetchone()[0] == 12345

    forced = sim.seed(seed=99, items=50, force=True)

    assert forced.seeded
    assert sim.conn.execute("SELECT COUNT(*) FROM ITMMST").fetchone()[0] == 50
    assert sim.conn.execute("SELECT MAX(SBQOH) FROM STKBAL").fetchone()[0] != 12345


def test_seeding_5000_items_at_31_locations_is_one_transaction_of_bulk_inserts(
    make_config: Callable[..., SimulatorConfig],
) -> None:
    """What makes a full-size seed take seconds, asserted without a stopwatch (a busy machine is
    slow at anything): every row in one transaction, one commit and not one a row."""
    with Simulator(make_config(items=5000)) as sim:
        statements: list[str] = []
        sim.conn.set_trace_callback(statements.append)
        try:
            report = sim.seed()
        finally:
            sim.conn.set_trace_callback(None)

        assert report.stock_rows == 155_000
        assert sim.conn.execute("SELECT COUNT(*) FROM STKBAL").fetchone()[0] == 155_000
        assert sim.conn.execute("SELECT COUNT(DISTINCT IMFAMC) FROM ITMMST").fetchone()[0] >= 20
    begins = [n for n, sql in enumerate(statements) if sql.strip().upper().startswith("BEGIN")]
    commits = [n for n, sql in enumerate(statements) if sql.strip().upper().startswith(("COMMIT", "END"))]
    stock_rows = [
        n for n, sql in enumerate(statements) if sql.lstrip().upper().startswith("INSERT INTO STKBAL")
    ]
    assert len(begins) == len(commits) == 2  # the catalogue, then the seed's log line: not a commit a row
    assert begins[0] < stock_rows[0]  # every row in the first one
    assert stock_rows[-1] < commits[0]
    print(f"seeded 5000 items x 31 locations in {report.seconds:.1f} s")  # for the record, not asserted
