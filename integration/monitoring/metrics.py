"""The figures of ``GET /metrics``, for Prometheus: counted from the database when it is scraped.

Why a collector and not counters in memory: gunicorn runs several workers per host and the
platform runs on several hosts, and a scrape reaches one worker of one host. A counter kept in a
worker's memory would tell that worker's share, reset when it restarts, and disagree with the next
scrape's worker. Counting rows at scrape time (a few ``GROUP BY`` on indexed columns) gives every
worker of every host the same answer, the truth of the database, and survives restarts. What leaves
no row (a refused checkout, a short reservation) is counted in Redis, shared by all
(``counters.py``).

The integration's own figures are here: the outbox per kind and state, the age of the oldest
pending message per kind, file runs per file, direction and outcome, the age of each export's
newest applied extract, storefront webhook deliveries per state, Shopify webhook events and calls
per state. The domain's (orders, reservations) are registered by the domain apps when Django
starts (:func:`metrics_register`), as every registry of the project: integration never imports them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Min
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from integration.as400.exchange import ExchangeUnavailable, get_exchange_folder
from integration.models import FileRun, OutboxMessage, WebhookDelivery
from integration.shopify.models import ShopifyCall, WebhookEvent

logger = logging.getLogger(__name__)

#: A source of metric families, given the moment of the scrape.
MetricsSource = Callable[[datetime], Iterable[Metric]]

_sources: dict[str, MetricsSource] = {}

#: The exports whose newest extract's age is told (what the AS400 sends in OUT/).
EXTRACTS = ("ITMMST", "STKBAL", "ORDACK", "ORDSTS", "STRRTN", "WEBORD")


def metrics_register(name: str, source: MetricsSource) -> None:
    """A domain's figures, added to every scrape (registered once per name, in ``AppConfig.ready``)."""
    _sources[name] = source


def _by_state(name: str, documentation: str, rows: Iterable[Mapping[str, Any]], labels: list[str]) -> Metric:
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for row in rows:
        family.add_metric([str(row[label]) for label in labels], float(row["n"]))
    return family


def _seconds(now: datetime, at: datetime | None) -> float:
    return max(0.0, (now - at).total_seconds()) if at is not None else float("nan")


def integration_metrics(now: datetime) -> Iterator[Metric]:
    """The integration's own figures (see the module's docstring)."""
    yield _by_state(
        "platform_outbox_messages", "Outbox messages to the AS400, per import file and state.",
        OutboxMessage.objects.values("kind", "state").annotate(n=Count("id")).order_by(), ["kind", "state"],
    )  # fmt: skip
    oldest = GaugeMetricFamily(
        "platform_outbox_oldest_pending_age_seconds",
        "Age of the oldest pending outbox message per import file (0 when none is pending).",
        labels=["kind"],
    )
    pending = dict(
        OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING)
        .values_list("kind").annotate(at=Min("created_at")).order_by()
    )  # fmt: skip
    for kind in OutboxMessage.Kind.values:
        oldest.add_metric([kind], _seconds(now, pending[kind]) if kind in pending else 0.0)
    yield oldest
    runs = CounterMetricFamily(
        "platform_file_runs", "Exchange file runs, per file, direction and outcome.",
        labels=["file", "direction", "outcome"],
    )  # fmt: skip
    for row in FileRun.objects.values("file", "direction", "outcome").annotate(n=Count("id")).order_by():
        runs.add_metric([row["file"], row["direction"], row["outcome"]], float(row["n"]))
    yield runs
    yield from _extract_ages(now)
    yield _by_state(
        "platform_webhook_deliveries", "Signed webhooks to the storefronts, per state.",
        WebhookDelivery.objects.values("state").annotate(n=Count("id")).order_by(), ["state"],
    )  # fmt: skip
    yield _by_state(
        "platform_shopify_webhook_events", "Webhook events received from Shopify, per topic and state.",
        WebhookEvent.objects.values("topic", "state").annotate(n=Count("id")).order_by(), ["topic", "state"],
    )  # fmt: skip
    yield _by_state(
        "platform_shopify_calls", "Calls to Shopify's Admin API (retried messages), per kind and state.",
        ShopifyCall.objects.values("kind", "state").annotate(n=Count("id")).order_by(), ["kind", "state"],
    )  # fmt: skip


def _extract_ages(now: datetime) -> Iterator[Metric]:
    """Age of the newest applied extract of each export, against the AS400's clock (the simulator's
    with ``AS400_EXCHANGE_BACKEND=simulator``), as ``/health/outbox`` judges it."""
    clock = now  # the folder's own problem, told by health, leaves the age against our clock
    with contextlib.suppress(OSError, ExchangeUnavailable):
        clock = get_exchange_folder().as400_clock(now)
    ages = GaugeMetricFamily(
        "platform_extract_age_seconds",
        "Age of the newest applied extract of each AS400 export (its CTCDAT/CTCTIM, else when applied).",
        labels=["file"],
    )
    newest = (
        FileRun.objects.filter(direction=FileRun.Direction.OUT, outcome=FileRun.Outcome.APPLIED, file__in=EXTRACTS)
        .values("file").annotate(taken=Max("taken_at"), finished=Max("finished_at")).order_by()
    )  # fmt: skip
    for row in newest:
        ages.add_metric([row["file"]], _seconds(clock, row["taken"] or row["finished"]))
    yield ages


class PlatformCollector(Collector):
    """Every figure, counted when collected; a failing source is logged and the others still answer."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        sources: list[tuple[str, MetricsSource]] = [("integration", integration_metrics), *_sources.items()]
        up = GaugeMetricFamily(
            "platform_metrics_source_up", "Whether each source of figures answered this scrape.", labels=["source"]
        )
        for name, source in sources:
            try:
                families = list(source(now))
            except Exception:
                logger.exception("metrics source %s failed", name)
                up.add_metric([name], 0.0)
                continue
            up.add_metric([name], 1.0)
            yield from families
        yield up


def metrics_registry() -> CollectorRegistry:
    """A registry holding the platform's collector only (no process figures of a random worker)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PlatformCollector())
    return registry
