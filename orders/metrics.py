"""The orders' figures of ``/metrics``, registered with ``integration.monitoring.metrics`` at start.

Placed: the orders table per channel (the storefront client) and status, counted at scrape time,
so every worker of every host tells the same (a refusal by the AS400 is the status ``refused``).
Refused at checkout: no row is written, so :func:`checkout_refused_count` counts each refusal per
code in the shared cache (``integration.monitoring.counters``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import Count
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from integration.monitoring.counters import shared_count_add, shared_counts
from inventory.errors import InventoryErrorCode
from orders.errors import OrderErrorCode
from orders.models import Order

REFUSED = "checkout_refused"
#: Every code a checkout can be refused with (the count of each, 0 when none yet).
REFUSAL_CODES = sorted({*(str(c.value) for c in OrderErrorCode), *(str(c.value) for c in InventoryErrorCode)})


def checkout_refused_count(code: str) -> None:
    shared_count_add(REFUSED, code if code in REFUSAL_CODES else "other")


def orders_metrics(now: datetime) -> Iterator[Metric]:
    placed = GaugeMetricFamily(
        "platform_orders", "Orders in the platform, per channel (storefront client) and status.",
        labels=["channel", "status"],
    )  # fmt: skip
    for row in Order.objects.values("client", "status").annotate(n=Count("id")).order_by():
        placed.add_metric([row["client"], row["status"]], float(row["n"]))
    yield placed
    refused = CounterMetricFamily(
        "platform_checkout_refused", "Orders refused at checkout (nothing written), per error code.", labels=["code"]
    )
    for code, n in shared_counts(REFUSED, [*REFUSAL_CODES, "other"]).items():
        refused.add_metric([code], float(n))
    yield refused
