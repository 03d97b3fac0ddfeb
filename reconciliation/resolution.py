"""What staff do to discrepancies, one or many at once, each action through its service and recorded.

- **accept** the AS400's value, where it corrects ours (what it does depends on the kind: see each
  check's ``accept``; a kind with nothing to accept refuses it);
- **resend** the order to the AS400 under the same web number (``orders.resend.order_resend``);
- **cancel** the order (``orders.attention.order_cancel_by_staff``, the existing cancellation);
- **ignore**, with a note (required);
- **reopen** a resolved, ignored or closed one.

Every action is an :class:`Action` (who, when, what, note, what it did), and one on an order is
written in the order's history too. One discrepancy's refusal does not stop the others: the
answer lists what was done and what was refused, and why.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from integration.as400.records import EventRecord
from integration.core.actors import actor_name
from integration.core.errors import DomainError
from integration.core.stored_texts import StoredText
from orders.attention import order_cancel_by_staff
from orders.lifecycle import ordsts_apply
from orders.models import Order
from orders.resend import in_flight_recount, order_history_note, order_resend
from orders.services import in_flight_settle
from reconciliation.checks import check_of
from reconciliation.locks import discrepancies_locked
from reconciliation.models import Action, Discrepancy, WebOrderPicture

State = Discrepancy.State
ACTIONS = ("accept", "resend", "cancel", "ignore", "reopen")
ORDER_ACTIONS = ("resend", "cancel")
# The order's history line of a resolution, stored in English and shown in the reader's language
# (integration.core.stored_texts); its outcome is written, as the action's, in the language active then.
RESOLVED_CAUSE = StoredText(gettext_noop("discrepancy {kind}: {outcome} by {who}"))
SHIPPED_BY_THE_AS400 = ("order_status_differs", "order_quantities_differ")


class ResolutionRefused(DomainError):
    """This action cannot be done on this discrepancy (the message says why)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="resolution_refused")


@dataclass
class ResolveReport:
    done: list[tuple[Discrepancy, str]] = field(default_factory=list)
    refused: list[tuple[Discrepancy, str]] = field(default_factory=list)


def discrepancies_resolve(
    *,
    discrepancies: Iterable[Discrepancy],
    action: str,
    user: object | None,
    note: str = "",
    now: datetime | None = None,
) -> ResolveReport:
    """Do ``action`` on each discrepancy; what one refuses does not stop the others."""
    if action not in ACTIONS:
        raise ResolutionRefused(
            gettext("unknown action {action!r} (known: {actions})").format(action=action, actions=", ".join(ACTIONS))
        )
    now = now or timezone.now()
    note = " ".join(note.split())[:500]
    if action == "ignore" and not note:
        raise ResolutionRefused(gettext("Ignoring a discrepancy needs a note that says why."))
    report = ResolveReport()
    for d in discrepancies:
        try:
            with transaction.atomic():
                outcome = _resolve_one(d, action, user, note, now)
        except (ResolutionRefused, DomainError) as exc:
            report.refused.append((d, str(exc)))
        else:
            report.done.append((d, outcome))
    return report


def _resolve_one(d: Discrepancy, action: str, user: object | None, note: str, now: datetime) -> str:
    who = actor_name(user, default=gettext("system"))[:150]
    d = discrepancies_locked().get(pk=d.pk)
    if action == "reopen":
        if d.state == State.OPEN:
            raise ResolutionRefused(gettext("{discrepancy} is open already").format(discrepancy=d))
        d.state, d.closed_at, d.closed_by = State.OPEN, None, ""
        outcome = gettext("reopened")
    else:
        if d.state != State.OPEN:
            raise ResolutionRefused(
                gettext("{discrepancy} is not open ({state}): reopen it first").format(
                    discrepancy=d, state=d.get_state_display()
                )
            )
        outcome = {"accept": _accept, "resend": _resend, "cancel": _cancel, "ignore": _ignore}[action](
            d, user, note, now
        )
        d.state = State.IGNORED if action == "ignore" else State.RESOLVED
        d.closed_at, d.closed_by = now, who
    d.save(update_fields=["state", "closed_at", "closed_by"])
    kind = {"accept": Action.Kind.ACCEPT, "resend": Action.Kind.RESEND, "cancel": Action.Kind.CANCEL,
            "ignore": Action.Kind.IGNORE, "reopen": Action.Kind.REOPEN}[action]  # fmt: skip
    Action.objects.create(
        discrepancy=d, run=d.last_run, kind=kind, by=who, at=now, note=note, outcome=outcome[:300]
    )
    if d.order_id and action not in ORDER_ACTIONS:  # resend and cancel write the order's history themselves
        order_history_note(
            order=Order.objects.get(pk=d.order_id),
            cause=RESOLVED_CAUSE.format(kind=d.kind, outcome=outcome, who=who),
            now=now,
        )
    return outcome


def _order(d: Discrepancy) -> Order:
    if d.order_id is None:
        raise ResolutionRefused(gettext("{discrepancy} is about no order").format(discrepancy=d))
    return Order.objects.get(pk=d.order_id)


def _resend(d: Discrepancy, user: object | None, note: str, now: datetime) -> str:
    order = _order(d)
    order_resend(
        order=order, by=actor_name(user, default=gettext("system"))[:150], why=note or _why(d), now=now
    )
    return gettext("order {order} sent to the AS400 again under the same number").format(order=order.order_number)


def _cancel(d: Discrepancy, user: object | None, note: str, now: datetime) -> str:
    order = _order(d)
    order_cancel_by_staff(order=order, user=user, note=note or _why(d), now=now)
    return gettext("cancellation of order {order} asked").format(order=order.order_number)


def _why(d: Discrepancy) -> str:
    """The note an order's resend or cancellation gets when staff wrote none."""
    return gettext("discrepancy {kind}").format(kind=d.kind)


def _ignore(d: Discrepancy, user: object | None, note: str, now: datetime) -> str:
    return gettext("ignored: {note}").format(note=note)


def _accept(d: Discrepancy, user: object | None, note: str, now: datetime) -> str:
    check = check_of(d.kind)
    if check is None or not check.accept:
        raise ResolutionRefused(
            gettext("nothing to accept for a {kind} discrepancy: resend it, cancel it or ignore it").format(kind=d.kind)
        )
    done = check.accept_apply(d, user=user, now=now)
    if done is not None:
        return done
    if d.kind == "stock_drift":
        return gettext("noted: the full extract has already set the stock to the AS400's figure")
    if d.kind == "stock_in_flight_after_ack":
        if d.file_run is None or d.file_run.taken_at is None:
            raise ResolutionRefused(
                gettext("{discrepancy}: the STKBAL extract that proves it is no longer known").format(discrepancy=d)
            )
        units = in_flight_settle(taken_at=d.file_run.taken_at)
        return gettext("{units} units in flight settled (counted by {file})").format(
            units=units, file=f"STKBAL_{d.file_run.seq:06d}"
        )
    if d.kind == "counter_in_flight":
        if d.product_id is None or d.location_id is None:
            raise ResolutionRefused(gettext("{discrepancy} names no item and store pair").format(discrepancy=d))
        before, after = in_flight_recount(product_id=d.product_id, location_id=d.location_id)
        return gettext("in-flight counter recounted: {before} → {after}").format(before=before, after=after)
    if d.kind in SHIPPED_BY_THE_AS400:
        return _accept_shipment(d, now)
    raise ResolutionRefused(gettext("nothing to accept for a {kind} discrepancy").format(kind=d.kind))


def _accept_shipment(d: Discrepancy, now: datetime) -> str:
    """The AS400 shipped every unit due without telling us (its ORDSTS never came): apply it as the
    ORDSTS E it should have sent, through the lifecycle (stock, status, storefront event)."""
    order = _order(d)
    picture = WebOrderPicture.objects.filter(order_number=order.order_number).first()
    lines = list(order.lines.select_related("product").order_by("line_number"))
    due = sum(line.quantity - line.cancelled for line in lines)
    if picture is None or picture.status not in ("E", "S") or picture.shipped < due:
        raise ResolutionRefused(
            gettext(
                "the AS400 does not say the whole of order {order} shipped: how it splits by line is unknown, "
                "nothing is applied"
            ).format(order=order.order_number)
        )
    source = f"RAPPROCHEMENT_{d.pk}"
    records = []
    for n, line in enumerate(lines, 1):
        units = line.quantity - line.cancelled - line.shipped - line.ready
        if units <= 0:
            continue
        key = hashlib.sha256(f"reconciliation:{d.pk}:{line.line_number}".encode()).hexdigest()
        records.append(EventRecord(
            file="ORDSTS", source=source, number=n, key=key, code="E", order_number=order.order_number,
            line_number=line.line_number, item=line.product.item_number, quantity=units,
            as400_order_number=order.as400_order_number, occurred_at=d.file_run.taken_at if d.file_run else now,
        ))  # fmt: skip
    if not records:
        raise ResolutionRefused(gettext("order {order} has no unit left to ship").format(order=order.order_number))
    ordsts_apply(records=records, source=source, now=now)
    return gettext("{units} units marked shipped as the AS400 says").format(units=sum(r.quantity for r in records))
