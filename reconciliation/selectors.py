"""Reads of reconciliation: the last run, the nights' series for the chart, the night's health."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from reconciliation.models import Run

PARIS = ZoneInfo("Europe/Paris")


def last_run() -> Run | None:
    return (
        Run.objects.filter(dry_run=False)
        .exclude(outcome=Run.Outcome.RUNNING)
        .order_by("-started_at", "-pk")
        .first()
    )


def nights_series(*, nights: int = 30, today: date | None = None) -> list[dict[str, Any]]:
    """The last ``nights`` nights, oldest first: per night the last finished run's counts per kind
    and its drift in units (a night without a run has ``run`` None)."""
    today = today or timezone.localdate(timezone.now(), PARIS)
    first = today - timedelta(days=nights - 1)
    runs: dict[date, Run] = {}
    for found in (
        Run.objects.filter(night__gte=first, night__lte=today, dry_run=False)
        .exclude(outcome=Run.Outcome.RUNNING)
        .order_by("started_at", "pk")
    ):
        runs[found.night] = found  # the last run of a night wins
    series = []
    for n in range(nights):
        night = first + timedelta(days=n)
        run = runs.get(night)
        series.append({
            "night": night, "run": run,
            "kinds": {k: int(v.get("total", 0)) for k, v in (run.counts if run else {}).items()},
            "drift": int((run.drift or {}).get("total", 0)) if run else 0,
        })  # fmt: skip
    return series


def _deadline() -> time:
    hours, _, minutes = str(settings.RECONCILIATION_DEADLINE).partition(":")
    return time(int(hours), int(minutes or 0))


@dataclass
class ReconciliationHealth:
    night: date
    last_run: Run | None
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        run = self.last_run
        return {
            "status": "ok" if self.healthy else "unhealthy",
            "night": self.night.isoformat(),
            "problems": self.problems,
            "last_run": None if run is None else {
                "night": run.night.isoformat(), "outcome": run.outcome, "found": run.found,
                "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            },
        }  # fmt: skip


def reconciliation_health(*, now: datetime | None = None) -> ReconciliationHealth:
    """Unhealthy when the night due by now (past ``RECONCILIATION_DEADLINE``, Paris: tonight's; before
    it, last night's) has no finished run, or its last run failed."""
    now = now or timezone.now()
    local = timezone.localtime(now, PARIS)
    night = local.date() if local.time() >= _deadline() else local.date() - timedelta(days=1)
    runs = Run.objects.filter(night=night, dry_run=False).exclude(outcome=Run.Outcome.RUNNING)
    run = runs.order_by("-started_at", "-pk").first()
    health = ReconciliationHealth(night=night, last_run=last_run())
    if run is None:
        health.problems.append(f"the night of {night} was not reconciled")
    elif run.outcome == Run.Outcome.FAILED:
        health.problems.append(f"the reconciliation of {night} failed: {run.error}")
    elif run.outcome == Run.Outcome.INCOMPLETE:
        health.problems.append(f"the reconciliation of {night} is incomplete (full extracts missing)")
    return health
