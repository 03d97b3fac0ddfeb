"""The returns admin: the list and its filters, a return's page, and sending an announcement again.

Orders go through the simulated AS400 (placed, sent, accepted) and are shipped as ORDSTS reports
it; web returns are asked for through the returns service, then aged and their RTNIMP message put
in the state the dispatcher leaves it (dead, acked...); a store return is given as STRRTN records it. A re-queued announcement is then really written by the
dispatcher and read by the simulator's import job.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from integration.as400.simulator.engine import Simulator
from integration.as400.sync import exchange_sync
from integration.models import OutboxMessage
from integration.outbox.dispatch import outbox_dispatch
from orders.attention import Reason, attention_orders
from orders.models import Order, OrderEvent, OrderLine
from returns.attention import (
    ReturnAttentionError,
    ReturnAttentionErrorCode,
    return_announcement_resend,
    returns_overdue,
)
from returns.models import Return, ReturnLine
from returns.numbers import rma_new
from returns.services import ReturnLineInput, return_create
from tests.factories.orders import place, warehouse_items
from tests.moments import TUESDAY

# These tests read the admin's English texts (French is the default): see tests/admin for French.
pytestmark = [pytest.mark.django_db, pytest.mark.clock(TUESDAY), pytest.mark.usefixtures("english")]

RETURNS = reverse("admin:returns_return_changelist")
DAY = timedelta(days=1)


@pytest.fixture
def staff(client: Client) -> Client:
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw")
    client.force_login(user)
    return client


def accepted(n: int, sim: Simulator) -> list[Order]:
    """Given: orders WEB-000001..n of 3 units placed, sent and accepted by the AS400, then shipped."""
    product = warehouse_items(1)[0]
    for i in range(1, n + 1):
        place(i, product, quantity=3)
    outbox_dispatch(now=TUESDAY)
    sim.import_now()
    exchange_sync()
    orders = list(Order.objects.order_by("order_number"))
    assert [o.status for o in orders] == ["accepted"] * n
    OrderLine.objects.update(picked=F("quantity"), shipped=F("quantity"))  # as ORDSTS E reports it
    return orders


def web_return(order: Order, *, days_ago: float, status: str = "announced", message: str = "acked") -> Return:
    """Given: a web return of one unit of line 1 asked for (and announced) ``days_ago``, its RTNIMP
    message in the state ``message`` (as the dispatcher leaves it), and the return in ``status``."""
    ret, created = return_create(
        client=order.client, order_number=order.order_number, lines=[ReturnLineInput(1, 1)], reason="DEFE"
    )
    assert created
    when = timezone.now() - days_ago * DAY
    Return.objects.filter(pk=ret.pk).update(
        status=status, created_at=when, announced_at=None if status == "requested" else when
    )
    dead = message == "dead"
    OutboxMessage.objects.filter(kind="RTNIMP", payload__rma=ret.rma).update(
        state=message, sent_at=when if message in ("sent", "acked") else None,
        acked_at=when if message == "acked" else None, attempts=8 if dead else 0,
        last_error="RTNIMP_000003 was refused by the AS400 (moved to IN/ERR/)" if dead else "",
    )  # fmt: skip
    ret.refresh_from_db()
    return ret


def store_return(order: Order, *, days_ago: float) -> Return:
    """Given: one unit of line 1 brought back to store 3, as STRRTN R records it (received when made)."""
    ret = Return.objects.create(
        rma=rma_new(Return.Source.STORE), order=order, client=order.client, source=Return.Source.STORE,
        status=Return.Status.RECEIVED, store=3, received_at=timezone.now(),
    )  # fmt: skip
    line = OrderLine.objects.get(order=order, line_number=1)
    ReturnLine.objects.create(ret=ret, order_line=line, quantity=1, received_quantity=1)
    Return.objects.filter(pk=ret.pk).update(created_at=timezone.now() - days_ago * DAY)
    return ret


def rtnimp(ret: Return) -> OutboxMessage:
    return OutboxMessage.objects.get(kind="RTNIMP", payload__rma=ret.rma)


def resend(staff: Client, *returns: Return) -> list[str]:
    response = staff.post(
        RETURNS, {"action": "resend_announcement", "_selected_action": [r.pk for r in returns]}, follow=True
    )
    assert response.status_code == 200
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_list_and_a_return_page_render_with_their_filters_and_search(
    simulator: Simulator, staff: Client
) -> None:
    one, two = accepted(2, simulator)
    late = web_return(one, days_ago=20, message="dead")
    recent = web_return(two, days_ago=2)
    store = store_return(two, days_ago=30)

    def listed(**params: str) -> list[str]:
        response = staff.get(RETURNS, params)
        assert response.status_code == 200
        return sorted(r.rma for r in response.context["cl"].result_list)

    page = staff.get(reverse("admin:returns_return_change", args=[late.pk]))

    assert page.status_code == 200
    shown = page.content.decode()
    assert "WEB-000001" in shown
    assert f"RTNIMP #{rtnimp(late).pk}" in shown  # its announcements
    assert "moved to IN/ERR/" in shown
    assert page.context["inline_admin_formsets"][0].formset.queryset.count() == 1  # its line
    assert listed() == sorted([late.rma, recent.rma, store.rma])
    assert listed(overdue="yes") == [late.rma]
    assert listed(overdue="no") == sorted([recent.rma, store.rma])
    assert listed(source__exact="store") == [store.rma]
    assert listed(status__exact="announced") == sorted([late.rma, recent.rma])
    assert listed(q=late.rma) == [late.rma]
    assert listed(q="WEB-000002") == sorted([recent.rma, store.rma])
    assert staff.get(reverse("admin:orders_order_change", args=[one.pk])).status_code == 200
    assert staff.get(reverse("admin:orders_attention")).status_code == 200


def test_a_dead_announcement_is_sent_again_and_the_as400_expects_the_goods(
    simulator: Simulator, staff: Client
) -> None:
    (order,) = accepted(1, simulator)
    ret = web_return(order, days_ago=20, message="dead")
    assert [o.order_number for o in attention_orders(reason=Reason.OVERDUE_RETURN)] == ["WEB-000001"]

    assert resend(staff, ret) == [f"{ret.rma}: RTNIMP #{rtnimp(ret).pk} is pending again."]

    message = rtnimp(ret)
    assert (message.state, message.attempts) == ("pending", 0)
    assert (
        "retried by ops (dead after 8 attempts)" in OrderEvent.objects.filter(order=order).latest("id").cause
    )
    assert outbox_dispatch(file="RTNIMP", now=timezone.now()).messages == 1
    assert simulator.import_now().returns_expected == 1
    arrived = simulator.receive_return("WEB-000001")  # and reports the goods when they come
    assert [(r["OSEVT"], r["OSLIGN"], r["OSQTE"]) for r in arrived] == [("R", 1, 1)]


def test_a_cancelled_announcement_that_never_left_is_queued_again(
    simulator: Simulator, staff: Client
) -> None:
    (order,) = accepted(1, simulator)
    ret = web_return(order, days_ago=20, status="requested", message="cancelled")

    notes = resend(staff, ret)

    message = rtnimp(ret)
    assert notes == [f"{ret.rma}: RTNIMP #{message.pk} is pending again."]
    assert message.state == "pending"
    assert OrderEvent.objects.filter(order=order).latest("id").cause == (
        f"RTNIMP message #{message.pk} of return {ret.rma} queued again by ops (it was cancelled)"
    )


def test_an_announcement_the_as400_has_or_that_is_on_its_way_is_not_sent_again(
    simulator: Simulator, staff: Client
) -> None:
    one, two = accepted(2, simulator)
    read = web_return(one, days_ago=20, message="acked")
    pending = web_return(two, days_ago=20, status="requested", message="pending")
    store = store_return(two, days_ago=20)
    received = web_return(two, days_ago=20, status="received", message="dead")
    before = {m.pk: (m.state, m.attempts) for m in OutboxMessage.objects.filter(kind="RTNIMP")}

    notes = resend(staff, read, pending, store, received)

    assert len(notes) == 4
    assert f"the AS400 already has the announcement of {read.rma}" in notes[0]
    assert "is on its way" in notes[1]
    assert "made at a store" in notes[2]
    assert notes[3] == f"{received.rma} was received: there is nothing to announce"
    assert {m.pk: (m.state, m.attempts) for m in OutboxMessage.objects.filter(kind="RTNIMP")} == before
    assert not OrderEvent.objects.filter(cause__contains="RTNIMP").exists()
    with pytest.raises(ReturnAttentionError) as refused:
        return_announcement_resend(ret=read, user=None)
    assert refused.value.code == ReturnAttentionErrorCode.ANNOUNCEMENT_AT_THE_AS400


def test_overdue_is_measured_from_the_announcement_and_ends_with_the_goods(simulator: Simulator) -> None:
    one, two = accepted(2, simulator)
    soon = web_return(one, days_ago=13)
    late = web_return(two, days_ago=15, status="partially_received")
    store_return(two, days_ago=30)

    assert [r.rma for r in returns_overdue()] == [late.rma]
    assert sorted(r.rma for r in returns_overdue(now=timezone.now() + 2 * DAY)) == sorted(
        [soon.rma, late.rma]
    )
    Return.objects.filter(pk=late.pk).update(status="received")
    assert not returns_overdue().exists()


def test_no_admin_page_lets_staff_edit_a_return(simulator: Simulator, staff: Client) -> None:
    (order,) = accepted(1, simulator)
    ret = web_return(order, days_ago=1)
    change = reverse("admin:returns_return_change", args=[ret.pk])

    assert staff.get(reverse("admin:returns_return_add")).status_code == 403
    assert staff.post(change, {"status": "received", "store": "3"}).status_code == 403
    assert (
        staff.post(reverse("admin:returns_return_delete", args=[ret.pk]), {"post": "yes"}).status_code == 403
    )
    page = staff.get(change)
    assert page.context["has_change_permission"] is False
    assert not page.context["inline_admin_formsets"][0].has_change_permission
    ret.refresh_from_db()
    assert (ret.status, ret.store) == ("announced", 900)


def test_the_return_list_takes_as_many_queries_for_many_returns_as_for_few(
    simulator: Simulator, staff: Client
) -> None:
    one, two = accepted(2, simulator)
    web_return(one, days_ago=20, message="dead")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff.get(RETURNS, {"overdue": "yes"}).status_code == 200
        return len(captured)

    few = queries()
    web_return(one, days_ago=20)
    web_return(two, days_ago=30)
    store_return(two, days_ago=20)
    assert returns_overdue().count() == 3
    assert queries() == few
