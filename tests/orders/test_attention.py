"""Orders that need attention: the selector, the order and AS400-event admin, and their actions.

Orders are placed, sent and answered through the simulated AS400 and its real exchange folder
(accepted ones get their AS400 number, one is refused for want of stock). What other parts
record and this suite only reads is given as they leave it: an ORDSTS/STRRTN event with its
outcome (``orders.lifecycle``), a line's shipped units (ORDSTS E), a web return's age (asked for
through ``returns.services``), a message whose attempts ran out (the dispatcher). The admin is driven through Django's test client
as a superuser.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from integration.as400.codec import RecordCodec, from_datetime
from integration.as400.control import control_for
from integration.as400.files import write_pair
from integration.as400.simulator.engine import Simulator
from integration.as400.sync import exchange_sync
from integration.models import OutboxMessage, StorefrontEvent
from integration.outbox.dispatch import outbox_dispatch
from integration.storefront.events import event_emit
from inventory.models import StockLevel
from orders.attention import (
    AttentionError,
    AttentionErrorCode,
    Reason,
    as400_discrepancies,
    as400_event_resolve,
    attention_counts,
    attention_orders,
    attention_reasons,
    order_attention_resolve,
)
from orders.models import As400Event, Order, OrderCancellation, OrderEvent, OrderLine
from returns.models import Return
from returns.services import ReturnLineInput, return_create
from tests.factories.orders import place, warehouse_items
from tests.moments import TUESDAY

# These tests read the admin's English texts (French is the default): see tests/admin for French.
pytestmark = [pytest.mark.django_db, pytest.mark.clock(TUESDAY), pytest.mark.usefixtures("english")]

DAY = timedelta(days=1)


@pytest.fixture
def staff(client: Client) -> Client:
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw")
    client.force_login(user)
    return client


def orders(n: int, simulator: Simulator, *, refuse: tuple[int, ...] = ()) -> dict[int, Order]:
    """Given: orders WEB-000001..n placed, sent and answered by the AS400; those in ``refuse`` asked
    for more than the AS400 holds, so it refuses them."""
    product = warehouse_items(1)[0]
    StockLevel.objects.filter(product=product, location_id=900).update(on_hand=10_000)
    for i in range(1, n + 1):
        place(i, product, quantity=5_000 if i in refuse else 2)
    outbox_dispatch(now=TUESDAY)
    simulator.import_now()
    exchange_sync()
    placed = {i: Order.objects.get(order_number=f"WEB-{i:06d}") for i in range(1, n + 1)}
    assert {i: o.status for i, o in placed.items()} == {
        i: "refused" if i in refuse else "accepted" for i in placed
    }
    return placed


def as400_event(
    order: Order | None, outcome: str, *, number: str = "", record: int = 1, line: int = 1, **extra: Any
) -> As400Event:
    """Given: an ORDSTS record as the lifecycle keeps it, with its outcome."""
    return As400Event.objects.create(
        file="ORDSTS", source="ORDSTS_000007", record=record, key=f"k{record}-{number or order}",
        kind=extra.pop("kind", As400Event.Kind.SHIPPED), code="E", order=order,
        order_number=number or (order.order_number if order else ""),
        as400_order_number=order.as400_order_number if order else "", line_number=line,
        line=OrderLine.objects.filter(order=order, line_number=line).first() if order else None,
        quantity=1, outcome=outcome, **extra,
    )  # fmt: skip


def web_return(order: Order, *, announced: datetime | None, status: str = "announced") -> Return:
    """Given: a web return of one unit of line 1 asked for through the returns service (the line
    shipped first), announced at ``announced`` (None: never announced), in ``status``."""
    OrderLine.objects.filter(order=order).update(picked=F("quantity"), shipped=F("quantity"))
    ret, created = return_create(
        client=order.client, order_number=order.order_number, lines=[ReturnLineInput(1, 1)], reason="DEFE"
    )
    assert created
    Return.objects.filter(pk=ret.pk).update(
        status=status, announced_at=announced, created_at=(announced or timezone.now()) - timedelta(hours=1)
    )
    ret.refresh_from_db()
    return ret


def die(order: Order) -> OutboxMessage:
    """Given: the order's ORDIMP spent its attempts, as the dispatcher leaves it."""
    message = OutboxMessage.objects.get(subject=order.pk, kind=OutboxMessage.Kind.ORDIMP)
    OutboxMessage.objects.filter(pk=message.pk).update(
        state=OutboxMessage.State.DEAD, attempts=8, last_error="ORDIMP_000009: IN/ is not writable"
    )
    message.refresh_from_db()
    return message


def numbers(queryset: Any) -> list[str]:
    return sorted(o.order_number for o in queryset)


def post_action(staff: Client, url: str, action: str, pks: list[int], **extra: str) -> Any:
    """Post an admin action and follow its redirect, so that its messages are read once."""
    return staff.post(url, {"action": action, "_selected_action": pks, **extra}, follow=True)


def notes(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


ORDERS = reverse("admin:orders_order_changelist")
EVENTS = reverse("admin:orders_as400event_changelist")


# --- The selector ------------------------------------------------------------------------------


def test_the_selector_finds_each_reason_and_leaves_out_what_is_resolved_or_in_time(
    simulator: Simulator,
) -> None:
    o = orders(8, simulator, refuse=(2,))
    now = timezone.now()
    as400_event(o[3], As400Event.Outcome.UNKNOWN_LINE, line=7, record=1)
    as400_event(o[4], As400Event.Outcome.PARTLY_APPLIED, record=2, resolved_at=now, resolved_by="ops")
    as400_event(o[4], As400Event.Outcome.APPLIED, record=3)
    as400_event(None, As400Event.Outcome.UNKNOWN_ORDER, number="WEB-999999", record=4)
    place(9, warehouse_items(1)[0])
    die(Order.objects.get(order_number="WEB-000009"))
    web_return(o[5], announced=now - 15 * DAY)  # past the 14 days
    web_return(o[6], announced=now - 10 * DAY)  # in time
    never = web_return(o[7], announced=None, status="requested")  # never announced: asked 15 days ago
    Return.objects.filter(pk=never.pk).update(created_at=now - 15 * DAY)
    web_return(o[8], announced=now - 30 * DAY, status="received")  # received: done
    store = Return.objects.create(
        rma="S00000000008", order=o[8], client="web", source="store", status="received", store=3
    )
    Return.objects.filter(pk=store.pk).update(created_at=now - 30 * DAY)  # a store return is never late

    assert numbers(attention_orders()) == [
        "WEB-000002",
        "WEB-000003",
        "WEB-000005",
        "WEB-000007",
        "WEB-000009",
    ]
    assert {r.value: numbers(attention_orders(reason=r)) for r in Reason} == {
        "refused": ["WEB-000002"],
        "discrepancy": ["WEB-000003"],
        "overdue_return": ["WEB-000005", "WEB-000007"],
        "dead_message": ["WEB-000009"],
        "shopify_oversold": [],
    }
    assert attention_counts() == {
        "refused": 1, "discrepancy": 1, "overdue_return": 2, "dead_message": 1, "shopify_oversold": 0, "any": 5,
        "unknown_order": 1,
    }  # fmt: skip
    refused = Order.objects.get(order_number="WEB-000002")
    assert refused.refusal_reason
    assert attention_reasons(refused) == [f"refused by the AS400: {refused.refusal_reason}"]
    assert attention_reasons(o[1]) == []
    # Five days on, the return announced ten days ago is late too.
    later = numbers(attention_orders(reason=Reason.OVERDUE_RETURN, now=now + 5 * DAY))
    assert later == ["WEB-000005", "WEB-000006", "WEB-000007"]


def test_the_deadline_comes_from_the_settings(simulator: Simulator, settings: Any) -> None:
    o = orders(1, simulator)
    web_return(o[1], announced=timezone.now() - 3 * DAY)
    assert not attention_orders().exists()

    settings.RETURN_RECEIPT_DEADLINE_DAYS = 2

    assert numbers(attention_orders()) == ["WEB-000001"]


def test_a_resolution_clears_what_came_before_it_not_what_comes_after(simulator: Simulator) -> None:
    o = orders(2, simulator, refuse=(1,))
    now = timezone.now()
    web_return(o[2], announced=now - 15 * DAY)

    order_attention_resolve(order=o[1], user=None, note="customer called, order placed again as WEB-7")
    order_attention_resolve(order=o[2], user=None, note="parcel lost by the carrier, refunded")

    assert not attention_orders().exists()
    # A second return of WEB-000002, overdue later, needs attention again; and so does a new event.
    web_return(o[2], announced=now - 1 * DAY)
    assert not attention_orders(now=now + 12 * DAY).exists()
    assert numbers(attention_orders(now=now + 14 * DAY)) == ["WEB-000002"]
    as400_event(o[1], As400Event.Outcome.REJECTED, record=9)
    assert numbers(attention_orders(reason=Reason.DISCREPANCY)) == ["WEB-000001"]
    assert not attention_orders(reason=Reason.REFUSED).exists()


def test_services_refuse_without_a_note_or_without_anything_to_resolve(simulator: Simulator) -> None:
    o = orders(2, simulator, refuse=(1,))
    applied = as400_event(o[2], As400Event.Outcome.APPLIED)

    with pytest.raises(AttentionError) as no_note:
        order_attention_resolve(order=o[1], user=None, note="   ")
    with pytest.raises(AttentionError) as nothing:
        order_attention_resolve(order=o[2], user=None, note="looked at it")
    with pytest.raises(AttentionError) as not_a_discrepancy:
        as400_event_resolve(event=applied, user=None, note="fine")

    assert no_note.value.code == AttentionErrorCode.NOTE_REQUIRED
    assert nothing.value.code == AttentionErrorCode.NOTHING_TO_RESOLVE
    assert not_a_discrepancy.value.code == AttentionErrorCode.NOT_A_DISCREPANCY
    o[1].refresh_from_db()
    applied.refresh_from_db()
    assert (o[1].attention_resolved_at, applied.resolved_at) == (None, None)
    assert not OrderEvent.objects.filter(cause__contains="resolved").exists()


# --- The order admin ---------------------------------------------------------------------------


def test_every_order_page_renders_with_its_whole_life(simulator: Simulator, staff: Client) -> None:
    o = orders(2, simulator, refuse=(2,))
    order = o[1]
    Order.objects.filter(pk=order.pk).update(email="zoe@example.com", postal_code="69003")
    as400_event(order, As400Event.Outcome.UNKNOWN_LINE, line=7, note="no line 7")
    OrderCancellation.objects.create(
        order=order, quantity=1, requested_by="web", state=OrderCancellation.State.REQUESTED
    )
    ret = web_return(order, announced=timezone.now())
    event_emit(order=order, type=StorefrontEvent.Type.ORDER_SHIPPED, data={"tracking": "6A123"})
    pages = {
        "index": reverse("admin:index"),
        "orders": ORDERS,
        "order": reverse("admin:orders_order_change", args=[order.pk]),
        "refused order": reverse("admin:orders_order_change", args=[o[2].pk]),
        "events": EVENTS,
        "event": reverse("admin:orders_as400event_change", args=[As400Event.objects.get().pk]),
        "attention page": reverse("admin:orders_attention"),
        **{f"filter {r}": f"{ORDERS}?attention={r}" for r in ["any", *Reason]},
    }

    responses = {name: staff.get(url) for name, url in pages.items()}

    assert {name: r.status_code for name, r in responses.items()} == dict.fromkeys(pages, 200)
    assert "Orders needing attention" in responses["index"].content.decode()
    page = responses["order"].content.decode()
    for shown in [
        "order.shipped",  # storefront events
        "ORDSTS_000007#1",  # AS400 events
        "no line 7",
        "Sent to the AS400, awaiting its answer",  # cancellations
        ret.rma,  # returns
        "ORDIMP #",  # outbox messages
        "<td>Lefèvre</td><td>Lefèvre</td>",  # customer as given and as sent
        "AS400 event not applied as read",  # why it needs attention
        "ORDACK A in ORDACK_",  # history
    ]:
        assert shown in page, shown
    assert o[2].refusal_reason in responses["refused order"].content.decode()


def test_orders_are_found_by_number_customer_and_status_and_filtered(
    simulator: Simulator, staff: Client
) -> None:
    o = orders(3, simulator, refuse=(3,))
    Order.objects.filter(pk=o[2].pk).update(
        last_name="Dupont",
        first_name="Amélie",
        email="amelie@example.com",
        postal_code="75011",
        client="shop",
    )

    def found(**params: str) -> list[str]:
        response = staff.get(ORDERS, params)
        assert response.status_code == 200
        return numbers(response.context["cl"].result_list)

    assert found(q="WEB-000001") == ["WEB-000001"]
    assert found(q=o[2].as400_order_number) == ["WEB-000002"]
    assert found(q="dupont") == found(q="Amélie") == found(q="amelie@example") == ["WEB-000002"]
    assert found(q="75") == ["WEB-000002"]
    assert found(q="refused") == ["WEB-000003"]
    assert found(status__exact="accepted") == ["WEB-000001", "WEB-000002"]
    assert found(client="shop") == ["WEB-000002"]
    assert found(delivery__exact="home") == ["WEB-000001", "WEB-000002", "WEB-000003"]
    today = timezone.localdate()
    assert len(found(created_at__gte=str(today), created_at__lt=str(today + DAY))) == 3
    assert found(attention="refused") == found(attention="any") == ["WEB-000003"]
    assert found(attention="dead_message") == []


def test_mark_resolved_asks_for_a_note_then_records_who_when_and_why(
    simulator: Simulator, staff: Client
) -> None:
    o = orders(2, simulator, refuse=(1,))
    event = as400_event(o[1], As400Event.Outcome.UNKNOWN_LINE, line=4)

    asked = post_action(staff, ORDERS, "resolve_attention", [o[1].pk])
    blank = post_action(staff, ORDERS, "resolve_attention", [o[1].pk], apply="1", note="")
    assert (asked.status_code, blank.status_code) == (200, 200)
    assert f"refused by the AS400: {o[1].refusal_reason}" in asked.content.decode()
    assert blank.context["form"].errors
    o[1].refresh_from_db()
    assert o[1].attention_resolved_at is None

    before = timezone.now()
    done = post_action(
        staff, ORDERS, "resolve_attention", [o[1].pk, o[2].pk], apply="1", note="customer ordered again"
    )

    assert done.redirect_chain == [(ORDERS, 302)]
    o[1].refresh_from_db()
    event.refresh_from_db()
    assert o[1].attention_resolved_at is not None
    assert o[1].attention_resolved_at >= before
    assert (o[1].attention_resolved_by, o[1].attention_note) == ("ops", "customer ordered again")
    assert (event.resolved_by, event.resolution) == ("ops", "customer ordered again")
    assert OrderEvent.objects.filter(order=o[1]).latest("id").cause == (
        "attention resolved by ops (refused by the AS400, AS400 event not applied as read): customer ordered again"
    )
    assert notes(done) == [
        "WEB-000001: resolved (refused by the AS400, AS400 event not applied as read), "
        "1 AS400 event(s) resolved with it.",
        "WEB-000002 has nothing a resolution clears",
    ]
    assert not attention_orders().exists()
    page = staff.get(reverse("admin:orders_order_change", args=[o[1].pk])).content.decode()
    assert "customer ordered again" in page


def test_a_dead_message_stays_until_it_is_retried(simulator: Simulator, staff: Client) -> None:
    orders(1, simulator)
    place(2, warehouse_items(1)[0])
    order = Order.objects.get(order_number="WEB-000002")
    message = die(order)

    refused = post_action(staff, ORDERS, "resolve_attention", [order.pk], apply="1", note="seen")
    retried = post_action(staff, ORDERS, "retry_dead_messages", [order.pk])
    again = post_action(staff, ORDERS, "retry_dead_messages", [order.pk])

    assert notes(refused) == ["WEB-000002 has nothing a resolution clears: retry or cancel its dead messages"]
    assert notes(retried) == [f"WEB-000002: ORDIMP #{message.pk} pending again."]
    assert notes(again) == ["WEB-000002 has no dead outbox message"]
    message.refresh_from_db()
    assert (message.state, message.attempts) == ("pending", 0)
    assert (
        "retried by ops (dead after 8 attempts)" in OrderEvent.objects.filter(order=order).latest("id").cause
    )
    assert not attention_orders().exists()
    assert outbox_dispatch(now=timezone.now()).messages == 1


def test_resolving_the_discrepancies_of_an_order_leaves_its_refusal(
    simulator: Simulator, staff: Client
) -> None:
    o = orders(1, simulator, refuse=(1,))
    first = as400_event(o[1], As400Event.Outcome.UNKNOWN_LINE, line=4, record=1)
    second = as400_event(o[1], As400Event.Outcome.REJECTED, record=2)

    asked = post_action(staff, ORDERS, "resolve_discrepancies", [o[1].pk])
    done = post_action(staff, ORDERS, "resolve_discrepancies", [o[1].pk], apply="1", note="lines checked")

    assert str(first) in asked.content.decode()
    assert notes(done) == ["WEB-000001: 2 AS400 event(s) resolved."]
    first.refresh_from_db()
    second.refresh_from_db()
    assert [(e.resolved_by, e.resolution) for e in (first, second)] == [("ops", "lines checked")] * 2
    assert [r for r in Reason if attention_orders(reason=r).exists()] == [Reason.REFUSED]


# --- The AS400-event admin ---------------------------------------------------------------------


def test_events_are_listed_by_outcome_found_by_order_and_resolved_with_a_note(
    simulator: Simulator, staff: Client
) -> None:
    o = orders(1, simulator)
    unknown_line = as400_event(o[1], As400Event.Outcome.UNKNOWN_LINE, line=4, record=1)
    unknown_order = as400_event(None, As400Event.Outcome.UNKNOWN_ORDER, number="WEB-999999", record=2)
    applied = as400_event(o[1], As400Event.Outcome.APPLIED, record=3)

    def listed(**params: str) -> list[int]:
        response = staff.get(EVENTS, params)
        assert response.status_code == 200
        return sorted(e.record for e in response.context["cl"].result_list)

    assert listed(discrepancy="open") == [1, 2]
    assert listed(discrepancy="none") == [3]
    assert listed(outcome__exact="unknown_order") == [2]
    assert listed(q="WEB-999999") == [2]
    assert listed(q="WEB-000001") == [1, 3]
    assert "WEB-999999 (unknown)" in staff.get(EVENTS).content.decode()

    asked = post_action(staff, EVENTS, "resolve", [unknown_order.pk])
    done = post_action(
        staff, EVENTS, "resolve", [unknown_line.pk, unknown_order.pk, applied.pk], apply="1",
        note="not one of ours: AS400 test order",
    )  # fmt: skip

    assert "WEB-999999" in asked.content.decode()
    assert notes(done) == [
        "ORDSTS_000007#1 (WEB-000001) resolved.",
        "ORDSTS_000007#2 (WEB-999999) resolved.",
        "ORDSTS_000007#3 (applied) was applied as read: there is nothing to resolve",
    ]
    for event in (unknown_line, unknown_order, applied):
        event.refresh_from_db()
    assert (unknown_order.resolved_by, unknown_order.resolution) == (
        "ops",
        "not one of ours: AS400 test order",
    )
    assert unknown_line.resolved_at is not None
    assert applied.resolved_at is None
    assert OrderEvent.objects.filter(order=o[1]).latest("id").cause == (
        "AS400 event ORDSTS_000007#1 (unknown line) resolved by ops: not one of ours: AS400 test order"
    )
    assert listed(discrepancy="open") == []
    assert listed(discrepancy="resolved") == [1, 2]
    assert attention_counts()["unknown_order"] == 0


# --- Nothing is edited by hand -----------------------------------------------------------------


def test_no_admin_page_lets_staff_edit_orders_or_what_the_as400_reported(
    simulator: Simulator, staff: Client
) -> None:
    order = orders(1, simulator)[1]
    event = as400_event(order, As400Event.Outcome.UNKNOWN_LINE)

    for model, obj in (("order", order), ("as400event", event)):
        change = reverse(f"admin:orders_{model}_change", args=[obj.pk])
        assert staff.get(reverse(f"admin:orders_{model}_add")).status_code == 403
        assert staff.post(change, {"status": "cancelled", "outcome": "applied"}).status_code == 403
        assert (
            staff.post(reverse(f"admin:orders_{model}_delete", args=[obj.pk]), {"post": "yes"}).status_code
            == 403
        )
        page = staff.get(change)
        assert page.context["has_change_permission"] is False
        assert all(not f.has_change_permission for f in page.context["inline_admin_formsets"])
    order.refresh_from_db()
    event.refresh_from_db()
    assert (order.status, event.outcome) == ("accepted", "unknown_line")


def test_a_user_who_may_only_view_orders_gets_no_action(simulator: Simulator, client: Client) -> None:
    order = orders(1, simulator, refuse=(1,))[1]
    viewer = get_user_model().objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename__in=["view_order", "view_as400event"]))
    client.force_login(viewer)

    page = client.get(ORDERS)
    tried = post_action(client, ORDERS, "resolve_attention", [order.pk], apply="1", note="x")

    assert page.status_code == 200
    assert page.context["action_form"] is None
    assert tried.status_code == 200  # the list again, with "no action selected"
    order.refresh_from_db()
    assert order.attention_resolved_at is None


def test_the_lists_take_as_many_queries_for_many_orders_as_for_few(
    simulator: Simulator, staff: Client
) -> None:
    o = orders(2, simulator, refuse=(2,))
    as400_event(o[1], As400Event.Outcome.UNKNOWN_LINE)
    pages = [ORDERS, f"{ORDERS}?attention=any", EVENTS, reverse("admin:orders_attention")]

    def queries() -> list[int]:
        counts = []
        for page in pages:
            with CaptureQueriesContext(connection) as captured:
                assert staff.get(page).status_code == 200
            counts.append(len(captured))
        return counts

    few = queries()
    product = warehouse_items(1)[0]
    for i in range(3, 9):
        place(i, product)
        order = Order.objects.get(order_number=f"WEB-{i:06d}")
        as400_event(order, As400Event.Outcome.REJECTED, record=i)
    assert attention_counts()["any"] == 8
    assert queries() == few


# --- From the AS400's files to staff ------------------------------------------------------------


def write_out(sim: Simulator, file: str, records: list[dict[str, Any]], at: datetime) -> None:
    """Given: the AS400 writes an OUT/ pair under its next sequence number (as its export job does)."""
    seq = (
        max([sim.last_seq(file)] + [int(ok.stem[-6:]) for ok in sim.config.out_dir.rglob(f"{file}_*.OK")]) + 1
    )
    ccsid = int(django_settings.AS400_CCSID)
    data = RecordCodec.for_file(file, ccsid).encode_many(records)
    write_pair(
        sim.config.out_dir,
        file,
        seq,
        data,
        control_for(file, data, seq=seq, kind="D", at=at, ccsid=ccsid).encode(ccsid),
    )


def test_what_the_as400_reports_of_unknown_lines_and_orders_reaches_staff_who_resolve_it(
    simulator: Simulator, staff: Client
) -> None:
    order = orders(1, simulator)[1]
    item = warehouse_items(1)[0].item_number
    simulator.ship(order.order_number)  # ORDSTS E: both units leave
    at = simulator.now()
    day, clock = from_datetime(at)
    record = {"OSCDE": order.as400_order_number, "OSITEM": item, "OSQTE": 1, "OSEVT": "E", "OSTRK": "",
              "OSDATE": day, "OSTIME": clock}  # fmt: skip
    write_out(simulator, "ORDSTS", [
        {**record, "OSWEBN": order.order_number, "OSLIGN": 7},  # no line 7
        {**record, "OSWEBN": "WEB-999999", "OSCDE": "W000999999", "OSLIGN": 1},  # not one of our orders
    ], at)  # fmt: skip

    exchange_sync()

    order.refresh_from_db()
    assert order.status == "shipped"
    assert numbers(attention_orders()) == ["WEB-000001"]
    assert attention_reasons(order) == ["AS400 event not applied as read"]
    assert attention_counts()["unknown_order"] == 1
    listed = staff.get(EVENTS, {"discrepancy": "open"}).context["cl"].result_list
    assert sorted((e.order_number, e.outcome) for e in listed) == [
        ("WEB-000001", "unknown_line"), ("WEB-999999", "unknown_order"),
    ]  # fmt: skip
    page = staff.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "order.shipped" in page
    assert "Unknown line" in page

    post_action(
        staff, ORDERS, "resolve_attention", [order.pk], apply="1", note="line 7 is a typo at the AS400"
    )
    stranger = As400Event.objects.get(order_number="WEB-999999")
    post_action(
        staff, EVENTS, "resolve", [stranger.pk], apply="1", note="an order keyed by hand at the AS400"
    )

    assert not attention_orders().exists()
    assert not as400_discrepancies().exists()
    assert sorted(As400Event.objects.filter(outcome__in=As400Event.DISCREPANCIES).values_list("resolution", flat=True)) == [
        "an order keyed by hand at the AS400", "line 7 is a typo at the AS400",
    ]  # fmt: skip


def test_staff_cancel_orders_through_the_cancellation_service(simulator: Simulator, staff: Client) -> None:
    o = orders(2, simulator, refuse=(2,))
    place(3, warehouse_items(1)[0])  # not sent yet
    placed = Order.objects.get(order_number="WEB-000003")
    line = OrderLine.objects.get(order=placed)
    assert line.in_flight == 1

    asked = post_action(staff, ORDERS, "cancel_orders", [o[1].pk, o[2].pk, placed.pk])
    bad = post_action(staff, ORDERS, "cancel_orders", [placed.pk], apply="1", reason="no!", note="x")
    done = post_action(
        staff, ORDERS, "cancel_orders", [o[1].pk, o[2].pk, placed.pk], apply="1", reason="SAV",
        note="customer called the shop",
    )  # fmt: skip

    assert "Refused by the AS400" in asked.content.decode()
    assert "reason" in bad.context["form"].errors
    messages_shown = notes(done)
    assert messages_shown[0] == "WEB-000001: cancellation requested (cancellation requested)."
    assert messages_shown[1] == "the cancellation was refused: order WEB-000002 is refused: nothing can be cancelled"
    assert messages_shown[2] == "WEB-000003: cancelled (cancellation released)."
    for order in (*o.values(), placed):
        order.refresh_from_db()
    line.refresh_from_db()
    assert [order.status for order in (o[1], o[2], placed)] == [
        "cancellation_requested",
        "refused",
        "cancelled",
    ]
    assert (line.in_flight, line.cancelled) == (0, 1)
    assert list(OrderCancellation.objects.values_list("order__order_number", "requested_by", "reason")) == [
        ("WEB-000001", "staff ops", "SAV"), ("WEB-000003", "staff ops", "SAV"),
    ]  # fmt: skip
    assert OutboxMessage.objects.filter(subject=o[1].pk, kind="ORDANN", state="pending").count() == 1
    assert OrderEvent.objects.filter(order=placed).latest("id").cause == (
        "cancellation asked by ops: customer called the shop"
    )
    assert not OrderEvent.objects.filter(order=o[2], cause__contains="cancellation").exists()
    (told,) = StorefrontEvent.objects.filter(type="order.cancelled", order_number="WEB-000003")
    assert told.payload["data"]["by"] == "staff"  # the storefront learns who cancelled

    outbox_dispatch(file="ORDANN", now=TUESDAY)  # WEB-000001 was acknowledged: its ORDANN goes
    simulator.import_now()  # the AS400 cancels it and answers ORDSTS A
    exchange_sync()
    (confirmed,) = StorefrontEvent.objects.filter(type="order.cancelled", order_number="WEB-000001")
    assert confirmed.payload["data"]["by"] == "staff"
