"""Applying the AS400's exports from ``OUT/``: each pair at most once, whole or not at all, in order.

For each file name, ready pairs are taken in sequence order, and each one:

1. already applied (a file run says so): only archived — a previous run stopped between its
   commit and the archive; the same name with other content is quarantined and alerted;
2. read and verified through the exchange port; a pair that fails (size, count, hash, a field
   that does not decode) is quarantined and alerted;
3. a delta after a gap in the sequence is quarantined and alerted (the changes in the missing
   file would be lost); a full extract heals a gap;
4. a pair whose control record is dated more than ``AS400_CLOCK_TOLERANCE_MINUTES`` ahead of the
   AS400's clock (ours, or the simulator's), or a full extract dated that much before the last
   full one applied, is quarantined as implausible and alerted: a future-dated full extract,
   applied, would make every later delta look older than it and freeze the stock;
5. a delta taken before the newest full extract applied is ignored (the full one already says
   more); a file older than one already applied is ignored likewise;
6. applied by the file's applier and recorded as a file run in one transaction — the run's
   unique constraint makes a second process that raced for the same pair roll back — then
   archived.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from integration.alerts import alert_once, alert_raise
from integration.as400.appliers import APPLIERS, ApplyResult, Progress, apply
from integration.as400.codec import RecordCodec, RecordError
from integration.as400.exchange import (
    ExchangeError,
    ExchangeFolder,
    ExchangeUnavailable,
    Location,
    PairExists,
    PairNotFound,
    PairRefused,
    get_exchange_folder,
)
from integration.as400.exchange.base import VerifiedPair
from integration.as400.files import PairName
from integration.core.locks import try_lock
from integration.core.log_context import log_context
from integration.core.stored_texts import StoredText
from integration.models import Alert, FileRun

logger = logging.getLogger(__name__)

SYNC_LOCK = "as400-exports-sync"
#: A lone .DAT younger than this may still be being written by the AS400.
STILL_WRITING = timedelta(minutes=10)


#: Extracts (full or delta; WEBORD is only ever full) obey sequence: a delta after a gap waits for
#: the next full one, and an extract older than one applied is ignored.
EXTRACTS = frozenset({"ITMMST", "STKBAL", "WEBORD"})


# What its alerts say, stored in English and shown in the reader's language (integration.core.stored_texts).
LONE_FILE = StoredText(gettext_noop(
    "OUT/{filename} has been alone since {since} (no {other}): it is never read; ask the AS400's operators "
    "whether its export died"
))
FOREIGN_FILE = StoredText(gettext_noop(
    "OUT/{filename} is not an exchange file's name (<FILE>_<SEQ>.DAT or .OK): it is never read; who put it there?"
))
GAP_ONE = StoredText(gettext_noop("{missing} never arrived before {stem}"))
GAP_RANGE = StoredText(gettext_noop("{first} to {last} never arrived before {stem}"))
MOVE_BLOCKED = StoredText(gettext_noop(
    "{stem} could not be moved to OUT/{folder}/ and stays in OUT/: {error}. If that folder already holds a file "
    "of this name (the AS400 reused a sequence number), move the older one aside; the next run finishes the move."
))
HALF_MOVED = StoredText(gettext_noop(
    "OUT/{filename} is alone while its .OK is in {elsewhere}/ and does not belong to it (a reused sequence "
    "number?): left as it is, look at both"
))
TO_QUARANTINE = StoredText(gettext_noop("{stem} must be quarantined: {reason}"))
QUARANTINED = StoredText(gettext_noop("{stem} quarantined: {reason}"))


@dataclass(frozen=True)
class SyncReport:
    runs: list[FileRun]
    skipped: bool = False  # another sync held the lock
    unavailable: str = ""  # why the exchange folder could not be used (alerted; nothing done)

    def lines(self) -> list[str]:
        out = ["Another sync is running: nothing done."] if self.skipped else []
        if self.unavailable:
            out.append(f"Nothing done: {self.unavailable}")
        for run in self.runs:
            line = f"{run.file}_{run.seq:06d} {run.kind or '-'} {run.outcome}: {run.record_count} records"
            if run.counts:
                line += " (" + ", ".join(f"{k} {v}" for k, v in run.counts.items()) + ")"
            if run.duration_seconds is not None:
                line += f" in {run.duration_seconds:.2f}s"
            if run.error:
                line += f" — {run.error}"
            out.append(line)
        return out


def exchange_sync(
    *,
    files: Sequence[str] | None = None,
    folder: ExchangeFolder | None = None,
    progress_factory: Callable[[str, int], Progress] | None = None,
) -> SyncReport:
    """Apply every ready pair of ``files`` (default: every file with an applier) now."""
    files = list(files or APPLIERS)
    unknown = [f for f in files if f not in APPLIERS]
    if unknown:
        raise ValueError(f"no applier for {', '.join(unknown)} (known: {', '.join(APPLIERS)})")
    folder = folder or get_exchange_folder()
    runs: list[FileRun] = []
    try:
        folder.check_folders()
    except (ExchangeUnavailable, OSError) as exc:  # never read, nor create, a tree that is not the share
        alert_raise(
            kind="exchange_unavailable", subject="OUT", message=str(exc), severity=Alert.Severity.CRITICAL,
            now=timezone.now(),
        )  # fmt: skip
        return SyncReport(runs, unavailable=str(exc))
    # One sync at a time, whatever the number of workers: a second one would race the first to
    # the next sequence number and see a gap where there is only a commit not yet done.
    with try_lock(SYNC_LOCK) as taken:
        if not taken:
            logger.info("another sync is running: this one does nothing")
            return SyncReport(runs, skipped=True)
        for file in files:
            _finish_interrupted_moves(folder, file, timezone.now())
            for name in folder.ready_pairs("OUT", file=file):
                with log_context(file_name=name.stem):
                    run = _sync_pair(folder, name, progress_factory)
                if run is not None:
                    runs.append(run)
        _alert_loose_files(folder, timezone.now())
    return SyncReport(runs)


def lone_file_age() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "AS400_LONE_FILE_MINUTES", 30)))


def _alert_loose_files(folder: ExchangeFolder, now: datetime) -> None:
    """What lies in OUT/ and will never be read: each alerted once while it stays.

    A ``.DAT`` without its ``.OK`` older than ``AS400_LONE_FILE_MINUTES`` (its writer died, or the
    ``.OK`` went elsewhere), a ``.OK`` without its ``.DAT`` as old (never normal), and a name that is
    no exchange file's (``<FILE>_<SEQ>.DAT|OK``; dot files are writers' temporaries). Halves whose
    other half is in ``ARCHIVE/`` or ``QUARANTINE/`` are interrupted moves, finished or alerted by
    :func:`_finish_interrupted_moves`.
    """
    listing = folder.list_pairs(Location.OUT)
    old = now - lone_file_age()
    for part in (*listing.not_ready, *listing.orphans):
        if part.elsewhere is None and part.modified_at < old:
            other = "OK" if part.part == "DAT" else "DAT"
            alert_once(
                kind="lone_file", subject=f"OUT/{part.filename}", severity=Alert.Severity.WARNING, now=now,
                message=LONE_FILE.format(
                    filename=part.filename, since=f"{part.modified_at:%Y-%m-%d %H:%M}", other=f"{part.name.stem}.{other}"
                ),
            )  # fmt: skip
    for filename in listing.ignored:
        if not filename.startswith("."):
            alert_once(
                kind="foreign_file", subject=f"OUT/{filename}", severity=Alert.Severity.WARNING, now=now,
                message=FOREIGN_FILE.format(filename=filename),
            )  # fmt: skip


def _last_applied(file: str) -> FileRun | None:
    return (
        FileRun.objects.filter(direction=FileRun.Direction.OUT, file=file, outcome=FileRun.Outcome.APPLIED)
        .order_by("-seq")
        .first()
    )


def _newest_full(file: str) -> FileRun | None:
    """The last full extract applied, in sequence order (not by date: a wrong date must not make one
    the newest for ever; the next full one always takes over)."""
    return (
        FileRun.objects.filter(
            direction=FileRun.Direction.OUT, file=file, outcome=FileRun.Outcome.APPLIED, kind="F"
        )
        .order_by("-seq")
        .first()
    )


def clock_tolerance() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "AS400_CLOCK_TOLERANCE_MINUTES", 60)))


def _implausible_time(folder: ExchangeFolder, pair: VerifiedPair, now: datetime) -> str:
    """Why the pair's CTCDAT/CTCTIM cannot be right, or ""."""
    taken = pair.control.created_at
    if taken is None:
        return ""
    tolerance = clock_tolerance()
    clock = folder.as400_clock(now)
    minutes = int(tolerance.total_seconds() // 60)
    if taken > clock + tolerance:
        return (
            f"taken at {taken.isoformat()} (CTCDAT/CTCTIM), {_span(taken - clock)} ahead of the AS400's "
            f"clock ({clock.isoformat(timespec='seconds')}), more than AS400_CLOCK_TOLERANCE_MINUTES "
            f"({minutes}): the AS400's clock or this .OK is wrong; nothing applied"
        )
    # A full extract dated well before the previous full one: the AS400's clock went back (a delta
    # taken before the newest full extract is another matter: it is ignored, step 5).
    previous = _newest_full(pair.name.file) if pair.name.file in EXTRACTS and pair.control.is_full else None
    if (
        previous is not None
        and pair.name.seq > previous.seq
        and previous.taken_at is not None
        and previous.taken_at <= clock + tolerance  # a wrong date applied before this check: not a reference
        and taken < previous.taken_at - tolerance
    ):
        return (
            f"taken at {taken.isoformat()} (CTCDAT/CTCTIM), {_span(previous.taken_at - taken)} before "
            f"{previous.file}_{previous.seq:06d} (taken at {previous.taken_at.isoformat()}), the last full "
            f"extract applied, more than AS400_CLOCK_TOLERANCE_MINUTES ({minutes}): the AS400's clock went "
            "back; nothing applied"
        )
    return ""


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 1440} d {minutes % 1440 // 60} h {minutes % 60} min" if minutes >= 1440 else f"{minutes} min"


def _sync_pair(
    folder: ExchangeFolder, name: PairName, progress_factory: Callable[[str, int], Progress] | None
) -> FileRun | None:
    done = FileRun.objects.filter(
        direction=FileRun.Direction.OUT,
        file=name.file,
        seq=name.seq,
        outcome__in=[FileRun.Outcome.APPLIED, FileRun.Outcome.IGNORED],
    ).first()
    started = timezone.now()
    try:
        pair = folder.read_pair(name)
    except PairRefused as refused:
        return _quarantine(folder, name, refused.reason, kind="file_refused", now=started)
    except PairNotFound:  # gone since the listing (an operator moved it): nothing to apply
        logger.warning("%s disappeared from OUT/ before it could be read", name.stem)
        return None
    if done is not None:
        if done.checksum == pair.sha256:
            try:
                folder.archive(name)  # the previous run stopped between its commit and the archive
            except PairExists as exc:
                if folder.archived_sha256(name) != pair.sha256:  # another file of that name is archived
                    _move_blocked(name, "archive", exc, started)
                    return None
                # The same pair delivered again while its first copy lies archived: nothing to apply,
                # and it must not stay in OUT/ to be alerted at every run: put aside once, one alert.
                return _quarantine(
                    folder, name,
                    f"{name.stem} delivered again: the same bytes (SHA-256 {done.checksum[:12]}…) were applied "
                    f"{done.finished_at:%Y-%m-%d %H:%M} and are archived; nothing applied",
                    kind="delivered_again", pair=pair, now=started, severity=Alert.Severity.WARNING,
                )  # fmt: skip
            except ExchangeError as exc:
                _move_blocked(name, "archive", exc, started)
            return None
        return _quarantine(
            folder, name, f"{name.stem} was already applied with other content (SHA-256 {done.checksum[:12]}…)",
            kind="sequence_reused", pair=pair, now=started,
        )  # fmt: skip

    last = _last_applied(name.file)
    control = pair.control
    implausible = _implausible_time(folder, pair, started)
    if implausible:
        return _quarantine(folder, name, implausible, kind="implausible_time", pair=pair, now=started)
    if name.file not in EXTRACTS:
        # Events (ORDACK...) are each applied whatever their order: an ack for an order is an ack.
        # A missing file is alerted; the acks it held come again when the orders are resent.
        if last is not None and name.seq > last.seq + 1:
            alert_raise(
                kind="sequence_gap", subject=name.stem, severity=Alert.Severity.WARNING,
                message=_gap(name.file, last.seq, name.seq, name.stem),
                now=started,
            )  # fmt: skip
    elif (
        last is not None
        and name.seq < last.seq
        and last.taken_at is not None
        and control.created_at is not None
        and control.created_at > last.taken_at
    ):
        return _quarantine(
            folder, name,
            f"sequence {name.seq:06d} is below {last.file}_{last.seq:06d}, already applied, yet this file was "
            f"taken later ({control.created_at.isoformat()} > {last.taken_at.isoformat()}): the AS400's counter "
            "was reset or reused; nothing applied, check the AS400 before releasing it",
            kind="sequence_reset", pair=pair, now=started,
        )  # fmt: skip
    elif last is not None and not control.is_full and name.seq > last.seq + 1:
        return _quarantine(
            folder, name,
            f"sequence gap: {_missing(name.file, last.seq, name.seq)} never arrived after {last.seq:06d}; "
            "a delta cannot be applied over missing changes (the next full extract will heal it)",
            kind="sequence_gap", pair=pair, now=started,
        )  # fmt: skip
    newest_full = _newest_full(name.file)
    stale = ""
    if name.file not in EXTRACTS:
        pass
    elif last is not None and name.seq < last.seq:
        stale = f"older than {last.file}_{last.seq:06d}, already applied"
    elif (
        not control.is_full
        and newest_full is not None
        and newest_full.taken_at
        and control.created_at
        and (control.created_at < newest_full.taken_at)
    ):
        stale = f"a delta taken before the full extract {name.file}_{newest_full.seq:06d}"
    if stale:
        run = _record(pair, FileRun.Outcome.IGNORED, error=stale, started=started)
        if run is not None:
            _archive(folder, name, started)
        return run

    codec = RecordCodec.for_file(name.file, folder.ccsid)
    try:
        # The verification decoded every record already (to check CTHASH): decoded once.
        columns = pair.columns if pair.columns is not None else codec.decode_columns(pair.data, source=name.dat)
        codec.check_dates_and_times(columns, source=name.dat)
    except RecordError as exc:  # a date or time that does not exist (or a codec disagreement): refused
        return _quarantine(folder, name, str(exc), kind="file_refused", pair=pair, now=started)
    progress = progress_factory(name.stem, control.count) if progress_factory else None
    try:
        with transaction.atomic():
            result = apply(pair, columns, progress, started)
            run = _record(pair, FileRun.Outcome.APPLIED, started=started, result=result)
            if run is None:
                raise _AlreadyApplied
    except _AlreadyApplied:
        logger.info("%s was applied by another process meanwhile", name.stem)
        return None
    if result.quality:
        summary = ", ".join(f"{k} {v['count']}" for k, v in result.quality.items())
        alert_raise(
            kind="data_quality",
            subject=name.stem,
            message=f"{name.stem}: {summary}",
            severity=Alert.Severity.INFO,
            now=started,
        )
    _archive(folder, name, started)
    return run


def _archive(folder: ExchangeFolder, name: PairName, now: datetime) -> None:
    """Archive a pair whose run is committed; a move that cannot be done is alerted, never raised.

    The data is in the database already, and the pair stays in ``OUT/`` (or half-moved, which the
    next run finishes), so nothing is lost; raising would stop every later file of the run.
    """
    try:
        folder.archive(name)
    except ExchangeError as exc:
        _move_blocked(name, "archive", exc, now)


def _move_blocked(name: PairName, what: str, exc: ExchangeError, now: datetime) -> None:
    alert_raise(
        kind=f"{what}_blocked",
        subject=name.stem,
        message=MOVE_BLOCKED.format(stem=name.stem, folder=what.upper(), error=exc),
        severity=Alert.Severity.CRITICAL,
        now=now,
    )


def _finish_interrupted_moves(folder: ExchangeFolder, file: str, now: datetime) -> None:
    """Finish the moves of an earlier run that stopped between a pair's .OK and its .DAT."""
    for part in folder.list_pairs(Location.OUT, file=file).half_moved:
        if part.part != "DAT":
            continue
        if (
            part.elsewhere is Location.OUT_ARCHIVE
            and not FileRun.objects.filter(
                direction=FileRun.Direction.OUT,
                file=part.name.file,
                seq=part.name.seq,
                outcome__in=[FileRun.Outcome.APPLIED, FileRun.Outcome.IGNORED],
            ).exists()
        ):
            continue  # archived without a run here: not ours to finish
        try:
            moved = folder.finish_interrupted_move(part.name)
        except (ExchangeError, OSError) as exc:
            _move_blocked(part.name, "archive" if part.elsewhere is Location.OUT_ARCHIVE else "quarantine",
                          ExchangeError(str(exc)), now)  # fmt: skip
            continue
        if moved is None and now - part.modified_at > STILL_WRITING:
            alert_raise(
                kind="half_moved",
                subject=part.name.stem,
                message=HALF_MOVED.format(filename=part.filename, elsewhere=part.elsewhere),
                severity=Alert.Severity.CRITICAL,
                now=now,
            )
        elif moved is not None:
            logger.info("%s: finished its interrupted move to %s/", part.name.stem, moved.value)


class _AlreadyApplied(Exception):
    pass


def _gap(file: str, last: int, seq: int, stem: str) -> str:
    if seq - last == 2:
        return GAP_ONE.format(missing=f"{file}_{last + 1:06d}", stem=stem)
    return GAP_RANGE.format(first=f"{file}_{last + 1:06d}", last=f"{file}_{seq - 1:06d}", stem=stem)


def _missing(file: str, last: int, seq: int) -> str:
    if seq - last == 2:
        return f"{file}_{last + 1:06d}"
    return f"{file}_{last + 1:06d} to {file}_{seq - 1:06d}"


def _record(
    pair: VerifiedPair, outcome: str, *, started: datetime, error: str = "", result: ApplyResult | None = None
) -> FileRun | None:
    """The file run of an applied or ignored pair; None if another process recorded it first."""
    try:
        with transaction.atomic():
            return FileRun.objects.create(
                file=pair.name.file,
                seq=pair.name.seq,
                direction=FileRun.Direction.OUT,
                kind=pair.control.kind,
                checksum=pair.sha256,
                size_bytes=pair.size,
                record_count=pair.control.count,
                taken_at=pair.control.created_at,
                finished_at=timezone.now(),
                started_at=started,
                outcome=outcome,
                counts=result.counts if result else {},
                quality=result.quality if result else {},
                error=error,
            )
    except IntegrityError:
        return None
    finally:
        logger.info("%s %s in %.2fs", pair.name.stem, outcome, (timezone.now() - started).total_seconds())


def _quarantine(
    folder: ExchangeFolder,
    name: PairName,
    reason: str,
    *,
    kind: str,
    now: datetime,
    pair: VerifiedPair | None = None,
    severity: str = Alert.Severity.CRITICAL,
) -> FileRun | None:
    try:
        folder.quarantine(name, reason)
    except ExchangeError as exc:  # left in OUT/, alerted; the next run tries again
        alert_raise(
            kind=kind,
            subject=name.stem,
            message=TO_QUARANTINE.format(stem=name.stem, reason=reason),
            severity=Alert.Severity.CRITICAL,
            now=now,
        )
        _move_blocked(name, "quarantine", exc, now)
        return None
    run = FileRun.objects.create(
        file=name.file,
        seq=name.seq,
        direction=FileRun.Direction.OUT,
        kind=pair.control.kind if pair else "",
        checksum=pair.sha256 if pair else "",
        size_bytes=pair.size if pair else 0,
        record_count=pair.control.count if pair else 0,
        taken_at=pair.control.created_at if pair else None,
        started_at=now,
        finished_at=timezone.now(),  # a measurement of our own work, like every run's end
        outcome=FileRun.Outcome.QUARANTINED,
        error=reason,
    )
    alert_raise(
        kind=kind,
        subject=name.stem,
        message=QUARANTINED.format(stem=name.stem, reason=reason),
        severity=severity,
        now=now,
    )
    return run
