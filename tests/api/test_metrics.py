"""``GET /metrics``: the figures operations scrape, counted from the database and the shared cache.

Orders placed and refused at checkout, reservation takes and shortages, made through the real API;
the outbox, file runs and extract ages from the rows the platform writes; the endpoint protected
as ``/health/outbox`` is. Parsed with prometheus-client's own parser, as Prometheus would read it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from pytest_django import Settings
from rest_framework.test import APIClient

from integration.models import FileRun, OutboxMessage
from tests.factories.api import CUSTOMER, reserve
from tests.factories.catalogue import Catalogue
from tests.moments import TUESDAY


def scrape(**headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = Client().get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def order_body(reservation: str, number: str, price: str = "9.90") -> dict[str, Any]:
    return {
        "order_number": number, "reservation": reservation, "delivery": "home", "customer": dict(CUSTOMER),
        "lines": [{"sku": "A", "quantity": 1, "unit_price": price}],
    }  # fmt: skip


@pytest.mark.clock(TUESDAY)
def test_metrics_count_orders_refusals_takes_shortages_outbox_and_files(
    catalogue: Catalogue, api: APIClient, clock: Any
) -> None:
    catalogue.product("A", stock={900: 3}, price="9.90")
    placed = api.post("/api/v1/orders/", order_body(reserve(api, [{"sku": "A", "quantity": 1}]), "WEB-1"), format="json")
    assert placed.status_code == 201, placed.content
    refused = api.post(
        "/api/v1/orders/", order_body(reserve(api, [{"sku": "A", "quantity": 1}]), "WEB-2", price="1.00"), format="json"
    )
    assert refused.status_code == 409, refused.content  # price_mismatch: not the price reserved at
    short = api.post("/api/v1/reservations/", {"lines": [{"sku": "A", "quantity": 5}]}, format="json")
    assert short.status_code == 409, short.content
    FileRun.objects.create(
        file="STKBAL", seq=7, kind="F", outcome=FileRun.Outcome.APPLIED,
        taken_at=timezone.now() - timedelta(minutes=20), finished_at=timezone.now(),
    )  # fmt: skip
    FileRun.objects.create(file="ORDACK", seq=3, outcome=FileRun.Outcome.QUARANTINED, finished_at=timezone.now())
    clock.shift(90)

    samples = scrape()

    channel = str(api.storefront_client.name)  # type: ignore[attr-defined]
    assert samples[("platform_orders", (("channel", channel), ("status", "placed")))] == 1
    assert samples[("platform_checkout_refused_total", (("code", "price_mismatch"),))] == 1
    assert samples[("platform_checkout_refused_total", (("code", "insufficient_stock"),))] == 0
    assert samples[("platform_reservations", (("status", "converted"),))] == 1
    assert samples[("platform_reservations", (("status", "active"),))] == 1  # WEB-2's, left as it was
    assert samples[("platform_reservation_shortages_total", ())] == 1
    assert samples[("platform_outbox_messages", (("kind", "ORDIMP"), ("state", "pending")))] == 1
    assert samples[("platform_outbox_oldest_pending_age_seconds", (("kind", "ORDIMP"),))] == 90
    assert samples[("platform_outbox_oldest_pending_age_seconds", (("kind", "ORDANN"),))] == 0
    runs = "platform_file_runs_total"
    assert samples[(runs, (("direction", "OUT"), ("file", "STKBAL"), ("outcome", "applied")))] == 1
    assert samples[(runs, (("direction", "OUT"), ("file", "ORDACK"), ("outcome", "quarantined")))] == 1
    assert samples[("platform_extract_age_seconds", (("file", "STKBAL"),))] == 20 * 60 + 90
    assert ("platform_extract_age_seconds", (("file", "ORDACK"),)) not in samples  # none applied
    assert {labels: v for (name, labels), v in samples.items() if name == "platform_metrics_source_up"} == {
        (("source", "integration"),): 1, (("source", "orders"),): 1, (("source", "reservations"),): 1,
    }  # fmt: skip
    assert OutboxMessage.objects.count() == 1


def test_metrics_are_protected_as_health_is(db: None, settings: Settings) -> None:
    settings.HEALTH_TOKEN = "s3cret-probe"
    assert Client().get("/metrics").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    samples = scrape(HTTP_AUTHORIZATION="Bearer s3cret-probe")
    assert samples[("platform_metrics_source_up", (("source", "integration"),))] == 1
