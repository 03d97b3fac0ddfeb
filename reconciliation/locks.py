"""The row locks of reconciliation: a discrepancy (``discrepancies_locked``), alone.

A run takes the discrepancies it writes, by key, inside its transaction (one run at a time: the
run holds ``reconciliation.services.LOCK``); staff's action takes one discrepancy, then what its
service locks (an order, its messages, its lines: ``orders.locks``'s order).
"""

from __future__ import annotations

from django.db.models import QuerySet

from reconciliation.models import Discrepancy


def discrepancies_locked() -> QuerySet[Discrepancy]:
    return Discrepancy.objects.select_for_update()
