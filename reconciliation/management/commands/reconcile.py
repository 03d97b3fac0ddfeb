"""``python manage.py reconcile [--night YYYY-MM-DD] [--dry-run]``: compare a night now.

Without ``--night``, the night of the newest full extract applied. The same night again updates
its findings (never duplicates them). ``--dry-run`` records the run's counts and changes no
discrepancy. Progress, check by check, goes to stderr (tqdm); the summary to stdout.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reconciliation.checks import CHECKS


def _night(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--night {value!r} is not a date in the form YYYY-MM-DD") from None


class Command(BaseCommand):
    help = "Compare a night's full AS400 extracts (ITMMST, STKBAL, WEBORD) with the platform, and record the run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--night", help="The Paris date of the extracts, YYYY-MM-DD (default: the newest)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be found; change nothing."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (it goes to stderr).")

    def handle(self, *args: Any, **options: Any) -> None:
        from tqdm import tqdm

        from reconciliation.services import ReconciliationBusy, reconcile

        night = _night(options["night"]) if options["night"] else None
        bar = tqdm(total=len(CHECKS), desc="checks", unit="check", disable=options["no_progress"] or None)

        def progress(code: str, found: int) -> None:
            bar.set_postfix_str(f"{code}: {found}")
            bar.update(1)

        try:
            run = reconcile(night=night, dry_run=options["dry_run"], trigger="command", progress=progress)
        except ReconciliationBusy as exc:
            raise CommandError(str(exc)) from None
        finally:
            bar.close()
        out = self.stdout
        out.write(
            f"{run} ({run.get_outcome_display()}{', à blanc' if run.dry_run else ''}) in {run.duration_seconds}s"
        )
        for f in run.files:
            out.write(f"  compared {f['file']}_{f['seq']:06d} taken {f['taken_at']}")
        for s in run.skipped_checks:
            out.write(f"  skipped {s.get('check')}: {s.get('why')}")
        for kind, c in sorted(run.counts.items()):
            if c.get("total"):
                out.write(f"  {kind}: {c['total']} (pilot {c.get('pilot', 0)}, live {c.get('live', 0)}, "
                          f"units {c.get('units', 0)})")  # fmt: skip
        if run.drift:
            out.write(f"  drift: {run.drift.get('total', 0)} units (pilot {run.drift.get('pilot', 0)}, "
                      f"live {run.drift.get('live', 0)})")  # fmt: skip
        out.write(f"{run.found} found, {run.opened} new, {run.closed} closed")
