"""The webhook endpoint: ``POST /shopify/webhooks``. It checks and stores, and applies nothing."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integration.shopify.webhooks import WebhookRefused, webhook_receive


@csrf_exempt
@require_POST
def shopify_webhook_view(request: HttpRequest) -> JsonResponse:
    """200 once stored (or already stored: a repeated delivery); 401 unsigned or forged, 400 malformed."""
    try:
        received = webhook_receive(headers=request.headers, body=request.body)
    except WebhookRefused as exc:
        return JsonResponse({"error": exc.message}, status=exc.status)
    return JsonResponse({"status": "duplicate" if received.duplicate else "stored"})
