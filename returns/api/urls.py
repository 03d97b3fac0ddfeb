"""The returns' endpoints of the storefront API (mounted under /api/v1/ by config.urls)."""

from django.urls import path

from returns.api import views

app_name = "returns-api"

urlpatterns = [
    path("returns/", views.ReturnsApi.as_view(), name="returns"),
    path("returns/<str:rma>/", views.ReturnDetailApi.as_view(), name="return"),
]
