"""Web returns that staff must look at, and what they can do about them.

A web return is *overdue* when its goods have not all arrived ``RETURN_RECEIPT_DEADLINE_DAYS``
after it was announced to the AS400 (``announced_at``), or after it was asked for when its
announcement never left (``created_at``: its RTNIMP is still queued, dead or cancelled). Store and
AS400 returns are received when they are made: they are never overdue.

The order of an overdue return needs attention (``orders.attention``). Staff may send its
announcement again when the AS400 never got it (:func:`return_announcement_resend`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from integration.core.actors import actor_name
from integration.core.admin_formats import paris
from integration.core.errors import DomainError
from integration.core.stored_texts import StoredText
from integration.models import OutboxMessage
from orders.locks import order_messages_locked, orders_locked
from orders.models import OrderEvent
from orders.outbox_actions import OutboxActionRefused, outbox_message_retry
from returns.models import Return

logger = logging.getLogger(__name__)

# The order's history lines, stored in English, shown in the reader's language (integration.core.stored_texts).
REQUEUED = StoredText(gettext_noop("RTNIMP message #{pk} of return {rma} queued again by {who} (it was cancelled)"))


class ReturnAttentionErrorCode(StrEnum):
    NOT_A_WEB_RETURN = "not_a_web_return"
    ALREADY_RECEIVED = "already_received"
    NO_ANNOUNCEMENT = "no_announcement"
    ANNOUNCEMENT_UNDER_WAY = "announcement_under_way"
    ANNOUNCEMENT_AT_THE_AS400 = "announcement_at_the_as400"


class ReturnAttentionError(DomainError):
    """A refused action of staff on a return (see :class:`~integration.core.errors.DomainError`)."""

    def __init__(self, message: str, *, code: ReturnAttentionErrorCode) -> None:
        super().__init__(message, code=code)


def receipt_deadline() -> timedelta:
    return timedelta(days=int(getattr(settings, "RETURN_RECEIPT_DEADLINE_DAYS", 14)))


def returns_overdue(*, now: datetime | None = None) -> QuerySet[Return]:
    """Web returns whose goods have not all arrived by the deadline; ``since`` is when its clock started."""
    now = now or timezone.now()
    return (
        Return.objects.filter(source=Return.Source.WEB)
        .exclude(status=Return.Status.RECEIVED)
        .alias(since=Coalesce("announced_at", "created_at"))
        .filter(since__lt=now - receipt_deadline())
    )


def return_is_overdue(ret: Return, *, now: datetime | None = None) -> bool:
    return returns_overdue(now=now).filter(pk=ret.pk).exists()


def return_announcements(ret: Return) -> QuerySet[OutboxMessage]:
    """The RTNIMP messages that carried (or carry) this return, oldest first."""
    return OutboxMessage.objects.filter(
        subject=ret.order_id, kind=OutboxMessage.Kind.RTNIMP, payload__rma=ret.rma
    ).order_by("id")


def return_announcement_resend(
    *, ret: Return, user: object | None, now: datetime | None = None
) -> OutboxMessage:
    """Queue the RTNIMP of a web return again when the AS400 never got it; recorded in the order's history.

    Meant for an overdue return. Its newest RTNIMP message is put back in the queue if it is
    ``dead`` (through :func:`orders.outbox_actions.outbox_message_retry`) or ``cancelled``
    without ever having been written to ``IN/``. Refused: a return that is not a web one or is
    received, one with no RTNIMP at all, one whose RTNIMP is still on its way (pending, sent), and
    one the AS400 already read (acked, or cancelled after it was written): sending it again would
    make the AS400 expect the goods twice; the goods are late, and that is for the warehouse or
    store to look into.
    """
    now = now or timezone.now()
    if ret.source != Return.Source.WEB:
        raise ReturnAttentionError(
            gettext("{rma} was made at a store or received by the AS400: there is nothing to announce").format(
                rma=ret.rma
            ),
            code=ReturnAttentionErrorCode.NOT_A_WEB_RETURN,
        )
    if ret.status == Return.Status.RECEIVED:
        raise ReturnAttentionError(
            gettext("{rma} was received: there is nothing to announce").format(rma=ret.rma),
            code=ReturnAttentionErrorCode.ALREADY_RECEIVED,
        )
    message = return_announcements(ret).last()
    if message is None:
        raise ReturnAttentionError(
            gettext("{rma} has no RTNIMP message to send again").format(rma=ret.rma),
            code=ReturnAttentionErrorCode.NO_ANNOUNCEMENT,
        )
    if message.state == OutboxMessage.State.DEAD:
        try:
            retried = outbox_message_retry(message=message, user=user, now=now)
        except OutboxActionRefused as exc:  # retried by someone else meanwhile
            raise ReturnAttentionError(
                str(exc), code=ReturnAttentionErrorCode.ANNOUNCEMENT_UNDER_WAY
            ) from exc
        logger.info("RTNIMP of return %s sent again by %s (it was dead)", ret.rma, actor_name(user))
        return retried
    with transaction.atomic():
        order = orders_locked().get(pk=ret.order_id)  # order first, as the outbox does
        locked = order_messages_locked().get(pk=message.pk)
        if locked.state in (OutboxMessage.State.PENDING, OutboxMessage.State.SENT):
            raise ReturnAttentionError(
                gettext("the announcement of {rma} ({message}) is on its way: wait for the AS400 to read it").format(
                    rma=ret.rma, message=locked
                ),
                code=ReturnAttentionErrorCode.ANNOUNCEMENT_UNDER_WAY,
            )
        if locked.state == OutboxMessage.State.ACKED or locked.sent_at is not None:
            refusal = (
                gettext(
                    "the AS400 already has the announcement of {rma} ({message}, read on {at}); sending it again "
                    "would make it expect the goods twice: ask the warehouse or the store about them"
                )
                if locked.acked_at
                else gettext(
                    "the AS400 already has the announcement of {rma} ({message}); sending it again would make it "
                    "expect the goods twice: ask the warehouse or the store about them"
                )
            )
            raise ReturnAttentionError(
                refusal.format(rma=ret.rma, message=locked, at=paris(locked.acked_at)),
                code=ReturnAttentionErrorCode.ANNOUNCEMENT_AT_THE_AS400,
            )
        locked.state = OutboxMessage.State.PENDING
        locked.attempts = 0
        locked.next_attempt_at = now
        locked.save(update_fields=["state", "attempts", "next_attempt_at"])
        OrderEvent.objects.create(
            order=order,
            status_from=order.status,
            status_to=order.status,
            cause=REQUEUED.format(pk=locked.pk, rma=ret.rma, who=actor_name(user))[:200],
            at=now,
        )
    logger.info("RTNIMP of return %s queued again by %s (it was cancelled)", ret.rma, actor_name(user))
    return locked


def order_has_overdue_return(now: datetime) -> Exists:
    """Whether the order (``OuterRef("pk")``) has a web return that became overdue after staff last
    resolved it: its deadline (since + the delay) came later. The ``overdue_return`` reason of
    ``orders.attention``, registered by ``returns.apps``."""
    overdue = returns_overdue(now=now).filter(order=OuterRef("pk"))
    return Exists(
        overdue.filter(
            Q(order__attention_resolved_at__isnull=True)
            | Q(since__gt=F("order__attention_resolved_at") - receipt_deadline())
        )
    )
