"""The rollout on the admin's home page (see :mod:`integration.monitoring.console`): whether online
selling is on (a paused switch is what needs someone), and how many categories are pilots, linking
to the categories list filtered on that stage."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integration.monitoring.console import BUSINESS, OPERATIONS, SUPPORT, Figure, Tile, tile_register
from inventory.models import Category
from inventory.rollout import switch_status


def selling_paused(now: datetime) -> Figure:
    status = switch_status()
    if status.selling_enabled:
        return Figure(0, gettext("online selling is on"))
    return Figure(1, gettext("paused: %(reason)s") % {"reason": status.reason or "-"})


def pilot_categories(now: datetime) -> Figure:
    pilots = list(
        Category.objects.filter(rollout_stage=Category.Stage.PILOT).values_list("family_code", flat=True)
    )
    return Figure(len(pilots), ", ".join(pilots), alarm=False)


def register() -> None:
    tile_register(Tile(
        "selling_paused", _("Online selling paused"), selling_paused,
        lambda: reverse("admin:inventory_sellingswitch_changelist"), "inventory.view_sellingswitch",
        (BUSINESS, OPERATIONS, SUPPORT), order=5,
    ))  # fmt: skip
    tile_register(Tile(
        "pilot_categories", _("Categories in pilot"), pilot_categories,
        lambda: reverse("admin:inventory_category_changelist") + "?rollout_stage__exact=pilot",
        "inventory.view_category", (BUSINESS,), order=50,
    ))  # fmt: skip
