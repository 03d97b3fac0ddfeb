"""The returns app's figure on the admin's home page (see :mod:`integration.monitoring.console`):
web returns not received in time (:func:`returns.attention.returns_overdue`), linking to the
returns list with its "overdue" filter, which is the same selector."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from integration.monitoring.console import BUSINESS, SUPPORT, Figure, Tile, tile_register
from returns.attention import returns_overdue


def overdue_returns(now: datetime) -> Figure:
    return Figure(returns_overdue(now=now).count())


def register() -> None:
    tile_register(Tile(
        "overdue_returns", _("Web returns overdue"), overdue_returns,
        lambda: reverse("admin:returns_return_changelist") + "?overdue=yes", "returns.view_return",
        (BUSINESS, SUPPORT), order=15,
    ))  # fmt: skip
