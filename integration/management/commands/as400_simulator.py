"""`manage.py as400_simulator`: the simulated AS400, from the command line.

    as400_simulator seed [--seed N] [--items 5000] [--force]
    as400_simulator run [--speed 60] [--tick SECONDS]
    as400_simulator step [--minutes N]
    as400_simulator export full|delta|pending [FILE]
    as400_simulator import
    as400_simulator pick|ship|ready|cancel|cancel-store WEBN [--line N] [--qty N]
    as400_simulator return-store WEBN [--line N] [--qty N] [--store MAG]
    as400_simulator receive WEBN [--line N]
    as400_simulator order WEBN
    as400_simulator fault on NAME [--value V] [--file FILE] [--item ITEM] | fault off NAME | fault list
    as400_simulator status

Paths come from the settings (AS400_SIMULATOR_DB, AS400_EXCHANGE_DIR); every subcommand only
calls :class:`integration.as400.simulator.Simulator`.
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integration.as400.simulator import FAULTS, Simulator, SimulatorConfig, SimulatorError, StepReport
from integration.as400.simulator.exports import DELTA_FILES, EVENT_FILES, FULL_FILES
from integration.as400.simulator.orders import line_summary

LIFECYCLE = {
    "pick": ("pick", "The order (or a line) is picked: ORDSTS P."),
    "ship": ("ship", "A home delivery is shipped: ORDSTS E with a tracking number; SBQOH and SBQRS fall."),
    "ready": ("ready", "A click and collect order is ready in store: ORDSTS L; SBQOH and SBQRS fall."),
    "cancel": ("cancel", "The AS400 cancels what is still open: ORDSTS A; SBQRS released."),
    "cancel-store": ("cancel_store", "Click and collect not picked up, cancelled at the counter: STRRTN C."),
    "return-store": ("return_store", "Goods brought back to a store counter: STRRTN R."),
}


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} is not positive")
    return value


def _positive_float(text: str) -> float:
    value = _not_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("0 is not positive")
    return value


def _not_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value < 0 or value != value:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def _store(text: str) -> int:
    value = _positive(text)
    if value > 999:
        raise argparse.ArgumentTypeError(f"{value} is not a location number (3 digits)")
    return value


class Command(BaseCommand):
    help = "The simulated AS400: seed it, run it, step it, drive orders, switch faults, show its status."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="SUBCOMMAND")

        seed = sub.add_parser("seed", help="Seed the catalogue and stock (does nothing if already seeded).")
        seed.add_argument("--seed", type=int, default=None, help="Random seed (default: the configured one).")
        seed.add_argument("--items", type=_positive, default=None, help="Number of items (default 5000).")
        seed.add_argument(
            "--force", action="store_true", help="Replace an existing catalogue and its orders."
        )

        run = sub.add_parser("run", help="Run the simulator until SIGTERM/SIGINT.")
        run.add_argument(
            "--speed", type=_positive_float, default=None, help="Simulated seconds per real second."
        )
        run.add_argument("--tick", type=_positive_float, default=None, help="Real seconds between two steps.")

        step = sub.add_parser("step", help="Advance simulated time and do everything due.")
        step.add_argument("--minutes", type=_not_negative, default=0.0, help="Simulated minutes (default 0).")

        export = sub.add_parser("export", help="Write an extract or the pending event records now.")
        export.add_argument("kind", choices=("full", "delta", "pending"))
        export.add_argument(
            "file",
            nargs="?",
            type=str.upper,
            choices=sorted({*FULL_FILES, *DELTA_FILES, *EVENT_FILES}),
            help="ITMMST, STKBAL, WEBORD (full); ITMMST, STKBAL (delta); ORDACK, ORDSTS, STRRTN (pending).",
        )

        sub.add_parser("import", help="Run the import job on IN/ now.")

        for name, (_, text) in LIFECYCLE.items():
            event = sub.add_parser(name, help=text)
            event.add_argument("webn", metavar="WEBN", help="Web order number.")
            event.add_argument("--line", type=_positive, default=None, help="Only this line.")
            event.add_argument(
                "--qty", type=_positive, default=None, help="Only this quantity (with --line)."
            )
            if name == "return-store":
                event.add_argument("--store", type=_store, default=None, help="The store taking the return.")
        receive = sub.add_parser(
            "receive", help="The goods of an announced return (RTNIMP) arrive: ORDSTS R."
        )
        receive.add_argument("webn", metavar="WEBN")
        receive.add_argument("--line", type=_positive, default=None)

        order = sub.add_parser("order", help="Show a web order's lines as the AS400 holds them.")
        order.add_argument("webn", metavar="WEBN")

        fault = sub.add_parser("fault", help="Switch a fault on or off, or list them.")
        fault_sub = fault.add_subparsers(dest="fault_action", required=True, metavar="on|off|list")
        on = fault_sub.add_parser("on", help="Switch a fault on.")
        on.add_argument("name", choices=list(FAULTS))
        on.add_argument(
            "--value",
            default=None,
            help="; ".join(f"{spec.name}: {spec.value_help}" for spec in FAULTS.values() if spec.value_help)
            + ".",
        )
        on.add_argument("--file", type=str.upper, default=None, help="Only this file name.")
        on.add_argument(
            "--item",
            default=None,
            help="; ".join(f"{spec.name}: {spec.item_help}" for spec in FAULTS.values() if spec.item_help)
            + ".",
        )
        off = fault_sub.add_parser("off", help="Switch a fault off.")
        off.add_argument("name", choices=list(FAULTS))
        fault_sub.add_parser("list", help="Every fault, on or off.")

        sub.add_parser(
            "status", help="Clock, batch window, catalogue, orders, faults, sequences, last files."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            config = SimulatorConfig.from_settings()
        except (ValueError, TypeError) as exc:
            raise CommandError(f"the simulator's settings are wrong: {exc}") from exc
        try:
            with Simulator(config) as sim:
                handler: Callable[[Simulator, dict[str, Any]], None] = getattr(
                    self, f"do_{action.replace('-', '_')}", self.do_lifecycle
                )
                handler(sim, options)
        except SimulatorError as exc:
            raise CommandError(str(exc)) from exc

    # --- Subcommands --------------------------------------------------------------------------

    def do_seed(self, sim: Simulator, options: dict[str, Any]) -> None:
        report = sim.seed(seed=options["seed"], items=options["items"], force=options["force"])
        if report.seeded:
            self.stdout.write(
                f"Seeded {report.items} items over {report.families} families at {report.locations} "
                f"locations ({report.stock_rows} stock balances, seed {report.seed}) in {report.seconds:.2f} s."
            )
        else:
            self.stdout.write(f"Nothing to do: {report.message}.")

    def do_run(self, sim: Simulator, options: dict[str, Any]) -> None:
        stop = threading.Event()
        speed = options["speed"]
        self.stdout.write(
            f"AS400 simulator running at x{speed or sim.speed:g} from {sim.now():%Y-%m-%d %H:%M:%S} "
            f"(database {sim.config.db_path}, exchange {sim.config.exchange_dir}); SIGTERM or Ctrl-C stops it."
        )
        self.stdout.flush()

        def report(step: StepReport) -> None:
            if step.exported or any(r.done or r.refused for r in step.imports) or step.notes:
                self.stdout.write(step.summary())
                self.stdout.flush()

        with _stop_on_signals(stop):
            ticks = sim.run(speed=speed, tick=options["tick"], stop=stop, on_step=report)
        self.stdout.write(f"Stopped after {ticks} tick(s) at simulated {sim.now():%Y-%m-%d %H:%M:%S}.")

    def do_step(self, sim: Simulator, options: dict[str, Any]) -> None:
        self.stdout.write(sim.step(minutes=options["minutes"]).summary())

    def do_export(self, sim: Simulator, options: dict[str, Any]) -> None:
        kind, file = options["kind"], options["file"]
        if kind != "pending" and file is None:
            raise CommandError(f"export {kind} needs a FILE")
        written = sim.export(kind, file)
        if not written:
            self.stdout.write("Nothing to write.")
        for exported in written:
            note = f" ({exported.note})" if exported.note else ""
            self.stdout.write(f"Wrote {exported.name} ({exported.kind}, {exported.records} records){note}.")

    def do_import(self, sim: Simulator, options: dict[str, Any]) -> None:
        report = sim.import_now()
        self.stdout.write(report.summary())
        for name, problems in report.refused.items():
            self.stdout.write(f"  {name} -> IN/ERR/: {'; '.join(problems)}")

    def do_lifecycle(self, sim: Simulator, options: dict[str, Any]) -> None:
        method, _ = LIFECYCLE[options["action"]]
        kwargs: dict[str, Any] = {"line": options["line"], "qty": options["qty"]}
        if options["action"] == "return-store":
            kwargs["store"] = options["store"]
        records = getattr(sim, method)(options["webn"], **kwargs)
        for record in records:
            self.stdout.write(_describe(record))

    def do_receive(self, sim: Simulator, options: dict[str, Any]) -> None:
        for record in sim.receive_return(options["webn"], line=options["line"]):
            self.stdout.write(_describe(record))

    def do_order(self, sim: Simulator, options: dict[str, Any]) -> None:
        for line in sim.order(options["webn"]):
            self.stdout.write(line_summary(line))

    def do_fault(self, sim: Simulator, options: dict[str, Any]) -> None:
        action = options["fault_action"]
        if action == "on":
            state = sim.fault_on(
                options["name"], value=options["value"], file=options["file"], item=options["item"]
            )
            self.stdout.write(state.describe())
        elif action == "off":
            self.stdout.write(sim.fault_off(options["name"]).describe())
        else:
            for state in sim.faults():
                self.stdout.write(f"{state.describe():<40} {state.spec.help}")

    def do_status(self, sim: Simulator, options: dict[str, Any]) -> None:
        for line in sim.status().lines():
            self.stdout.write(line)


def _describe(record: dict[str, Any]) -> str:
    if "OSEVT" in record:
        tracking = f" tracking {record['OSTRK']}" if record["OSTRK"] else ""
        return (
            f"ORDSTS {record['OSEVT']} {record['OSWEBN']} line {record['OSLIGN']:03d} {record['OSITEM']} "
            f"x{record['OSQTE']}{tracking}"
        )
    return (
        f"STRRTN {record['SRTYPE']} {record['SRWEBN']} line {record['SRLIGN']:03d} {record['SRITEM']} "
        f"x{record['SRQTE']} at store {record['SRMAG']:03d}"
    )


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT end the run loop cleanly (only from the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
