from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, re_path
from django.views import defaults
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from integration.monitoring.views import metrics_view, outbox_health_view
from integration.shopify.views import shopify_webhook_view
from integration.storefront.api import errors
from reconciliation.views import reconciliation_health_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the admin's language switch
    path("health/outbox", outbox_health_view, name="health-outbox"),  # monitoring: 200 ok / 503 unhealthy
    path("metrics", metrics_view, name="metrics"),  # Prometheus (protected as health is)
    path("health/reconciliation", reconciliation_health_view, name="health-reconciliation"),
    path("shopify/webhooks", shopify_webhook_view, name="shopify-webhooks"),  # Shopify's webhooks in (signed)
    # The storefront API: version 1, its OpenAPI document and a page to browse it.
    path("api/v1/", include("inventory.api.urls")),
    path("api/v1/", include("orders.api.urls")),
    path("api/v1/", include("returns.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^api/", errors.ApiNotFound.as_view()),  # anything else under /api/: 404 in the API's shape
]


def server_error(request: HttpRequest) -> HttpResponse:
    """The API answers its errors in its own shape, even this one; the rest of the site as Django does."""
    if request.path.startswith("/api/"):
        return errors.server_error(request)
    return defaults.server_error(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """What Django refuses before a view runs (a bad Host header, say): the API in its shape."""
    if request.path.startswith("/api/"):
        return errors.bad_request(request)
    return defaults.bad_request(request, exception)


handler400 = "config.urls.bad_request"
handler500 = "config.urls.server_error"
