"""The nightly run: the night's full extracts compared with our database, check by check.

:func:`reconcile` finds the night's files, runs every registered check (``reconciliation.checks``)
whose files are there, and turns the findings into discrepancies in one transaction:

- a discrepancy is keyed ``kind:subject``: found again, it is the same row (last seen, nights
  open); running the same night again updates that night's findings and never duplicates them;
- an open discrepancy that a run of its kind no longer finds closes by itself, and says so;
- one that staff resolved and that a run on files taken *after* the resolution still finds is
  reopened (a run on the same files again would only repeat what staff already acted on);
- an ignored one stays ignored;
- every run is recorded (its files, duration, counts per kind and severity, pilot apart, the day's
  drift), and a kind past its threshold raises an alert and e-mails operations.

A dry run computes and records the counts but changes no discrepancy.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext, gettext_noop

from integration.alerts import alert_raise
from integration.core.locks import try_lock
from integration.core.stored_texts import StoredText
from integration.models import Alert, FileRun
from inventory.models import Category
from reconciliation.as400_exports import NIGHT_FILES
from reconciliation.checks import CHECKS, CheckUnavailable, Finding, Night
from reconciliation.checks.stock import drift_by_category
from reconciliation.locks import discrepancies_locked
from reconciliation.models import Action, Discrepancy, Run, StockPicture, Threshold, WebOrderPicture

logger = logging.getLogger(__name__)

# What its alerts say, stored in English and shown in the reader's language (integration.core.stored_texts).
CHECK_UNAVAILABLE = StoredText(gettext_noop("night {night}: the check {code} did not run: {error}"))
RUN_FAILED = StoredText(gettext_noop("the reconciliation of {night} failed: {error}"))
FILES_MISSING = StoredText(gettext_noop(
    "night {night}: no full {files} applied; the checks that need them did not run"
))
THRESHOLD_PASSED = StoredText(gettext_noop("night {night}: {kind} past its threshold: {reasons}"))
PARIS = ZoneInfo("Europe/Paris")
LOCK = "reconciliation-run"
SYSTEM = "rapprochement"
#: Progress callback: (check code, findings so far).
Progress = Callable[[str, int], None]


class ReconciliationBusy(Exception):
    """Another run holds the lock."""


def night_of(moment: datetime) -> date:
    """The night an extract belongs to: the Paris date it was taken on (the batch ends ~03:30)."""
    return timezone.localtime(moment, PARIS).date()


def night_files(night: date) -> dict[str, FileRun]:
    """The newest applied full ITMMST, STKBAL and WEBORD taken on ``night`` (Paris date)."""
    start = datetime.combine(night, datetime.min.time(), tzinfo=PARIS)
    runs = FileRun.objects.filter(
        direction=FileRun.Direction.OUT, file__in=NIGHT_FILES, kind="F", outcome=FileRun.Outcome.APPLIED,
        taken_at__gte=start, taken_at__lt=start + timedelta(days=1),
    ).order_by("file", "-taken_at", "-seq")  # fmt: skip
    found: dict[str, FileRun] = {}
    for run in runs:
        found.setdefault(run.file, run)
    return found


def latest_night() -> date | None:
    """The night of the newest applied full extract, if any."""
    run = (
        FileRun.objects.filter(
            direction=FileRun.Direction.OUT,
            file__in=NIGHT_FILES,
            kind="F",
            outcome=FileRun.Outcome.APPLIED,
            taken_at__isnull=False,
        )
        .order_by("-taken_at")
        .first()
    )
    return night_of(run.taken_at) if run and run.taken_at else None


def _pictured(files: dict[str, FileRun]) -> tuple[dict[str, FileRun], list[dict[str, str]]]:
    """The files whose picture is still the one kept (WEBORD and STKBAL are kept for one night)."""
    kept: dict[str, Any] = {"WEBORD": WebOrderPicture, "STKBAL": StockPicture}
    usable, skipped = {}, []
    for file, run in files.items():
        model = kept.get(file)
        if model is not None and model.objects.exclude(seq=run.seq).exists():
            skipped.append(
                {"file": file, "why": gettext("{pair} was replaced by a newer extract").format(pair=f"{file}_{run.seq:06d}")}
            )
            continue
        usable[file] = run
    return usable, skipped


@dataclass
class _Tally:
    count: int = 0
    units: int = 0
    amount: Decimal = Decimal(0)


def reconcile(
    *,
    night: date | None = None,
    dry_run: bool = False,
    trigger: str = "command",
    by: str = "",
    now: datetime | None = None,
    progress: Progress | None = None,
) -> Run:
    """Compare ``night`` (default: the newest night with a full extract) and record the run."""
    now = now or timezone.now()
    night = night or latest_night() or night_of(now)
    with try_lock(LOCK) as taken:
        if not taken:
            raise ReconciliationBusy("another reconciliation run is in progress")
        _interrupted_close(now)
        return _reconcile(night, dry_run, trigger, by, now, progress)


def _interrupted_close(now: datetime) -> list[Run]:
    """Called holding the lock: no run is in progress, so one still marked running lost its worker
    (killed mid-run; the lock went with its server session, which is what makes it a lease that
    ends the moment its holder dies). Closed as failed; returned, for their work to be done again."""
    interrupted = list(Run.objects.filter(outcome=Run.Outcome.RUNNING))
    Run.objects.filter(pk__in=[r.pk for r in interrupted]).update(
        outcome=Run.Outcome.FAILED, finished_at=now,
        error="interrupted: its worker stopped before the run ended",
    )  # fmt: skip
    return interrupted


def reconcile_resume(*, now: datetime | None = None) -> Run | None:
    """The sweep (every few minutes): the work of a run whose worker died, done again now, instead
    of waiting for the morning's fallback; None when there is none.

    - a run left running while no run holds the lock (its worker died mid-run): closed as failed,
      and its night run again with its trigger (a night run again updates its findings, never
      duplicates them); a dry run is only closed;
    - the newest night whose three full extracts are in and that no run took up (the task queued
      when the last of them was applied was lost with its worker): run, as those files would have.

    A run that failed of its own error is not retried here (it would fail every few minutes): it
    was alerted, and the fallback runs its night in the morning.
    """
    now = now or timezone.now()
    with try_lock(LOCK) as taken:
        if not taken:
            return None  # a run is in progress, its worker alive
        interrupted = [r for r in _interrupted_close(now) if not r.dry_run]
        if interrupted:
            last = max(interrupted, key=lambda r: (r.started_at, r.pk))
            logger.warning("reconciliation of %s interrupted (its worker stopped): run again", last.night)
            return _reconcile(last.night, False, last.trigger, last.started_by, now, None)
        night = latest_night()
        if night is None or set(night_files(night)) != set(NIGHT_FILES):
            return None
        if Run.objects.filter(night=night, dry_run=False).exists():
            return None
        return _reconcile(night, False, "files", "", now, None)


def _reconcile(
    night: date, dry_run: bool, trigger: str, by: str, now: datetime, progress: Progress | None
) -> Run:
    started = time.monotonic()
    found_files = night_files(night)
    files, skipped_files = _pictured(found_files)
    missing = [f for f in NIGHT_FILES if f not in found_files]
    run = Run.objects.create(
        night=night, started_at=now, dry_run=dry_run, trigger=trigger, started_by=by[:150],
        files=[{"file": r.file, "seq": r.seq, "taken_at": r.taken_at.isoformat() if r.taken_at else None,
                "file_run": r.pk} for r in found_files.values()],
    )  # fmt: skip
    context = Night(night=night, now=now, files=files)
    findings: dict[str, list[Finding]] = {}
    skipped: list[dict[str, str]] = [{"check": "*", **s} for s in skipped_files]
    try:
        for code, check in CHECKS.items():
            lacking = check.missing(context)
            if lacking:
                skipped.append({"check": code, "why": "fichier absent : " + ", ".join(lacking)})
                continue
            why = check.unavailable(context)
            if why:
                skipped.append({"check": code, "why": why})
                continue
            try:
                findings[code] = list(check.find(context))
            except CheckUnavailable as exc:
                skipped.append({"check": code, "why": str(exc)})
                alert_raise(kind="reconciliation_check_unavailable", subject=f"{night}:{code}",
                            severity=Alert.Severity.WARNING, now=now,
                            message=CHECK_UNAVAILABLE.format(night=night, code=code, error=exc))  # fmt: skip
                continue
            if progress:
                progress(code, len(findings[code]))
        drift = _drift(files)
        with transaction.atomic():
            opened, closed, counts = _record(run, findings, files, now, dry_run)
            run.counts, run.drift, run.skipped_checks = counts, drift, skipped
            run.found = sum(len(f) for f in findings.values())
            run.opened, run.closed = opened, closed
            run.outcome = Run.Outcome.INCOMPLETE if missing else Run.Outcome.DONE
            run.finished_at = now
            run.duration_seconds = round(time.monotonic() - started, 3)
            run.save()
    except Exception as exc:
        Run.objects.filter(pk=run.pk).update(
            outcome=Run.Outcome.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=now,
            duration_seconds=round(time.monotonic() - started, 3),
        )  # fmt: skip
        alert_raise(kind="reconciliation_failed", subject=str(night), severity=Alert.Severity.CRITICAL,
                    message=RUN_FAILED.format(night=night, error=exc), now=now)  # fmt: skip
        raise
    if missing:
        alert_raise(
            kind="reconciliation_files_missing", subject=str(night), severity=Alert.Severity.WARNING,
            message=FILES_MISSING.format(night=night, files=", ".join(missing)),
            now=now,
        )  # fmt: skip
    if not dry_run:
        _thresholds(run, now)
    logger.info("reconciliation %s: %s findings, %s new, %s closed", night, run.found, run.opened, run.closed)
    return run


def _drift(files: dict[str, FileRun]) -> dict[str, Any]:
    if "STKBAL" not in files:
        return {}
    by_category = drift_by_category()
    categories = {c.pk: c for c in Category.objects.filter(pk__in=[k for k in by_category if k])}
    out: dict[str, Any] = {"categories": {}, "pilot": 0, "live": 0, "total": 0}
    for category_id, units in by_category.items():
        category = categories.get(category_id) if category_id else None
        out["categories"][category.family_code if category else "-"] = units
        out["pilot" if category and category.rollout_stage == Category.Stage.PILOT else "live"] += units
        out["total"] += units
    return out


def _record(
    run: Run, findings: dict[str, list[Finding]], files: dict[str, FileRun], now: datetime, dry_run: bool
) -> tuple[int, int, dict[str, Any]]:
    """Findings → discrepancies (unless ``dry_run``); returns (opened, closed, counts)."""
    category_ids = {f.category_id for fs in findings.values() for f in fs if f.category_id}
    pilot = set(
        Category.objects.filter(pk__in=category_ids, rollout_stage=Category.Stage.PILOT).values_list(
            "pk", flat=True
        )
    )
    counts: dict[str, Any] = {}
    for code, found in findings.items():
        check = CHECKS[code]
        tally: dict[str, int] = defaultdict(int)
        for f in found:
            tally[check.severity] += 1
            tally["pilot" if f.category_id in pilot else "live"] += 1
            tally["units"] += f.units
        tally["amount"] = float(sum((f.amount for f in found), Decimal(0)))  # type: ignore[assignment]
        tally["total"] = len(found)
        counts[code] = dict(tally)
    if dry_run:
        return 0, 0, counts
    newest_file = max((r.taken_at for r in files.values() if r.taken_at), default=None)
    opened = 0
    for code, found in findings.items():
        check = CHECKS[code]
        keys = {f"{code}:{f.subject}"[:200]: f for f in found}
        existing = {d.key: d for d in discrepancies_locked().filter(key__in=list(keys))}
        for key, f in keys.items():
            values = dict(
                kind=code, severity=check.severity, subject=f.subject[:120], order_id=f.order_id,
                product_id=f.product_id, location_id=f.location_id, category_id=f.category_id,
                file_run=files.get(f.file), pilot=f.category_id in pilot, ours=f.ours[:200], theirs=f.theirs[:200],
                difference=f.difference, units=f.units, amount=f.amount, suggestion=f.suggestion[:300],
                last_run=run, last_seen_at=now,
            )  # fmt: skip
            d = existing.get(key)
            if d is None:
                Discrepancy.objects.create(key=key, first_run=run, first_seen_at=now, **values)
                opened += 1
                continue
            new_night = d.last_run.night != run.night
            for name, value in values.items():
                setattr(d, name, value)
            if new_night:
                d.nights_open += 1
            if d.state == Discrepancy.State.CLOSED or (
                d.state == Discrepancy.State.RESOLVED
                and newest_file is not None
                and d.closed_at is not None
                and newest_file > d.closed_at
            ):
                was = d.get_state_display()
                d.state, d.closed_at, d.closed_by = Discrepancy.State.OPEN, None, ""
                Action.objects.create(discrepancy=d, run=run, kind=Action.Kind.REOPEN, by=SYSTEM, at=now,
                                      outcome=gettext("found again by the reconciliation (was: {was})").format(was=was))  # fmt: skip
            d.save()
    closed = 0
    ran = list(findings)
    gone = discrepancies_locked().filter(state=Discrepancy.State.OPEN, kind__in=ran).exclude(last_run=run)
    for d in gone:
        d.state, d.closed_at, d.closed_by = Discrepancy.State.CLOSED, now, SYSTEM
        d.save(update_fields=["state", "closed_at", "closed_by"])
        Action.objects.create(discrepancy=d, run=run, kind=Action.Kind.CLOSED, by=SYSTEM, at=now,
                              outcome=gettext("the reconciliation no longer finds it"))  # fmt: skip
        closed += 1
    return opened, closed, counts


def _thresholds(run: Run, now: datetime) -> None:
    """Alert (and e-mail operations) for each kind whose open discrepancies pass its threshold."""
    passed = []
    for threshold in Threshold.objects.all():
        open_ = Discrepancy.objects.filter(kind=threshold.kind, state=Discrepancy.State.OPEN, last_run=run)
        tally = _Tally(
            count=open_.count(),
            units=sum(open_.values_list("units", flat=True)),
            amount=sum(open_.values_list("amount", flat=True), Decimal(0)),
        )
        reasons = []
        if threshold.max_count is not None and tally.count > threshold.max_count:
            reasons.append(gettext("{count} discrepancies (threshold {limit})").format(count=tally.count, limit=threshold.max_count))
        if threshold.max_units is not None and tally.units > threshold.max_units:
            reasons.append(gettext("{units} units (threshold {limit})").format(units=tally.units, limit=threshold.max_units))
        if threshold.max_amount is not None and tally.amount > threshold.max_amount:
            reasons.append(gettext("{amount} € (threshold {limit} €)").format(amount=tally.amount, limit=threshold.max_amount))
        if reasons:
            passed.append(gettext("{kind}: {reasons}").format(kind=threshold.kind, reasons=", ".join(reasons)))
            alert_raise(kind="reconciliation_threshold", subject=threshold.kind, severity=Alert.Severity.WARNING,
                        message=THRESHOLD_PASSED.format(night=run.night, kind=threshold.kind, reasons=", ".join(reasons)),
                        now=now)  # fmt: skip
    recipients = list(getattr(settings, "OPERATIONS_EMAILS", []) or [])
    if passed and recipients:
        send_mail(
            subject=gettext("[reconciliation] night of {night}: {count} threshold(s) passed").format(
                night=formats.date_format(run.night, "DATE_FORMAT"), count=len(passed)),
            message=gettext("Thresholds passed:") + "\n\n" + "\n".join(f"- {p}" for p in passed) + "\n\n"
            + gettext("{found} discrepancies found, {opened} new, {closed} gone.").format(
                found=run.found, opened=run.opened, closed=run.closed),
            from_email=None, recipient_list=recipients,
        )  # fmt: skip


def threshold_save(*, threshold: Threshold, user: Any, now: datetime | None = None) -> Threshold:
    """Save a threshold as operations set it, with who and when."""
    threshold.updated_at = now or timezone.now()
    threshold.updated_by = user if getattr(user, "pk", None) else None
    threshold.save()
    return threshold
