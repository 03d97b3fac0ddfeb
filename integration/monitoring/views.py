"""``GET /health/outbox``: the figures of :func:`integration.monitoring.health.outbox_health` for monitoring.

200 ``{"status": "ok", ...}`` or 503 ``{"status": "unhealthy", "problems": [...], ...}``. No
storefront token: a monitoring probe is not a storefront. Open by default (the figures are counts
and ages, nothing about customers); with ``HEALTH_TOKEN`` set, the probe must send
``Authorization: Bearer <HEALTH_TOKEN>`` and anything else is answered 401 without figures.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from integration.monitoring.health import outbox_health


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
