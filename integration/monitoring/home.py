"""The integration app's own figures on the admin's home page (see :mod:`integration.monitoring.console`).

- dead outbox messages, quarantined files, late extracts (per extract, the age of its newest
  applied file against how often the AS400 sends it), faults switched on in the AS400 simulator;
- charts: the outbox's depth over the last 24 hours with the age of its oldest waiting message,
  and the age of the stock figures (the newest applied STKBAL) hour by hour, against its limit.

Ages of the AS400's extracts are judged on the AS400's clock (the simulator's where it is one), as
:func:`integration.monitoring.health.outbox_health` judges them; during the batch window they only
grow, so they are shown but not counted late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integration.as400.exchange import ExchangeUnavailable, get_exchange_folder
from integration.as400.simulator.admin import PERMISSION as SIMULATOR_PERMISSION
from integration.as400.simulator.admin import URL_NAME as SIMULATOR_URL
from integration.as400.simulator.admin import simulator_admin_enabled, simulator_for_request
from integration.as400.simulator.errors import SimulatorError
from integration.models import FileRun, OutboxMessage
from integration.monitoring.charts import line_svg
from integration.monitoring.console import (
    OPERATIONS,
    SUPPORT,
    Chart,
    Figure,
    Tile,
    chart_register,
    tile_register,
)
from integration.monitoring.health import health_thresholds
from integration.outbox.dispatch import in_batch_window

HOURS = 24
# How old each extract may be before it is late: STKBAL deltas come every few minutes (the health
# threshold); ITMMST and WEBORD come full every night, so a day and two hours of slack.
NIGHTLY_LIMIT_SECONDS = 26 * 3600
EXTRACTS = ("STKBAL", "ITMMST", "WEBORD")


def _outbox_list(**filters: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    return reverse("admin:integration_outboxmessage_changelist") + (f"?{query}" if query else "")


def _file_runs(**filters: str) -> str:
    return (
        reverse("admin:integration_filerun_changelist")
        + "?"
        + "&".join(f"{k}={v}" for k, v in filters.items())
    )


def dead_messages(now: datetime) -> Figure:
    return Figure(OutboxMessage.objects.filter(state=OutboxMessage.State.DEAD).count())


def quarantined_files(now: datetime) -> Figure:
    return Figure(FileRun.objects.filter(outcome=FileRun.Outcome.QUARANTINED).count())


@dataclass(frozen=True)
class ExtractAge:
    file: str
    last: FileRun | None
    age_seconds: int | None
    limit_seconds: int
    late: bool


def as400_clock(now: datetime) -> datetime:
    """The AS400's time at our ``now`` (ours when the exchange folder cannot be read)."""
    try:
        return get_exchange_folder().as400_clock(now)
    except (OSError, ExchangeUnavailable):
        return now


def extract_limit(file: str) -> int:
    return health_thresholds()["max_stock_age_seconds"] if file == "STKBAL" else NIGHTLY_LIMIT_SECONDS


def extract_ages(now: datetime) -> list[ExtractAge]:
    """Each extract's newest applied file and its age on the AS400's clock; late past its limit."""
    clock, batch = as400_clock(now), in_batch_window(now)
    ages = []
    for file in EXTRACTS:
        last = (
            FileRun.objects.filter(
                file=file, direction=FileRun.Direction.OUT, outcome=FileRun.Outcome.APPLIED
            )
            .order_by("-seq", "-id")
            .first()
        )
        at = (last.taken_at or last.finished_at) if last else None
        age = None if at is None else max(0, int((clock - at).total_seconds()))
        limit = extract_limit(file)
        ages.append(ExtractAge(file, last, age, limit, not batch and (age is None or age > limit)))
    return ages


def late_extracts(now: datetime) -> Figure:
    late = [a.file for a in extract_ages(now) if a.late]
    return Figure(len(late), ", ".join(late))


def simulator_faults(now: datetime) -> Figure:
    try:
        with simulator_for_request() as sim:
            on = [f.name for f in sim.status().faults if f.active]
    except (SimulatorError, OSError) as exc:
        error = exc.translated() if isinstance(exc, SimulatorError) else exc
        return Figure(0, gettext("the simulator cannot be read: %(error)s") % {"error": error}, alarm=True)
    return Figure(len(on), ", ".join(on))


# --- Charts ----------------------------------------------------------------------------------------


def _hours(now: datetime) -> list[datetime]:
    """The ends of the last 24 whole hours, the last one ``now`` itself."""
    return [now - timedelta(hours=HOURS - 1 - i) for i in range(HOURS)]


def _slot(at: datetime) -> str:
    return timezone.localtime(at).strftime("%H:%M")


def outbox_depth(now: datetime) -> tuple[str, str]:
    """How many messages waited (pending or dead, not yet written) at each hour of the last 24:
    a message waits from its creation until it is sent. Cancelled ones are left out: when they
    stopped waiting is not kept."""
    ends = _hours(now)
    start = ends[0]
    rows = list(
        OutboxMessage.objects.exclude(state=OutboxMessage.State.CANCELLED)
        .filter(Q(sent_at__isnull=True) | Q(sent_at__gt=start), created_at__lte=now)
        .values_list("created_at", "sent_at")
    )
    depth = [
        sum(1 for created, sent in rows if created <= end and (sent is None or sent > end)) for end in ends
    ]
    waiting = [created for created, sent in rows if sent is None]
    oldest = (
        OutboxMessage.objects.filter(state__in=[OutboxMessage.State.PENDING, OutboxMessage.State.DEAD])
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if oldest is None:
        caption = gettext("Nothing waits now.")
    else:
        minutes = max(0, int((now - oldest).total_seconds() // 60))
        caption = gettext("%(count)s waiting now; the oldest for %(minutes)s min.") % {
            "count": len(waiting), "minutes": minutes,
        }  # fmt: skip
    svg = line_svg(
        [_slot(e) for e in ends],
        depth,
        label=str(_("Outbox depth, last 24 hours")),
        name=gettext("waiting messages"),
    )
    return svg, caption


def stock_freshness(now: datetime) -> tuple[str, str]:
    """The age in minutes of the stock figures at each hour of the last 24: the time from the
    newest STKBAL applied by then back to when the AS400 took it."""
    ends = _hours(now)
    runs = list(
        FileRun.objects.filter(
            file="STKBAL",
            direction=FileRun.Direction.OUT,
            outcome=FileRun.Outcome.APPLIED,
            finished_at__lte=now,
        )
        .filter(Q(finished_at__gte=ends[0] - timedelta(days=2)))
        .order_by("finished_at")
        .values_list("finished_at", "taken_at")
    )
    ages: list[float | None] = []
    for end in ends:
        # finished_at is never None here (filtered on it); taken_at may be, for a file without one.
        applied: list[datetime] = [
            taken or finished for finished, taken in runs if finished is not None and finished <= end
        ]
        ages.append(None if not applied else max(0.0, round((end - max(applied)).total_seconds() / 60, 1)))
    limit = health_thresholds()["max_stock_age_seconds"] / 60
    current = next((a for a in extract_ages(now) if a.file == "STKBAL"), None)
    if current is None or current.age_seconds is None:
        caption = gettext("No stock extract applied yet.")
    else:
        caption = gettext("Stock figures are %(minutes)s min old (limit %(limit)s min).") % {
            "minutes": current.age_seconds // 60, "limit": int(limit),
        }  # fmt: skip
    svg = line_svg(
        [_slot(e) for e in ends], ages, label=str(_("Age of the stock figures, last 24 hours")),
        name=gettext("age"), unit=" min", limit=limit, limit_name=gettext("limit"),
    )  # fmt: skip
    return svg, caption


def register() -> None:
    """Put the integration app's figures on the home page (from :class:`integration.apps.IntegrationConfig`)."""
    tile_register(Tile(
        "dead_messages", _("Dead outbox messages"), dead_messages,
        lambda: _outbox_list(state__exact=OutboxMessage.State.DEAD), "integration.view_outboxmessage",
        (OPERATIONS, SUPPORT), order=20,
    ))  # fmt: skip
    tile_register(Tile(
        "quarantined_files", _("Quarantined files (OUT/QUARANTINE)"), quarantined_files,
        lambda: _file_runs(outcome__exact=FileRun.Outcome.QUARANTINED), "integration.view_filerun",
        (OPERATIONS,), order=30,
    ))  # fmt: skip
    tile_register(Tile(
        "late_extracts", _("Late extracts from the AS400"), late_extracts,
        lambda: _file_runs(direction__exact=FileRun.Direction.OUT, outcome__exact=FileRun.Outcome.APPLIED),
        "integration.view_filerun", (OPERATIONS, SUPPORT), order=40,
    ))  # fmt: skip
    tile_register(Tile(
        "simulator_faults", _("AS400 simulator faults on"), simulator_faults, lambda: reverse(f"admin:{SIMULATOR_URL}"),
        SIMULATOR_PERMISSION, (OPERATIONS,), order=90, enabled=simulator_admin_enabled,
    ))  # fmt: skip
    chart_register(Chart(
        "outbox_depth", _("Outbox depth"), outbox_depth, "integration.view_outboxmessage", (OPERATIONS, SUPPORT), 20,
    ))  # fmt: skip
    chart_register(Chart(
        "stock_freshness", _("Freshness of stock"), stock_freshness, "integration.view_filerun", (OPERATIONS,), 30,
    ))  # fmt: skip
