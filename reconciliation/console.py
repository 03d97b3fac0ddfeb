"""Reconciliation's figure on the admin's home page (see :mod:`integration.monitoring.console`):
the discrepancies still open, linking to their list filtered on the open state."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from integration.monitoring.console import BUSINESS, SUPPORT, Figure, Tile, tile_register
from reconciliation.models import Discrepancy


def open_discrepancies(now: datetime) -> Figure:
    return Figure(Discrepancy.objects.filter(state=Discrepancy.State.OPEN).count())


def register() -> None:
    tile_register(Tile(
        "open_discrepancies", _("Open discrepancies (reconciliation)"), open_discrepancies,
        lambda: reverse("admin:reconciliation_discrepancy_changelist") + "?state__exact=open",
        "reconciliation.view_discrepancy", (BUSINESS, SUPPORT), order=20,
    ))  # fmt: skip
