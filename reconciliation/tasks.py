"""django-q2 entry points of reconciliation. Tasks call services and hold no logic.

- after each full ITMMST, STKBAL or WEBORD is applied, :func:`reconcile_when_ready_enqueue` queues
  the night's run once all three are in (and no run of that night was started by them yet);
- every few minutes :func:`reconcile_sweep` runs again the night of a run whose worker died
  mid-run, or a night whose three extracts are in and that no run took up (its task was lost);
- every morning (``RECONCILIATION_DEADLINE``, Paris time) :func:`reconcile_fallback` runs the night
  if nothing did, alerting when its files are missing or late.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext_noop

from integration.alerts import alert_raise
from integration.core.locks import one_at_a_time
from integration.core.stored_texts import StoredText
from integration.models import Alert, FileRun
from reconciliation.as400_exports import NIGHT_FILES
from reconciliation.models import Run

# The alert of a night whose extracts are late, stored in English and shown in the reader's language
# (integration.core.stored_texts).
FILES_LATE = StoredText(gettext_noop("night {night}: the full {files} had not arrived by the deadline"))

RUN_TASK = "reconciliation.tasks.reconcile_night"


def reconcile_when_ready_enqueue(file: str, seq: int) -> bool:
    """Queue the night's run if the night of ``file``'s pair now has its three full extracts."""
    from django_q.tasks import async_task

    from reconciliation.services import night_files, night_of

    run = FileRun.objects.filter(
        direction=FileRun.Direction.OUT, file=file, seq=seq, outcome=FileRun.Outcome.APPLIED
    ).first()
    if run is None or run.taken_at is None:
        return False
    night = night_of(run.taken_at)
    if set(night_files(night)) != set(NIGHT_FILES):
        return False
    if Run.objects.filter(night=night, trigger="files", dry_run=False).exists():
        return False
    async_task(RUN_TASK, night.isoformat(), "files", task_name=f"reconciliation {night}")
    return True


def reconcile_night(night: str, trigger: str = "files") -> str:
    from reconciliation.services import reconcile

    run = reconcile(night=date.fromisoformat(night), trigger=trigger)
    return f"{run}: {run.found} findings, {run.opened} new, {run.closed} closed ({run.outcome})"


@one_at_a_time("Reconciliation sweep")
def reconcile_sweep() -> str:
    """A run a dead worker left, or a night no run took up, reconciled now (every few minutes)."""
    from reconciliation.services import reconcile_resume

    run = reconcile_resume()
    if run is None:
        return "nothing to resume"
    return f"{run}: {run.found} findings, {run.opened} new, {run.closed} closed ({run.outcome})"


@one_at_a_time("Reconciliation fallback")
def reconcile_fallback() -> str:
    """The morning's safety net: the night not reconciled yet is reconciled now (files or not)."""
    from reconciliation.services import night_files, night_of, reconcile

    now = timezone.now()
    night = night_of(now)
    if Run.objects.filter(night=night, dry_run=False, outcome=Run.Outcome.DONE).exists():
        return f"night {night} already reconciled"
    missing = [f for f in NIGHT_FILES if f not in night_files(night)]
    if missing:
        alert_raise(
            kind="reconciliation_files_late", subject=str(night), severity=Alert.Severity.CRITICAL,
            message=FILES_LATE.format(night=night, files=", ".join(missing)),
            now=now,
        )  # fmt: skip
    run = reconcile(night=night, trigger="schedule", now=now)
    return f"{run}: {run.found} findings ({run.outcome})"
