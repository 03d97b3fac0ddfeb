"""Admin helpers: read-only model admins and inlines, and staff pages that are not a model's (the
simulator, the outbox health), in the admin with an index entry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, reverse

APP_LABEL = "integration"


class ReadOnlyMixin:
    """Nothing added, changed or deleted through these pages: what they show is changed by
    services only (their actions call them). For model admins and inlines alike."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyModelAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """A model admin that only shows (its actions may still act, through services)."""


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):  # type: ignore[type-arg]
    """Rows shown under their parent, read-only, none added."""

    extra = 0
    can_delete = False


def register_admin_page(
    site: admin.AdminSite,
    *,
    route: str,
    url_name: str,
    title: str,
    object_name: str,
    view: Callable[..., HttpResponse],
    permission: str,
    can_change: bool = False,
    enabled: Callable[[], bool] | None = None,
) -> None:
    """Serve ``view`` at ``<admin>/<route>`` (staff only, through ``admin_view``) and list it under
    the integration app of the admin index. Registering the same page twice does nothing.

    Only users with ``permission`` ("app_label.codename") see the entry and the page: any other
    request, GET or POST, is refused (403) before ``view`` runs. While ``enabled()`` is false the
    page is not there at all (404, no entry), whoever asks."""
    registered: set[str] = site.__dict__.setdefault("_extra_pages", set())
    if url_name in registered:
        return
    registered.add(url_name)
    original_urls = site.get_urls
    original_app_list = site.get_app_list

    def is_enabled() -> bool:
        return enabled is None or enabled()

    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_enabled():
            raise Http404
        if not request.user.has_perm(permission):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    def get_urls() -> list[Any]:
        return [path(route, site.admin_view(guarded), name=url_name), *original_urls()]

    def get_app_list(request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        apps = original_app_list(request, app_label)
        if app_label not in (None, APP_LABEL) or not site.has_permission(request):
            return apps
        if not is_enabled() or not request.user.has_perm(permission):
            return apps
        url = reverse(f"{site.name}:{url_name}")
        entry = {
            "name": title,
            "object_name": object_name,
            "admin_url": url,
            "add_url": None,
            "view_only": not can_change,
            "perms": {"add": False, "change": can_change, "delete": False, "view": True},
        }
        for app in apps:
            if app["app_label"] == APP_LABEL:
                app["models"].append(entry)
                app["models"].sort(key=lambda m: m["name"])
                return apps
        apps.append(
            {
                "name": title,
                "app_label": APP_LABEL,
                "app_url": url,
                "has_module_perms": True,
                "models": [entry],
            }
        )
        return apps

    site.get_urls = get_urls  # type: ignore[method-assign]
    site.get_app_list = get_app_list  # type: ignore[method-assign]
