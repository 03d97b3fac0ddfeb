"""How the exchange with the AS400 is doing, in figures, and which of them pass a threshold.

:func:`outbox_health` is a selector (it reads, writes nothing): the admin's monitoring page and
the JSON endpoint ``/health/outbox`` show what it returns. The thresholds come from the settings
(``HEALTH_*``); each one passed adds a line to ``problems``, and any problem makes the whole
answer unhealthy.

- the queue: messages per state, the age of the oldest pending message, dead messages;
- the files we wrote: how many still wait in ``IN/``, and how many of them past the consume
  deadline (``OUTBOX_CONSUME_DEADLINE_MINUTES``, the circuit breaker's own deadline);
- the answers: time since the last ORDACK, judged only while messages wait for one;
- the circuit breaker and the AS400's batch window;
- the AS400's exports: the age of the newest applied STKBAL extract (against the AS400's clock,
  which is the simulator's with ``AS400_EXCHANGE_BACKEND=simulator``), and whether it is dated
  ahead of that clock;
- the exchange folders: a missing one (``check_folders``) is a problem.

During the batch window the AS400 reads nothing and exports nothing, and we send nothing, so
the ages that only grow then (pending messages, acks, stock) are shown but not judged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Min
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from integration.as400.exchange import ExchangeUnavailable, Location, get_exchange_folder
from integration.as400.files import PairName
from integration.models import FileRun, OutboundFile, OutboxMessage
from integration.outbox.dispatch import breaker_state, in_batch_window


class Problem(str):
    """A problem, in English (the JSON for monitoring, logs); :meth:`translated` is the same in the
    reader's language, for the admin's page. Its template is marked for the catalogue."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, **params: Any) -> Problem:
        problem = super().__new__(cls, template.format(**params) if params else template)
        problem.template, problem.params = template, params
        return problem

    def translated(self) -> str:
        return gettext(self.template).format(**self.params)


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _seconds(delta: timedelta | None) -> int | None:
    return None if delta is None else max(0, int(delta.total_seconds()))


@dataclass(frozen=True)
class OutboxHealth:
    """The figures, as JSON-ready values (ages in whole seconds, None when there is nothing to age)."""

    now: str
    queue: dict[str, int]
    oldest_pending_age_seconds: int | None
    dead_messages: int
    sent_unacked_messages: int
    seconds_since_last_ack: int | None
    files_unconsumed: int | None  # None: the exchange folder could not be read
    files_unconsumed_past_deadline: int | None
    files_refused: int | None
    breaker_open: bool | None
    breaker_reason: str
    in_batch_window: bool
    stock_age_seconds: int | None
    stock_last_file: str
    thresholds: dict[str, int]
    problems: list[Problem] = field(default_factory=list)  # str: English

    @property
    def healthy(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"status": "ok" if self.healthy else "unhealthy", **asdict(self)}


def health_thresholds() -> dict[str, int]:
    return {
        "max_pending_age_seconds": _setting("HEALTH_MAX_PENDING_AGE_SECONDS", 900),
        "max_dead": _setting("HEALTH_MAX_DEAD", 0),
        "max_unconsumed_files": _setting("HEALTH_MAX_UNCONSUMED_FILES", 0),
        "max_seconds_since_ack": _setting("HEALTH_MAX_SECONDS_SINCE_ACK", 3600),
        "max_stock_age_seconds": _setting("HEALTH_MAX_STOCK_AGE_SECONDS", 3600),
        "consume_deadline_minutes": _setting("OUTBOX_CONSUME_DEADLINE_MINUTES", 15),
    }


def outbox_health(*, now: datetime | None = None, file: str = "ORDIMP") -> OutboxHealth:
    """The figures of the outbox and the exchange at ``now``, with the thresholds they pass."""
    now = now or timezone.now()
    limits = health_thresholds()
    problems: list[Problem] = []
    batch = in_batch_window(now)

    queue = {state: 0 for state in OutboxMessage.State.values}
    for row in OutboxMessage.objects.values("state").annotate(n=Count("id")):
        queue[row["state"]] = row["n"]
    oldest_pending = OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING).aggregate(
        at=Min("created_at")
    )["at"]
    pending_age = _seconds(now - oldest_pending if oldest_pending else None)
    if pending_age is not None and not batch and pending_age > limits["max_pending_age_seconds"]:
        problems.append(
            Problem(
                gettext_noop("oldest pending message waits for {age} s (more than {limit} s)"),
                age=pending_age, limit=limits["max_pending_age_seconds"],
            )
        )
    dead = queue[OutboxMessage.State.DEAD]
    if dead > limits["max_dead"]:
        problems.append(
            Problem(gettext_noop("{dead} dead outbox message(s) (more than {limit})"), dead=dead, limit=limits["max_dead"])
        )

    # The AS400's answers: judged only while something waits for one, from the later of the last
    # ack and the oldest message waiting (a quiet AS400 with nothing to answer is not a problem).
    last_ack = OutboxMessage.objects.aggregate(at=Max("acked_at"))["at"]
    unacked = OutboxMessage.objects.filter(
        state=OutboxMessage.State.SENT, outbound_file__state=OutboundFile.State.WRITTEN, sent_at__isnull=False
    )
    oldest_unacked = unacked.aggregate(at=Min("sent_at"))["at"]
    since_ack = _seconds(now - last_ack if last_ack else None)
    if oldest_unacked is not None and not batch:
        waiting = _seconds(now - max(oldest_unacked, last_ack or oldest_unacked)) or 0
        if waiting > limits["max_seconds_since_ack"]:
            problems.append(
                Problem(
                    gettext_noop("no ORDACK for {waiting} s while {count} message(s) wait for one (more than {limit} s)"),
                    waiting=waiting, count=unacked.count(), limit=limits["max_seconds_since_ack"],
                )
            )

    unconsumed = past_deadline = refused = None
    breaker_open: bool | None = None
    breaker_reason = ""
    clock = now  # the AS400's clock: ours, or the simulator's
    try:
        folder = get_exchange_folder()
        folder.check_folders()
        clock = folder.as400_clock(now)
        state = folder.sent_state(file=file)
        breaker = breaker_state(folder, file=file, now=now)
    except (OSError, ExchangeUnavailable) as exc:
        problems.append(Problem(gettext_noop("the exchange folder cannot be read: {exc}"), exc=exc))
    else:
        deadline = now - timedelta(minutes=limits["consume_deadline_minutes"])
        written = OutboundFile.objects.filter(file=file, state=OutboundFile.State.WRITTEN)
        waiting_files = [f for f in written if state.where(PairName(f.file, f.seq)) == Location.IN]
        unconsumed = len(waiting_files)
        past_deadline = sum(1 for f in waiting_files if f.written_at and f.written_at < deadline)
        refused = len(state.refused.ready)
        breaker_open, breaker_reason = breaker.open, breaker.reason
        if past_deadline > limits["max_unconsumed_files"]:
            problems.append(
                Problem(
                    gettext_noop("{count} file(s) still in IN/ after {minutes} min (more than {limit})"),
                    count=past_deadline, minutes=limits["consume_deadline_minutes"], limit=limits["max_unconsumed_files"],
                )
            )
        if breaker.open:
            problems.append(Problem(gettext_noop("circuit breaker open: {reason}"), reason=breaker.reason))

    stkbal = (
        FileRun.objects.filter(
            file="STKBAL", direction=FileRun.Direction.OUT, outcome=FileRun.Outcome.APPLIED
        )
        .order_by("-seq", "-id")  # the last applied: a wrong date must not make one the newest
        .first()
    )
    stock_at = (stkbal.taken_at or stkbal.finished_at) if stkbal else None
    stock_file = f"{stkbal.file}_{stkbal.seq:06d}" if stkbal else ""
    stock_age = _seconds(clock - stock_at if stock_at else None)
    tolerance = timedelta(minutes=_setting("AS400_CLOCK_TOLERANCE_MINUTES", 60))
    if stock_at is not None and stock_at > clock + tolerance:
        problems.append(
            Problem(
                gettext_noop(
                    "newest STKBAL ({file}) is dated {at}, ahead of the AS400's clock: its figures cannot be "
                    "trusted as of then"
                ),
                file=stock_file, at=stock_at.isoformat(),
            )
        )
    if not batch:
        if stock_age is None:
            problems.append(Problem(gettext_noop("no STKBAL extract applied yet")))
        elif stock_age > limits["max_stock_age_seconds"]:
            problems.append(
                Problem(
                    gettext_noop("newest STKBAL ({file}) is {age} s old (more than {limit} s)"),
                    file=stock_file, age=stock_age, limit=limits["max_stock_age_seconds"],
                )
            )

    return OutboxHealth(
        now=now.isoformat(timespec="seconds"),
        queue=queue,
        oldest_pending_age_seconds=pending_age,
        dead_messages=dead,
        sent_unacked_messages=unacked.count(),
        seconds_since_last_ack=since_ack,
        files_unconsumed=unconsumed,
        files_unconsumed_past_deadline=past_deadline,
        files_refused=refused,
        breaker_open=breaker_open,
        breaker_reason=breaker_reason,
        in_batch_window=batch,
        stock_age_seconds=stock_age,
        stock_last_file=stock_file,
        thresholds=limits,
        problems=problems,
    )
