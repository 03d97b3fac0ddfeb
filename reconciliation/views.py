"""``GET /health/reconciliation``: 200 when the night due has been reconciled, 503 when it has not
(or its run failed, or lacked files). Same access rule as ``/health/outbox`` (``HEALTH_TOKEN``)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from integration.monitoring.views import health_authorised
from reconciliation.selectors import reconciliation_health


@never_cache
@require_GET
def reconciliation_health_view(request: HttpRequest) -> JsonResponse:
    if not health_authorised(request):
        return JsonResponse({"status": "unauthorized"}, status=401)
    health = reconciliation_health()
    return JsonResponse(health.as_dict(), status=200 if health.healthy else 503)
