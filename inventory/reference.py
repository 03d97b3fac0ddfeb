"""Reference tables as files: export, import all or nothing with a per-row report, default locations.

The tables and their columns are in :mod:`inventory.resources`; this module reads and writes the
files (CSV or XLSX) and turns django-import-export's result into a report people can act on. The
``reference`` management command calls it; the admin runs the same resources through
django-import-export's own preview and confirm pages.
"""

from __future__ import annotations

import getpass
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import tablib
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import transaction
from django.utils.translation import gettext
from import_export.formats.base_formats import XLSX
from import_export.results import Result, RowResult

from integration.core.reference_cache import reference_forget
from inventory.models import Location
from inventory.resources import RESOURCES, ReferenceResource, cell_text, csv_dataset, csv_text
from inventory.selectors import SELLING_LOCATIONS, warehouse_code

TABLES = tuple(RESOURCES)
FILE_FORMATS = ("csv", "xlsx")


class ReferenceFileError(ValueError):
    """A file that cannot be read as a table at all; the message says why, for people, in the
    active language (English source marked for the catalogue; ``manage.py reference`` runs without
    translations, so its command line says it in English)."""


def command_line_actor() -> str:
    """Who runs a command, for the record: ``user@host`` of the operating system."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def reference_resource(table: str) -> ReferenceResource:
    try:
        return RESOURCES[table]()
    except KeyError:
        raise ReferenceFileError(
            gettext("unknown table {table!r}: use {tables}").format(table=table, tables=", ".join(TABLES))
        ) from None


def file_format_for(name: str, requested: str | None = None) -> str:
    """The format asked for, else the one the file name's extension says."""
    if requested:
        if requested.lower() not in FILE_FORMATS:
            raise ReferenceFileError(
                gettext("unknown format {requested!r}: use csv or xlsx").format(requested=requested)
            )
        return requested.lower()
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in FILE_FORMATS:
        raise ReferenceFileError(
            gettext("cannot tell the format of {name!r} from its name: give --format csv or xlsx").format(name=name)
        )
    return suffix


# --- Export ---------------------------------------------------------------------------------------


def reference_export(*, table: str, file_format: str) -> tuple[bytes, int]:
    """The whole table as a file's bytes (CSV in UTF-8 with a byte order mark, for Excel), and its rows."""
    dataset = reference_resource(table).export()
    if file_format == "xlsx":
        return XLSX().export_data(dataset), len(dataset)
    return dataset.export("csv").encode("utf-8-sig"), len(dataset)


# --- Import ---------------------------------------------------------------------------------------


def reference_read(*, data: bytes, file_format: str) -> tablib.Dataset:
    """A file's bytes as a dataset. CSV is read as UTF-8, else as Windows-1252 (Excel's French CSV)."""
    if file_format == "xlsx":
        try:
            return XLSX().create_dataset(data)
        except Exception as exc:  # openpyxl and zipfile raise many kinds for a file that is not one
            raise ReferenceFileError(
                gettext("this is not an XLSX workbook ({error})").format(error=f"{type(exc).__name__}: {exc}")
            ) from exc
    try:
        return csv_dataset(csv_text(data))
    except (ValueError, tablib.InvalidDimensions) as exc:
        raise ReferenceFileError(gettext("this CSV file cannot be read: {error}").format(error=exc)) from exc


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong in a file: its row (``None`` for the file itself), column, value and why."""

    row: int | None
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        if self.column:
            where = gettext("row {row} (line {line}), column {column} = {value!r}").format(
                row=self.row, line=self.row + 1, column=self.column, value=self.value
            )
        else:
            where = gettext("row {row} (line {line})").format(row=self.row, line=self.row + 1)
        return gettext("{where}: {message}").format(where=where, message=self.message)


def import_problems(result: Result) -> list[RowProblem]:
    """Every problem of an import, file-level first, then by row and column."""
    if result.base_errors:
        return [RowProblem(None, "", "", str(error.error)) for error in result.base_errors]
    problems: list[RowProblem] = []
    for invalid in result.invalid_rows:
        values = dict(zip(result.diff_headers, invalid.values, strict=False))
        for column, messages in invalid.error_dict.items():
            name = "" if column == NON_FIELD_ERRORS else column
            for message in messages:
                problems.append(RowProblem(invalid.number, name, cell_text(values.get(column)), message))
    for error_row in result.error_rows:
        for error in error_row.errors:
            problems.append(
                RowProblem(error_row.number, "", "", f"{type(error.error).__name__}: {error.error}")
            )
    return sorted(problems, key=lambda p: (p.row or 0,))


@dataclass
class ImportReport:
    table: str
    dry_run: bool
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rows: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def rows_in_error(self) -> int:
        return len({p.row for p in self.problems if p.row is not None})

    def summary(self) -> str:
        counts = (
            f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged, {self.rows_in_error} errors"
        )
        if any(p.row is None for p in self.problems):
            return f"{self.table}: the file is refused; nothing written"
        if not self.ok:
            return f"{self.table}: {self.rows_in_error} of {self.rows} rows refused; nothing written"
        if self.dry_run:
            return f"{self.table}: {counts} (dry run: nothing written)"
        return f"{self.table}: {counts}"


def reference_import(
    *,
    table: str,
    dataset: tablib.Dataset,
    dry_run: bool = False,
    user: Any = None,
    actor_name: str = "",
    file_name: str = "",
) -> ImportReport:
    """Apply a file to a table whole, or not at all when any row is wrong (or on a dry run).

    Stage changes in a categories file are recorded as made by ``user`` or ``actor_name``.
    """
    resource = reference_resource(table)
    with transaction.atomic():
        result = resource.import_data(
            dataset,
            dry_run=dry_run,
            use_transactions=True,
            rollback_on_validation_errors=True,
            user=user,
            actor_name=actor_name,
            file_name=file_name,
        )
    totals = result.totals
    return ImportReport(
        table=table,
        dry_run=dry_run,
        new=totals[RowResult.IMPORT_TYPE_NEW],
        updated=totals[RowResult.IMPORT_TYPE_UPDATE],
        unchanged=totals[RowResult.IMPORT_TYPE_SKIP],
        rows=result.total_rows,
        problems=import_problems(result),
    )


# --- Default locations ----------------------------------------------------------------------------


def locations_seed_default(*, click_and_collect: Iterable[int] = range(1, 6)) -> int:
    """Create the 30 stores (001-030, "Magasin 001"...) and the central warehouse when missing.

    Stores in ``click_and_collect`` sell their own stock for collection (001-005 by default). A
    location already there is left as it is: operations may have changed it. Returns how many
    were created. For the demo data; idempotent.
    """
    collect = set(click_and_collect)
    wanted = [
        Location(code=n, name=f"Magasin {n:03d}", kind=Location.Kind.STORE, click_and_collect=n in collect)
        for n in range(1, 31)
    ]
    wanted.append(Location(code=warehouse_code(), name="Entrepôt central", kind=Location.Kind.WAREHOUSE))
    with transaction.atomic():
        existing = set(Location.objects.values_list("code", flat=True))
        missing = [loc for loc in wanted if loc.code not in existing]
        Location.objects.bulk_create(missing, ignore_conflicts=True)
        reference_forget(SELLING_LOCATIONS)  # bulk_create sends no post_save
    return len(missing)
