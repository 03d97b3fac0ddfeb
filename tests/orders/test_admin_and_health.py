"""The admin of orders and the outbox, the retry and cancel of outbox messages, and the outbox's health.

Orders are placed, sent and answered through the simulated AS400 and its real exchange folder; a
message that died is given as the dispatcher leaves one (state dead, attempts spent, its error).
The health selector is given its ``now``; the JSON endpoint runs on the real clock.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integration.as400.codec import PARIS
from integration.as400.exchange import get_exchange_folder
from integration.as400.simulator.engine import Simulator
from integration.as400.sync import exchange_sync
from integration.models import FileRun, OutboundFile, OutboxMessage, StorefrontEvent
from integration.monitoring.health import outbox_health
from integration.outbox.dispatch import outbox_dispatch
from inventory.models import StockLevel
from orders.models import Order, OrderEvent
from orders.selectors import message_order
from tests.factories.orders import place, warehouse_items
from tests.moments import TUESDAY

# These tests read the admin's English texts (French is the default): see tests/admin for French.
pytestmark = [pytest.mark.django_db, pytest.mark.clock(TUESDAY), pytest.mark.usefixtures("english")]


@pytest.fixture
def staff(client: Client) -> Client:
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw")
    client.force_login(user)
    return client


def die(message: OutboxMessage, *, sent_at: datetime | None = None) -> OutboxMessage:
    """Given: the message's attempts are spent, as the dispatcher leaves it (state dead, its error)."""
    OutboxMessage.objects.filter(pk=message.pk).update(
        state=OutboxMessage.State.DEAD,
        attempts=8,
        last_error="ORDIMP_000001: IN/ is not writable",
        sent_at=sent_at,
    )
    message.refresh_from_db()
    return message


def act(staff: Client, action: str, message: OutboxMessage, **extra: str) -> list[str]:
    url = reverse("admin:integration_outboxmessage_changelist")
    response = staff.post(url, {"action": action, "_selected_action": [message.pk], **extra})
    assert response.status_code == 302
    return [str(m) for m in get_messages(response.wsgi_request)]


def stock_taken_at() -> datetime:
    run = FileRun.objects.filter(file="STKBAL", outcome="applied").order_by("-taken_at").first()
    assert run is not None
    assert run.taken_at is not None
    return run.taken_at


# --- Admin pages -------------------------------------------------------------------------------


def test_admin_pages_render_and_show_where_the_as400_put_our_files(
    simulator: Simulator, staff: Client
) -> None:
    product = warehouse_items(1)[0]
    place(1, product)
    place(2, product)
    outbox_dispatch(now=TUESDAY)
    order = Order.objects.get(order_number="WEB-000001")
    Order.objects.filter(pk=order.pk).update(last_name="Dąbrowska-Lefèvre")
    message = OutboxMessage.objects.filter(subject=order.pk).get()
    outbound = OutboundFile.objects.get()

    pages = {
        "index": reverse("admin:index"),
        "orders": reverse("admin:orders_order_changelist"),
        "attention": reverse("admin:orders_order_changelist") + "?attention=any",
        "order": reverse("admin:orders_order_change", args=[order.pk]),
        "messages": reverse("admin:integration_outboxmessage_changelist") + "?state__exact=sent",
        "message": reverse("admin:integration_outboxmessage_change", args=[message.pk]),
        "files": reverse("admin:integration_outboundfile_changelist"),
        "file": reverse("admin:integration_outboundfile_change", args=[outbound.pk]),
        "health": reverse("admin:outbox_health"),
    }
    responses = {name: staff.get(url) for name, url in pages.items()}

    assert {name: r.status_code for name, r in responses.items()} == dict.fromkeys(pages, 200)
    assert "Outbox health" in responses["index"].content.decode()
    assert "IN/ (waiting for the AS400)" in responses["files"].content.decode()
    order_page = responses["order"].content.decode()
    # As given, and as the ORDIMP carries it: "è" is in the code page, "ą" folds.
    assert "<td>Dąbrowska-Lefèvre</td><td>Dabrowska-Lefèvre</td><td>≠</td>" in order_page
    assert "placed" in order_page  # the history inline
    simulator.import_now()
    assert "IN/DONE/ (read)" in staff.get(pages["files"]).content.decode()


def test_an_order_is_found_by_its_as400_number_and_refused_ones_need_attention(
    simulator: Simulator, staff: Client
) -> None:
    product = warehouse_items(1)[0]
    place(1, product)
    StockLevel.objects.filter(product=product, location_id=900).update(on_hand=10_000)
    place(2, product, quantity=5_000)  # more than the AS400 holds: it refuses it
    outbox_dispatch(now=TUESDAY)
    simulator.import_now()
    exchange_sync()
    accepted = Order.objects.get(order_number="WEB-000001")
    refused = Order.objects.get(order_number="WEB-000002")
    assert (accepted.status, refused.status) == ("accepted", "refused")

    url = reverse("admin:orders_order_changelist")
    found = staff.get(url, {"q": accepted.as400_order_number}).context["cl"].result_list
    attention = staff.get(url, {"attention": "any"})

    assert [o.order_number for o in found] == ["WEB-000001"]
    assert [o.order_number for o in attention.context["cl"].result_list] == ["WEB-000002"]
    assert refused.refusal_reason in attention.content.decode()


# --- Retry and cancel ----------------------------------------------------------------------------


def test_retry_puts_a_dead_message_back_in_the_queue_and_records_it(
    simulator: Simulator, staff: Client
) -> None:
    place(1, warehouse_items(1)[0])
    message = die(OutboxMessage.objects.get())
    before = timezone.now()

    notes = act(staff, "retry", message)

    message.refresh_from_db()
    assert (message.state, message.attempts) == ("pending", 0)
    assert message.next_attempt_at >= before
    assert notes == [f"ORDIMP #{message.pk} of WEB-000001 is pending again."]
    assert "retried by ops (dead after 8 attempts)" in OrderEvent.objects.latest("id").cause
    assert outbox_dispatch(now=timezone.now()).messages == 1  # and the dispatcher takes it


def test_outbox_messages_are_found_by_their_orders_number_ours_or_the_as400s_and_by_their_error(
    simulator: Simulator, staff: Client
) -> None:
    product = warehouse_items(1)[0]
    for n in (1, 2, 3):
        place(n, product)
    by_number = {o.order_number: o for o in Order.objects.all()}
    Order.objects.filter(pk=by_number["WEB-000002"].pk).update(as400_order_number="A123456")
    die(OutboxMessage.objects.get(subject=by_number["WEB-000003"].pk))
    url = reverse("admin:integration_outboxmessage_changelist")

    def found(q: str, **params: str) -> list[str]:
        response = staff.get(url, {"q": q, **params})
        assert response.status_code == 200
        return [m.order_number for m in response.context["cl"].result_list]

    assert found("WEB-000001") == ["WEB-000001"]
    assert found("A123456") == ["WEB-000002"]
    assert found("writable") == ["WEB-000003"]  # a word of its last error
    assert found("WEB-000003 writable") == ["WEB-000003"]  # every word must match
    assert found("WEB-000001 writable") == []
    assert found("WEB-00000") == []  # a number is matched whole
    assert found("", o="-3") == ["WEB-000003", "WEB-000002", "WEB-000001"]  # sorted by order, newest first
    order_url = reverse("admin:orders_order_change", args=[by_number["WEB-000002"].pk])
    message = OutboxMessage.objects.get(subject=by_number["WEB-000002"].pk)
    for page in (url, reverse("admin:integration_outboxmessage_change", args=[message.pk])):
        assert f'<a href="{order_url}">WEB-000002</a>' in staff.get(page).content.decode(), page


def test_cancelling_a_dead_order_message_cancels_the_order_and_releases_its_units(
    simulator: Simulator, staff: Client
) -> None:
    product = warehouse_items(1)[0]
    place(1, product, quantity=3)
    level = StockLevel.objects.get(product=product, location_id=900)
    in_flight = level.in_flight
    message = die(OutboxMessage.objects.get())

    notes = act(staff, "cancel", message, apply="1", note="customer gave up")

    message.refresh_from_db()
    order = message_order(message)
    level.refresh_from_db()
    assert (message.state, order.status) == ("cancelled", "cancelled")
    assert level.in_flight == in_flight - 3
    assert order.lines.get().in_flight == 0
    event = OrderEvent.objects.latest("id")
    assert (event.status_from, event.status_to) == ("placed", "cancelled")
    assert "cancelled by ops before reaching the AS400: customer gave up" in event.cause
    assert notes == [
        f"ORDIMP #{message.pk} of WEB-000001 cancelled; the order is cancelled and 3 unit(s) released."
    ]
    assert outbox_dispatch(now=timezone.now()).messages == 0  # nothing left to send
    assert order.lines.get().cancelled == 3
    (told,) = StorefrontEvent.objects.filter(type="order.cancelled")  # the storefront is told
    assert (told.payload["data"]["by"], told.payload["data"]["status"]) == ("staff", "cancelled")
    assert [line["quantity"] for line in told.payload["data"]["lines"]] == [3]


def test_the_cancel_action_asks_for_a_note_first(simulator: Simulator, staff: Client) -> None:
    place(1, warehouse_items(1)[0])
    message = die(OutboxMessage.objects.get())

    response = staff.post(
        reverse("admin:integration_outboxmessage_changelist"),
        {"action": "cancel", "_selected_action": [message.pk]},
    )

    assert response.status_code == 200
    assert b"Cancel these messages" in response.content
    message.refresh_from_db()
    assert message.state == "dead"


@pytest.mark.parametrize("action", ["retry", "cancel"])
def test_a_sent_message_is_neither_retried_nor_cancelled(
    simulator: Simulator, staff: Client, action: str
) -> None:
    product = warehouse_items(1)[0]
    place(1, product, quantity=2)
    outbox_dispatch(now=TUESDAY)
    message = OutboxMessage.objects.get()
    in_flight = StockLevel.objects.get(product=product, location_id=900).in_flight
    events = OrderEvent.objects.count()

    notes = act(staff, action, message, apply="1", note="")

    message.refresh_from_db()
    assert message.state == "sent"
    assert message_order(message).status == "placed"
    assert StockLevel.objects.get(product=product, location_id=900).in_flight == in_flight
    assert OrderEvent.objects.count() == events
    assert len(notes) == 1
    assert f"ORDIMP #{message.pk} is sent:" in notes[0]


def test_a_dead_message_that_was_written_once_is_not_cancelled(simulator: Simulator, staff: Client) -> None:
    # Sent, read by the AS400 and never acknowledged, then dead after its resends: it may be there.
    place(1, warehouse_items(1)[0])
    message = die(OutboxMessage.objects.get(), sent_at=TUESDAY)

    notes = act(staff, "cancel", message, apply="1", note="")

    message.refresh_from_db()
    assert (message.state, message_order(message).status) == ("dead", "placed")
    assert len(notes) == 1
    assert "may already have reached the AS400" in notes[0]


# --- Health --------------------------------------------------------------------------------------


def test_health_is_ok_when_nothing_waits_and_stock_is_fresh(simulator: Simulator) -> None:
    now = stock_taken_at() + timedelta(minutes=5)

    health = outbox_health(now=now)

    assert health.problems == []
    assert health.as_dict()["status"] == "ok"
    assert (health.breaker_open, health.in_batch_window, health.files_unconsumed) == (False, False, 0)


def test_health_names_a_missing_exchange_folder(simulator: Simulator, settings: Any) -> None:
    shutil.rmtree(Path(settings.AS400_EXCHANGE_DIR) / "IN" / "ERR")

    health = outbox_health(now=stock_taken_at() + timedelta(minutes=5))

    assert health.as_dict()["status"] == "unhealthy"
    assert any("lacks IN/ERR/" in p for p in health.problems)
    assert not (Path(settings.AS400_EXCHANGE_DIR) / "IN" / "ERR").exists()


def test_with_the_simulator_as_the_as400_its_clock_dates_the_files(simulator: Simulator) -> None:
    # given the simulator ten hours ahead of our (frozen) clock, its extracts dated by its clock
    simulator.step(minutes=600)
    folder = get_exchange_folder()

    # then the exchange judges them by that clock: they are on time, not "ahead", and applied
    assert folder.as400_clock(timezone.now()) == simulator.now()
    assert all(run.outcome == "applied" for run in exchange_sync().runs)
    assert not [p for p in outbox_health(now=timezone.now()).problems if "ahead" in p]


def test_health_names_an_old_pending_message_and_a_dead_one(simulator: Simulator) -> None:
    product = warehouse_items(1)[0]
    place(1, product)
    place(2, product)
    start = stock_taken_at()
    OutboxMessage.objects.update(created_at=start)
    die(OutboxMessage.objects.get(subject=Order.objects.get(order_number="WEB-000002").pk))

    health = outbox_health(now=start + timedelta(minutes=20))

    assert health.problems == [
        "oldest pending message waits for 1200 s (more than 900 s)",
        "1 dead outbox message(s) (more than 0)",
    ]
    assert health.queue == {"pending": 1, "sent": 0, "acked": 0, "dead": 1, "cancelled": 0}
    assert health.as_dict()["status"] == "unhealthy"


def test_health_names_files_left_in_in_past_the_deadline(simulator: Simulator) -> None:
    place(1, warehouse_items(1)[0])
    start = stock_taken_at()
    outbox_dispatch(now=start)  # written to IN/, and the AS400 does not read it

    within = outbox_health(now=start + timedelta(minutes=10))
    past = outbox_health(now=start + timedelta(minutes=20))

    assert (within.problems, within.files_unconsumed) == ([], 1)
    assert (past.files_unconsumed, past.files_unconsumed_past_deadline) == (1, 1)
    assert past.problems[0] == "1 file(s) still in IN/ after 15 min (more than 0)"
    assert past.problems[1].startswith("circuit breaker open: the AS400 has not read 1 file(s)")
    assert len(past.problems) == 2


def test_health_names_a_stale_stock_extract_but_not_during_the_batch_window(simulator: Simulator) -> None:
    taken = stock_taken_at()

    stale = outbox_health(now=taken + timedelta(hours=2))
    night = outbox_health(now=datetime.combine(taken.astimezone(PARIS).date() + timedelta(days=1),
                                               datetime.min.time(), PARIS) + timedelta(hours=2))  # fmt: skip

    assert len(stale.problems) == 1
    assert stale.problems[0].startswith("newest STKBAL (STKBAL_")
    assert stale.problems[0].endswith("is 7200 s old (more than 3600 s)")
    assert night.in_batch_window
    assert night.problems == []


def test_the_health_endpoint_answers_200_then_503_naming_the_problem(
    exchange_dir: Any, client: Client
) -> None:
    FileRun.objects.create(file="STKBAL", seq=1, kind="F", outcome="applied", taken_at=timezone.now())

    ok = client.get("/health/outbox")

    assert (ok.status_code, ok.json()["status"], ok.json()["problems"]) == (200, "ok", [])
    assert ok.json()["queue"]["pending"] == 0


def test_the_health_endpoint_is_503_with_a_dead_message(simulator: Simulator, client: Client) -> None:
    FileRun.objects.create(file="STKBAL", seq=999, kind="D", outcome="applied", taken_at=timezone.now())
    place(1, warehouse_items(1)[0])
    die(OutboxMessage.objects.get())

    response = client.get("/health/outbox")

    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["dead_messages"]) == ("unhealthy", 1)
    assert "1 dead outbox message(s) (more than 0)" in body["problems"]


def test_the_health_endpoint_asks_for_its_token_when_one_is_set(
    exchange_dir: Any, client: Client, settings: Any
) -> None:
    settings.HEALTH_TOKEN = "s3cret"
    FileRun.objects.create(file="STKBAL", seq=1, kind="F", outcome="applied", taken_at=timezone.now())

    assert client.get("/health/outbox").status_code == 401
    assert client.get("/health/outbox", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/health/outbox", headers={"Authorization": "Bearer s3cret"}).status_code == 200
