"""The orders app's figures on the admin's home page (see :mod:`integration.monitoring.console`):
orders needing attention (:func:`orders.attention.attention_orders`, the one definition of it,
linking to the orders list filtered the same way), and orders per hour today against the same
day last week, hours of Paris time (``TIME_ZONE``)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integration.monitoring.charts import bars_svg
from integration.monitoring.console import (
    BUSINESS,
    SUPPORT,
    Chart,
    Figure,
    Tile,
    chart_register,
    tile_register,
)
from orders.attention import Reason, attention_counts
from orders.models import Order

#: Each reason as the tile's detail names it, short ("AS400 refusal: 1"), never its code.
TILE_WORDS = {
    Reason.REFUSED: _("AS400 refusal"),
    Reason.DISCREPANCY: _("AS400 event not applied"),
    Reason.OVERDUE_RETURN: _("overdue return"),
    Reason.DEAD_MESSAGE: _("dead message"),
    Reason.SHOPIFY_OVERSOLD: _("Shopify oversell"),
}


def orders_needing_attention(now: datetime) -> Figure:
    counts = attention_counts(now=now)
    reasons = [
        gettext("{reason}: {count}").format(reason=TILE_WORDS[reason], count=counts[reason.value])
        for reason in Reason
        if counts[reason.value]
    ]
    return Figure(counts["any"], ", ".join(reasons))


def _day_start(at: datetime) -> datetime:
    """Midnight of ``at``'s day in the current time zone (an aware datetime)."""
    return timezone.make_aware(datetime.combine(timezone.localtime(at).date(), time.min))


def orders_by_hour(start: datetime, end: datetime) -> list[int]:
    """Orders created in each local hour of the day that begins at ``start``, up to ``end``."""
    counts = [0] * 24
    for created in Order.objects.filter(created_at__gte=start, created_at__lt=end).values_list(
        "created_at", flat=True
    ):
        counts[timezone.localtime(created).hour] += 1
    return counts


def orders_per_hour(now: datetime) -> tuple[str, str]:
    today = _day_start(now)
    week_ago = _day_start(now - timedelta(days=7))
    # Up to now only, today; the whole day a week ago (what today may yet become).
    current = orders_by_hour(today, now)
    before = orders_by_hour(week_ago, week_ago + timedelta(days=1))
    slots = [f"{h:02d}h" for h in range(24)]
    svg = bars_svg(
        slots,
        [("last-week", gettext("same day last week"), before), ("today", gettext("today"), current)],
        label=gettext("Orders per hour, today and the same day last week"),
    )
    caption = gettext(
        "%(today)s orders today so far; %(before)s by this hour a week ago, %(total)s that whole day."
    ) % {
        "today": sum(current),
        "before": sum(before[: timezone.localtime(now).hour + 1]),
        "total": sum(before),
    }
    return svg, caption


def register() -> None:
    """Put the orders app's figures on the home page (from :class:`orders.apps.OrdersConfig`)."""
    tile_register(Tile(
        "orders_attention", _("Orders needing attention"), orders_needing_attention,
        lambda: reverse("admin:orders_order_changelist") + "?attention=any", "orders.view_order",
        (BUSINESS, SUPPORT), order=10,
    ))  # fmt: skip
    chart_register(Chart(
        "orders_per_hour", _("Orders per hour"), orders_per_hour, "orders.view_order", (BUSINESS, SUPPORT), 10,
    ))  # fmt: skip
