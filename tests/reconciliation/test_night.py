"""A simulated day, the night's extracts, the run: what a night without faults finds (nothing),
and how a run is recorded, repeated and triggered."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db.models import Q

from integration.as400.simulator.engine import Simulator
from integration.as400.sync import exchange_sync
from integration.models import Alert, FileRun
from inventory.models import Product
from inventory.selectors import sellable_products
from reconciliation.models import Action, Discrepancy, Run, WebOrderPicture
from reconciliation.services import night_of, reconcile
from reconciliation.tasks import reconcile_fallback, reconcile_when_ready_enqueue
from tests.factories.nights import every_minute, night_passes
from tests.factories.orders import place, warehouse_items
from tests.moments import TUESDAY

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.clock(TUESDAY)]


ORDER_AND_STOCK_KINDS = {
    "order_missing_at_as400", "order_not_acknowledged", "order_unknown_here", "order_status_differs",
    "order_quantities_differ", "order_lines_differ", "order_total_differs", "stock_promised_short",
    "stock_in_flight_after_ack", "stock_drift", "counter_in_flight", "counter_line_events", "counter_order_status",
}  # fmt: skip


def a_quiet_day(sim: Simulator) -> None:
    """Orders placed, acknowledged, one shipped, one cancelled in part at the AS400, one collected."""
    a, b, c = warehouse_items(3)
    place(1, a, 2)
    place(2, b, 3)
    place(3, c, 1)
    every_minute(sim)
    sim.ship("WEB-000001")
    sim.cancel("WEB-000002", line=1, qty=1)
    every_minute(sim)
    every_minute(sim)


def test_a_day_without_faults_finds_nothing_about_orders_stock_or_counters(simulator: Simulator) -> None:
    a_quiet_day(simulator)
    run = night_passes(simulator)

    assert run.outcome == Run.Outcome.DONE, (run.skipped_checks, run.files)
    assert {f["file"] for f in run.files} == {"ITMMST", "STKBAL", "WEBORD"}
    assert run.night == night_of(FileRun.objects.filter(file="WEBORD").latest("taken_at").taken_at)
    # every check ran but Shopify's, which say why (this platform has no Shopify configured here)
    assert {s["why"] for s in run.skipped_checks} == {"Shopify n'est pas configuré (SHOPIFY_SHOP)"}
    assert all(s["check"].startswith("shopify_") for s in run.skipped_checks)
    pictured = {p.order_number: p for p in WebOrderPicture.objects.filter(order_number__startswith="WEB-")}
    assert (pictured["WEB-000001"].status, pictured["WEB-000002"].ordered) == (
        "E",
        2,
    )  # after its cancellation
    found = set(Discrepancy.objects.values_list("kind", flat=True))
    assert found & ORDER_AND_STOCK_KINDS == set(), list(
        Discrepancy.objects.filter(kind__in=ORDER_AND_STOCK_KINDS).values_list("key", "ours", "theirs")
    )
    # What the fixture's catalogue does hold is found, exactly: no content, delisted items still mapped.
    bare = Product.objects.filter(sellable_products(include_pilot=True)).filter(Q(title="") | Q(images=[]))
    delisted = Product.objects.filter(status="D", mapping__isnull=False)
    assert Discrepancy.objects.filter(kind="product_without_content").count() == bare.count() > 0
    assert Discrepancy.objects.filter(kind="mapping_to_delisted").count() == delisted.count()
    assert run.counts["product_without_content"]["total"] == bare.count()
    assert run.drift == {"categories": {}, "pilot": 0, "live": 0, "total": 0}


def test_the_same_night_again_updates_its_findings_and_the_next_night_counts_one_more(
    simulator: Simulator,
) -> None:
    first = night_passes(simulator)
    keys = sorted(Discrepancy.objects.values_list("key", flat=True))
    again = reconcile(night=first.night, trigger="test")
    assert sorted(Discrepancy.objects.values_list("key", flat=True)) == keys  # no duplicate
    assert again.opened == 0
    assert again.found == first.found
    assert set(Discrepancy.objects.values_list("nights_open", flat=True)) == {1}

    # One product gets its content: the next night no longer finds it, and says so.
    fixed = Discrepancy.objects.filter(kind="product_without_content").order_by("pk").first()
    assert fixed is not None
    assert fixed.product is not None
    Product.objects.filter(pk=fixed.product_id).update(
        title="Bol en grès", images=["https://img.example/bol.jpg"]
    )
    second = night_passes(simulator)
    assert second.night == first.night + timedelta(days=1)
    fixed.refresh_from_db()
    assert fixed.state == Discrepancy.State.CLOSED
    assert fixed.actions.get().kind == Action.Kind.CLOSED
    assert second.closed == 1
    still = Discrepancy.objects.filter(state=Discrepancy.State.OPEN)
    assert still.count() == len(keys) - 1
    assert set(still.values_list("nights_open", flat=True)) == {2}


def test_a_dry_run_records_its_counts_and_changes_no_discrepancy(simulator: Simulator) -> None:
    night_passes(simulator)
    before = list(Discrepancy.objects.values_list("key", "last_run", "state"))
    Product.objects.filter(status="A").update(title="t", images=["i"])
    dry = reconcile(dry_run=True, trigger="test")
    assert dry.dry_run
    assert dry.counts["product_without_content"]["total"] == 0
    assert list(Discrepancy.objects.values_list("key", "last_run", "state")) == before


def test_the_three_full_extracts_applied_start_the_nights_run_once(
    simulator: Simulator, monkeypatch: Any
) -> None:
    from django_q.conf import Conf

    # The queued task runs at once, in this process, whatever the broker (ORM or Redis): what a
    # cluster would do with it, without waiting for one.
    monkeypatch.setattr(Conf, "SYNC", True)
    now = simulator.now()
    simulator.step(minutes=((now + timedelta(days=1)).replace(hour=4, minute=0) - now).total_seconds() / 60)
    exchange_sync()
    run = Run.objects.get()
    assert (run.trigger, run.outcome) == ("files", Run.Outcome.DONE)
    assert {f["file"] for f in run.files} == {"ITMMST", "STKBAL", "WEBORD"}
    # The same files again (a second sync, a replay of the hook) start nothing more.
    exchange_sync()
    assert (
        reconcile_when_ready_enqueue("WEBORD", FileRun.objects.filter(file="WEBORD").latest("seq").seq)
        is False
    )
    assert Run.objects.count() == 1


def test_a_night_with_a_missing_extract_is_incomplete_alerted_and_unhealthy(
    simulator: Simulator, client
) -> None:
    now = simulator.now()
    simulator.fault_on("down")  # the AS400 is down all night: no full extract
    simulator.step(minutes=((now + timedelta(days=1)).replace(hour=7, minute=0) - now).total_seconds() / 60)
    simulator.fault_off("down")
    with time_machine.travel(simulator.now(), tick=False):
        assert client.get("/health/reconciliation").status_code == 503
        assert reconcile_fallback().endswith("(incomplete)")
        response = client.get("/health/reconciliation")
    assert response.status_code == 503
    assert "incomplete" in response.json()["problems"][0]
    assert Alert.objects.filter(kind="reconciliation_files_late").exists()
    run = Run.objects.get()
    assert {s["check"] for s in run.skipped_checks} >= {"order_missing_at_as400", "stock_drift"}


def test_a_run_left_running_by_a_killed_worker_is_closed_as_failed_by_the_next_run(
    simulator: Simulator,
) -> None:
    night = night_of(simulator.now())
    # What a worker SIGKILLed mid-run leaves: its run recorded, never finished (the lock went with it).
    orphan = Run.objects.create(night=night, trigger="files")

    run = reconcile(night=night, trigger="schedule")

    orphan.refresh_from_db()
    assert orphan.outcome == Run.Outcome.FAILED
    assert orphan.error.startswith("interrupted")
    assert orphan.finished_at is not None
    assert run.outcome in (Run.Outcome.DONE, Run.Outcome.INCOMPLETE)
    assert not Run.objects.filter(outcome=Run.Outcome.RUNNING).exists()


def test_the_sweep_runs_again_the_night_of_a_run_a_killed_worker_left_and_then_nothing(
    simulator: Simulator,
) -> None:
    from reconciliation.services import reconcile_resume
    from reconciliation.tasks import reconcile_sweep

    night_passes(simulator)
    (done,) = Run.objects.all()
    # what a worker SIGKILLed mid-run leaves: its run recorded, never finished (the lock went with it)
    orphan = Run.objects.create(night=done.night, trigger="files", started_by="")
    dry = Run.objects.create(night=done.night, trigger="command", dry_run=True)

    resumed = reconcile_resume()

    assert resumed is not None
    assert (resumed.night, resumed.trigger, resumed.outcome) == (done.night, "files", Run.Outcome.DONE)
    assert (resumed.found, resumed.opened) == (done.found, 0)  # found again, nothing duplicated
    for left in (orphan, dry):  # both closed; only the real one's work is done again
        left.refresh_from_db()
        assert (left.outcome, left.error) == (Run.Outcome.FAILED, "interrupted: its worker stopped before the run ended")
    assert Run.objects.count() == 4
    assert reconcile_sweep() == "nothing to resume"  # a night that a run finished is not run again
    assert Run.objects.count() == 4


def test_the_sweep_runs_a_night_whose_three_extracts_are_in_when_the_task_they_queued_was_lost(
    simulator: Simulator,
) -> None:
    from reconciliation.services import reconcile_resume

    now = simulator.now()  # the extracts applied, their task queued on a broker nobody reads (lost)
    simulator.step(minutes=((now + timedelta(days=1)).replace(hour=4, minute=0) - now).total_seconds() / 60)
    exchange_sync()
    assert not Run.objects.exists()

    run = reconcile_resume()

    assert run is not None
    assert (run.trigger, run.outcome) == ("files", Run.Outcome.DONE)
    assert {f["file"] for f in run.files} == {"ITMMST", "STKBAL", "WEBORD"}
    assert reconcile_resume() is None
    failed = Run.objects.create(night=run.night, trigger="files", outcome=Run.Outcome.FAILED, error="its own error")
    assert reconcile_resume() is None  # a run failed of its own error waits for the fallback
    failed.refresh_from_db()
    assert failed.error == "its own error"
