"""``manage.py rollout <subcommand>``: categories' rollout stages and the global selling switch.

- ``status``: every category's stage with its product counts, and whether online selling is on.
- ``set FAMILY off|pilot|live [--note TEXT]``: move a category to a stage.
- ``pause --reason TEXT``: pause all online selling (carts and orders in progress are kept).
- ``resume [--reason TEXT]``: resume online selling.
- ``history [FAMILY] [--limit N]``: the recorded changes, newest first.

Each change is recorded as made by ``--actor`` (default: the operating system's ``user@host``),
through the same services as the admin (:mod:`inventory.rollout`). Asking for the state something
is already in records nothing. Problems leave as a message and exit status 1, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, no_translations
from django.utils import timezone

from inventory.models import Category, RolloutChange
from inventory.reference import command_line_actor
from inventory.rollout import (
    STAGE_FIELD,
    RolloutError,
    category_find,
    category_set_stage,
    rollout_history,
    rollout_status,
    selling_pause,
    selling_resume,
)


def _when(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _value(change: RolloutChange, value: str) -> str:
    if change.what == STAGE_FIELD:
        return value
    return "selling" if value == "true" else "paused"


def change_line(change: RolloutChange) -> str:
    subject = change.category.family_code if change.category else "selling"
    line = (
        f"{_when(change.changed_at)}  {subject:<7}  {_value(change, change.old_value)} → "
        f"{_value(change, change.new_value)}  by {change.changed_by_name or '?'}"
    )
    return f"{line}  ({change.note})" if change.note else line


class Command(BaseCommand):
    help = "Categories' rollout stages and the global selling switch: status, set, pause, resume, history."
    # An operator's tool: the system checks' warnings (models.W047 on SQLite) would only blur its output.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        subparsers = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        subparsers.add_parser("status", help="Stages per category with product counts, and the switch.")

        stage = subparsers.add_parser("set", help="Move a category (an AS400 family) to a stage.")
        stage.add_argument("family", help="The AS400 family code, such as F001.")
        stage.add_argument("stage", choices=Category.Stage.values, help="off, pilot or live.")
        stage.add_argument("--note", default="", help="Why, for the record.")

        pause = subparsers.add_parser("pause", help="Pause all online selling.")
        pause.add_argument("--reason", required=True, help="Why (shown to staff and recorded).")

        resume = subparsers.add_parser("resume", help="Resume online selling.")
        resume.add_argument("--reason", default="", help="Why, for the record.")

        history = subparsers.add_parser("history", help="The recorded changes, newest first.")
        history.add_argument("family", nargs="?", help="Only this family's stage changes.")
        history.add_argument("--limit", type=int, default=50, help="How many changes (default 50).")

        for sub in (stage, pause, resume):
            sub.add_argument(
                "--actor",
                default=None,
                help="Who makes the change, for the record (default: the system's user@host).",
            )

    @no_translations  # the command line speaks English, as its arguments and help do
    def handle(self, *args: Any, **options: Any) -> None:
        runs: dict[str, Callable[[dict[str, Any]], None]] = {
            "status": self.status,
            "set": self.set_stage,
            "pause": self.pause,
            "resume": self.resume,
            "history": self.history,
        }
        try:
            runs[options["subcommand"]](options)
        except RolloutError as exc:
            raise CommandError(str(exc)) from exc

    def status(self, options: dict[str, Any]) -> None:
        status = rollout_status()
        switch = status.switch
        if switch.selling_enabled:
            self.stdout.write("Online selling: on")
        else:
            self.stdout.write(f"Online selling: PAUSED since {_when(switch.since)}: {switch.reason}")
        if not status.categories:
            self.stdout.write("No categories yet: they come with the first AS400 item master.")
            return
        self.stdout.write(f"{'family':<7} {'stage':<6} {'products':>8} {'ready':>6} {'safety':>6}  name")
        for c in status.categories:
            self.stdout.write(
                f"{c.family_code:<7} {c.stage:<6} {c.products:>8} {c.ready:>6} {c.safety_stock:>6}  {c.name}"
            )
        stages = [c.stage for c in status.categories]
        counts = ", ".join(f"{stages.count(s)} {s}" for s in Category.Stage.values)
        self.stdout.write(f"{len(stages)} categories: {counts}. Ready: active and mapped products.")

    def set_stage(self, options: dict[str, Any]) -> None:
        category = category_find(family_code=options["family"])
        old = category.rollout_stage
        change = category_set_stage(
            category=category,
            stage=options["stage"],
            actor_name=options["actor"] or command_line_actor(),
            note=options["note"],
        )
        if change is None:
            self.stdout.write(f"{category.family_code} is already {old}: nothing changed.")
        else:
            self.stdout.write(
                f"{category.family_code} {category.name}: {old} → {change.new_value}".replace("  ", " ")
            )
            self.stdout.write(f"Recorded as changed by {change.changed_by_name}.")

    def pause(self, options: dict[str, Any]) -> None:
        change = selling_pause(reason=options["reason"], actor_name=options["actor"] or command_line_actor())
        if change is None:
            switch = rollout_status().switch
            self.stdout.write(
                f"Online selling was already paused since {_when(switch.since)}: {switch.reason}"
            )
            return
        self.stdout.write(f"Online selling paused: {change.note}")
        self.stdout.write(f"Recorded as changed by {change.changed_by_name}.")

    def resume(self, options: dict[str, Any]) -> None:
        change = selling_resume(reason=options["reason"], actor_name=options["actor"] or command_line_actor())
        if change is None:
            self.stdout.write("Online selling was not paused: nothing changed.")
            return
        self.stdout.write("Online selling resumed.")
        self.stdout.write(f"Recorded as changed by {change.changed_by_name}.")

    def history(self, options: dict[str, Any]) -> None:
        if options["limit"] < 1:
            raise CommandError("--limit must be 1 or more")
        family = None
        if options["family"]:
            family = category_find(family_code=options["family"]).family_code
        changes = rollout_history(family_code=family, limit=options["limit"])
        if not changes:
            self.stdout.write("No change recorded" + (f" for {family}." if family else "."))
            return
        for change in changes:
            self.stdout.write(change_line(change))
