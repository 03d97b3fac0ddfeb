"""The project's admin site (``admin.site``): rules that hold for every page of the admin.

Installed as the default site by :class:`config.apps.PlatformAdminConfig`, so every ModelAdmin
registered, ours and the libraries' (django-q's task lists) alike, is served by it:

- **A NUL in the address is refused** with 400 before any admin view runs: PostgreSQL refuses
  NUL in a text, so a changelist filtered or searched on one would fail, and nothing the admin
  shows needs one.
- **A changelist whose query string makes the query fail is an invalid lookup**: a year out of
  range, a date past 9999, a number too large for the database... is answered as Django answers
  any invalid filter, by going back to the list with ``?e=1``, not by a 500. Every registered
  ModelAdmin is given :class:`GuardedModelAdmin` for it (at registration, as a base of its class).

- **The admin has the product's own name** on every page, the login page included: its title,
  header and home page's title (``integration.core.admin_names``), not Django's defaults.
- **The index is the home page** of whoever logs in (``index_template``): what needs a person
  now and a few charts, read at one ``now`` by :func:`integration.monitoring.console.home_for`
  (each app registers its own figures there), the user's role's first; then the list of apps.

Every admin action declares its permission (``@admin.action(permissions=[...])``; django-q's
"resubmit" is re-declared in ``integration/admin.py``); ``tests/test_admin_permissions.py`` walks them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from functools import update_wrapper
from typing import Any, TypeVar, cast

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.db import DatabaseError, router, transaction
from django.db.models.base import ModelBase
from django.http import HttpRequest, HttpResponseBadRequest, HttpResponseBase
from django.template.response import TemplateResponse
from django.utils import timezone

from integration.core.admin_names import INDEX_TITLE, SITE_HEADER, SITE_TITLE
from integration.monitoring.console import home_for

logger = logging.getLogger(__name__)

NUL = "\x00"

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


class GuardedModelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """What every registered ModelAdmin is given by :class:`PlatformAdminSite` (see the module)."""

    def get_changelist_instance(self, request: HttpRequest) -> ChangeList:
        """The changelist, its count and its page of rows read now: a query string the database (or
        a date) cannot take is an invalid lookup (``?e=1``), as Django makes of a bad filter."""
        try:
            # A savepoint: on PostgreSQL an error aborts the transaction it happens in.
            with transaction.atomic(using=router.db_for_read(self.model)):
                changelist = super().get_changelist_instance(request)
                len(changelist.result_list)  # read now; the template shows the rows read here
        except (DatabaseError, ValueError, OverflowError) as exc:
            logger.warning(
                "admin list %s: the query string %r cannot be queried (%s: %s)",
                self.opts.label, request.META.get("QUERY_STRING", "")[:200], type(exc).__name__, exc,
            )  # fmt: skip
            raise IncorrectLookupParameters(exc) from exc
        return changelist


def guarded(admin_class: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:  # type: ignore[type-arg]
    """``admin_class`` with :class:`GuardedModelAdmin` first among its bases (itself if it has it)."""
    if issubclass(admin_class, GuardedModelAdmin):
        return admin_class
    namespace = {
        "__module__": admin_class.__module__,
        "__qualname__": admin_class.__qualname__,
        "__doc__": admin_class.__doc__,
    }
    return type(admin_class.__name__, (GuardedModelAdmin, admin_class), namespace)


def has_nul(request: HttpRequest) -> bool:
    return NUL in request.path or any(
        NUL in key or any(NUL in value for value in values) for key, values in request.GET.lists()
    )


class PlatformAdminSite(admin.AdminSite):
    site_title = SITE_TITLE
    site_header = SITE_HEADER
    index_title = INDEX_TITLE
    index_template = "admin/platform_index.html"

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        """The home page: every figure read at the same ``now``."""
        now = timezone.now()
        return super().index(request, {**home_for(request.user, now=now), **(extra_context or {})})

    def register(
        self,
        model_or_iterable: ModelBase | Iterable[ModelBase],
        admin_class: type[admin.ModelAdmin] | None = None,  # type: ignore[type-arg]
        **options: Any,
    ) -> None:
        super().register(model_or_iterable, guarded(admin_class or admin.ModelAdmin), **options)

    def admin_view(self, view: View, cacheable: bool = False) -> View:
        """Every admin page (a ModelAdmin's, the index, the extra pages): a NUL in the address is a 400."""
        inner = super().admin_view(view, cacheable)

        def refuse_nul(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if has_nul(request):
                return HttpResponseBadRequest("A NUL character in the address.", content_type="text/plain")
            return inner(request, *args, **kwargs)

        return cast(View, update_wrapper(refuse_nul, inner))
