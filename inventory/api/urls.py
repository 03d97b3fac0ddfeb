"""The inventory's endpoints of the storefront API (mounted under /api/v1/ by config.urls)."""

from django.urls import path

from inventory.api import views

app_name = "inventory-api"

urlpatterns = [
    path("products/", views.ProductListApi.as_view(), name="products"),
    path("products/<str:sku>/", views.ProductDetailApi.as_view(), name="product"),
    path("products/<str:sku>/content/", views.ProductContentUpdateApi.as_view(), name="product-content"),
    path("availability/", views.AvailabilityApi.as_view(), name="availability"),
    path("reservations/", views.ReservationCreateApi.as_view(), name="reservations"),
    path("reservations/<str:reservation_id>/", views.ReservationApi.as_view(), name="reservation"),
]
