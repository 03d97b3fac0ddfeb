"""``manage.py as400 <subcommand>``: operations on AS400 exchange files.

Subcommands (``manage.py as400 <subcommand> --help`` for each):

- ``decode FILE [--layout STKBAL] [--ccsid 297] [--format jsonl|csv]``: print the records.
- ``verify FILE.DAT [--ccsid 297]``: check a ``.DAT`` against the ``.OK`` beside it.
- ``encode --layout X FILE.jsonl OUT.DAT [--ok] [--seq N] [--kind F|D] [--fold] [--cut]``:
  write records from JSON lines (for operators who must hand-craft a file).
- ``sync [FILE ...]``: apply every ready pair of ``OUT/`` now and report what became of each.

A subcommand is an entry of :data:`SUBCOMMANDS`: a function that adds its arguments and a
function that runs it. The work itself lives in :mod:`integration.as400.cli` (or another service
module); the functions here only read options and print. To add one (``sync``...), write its
two functions and add an entry. Problems are raised as :class:`~integration.as400.cli.OperationError`
and leave as a ``CommandError``: a message on stderr, exit status 1, no traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integration.as400.cli import (
    OUTPUT_FORMATS,
    OperationError,
    decode_file,
    encode_jsonl,
    read_jsonl_source,
    verify_pair,
)
from integration.as400.codec import CODEC_NAMES


@dataclass(frozen=True)
class Subcommand:
    """One subcommand: its one-line help, what adds its arguments, and what runs it."""

    help: str
    configure: Callable[[CommandParser], None]
    run: Callable[[BaseCommand, dict[str, Any]], None]


def _add_ccsid(parser: CommandParser) -> None:
    parser.add_argument(
        "--ccsid",
        type=int,
        choices=sorted(CODEC_NAMES),
        default=None,
        help="EBCDIC code page of the records (default: settings.AS400_CCSID, 297 for France).",
    )


# --- decode ------------------------------------------------------------------------------------


def configure_decode(parser: CommandParser) -> None:
    parser.add_argument("file", type=Path, help="The file to decode (a .DAT, or a .OK).")
    parser.add_argument(
        "--layout",
        help="The DDS layout (STKBAL, ORDIMP...). Default: from the file name, "
        "STKBAL_000001.DAT → STKBAL, STKBAL_000001.OK → CTLREC.",
    )
    _add_ccsid(parser)
    parser.add_argument(
        "--format",
        dest="output",
        choices=OUTPUT_FORMATS,
        default="jsonl",
        help="jsonl (default): one JSON object a record. csv: a header row of field names, then "
        "a row a record; for a file with several formats (ORDIMP) a column per field of every "
        "format, a record filling its own format's columns.",
    )


def _silence_stdout() -> None:
    """After a broken pipe (``| head``), point stdout at /dev/null so that exiting is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def run_decode(command: BaseCommand, options: dict[str, Any]) -> None:
    """Print every record, streamed: a chunk of the file is decoded and written at a time."""
    try:
        decode_file(
            options["file"],
            layout=options["layout"],
            ccsid=options["ccsid"],
            output=options["output"],
            write=lambda text: command.stdout.write(text, ending=""),
        )
        command.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()


# --- verify ------------------------------------------------------------------------------------


def configure_verify(parser: CommandParser) -> None:
    parser.add_argument(
        "file", type=Path, help="The .DAT to check (or its .OK); the other one is read from beside it."
    )
    _add_ccsid(parser)


def run_verify(command: BaseCommand, options: dict[str, Any]) -> None:
    """A one-line summary when the pair matches; every problem, one a line, when it does not."""
    report = verify_pair(options["file"], ccsid=options["ccsid"])
    if report.ok:
        command.stdout.write(report.summary())
        return
    count = len(report.problems)
    raise OperationError(
        f"{report.dat.name} does not match its .OK ({count} problem{'s' if count > 1 else ''}):\n"
        + "\n".join(report.problems)
    )


# --- encode ------------------------------------------------------------------------------------


def configure_encode(parser: CommandParser) -> None:
    parser.add_argument("--layout", required=True, help="The DDS layout of the records (STKBAL...).")
    parser.add_argument(
        "source",
        help="JSON lines, one object a record keyed by the DDS field names ('-': standard input). "
        'Numbers with decimals as JSON numbers or strings (19.99 or "19.99"), read exactly.',
    )
    parser.add_argument(
        "out", type=Path, help="The .DAT to write (<FILE>_<SEQ>.DAT with --ok), or a folder with --seq."
    )
    _add_ccsid(parser)
    parser.add_argument(
        "--ok",
        dest="with_ok",
        action="store_true",
        help="Also write the .OK, taken now; the pair is written atomically, the .OK last.",
    )
    parser.add_argument(
        "--seq", type=int, help="The sequence number (default: from the OUT name, such as STKBAL_000123.DAT)."
    )
    parser.add_argument("--kind", choices=["F", "D"], help="With --ok: F full extract (default), D delta.")
    parser.add_argument(
        "--fold",
        action="store_true",
        help="Replace characters the code page lacks (œ → oe, ’ → ') in every text field.",
    )
    parser.add_argument(
        "--cut", action="store_true", help="Cut text longer than its field instead of refusing it."
    )


def run_encode(command: BaseCommand, options: dict[str, Any]) -> None:
    """Write the ``.DAT`` (and ``.OK``) and say what was written."""
    source = options["source"]
    result = encode_jsonl(
        read_jsonl_source(source, stdin=sys.stdin),
        options["out"],
        layout=options["layout"],
        source="<stdin>" if source == "-" else Path(source).name,
        ccsid=options["ccsid"],
        with_ok=options["with_ok"],
        seq=options["seq"],
        kind=options["kind"],
        fold=options["fold"],
        cut=options["cut"],
    )
    command.stdout.write(f"Wrote {result.count} records to {result.dat}")
    if result.ok is not None and result.control is not None:
        control = result.control
        command.stdout.write(
            f"Wrote {result.ok}: CTRCNT {control.count}, CTHASH {control.hash}, kind {control.kind}, "
            f"taken at {control.created_at.isoformat(sep=' ') if control.created_at else 'no date'}"
        )


# --- sync --------------------------------------------------------------------------------------


def configure_sync(parser: CommandParser) -> None:
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="Which files to apply (ITMMST, STKBAL); default: all of them.",
    )
    parser.add_argument("--no-progress", action="store_true", help="No progress bars (they go to stderr).")


def run_sync(command: BaseCommand, options: dict[str, Any]) -> None:
    """Apply every ready pair now and say what became of each."""
    from tqdm import tqdm

    from integration.as400.exchange import ExchangeError
    from integration.as400.sync import exchange_sync

    bars: list[Any] = []

    def progress_factory(name: str, total: int) -> Callable[[int], None]:
        bar = tqdm(
            total=total, desc=name, unit="rec", unit_scale=True, disable=options["no_progress"] or None
        )
        bars.append(bar)
        return bar.update

    try:
        report = exchange_sync(
            files=[f.upper() for f in options["files"]] or None, progress_factory=progress_factory
        )
    except (ExchangeError, ValueError) as exc:
        raise OperationError(str(exc)) from exc
    finally:
        for bar in bars:
            bar.close()
    if report.unavailable:
        raise OperationError(report.unavailable)
    lines = report.lines()
    command.stdout.write("\n".join(lines) if lines else "Nothing to apply: no ready pair in OUT/.")


SUBCOMMANDS: dict[str, Subcommand] = {
    "decode": Subcommand("Print the records of a file as JSON lines or CSV.", configure_decode, run_decode),
    "verify": Subcommand("Check a .DAT against the .OK beside it.", configure_verify, run_verify),
    "encode": Subcommand("Write a .DAT (and its .OK) from JSON lines.", configure_encode, run_encode),
    "sync": Subcommand("Apply every ready ITMMST/STKBAL pair of OUT/ now.", configure_sync, run_sync),
}


class Command(BaseCommand):
    help = "Operations on AS400 exchange files: " + ", ".join(SUBCOMMANDS) + "."
    # An operator's tool on files: the file subcommands need neither the database nor the checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        subparsers = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        for name, subcommand in SUBCOMMANDS.items():
            configure = subcommand.configure
            configure(subparsers.add_parser(name, help=subcommand.help, description=subcommand.help))

    def handle(self, *args: Any, **options: Any) -> None:
        subcommand = SUBCOMMANDS[options["subcommand"]]
        try:
            subcommand.run(self, options)
        except OperationError as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:  # the disk, not the data: still a message, not a traceback
            raise CommandError(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")) from exc
