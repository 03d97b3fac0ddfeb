"""Each fault the simulated AS400 can cause, lived through: a day with the fault, the night's
extracts, the run, the resolution from the admin (an action POSTed as staff would), and the next
night. The discrepancy is found once, resolved once, and not found again."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from integration.as400.simulator.engine import Simulator
from integration.models import OutboxMessage
from orders.models import Order
from reconciliation.models import Action, Discrepancy
from tests.factories.nights import every_minute, night_passes, resolve
from tests.factories.orders import place, warehouse_items
from tests.moments import TUESDAY

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.clock(TUESDAY)]
ORDER_KINDS = ("order_", "stock_promised_short", "counter_")


@pytest.fixture
def staff() -> Iterator[Client]:
    """A business staff member: may view and resolve discrepancies, not change thresholds."""
    user = User.objects.create_user("camille", password="x", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(
        codename__in=["view_discrepancy", "resolve_discrepancy", "view_run", "view_order"]
    ))  # fmt: skip
    client = Client()
    client.force_login(user)
    return client


def open_of(kind: str) -> list[Discrepancy]:
    return list(Discrepancy.objects.filter(kind=kind, state=Discrepancy.State.OPEN).order_by("pk"))


def order_findings() -> set[str]:
    return {k for k in Discrepancy.objects.values_list("key", flat=True) if k.startswith(ORDER_KINDS)}


def test_an_accepted_order_the_as400_loses_is_found_resent_and_found_no_more(
    simulator: Simulator, staff: Client
) -> None:
    (product,) = warehouse_items(1)
    simulator.fault_on("lose")
    place(1, product, 2)
    every_minute(simulator)
    assert Order.objects.get().status == Order.Status.ACCEPTED

    night_passes(simulator)
    (lost,) = open_of("order_missing_at_as400")
    assert (lost.subject, lost.units, lost.order.order_number) == ("WEB-000001", 2, "WEB-000001")
    (short,) = open_of("stock_promised_short")
    assert short.units == 2
    assert order_findings() == {"order_missing_at_as400:WEB-000001", short.key}

    answer = resolve(staff, [lost], "resend", note="perdue par l'AS400")
    assert "renvoyée à l'AS400" in html.unescape(answer.content.decode())
    lost.refresh_from_db()
    assert lost.state == Discrepancy.State.RESOLVED
    assert lost.actions.get().kind == Action.Kind.RESEND
    assert OutboxMessage.objects.filter(kind="ORDIMP", state="pending").count() == 1
    every_minute(simulator)  # sent again, imported anew (A, a new AS400 number)
    order = Order.objects.get()
    assert order.status == Order.Status.ACCEPTED
    assert order.as400_order_number

    night_passes(simulator)
    assert order_findings() == {lost.key, short.key}  # found no more: nothing new
    lost.refresh_from_db()
    short.refresh_from_db()
    assert lost.state == Discrepancy.State.RESOLVED
    assert short.state == Discrepancy.State.CLOSED
    assert Discrepancy.objects.filter(state=Discrepancy.State.OPEN, kind__in=["order_missing_at_as400",
                                                                              "stock_promised_short"]).count() == 0  # fmt: skip


def test_an_order_imported_twice_is_found_named_after_its_twin_and_ignored_once_cancelled(
    simulator: Simulator, staff: Client
) -> None:
    (product,) = warehouse_items(1)
    simulator.fault_on("duplicate")
    place(1, product, 1)
    every_minute(simulator)

    night_passes(simulator)
    (twin,) = open_of("order_unknown_here")
    assert twin.subject == "WEB-000001-DUP"
    assert twin.order.order_number == "WEB-000001"  # the order it duplicates
    assert "WEB-000001" in twin.suggestion
    assert order_findings() == {twin.key}

    assert "demande une note" in resolve(staff, [twin], "ignore").content.decode()  # a note is required
    twin.refresh_from_db()
    assert twin.state == Discrepancy.State.OPEN
    simulator.cancel("WEB-000001-DUP")  # the AS400's operator cancels the second import
    resolve(staff, [twin], "ignore", note="doublon annulé sur l'AS400 par le siège")
    twin.refresh_from_db()
    assert twin.state == Discrepancy.State.IGNORED
    every_minute(simulator)

    night_passes(simulator)
    assert order_findings() == {twin.key}
    twin.refresh_from_db()
    assert (twin.state, twin.nights_open) == (Discrepancy.State.IGNORED, 1)


def test_a_shipment_without_its_ordsts_is_found_and_accepted_as_the_as400_says(
    simulator: Simulator, staff: Client
) -> None:
    (product,) = warehouse_items(1)
    place(1, product, 2)
    every_minute(simulator)
    simulator.fault_on("noordsts")
    simulator.ship("WEB-000001")
    every_minute(simulator)
    assert Order.objects.get().status == Order.Status.PICKED  # we heard of the picking, never of the shipment

    night_passes(simulator)
    (status,) = open_of("order_status_differs")
    (quantities,) = open_of("order_quantities_differ")
    assert (status.theirs, quantities.theirs) == ("expédiée", "commandé 2, expédié 2")
    assert "accepter" in status.suggestion.lower()

    resolve(staff, [quantities], "accept", note="expédiée, ORDSTS perdu")
    order = Order.objects.get()
    assert order.status == Order.Status.SHIPPED
    assert sum(line.shipped for line in order.lines.all()) == 2
    quantities.refresh_from_db()
    assert quantities.state == Discrepancy.State.RESOLVED
    assert "2 unités marquées expédiées" in quantities.actions.get().outcome
    assert order.events.filter(cause__contains="order_quantities_differ").exists()  # in its history

    (short,) = open_of("stock_promised_short")  # the AS400 no longer holds what it shipped: found too
    night_passes(simulator)
    status.refresh_from_db()
    short.refresh_from_db()
    assert status.state == Discrepancy.State.CLOSED  # the status agrees now: closed by the run
    assert short.state == Discrepancy.State.CLOSED
    assert order_findings() == {status.key, quantities.key, short.key}


def test_a_status_the_as400_changes_on_its_own_is_found_and_the_order_cancelled(
    simulator: Simulator, staff: Client
) -> None:
    (product,) = warehouse_items(1)
    place(1, product, 1)
    every_minute(simulator)
    simulator.fault_on("status", value="A")
    every_minute(simulator)

    night_passes(simulator)
    (changed,) = open_of("order_status_differs")
    assert (changed.subject, changed.theirs) == ("WEB-000001", "annulée")
    assert "annuler" in changed.suggestion.lower()

    resolve(staff, [changed], "cancel", note="annulée côté AS400")
    assert Order.objects.get().status == Order.Status.CANCELLATION_REQUESTED
    every_minute(simulator)  # ORDANN read; the AS400 confirms what it could still cancel
    every_minute(simulator)
    assert Order.objects.get().status == Order.Status.CANCELLED

    night_passes(simulator)
    changed.refresh_from_db()
    assert changed.state == Discrepancy.State.RESOLVED
    assert order_findings() == {changed.key}


def test_a_price_changed_during_the_day_is_found_on_the_open_order_and_ignored(
    simulator: Simulator, staff: Client
) -> None:
    (product,) = warehouse_items(1)
    place(1, product, 1)
    every_minute(simulator)
    simulator.fault_on("price", value="99.90", item=product.item_number)
    every_minute(simulator)
    simulator.export("delta", "ITMMST")
    every_minute(simulator)
    product.refresh_from_db()
    assert product.price == Decimal("99.90")

    night_passes(simulator)
    (stale,) = open_of("price_changed_open")
    assert (stale.subject, stale.theirs) == ("WEB-000001/1", "99.90 €")
    resolve(staff, [stale], "ignore", note="le client garde son prix")
    simulator.ship("WEB-000001")
    every_minute(simulator)

    night_passes(simulator)
    stale.refresh_from_db()
    assert stale.state == Discrepancy.State.IGNORED
    assert not open_of("price_changed_open")


@pytest.fixture
def selling(simulator: Simulator) -> Iterator[Simulator]:
    """The same AS400, its stores selling all day (a delta carries their sales every few minutes)."""
    simulator.close()
    sim = Simulator.from_settings(items=60, auto_lifecycle=False, store_sales_per_hour=600)
    yield sim
    sim.close()


def test_a_stkbal_delta_never_exported_shows_as_the_days_drift_and_is_accepted(
    selling: Simulator, staff: Client
) -> None:
    simulator = selling
    simulator.fault_on("nodelta")
    for _ in range(30):
        every_minute(simulator)

    night_passes(simulator)
    drift = open_of("stock_drift")
    assert drift, "the lost delta's sales must show as the day's drift"
    total = sum(d.units for d in drift)
    assert total > 0
    from reconciliation.models import Run

    assert Run.objects.latest("started_at").drift["total"] == total

    resolve(staff, drift, "accept", note="delta perdu, stock corrigé par l'extrait")
    assert {d.state for d in Discrepancy.objects.filter(kind="stock_drift")} == {Discrepancy.State.RESOLVED}
    night_passes(simulator)
    assert not open_of("stock_drift")


def test_the_runs_page_shows_the_last_run_and_the_nights_chart_and_thresholds_are_for_operations(
    simulator: Simulator, staff: Client
) -> None:
    night_passes(simulator)
    page = staff.get("/admin/reconciliation/run/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Dernier rapprochement" in body
    assert "<svg" in body
    assert "Les 30 dernières nuits" in body
    assert re.search(r">\d+ écarts? ouverts?<", body)
    assert staff.get("/admin/reconciliation/threshold/add/").status_code == 403  # staff: not theirs to set
    listing = staff.get("/admin/reconciliation/discrepancy/?state__exact=open&age=1")
    assert listing.status_code == 200
