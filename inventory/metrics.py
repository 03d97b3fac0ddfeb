"""The reservations' figures of ``/metrics``, registered with ``integration.monitoring.metrics`` at start.

Takes: the reservations per status (each row is one take that held its units), counted at scrape
time. Shortages: a take refused for want of stock rolls its row back, so
:func:`reservation_shortage_count` counts it (once per refused take, not per line) in the shared
cache (``integration.monitoring.counters``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import Count
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from integration.monitoring.counters import shared_count_add, shared_counts
from inventory.models import Reservation

SHORTAGES = "reservation_shortages"


def reservation_shortage_count() -> None:
    shared_count_add(SHORTAGES)


def reservations_metrics(now: datetime) -> Iterator[Metric]:
    takes = GaugeMetricFamily(
        "platform_reservations", "Checkout reservations (stock takes), per status.", labels=["status"]
    )
    for row in Reservation.objects.values("status").annotate(n=Count("id")).order_by():
        takes.add_metric([row["status"]], float(row["n"]))
    yield takes
    short = CounterMetricFamily(
        "platform_reservation_shortages", "Reservations refused because a line was short of stock."
    )
    short.add_metric([], float(shared_counts(SHORTAGES, [""]).get("", 0)))
    yield short
