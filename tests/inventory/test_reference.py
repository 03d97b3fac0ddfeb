"""Reference tables as CSV and XLSX files: round trips, per-row errors, all or nothing.

Files are real files in tmp_path, written and read by ``manage.py reference`` against the real
database; nothing of ours is replaced.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from inventory.models import Category, ItemMapping, Location, Product, RolloutChange, SafetyStockOverride
from inventory.reference import (
    ReferenceFileError,
    RowProblem,
    file_format_for,
    locations_seed_default,
    reference_read,
    reference_resource,
)
from tests.processes import Processes

pytestmark = pytest.mark.django_db


# --- Given ----------------------------------------------------------------------------------------


@pytest.fixture
def catalogue(db: None) -> dict[str, Product]:
    """31 locations, families F001 and F002, items A1-A3 (A1 and A2 mapped), three overrides."""
    locations_seed_default()
    grocery = Category.objects.create(family_code="F001", name="Épicerie", safety_stock=1)
    Category.objects.create(family_code="F002", name="Boissons")
    products = {
        n: Product.objects.create(item_number=n, category=grocery, price=Decimal("10.00"))
        for n in ("A1", "A2", "A3")
    }
    ItemMapping.objects.create(product=products["A1"], sku="SKU-A1")
    ItemMapping.objects.create(product=products["A2"], sku="SKU-A2")
    SafetyStockOverride.objects.create(product=products["A1"], location=None, quantity=2)
    SafetyStockOverride.objects.create(product=products["A1"], location_id=1, quantity=5)
    SafetyStockOverride.objects.create(product=products["A2"], location_id=900, quantity=1)
    return products


def snapshot(table: str) -> list[tuple[Any, ...]]:
    if table == "locations":
        return list(
            Location.objects.order_by("code").values_list("code", "name", "kind", "click_and_collect")
        )
    if table == "categories":
        return list(
            Category.objects.order_by("family_code").values_list(
                "family_code", "name", "rollout_stage", "safety_stock"
            )
        )
    if table == "mappings":
        return list(ItemMapping.objects.order_by("sku").values_list("product__item_number", "sku"))
    return list(
        SafetyStockOverride.objects.order_by("product__item_number", "location_id").values_list(
            "product__item_number", "location_id", "quantity"
        )
    )


def everything() -> dict[str, list[Any]]:
    state: dict[str, list[Any]] = {
        t: snapshot(t) for t in ("locations", "categories", "mappings", "safety-stock")
    }
    state["changes"] = list(RolloutChange.objects.values_list("pk", flat=True))
    return state


def mutate_locations() -> tuple[int, int]:
    Location.objects.filter(code=7).update(name="Magasin renommé", click_and_collect=True)
    Location.objects.filter(code=30).delete()
    return 1, 1  # new, updated


def mutate_categories() -> tuple[int, int]:
    Category.objects.filter(family_code="F002").update(name="Autre", safety_stock=4)
    return 0, 1


def mutate_mappings() -> tuple[int, int]:
    ItemMapping.objects.filter(sku="SKU-A1").update(sku="OLD-A1")
    ItemMapping.objects.filter(sku="SKU-A2").delete()
    return 1, 1


def mutate_safety_stock() -> tuple[int, int]:
    SafetyStockOverride.objects.filter(location__isnull=True).update(quantity=9)
    SafetyStockOverride.objects.filter(location_id=900).delete()
    return 1, 1


MUTATIONS: dict[str, Callable[[], tuple[int, int]]] = {
    "locations": mutate_locations,
    "categories": mutate_categories,
    "mappings": mutate_mappings,
    "safety-stock": mutate_safety_stock,
}


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("reference", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(*args: str) -> tuple[str, str]:
    """Run an import that must fail: (the error report on stderr, the final message)."""
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("reference", *args, stdout=out, stderr=err)
    return err.getvalue(), str(excinfo.value)


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


# --- Round trips ----------------------------------------------------------------------------------


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize("table", list(MUTATIONS))
def test_an_exported_table_imports_back_to_the_same_rows(
    catalogue: dict[str, Product], tmp_path: Path, table: str, file_format: str
) -> None:
    # Given a table exported to a file, then changed in the database
    path = tmp_path / f"{table}.{file_format}"
    before = snapshot(table)
    out, _ = run("export", table, str(path))
    assert out.strip() == f"Wrote {len(before)} {table} rows to {path}."
    new, updated = MUTATIONS[table]()
    assert snapshot(table) != before

    # When the file is imported
    out, _ = run("import", table, str(path), "--actor", "ops@test")

    # Then the table is as it was exported, and a second import finds nothing to do
    assert snapshot(table) == before
    unchanged = len(before) - new - updated
    assert out.strip() == f"{table}: {new} new, {updated} updated, {unchanged} unchanged, 0 errors"
    out, _ = run("import", table, str(path), "--actor", "ops@test")
    assert out.strip() == f"{table}: 0 new, 0 updated, {len(before)} unchanged, 0 errors"


def test_exported_files_are_what_people_read(catalogue: dict[str, Product], tmp_path: Path) -> None:
    run("export", "locations", str(tmp_path / "locations.csv"))
    run("export", "safety-stock", str(tmp_path / "overrides.xlsx"))

    raw = (tmp_path / "locations.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a byte order mark, so that Excel reads "Entrepôt"
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[:2] == ["code,name,kind,click_and_collect", "001,Magasin 001,store,yes"]
    assert lines[-1] == "900,Entrepôt central,warehouse,no"
    sheet = openpyxl.load_workbook(tmp_path / "overrides.xlsx").active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["item_number", "location", "quantity"],
        ["A1", None, 2],  # empty location: everywhere
        ["A1", "001", 5],
        ["A2", "900", 1],
    ]


def test_a_french_excel_csv_with_semicolons_in_windows_1252_imports(
    catalogue: dict[str, Product], tmp_path: Path
) -> None:
    path = tmp_path / "magasins.csv"
    path.write_bytes(
        "code;name;kind;click_and_collect\r\n31;Magasin Entrée de l'Est;store;oui\r\n".encode("cp1252")
    )

    out, _ = run("import", "locations", str(path))

    assert out.strip() == "locations: 1 new, 0 updated, 0 unchanged, 0 errors"
    assert Location.objects.filter(code=31).values_list("name", "click_and_collect").get() == (
        "Magasin Entrée de l'Est",
        True,
    )


def test_a_dry_run_counts_and_writes_nothing(catalogue: dict[str, Product], tmp_path: Path) -> None:
    before = everything()
    path = write_csv(tmp_path / "cats.csv", "family_code,rollout_stage\nF001,pilot\nF002,off\n")

    out, _ = run("import", "categories", str(path), "--dry-run", "--actor", "ops@test")

    assert out.strip() == "categories: 0 new, 1 updated, 1 unchanged, 0 errors (dry run: nothing written)"
    assert everything() == before


def test_a_file_with_some_columns_updates_only_those(catalogue: dict[str, Product], tmp_path: Path) -> None:
    path = write_csv(tmp_path / "cats.csv", "Family Code,Safety Stock\nF002,3\n")

    run("import", "categories", str(path), "--actor", "ops@test")

    assert snapshot("categories") == [("F001", "Épicerie", "off", 1), ("F002", "Boissons", "off", 3)]


def test_a_sku_moves_to_another_item_when_the_first_gets_a_new_one_on_an_earlier_row(
    catalogue: dict[str, Product], tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "m.csv", "item_number,sku\nA2,SKU-A2-NEW\nA3,SKU-A2\n")

    out, _ = run("import", "mappings", str(path))

    assert out.strip() == "mappings: 1 new, 1 updated, 0 unchanged, 0 errors"
    assert snapshot("mappings") == [("A1", "SKU-A1"), ("A3", "SKU-A2"), ("A2", "SKU-A2-NEW")]


# --- Per-row errors: reported, nothing written --------------------------------------------------


ERROR_CASES: list[tuple[str, str, list[str]]] = [
    (
        "categories",
        "family_code,name,rollout_stage,safety_stock\nF001,Épicerie,live,1\nF999,Nouveau,off,0\n"
        "F002,Boissons,open,0\nf002,Boissons,off,-2\n",
        [
            "row 2 (line 3), column family_code = 'F999': unknown family 'F999': "
            "families come from the AS400 item master",
            "row 3 (line 4), column rollout_stage = 'open': 'open' is not a rollout stage: use off, pilot or live",
            "row 4 (line 5), column safety_stock = '-2': '-2' is not a whole number of units (0 or more)",
            "row 4 (line 5), column family_code = 'f002': unknown family 'f002' (did you mean 'F002'?): "
            "families come from the AS400 item master",
        ],
    ),
    (
        "mappings",
        "item_number,sku\nA3,SKU-A1\nZZ9,SKU-Z\nA1,SKU-NEW\nA1,SKU-NEW2\nA2,DUP\nA3,DUP\n",
        [
            "row 1 (line 2), column sku = 'SKU-A1': SKU 'SKU-A1' is already mapped to item 'A1'",
            "row 2 (line 3), column item_number = 'ZZ9': unknown item 'ZZ9'",
            "row 3 (line 4), column item_number = 'A1': item 'A1' is mapped on rows 3 and 4 of the file: "
            "an item has one SKU",
            "row 4 (line 5), column item_number = 'A1': item 'A1' is mapped on rows 3 and 4 of the file: "
            "an item has one SKU",
            "row 5 (line 6), column sku = 'DUP': SKU 'DUP' is on rows 5 and 6 of the file: a SKU names one item",
            "row 6 (line 7), column item_number = 'A3': item 'A3' is mapped on rows 1 and 6 of the file: "
            "an item has one SKU",
            "row 6 (line 7), column sku = 'DUP': SKU 'DUP' is on rows 5 and 6 of the file: a SKU names one item",
            "row 1 (line 2), column item_number = 'A3': item 'A3' is mapped on rows 1 and 6 of the file: "
            "an item has one SKU",
        ],
    ),
    (
        "safety-stock",
        "item_number,location,quantity\nA1,031,2\nA1,abc,1\nA9,,1\nA2,,x\nA3,1,1\nA3,001,2\n",
        [
            "row 1 (line 2), column location = '031': unknown location '031'",
            "row 2 (line 3), column location = 'abc': 'abc' is not a location number (001 to 999)",
            "row 3 (line 4), column item_number = 'A9': unknown item 'A9'",
            "row 4 (line 5), column quantity = 'x': 'x' is not a whole number of units (0 or more)",
            "row 5 (line 6), column item_number = 'A3': item 'A3' at 001 is on rows 5 and 6 of the file",
            "row 6 (line 7), column item_number = 'A3': item 'A3' at 001 is on rows 5 and 6 of the file",
        ],
    ),
    (
        "locations",
        "code,name,kind,click_and_collect\n7,Magasin 7,store,peut-être\n1000,Trop,store,no\n32,,shop,no\n",
        [
            "row 1 (line 2), column click_and_collect = 'peut-être': 'peut-être' is neither yes nor no",
            "row 2 (line 3), column code = '1000': '1000' is not a location number (001 to 999)",
            "row 3 (line 4), column name = '': the name is empty",
            "row 3 (line 4), column kind = 'shop': 'shop' is not a kind of location: use store or warehouse",
        ],
    ),
]


@pytest.mark.parametrize(("table", "text", "expected"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_every_bad_row_is_reported_by_row_column_and_value_and_nothing_is_written(
    catalogue: dict[str, Product], tmp_path: Path, table: str, text: str, expected: list[str]
) -> None:
    # Given a file whose rows are wrong in several ways (and some right)
    before = everything()
    path = write_csv(tmp_path / f"{table}.csv", text)

    # When it is imported
    report, message = refused("import", table, str(path), "--actor", "ops@test")

    # Then every problem is reported, and nothing at all is written
    assert sorted(report.splitlines()) == sorted(expected)
    rows = len(text.strip().splitlines()) - 1
    bad = len({line.split(" (")[0] for line in expected})
    assert message == f"{table}: {bad} of {rows} rows refused; nothing written"
    assert everything() == before


def test_errors_in_an_xlsx_file_name_the_spreadsheet_row(
    catalogue: dict[str, Product], tmp_path: Path
) -> None:
    before = everything()
    path = write_xlsx(
        tmp_path / "mappings.xlsx",
        [["item_number", "sku"], ["A3", "SKU-A3"], [12345, "SKU-N"], [None, None], [None, None]],
    )

    report, message = refused("import", "mappings", str(path))

    assert report.splitlines() == ["row 2 (line 3), column item_number = '12345': unknown item '12345'"]
    assert message == "mappings: 1 of 2 rows refused; nothing written"
    assert everything() == before


def test_a_file_without_the_key_columns_is_refused_as_a_whole(
    catalogue: dict[str, Product], tmp_path: Path
) -> None:
    before = everything()
    path = write_csv(tmp_path / "m.csv", "item,reference\nA3,SKU-A3\n")

    report, message = refused("import", "mappings", str(path))

    assert report.strip() == (
        "the file has no column item_number, sku: a mappings file has the columns item_number, sku "
        "(this one has item, reference)"
    )
    assert message == "mappings: the file is refused; nothing written"
    assert everything() == before


@pytest.mark.parametrize(
    ("args", "content", "message"),
    [
        (["import", "mappings", "{dir}/m.txt"], b"x", "cannot tell the format of '{dir}/m.txt' from its name: "
         "give --format csv or xlsx"),
        (["import", "mappings", "{dir}/missing.csv"], None, "{dir}/missing.csv: No such file or directory"),
        (["import", "mappings", "{dir}/m.xlsx"], b"item_number,sku\n", "this is not an XLSX workbook "
         "(BadZipFile: File is not a zip file)"),
        (["import", "mappings", "{dir}/m.csv"], b"", "mappings: the file is refused; nothing written"),
        (["import", "stores", "{dir}/m.csv"], b"", "Error: argument table: invalid choice: 'stores' "
         "(choose from 'locations', 'categories', 'mappings', 'safety-stock')"),
    ],
)  # fmt: skip
def test_bad_arguments_and_unreadable_files_are_a_message(
    catalogue: dict[str, Product], tmp_path: Path, args: list[str], content: bytes | None, message: str
) -> None:
    args = [a.format(dir=tmp_path) for a in args]
    if content is not None:
        Path(args[2]).write_bytes(content)

    with pytest.raises(CommandError) as excinfo:
        call_command("reference", *args, stdout=StringIO(), stderr=StringIO())

    assert str(excinfo.value) == message.format(dir=tmp_path)


def test_the_file_level_refusals_and_the_row_report_are_said_in_french_where_french_is_active() -> None:
    # given: the admin's language (French, the default); the command line above runs without translations
    with translation.override("fr"):
        # when: a file the reading refuses as a whole, and a row's problem as the admin reports it
        with pytest.raises(ReferenceFileError) as by_name:
            file_format_for("m.txt")
        with pytest.raises(ReferenceFileError) as by_format:
            file_format_for("m.csv", "ods")
        with pytest.raises(ReferenceFileError) as workbook:
            reference_read(data=b"item_number,sku\n", file_format="xlsx")
        with pytest.raises(ReferenceFileError) as table:
            reference_resource("stores")
        row = str(RowProblem(2, "sku", "DUP", "SKU 'DUP' is on rows 2 and 3 of the file"))

    # then: each in French, its values kept
    assert str(by_name.value) == "le nom de 'm.txt' ne dit pas son format : indiquez --format csv ou xlsx"
    assert str(by_format.value) == "format 'ods' inconnu : utilisez csv ou xlsx"
    assert str(workbook.value) == "ce n'est pas un classeur XLSX (BadZipFile: File is not a zip file)"
    assert str(table.value) == (
        "table 'stores' inconnue : utilisez locations, categories, mappings, safety-stock"
    )
    assert row == "ligne 2 (ligne 3 du fichier), colonne sku = 'DUP' : SKU 'DUP' is on rows 2 and 3 of the file"


def test_from_a_shell_a_bad_import_exits_non_zero_without_a_traceback(
    tmp_path: Path, processes: Processes
) -> None:
    # No database is reached: the arguments and the file are refused first.
    manage = Path(settings.BASE_DIR) / "manage.py"
    for args, status in [(["import", "stores", "x.csv"], 2), (["import", "mappings", "missing.csv"], 1)]:
        done = processes.run([sys.executable, manage, "reference", *args], cwd=tmp_path, timeout=60)
        assert done.returncode == status
        assert "Traceback" not in done.stderr
        assert done.stderr.strip().splitlines()[-1] in {
            "manage.py reference import: error: argument table: invalid choice: 'stores' "
            "(choose from 'locations', 'categories', 'mappings', 'safety-stock')",
            "CommandError: missing.csv: No such file or directory",
        }


# --- Default locations ----------------------------------------------------------------------------


def test_default_locations_are_30_stores_and_the_warehouse_and_seeding_again_changes_nothing(
    db: None,
) -> None:
    assert locations_seed_default() == 31
    Location.objects.filter(code=2).update(name="Magasin Nation")

    assert locations_seed_default() == 0

    rows = list(Location.objects.values_list("code", "name", "kind", "click_and_collect"))
    assert len(rows) == 31
    assert rows[0] == (1, "Magasin 001", "store", True)
    assert rows[1] == (2, "Magasin Nation", "store", True)
    assert rows[29] == (30, "Magasin 030", "store", False)
    assert rows[30] == (900, "Entrepôt central", "warehouse", False)
    assert [r[0] for r in rows if r[3]] == [1, 2, 3, 4, 5]
