"""Admin helpers: read-only model admins and inlines, the page an action asks to confirm on
(:func:`note_action`), and staff pages that are not a model's (the simulator, the outbox health),
in the admin with an index entry."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

APP_LABEL = "integration"
NOTE_TEMPLATE = "admin/note_action.html"


def note_action(
    model_admin: admin.ModelAdmin,  # type: ignore[type-arg]
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    action: str,
    title: StrOrPromise,
    intro: str,
    rows: Callable[[Any], Iterable[tuple[str, str]]],
    submit: str,
    apply: Callable[[Any, dict[str, Any]], str],
    form_class: type[forms.Form],
    refused: tuple[type[Exception], ...],
    refusal: Callable[[Exception], str] = str,
    extra: dict[str, Any] | None = None,
) -> HttpResponse | None:
    """An action that first shows what is selected (``rows`` of each object: label, detail) with
    ``form_class`` (a note, or nothing to fill), then, once submitted, ``apply(obj, cleaned_data)``
    to each object: what it returns is told to staff, one of ``refused`` is shown as an error
    (``refusal`` words it). ``extra`` goes into the page's context.
    """
    form = form_class(request.POST if "apply" in request.POST else None)
    objects = list(queryset.order_by("pk"))
    if not form.is_valid():
        context = {
            **model_admin.admin_site.each_context(request),
            "title": title, "intro": intro, "opts": model_admin.opts,
            "rows": [row for obj in objects for row in rows(obj)], "objects": objects, "form": form,
            "submit": submit, "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME, "action_name": action,
            **(extra or {}),
        }  # fmt: skip
        return TemplateResponse(request, NOTE_TEMPLATE, context)
    for obj in objects:
        try:
            done = apply(obj, form.cleaned_data)
        except refused as exc:
            messages.error(request, refusal(exc))
        else:
            messages.success(request, done)
    return None


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
    title: StrOrPromise,
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
