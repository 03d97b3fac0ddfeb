"""The outbox dispatcher: pending orders to ORDIMP files in IN/, at a pace the AS400 can take.

Each run (a django-q2 task; several may run at once on several machines):

1. holds back while the AS400 is in its nightly batch window, while files we wrote are still
   waiting in IN/ past their deadline (the AS400 is not consuming), or while it keeps refusing
   them (IN/ERR/): the circuit breaker. After a cool-down one small probe file is sent; once the
   AS400 has consumed it, sending resumes;
2. first finishes any file recorded but not written (a previous run died in between);
3. claims pending messages — ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so that two
   dispatchers never claim the same one; SQLite serialises writers — up to the per-file and
   per-minute caps, records the file with its sequence number and its messages in one
   transaction, then writes the pair (``.DAT`` then ``.OK``) and marks it written.

A crash before the pair is written leaves a recorded file that the next run writes, with the same
sequence and content; a crash after leaves a pair that the next run finds on disk. Either way each
message goes out in exactly one file. A failure to write is retried with exponential backoff and
jitter; after ``OUTBOX_MAX_ATTEMPTS`` the message is dead, alerted and listed in the admin.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_noop

from integration.alerts import alert_raise
from integration.as400.codec import PARIS, RecordCodec
from integration.as400.control import control_for
from integration.as400.exchange import (
    ExchangeFolder,
    ExchangeUnavailable,
    Location,
    PairExists,
    get_exchange_folder,
)
from integration.as400.files import PairName
from integration.core.log_context import log_context
from integration.core.stored_texts import StoredText
from integration.models import Alert, OutboundFile, OutboxMessage

logger = logging.getLogger(__name__)

# What its alerts say, stored in English and shown in the reader's language (integration.core.stored_texts).
DEAD_AFTER = StoredText(gettext_noop("{count} message(s) dead after {attempts} attempts: {error}"))
DEAD_UNANSWERED = StoredText(gettext_noop("{count} message(s) dead: sent {attempts} times without an answer"))
WRITE_FAILED = StoredText(gettext_noop(
    "{what} could not be written into IN/: {error}; its messages are sent again at the next try"
))
FILE_REFUSED = StoredText(gettext_noop(
    "{name} was refused by the AS400 (IN/ERR/); its orders are sent again in a new file"
))

#: A temporary file of ours in IN/ this old belongs to a writer that died (a write takes seconds).
STALE_TEMPORARY = timedelta(hours=1)

def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


@dataclass
class DispatchReport:
    files: list[str] = field(default_factory=list)
    messages: int = 0
    held: str = ""  # why nothing (more) was sent
    dead: int = 0


# --- When not to send ------------------------------------------------------------------------


def in_batch_window(now: datetime) -> bool:
    """The AS400's nightly batch window (``AS400_BATCH_WINDOW``, Paris time, e.g. 01:00-03:30)."""
    start_s, _, end_s = str(_setting("AS400_BATCH_WINDOW", "01:00-03:30")).partition("-")
    start, end = time.fromisoformat(start_s), time.fromisoformat(end_s)
    local = now.astimezone(PARIS).time()
    return start <= local < end if start <= end else local >= start or local < end


@dataclass(frozen=True)
class Breaker:
    open: bool
    reason: str = ""
    probe_allowed: bool = False


def breaker_state(folder: ExchangeFolder, *, file: str, now: datetime) -> Breaker:
    """Open while the AS400 leaves our files unread past their deadline, or refuses them in a row."""
    written = list(
        OutboundFile.objects.filter(file=file, state=OutboundFile.State.WRITTEN).order_by("-seq")[:20]
    )
    if not written:
        return Breaker(open=False)
    state = folder.sent_state(file=file)
    deadline = now - timedelta(minutes=int(_setting("OUTBOX_CONSUME_DEADLINE_MINUTES", 15)))
    stale = [
        f for f in written
        if state.where(PairName(f.file, f.seq)) == Location.IN and f.written_at and f.written_at < deadline
    ]  # fmt: skip
    if stale:
        return Breaker(
            open=True, reason=f"the AS400 has not read {len(stale)} file(s) written before {deadline:%H:%M}"
        )
    newest = written[0]
    if newest.probe and state.where(PairName(newest.file, newest.seq)) == Location.IN:
        return Breaker(open=True, reason=f"waiting for the AS400 to read the probe {newest}")
    refused_in_a_row = 0
    for f in written:
        where = state.where(PairName(f.file, f.seq))
        if where == Location.IN_ERR:
            refused_in_a_row += 1
        elif where == Location.IN_DONE:
            break
        else:
            return Breaker(open=False)  # waiting in IN/ within its deadline: no verdict yet
    if refused_in_a_row >= int(_setting("OUTBOX_BREAKER_REFUSED_FILES", 3)):
        cooldown = timedelta(minutes=int(_setting("OUTBOX_BREAKER_COOLDOWN_MINUTES", 10)))
        last = written[0].written_at or now
        return Breaker(
            open=True,
            reason=f"the AS400 refused the last {refused_in_a_row} files",
            probe_allowed=now - last >= cooldown,
        )
    return Breaker(open=False)


# --- Records ---------------------------------------------------------------------------------

#: Turns the messages of one file, oldest first, into its records, in their order (all at once, so
#: that what they are about is read in one query, not one per message).
RecordBuilder = Callable[[list[OutboxMessage]], list[dict[str, Any]]]


@dataclass(frozen=True)
class Records:
    build: RecordBuilder
    #: Free-text fields, folded to the code page and cut to their length when written: an app
    #: that checks them at the door (the ORDIMP customer fields) never has them cut.
    folded: frozenset[str] = frozenset()


#: kind → how its messages become records. What a message *says* is its app's: ``orders``
#: registers ORDIMP and ORDANN, ``returns`` RTNIMP (their AppConfig.ready); the outbox knows none.
RECORDS: dict[str, Records] = {}


def records_register(kind: str, build: RecordBuilder, *, folded: frozenset[str] = frozenset()) -> None:
    """How messages of ``kind`` become records of its file (one builder per kind)."""
    RECORDS[kind] = Records(build, folded)


#: What other apps do once messages of a kind went out, in the transaction that marks them sent:
#: kind → callables(message ids, now). ``orders`` and ``returns`` register here (its AppConfig.ready) to mark its
#: returns announced, so that the dispatcher need not know the apps that follow its files.
SENT_HOOKS: dict[str, list[Callable[[list[int], datetime], object]]] = {}


def sent_hook_register(kind: str, hook: Callable[[list[int], datetime], object]) -> None:
    """Have ``hook(message ids, now)`` called when messages of ``kind`` are written (once per hook)."""
    hooks = SENT_HOOKS.setdefault(kind, [])
    if hook not in hooks:
        hooks.append(hook)


def on_sent(kind: str, message_ids: list[int], now: datetime) -> None:
    for hook in SENT_HOOKS.get(kind, []):
        hook(message_ids, now)


def _file_data(outbound: OutboundFile) -> bytes:
    codec = RecordCodec.for_file(outbound.file, int(settings.AS400_CCSID))
    try:
        records = RECORDS[outbound.file]
    except KeyError:
        raise ImproperlyConfigured(f"no record builder for {outbound.file} (records_register)") from None
    messages = list(OutboxMessage.objects.filter(outbound_file=outbound).order_by("id"))
    return b"".join(
        codec.encode(record, fold=records.folded & record.keys(), cut=records.folded & record.keys())
        for record in records.build(messages)
    )


# --- Writing ---------------------------------------------------------------------------------


def _write(folder: ExchangeFolder, outbound: OutboundFile, now: datetime) -> None:
    """Write a recorded file's pair (or find it already written) and mark it and its messages sent."""
    data = _file_data(outbound)
    control = control_for(outbound.file, data, seq=outbound.seq, kind="D", at=now, ccsid=folder.ccsid)
    digest = hashlib.sha256(data).hexdigest()
    # Ours to write, or to finish: a previous worker may have died after the .DAT or the whole pair.
    folder.write_or_resume_pair(control, data)
    with transaction.atomic():
        OutboundFile.objects.filter(pk=outbound.pk).update(
            state=OutboundFile.State.WRITTEN, written_at=now, sha256=digest, records=control.count
        )
        sent = OutboxMessage.objects.filter(outbound_file=outbound)
        # Only those still as claimed: a pair finished by a later worker may have been read and its
        # ORDACK applied meanwhile, and acked must not go back to sent (it would be sent again).
        sent.filter(state=OutboxMessage.State.SENT).update(sent_at=now, last_error="")
        on_sent(outbound.file, list(sent.values_list("pk", flat=True)), now)
    logger.info("%s_%06d written: %d records", outbound.file, outbound.seq, control.count)


def _write_if_ours(folder: ExchangeFolder, outbound_id: int, now: datetime) -> OutboundFile | None:
    """Write a recorded file while holding its row lock; None if another worker holds it or it is done.

    A worker that died while writing holds no lock any more (its connection is gone), so the next
    one picks its file up; a worker still writing is skipped, never raced.
    """
    with transaction.atomic():
        query = OutboundFile.objects.filter(pk=outbound_id, state=OutboundFile.State.WRITING)
        if connection.vendor == "postgresql":
            query = query.select_for_update(skip_locked=True)
        outbound = query.first()  # on SQLite this transaction already holds the database's write lock
        if outbound is None:
            return None
        with log_context(file_name=str(outbound)):
            _write(folder, outbound, now)
    return outbound


def _next_seq(folder: ExchangeFolder, file: str) -> int:
    """The number after the last file that is not abandoned; an abandoned one's number is reused.

    A file that could not be written does not burn its number: the next file takes it again, unless
    a part of it lies in ``IN/``, ``DONE/`` or ``ERR/`` (a write that failed after its ``.DAT``, or
    after the whole pair): that name is the AS400's now, and is skipped.
    """
    files = OutboundFile.objects.filter(file=file)
    last = files.exclude(state=OutboundFile.State.ABANDONED).aggregate(last=Max("seq"))["last"]
    if last is None:  # the first file of this installation: after whatever the folder already holds
        last = folder.sent_state(file=file).highest_seq.get(file, 0)
    seq = int(last) + 1
    abandoned = set(
        files.filter(state=OutboundFile.State.ABANDONED, seq__gte=seq).values_list("seq", flat=True)
    )
    while seq in abandoned and folder.where_used(PairName(file, seq)) is not None:
        seq += 1
    return seq


def _claim(
    file: str, limit: int, now: datetime, *, folder: ExchangeFolder, probe: bool
) -> OutboundFile | None:
    """Claim up to ``limit`` pending messages and record the file that will carry them."""
    with transaction.atomic():
        query = OutboxMessage.objects.filter(
            kind=file, state=OutboxMessage.State.PENDING, next_attempt_at__lte=now
        )
        if file != OutboxMessage.Kind.ORDIMP:
            # A cancellation or a return is about "a web order already imported": it waits for an
            # acknowledged ORDIMP of the same subject, or the AS400 would find no order to apply it to.
            query = query.filter(
                Exists(
                    OutboxMessage.objects.filter(
                        subject=OuterRef("subject"), kind=OutboxMessage.Kind.ORDIMP,
                        state=OutboxMessage.State.ACKED,
                    )
                )
            )  # fmt: skip
        if connection.vendor == "postgresql":
            query = query.select_for_update(skip_locked=True)
        ids = list(query.order_by("id").values_list("id", flat=True)[:limit])
        if not ids:
            return None
        outbound = OutboundFile.objects.create(
            file=file, seq=_next_seq(folder, file), probe=probe, created_at=now
        )
        # ``sent_at`` is kept: a message written before (put back by the follow-up) may be at the AS400,
        # and if this file cannot be written, that must still show (cancellation, staff's actions).
        OutboxMessage.objects.filter(pk__in=ids).update(
            state=OutboxMessage.State.SENT, outbound_file=outbound
        )
    return outbound


def _recent_messages(file: str, now: datetime) -> int:
    return OutboxMessage.objects.filter(
        kind=file, outbound_file__created_at__gt=now - timedelta(minutes=1), outbound_file__isnull=False
    ).count()


def _backoff(attempts: int) -> timedelta:
    base = float(_setting("OUTBOX_RETRY_BASE_SECONDS", 30))
    cap = float(_setting("OUTBOX_RETRY_MAX_SECONDS", 3600))
    return timedelta(seconds=random.uniform(0, min(cap, base * 2**attempts)))  # full jitter


def outbox_message_may_have_left(message: OutboxMessage) -> bool:
    """Whether the AS400 may have read this message, or a dispatcher is writing it: the one rule.

    It has not left only while it is pending or dead, in no file (a claimed one is being written),
    never written (``sent_at``: one sent and put back in the queue by the follow-up may be at the
    AS400), and no failed write of it left part of its pair in ``IN/`` (``left_in_failed_write``:
    a write can fail after the rename that published it, over a network above all). A cancelled
    message never left: it is cancelled only when this answers no.

    Cancelling an order locally (releasing its units, no ORDANN) and staff cancelling a message
    by hand both ask this, and nothing else.
    """
    if message.state == OutboxMessage.State.CANCELLED:
        return False
    return (
        message.state not in (OutboxMessage.State.PENDING, OutboxMessage.State.DEAD)
        or message.outbound_file_id is not None
        or message.sent_at is not None
        or message.left_in_failed_write
    )


def _published_anyway(folder: ExchangeFolder, outbound: OutboundFile) -> str | None:
    """Whether a failed write of ``outbound`` published it all the same, its ``.OK`` where the AS400
    reads (a rename that went through before the connection dropped); "unknown" if the folder
    cannot tell now. None: the AS400 cannot have it."""
    try:
        where = folder.published_where(PairName(outbound.file, outbound.seq))
    except Exception as exc:  # the folder cannot answer now: the write may have gone through
        return f"unknown ({exc})"
    return None if where is None else f"{where.value}/{PairName(outbound.file, outbound.seq).ok}"


def _failed(
    folder: ExchangeFolder, outbound: OutboundFile, error: Exception, now: datetime, report: DispatchReport
) -> None:
    """The file could not be written: its messages go back to pending later, or die.

    If the pair's ``.OK`` lies where the AS400 reads all the same, or the folder cannot tell, its
    messages are marked as perhaps there (:func:`outbox_message_may_have_left`); whatever part of
    it lies there keeps its number from being given again (:func:`_next_seq`).
    """
    max_attempts = int(_setting("OUTBOX_MAX_ATTEMPTS", 8))
    left = _published_anyway(folder, outbound)
    with transaction.atomic():
        for message in OutboxMessage.objects.select_for_update().filter(outbound_file=outbound):
            message.attempts += 1
            message.last_error = f"{outbound}: {error}" + (f"; yet published: {left}" if left else "")
            message.left_in_failed_write = message.left_in_failed_write or left is not None
            message.outbound_file = None
            if message.attempts >= max_attempts:
                message.state = OutboxMessage.State.DEAD
                report.dead += 1
            else:
                message.state = OutboxMessage.State.PENDING
                message.next_attempt_at = now + _backoff(message.attempts)
            message.save()
        OutboundFile.objects.filter(pk=outbound.pk).update(state=OutboundFile.State.ABANDONED)
    _write_failed_alert(f"{outbound}", error, now)
    if report.dead:
        alert_raise(kind="outbox_dead", subject=outbound.file, severity=Alert.Severity.CRITICAL,
                    message=DEAD_AFTER.format(count=report.dead, attempts=max_attempts, error=error),
                    now=now)  # fmt: skip


def _write_failed_alert(what: str, error: Exception, now: datetime) -> None:
    """A write into IN/ that failed is alerted at once, not when its messages die hours later."""
    alert_raise(
        kind="outbox_write_failed", subject=what.split("_")[0], severity=Alert.Severity.CRITICAL,
        message=WRITE_FAILED.format(what=what, error=error),
        now=now,
    )  # fmt: skip


def _exchange_unavailable(report: DispatchReport, reason: str, now: datetime) -> DispatchReport:
    report.held = reason
    alert_raise(
        kind="exchange_unavailable", subject="IN", message=reason, severity=Alert.Severity.CRITICAL, now=now
    )
    return report


def outbox_dispatch(
    *, file: str = "ORDIMP", folder: ExchangeFolder | None = None, now: datetime | None = None
) -> DispatchReport:
    """Send what is pending now, within the caps, unless the AS400 should not be sent anything."""
    now = now or timezone.now()
    report = DispatchReport()
    # The share is not there (not mounted, moved): nothing can go, and nothing is the messages' fault.
    try:
        folder = folder or get_exchange_folder()
        folder.check_folders()
    except (OSError, ExchangeUnavailable) as exc:
        return _exchange_unavailable(report, f"the exchange folder cannot be opened: {exc}", now)
    try:
        for name in folder.remove_stale_temporaries(older_than=STALE_TEMPORARY, now=now):
            logger.warning("removed %s from IN/: the temporary file of a writer that died", name)
    except OSError as exc:  # housekeeping only: it never holds back what has to be sent
        logger.warning("temporary files in IN/ could not be cleaned: %s", exc)
    unfinished = OutboundFile.objects.filter(file=file, state=OutboundFile.State.WRITING).order_by("seq")
    for pk in list(unfinished.values_list("pk", flat=True)):
        try:
            written = _write_if_ours(folder, pk, now)
        except (OSError, PairExists) as exc:
            logger.warning("recorded file %s could not be written: %s", pk, exc)
            _write_failed_alert(str(OutboundFile.objects.get(pk=pk)), exc, now)
            return report  # the folder is not writable now: nothing else can go either
        if written is not None:
            report.files.append(str(written))
    if in_batch_window(now):
        report.held = "the AS400's batch window"
        return report
    breaker = breaker_state(folder, file=file, now=now)
    per_file = int(_setting("OUTBOX_MAX_ORDERS_PER_FILE", 200))
    if breaker.open:
        alert_raise(
            kind="outbox_breaker_open", subject=file, message=breaker.reason, severity=Alert.Severity.CRITICAL,
            now=now,
        )
        if not breaker.probe_allowed:
            report.held = breaker.reason
            return report
        per_file = 1  # one order to see whether the AS400 takes files again
    allowance = int(_setting("OUTBOX_MAX_ORDERS_PER_MINUTE", 600)) - _recent_messages(file, now)
    while allowance > 0:
        try:
            outbound = _claim(file, min(per_file, allowance), now, folder=folder, probe=breaker.open)
        except IntegrityError:  # another dispatcher took this sequence number first: try the next one
            continue
        if outbound is None:
            break
        try:
            written = _write_if_ours(folder, outbound.pk, now)
        except (OSError, PairExists) as exc:
            logger.warning("%s could not be written: %s", outbound, exc)
            _failed(folder, outbound, exc, now, report)
            break
        if written is None:  # a recovering worker took it over meanwhile: it is theirs to report
            continue
        count = OutboxMessage.objects.filter(outbound_file=outbound).count()
        report.files.append(str(outbound))
        report.messages += count
        allowance -= count
        if breaker.open:
            report.held = "probe sent while the circuit breaker is open"
            break
    if allowance <= 0 and OutboxMessage.objects.filter(kind=file, state=OutboxMessage.State.PENDING).exists():
        report.held = report.held or "the per-minute cap"
    return report


# --- Following up on what was sent -----------------------------------------------------------


@dataclass
class FollowUpReport:
    resent: int = 0
    dead: int = 0
    refused_files: list[str] = field(default_factory=list)


def outbox_follow_up(
    *, file: str = "ORDIMP", folder: ExchangeFolder | None = None, now: datetime | None = None
) -> FollowUpReport:
    """Send again what the AS400 will not answer: files it refused, orders it read but never acknowledged.

    - A file the AS400 moved to ``IN/ERR/`` (it alerts nobody): its messages go back to pending
      and leave in a new file; an alert says which file was refused.
    - A message whose file the AS400 read (``IN/DONE/``) but that has no ORDACK after
      ``OUTBOX_ACK_DEADLINE_MINUTES``: sent again under the same web order number, which the
      AS400 answers D if it had it. Each resend counts as an attempt; past ``OUTBOX_MAX_ATTEMPTS``
      the message is dead and alerted.
    """
    now = now or timezone.now()
    report = FollowUpReport()
    try:
        folder = folder or get_exchange_folder()
        folder.check_folders()
    except (OSError, ExchangeUnavailable):
        return report  # the dispatcher alerts about the share
    sent = list(
        OutboxMessage.objects.filter(kind=file, state=OutboxMessage.State.SENT, outbound_file__isnull=False)
        .select_related("outbound_file")
        .order_by("id")
    )
    if not sent:
        return report
    where = folder.sent_state(file=file).where
    deadline = now - timedelta(minutes=int(_setting("OUTBOX_ACK_DEADLINE_MINUTES", 60)))
    max_attempts = int(_setting("OUTBOX_MAX_ATTEMPTS", 8))
    for message in sent:
        outbound = message.outbound_file
        assert outbound is not None
        if outbound.state != OutboundFile.State.WRITTEN:
            continue
        location = where(PairName(outbound.file, outbound.seq))
        if location == Location.IN_ERR:
            reason = f"{outbound} was refused by the AS400 (moved to IN/ERR/)"
            if str(outbound) not in report.refused_files:
                report.refused_files.append(str(outbound))
        elif location == Location.IN_DONE and file != OutboxMessage.Kind.ORDIMP:
            # ORDANN and RTNIMP have no ORDACK: the file read is the AS400's receipt of them (what
            # it then does comes back as ORDSTS events).
            OutboxMessage.objects.filter(pk=message.pk, state=OutboxMessage.State.SENT).update(
                state=OutboxMessage.State.ACKED, acked_at=now
            )
            continue
        elif location == Location.IN_DONE and message.sent_at is not None and message.sent_at < deadline:
            reason = f"no ORDACK {int(_setting('OUTBOX_ACK_DEADLINE_MINUTES', 60))} minutes after {outbound} was read"
        else:
            continue
        with transaction.atomic():
            locked = OutboxMessage.objects.select_for_update().get(pk=message.pk)
            if locked.state != OutboxMessage.State.SENT or locked.outbound_file_id != outbound.pk:
                continue  # acknowledged or handled meanwhile
            locked.attempts += 1
            locked.last_error = reason
            locked.outbound_file = None
            if locked.attempts >= max_attempts:
                locked.state = OutboxMessage.State.DEAD
                report.dead += 1
            else:
                locked.state = OutboxMessage.State.PENDING
                locked.next_attempt_at = now
                report.resent += 1
            locked.save()
    for name in report.refused_files:
        alert_raise(
            kind="in_file_refused", subject=name, severity=Alert.Severity.CRITICAL,
            message=FILE_REFUSED.format(name=name),
            now=now,
        )  # fmt: skip
    if report.dead:
        alert_raise(kind="outbox_dead", subject=file, severity=Alert.Severity.CRITICAL,
                    message=DEAD_UNANSWERED.format(count=report.dead, attempts=max_attempts),
                    now=now)  # fmt: skip
    return report
