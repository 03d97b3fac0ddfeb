"""A simulated day and night for the reconciliation tests: the minute's tasks, and a night lived
through by the simulated AS400 (its batch, then its full extracts), applied and reconciled."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.test import Client

from integration import tasks
from integration.as400.simulator.engine import Simulator
from integration.as400.sync import exchange_sync
from reconciliation.models import Discrepancy, Run
from reconciliation.services import reconcile


def every_minute(sim: Simulator) -> None:
    tasks.outbox_dispatch()
    sim.import_now()
    tasks.as400_sync()
    sim.step(minutes=1)


def night_passes(sim: Simulator) -> Run:
    """The simulator lives through the night (batch, then its full extracts); we apply them and run."""
    now = sim.now()
    morning = (now + timedelta(days=1)).replace(hour=4, minute=0)
    sim.step(minutes=(morning - now).total_seconds() / 60)
    exchange_sync()
    return reconcile(trigger="test")


def resolve(staff: Client, discrepancies: list[Discrepancy], action: str, note: str = "") -> Any:
    """The admin action, in its two steps: the confirmation page, then the confirmed POST."""
    url = "/admin/reconciliation/discrepancy/"
    chosen = {"action": action, "_selected_action": [d.pk for d in discrepancies]}
    page = staff.post(url, chosen)
    assert page.status_code == 200
    assert f"{len(discrepancies)} écart(s) sélectionné(s)" in page.content.decode()
    return staff.post(url, {**chosen, "apply": "1", "note": note}, follow=True)
