"""``manage.py reference export|import TABLE FILE``: the reference tables as CSV or XLSX files.

TABLE is one of ``locations``, ``categories``, ``mappings``, ``safety-stock`` (the columns are
described in :mod:`inventory.resources`); FILE ends in ``.csv`` or ``.xlsx``, or ``--format`` says
which, and ``-`` is standard output or input (CSV unless ``--format xlsx``).

``import`` applies the whole file or nothing: when any row is wrong it prints one line per problem
(row, column, value, why), writes nothing and exits with status 1; otherwise it prints how many
rows are new, updated and unchanged. ``--dry-run`` checks and counts without writing. A stage
changed by a categories file is recorded as changed by ``--actor`` (default: ``user@host``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, no_translations

from inventory.reference import (
    FILE_FORMATS,
    TABLES,
    ReferenceFileError,
    command_line_actor,
    file_format_for,
    reference_export,
    reference_import,
    reference_read,
)


class Command(BaseCommand):
    help = "Export or import a reference table (" + ", ".join(TABLES) + ") as CSV or XLSX."
    # An operator's tool: the system checks' warnings (models.W047 on SQLite) would only blur its output.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        subparsers = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        export = subparsers.add_parser("export", help="Write a whole table to a file.")
        load = subparsers.add_parser("import", help="Apply a file to a table, all or nothing.")
        for sub in (export, load):
            sub.add_argument("table", choices=TABLES, help="Which table.")
            sub.add_argument("file", help="The file (.csv or .xlsx); '-' for standard output/input.")
            sub.add_argument(
                "--format", dest="file_format", choices=FILE_FORMATS, help="Default: from the file's name."
            )
        load.add_argument("--dry-run", action="store_true", help="Check and count, write nothing.")
        load.add_argument(
            "--actor", default=None, help="Who imports, for the record (default: the system's user@host)."
        )

    @no_translations  # the command line speaks English, as its arguments and help do
    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["subcommand"] == "export":
                self.export(options)
            else:
                self.load(options)
        except ReferenceFileError as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:  # the disk, not the data: still a message, not a traceback
            raise CommandError(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")) from exc

    def _format(self, options: dict[str, Any]) -> str:
        name: str = options["file"]
        if name == "-":
            return options["file_format"] or "csv"
        return file_format_for(name, options["file_format"])

    def export(self, options: dict[str, Any]) -> None:
        file_format = self._format(options)
        data, count = reference_export(table=options["table"], file_format=file_format)
        if options["file"] == "-":
            if file_format == "xlsx" and sys.stdout.isatty():
                raise CommandError("XLSX is binary: redirect standard output to a file, or give a file name")
            self.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
            return
        Path(options["file"]).write_bytes(data)
        self.stdout.write(f"Wrote {count} {options['table']} rows to {options['file']}.")

    def load(self, options: dict[str, Any]) -> None:
        file_format = self._format(options)
        name: str = options["file"]
        data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
        dataset = reference_read(data=data, file_format=file_format)
        report = reference_import(
            table=options["table"],
            dataset=dataset,
            dry_run=options["dry_run"],
            actor_name=options["actor"] or command_line_actor(),
            file_name="<stdin>" if name == "-" else Path(name).name,
        )
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(str(problem))
            raise CommandError(report.summary())
        self.stdout.write(report.summary())
