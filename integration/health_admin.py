"""The outbox's health in the admin: the figures of :func:`integration.health.outbox_health`.

A custom, staff-only admin view (no model), hooked into an :class:`~django.contrib.admin.AdminSite`
by :func:`register_health_admin` with an "Outbox health" entry in the integration app's index, as
the simulator's page is. It shows the same figures and problems as ``GET /health/outbox``, with
links to the lists where they can be dealt with; it holds no rule of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse

from integration.health import outbox_health

URL_NAME = "outbox_health"
TEMPLATE = "admin/integration/outbox_health.html"
TITLE = "Outbox health"


def health_page(site: admin.AdminSite) -> Callable[[HttpRequest], HttpResponse]:
    def view(request: HttpRequest) -> HttpResponse:
        health = outbox_health()
        context: dict[str, Any] = {
            **site.each_context(request),
            "title": TITLE,
            "health": health,
            "figures": health.as_dict(),
        }
        return TemplateResponse(request, TEMPLATE, context)

    return view


def register_health_admin(site: admin.AdminSite) -> None:
    """Add the page to ``site``: its URL (staff only, through ``admin_view``) and an index entry."""
    if getattr(site, "_outbox_health_registered", False):
        return
    site._outbox_health_registered = True  # type: ignore[attr-defined]
    original_urls = site.get_urls
    original_app_list = site.get_app_list

    def get_urls() -> list[Any]:
        return [path("outbox-health/", site.admin_view(health_page(site)), name=URL_NAME), *original_urls()]

    def get_app_list(request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        apps = original_app_list(request, app_label)
        if app_label not in (None, "integration") or not site.has_permission(request):
            return apps
        url = reverse(f"{site.name}:{URL_NAME}")
        entry = {
            "name": TITLE,
            "object_name": "OutboxHealth",
            "admin_url": url,
            "add_url": None,
            "view_only": True,
            "perms": {"add": False, "change": False, "delete": False, "view": True},
        }
        for app in apps:
            if app["app_label"] == "integration":
                app["models"].append(entry)
                app["models"].sort(key=lambda m: m["name"])
                return apps
        apps.append(
            {
                "name": TITLE,
                "app_label": "integration",
                "app_url": url,
                "has_module_perms": True,
                "models": [entry],
            }
        )
        return apps

    site.get_urls = get_urls  # type: ignore[method-assign]
    site.get_app_list = get_app_list  # type: ignore[method-assign]
