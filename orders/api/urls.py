"""The orders' endpoints of the storefront API (mounted under /api/v1/ by config.urls)."""

from django.urls import path

from orders.api import events, views

app_name = "orders-api"

urlpatterns = [
    path("orders/", views.OrderCreateApi.as_view(), name="orders"),
    path("orders/<path:order_number>/cancel/", views.OrderCancelApi.as_view(), name="order-cancel"),
    path("orders/<path:order_number>/events/", events.OrderEventsApi.as_view(), name="order-events"),
    path("orders/<path:order_number>/", views.OrderDetailApi.as_view(), name="order"),
]
