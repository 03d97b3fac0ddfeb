"""``GET /health/outbox`` and ``GET /metrics``: the figures of :func:`integration.monitoring.health.outbox_health` for monitoring.

200 ``{"status": "ok", ...}`` or 503 ``{"status": "unhealthy", "problems": [...], ...}``. No
storefront token: a monitoring probe is not a storefront. Open by default (the figures are counts
and ages, nothing about customers); with ``HEALTH_TOKEN`` set, the probe must send
``Authorization: Bearer <HEALTH_TOKEN>`` and anything else is answered 401 without figures.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from integration.monitoring.health import outbox_health
from integration.monitoring.metrics import metrics_registry


def health_authorised(request: HttpRequest) -> bool:
    token = str(getattr(settings, "HEALTH_TOKEN", "") or "")
    if not token:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@never_cache
@require_GET
def outbox_health_view(request: HttpRequest) -> JsonResponse:
    if not health_authorised(request):
        return JsonResponse({"status": "unauthorized"}, status=401)
    health = outbox_health()
    return JsonResponse(health.as_dict(), status=200 if health.healthy else 503)


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """``GET /metrics``: Prometheus' text format, counted from the database now (``metrics.py``).

    Protected as ``/health/outbox`` is: open without ``HEALTH_TOKEN``, else its bearer token (the
    scrape job's ``authorization`` setting) or 401.
    """
    if not health_authorised(request):
        return HttpResponse("unauthorized\n", status=401, content_type="text/plain")
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)
